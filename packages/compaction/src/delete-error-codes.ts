/** Stable codes of row deletes (delete-run.ts); clients and tests depend on the strings. */
export const DeleteErrorCode = Object.freeze({
  /** The WHERE clause is empty, not one plain expression over the rows' columns, or cannot be evaluated on them (400). */
  badWhere: 'ARC_DELETE_BAD_WHERE',
  /** The delete matches more rows than `delete.confirmation_threshold` and the request has no `confirm: true` (400). */
  confirmRequired: 'ARC_DELETE_CONFIRM_REQUIRED',
  /** A delete could not count or rewrite its files (500); the files not rewritten are as they were. */
  failed: 'ARC_ROW_DELETE_FAILED',
  /** An InfluxDB 2.x `/api/v2/delete` request InfluxDB refuses too (no org or bucket, a bad time, a bad predicate): 400 with InfluxDB's message. */
  badRequest: 'ARC_DELETE_BAD_REQUEST',
  /** `/api/v2/delete` names a bucket (database) that does not exist (404, InfluxDB's `bucket "x" not found`). */
  bucketNotFound: 'ARC_DELETE_BUCKET_NOT_FOUND',
} as const);
export type DeleteErrorCode = (typeof DeleteErrorCode)[keyof typeof DeleteErrorCode];
