/** Stable codes of the query path; clients and tests match on these, never on messages. */
export const QueryErrorCode = Object.freeze({
  /** DuckDB refused the SQL for a reason the user's SQL causes (syntax, binding, conversion...). */
  sqlError: 'ARC_SQL_ERROR',
  /** A query without a statement. */
  sqlEmpty: 'ARC_SQL_EMPTY',
  /** SQL text over the length limit. */
  sqlTooLarge: 'ARC_SQL_TOO_LARGE',
  /** More than one statement in one query. */
  sqlMultipleStatements: 'ARC_SQL_MULTIPLE_STATEMENTS',
  /** A statement or function that queries may not use (writes, file access, settings...). */
  sqlForbidden: 'ARC_SQL_FORBIDDEN',
  /** DuckDB's own lock-down refused an access (its Permission Error). */
  sqlAccessDenied: 'ARC_SQL_ACCESS_DENIED',
  /** A bounded function (repeat, range...) was asked for a value over its limit (bounded-functions.ts). */
  sqlValueTooLarge: 'ARC_SQL_VALUE_TOO_LARGE',
  /** A database no data has been written to. */
  unknownDatabase: 'ARC_QUERY_UNKNOWN_DATABASE',
  /** A measurement that does not exist in the database. */
  unknownTable: 'ARC_QUERY_UNKNOWN_TABLE',
  /** A column that the measurement does not have. */
  unknownColumn: 'ARC_QUERY_UNKNOWN_COLUMN',
  /** An answer format Arc does not write. */
  badFormat: 'ARC_QUERY_BAD_FORMAT',
  /** A row limit that is not an integer in range. */
  badLimit: 'ARC_QUERY_BAD_LIMIT',
  /** The query ran past query.timeout_ms (504). */
  timeout: 'ARC_QUERY_TIMEOUT',
  /** The client went away before the answer. */
  aborted: 'ARC_QUERY_ABORTED',
  /** Every query thread is busy and the queue is full (503). */
  queueFull: 'ARC_QUERY_QUEUE_FULL',
  /** The server is stopping: no new queries (503). */
  poolClosed: 'ARC_QUERY_POOL_CLOSED',
  /** An answer over query.max_rows (413). */
  resultTooLarge: 'ARC_QUERY_RESULT_TOO_LARGE',
  /** The query needs more memory than query.memory_limit allows. */
  outOfMemory: 'ARC_QUERY_OUT_OF_MEMORY',
  /** DuckDB or a query thread failed for a reason that is not the user's SQL (500). */
  engine: 'ARC_QUERY_ENGINE',
} as const);
export type QueryErrorCode = (typeof QueryErrorCode)[keyof typeof QueryErrorCode];
