import { validateDatabaseName } from '@arc/columnar';
import { CronSchedule, validateCron } from '@arc/compaction';
import { ArcError, ErrorKind } from '@arc/errors';
import { driverFor } from './drivers.js';
import { ImporterErrorCode } from './error-codes.js';
import { JobRunStopped, runExecution, type ImportSink, type OpenSource } from './job-runner.js';
import { jobNotFound, type Execution, type ExecutionTrigger, type Job, type JobSpec, type JobStore } from './job-store.js';
import { JOB_CHUNK_ROWS_MAX, JOB_MONITORING_RECENT } from './limits.js';
import { isSourceType, type SourceConnection, type SourceDriver, type SourceType } from './source.js';
import { SourceThread } from './source-thread.js';

/**
 * The import jobs of one server: their definitions and history (job-store.ts), the executions
 * running (one per job at most, job-runner.ts), the schedules (cron), and what a start and a stop
 * do: executions a stop or a crash left behind are resumed at the next start from their checkpoint.
 */

/** A stored connection as jobs need it: what the driver gets, and its id and name for messages. */
export interface ImportConnection extends SourceConnection {
  readonly id: number;
  readonly name: string;
}

/** What the jobs need of the connection store (connection-store.ts): a connection by id, and the active one of a type. */
export interface ConnectionLookup {
  get(id: number): ImportConnection | null;
  /** The connection `arc import` and jobs without connection_id use for this type; null when none is active. */
  active(type: SourceType): ImportConnection | null;
}

/** A job as a client gives it (types checked by the route); everything else is checked here. */
export interface JobInput {
  readonly name: string;
  readonly connection_id?: number | null | undefined;
  readonly type: string;
  readonly source: Readonly<Record<string, unknown>>;
  readonly database: string;
  readonly range?: { readonly start?: string | number | null | undefined; readonly end?: string | number | null | undefined; readonly since_last_run?: boolean | undefined } | undefined;
  readonly schedule?: string | null | undefined;
  readonly enabled?: boolean | undefined;
  readonly chunk_rows?: number | null | undefined;
}

export type LogLevel = 'info' | 'warn' | 'error';

export interface ImportJobsOptions {
  readonly store: JobStore;
  readonly sink: ImportSink;
  readonly connections: ConnectionLookup;
  readonly log: (level: LogLevel, message: string) => void;
  /** How a run reads its source; a source thread per run unless a test says otherwise. */
  readonly openSource?: OpenSource;
  /** Which driver checks a job's source: the driver table (drivers.ts) unless a test gives its own. */
  readonly driverFor?: (type: SourceType) => SourceDriver;
}

interface RunningJob {
  readonly execution: Execution;
  readonly abort: AbortController;
  readonly done: Promise<Execution>;
}

export interface ScheduledJob {
  readonly jobId: number;
  readonly name: string;
  readonly schedule: string;
  readonly nextRun: Date | null;
}

function badJob(field: string, message: string): ArcError {
  return new ArcError(ErrorKind.badRequest, ImporterErrorCode.badJob, `${field}: ${message}`, { field });
}

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** An instant given as RFC 3339 (to the ns) or as integer ns since the epoch (number or digits); throws 400 naming `field`. */
export function instantNs(value: string | number, field: string): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw badJob(field, `${String(value)} is not a whole number of ns (give larger ones as a string of digits)`);
    return BigInt(value);
  }
  if (/^-?\d{1,19}$/.test(value)) return BigInt(value);
  const match = RFC3339.exec(value);
  const ms = match === null ? Number.NaN : Date.parse(`${match[1] ?? ''}${match[3] ?? ''}`);
  if (match === null || Number.isNaN(ms)) throw badJob(field, `'${value}' is not an RFC 3339 time (2026-01-01T00:00:00Z) or ns since the epoch`);
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** An instant in ns as RFC 3339 with as many fraction digits as it needs. */
export function rfc3339Of(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const fraction = ns - ms * 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const digits = ((ms % 1000n + 1000n) % 1000n * 1_000_000n + fraction).toString().padStart(9, '0').replace(/0+$/, '');
  return `${base}${digits === '' ? '' : `.${digits}`}Z`;
}

