export { ArcError, ErrorKind, badRequest, databaseDenied, isArcError, truncateText } from './errors.js';
export type { ArcErrorShape } from './errors.js';
export { ERROR_MESSAGE_CHARS_MAX, ERROR_DETAIL_CHARS_MAX, ERROR_QUOTE_CHARS_MAX } from './limits.js';
export { SharedErrorCode } from './error-codes.js';
export { DuckDBErrorType, readDuckDBError } from './duckdb-errors.js';
export type { DuckDBErrorFacts } from './duckdb-errors.js';
