/** Stable codes of the compaction package (clients and tests depend on the strings). */
export const CompactionErrorCode = Object.freeze({
  /** A trigger or candidates request named a tier that does not exist (400). */
  badTier: 'ARC_COMPACTION_BAD_TIER',
  /** A merge job failed (DuckDB error, storage error); the inputs stay as they were. */
  jobFailed: 'ARC_COMPACTION_JOB_FAILED',
  /** Compaction is switched off in arc.conf (`compaction.enabled = false`): a trigger is refused (409). */
  disabled: 'ARC_COMPACTION_DISABLED',
  /** A schedule in arc.conf (`compaction.hourly_schedule`, `daily_schedule`) that is not a cron expression (start refused). */
  badSchedule: 'ARC_COMPACTION_BAD_SCHEDULE',
  /** compaction.db was written by a newer Arc (its schema version is unknown here): start refused. */
  historyVersion: 'ARC_COMPACTION_HISTORY_VERSION',
  /** A rewrite's remove predicate is not one plain expression over the rows' columns (400): it names no other table and runs no statement. */
  badPredicate: 'ARC_COMPACTION_BAD_PREDICATE',
} as const);
export type CompactionErrorCode = (typeof CompactionErrorCode)[keyof typeof CompactionErrorCode];