export class ImportJobs {
  private readonly store: JobStore;
  private readonly sink: ImportSink;
  private readonly connections: ConnectionLookup;
  private readonly log: (level: LogLevel, message: string) => void;
  private readonly openSource: OpenSource;
  private readonly driverFor: (type: SourceType) => SourceDriver;
  private readonly running = new Map<number, RunningJob>();
  private readonly schedules = new Map<number, CronSchedule>();
  private stopping = false;

  constructor(options: ImportJobsOptions) {
    this.store = options.store;
    this.sink = options.sink;
    this.connections = options.connections;
    this.log = options.log;
    this.openSource = options.openSource ?? ((connection, source, cursor, readOptions) => SourceThread.open(connection, source, cursor, readOptions));
    this.driverFor = options.driverFor ?? driverFor;
  }

  /** At the server's start (after WAL replay): resumes what a stop or crash left, then starts the schedules. */
  start(): void {
    const interrupted = this.store.interruptRunning();
    if (interrupted.length > 0) this.log('warn', `import jobs: ${String(interrupted.length)} execution(s) were running when the server last stopped; resuming`);
    for (const job of this.store.list()) {
      const last = this.store.lastExecution(job.id);
      if (last?.status === 'interrupted') this.tryRun(job, 'resume', last);
      this.schedule(job);
    }
  }

  /** At the server's stop, before the pipeline stops: no new runs; each running one settles its chunk in flight and is left to resume. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const schedule of this.schedules.values()) schedule.stop();
    this.schedules.clear();
    const runs = [...this.running.values()];
    for (const run of runs) run.abort.abort(new JobRunStopped('interrupted'));
    await Promise.allSettled(runs.map((run) => run.done));
  }

  list(): Job[] {
    return this.store.list();
  }

  get(id: number): Job {
    const job = this.store.get(id);
    if (job === null) throw jobNotFound(id);
    return job;
  }

  /** The running execution while the job runs (a newer skipped one aside), else its newest. */
  lastExecution(jobId: number): Execution | null {
    const running = this.running.get(jobId);
    return running === undefined ? this.store.lastExecution(jobId) : this.store.execution(running.execution.id);
  }

  create(input: JobInput): Job {
    const job = this.store.create(this.specOf(input));
    this.schedule(job);
    return job;
  }

  /** Every field replaced; 409 while the job runs (its run reads the definition it started with). */
  update(id: number, input: JobInput): Job {
    this.get(id);
    this.refuseRunning(id);
    const job = this.store.update(id, this.specOf(input));
    this.schedule(job);
    return job;
  }

  delete(id: number): void {
    this.get(id);
    this.refuseRunning(id);
    this.schedules.get(id)?.stop();
    this.schedules.delete(id);
    this.store.delete(id);
  }

  /** The jobs reading through this connection, by name (the connection store refuses deleting it while any does). */
  jobsUsing(connectionId: number): string[] {
    return this.store.jobsUsing(connectionId);
  }

  executions(jobId: number, limit: number): Execution[] {
    this.get(jobId);
    return this.store.executions(jobId, limit);
  }

  /**
   * Starts an execution now (202: it runs in the background). `resume` continues the job's last
   * execution from its checkpoint (it was cancelled, interrupted or failed); else the job's range.
   */
  run(id: number, resume: boolean): Execution {
    const job = this.get(id);
    this.refuseRunning(id);
    if (this.stopping) throw new ArcError(ErrorKind.unavailable, ImporterErrorCode.cancelled, 'the server is stopping; run the job after it starts again');
    if (!resume) return this.begin(job, 'manual', null);
    const last = this.store.lastExecution(id);
    if (last === null || last.status === 'succeeded' || last.status === 'skipped') {
      throw new ArcError(ErrorKind.conflict, ImporterErrorCode.nothingToResume, `import job ${String(id)} has nothing to resume: its last execution ${last === null ? 'does not exist' : last.status}`, { job_id: id });
    }
    return this.begin(job, 'resume', last);
  }

