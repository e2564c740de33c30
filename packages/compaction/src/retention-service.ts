import type { RetentionConfig } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import type { Storage } from '@arc/storage';
import type { CompactionLog } from './compactor.js';
import { CompactionErrorCode } from './error-codes.js';
import { parseRetentionPolicy, type RetentionPolicy } from './retention-policy.js';
import { runRetention, type RetentionProgress, type RetentionRewriter, type RetentionRunResult } from './retention-run.js';
import { RetentionStore, type RetentionExecution } from './retention-store.js';
import { CronSchedule } from './schedule.js';

export interface RetentionServiceOptions {
  readonly storage: Storage;
  /** The Compactor: rewrites through its queue, leases and replace manifests; counts for dry runs. */
  readonly rewriter: RetentionRewriter;
  readonly config: RetentionConfig;
  /** `<data_dir>/retention.db`. */
  readonly storePath: string;
  readonly log: CompactionLog;
  readonly nowMs?: () => number;
  /**
   * Makes the policy's rows still buffered in the writers durable files before a run (the
   * measurement's flush, or every buffer for a policy of a whole database); null when done, else
   * why not. So a run removes expired rows that were only buffered too, and a dry run counts
   * them. Absent: nothing is buffered.
   */
  readonly flushScope?: (database: string, measurement: string | null) => Promise<ArcError | null>;
}

/** A policy with its newest run that was not dry (Arc Go's last_execution_* fields). */
export interface RetentionPolicyState extends RetentionPolicy {
  readonly lastRun: RetentionExecution | null;
  /** The run going on now (or waiting for the one before it), null when none. */
  readonly running: RetentionRunning | null;
}

export interface RetentionRunning extends RetentionProgress {
  readonly dryRun: boolean;
  readonly startedAt: string;
}

/** One run's record in the history and what it did (a dry run's file list included). */
export interface RetentionExecuted {
  readonly execution: RetentionExecution;
  readonly result: RetentionRunResult;
}

/**
 * Retention as the server runs it: the policies (retention.db), their runs on demand and on the
 * `[retention] schedule`, each recorded in the executions history, dry runs too. Runs go one at
 * a time, in the order asked: two runs of overlapping policies would otherwise plan from the same
 * catalog and the second would find its files replaced by the first (a failed job).
 */
export class RetentionService {
  readonly #options: RetentionServiceOptions;
  readonly #store: RetentionStore;
  readonly #nowMs: () => number;
  #schedule: CronSchedule | null = null;
  /** The end of the last run asked for: the next one starts after it. */
  #tail: Promise<unknown> = Promise.resolve();
  readonly #running = new Map<number, RetentionRunning>();
  #closed = false;

