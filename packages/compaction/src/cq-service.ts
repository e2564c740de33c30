import { randomBytes } from 'node:crypto';
import type { ContinuousQueriesConfig } from '@arc/config';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import type { CatalogEvent, Storage } from '@arc/storage';
import { CqErrorCode } from './cq-error-codes.js';
import { continuousQuerySpec, nextRunFromMs, runAt, runsDue, sourceCutoffMs, windowAt, windowQuery, windowsCovering, windowsOfRuns, type ContinuousQuery, type ContinuousQueryFields, type ContinuousQuerySpec, type CqWindow } from './cq-definition.js';
import type { CqSource } from './cq-query-check.js';
import type { CqExecution, CqStore, CqTemplate, CqTrigger } from './cq-store.js';
import type { WindowReplaceRequest, WindowReplaceResult } from './cq-window-replace.js';
import { CQ_RETENTION_EVERY_MS, CQ_SCHEDULER_TICK_MS, CQ_WINDOWS_PER_PASS_MAX, CQ_WINDOWS_PER_RUN_MAX } from './limits.js';
import { removeRowsInRange, runRetention, type RetentionRewriter, type RetentionRunResult } from './retention-run.js';

/** What the service needs of the compactor: the query check, the window replacement, and the rewrites retention runs (retention_days, delete_source_after_days). */
export interface WindowRunner extends RetentionRewriter {
  checkCqQuery(query: string, source: CqSource): Promise<string | null>;
  replaceWindow(request: WindowReplaceRequest): Promise<WindowReplaceResult>;
}

export type CqLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;

export interface ContinuousQueriesOptions {
  readonly store: CqStore;
  readonly windows: WindowRunner;
  readonly storage: Storage;
  readonly config: ContinuousQueriesConfig;
  readonly log: CqLog;
  readonly nowMs?: () => number;
  /**
   * Makes the rows of a measurement still buffered in the writers durable files (the server's
   * per-measurement flush); null when done, else why not. A window flushes its destination first,
   * so rows written straight into the destination are replaced with the window's other rows
   * instead of landing on top of its output at their later flush. Absent: nothing is buffered.
   */
  readonly flushMeasurement?: (database: string, measurement: string) => Promise<ArcError | null>;
}

/** `POST /{id}/execute`: a range of windows (aligned outwards to the interval), or the windows due. */
export interface ExecuteRequest {
  readonly startMs?: number;
  readonly endMs?: number;
  readonly dryRun: boolean;
}

/** What an execute answers: its windows' runs, in order, and their totals. */
export interface ExecuteResult {
  readonly query: ContinuousQuery;
  readonly executionId: string;
  readonly status: 'completed' | 'dry_run' | 'failed';
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly windows: number;
  readonly recordsRead: number;
  readonly recordsWritten: number;
  readonly executions: readonly CqExecutionSummary[];
  /** A dry run: the first window's query as it would run. */
  readonly executedQuery: string | null;
}