  /** Cancels the running execution; resolves with it once its chunk in flight settled (checkpoint kept). */
  async cancel(id: number): Promise<Execution> {
    this.get(id);
    const run = this.running.get(id);
    if (run === undefined) throw new ArcError(ErrorKind.conflict, ImporterErrorCode.jobNotRunning, `import job ${String(id)} is not running`, { job_id: id });
    run.abort.abort(new JobRunStopped('cancelled'));
    return run.done;
  }

  /** What `GET /monitoring/jobs` answers. */
  monitoring(): { running: { execution: Execution; job: Job }[]; recent: Execution[]; scheduled: ScheduledJob[] } {
    const running = [...this.running.entries()].flatMap(([jobId, run]) => {
      const job = this.store.get(jobId);
      const execution = this.store.execution(run.execution.id);
      return job === null || execution === null ? [] : [{ job, execution }];
    });
    const scheduled = [...this.schedules.entries()].flatMap(([jobId, schedule]) => {
      const job = this.store.get(jobId);
      return job === null ? [] : [{ jobId, name: job.name, schedule: schedule.expression, nextRun: schedule.nextRun() }];
    });
    return { running, recent: this.store.recent(JOB_MONITORING_RECENT), scheduled };
  }

  /** Resolves when the job's running execution (if any) ends: for tests and the stop. */
  async settled(jobId: number): Promise<Execution | null> {
    const run = this.running.get(jobId);
    return run === undefined ? null : run.done;
  }

  private refuseRunning(id: number): void {
    const run = this.running.get(id);
    if (run !== undefined) throw new ArcError(ErrorKind.conflict, ImporterErrorCode.jobRunning, `import job ${String(id)} is running (execution ${String(run.execution.id)})`, { job_id: id, execution_id: run.execution.id });
  }

  private schedule(job: Job): void {
    this.schedules.get(job.id)?.stop();
    this.schedules.delete(job.id);
    if (this.stopping || job.schedule === null || !job.enabled) return;
    const schedule = new CronSchedule(job.schedule);
    schedule.start(() => this.scheduledRun(job.id));
    this.schedules.set(job.id, schedule);
  }

  /** A run of the schedule; one while the job runs is skipped and recorded as such. */
  private scheduledRun(id: number): void {
    const job = this.store.get(id);
    if (job === null || this.stopping) return;
    const run = this.running.get(id);
    if (run !== undefined) {
      this.store.recordSkipped(id, 'schedule', { code: ImporterErrorCode.jobRunning, message: `skipped: execution ${String(run.execution.id)} was still running` });
      return;
    }
    this.tryRun(job, 'schedule', null);
  }

