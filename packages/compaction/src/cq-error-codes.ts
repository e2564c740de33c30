/** Stable codes of continuous queries (clients and tests depend on the strings). */
export const CqErrorCode = Object.freeze({
  /** A field of a continuous query is missing, of the wrong type or out of range (400, the field named). */
  badDefinition: 'ARC_CQ_BAD_DEFINITION',
  /** The query is not one SELECT reading only the source measurement, or lacks a placeholder (400). */
  badQuery: 'ARC_CQ_BAD_QUERY',
  /** Another continuous query has the name (409). */
  nameTaken: 'ARC_CQ_NAME_TAKEN',
  /** A continuous query id in a path that is not a positive integer (400). */
  badId: 'ARC_CQ_BAD_ID',
  /** No continuous query has the id (404). */
  notFound: 'ARC_CQ_NOT_FOUND',
  /** Too many continuous queries (CQ_DEFINITIONS_MAX): a new one is refused (409). */
  tooMany: 'ARC_CQ_TOO_MANY',
  /** An execute request's window is wrong (start after end, too many windows) (400). */
  badWindow: 'ARC_CQ_BAD_WINDOW',
  /** A window's run failed (the query failed in DuckDB, or its rows lie outside the window); nothing was changed. */
  windowFailed: 'ARC_CQ_WINDOW_FAILED',
  /** The window's partitions are held by another job (compaction, a retention or delete rewrite): retried later (409). */
  windowBusy: 'ARC_CQ_WINDOW_BUSY',
  /** The query is not active (`is_active: false`): an execute is refused (409). */
  inactive: 'ARC_CQ_INACTIVE',
  /** Continuous queries are switched off (`[continuous_queries] enabled = false`): 409. */
  disabled: 'ARC_CQ_DISABLED',
  /** continuous_queries.db was written by a newer Arc: start refused. */
  storeVersion: 'ARC_CQ_STORE_VERSION',
} as const);
export type CqErrorCode = (typeof CqErrorCode)[keyof typeof CqErrorCode];
