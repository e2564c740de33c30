export { QueryPool } from './query-pool.js';
export type { EstimateRequest, MeasurementRequest, QueryAnswer, QueryPoolOptions, QueryPoolStats, QueryRequest, StreamRequest, StreamSink } from './query-pool.js';
export type { MeasurementQuery } from './task-messages.js';
export { compressionFor } from './answer-compression.js';
export type { AnswerCompression } from './answer-compression.js';
export { QueryErrorCode } from './error-codes.js';
export { ANSWER_FORMATS, CONTENT_TYPE_BY_FORMAT, CONTENT_TYPE_BY_STREAM_FORMAT, STREAM_FORMATS, isAnswerFormat, isStreamFormat } from './answer-format.js';
export type { AnswerFormat, StreamFormat } from './answer-format.js';
export { QUERY_ROW_LIMIT_MAX } from './limits.js';
export type { MsgpackQueryAnswer } from './msgpack-answer.js';
// The answer encoders (they load DuckDB) have their own entry point, `@arc/query/encoders`: the
// main thread imports this front door and must not load DuckDB (a few hundred ms of every start).
export type { MeasurementRef } from './query-plan.js';
export type { ColumnSpec } from './time-pruning.js';
export { QUERY_TELEMETRY } from './query-telemetry.js';
export { mayCallLastCache, LAST_CACHE_FUNCTION } from './last-cache-name.js';
