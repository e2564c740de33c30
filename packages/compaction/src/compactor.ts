import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CompactionConfig } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import {
  compactedUnique,
  dataFileKey,
  encodeSchema,
  schemaIdOf,
  schemaKey,
  spanPartitionKey,
  writePositionOf,
  type CatalogEvent,
  type CatalogFile,
  type ReplacementStep,
  type StagedReplacementFile,
  type Storage,
  type WritePosition,
} from '@arc/storage';
import { compactionDisabledError } from './compaction-errors.js';
import { CompactionErrorCode } from './error-codes.js';
import { CompactionHistory } from './history-store.js';
import { HISTORY_JOBS_KEPT, JOB_QUEUE_MAX, LEASE_RENEWALS_PER_LEASE } from './limits.js';
import { MergeRunner, type MergeResult } from './merge-runner.js';
import { TelemetryBlock, type BlockOf } from '@arc/telemetry';
import { MERGE_TELEMETRY, MERGE_TELEMETRY_BLOCKS_PER_JOB } from './merge-telemetry.js';
import { PartitionLease, isLease, type LeaseHolder } from './partition-lease.js';
import { lockPartitionOf, planMeasurement, type PlannedJob } from './planner.js';
import { planRewrite } from './rewrite-planner.js';
import { CronSchedule } from './schedule.js';
import type { CqSource } from './cq-query-check.js';
import { replaceWindow, type WindowReplaceRequest, type WindowReplaceResult, type WindowStep } from './cq-window-replace.js';
import { COMPACTION_TIERS, type CompactionCandidate, type CompactionControl, type CompactionJob, type CompactionStats, type CompactionStatus, type CompactionTier, type TriggerRequest } from './types.js';

/** The steps of a job, in order, as `onStep` sees them (crash tests stop a process at each). */
export type JobStep = 'leased' | 'merged' | ReplacementStep;

/** How a job ended, for metrics: a conflict (the partition or an input taken by other work) is a skip, not a failure. */
export type JobResult = 'succeeded' | 'failed' | 'skipped';

export type CompactionLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface CompactorOptions {
  readonly storage: Storage;
  readonly config: CompactionConfig;
  /** The SQLite file of the job history. */
  readonly historyPath: string;
  /** Where merge jobs' DuckDB spills. */
  readonly tempDirectory: string;
  /**
   * Resolves once every query submitted before the call has ended: a job deletes its inputs only
   * then (queries planned with the old catalog may still read them). Without a query side: resolve.
   */
  readonly queriesEnded: () => Promise<void>;
  readonly log: CompactionLog;
  /** Sees each step of each job (tests). */
  readonly onStep?: (step: JobStep, job: CompactionJob) => void;
  /** Sees each job end (metrics): `skipped` when another node or job held its partition or inputs. */
  readonly onJobEnded?: (job: CompactionJob, result: JobResult) => void;
  readonly nowMs?: () => number;
}

interface QueuedJob {
  job: CompactionJob;
  readonly planned: PlannedJob;
  /** A rewrite's caller waits for its job here (the error is null when it succeeded). */
  readonly onEnded?: (job: CompactionJob, error: unknown) => void;
}

/** `Compactor.rewrite`: files of one measurement rewritten without the rows `removeWhere` matches. */
export interface RewriteRequest {
  readonly database: string;
  readonly measurement: string;
  /** Keys of catalog files of the measurement (any partitions: one job per file rewritten, one per day of files dropped whole: rewrite-planner.ts). */
  readonly files: readonly string[];
  /**
   * A SQL expression over a row's columns (row-predicate.ts): the rows where it is TRUE go. Null:
   * every row goes (retention's wholly expired files): the files are deleted through the same
   * lease and replace manifest (no output), without being read.
   */
  readonly removeWhere: string | null;
  /** Called as each job ends (a delete's progress), before `rewrite` resolves. */
  readonly onJobEnded?: (job: CompactionJob) => void;
}

const ALL_TIERS: ReadonlySet<CompactionTier> = new Set(COMPACTION_TIERS);
const LIVE_ONLY: ReadonlySet<CompactionTier> = new Set(['live']);

