import assert from 'node:assert/strict';

/**
 * Error text. Errors quote what was wrong (a name, a line), and they travel in bounded places: a
 * decoder's completion frame, a JSON error body, a log line. So an error's message and each of
 * its detail strings are cut to these lengths (with a `...(N bytes)` marker) when the error is
 * made, whatever the input's size; a quoted piece of input is cut shorter still, so that the
 * rest of the message stays readable. A message of a few KiB is far above any we write.
 */
export const ERROR_MESSAGE_CHARS_MAX = 2048;
export const ERROR_DETAIL_CHARS_MAX = 256;
export const ERROR_QUOTE_CHARS_MAX = 128;

assert.ok(ERROR_QUOTE_CHARS_MAX <= ERROR_DETAIL_CHARS_MAX);
assert.ok(ERROR_DETAIL_CHARS_MAX <= ERROR_MESSAGE_CHARS_MAX);
