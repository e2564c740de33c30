import type { CatalogFile, Storage } from '@arc/storage';
import { RETENTION_FILES_LISTED_MAX } from './limits.js';
import type { CompactionJob } from './types.js';
import type { RetentionPolicySpec } from './retention-policy.js';
import { planRangeRemoval, rangeRemoveWhere, retentionCutoffUs, retentionRemoveWhere, type RetentionPlan } from './retention-plan.js';

/** One file a run removes whole (`drop`) or rewrites without its expired rows (`rewrite`). */
export interface RetentionFileAction {
  readonly measurement: string;
  /** The file's key in the store (`<db>/<m>/YYYY/MM/DD/HH/<name>.parquet`). */
  readonly key: string;
  readonly action: 'drop' | 'rewrite';
  /**
   * Its rows the run removes: a dry run's rewrite counts them by reading the file with the cut-off
   * predicate; a run's rewrite is null (its job, one per file, counts rows in and out: rowsRemoved).
   */
  readonly rows: number | null;
  /** The file's size: all of it goes when dropped; a rewrite frees the expired rows' share of it. */
  readonly bytes: number;
}

/** What one run of a policy did (or, dry, would do). */
export interface RetentionRunResult {
  readonly dryRun: boolean;
  /** ISO 8601 UTC: rows before it are removed. */
  readonly cutoff: string;
  /** Measurements the policy covers (listed). */
  readonly measurements: number;
  /** Those with a file dropped or rewritten, in order. */
  readonly affectedMeasurements: readonly string[];
  readonly filesDropped: number;
  readonly filesRewritten: number;
  /** Null only when a file of a run has no row count in its name. */
  readonly rowsRemoved: number | null;
  /** A dry run: the dropped files' bytes; a run: the bytes the store holds less (in - out of every job). */
  readonly bytesRemoved: number;
  /** The straddling files' bytes (rewritten, so their expired rows' share of them is freed). */
  readonly bytesRewritten: number;
  /** The files, drop and rewrite, measurement by measurement (the first RETENTION_FILES_LISTED_MAX). */
  readonly files: readonly RetentionFileAction[];
  /** More files than listed. */
  readonly filesTruncated: boolean;
  /** Jobs that failed (an input merged meanwhile by compaction: the next run takes the new file). */
  readonly jobsFailed: number;
  /** The first failed job's reason, null when none failed. */
  readonly jobError: string | null;
}

/** How far a run is: measurements done of those the policy covers, files handled so far. */
export interface RetentionProgress {
  readonly measurementsDone: number;
  readonly measurementsTotal: number;
  readonly filesDone: number;
}

/** The rewrite side of a run: Compactor.rewrite and, for a dry run, Compactor.countRemoved. */
export interface RetentionRewriter {
  rewrite(request: { readonly database: string; readonly measurement: string; readonly files: readonly string[]; readonly removeWhere: string | null }): Promise<CompactionJob[]>;
  countRemoved(request: { readonly database: string; readonly measurement: string; readonly files: readonly string[]; readonly removeWhere: string }): Promise<number>;
}

export interface RetentionRunOptions {
  readonly nowMs: number;
  readonly dryRun: boolean;
  /** Called after each measurement (the API shows it while a run is going). */
  readonly onProgress?: (progress: RetentionProgress) => void;
}

interface Tally {
  affectedMeasurements: string[];
  filesDropped: number;
  filesRewritten: number;
  rowsRemoved: number | null;
  bytesRemoved: number;
  bytesRewritten: number;
  files: RetentionFileAction[];
  filesTruncated: boolean;
  jobsFailed: number;
  jobError: string | null;
}

function addRows(tally: Tally, rows: number | null): void {
  tally.rowsRemoved = tally.rowsRemoved === null || rows === null ? null : tally.rowsRemoved + rows;
}

function listFile(tally: Tally, file: RetentionFileAction): void {
  if (tally.files.length < RETENTION_FILES_LISTED_MAX) tally.files.push(file);
  else tally.filesTruncated = true;
}

function tallyPlan(tally: Tally, measurement: string, plan: RetentionPlan): void {
  if (plan.drop.length + plan.rewrite.length > 0) tally.affectedMeasurements.push(measurement);
  tally.filesDropped += plan.drop.length;
  tally.filesRewritten += plan.rewrite.length;
  tally.bytesRewritten += plan.rewrite.reduce((sum, file) => sum + file.bytes, 0);
}

function tallyJobs(tally: Tally, jobs: readonly CompactionJob[]): void {
  for (const job of jobs) {
    if (job.state !== 'succeeded') {
      tally.jobsFailed += 1;
      tally.jobError ??= job.error ?? 'no reason given';
      continue;
    }
    tally.bytesRemoved += job.inputBytes - (job.outputBytes ?? 0);
    addRows(tally, job.inputRows === null || job.outputRows === null ? null : job.inputRows - job.outputRows);
  }
}

/** Which rows a run removes: those of `database` (of one `measurement`, or of every one when null) older than a cut-off. */
export type RetentionScope = Pick<RetentionPolicySpec, 'database' | 'measurement'>;

/** The measurements a policy covers, listed (every measurement of its database when it names none). */
async function measurementsOf(storage: Storage, policy: RetentionScope): Promise<string[]> {
  if (!storage.hasDatabase(policy.database)) return [];
  const listed = storage.catalog.measurementNames(policy.database);
  const names = policy.measurement === null ? listed : listed.filter((name) => name === policy.measurement);
  for (const measurement of names) await storage.ensureLoaded(policy.database, measurement);
  return names;
}