  private constructor(options: RetentionServiceOptions, store: RetentionStore) {
    this.#options = options;
    this.#store = store;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Opens the store and, with `enabled`, starts the schedule. Throws ARC_COMPACTION_BAD_SCHEDULE
   * (naming retention.schedule) for a bad cron expression, ARC_RETENTION_STORE_VERSION for a newer store.
   */
  static open(options: RetentionServiceOptions): RetentionService {
    const schedule = new CronSchedule(options.config.schedule, 'retention.schedule');
    const service = new RetentionService(options, RetentionStore.open(options.storePath));
    if (options.config.enabled) {
      schedule.start(() => void service.runScheduled());
      service.#schedule = schedule;
    }
    return service;
  }

  list(): RetentionPolicyState[] {
    return this.#store.list().map((policy) => this.#stateOf(policy));
  }

  get(id: number): RetentionPolicyState {
    return this.#stateOf(this.#store.get(id));
  }

  /** From a request body (parseRetentionPolicy: 400 naming the bad field); 409 for a taken name. */
  create(body: unknown): RetentionPolicyState {
    return this.#stateOf(this.#store.create(parseRetentionPolicy(body), this.#nowMs()));
  }

  update(id: number, body: unknown): RetentionPolicyState {
    const spec = parseRetentionPolicy(body);
    return this.#stateOf(this.#store.update(id, spec, this.#nowMs()));
  }

  /** Deletes the policy and its history; a run of it in flight ends (its record is dropped with it). */
  delete(id: number): void {
    this.#store.delete(id);
  }

  executions(id: number, limit: number): RetentionExecution[] {
    return this.#store.executions(id, limit);
  }

  /** Runs policy `id` now (after any run in flight), recorded; 404 when it does not exist. */
  async execute(id: number, dryRun: boolean): Promise<RetentionExecuted> {
    this.#store.get(id);
    const run = this.#tail.then(() => this.#run(id, dryRun));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Every active policy, one after another (the schedule's run); failures are logged and recorded, never thrown. */
  async runScheduled(): Promise<void> {
    for (const policy of this.#store.list().filter((candidate) => candidate.isActive)) {
      if (this.#closed) return;
      try {
        const { execution } = await this.execute(policy.id, false);
        this.#options.log('info', `retention: policy '${policy.name}' removed ${String(execution.rowsRemoved ?? '?')} rows (${String(execution.filesDropped)} files dropped, ${String(execution.filesRewritten)} rewritten)`);
      } catch (error) {
        this.#options.log('error', `retention: policy '${policy.name}' failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }

  async #run(id: number, dryRun: boolean): Promise<RetentionExecuted> {
    if (this.#closed) throw new ArcError(ErrorKind.unavailable, CompactionErrorCode.jobFailed, 'retention stopped: the server is stopping');
    const policy = this.#store.get(id);
    const startedAt = new Date(this.#nowMs()).toISOString();
    this.#running.set(id, { dryRun, startedAt, measurementsDone: 0, measurementsTotal: 0, filesDone: 0 });
    try {
      const flushError = (await this.#options.flushScope?.(policy.database, policy.measurement)) ?? null;
      if (flushError !== null) throw flushError;
      const result = await runRetention(policy, this.#options.storage, this.#options.rewriter, {
        nowMs: this.#nowMs(),
        dryRun,
        onProgress: (progress) => this.#running.set(id, { dryRun, startedAt, ...progress }),
      });
      const failed = result.jobsFailed > 0 ? `${String(result.jobsFailed)} rewrite jobs failed (the next run takes their files again): ${result.jobError ?? ''}` : null;
      const execution = this.#store.recordExecution({
        policyId: id,
        dryRun,
        state: failed === null ? 'succeeded' : 'failed',
        cutoff: result.cutoff,
        measurements: result.measurements,
        filesDropped: result.filesDropped,
        filesRewritten: result.filesRewritten,
        rowsRemoved: result.rowsRemoved,
        bytesRemoved: result.bytesRemoved,
        jobsFailed: result.jobsFailed,
        startedAt,
        finishedAt: new Date(this.#nowMs()).toISOString(),
        error: failed,
      });
      return { execution, result };
    } catch (error) {
      this.#recordFailure(id, dryRun, startedAt, error);
      throw error;
    } finally {
      this.#running.delete(id);
    }
  }

  /** A run that threw (storage down, a refused predicate): recorded failed, unless the policy went meanwhile. */
  #recordFailure(id: number, dryRun: boolean, startedAt: string, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    try {
      this.#store.recordExecution({ policyId: id, dryRun, state: 'failed', cutoff: null, measurements: 0, filesDropped: 0, filesRewritten: 0, rowsRemoved: null, bytesRemoved: 0, jobsFailed: 0, startedAt, finishedAt: new Date(this.#nowMs()).toISOString(), error: message });
    } catch {
      // The policy was deleted during its run: there is no history to record into.
    }
  }

  #stateOf(policy: RetentionPolicy): RetentionPolicyState {
    return { ...policy, lastRun: this.#store.lastRun(policy.id), running: this.#running.get(policy.id) ?? null };
  }

  /** Stops the schedule, waits for the run in flight (the compactor's close ends its jobs first), closes the store. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#schedule?.stop();
    await this.#tail;
    this.#store.close();
  }
}
