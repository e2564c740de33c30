import assert from 'node:assert/strict';

/**
 * Requests a decoder has handed to writers and not yet answered. Past it the decoder stops
 * taking frames, its ring fills, and the acceptor answers 503: back-pressure, not a queue.
 */
export const DECODER_PENDING_REQUESTS_MAX = 64;
/** A sleeping decoder wakes at least this often to notice shutdown without a doorbell. */
export const DECODER_IDLE_WAIT_MS = 200;
/** Completion ring per decoder: verdicts are ~12 bytes plus an error message. */
export const COMPLETION_RING_BYTES = 1024 * 1024;
/**
 * The error JSON of one completion frame. Errors are already bounded when made (a few KiB at
 * most); this is the frame's own guarantee: an error over it is sent as its kind, its code and
 * a message cut to COMPLETION_MESSAGE_CHARS_MAX characters, never as an oversized frame (which the
 * ring would refuse with an assertion, stopping the server).
 */
export const COMPLETION_ERROR_BYTES_MAX = 16 * 1024;
/** JSON escapes a character in at most 6 bytes (\uXXXX): 2048 of them leave room for the code. */
export const COMPLETION_MESSAGE_CHARS_MAX = 2048;
/** Characters of an error code kept in a cut-down completion (codes are ours and short). */
export const COMPLETION_CODE_CHARS_MAX = 64;
/** The acceptor's drain loop wakes at least this often even without a doorbell. */
export const ACCEPTOR_IDLE_WAIT_MS = 1000;
/** Seconds a client is told to wait (Retry-After) when every ring or buffer is full. */
export const RETRY_AFTER_SECONDS = 1;
/** A posted large body must reach the decoder within this time, else a thread is broken. */
export const EXTERNAL_BODY_WAIT_MS_MAX = 10_000;
/**
 * How long shutdown waits for a thread to finish on its own (a decoder draining its ring, a
 * writer closing its DuckDB) before terminating it. Flushes are not bounded by this: they run
 * (and are retried for server.shutdown_flush_retry_seconds) before writers are asked to stop.
 */
export const THREAD_STOP_WAIT_MS = 10_000;
/**
 * Slow uploads. uWS closes a connection without any answer when a request body has not brought
 * 160 KiB (16 KiB/s over its 10-s HTTP timeout) since the handler ran or since its last 160 KiB;
 * its timer ticks every 4 s, so the close can come as early as 8 s. readBody keeps the same count
 * and answers 408 first: each BODY_PROGRESS_BYTES of a body (or the whole body, when smaller) must
 * arrive within BODY_PROGRESS_WINDOW_MS. The 2 s left before uWS's earliest close leave room for
 * a busy event loop. The minimum upload rate is thus 160 KiB per 6 s (about 27 KiB/s).
 */
export const BODY_PROGRESS_BYTES = 160 * 1024;
export const BODY_PROGRESS_WINDOW_MS = 6000;
/** uWS's earliest close of a slow upload: its 10-s timeout counted in 4-s ticks. */
const UWS_SLOW_BODY_CLOSE_MS_MIN = 8000;
/**
 * Request line plus headers, in bytes. uWS 20.30 parses a head that arrives in one read at any
 * size, but a head split across reads must fit its 4-KiB buffer, else it closes the connection
 * without a status (it has no setting for this). Arc refuses any head over that size with 431,
 * so the limit does not depend on how the network cut the bytes; only a split head over it still
 * meets uWS's silent close. (uWS also waits out its timeout on a request of more than 48 header
 * lines, then closes it: no handler runs, so that one cannot be answered.)
 */
export const HTTP_HEAD_BYTES_MAX = 4096;
/**
 * Lingering close. uWS closes a `Connection: close` (or HTTP/1.0) connection as soon as its answer
 * is written; bytes of the request body still unread then make the kernel send a reset, and a
 * client still sending (node:http without an agent) loses the answer. So a body refused as too
 * large on such a connection is read and discarded until it ends, and only then answered, within
 * these bounds (as nginx's lingering_close): at most LINGER_BYTES_MAX bytes (bandwidth, no
 * memory: chunks are dropped), LINGER_TIME_MS in all, and LINGER_IDLE_MS without a byte (a client
 * that waits for the answer before sending gets it after this). Past a bound the answer goes out
 * and uWS closes. A keep-alive connection is answered at once: uWS reads the rest of the body
 * itself and keeps the connection, so there is nothing to linger for.
 */