  /** A run nobody waits for (schedule, resume at start): a failure to start is logged. */
  private tryRun(job: Job, trigger: ExecutionTrigger, resumes: Execution | null): void {
    try {
      this.begin(job, trigger, resumes);
    } catch (error) {
      this.log('error', `import job '${job.name}': the ${trigger} run did not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private begin(job: Job, trigger: ExecutionTrigger, resumes: Execution | null): Execution {
    const connection = this.connectionOf(job);
    const range = resumes === null ? this.rangeOf(job) : { startNs: resumes.rangeStartNs, endNs: resumes.rangeEndNs };
    const execution = this.store.start({ jobId: job.id, trigger, rangeStartNs: range.startNs, rangeEndNs: range.endNs, resumes });
    const abort = new AbortController();
    const done = runExecution({ store: this.store, sink: this.sink, openSource: this.openSource, log: (message) => this.log('info', message) }, job, execution, connection, abort.signal)
      .catch((error: unknown) => this.store.finish(execution.id, 'failed', { code: ImporterErrorCode.sourceFailed, message: error instanceof Error ? error.message : String(error) }))
      .then((ended) => {
        this.running.delete(job.id);
        if (ended.status === 'failed') this.log('warn', `import job '${job.name}' execution ${String(ended.id)} failed: ${ended.error?.code ?? ''} ${ended.error?.message ?? ''}`);
        return ended;
      });
    this.running.set(job.id, { execution, abort, done });
    return execution;
  }

  /** Where a new (not resumed) run reads: the job's range, or from just after the newest row of the last run that wrote rows. */
  private rangeOf(job: Job): { startNs: bigint | null; endNs: bigint | null } {
    if (!job.sinceLastRun) return { startNs: job.rangeStartNs, endNs: job.rangeEndNs };
    const newest = this.store.lastSucceededWithRows(job.id)?.maxTimeNs ?? null;
    // The rows at the newest instant were written by that run: reading from the next ns never
    // writes them twice (a row the source gains later at exactly that instant is not read).
    const after = newest === null ? null : newest + 1n;
    const startNs = after === null ? job.rangeStartNs : job.rangeStartNs === null || after > job.rangeStartNs ? after : job.rangeStartNs;
    return { startNs, endNs: job.rangeEndNs };
  }

  private connectionOf(job: Job): ImportConnection {
    const connection = job.connectionId === null ? this.connections.active(job.type) : this.connections.get(job.connectionId);
    if (connection === null) {
      throw new ArcError(
        ErrorKind.badRequest,
        ImporterErrorCode.connectionNotFound,
        job.connectionId === null ? `no ${job.type} connection is active: give connection_id or activate one` : `connection_id ${String(job.connectionId)}: no ${job.type} connection has that id (see GET /connections/{type})`,
        { field: 'connection_id' },
      );
    }
    if (connection.type !== job.type) throw badJob('connection_id', `connection ${String(connection.id)} ('${connection.name}') is a ${connection.type} connection, the job reads ${job.type}`);
    return connection;
  }

  private specOf(input: JobInput): JobSpec {
    const name = input.name.trim();
    if (name === '') throw badJob('name', 'must not be empty');
    if (!isSourceType(input.type)) throw badJob('type', `'${input.type}' is not a source type (influx1, influx2, postgres, http-json)`);
    const databaseError = validateDatabaseName(input.database);
    if (databaseError !== null) throw new ArcError(databaseError.kind, databaseError.code, `database: ${databaseError.message}`, { ...databaseError.details, field: 'database' });
    const rangeStartNs = input.range?.start === undefined || input.range.start === null ? null : instantNs(input.range.start, 'range.start');
    const rangeEndNs = input.range?.end === undefined || input.range.end === null ? null : instantNs(input.range.end, 'range.end');
    if (rangeStartNs !== null && rangeEndNs !== null && rangeStartNs >= rangeEndNs) throw badJob('range.end', 'must be after range.start');
    const schedule = input.schedule ?? null;
    const scheduleError = schedule === null ? null : validateCron(schedule);
    if (scheduleError !== null) throw badJob('schedule', scheduleError);
    const chunkRows = input.chunk_rows ?? null;
    if (chunkRows !== null && (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > JOB_CHUNK_ROWS_MAX)) throw badJob('chunk_rows', `must be a whole number from 1 to ${String(JOB_CHUNK_ROWS_MAX)}`);
    // A type without a driver in this build is refused here (drivers.ts), naming the type.
    const source = this.checkedSource(this.driverOf(input.type), input.source);
    const spec: JobSpec = { name, connectionId: input.connection_id ?? null, type: input.type, source, database: input.database, rangeStartNs, rangeEndNs, sinceLastRun: input.range?.since_last_run ?? false, schedule, enabled: input.enabled ?? true, chunkRows };
    this.connectionOf({ ...spec, id: 0, createdAt: '', updatedAt: '' });
    return spec;
  }

  private driverOf(type: SourceType): SourceDriver {
    try {
      return this.driverFor(type);
    } catch (error) {
      if (!(error instanceof ArcError)) throw error;
      throw new ArcError(error.kind, error.code, `type: ${error.message}`, { ...error.details, field: 'type' });
    }
  }

  private checkedSource(driver: SourceDriver, source: Readonly<Record<string, unknown>>): Record<string, unknown> {
    try {
      return driver.checkJobSource(source);
    } catch (error) {
      if (!(error instanceof ArcError)) throw error;
      const field = typeof error.details?.field === 'string' ? `source.${error.details.field}` : 'source';
      throw new ArcError(error.kind, error.code, `${field}: ${error.message}`, { ...error.details, field });
    }
  }
}
