/** Stable codes of row deletes (delete-run.ts); clients and tests depend on the strings. */
export const DeleteErrorCode = Object.freeze({
  /** The WHERE clause is empty, not one plain expression over the rows' columns, or cannot be evaluated on them (400). */
  badWhere: 'ARC_DELETE_BAD_WHERE',
  /** The delete matches more rows than `delete.confirmation_threshold` and the request has no `confirm: true` (400). */
  confirmRequired: 'ARC_DELETE_CONFIRM_REQUIRED',
  /** A delete could not count or rewrite its files (500); the files not rewritten are as they were. */
  failed: 'ARC_DELETE_FAILED',
} as const);
export type DeleteErrorCode = (typeof DeleteErrorCode)[keyof typeof DeleteErrorCode];
