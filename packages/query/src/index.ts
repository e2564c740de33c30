export { QueryPool } from './query-pool.js';
export type { QueryAnswer, QueryPoolOptions, QueryRequest } from './query-pool.js';
export { QueryErrorCode } from './errors.js';
export { ANSWER_FORMATS, CONTENT_TYPE_BY_FORMAT, isAnswerFormat } from './answer-format.js';
export type { AnswerFormat } from './answer-format.js';
export { QUERY_ROW_LIMIT_MAX } from './limits.js';
export type { MsgpackQueryAnswer } from './msgpack-answer.js';
export type { MeasurementRef } from './query-plan.js';
