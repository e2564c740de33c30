export { CompactionErrorCode } from './error-codes.js';
export { COMPACTION_TIERS, JOB_STATES, isCompactionTier } from './types.js';
export type { CompactionCandidate, CompactionJob, CompactionStats, CompactionStatus, CompactionTier, JobState, TriggerRequest } from './types.js';
export { MergeRunner } from './merge-runner.js';
export type { MergedFile, MergeResult, MergeRunnerOptions, MergeTask, MergeWorkerSettings } from './merge-runner.js';