interface MeasurementRun {
  readonly database: string;
  readonly measurement: string;
  readonly plan: RetentionPlan;
  /** The rows the plan's rewrites remove (retentionRemoveWhere, or rangeRemoveWhere with a lower bound). */
  readonly removeWhere: string;
}

/**
 * A dry run of one measurement: the dropped files' rows from their names (or, when a name has
 * none, counted), the straddling files' expired rows counted by reading each with the cut-off
 * predicate, as the rewrite would filter them. Nothing is written.
 */
async function countMeasurement(run: MeasurementRun, rewriter: RetentionRewriter, tally: Tally): Promise<void> {
  const count = async (file: CatalogFile): Promise<number> => rewriter.countRemoved({ database: run.database, measurement: run.measurement, files: [file.key], removeWhere: run.removeWhere });
  for (const file of run.plan.drop) {
    const rows = file.rows ?? (await count(file));
    addRows(tally, rows);
    tally.bytesRemoved += file.bytes;
    listFile(tally, { measurement: run.measurement, key: file.key, action: 'drop', rows, bytes: file.bytes });
  }
  for (const file of run.plan.rewrite) {
    const rows = await count(file);
    addRows(tally, rows);
    listFile(tally, { measurement: run.measurement, key: file.key, action: 'rewrite', rows, bytes: file.bytes });
  }
}

/** A real run of one measurement: the expired files deleted whole, the straddling ones rewritten, each through the rewrite's atomic job. */
async function removeMeasurement(run: MeasurementRun, rewriter: RetentionRewriter, tally: Tally): Promise<void> {
  const scope = { database: run.database, measurement: run.measurement };
  const { drop, rewrite } = run.plan;
  const dropped = drop.length === 0 ? [] : await rewriter.rewrite({ ...scope, files: drop.map((file) => file.key), removeWhere: null });
  const rewritten = rewrite.length === 0 ? [] : await rewriter.rewrite({ ...scope, files: rewrite.map((file) => file.key), removeWhere: run.removeWhere });
  tallyJobs(tally, [...dropped, ...rewritten]);
  for (const file of drop) listFile(tally, { measurement: run.measurement, key: file.key, action: 'drop', rows: file.rows ?? 0, bytes: file.bytes });
  // A rewrite's own removed rows are known per job (a partition), not per file: the job totals count them.
  for (const file of rewrite) listFile(tally, { measurement: run.measurement, key: file.key, action: 'rewrite', rows: null, bytes: file.bytes });
}

/**
 * Runs a policy once at `nowMs`: per measurement, the wholly expired files deleted whole and the
 * straddling ones rewritten (retention-plan.ts); dry, counts what would go and writes nothing.
 */
export async function runRetention(policy: RetentionPolicySpec, storage: Storage, rewriter: RetentionRewriter, options: RetentionRunOptions): Promise<RetentionRunResult> {
  return removeRowsBefore(policy, retentionCutoffUs(policy, options.nowMs), storage, rewriter, options);
}

/**
 * Removes the rows of `scope` older than `cutoffUs` as a policy's run does (runRetention, whose
 * cut-off is a number of days).
 */
export async function removeRowsBefore(policy: RetentionScope, cutoffUs: number, storage: Storage, rewriter: RetentionRewriter, options: RetentionRunOptions): Promise<RetentionRunResult> {
  return removeRowsInRange(policy, { fromUs: null, toUs: cutoffUs }, storage, rewriter, options);
}

/** The rows a removal takes: time >= fromUs (null: no lower bound) and time < toUs (the result's `cutoff`); not empty. */
export interface RemovalRange {
  readonly fromUs: number | null;
  readonly toUs: number;
}

/**
 * Removes the rows of `scope` in a range as a policy's run removes those before its cut-off
 * (planRangeRemoval): a continuous query's source removal is bounded below by what the query
 * rolled up and above by the windows no later run needs.
 */
export async function removeRowsInRange(policy: RetentionScope, range: RemovalRange, storage: Storage, rewriter: RetentionRewriter, options: RetentionRunOptions): Promise<RetentionRunResult> {
  const tally: Tally = { affectedMeasurements: [], filesDropped: 0, filesRewritten: 0, rowsRemoved: 0, bytesRemoved: 0, bytesRewritten: 0, files: [], filesTruncated: false, jobsFailed: 0, jobError: null };
  const measurements = await measurementsOf(storage, policy);
  const removeWhere = range.fromUs === null ? retentionRemoveWhere(range.toUs) : rangeRemoveWhere(range.fromUs, range.toUs);
  let filesDone = 0;
  for (const [index, measurement] of measurements.entries()) {
    const plan = planRangeRemoval(storage.catalog.files(policy.database, measurement), range.fromUs, range.toUs);
    tallyPlan(tally, measurement, plan);
    const run: MeasurementRun = { database: policy.database, measurement, plan, removeWhere };
    if (options.dryRun) await countMeasurement(run, rewriter, tally);
    else await removeMeasurement(run, rewriter, tally);
    filesDone += plan.drop.length + plan.rewrite.length;
    options.onProgress?.({ measurementsDone: index + 1, measurementsTotal: measurements.length, filesDone });
  }
  return { dryRun: options.dryRun, cutoff: new Date(range.toUs / 1000).toISOString(), measurements: measurements.length, ...tally };
}