export const LINGER_BYTES_MAX = 64 * 1024 * 1024;
export const LINGER_TIME_MS = 10_000;
export const LINGER_IDLE_MS = 1000;
/**
 * uWS 20.30 reads a Content-Length of at most 9 digits; a longer one is a parse error that it
 * meets after the route's handler has run, and it then closes the connection, dropping whatever
 * the handler wrote into its 16-KiB cork buffer. An answer larger than that buffer is written to
 * the socket at once, so the 413 for such a length is padded past UWS_CORK_BUFFER_BYTES (JSON
 * whitespace) and sent from the handler itself, before the close.
 */
export const UWS_CONTENT_LENGTH_DIGITS_MAX = 9;
export const UWS_CORK_BUFFER_BYTES = 16 * 1024;
/**
 * A stop whose final flush failed tries again after this delay, until
 * server.shutdown_flush_retry_seconds have passed. The writers also retry on their own timers;
 * this only asks again and notices success within half a second.
 */
export const SHUTDOWN_FLUSH_RETRY_DELAY_MS = 500;
/** Bytes allocated up front for a request body from its Content-Length; beyond, it grows. */
export const BODY_PREALLOCATE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Characters of one log message: a thread's stack trace fits whole; a message that carries some
 * input (an error quoting a name) cannot make the log grow with the input.
 */
export const LOG_MESSAGE_CHARS_MAX = 16 * 1024;
/** A WAL replay refused for room (full ring or buffers) is tried again after this delay. */
export const REPLAY_RETRY_DELAY_MS = 5;
/**
 * Times a replayed entry refused for room (ARC_BUFFERS_FULL) is retried beside the others (about
 * 2 s at REPLAY_RETRY_DELAY_MS) before it is retried alone after a flush of every buffer: full
 * buffers then mean the entry can never fit (buffers shrank since), and it becomes a dead letter
 * instead of stalling the start forever.
 */
export const REPLAY_ROOM_RETRIES_MAX = 400;
/**
 * Dead letters one `POST /api/v1/wal/dead-letter/replay` may name. Each is re-submitted and
 * awaited one after the other (a few ms each); the bound keeps one call's answer and time sane.
 */
export const DEAD_LETTER_REPLAY_IDS_MAX = 10_000;
/** A re-applied dead letter waits at most this long for room in a decoder ring. */
export const DEAD_LETTER_SUBMIT_WAIT_MS_MAX = 10_000;
/** Query request bodies are JSON with SQL; the SQL itself is capped at 100 KB (query limits.ts). */
export const QUERY_BODY_BYTES_MAX = 1024 * 1024;

assert.ok(DECODER_PENDING_REQUESTS_MAX > 0);
assert.ok(BODY_PROGRESS_WINDOW_MS + 1000 <= UWS_SLOW_BODY_CLOSE_MS_MIN);
assert.ok(REPLAY_ROOM_RETRIES_MAX > 0 && DEAD_LETTER_REPLAY_IDS_MAX > 0);
assert.ok(COMPLETION_RING_BYTES >= 64 * 1024);
// Lingering ends before uWS's own slow-upload close could cut it short without an answer.
assert.ok(LINGER_IDLE_MS + 1000 <= UWS_SLOW_BODY_CLOSE_MS_MIN);
// A ring takes frames up to a quarter of its capacity (SpscRing.payloadBytesMax); stay well under.
assert.ok(COMPLETION_ERROR_BYTES_MAX * 8 <= COMPLETION_RING_BYTES);
// A cut-down error (message and code escaped at worst, markers and JSON syntax) fits the bound.
assert.ok((COMPLETION_MESSAGE_CHARS_MAX + COMPLETION_CODE_CHARS_MAX + 128) * 6 <= COMPLETION_ERROR_BYTES_MAX);
