export { CompactionErrorCode } from './error-codes.js';
export { COMPACTION_TIERS, JOB_STATES, isCompactionTier } from './types.js';
export type { CompactionCandidate, CompactionJob, CompactionStats, CompactionStatus, CompactionTier, JobState, TriggerRequest } from './types.js';
export { planMeasurement, liveRun } from './planner.js';
export type { PlannedJob, PlannerConfig } from './planner.js';
