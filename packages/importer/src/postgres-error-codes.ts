/** Stable codes of the PostgreSQL / TimescaleDB driver (clients and tests depend on the strings). */
export const PostgresErrorCode = Object.freeze({
  /** The job's table or one of its columns is missing, or a column's type has no mapping (400). */
  badTable: 'ARC_IMPORT_PG_BAD_TABLE',
  /** The server could not be reached, refused the login, or failed a query during a read (503). */
  sourceFailed: 'ARC_IMPORT_PG_SOURCE_FAILED',
  /** A checkpoint cursor is not one this driver wrote (500: the job's stored state is damaged). */
  badCursor: 'ARC_IMPORT_PG_BAD_CURSOR',
  /** The rows of one timestamp do not fit in one chunk: a timestamp is never split (400). */
  timestampTooLarge: 'ARC_IMPORT_PG_TIMESTAMP_TOO_LARGE',
} as const);
export type PostgresErrorCode = (typeof PostgresErrorCode)[keyof typeof PostgresErrorCode];
