export { QueryPool } from './query-pool.js';
export type { QueryAnswer, QueryPoolOptions, QueryRequest } from './query-pool.js';
export { QueryErrorCode } from './errors.js';
