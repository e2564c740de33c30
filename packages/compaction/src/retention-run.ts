import type { Storage } from '@arc/storage';
import type { CompactionJob } from './types.js';
import type { RetentionPolicySpec } from './retention-policy.js';
import { planRetention, retentionCutoffUs, retentionRemoveWhere, type RetentionPlan } from './retention-plan.js';

/** What one run of a policy did (or, dry, would do). */
export interface RetentionRunResult {
  readonly dryRun: boolean;
  /** ISO 8601 UTC: rows before it are removed. */
  readonly cutoff: string;
  readonly measurements: number;
  readonly filesDropped: number;
  readonly filesRewritten: number;
  /** Null in a dry run with a straddling file (its expired rows are counted by the rewrite only) or a file whose name gives no row count. */
  readonly rowsRemoved: number | null;
  /** Of a dry run: the dropped files' bytes only. */
  readonly bytesRemoved: number;
  /** Jobs that failed (an input merged meanwhile by compaction: the next run takes the new file). */
  readonly jobsFailed: number;
}

/** The rewrite side of a run: Compactor.rewrite. */
export interface RetentionRewriter {
  rewrite(request: { readonly database: string; readonly measurement: string; readonly files: readonly string[]; readonly removeWhere: string | null }): Promise<CompactionJob[]>;
}

interface Tally {
  measurements: number;
  filesDropped: number;
  filesRewritten: number;
  rowsRemoved: number | null;
  bytesRemoved: number;
  jobsFailed: number;
}

function addRows(tally: Tally, rows: number | null): void {
  tally.rowsRemoved = tally.rowsRemoved === null || rows === null ? null : tally.rowsRemoved + rows;
}

function tallyPlan(tally: Tally, plan: RetentionPlan): void {
  tally.filesDropped += plan.drop.length;
  tally.filesRewritten += plan.rewrite.length;
  tally.bytesRemoved += plan.dropBytes;
  addRows(tally, plan.rewrite.length > 0 ? null : plan.dropRows);
}

function tallyJobs(tally: Tally, jobs: readonly CompactionJob[]): void {
  for (const job of jobs) {
    if (job.state !== 'succeeded') {
      tally.jobsFailed += 1;
      continue;
    }
    tally.bytesRemoved += job.inputBytes - (job.outputBytes ?? 0);
    addRows(tally, job.inputRows === null || job.outputRows === null ? null : job.inputRows - job.outputRows);
  }
}

/** The measurements a policy covers, listed (every measurement of its database when it names none). */
async function measurementsOf(storage: Storage, policy: RetentionPolicySpec): Promise<string[]> {
  if (!storage.hasDatabase(policy.database)) return [];
  const listed = storage.catalog.measurementNames(policy.database);
  const names = policy.measurement === null ? listed : listed.filter((name) => name === policy.measurement);
  for (const measurement of names) await storage.ensureLoaded(policy.database, measurement);
  return names;
}

/**
 * Runs a policy once at `nowMs`: per measurement, the wholly expired files deleted whole and the
 * straddling ones rewritten (retention-plan.ts), each through the rewrite's atomic job; dry,
 * only counts what the catalog says.
 */
export async function runRetention(policy: RetentionPolicySpec, storage: Storage, rewriter: RetentionRewriter, options: { readonly nowMs: number; readonly dryRun: boolean }): Promise<RetentionRunResult> {
  const cutoffUs = retentionCutoffUs(policy, options.nowMs);
  const tally: Tally = { measurements: 0, filesDropped: 0, filesRewritten: 0, rowsRemoved: 0, bytesRemoved: 0, jobsFailed: 0 };
  for (const measurement of await measurementsOf(storage, policy)) {
    const plan = planRetention(storage.catalog.files(policy.database, measurement), cutoffUs);
    tally.measurements += 1;
    if (options.dryRun) {
      tallyPlan(tally, plan);
      continue;
    }
    const scope = { database: policy.database, measurement };
    const dropped = plan.drop.length === 0 ? [] : await rewriter.rewrite({ ...scope, files: plan.drop.map((file) => file.key), removeWhere: null });
    const rewritten = plan.rewrite.length === 0 ? [] : await rewriter.rewrite({ ...scope, files: plan.rewrite.map((file) => file.key), removeWhere: retentionRemoveWhere(cutoffUs) });
    tally.filesDropped += plan.drop.length;
    tally.filesRewritten += plan.rewrite.length;
    tallyJobs(tally, [...dropped, ...rewritten]);
  }
  return { dryRun: options.dryRun, cutoff: new Date(cutoffUs / 1000).toISOString(), ...tally };
}