export type CqExecutionSummary = Omit<CqExecution, 'id' | 'cqId'>;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function executionIdOf(prefix: 'cq-exec' | 'cq-sched'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** The window a sample check fills the placeholders with (any window parses alike). */
const CHECK_WINDOW: CqWindow = { startMs: Date.UTC(2026, 0, 1), endMs: Date.UTC(2026, 0, 1, 1) };

/**
 * Continuous queries (docs/continuous-queries.md): their definitions (CqStore), their checks, the
 * runs of their windows (Compactor.replaceWindow) and the scheduler. Every CQ_SCHEDULER_TICK_MS
 * the scheduler looks, for each active query, for the runs due since its last processed run
 * (every `resample_every`, default the interval, from epoch + window_offset) and runs, in order,
 * each window any of them recomputes (those overlapping [run - resample_for, run)) once; after
 * downtime the missed runs are caught up in order, CQ_WINDOWS_PER_PASS_MAX windows per pass. It
 * re-runs windows already run when files with rows of them are published within
 * `lateness_seconds` of their end, and applies each query's retention_days and
 * delete_source_after_days after its runs. Lives on the main thread beside the compactor.
 */
export class ContinuousQueries {
  private readonly options: ContinuousQueriesOptions;
  private readonly store: CqStore;
  private readonly nowMs: () => number;
  private timer: NodeJS.Timeout | null = null;
  private passing: Promise<void> | null = null;
  /** Windows to run again (late rows): `id/startMs`. */
  private readonly lateWindows = new Map<string, { readonly id: number; readonly window: CqWindow }>();
  /** When each query's retention last ran (this process; a restart applies it at its first pass). */
  private readonly retainedAtMs = new Map<number, number>();
  private closed = false;
  /**
   * `database/measurement` of every active query's source, or null when a definition changed
   * since it was read: a writer's flush publishes a file per measurement, and the late-rows check
   * of each must not read SQLite when no query watches it (thousands per flush, most of them).
   */
  private watchedSources: ReadonlySet<string> | null = null;

  constructor(options: ContinuousQueriesOptions) {
    this.options = options;
    this.store = options.store;
    this.nowMs = options.nowMs ?? Date.now;
  }

  get enabled(): boolean {
    return this.options.config.enabled;
  }

  /** Starts the scheduler (when enabled) and the watch for late rows. */
  start(): void {
    if (!this.enabled || this.timer !== null) return;
    // A listener's throw would end the emitting call (a writer's flush report) and the server: a
    // late-rows check that fails is logged, and after close() (its store shut) none runs.
    this.options.storage.onChange((event) => {
      if (this.closed) return;
      try {
        this.noteLateRows(event);
      } catch (error) {
        this.options.log('warn', `continuous queries: checking for late rows failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    this.timer = setInterval(() => void this.pass(), CQ_SCHEDULER_TICK_MS);
    this.timer.unref();
  }

  // ---- Definitions ----

  list(filter: { readonly database?: string; readonly isActive?: boolean } = {}): ContinuousQuery[] {
    return this.store.list().filter((cq) => (filter.database === undefined || cq.database === filter.database) && (filter.isActive === undefined || cq.isActive === filter.isActive));
  }

  get(id: number): ContinuousQuery {
    return this.store.get(id);
  }

  byName(name: string): ContinuousQuery | null {
    return this.store.byName(name);
  }

  /**
   * Checks the fields and the query (DuckDB's parser), then stores it; its first window is the
   * one it was created in, or the one holding `firstWindowAtMs` when that is earlier (a query
   * made for rows already written, from a template kept before them: no window since is missed).
   */
  async create(fields: ContinuousQueryFields, firstWindowAtMs?: number): Promise<ContinuousQuery> {
    const spec = await this.checked(fields);
    const nowMs = this.nowMs();
    const created = this.store.create(spec, nowMs);
    this.watchedSources = null;
    // The catch-up point is the run at or before that instant: the run after it computes the window holding it.
    this.store.setProcessed(created.id, runAt(created.schedule, Math.min(firstWindowAtMs ?? nowMs, nowMs)));
    return this.store.get(created.id);
  }

  async update(id: number, fields: ContinuousQueryFields): Promise<ContinuousQuery> {
    this.store.get(id);
    const spec = await this.checked(fields);
    const updated = this.store.update(id, spec, this.nowMs());
    this.watchedSources = null;
    if (updated.lastProcessedTime === null) this.store.setProcessed(id, runAt(updated.schedule, this.nowMs()));
    return this.store.get(id);
  }

  delete(id: number): void {
    this.store.delete(id);
    this.watchedSources = null;
    for (const [key, late] of this.lateWindows) if (late.id === id) this.lateWindows.delete(key);
    this.retainedAtMs.delete(id);
  }

  executions(id: number, limit: number): CqExecution[] {
    return this.store.executions(id, limit);
  }

  // ---- Templates (definitions in a client's language the server expands; CqStore) ----

  templates(): CqTemplate[] {
    return this.store.templates();
  }

  addTemplate(template: Omit<CqTemplate, 'createdAt'>): CqTemplate {
    return this.store.addTemplate(template, this.nowMs());
  }

  removeTemplate(name: string): boolean {
    return this.store.removeTemplate(name);
  }

  private async checked(fields: ContinuousQueryFields): Promise<ContinuousQuerySpec> {
    const spec = continuousQuerySpec(fields);
    if (spec instanceof ArcError) throw spec;
    const refusal = await this.options.windows.checkCqQuery(windowQuery(spec.query, CHECK_WINDOW.startMs, CHECK_WINDOW.endMs), { database: spec.database, measurement: spec.sourceMeasurement });
    if (refusal !== null) throw badRequest(CqErrorCode.badQuery, `Continuous query field 'query' is refused: ${refusal}`, { field: 'query' });
    return spec;
  }

  // ---- Runs ----

  /**
   * Runs windows now: those covering [startMs, endMs) (end defaults to now's window start), or
   * without a start the windows due (then the query's catch-up point moves as the scheduler's
   * would). 409 ARC_CQ_DISABLED when continuous queries are off, ARC_CQ_INACTIVE when the query
   * is; 400 ARC_CQ_BAD_WINDOW for a bad range.
   */
  async execute(id: number, request: ExecuteRequest): Promise<ExecuteResult> {
    if (!this.enabled) throw new ArcError(ErrorKind.conflict, CqErrorCode.disabled, 'Continuous queries are disabled ([continuous_queries] enabled = false)');
    const cq = this.store.get(id);
    if (!cq.isActive) throw new ArcError(ErrorKind.conflict, CqErrorCode.inactive, `Continuous query '${cq.name}' is not active`, { id });
    const { windows, lastRunMs } = this.windowsToExecute(cq, request);
    const executionId = executionIdOf('cq-exec');
    const inOrder = request.startMs === undefined && !request.dryRun;
    const executions: CqExecutionSummary[] = [];
    for (const [index, window] of windows.entries()) {
      const processedRunMs = inOrder && index === windows.length - 1 ? lastRunMs : null;
      const execution = await this.runWindow(cq, window, 'manual', request.dryRun, executionId, processedRunMs, inOrder);
      executions.push(execution);
      if (execution.status === 'failed') break;
    }
    const [first] = windows;
    const last = windows.at(-1);
    const failed = executions.some((execution) => execution.status === 'failed');
    // Every window of the range rolled up: the span rolled up reaches back to its start if the
    // range meets it. The catch-up point is read again, with no await before the update: a pass
    // may have moved it (and run, or failed, windows) while the range ran.
    if (!failed && !request.dryRun && first !== undefined && last !== undefined) {
      const current = this.store.get(id);
      this.store.extendRolledUp(id, first.startMs, last.endMs, nextRunFromMs(current.schedule, this.processedRunMs(current)));
    }
    return {
      query: this.store.get(id),
      executionId,
      status: failed ? 'failed' : request.dryRun ? 'dry_run' : 'completed',
      startTime: first === undefined ? null : iso(first.startMs),
      endTime: last === undefined ? null : iso(last.endMs),
      windows: executions.length,
      recordsRead: executions.reduce((sum, execution) => sum + (execution.recordsRead ?? 0), 0),
      recordsWritten: executions.reduce((sum, execution) => sum + (execution.recordsWritten ?? 0), 0),
      executions,
      executedQuery: request.dryRun && first !== undefined ? windowQuery(cq.query, first.startMs, first.endMs) : null,
    };
  }

  /** The windows of an execute; without a start, those of the runs due and the last of them (the catch-up point once they ran). */
  private windowsToExecute(cq: ContinuousQuery, request: ExecuteRequest): { windows: CqWindow[]; lastRunMs: number | null } {
    if (request.startMs === undefined) {
      if (request.endMs !== undefined) throw badRequest(CqErrorCode.badWindow, 'end_time needs a start_time (without both, execute runs the windows due)', { field: 'end_time' });
      return this.dueWindows(cq, CQ_WINDOWS_PER_RUN_MAX);
    }
    const endMs = request.endMs ?? windowAt(cq.schedule, this.nowMs()).startMs;
    if (request.startMs >= endMs) throw badRequest(CqErrorCode.badWindow, `start_time ${iso(request.startMs)} must be before end_time ${iso(endMs)}`, { field: 'start_time' });
    if ((endMs - request.startMs) / cq.intervalMs > CQ_WINDOWS_PER_RUN_MAX + 1) throw badRequest(CqErrorCode.badWindow, `The range holds more than ${String(CQ_WINDOWS_PER_RUN_MAX)} windows of ${cq.interval}: execute it in parts`, { field: 'end_time' });
    return { windows: windowsCovering(cq.schedule, request.startMs, endMs).slice(0, CQ_WINDOWS_PER_RUN_MAX), lastRunMs: null };
  }

  /**
   * The windows of the runs due since the catch-up point, in order, each once (runs whose FOR
   * spans overlap share windows), and the last of those runs: as many runs, oldest first, as
   * keep the windows within `windowsMax` (at least one run, whose windows CQ_RESAMPLE_FOR_WINDOWS_MAX bounds).
   */
  private dueWindows(cq: ContinuousQuery, windowsMax: number): { windows: CqWindow[]; lastRunMs: number | null } {
    const byStart = new Map<number, CqWindow>();
    let lastRunMs: number | null = null;
    for (const runMs of runsDue(cq.schedule, this.processedRunMs(cq), this.nowMs(), CQ_WINDOWS_PER_RUN_MAX)) {
      const windows = windowsOfRuns(cq.schedule, [runMs]);
      const added = windows.filter((window) => !byStart.has(window.startMs)).length;
      if (lastRunMs !== null && byStart.size + added > windowsMax) break;
      for (const window of windows) byStart.set(window.startMs, window);
      lastRunMs = runMs;
    }
    return { windows: [...byStart.values()].sort((a, b) => a.startMs - b.startMs), lastRunMs };
  }

  private processedRunMs(cq: ContinuousQuery): number {
    return cq.lastProcessedTime === null ? runAt(cq.schedule, this.nowMs()) : Date.parse(cq.lastProcessedTime);
  }

  /**
   * One window run and recorded. `processedRunMs`: the last window of runs in order (scheduled,
   * or an execute of the windows due): once it committed, the query's catch-up point moves to
   * that run. `inOrder`: the window is one of runs in order (the span rolled up starts at the
   * first that completes; CqStore.recordExecution). A window whose partitions another job holds
   * is not recorded (it runs again at the next pass).
   */
  private async runWindow(cq: ContinuousQuery, window: CqWindow, trigger: CqTrigger, dryRun: boolean, executionId: string, processedRunMs: number | null, inOrder: boolean): Promise<CqExecutionSummary> {
    const startedMs = this.nowMs();
    const base = { executionId, trigger, startTime: iso(window.startMs), endTime: iso(window.endMs), executedAt: iso(startedMs) };
    let summary: CqExecutionSummary;
    let flushFailed = false;
    try {
      if (!dryRun && this.options.flushMeasurement !== undefined) {
        const flushError = await this.options.flushMeasurement(cq.destinationDatabaseName, cq.destinationMeasurement);
        flushFailed = flushError !== null;
        if (flushError !== null) throw flushError;
      }
      const result = await this.options.windows.replaceWindow({
        source: { database: cq.database, measurement: cq.sourceMeasurement },
        destination: { database: cq.destinationDatabaseName, measurement: cq.destinationMeasurement },
        query: windowQuery(cq.query, window.startMs, window.endMs),
        windowStartUs: window.startMs * 1000,
        windowEndUs: window.endMs * 1000,
        dryRun,
      });
      summary = { ...base, status: dryRun ? 'dry_run' : 'completed', recordsRead: result.recordsRead, recordsWritten: result.recordsWritten, recordsRemoved: result.recordsRemoved, durationMs: this.nowMs() - startedMs, error: null };
    } catch (error) {
      // A busy partition or a failed flush is the moment's, not the window's: the scheduler's next pass runs the window again.
      if (trigger !== 'manual' && (flushFailed || (error instanceof ArcError && error.code === CqErrorCode.windowBusy))) throw error;
      const message = error instanceof Error ? error.message : String(error);
      summary = { ...base, status: 'failed', recordsRead: null, recordsWritten: null, recordsRemoved: null, durationMs: this.nowMs() - startedMs, error: message };
      this.options.log('warn', `continuous query '${cq.name}' window ${base.startTime}..${base.endTime} failed: ${message}`);
    }
    // A failed window in order is passed over (recorded; an execute of its range runs it again): one bad window must not stop the query.
    this.store.recordExecution({ cqId: cq.id, ...summary }, dryRun ? null : processedRunMs, inOrder && !dryRun);
    return summary;
  }

  // ---- The scheduler ----

  /** One pass of the scheduler (the timer's; tests call it): late windows first, then the windows due, query by query. */
  async pass(): Promise<void> {
    if (this.closed || !this.enabled) return;
    if (this.passing !== null) {
      await this.passing;
      return;
    }
    this.passing = this.runPass().finally(() => {
      this.passing = null;
    });
    await this.passing;
  }

  private async runPass(): Promise<void> {
    try {
      await this.runLateWindows();
      for (const cq of this.store.list()) {
        if (this.closed) return;
        if (!cq.isActive) continue;
        const { windows, lastRunMs } = this.dueWindows(cq, CQ_WINDOWS_PER_PASS_MAX);
        const executionId = executionIdOf('cq-sched');
        for (const [index, window] of windows.entries()) await this.runWindow(cq, window, 'schedule', false, executionId, index === windows.length - 1 ? lastRunMs : null, true);
        await this.applyRetention(cq.id).catch((error: unknown) => {
          // A removal that failed is logged and tried again in CQ_RETENTION_EVERY_MS; the other queries' runs go on.
          this.options.log('warn', `continuous query '${cq.name}': removing expired rows failed: ${error instanceof Error ? error.message : String(error)}`);
        });
      }
    } catch (error) {
      // A busy partition (another job's lease) or a stop: the next pass tries again.
      this.options.log('debug', `continuous queries: pass ended early: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /**
   * A query's retention_days and delete_source_after_days, at most every CQ_RETENTION_EVERY_MS:
   * the destination's rows older than retention_days go, and the source's rows older than
   * delete_source_after_days that no later run needs (sourceCutoffMs) and that the query rolled
   * up (at or after rolledUpFromTime: rows before its first window, never rolled up, stay until
   * an execute of their range does), through the rewrites a retention policy's run makes (so
   * the file sets and the query cache follow). Logged.
   */
  private async applyRetention(id: number): Promise<void> {
    const cq = this.store.get(id);
    if (cq.retentionDays === null && cq.deleteSourceAfterDays === null) return;
    const nowMs = this.nowMs();
    if (nowMs - (this.retainedAtMs.get(cq.id) ?? Number.NEGATIVE_INFINITY) < CQ_RETENTION_EVERY_MS) return;
    this.retainedAtMs.set(cq.id, nowMs);
    const options = { nowMs, dryRun: false };
    if (cq.retentionDays !== null) {
      const policy = { name: cq.name, database: cq.destinationDatabaseName, measurement: cq.destinationMeasurement, retentionDays: cq.retentionDays, bufferDays: 0, isActive: true };
      this.logRemoval(cq, 'destination', await runRetention(policy, this.options.storage, this.options.windows, options));
    }
    if (cq.deleteSourceAfterDays !== null && cq.rolledUpFromTime !== null) {
      const fromMs = Date.parse(cq.rolledUpFromTime);
      const cutoffMs = sourceCutoffMs(cq.schedule, this.processedRunMs(cq), nowMs, cq.deleteSourceAfterDays, this.options.config.latenessSeconds * 1000);
      if (fromMs >= cutoffMs) return;
      const scope = { database: cq.database, measurement: cq.sourceMeasurement };
      this.logRemoval(cq, 'source', await removeRowsInRange(scope, { fromUs: fromMs * 1000, toUs: cutoffMs * 1000 }, this.options.storage, this.options.windows, options), cq.rolledUpFromTime);
    }
  }

  private logRemoval(cq: ContinuousQuery, side: 'source' | 'destination', result: RetentionRunResult, fromTime: string | null = null): void {
    if (result.filesDropped + result.filesRewritten === 0) return;
    const failed = result.jobsFailed === 0 ? '' : `; ${String(result.jobsFailed)} jobs failed (next time again): ${result.jobError ?? ''}`;
    this.options.log(result.jobsFailed === 0 ? 'info' : 'warn', `continuous query '${cq.name}': ${side} rows ${fromTime === null ? '' : `from ${fromTime} `}before ${result.cutoff} removed: ${String(result.rowsRemoved ?? 'unknown')} rows, ${String(result.filesDropped)} files dropped, ${String(result.filesRewritten)} rewritten${failed}`);
  }

  private async runLateWindows(): Promise<void> {
    for (const [key, late] of [...this.lateWindows]) {
      this.lateWindows.delete(key);
      let cq: ContinuousQuery;
      try {
        cq = this.store.get(late.id);
      } catch {
        continue; // Deleted meanwhile.
      }
      if (!cq.isActive) continue;
      try {
        await this.runWindow(cq, late.window, 'late', false, executionIdOf('cq-sched'), null, false);
      } catch (error) {
        this.lateWindows.set(key, late);
        throw error;
      }
    }
  }

  /**
   * Files published with rows of windows already run (a writer's flush after the window ran):
   * those windows run again if they ended within the lateness. A replacement (compaction, a
   * rewrite, a window's own output) adds files too, but drops others in the same step: not new rows.
   */
  private noteLateRows(event: CatalogEvent): void {
    if (event.kind !== 'delta' || event.delta.changes.some((change) => change.kind !== 'add')) return;
    const oldestEndMs = this.nowMs() - this.options.config.latenessSeconds * 1000;
    const files = event.delta.changes.flatMap((change) => (change.kind === 'add' ? change.files : []));
    this.watchedSources ??= new Set(this.store.list().flatMap((cq) => (cq.isActive ? [`${cq.database}/${cq.sourceMeasurement}`] : [])));
    const watched = this.watchedSources;
    if (!files.some((file) => watched.has(`${file.database}/${file.measurement}`))) return;
    for (const cq of this.store.list()) {
      if (!cq.isActive) continue;
      const processedRunMs = this.processedRunMs(cq);
      for (const file of files) {
        if (file.database !== cq.database || file.measurement !== cq.sourceMeasurement) continue;
        const toMs = Math.min(Math.floor(file.maxTimeUs / 1000) + 1, processedRunMs);
        for (const window of windowsCovering(cq.schedule, Math.floor(file.minTimeUs / 1000), toMs)) {
          if (window.endMs > oldestEndMs) this.lateWindows.set(`${String(cq.id)}/${String(window.startMs)}`, { id: cq.id, window });
        }
      }
    }
  }

  /** Stops the scheduler; a window running ends first. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.passing;
    this.store.close();
  }
}
