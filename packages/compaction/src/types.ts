/**
 * What compaction shows the outside world: the endpoints (`/api/compaction/*`), `arc compact` and
 * the job history speak these shapes (README "Compaction").
 */

/** live: small files of any hour (the open one too); hourly: a closed hour whole; daily: a day's hours into day files. */
export const COMPACTION_TIERS = ['live', 'hourly', 'daily'] as const;
export type CompactionTier = (typeof COMPACTION_TIERS)[number];

export function isCompactionTier(value: unknown): value is CompactionTier {
  return typeof value === 'string' && (COMPACTION_TIERS as readonly string[]).includes(value);
}

/** A partition worth a job now: what `candidates` lists and a trigger runs. */
export interface CompactionCandidate {
  readonly database: string;
  readonly measurement: string;
  readonly tier: CompactionTier;
  /** `YYYY/MM/DD/HH` (live, hourly) or `YYYY/MM/DD` (daily). */
  readonly partition: string;
  /** The files the job would merge and their bytes. */
  readonly files: number;
  readonly bytes: number;
}

export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** One job, queued, running or ended (the history keeps ended ones). */
export interface CompactionJob {
  /** Unique, sortable by start (`c-<epoch ms base 36>-<random>`). */
  readonly id: string;
  readonly database: string;
  readonly measurement: string;
  readonly tier: CompactionTier;
  readonly partition: string;
  readonly state: JobState;
  /** What started it: the schedule of its tier, or a trigger (endpoint, `arc compact`). */
  readonly trigger: 'schedule' | 'manual';
  readonly inputFiles: number;
  readonly inputBytes: number;
  /** Rows read, rows written: their difference is the duplicates removed. Null until known. */
  readonly inputRows: number | null;
  readonly outputRows: number | null;
  readonly outputFiles: number | null;
  readonly outputBytes: number | null;
  /** ISO 8601 UTC; null while queued. */
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** The failure's message; null unless failed. */
  readonly error: string | null;
}

/** Totals since the history began. */
export interface CompactionStats {
  readonly jobsSucceeded: number;
  readonly jobsFailed: number;
  readonly filesIn: number;
  readonly filesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
  /** rowsIn - rowsOut over jobs that deduplicated. */
  readonly duplicatesRemoved: number;
}

export interface CompactionStatus {
  readonly enabled: boolean;
  readonly dedup: boolean;
  readonly running: number;
  readonly queued: number;
  readonly maxConcurrentJobs: number;
  readonly liveMaxFiles: number;
  readonly liveIntervalSeconds: number;
  readonly hourlySchedule: string;
  readonly dailySchedule: string;
  /** ISO 8601 UTC of the next scheduled hourly and daily run; null when disabled. */
  readonly nextHourlyRun: string | null;
  readonly nextDailyRun: string | null;
}

/** `POST /api/compaction/trigger`: every partition of the scope that is a candidate now. */
export interface TriggerRequest {
  readonly database?: string;
  readonly measurement?: string;
  /** Absent: every tier. */
  readonly tier?: CompactionTier;
}

/**
 * What the endpoints (`/api/compaction/*`) and `arc compact` drive: implemented by the compactor,
 * read by the server's routes.
 */
export interface CompactionControl {
  status(): CompactionStatus;
  stats(): CompactionStats;
  candidates(scope: TriggerRequest): Promise<CompactionCandidate[]>;
  /** Queued and running jobs, oldest first. */
  jobs(): CompactionJob[];
  history(options: { limit: number; database?: string; measurement?: string }): CompactionJob[];
  /** Queues a job per candidate of the scope; throws ArcError ARC_COMPACTION_DISABLED (409) when compaction is off. */
  trigger(request: TriggerRequest): Promise<CompactionJob[]>;
}