/** `c-...` for a compaction job, `r-...` for a rewrite's (manifests and locks name them). */
function newJobId(nowMs: number, prefix: 'c' | 'r'): string {
  return `${prefix}-${nowMs.toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** The partition a job holds while queued or running (`db/m/YYYY/MM/DD`: its lock's day). */
function busyKeyOf(planned: PlannedJob): string {
  return `${planned.candidate.database}/${planned.candidate.measurement}/${lockPartitionOf(planned)}`;
}

/** A rewrite that keeps no row of its inputs, known without reading them: no output. */
function droppedWhole(inputs: readonly CatalogFile[]): MergeResult {
  return { outputs: [], columns: [], tags: [], inputRows: inputs.reduce((sum, input) => sum + (input.rows ?? 0), 0), outputRows: 0 };
}

function compactionStopped(): ArcError {
  return new ArcError(ErrorKind.unavailable, CompactionErrorCode.jobFailed, 'compaction stopped');
}

function isoOf(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Runs compaction (docs/architecture.md, Compaction): plans jobs (planner.ts) on a timer for the
 * live tier and on cron schedules for the hourly and daily tiers, runs at most
 * `max_concurrent_jobs` at once in merge threads of their own (merge-runner.ts), and commits each
 * through storage's replace manifests, so every reader sees either the inputs or the outputs.
 * Lives on the main thread beside the storage front door; keeps its jobs in a SQLite history.
 */
export class Compactor implements CompactionControl {
  private readonly storage: Storage;
  private readonly config: CompactionConfig;
  private readonly options: CompactorOptions;
  private readonly jobHistory: CompactionHistory;
  private readonly nowMs: () => number;
  private readonly queue: QueuedJob[] = [];
  private readonly running = new Map<string, QueuedJob>();
  /** Partitions (`db/m/YYYY/MM/DD`) with a job queued or running: one job per partition at a time. */
  private readonly busyPartitions = new Set<string>();
  /** Merge threads not running a job; started on first need, kept. */
  private readonly idleRunners: MergeRunner[] = [];
  /** Merge threads being started (counted against max_concurrent_jobs with the started ones). */
  private runnersStarting = 0;
  /** Callers waiting for a merge thread (all are busy): woken one per thread given back. */
  private readonly runnerWaiters: (() => void)[] = [];
  /** Every merge thread started (idle or running a job): close() stops them all. */
  private readonly runners = new Set<MergeRunner>();
  /** Hours that received files since the last live pass, by measurement (`db/m`). */
  private readonly touchedHours = new Map<string, Set<number>>();
  private readonly schedules: CronSchedule[] = [];
  private liveTimer: NodeJS.Timeout | null = null;
  /** Ingest is busy (the server says): merges wait between pieces of work until it is not. */
  private ingestBusy = false;
  private readonly jobsEnded = new Set<Promise<void>>();
  private closed = false;
  /** Continuous-query windows (cq-window-replace.ts): one at a time, on a merge thread of their own beside the jobs'. */
  private windowRunner: MergeRunner | null = null;
  private windowTail: Promise<unknown> = Promise.resolve();
  /** Window jobs running now: their leases are alive (never taken over as a dead process's). */
  private readonly windowJobs = new Set<string>();
  /** The merge threads' vitals and DuckDB memory, read at scrape time. */
  readonly telemetry: BlockOf<typeof MERGE_TELEMETRY>;

  private constructor(options: CompactorOptions, history: CompactionHistory) {
    this.options = options;
    this.storage = options.storage;
    this.config = options.config;
    this.jobHistory = history;
    this.nowMs = options.nowMs ?? Date.now;
    this.telemetry = TelemetryBlock.create(MERGE_TELEMETRY, options.config.maxConcurrentJobs * MERGE_TELEMETRY_BLOCKS_PER_JOB);
  }

  /** Opens the history; with compaction enabled, starts the live timer and the tiers' schedules. */
  static open(options: CompactorOptions): Compactor {
    const compactor = new Compactor(options, CompactionHistory.open(options.historyPath));
    if (options.config.enabled) compactor.startSchedules();
    return compactor;
  }

  /** The live timer (fed by the hours that get files) and the closed-hour tiers' schedules. */
  private startSchedules(): void {
    this.storage.onChange((event) => this.noteChange(event));
    this.liveTimer = setInterval(() => this.livePass(), this.config.liveIntervalSeconds * 1000);
    this.liveTimer.unref();
    const hourly = new CronSchedule(this.config.hourlySchedule, 'compaction.hourly_schedule');
    hourly.start(() => this.schedulePass(() => this.planLoaded(new Set(['hourly']))));
    const daily = new CronSchedule(this.config.dailySchedule, 'compaction.daily_schedule');
    daily.start(() => this.schedulePass(() => this.planLoaded(new Set(['daily']))));
    this.schedules.push(hourly, daily);
  }

  /** After a start: the hourly and daily work missed while the server was down (the catalog is listed). */
  catchUp(): void {
    if (this.config.enabled) this.schedulePass(() => this.planLoaded(new Set(['hourly', 'daily'])));
  }

  private noteChange(event: CatalogEvent): void {
    if (event.kind !== 'delta') return;
    for (const change of event.delta.changes) {
      if (change.kind !== 'add') continue;
      for (const file of change.files) this.touchHour(file.database, file.measurement, file.hourUs);
    }
  }

  private touchHour(database: string, measurement: string, hourUs: number): void {
    const key = `${database}/${measurement}`;
    let hours = this.touchedHours.get(key);
    if (hours === undefined) this.touchedHours.set(key, (hours = new Set()));
    hours.add(hourUs);
  }

  /** Queues the jobs `plan` finds; `onRefused` gets each one not queued (its partition busy, or the queue full). */
  private schedulePass(plan: () => PlannedJob[], onRefused?: (planned: PlannedJob) => void): void {
    if (this.closed) return;
    try {
      for (const planned of plan()) {
        if (this.enqueue(planned, 'schedule') === null) onRefused?.(planned);
      }
    } catch (error) {
      // A timer's callback: a throw here would stop the server. The next pass tries again.
      this.options.log('error', `compaction: planning failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * The live tier over the hours that received files since the last pass. An hour whose job is
   * refused stays touched for the next pass: files that land while the hour's merge runs (its
   * commit's own output among them) would otherwise wait for the hour's next write, and the last
   * burst of an hour would keep more than live_max_files files.
   */
  private livePass(): void {
    this.schedulePass(
      () => this.planTouched(),
      (planned) => this.touchHour(planned.candidate.database, planned.candidate.measurement, planned.partitionStartUs),
    );
  }

  private planTouched(): PlannedJob[] {
    const jobs: PlannedJob[] = [];
    const nowUs = this.nowMs() * 1000;
    for (const [key, hours] of this.touchedHours) {
      const [database = '', measurement = ''] = key.split('/', 2);
      const files = this.storage.catalog.files(database, measurement).filter((file) => hours.has(file.hourUs));
      jobs.push(...planMeasurement(files, LIVE_ONLY, nowUs, this.config));
    }
    this.touchedHours.clear();
    return jobs;
  }

  /** Every listed measurement (a scheduled pass never waits for listings: the next pass sees them). */
  private planLoaded(tiers: ReadonlySet<CompactionTier>): PlannedJob[] {
    const jobs: PlannedJob[] = [];
    const nowUs = this.nowMs() * 1000;
    const catalog = this.storage.catalog;
    for (const database of catalog.databaseNames()) {
      for (const measurement of catalog.measurementNames(database)) {
        if (!catalog.isLoaded(database, measurement)) continue;
        jobs.push(...planMeasurement(catalog.files(database, measurement), tiers, nowUs, this.config));
      }
    }
    return jobs;
  }

  /** The jobs of a scope (its measurements listed first). */
  private async planScope(scope: TriggerRequest): Promise<PlannedJob[]> {
    const catalog = this.storage.catalog;
    const databases = scope.database === undefined ? this.storage.databases() : [scope.database];
    const tiers = scope.tier === undefined ? ALL_TIERS : new Set([scope.tier]);
    const nowUs = this.nowMs() * 1000;
    const jobs: PlannedJob[] = [];
    for (const database of databases) {
      const measurements = scope.measurement === undefined ? catalog.measurementNames(database) : [scope.measurement];
      for (const measurement of measurements) {
        await this.storage.ensureLoaded(database, measurement);
        jobs.push(...planMeasurement(catalog.files(database, measurement), tiers, nowUs, this.config));
      }
    }
    return jobs;
  }

  private enqueue(planned: PlannedJob, trigger: CompactionJob['trigger'], onEnded?: QueuedJob['onEnded']): CompactionJob | null {
    const { candidate } = planned;
    const partitionKey = busyKeyOf(planned);
    if (this.busyPartitions.has(partitionKey) || this.queue.length >= JOB_QUEUE_MAX) return null;
    this.busyPartitions.add(partitionKey);
    const job: CompactionJob = {
      id: newJobId(this.nowMs(), planned.removeWhere === undefined ? 'c' : 'r'),
      database: candidate.database,
      measurement: candidate.measurement,
      tier: candidate.tier,
      partition: candidate.partition,
      state: 'queued',
      trigger,
      inputFiles: candidate.files,
      inputBytes: candidate.bytes,
      inputRows: null,
      outputRows: null,
      outputFiles: null,
      outputBytes: null,
      startedAt: null,
      finishedAt: null,
      durationMs: null,
      error: null,
    };
    this.queue.push(onEnded === undefined ? { job, planned } : { job, planned, onEnded });
    this.pump();
    return job;
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.config.maxConcurrentJobs) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.running.set(next.job.id, next);
      const ended = this.runJob(next).finally(() => {
        this.running.delete(next.job.id);
        this.busyPartitions.delete(busyKeyOf(next.planned));
        this.jobsEnded.delete(ended);
        this.pump();
      });
      this.jobsEnded.add(ended);
    }
  }

  /**
   * A merge thread for a job or a count: an idle one, a new one while fewer than
   * `max_concurrent_jobs` exist, else the next one given back (a count may hold one while a job
   * waits, and the other way round).
   */
  private async takeRunner(): Promise<MergeRunner> {
    for (;;) {
      if (this.closed) throw compactionStopped();
      const idle = this.idleRunners.pop();
      if (idle !== undefined) return idle;
      if (this.runners.size + this.runnersStarting < this.config.maxConcurrentJobs) return this.startRunner();
      await new Promise<void>((resolve) => this.runnerWaiters.push(resolve));
    }
  }

  private async startRunner(): Promise<MergeRunner> {
    this.runnersStarting += 1;
    let runner: MergeRunner;
    try {
      runner = await MergeRunner.start({ memoryLimit: this.config.memoryLimit, threads: this.config.threads, nice: this.config.nice, tempDirectory: this.options.tempDirectory, telemetry: this.telemetry.shared });
    } catch (error) {
      this.runnerWaiters.shift()?.();
      throw error;
    } finally {
      this.runnersStarting -= 1;
    }
    if (this.closed) {
      await runner.close();
      throw compactionStopped();
    }
    this.runners.add(runner);
    runner.setPaused(this.ingestBusy);
    return runner;
  }

  /** A merge thread back from a job or a count: idle again, and the first waiter for one wakes. */
  private giveBackRunner(runner: MergeRunner): void {
    if (!this.closed) this.idleRunners.push(runner);
    this.runnerWaiters.shift()?.();
  }

  /**
   * The server's word on ingest: while busy, every merge waits between two pieces of DuckDB work,
   * so a saturated server compacts only in its quiet moments (a niced thread alone still took a
   * quarter of saturating ingest: disk, memory bandwidth and SMT siblings are not governed by nice).
   */
  setIngestBusy(busy: boolean): void {
    if (busy === this.ingestBusy) return;
    this.ingestBusy = busy;
    for (const runner of this.runners) runner.setPaused(busy);
  }

  private step(step: JobStep, entry: QueuedJob): void {
    this.options.onStep?.(step, entry.job);
  }

  private async runJob(entry: QueuedJob): Promise<void> {
    const startedMs = this.nowMs();
    // Rewrites are their callers' (retention, deletes keep their own histories): not compaction's.
    const recorded = entry.planned.removeWhere === undefined;
    entry.job = { ...entry.job, state: 'running', startedAt: isoOf(startedMs) };
    if (recorded) this.jobHistory.record(entry.job);
    let result: JobResult = 'succeeded';
    let failure: unknown = null;
    try {
      const outcome = await this.merge(entry);
      entry.job = { ...entry.job, state: 'succeeded', ...outcome };
      this.options.log('debug', `compaction ${entry.job.id}: ${entry.job.database}.${entry.job.measurement} ${entry.job.tier} ${entry.job.partition}: ${entry.job.inputFiles} files -> ${String(outcome.outputFiles)}`);
    } catch (error) {
      failure = error;
      const message = error instanceof Error ? error.message : String(error);
      result = error instanceof ArcError && error.kind === ErrorKind.conflict ? 'skipped' : 'failed';
      entry.job = { ...entry.job, state: 'failed', error: message };
      if (!this.closed) this.options.log('warn', `compaction ${entry.job.id} of ${entry.job.database}.${entry.job.measurement} ${entry.job.partition} failed: ${message}`);
    }
    const finishedMs = this.nowMs();
    entry.job = { ...entry.job, finishedAt: isoOf(finishedMs), durationMs: finishedMs - startedMs };
    entry.onEnded?.(entry.job, failure);
    if (!recorded) return;
    this.jobHistory.record(entry.job);
    this.jobHistory.prune(HISTORY_JOBS_KEPT);
    this.options.onJobEnded?.(entry.job, result);
  }

  /** Leases the partition, merges, commits, waits for readers of the inputs, deletes them. */
  private async merge(entry: QueuedJob): Promise<Pick<CompactionJob, 'inputRows' | 'outputRows' | 'outputFiles' | 'outputBytes'>> {
    const { planned, job } = entry;
    const leaseMs = this.config.leaseSeconds * 1000;
    // This node's jobs are all in `running`: a lock of this node held by another job is a dead process's.
    const isDead = (holder: LeaseHolder): boolean => holder.node === this.storage.nodeId && !this.running.has(holder.job) && !this.windowJobs.has(holder.job);
    const lease = await PartitionLease.acquire(this.storage.backend, { database: job.database, measurement: job.measurement, dayPath: lockPartitionOf(planned), jobId: job.id }, leaseMs, this.nowMs, isDead);
    if (!isLease(lease)) throw new ArcError(ErrorKind.conflict, CompactionErrorCode.jobFailed, `the partition is locked by job ${lease.job} of node ${lease.node} until ${isoOf(lease.expiresAtMs)}`);
    const renewal = setInterval(() => void lease.renew().catch(() => undefined), leaseMs / LEASE_RENEWALS_PER_LEASE);
    renewal.unref();
    try {
      this.step('leased', entry);
      // Under the lease nobody else commits here; the listing shows what others committed before.
      const inDoubt = await this.storage.relist(job.database, job.measurement);
      const inputs = this.currentInputs(planned);
      const doubtful = inputs.find((input) => inDoubt.has(input.key));
      if (doubtful !== undefined) throw new ArcError(ErrorKind.conflict, CompactionErrorCode.jobFailed, `an input is in another node's unfinished compaction (not merged until it is committed or undone): ${doubtful.key}`);
      const partitionDirectory = spanPartitionKey(job.database, job.measurement, planned.span, planned.partitionStartUs);
      // Files dropped whole write nothing: no staging slot.
      const outputSlots = planned.removeWhere === null ? 0 : Math.max(1, Math.ceil(job.inputBytes / this.config.targetFileBytes)) + 1;
      const stagingPaths: string[] = [];
      for (let slot = 0; slot < outputSlots; slot++) stagingPaths.push(await this.storage.backend.stagingPathIn(partitionDirectory));
      try {
        const result = planned.removeWhere === null ? droppedWhole(inputs) : await this.runMerge(inputs, stagingPaths, planned.removeWhere);
        this.step('merged', entry);
        const { staged, outputBytes } = await this.nameOutputs(planned, inputs, result);
        if (!(await lease.holds())) throw new ArcError(ErrorKind.conflict, CompactionErrorCode.jobFailed, 'the partition lease ran out before the commit');
        const replacement = await this.storage.replaceFiles(job.id, inputs.map((file) => file.key), staged, (step) => this.step(step, entry));
        await this.options.queriesEnded();
        await this.storage.finishReplacement(replacement, (step) => this.step(step, entry));
        return { inputRows: result.inputRows, outputRows: result.outputRows, outputFiles: staged.length, outputBytes };
      } finally {
        // Published outputs are not staged any more; the rest (unused, or a failed job's) go.
        for (const stagingPath of stagingPaths) await this.storage.backend.discard(stagingPath).catch(() => undefined);
      }
    } finally {
      clearInterval(renewal);
      await lease.release().catch(() => undefined);
    }
  }

  /** The planned inputs as the catalog has them now; a job whose inputs changed meanwhile is not run. */
  private currentInputs(planned: PlannedJob): CatalogFile[] {
    const { database, measurement } = planned.candidate;
    const inputs: CatalogFile[] = [];
    for (const input of planned.inputs) {
      const file = this.storage.catalog.file(database, measurement, input.key);
      if (file === undefined) throw new ArcError(ErrorKind.conflict, CompactionErrorCode.jobFailed, `an input is gone (deleted or merged meanwhile): ${input.key}`);
      inputs.push(file);
    }
    return inputs;
  }

  private async runMerge(inputs: readonly CatalogFile[], outputPaths: readonly string[], removeWhere: string | undefined, lent?: MergeRunner): Promise<MergeResult> {
    // On an object store the inputs are downloaded into the file cache and pinned for the merge.
    const releaseInputs = await this.storage.acquireFiles(inputs);
    const runner = await (lent === undefined ? this.takeRunner() : Promise.resolve(lent)).catch((error: unknown) => {
      releaseInputs();
      throw error;
    });
    try {
      return await runner.run({
        inputs: inputs.map((file) => this.storage.locationOf(file.key)),
        outputPaths,
        // A rewrite keeps every row it does not remove, duplicates too: only compaction folds them.
        dedup: removeWhere === undefined ? this.config.dedup : false,
        targetFileBytes: this.config.targetFileBytes,
        rowGroupSize: this.config.rowGroupSize,
        compressionLevel: this.config.compressionLevel,
        ...(removeWhere === undefined ? {} : { removeWhere }),
      });
    } finally {
      releaseInputs();
      // A lent thread (a continuous query's own) goes back to its lender, not to the idle ones.
      if (lent === undefined) this.giveBackRunner(runner);
    }
  }

  /**
   * How many rows of these files (keys of the measurement's catalog) a rewrite with `removeWhere`
   * would remove: read by a merge thread, nothing written (a dry run's count). Rejects with 400
   * ARC_COMPACTION_BAD_PREDICATE when the predicate is refused, 409 when a file is not in the catalog.
   */
  async countRemoved(request: RewriteRequest & { readonly removeWhere: string }): Promise<number> {
    const files = await this.catalogFiles(request);
    if (files.length === 0) return 0;
    const releaseInputs = await this.storage.acquireFiles(files);
    try {
      const runner = await this.takeRunner();
      try {
        return await runner.countRows(files.map((file) => this.storage.locationOf(file.key)), request.removeWhere);
      } finally {
        this.giveBackRunner(runner);
      }
    } finally {
      releaseInputs();
    }
  }

  /** The request's files as the catalog has them, or 409 naming one it does not have. */
  private async catalogFiles(request: Pick<RewriteRequest, 'database' | 'measurement' | 'files'>): Promise<CatalogFile[]> {
    await this.storage.ensureLoaded(request.database, request.measurement);
    return request.files.map((key) => {
      const file = this.storage.catalog.file(request.database, request.measurement, key);
      if (file === undefined) throw new ArcError(ErrorKind.conflict, CompactionErrorCode.jobFailed, `A file to rewrite is not in the catalog of ${request.database}.${request.measurement}: ${key}`, { key });
      return file;
    });
  }

  /**
   * Seals each output and names it: in its partition, at the write position of the newest input
   * (so later writes still win over it), with its rows, size and time bounds; its schema object
   * is stored first, as a writer does.
   */
  private async nameOutputs(planned: PlannedJob, inputs: readonly CatalogFile[], result: MergeResult): Promise<{ staged: StagedReplacementFile[]; outputBytes: number }> {
    const { database, measurement } = planned.candidate;
    const newest = inputs.at(-1);
    assert.ok(newest !== undefined, 'a job has inputs');
    const position: WritePosition = writePositionOf(newest.key) ?? { writtenAtMs: 0, nodeId: this.storage.nodeId, unique: 'w0-000000-000000' };
    const schemaId = schemaIdOf(result.columns);
    if (result.outputs.length > 0) await this.storage.backend.putIfAbsent(schemaKey(database, measurement, schemaId), encodeSchema(result.columns));
    const staged: StagedReplacementFile[] = [];
    let outputBytes = 0;
    for (const output of result.outputs) {
      const bytes = await this.storage.backend.sealStaged(output.path);
      outputBytes += bytes;
      const key = dataFileKey({
        database,
        measurement,
        hourUs: planned.partitionStartUs,
        span: planned.span,
        nodeId: position.nodeId,
        unique: compactedUnique(position, randomBytes(4).toString('hex')),
        rows: output.rows,
        bytes,
        minTimeUs: output.minTimeUs,
        maxTimeUs: output.maxTimeUs,
        writtenAtMs: position.writtenAtMs,
        schemaId,
      });
      staged.push({ staging: output.path, key, columns: result.columns });
    }
    return { staged, outputBytes };
  }

  /**
   * Rewrites files of one measurement without the rows `removeWhere` matches: one job per file
   * (with no predicate, one per day of files: rewrite-planner.ts), through the same queue, merge threads, partition leases and replace manifests as
   * compaction (a kill -9 leaves the old files or the new, docs/decisions.md), whether compaction
   * is enabled or not. A job that keeps no row deletes its inputs and writes nothing. Resolves
   * with the ended jobs once all ended (a job may have failed: its state says; a conflict, such
   * as an input merged meanwhile by compaction, asks the caller to plan again from the catalog).
   * Rejects with 400 ARC_COMPACTION_BAD_PREDICATE when the predicate is refused (no file touched),
   * 409 ARC_COMPACTION_JOB_FAILED when a file is not in the catalog (deleted or merged meanwhile).
   */
  async rewrite(request: RewriteRequest): Promise<CompactionJob[]> {
    const files = await this.catalogFiles(request);
    const ended = await Promise.all(
      planRewrite(files, request.removeWhere).map(async (planned) => {
        const outcome = await this.runRewriteJob(planned);
        request.onJobEnded?.(outcome.job);
        return outcome;
      }),
    );
    const refused = ended.find(({ error }) => error instanceof ArcError && error.kind === ErrorKind.badRequest);
    if (refused !== undefined) throw refused.error;
    return ended.map(({ job }) => job);
  }

  /** Queues one rewrite job (waiting while its partition is busy) and resolves when it ended. */
  private async runRewriteJob(planned: PlannedJob): Promise<{ readonly job: CompactionJob; readonly error: unknown }> {
    for (;;) {
      if (this.closed) throw compactionStopped();
      let settle: (ended: { readonly job: CompactionJob; readonly error: unknown }) => void = () => undefined;
      const ended = new Promise<{ readonly job: CompactionJob; readonly error: unknown }>((resolve) => (settle = resolve));
      if (this.enqueue(planned, 'manual', (job, error) => settle({ job, error })) !== null) return ended;
      // The partition has a job queued or running (or the queue is full): wait for a job to end.
      if (this.jobsEnded.size === 0) throw new ArcError(ErrorKind.unavailable, CompactionErrorCode.jobFailed, 'the compaction queue is full');
      await Promise.race([...this.jobsEnded]);
    }
  }

  // ---- Continuous-query windows (cq-window-replace.ts) ----

  /** The windows' merge thread, started on first need. */
  private async takeWindowRunner(): Promise<MergeRunner> {
    if (this.closed) throw new ArcError(ErrorKind.unavailable, CompactionErrorCode.jobFailed, 'compaction stopped');
    this.windowRunner ??= await MergeRunner.start({ memoryLimit: this.config.memoryLimit, threads: this.config.threads, nice: this.config.nice, tempDirectory: this.options.tempDirectory });
    return this.windowRunner;
  }

  /** Runs `work` on the windows' merge thread after every window before it ended. */
  private onWindowThread<T>(work: (runner: MergeRunner) => Promise<T>): Promise<T> {
    const run = this.windowTail.then(async () => work(await this.takeWindowRunner()));
    this.windowTail = run.catch(() => undefined);
    return run;
  }

  /** Why DuckDB's parser refuses a continuous query's SQL for its source (cq-query-check.ts), or null. */
  checkCqQuery(query: string, source: CqSource): Promise<string | null> {
    return this.onWindowThread((runner) => runner.checkCqQuery(query, source));
  }

  /**
   * Runs one continuous-query window: its rows computed and the destination's rows of the window
   * replaced by them in one replace manifest, under the leases of the window's days, whether
   * compaction is enabled or not (cq-window-replace.ts). Windows run one at a time.
   */
  replaceWindow(request: WindowReplaceRequest, onStep?: (step: WindowStep) => void): Promise<WindowReplaceResult> {
    return this.onWindowThread((runner) =>
      replaceWindow(
        {
          storage: this.storage,
          config: this.config,
          nowMs: this.nowMs,
          runner,
          liveJobs: this.windowJobs,
          queriesEnded: this.options.queriesEnded,
          stageRewrite: (file, stagingPaths, removeWhere) => this.stageRewrite(file, stagingPaths, removeWhere, runner),
          ...(onStep === undefined ? {} : { onStep }),
        },
        request,
      ),
    );
  }

  /** One file rewritten without the rows `removeWhere` matches, staged and named at its own write position. */
  private async stageRewrite(file: CatalogFile, stagingPaths: readonly string[], removeWhere: string, runner: MergeRunner): Promise<StagedReplacementFile[]> {
    const [planned] = planRewrite([file], removeWhere);
    assert.ok(planned !== undefined, 'a file is one rewrite job');
    const result = await this.runMerge([file], stagingPaths, removeWhere, runner);
    return (await this.nameOutputs(planned, [file], result)).staged;
  }

  // ---- CompactionControl (the endpoints) ----

  status(): CompactionStatus {
    const [hourly, daily] = this.schedules;
    const next = (schedule: CronSchedule | undefined): string | null => {
      const at = schedule?.nextRun() ?? null;
      return at === null ? null : at.toISOString();
    };
    return {
      enabled: this.config.enabled,
      dedup: this.config.dedup,
      running: this.running.size,
      queued: this.queue.length,
      maxConcurrentJobs: this.config.maxConcurrentJobs,
      liveMaxFiles: this.config.liveMaxFiles,
      liveIntervalSeconds: this.config.liveIntervalSeconds,
      hourlySchedule: this.config.hourlySchedule,
      dailySchedule: this.config.dailySchedule,
      nextHourlyRun: next(hourly),
      nextDailyRun: next(daily),
    };
  }

  stats(): CompactionStats {
    return this.jobHistory.stats();
  }

  async candidates(scope: TriggerRequest): Promise<CompactionCandidate[]> {
    return (await this.planScope(scope)).map((planned) => planned.candidate);
  }

  jobs(): CompactionJob[] {
    return [...[...this.running.values()].map((entry) => entry.job), ...this.queue.map((entry) => entry.job)];
  }

  history(options: { limit: number; database?: string; measurement?: string }): CompactionJob[] {
    return this.jobHistory.list(options);
  }

  async trigger(request: TriggerRequest): Promise<CompactionJob[]> {
    if (!this.config.enabled) throw compactionDisabledError();
    const queued: CompactionJob[] = [];
    for (const planned of await this.planScope(request)) {
      const job = this.enqueue(planned, 'manual');
      if (job !== null) queued.push(job);
    }
    return queued;
  }

  /** Resolves when no job is queued or running (tests; `arc compact` polls the endpoints). */
  async idle(): Promise<void> {
    while (this.jobsEnded.size > 0) await Promise.allSettled([...this.jobsEnded]);
  }

  /** Stops the schedules, drops queued jobs, stops the merge threads (a running job fails; its leftovers are cleaned at the next start). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.liveTimer !== null) clearInterval(this.liveTimer);
    for (const schedule of this.schedules) schedule.stop();
    for (const entry of this.queue.splice(0)) {
      this.busyPartitions.delete(busyKeyOf(entry.planned));
      entry.onEnded?.({ ...entry.job, state: 'failed', error: 'compaction stopped' }, compactionStopped());
    }
    this.idleRunners.length = 0;
    for (const wake of this.runnerWaiters.splice(0)) wake();
    // A running merge stops with its thread; its job fails and its staged files go (or, if the
    // process ends first, the next start's listing removes them).
    await Promise.all([...this.runners].map((runner) => runner.terminate()));
    await this.windowRunner?.terminate();
    this.runners.clear();
    await Promise.allSettled([...this.jobsEnded]);
    this.jobHistory.close();
  }
}
