// `@arc/query/encoders`: the answer encoders on their own, for bench/query-encode.mjs (encoding
// measured without the pool), apart from the front door so that importing `@arc/query` does not load DuckDB.
// Also the locked instance the query threads open, for bench/query/floor.mjs (DuckDB's own floor
// under the same settings).
export { enableSharedAnswers, releaseAnswerBody } from './answer-buffers.js';
export { encodeArrowAnswer } from './arrow-answer.js';
export { createChunkEncoder } from './chunk-encoders.js';
export { encodeCsvAnswer } from './csv-answer.js';
export { encodeJsonAnswer } from './json-answer.js';
export { encodeMsgpackAnswer } from './msgpack-answer.js';
export { openLockedInstance } from './locked-instance.js';
