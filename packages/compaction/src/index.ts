export { CompactionErrorCode } from './error-codes.js';
export { COMPACTION_TIERS, JOB_STATES, isCompactionTier } from './types.js';
export type { CompactionCandidate, CompactionControl, CompactionJob, CompactionStats, CompactionStatus, CompactionTier, JobState, TriggerRequest } from './types.js';
// Job history, schedules, the scope of a trigger and its errors (history-store.ts, schedule.ts, trigger-request.ts, compaction-errors.ts).
export { CompactionHistory, HISTORY_FILE_NAME } from './history-store.js';
export type { HistoryListOptions } from './history-store.js';
export { CronSchedule, validateCron } from './schedule.js';
export { parseTriggerRequest } from './trigger-request.js';
export { badTierError, compactionDisabledError } from './compaction-errors.js';
export type { ScopeInput } from './trigger-request.js';
export { HISTORY_BUSY_TIMEOUT_MS, HISTORY_JOBS_KEPT, HISTORY_LIST_LIMIT_DEFAULT, HISTORY_LIST_LIMIT_MAX } from './limits.js';
export { planMeasurement, liveRun } from './planner.js';
export type { PlannedJob, PlannerConfig } from './planner.js';
export { MergeRunner } from './merge-runner.js';
export type { MergedFile, MergeResult, MergeRunnerOptions, MergeTask, MergeWorkerSettings } from './merge-runner.js';
export { Compactor } from './compactor.js';
export type { CompactionLog, CompactorOptions, JobResult, JobStep, RewriteRequest } from './compactor.js';
export { MERGE_TELEMETRY } from './merge-telemetry.js';
// Row rewrites and retention policies (issue 17's groundwork): rewrite-planner.ts, row-predicate.ts, retention-policy.ts, retention-store.ts.
export { RETENTION_FILE_NAME, RetentionStore, retentionPolicyNotFound } from './retention-store.js';
export type { RetentionExecution, RetentionExecutionRecord } from './retention-store.js';
export { parseRetentionPolicy } from './retention-policy.js';
export { RetentionErrorCode } from './retention-error-codes.js';
export type { RetentionPolicy, RetentionPolicySpec } from './retention-policy.js';
export { RETENTION_BUFFER_DAYS_DEFAULT, RETENTION_BUFFER_DAYS_MAX, RETENTION_DAYS_MAX, RETENTION_EXECUTIONS_KEPT, RETENTION_FILES_LISTED_MAX, RETENTION_POLICIES_MAX, REMOVE_PREDICATE_BYTES_MAX } from './limits.js';
export { planRangeRemoval, planRetention, rangeRemoveWhere, retentionCutoffUs, retentionRemoveWhere } from './retention-plan.js';
export type { RetentionPlan } from './retention-plan.js';
export { removeRowsBefore, removeRowsInRange, runRetention } from './retention-run.js';
export type { RemovalRange, RetentionFileAction, RetentionScope, RetentionProgress, RetentionRewriter, RetentionRunOptions, RetentionRunResult } from './retention-run.js';
export { RetentionService } from './retention-service.js';
export type { RetentionExecuted, RetentionPolicyState, RetentionRunning, RetentionServiceOptions } from './retention-service.js';
// Continuous queries (issue 17): cq-definition.ts, cq-store.ts, cq-service.ts, cq-window-replace.ts.
export { CqErrorCode } from './cq-error-codes.js';
export { continuousQueryFieldsOf, continuousQuerySpec, cqSchedule, parseDurationMs, parseInterval, placeholderValue, runAt, runsDue, windowAt, windowQuery, windowsCovering, windowsOfRuns } from './cq-definition.js';
export type { ContinuousQuery, ContinuousQueryFields, ContinuousQuerySpec, CqSchedule, CqWindow } from './cq-definition.js';
export { CQ_FILE_NAME, CqStore, cqNotFound } from './cq-store.js';
export type { CqExecution, CqExecutionRecord, CqTemplate, CqTrigger } from './cq-store.js';
export { ContinuousQueries } from './cq-service.js';
export type { ContinuousQueriesOptions, CqExecutionSummary, ExecuteRequest, ExecuteResult, WindowRunner } from './cq-service.js';
export type { WindowReplaceRequest, WindowReplaceResult, WindowStep } from './cq-window-replace.js';
export { CQ_EXECUTIONS_KEPT, CQ_WINDOWS_PER_RUN_MAX } from './limits.js';
// Row deletes (issue 17): delete-run.ts, its count thread (delete-counter.ts) and time-range pruning (delete-time-range.ts).
export { RowDeleter, bareWhere } from './delete-run.js';
export type { DeleteControl, DeletePhase, DeleteRequest, DeleteResult, DeleteRewriter, RowDeleterOptions, RunningDelete } from './delete-run.js';
export { DeleteErrorCode } from './delete-error-codes.js';
export { ALL_TIME, timeRangeOfWhere } from './delete-time-range.js';
export type { TimeRangeUs } from './delete-time-range.js';
export { isUniqueViolation, openSqliteFile } from './sqlite-file.js';
export type { SqliteFileSchema } from './sqlite-file.js';
