import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import { ArcError, ErrorKind, badRequest, workerExecArgv } from '@arc/config';
import { validateDatabaseName } from '@arc/columnar';
import { ControlBlock } from './control-block.js';
import { QueryErrorCode, abortedError, timeoutError } from './errors.js';
import { ANSWER_FORMATS, CONTENT_TYPE_BY_FORMAT, isAnswerFormat } from './answer-format.js';
import type { AnswerFormat } from './answer-format.js';
import { POOL_CLOSE_TIMEOUT_MS, QUERY_ROW_LIMIT_MAX, SQL_BYTES_MAX } from './limits.js';
import type { QueryTask, TaskResult, WorkerConfig, WorkerTask } from './task-messages.js';
import type { MeasurementRef } from './query-plan.js';

export interface QueryPoolOptions {
  /** Arc's data directory (`<dataRoot>/<database>/<measurement>/YYYY/MM/DD/HH/*.parquet`). */
  dataRoot: string;
  /** Worker threads, each with its own DuckDB instance. */
  threads: number;
  /** DuckDB threads per instance. */
  duckdbThreads: number;
  /** DuckDB memory limit per instance, in DuckDB's size syntax ('1GB'). */
  memoryLimit: string;
  /** Where DuckDB spills; user SQL may read it too, so keep it Arc's own. */
  tempDirectory: string;
  /** Queries waiting for a worker beyond the running ones; more are refused. */
  queueSizeMax: number;
  timeoutMs: number;
}

export interface QueryRequest {
  sql: string;
  /** Default database for unqualified table names. */
  database: string;
  format: AnswerFormat;
  /** Rows answered at most; reading stops there (the SQL is not rewritten). */
  limit?: number;
  /** Databases the caller may read (a token's list); absent or null: every database. */
  readableDatabases?: readonly string[] | null;
}

export interface QueryAnswer {
  body: Uint8Array;
  contentType: string;
  rowCount: number;
  /** The measurements the query read. */
  reads: readonly MeasurementRef[];
}

/**
 * The worker's compiled file. From src/ (vitest) and from dist/ alike, `../dist/` is the
 * package's build output, so tests need `npx tsc -b packages/query` first.
 */
const WORKER_FILE = new URL('../dist/query-worker.js', import.meta.url);

/** DuckDB glob metacharacters: a data root containing one would widen every view's glob. */
const GLOB_CHARACTERS = ['*', '?', '[', ']', '{', '}'] as const;

function queueFullError(): ArcError {
  return new ArcError(ErrorKind.unavailable, QueryErrorCode.queueFull, 'Too many queries in flight; retry later');
}

function checkOptions(options: QueryPoolOptions): void {
  assert.ok(Number.isInteger(options.threads), 'threads must be an integer');
  assert.ok(options.threads > 0, 'threads must be positive');
  assert.ok(Number.isInteger(options.duckdbThreads), 'duckdbThreads must be an integer');
  assert.ok(options.duckdbThreads > 0, 'duckdbThreads must be positive');
  assert.ok(Number.isInteger(options.queueSizeMax), 'queueSizeMax must be an integer');
  assert.ok(options.queueSizeMax >= 0, 'queueSizeMax must not be negative');
  assert.ok(options.timeoutMs > 0, 'timeoutMs must be positive');
  for (const character of GLOB_CHARACTERS) assert.ok(!options.dataRoot.includes(character), 'dataRoot must not contain glob characters');
}

function checkRequest(request: QueryRequest): void {
  // Callers parsing HTTP bodies may pass any string despite the type.
  if (!isAnswerFormat(request.format)) {
    throw badRequest(QueryErrorCode.badFormat, `Unsupported answer format '${String(request.format)}'; supported: ${ANSWER_FORMATS.join(', ')}`, {
      format: String(request.format),
    });
  }
  const limit = request.limit;
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= QUERY_ROW_LIMIT_MAX)) {
    throw badRequest(QueryErrorCode.badLimit, `"limit" must be an integer from 1 to ${String(QUERY_ROW_LIMIT_MAX)}, got ${String(limit)}`, {
      limit_max: QUERY_ROW_LIMIT_MAX,
    });
  }
  const badName = validateDatabaseName(request.database);
  if (badName !== null) throw badName;
  if (Buffer.byteLength(request.sql) > SQL_BYTES_MAX) {
    throw badRequest(QueryErrorCode.sqlTooLarge, `SQL longer than ${String(SQL_BYTES_MAX)} bytes`, { bytes_max: SQL_BYTES_MAX });
  }
}

/** Maps a piscina rejection (queue at its limit, a worker that died) to an ArcError. */
function poolError(error: unknown): ArcError {
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes('Task queue is at limit')) return queueFullError();
  return new ArcError(ErrorKind.internal, QueryErrorCode.engine, `Query worker failed: ${message}`);
}

/**
 * Runs read-only SQL on a pool of worker threads, each owning one locked-down DuckDB instance
 * with a view per measurement. Await `ready()` before serving so a bad DuckDB setting fails the
 * start instead of the first query.
 */
export class QueryPool {
  readonly #piscina: Piscina<WorkerTask, TaskResult>;
  readonly #control: ControlBlock;
  readonly #freeSlots: number[];
  readonly #threads: number;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: QueryPoolOptions) {
    checkOptions(options);
    this.#threads = options.threads;
    this.#timeoutMs = options.timeoutMs;
    // One slot per query in flight: running on a worker or waiting in the queue.
    this.#control = ControlBlock.create(options.threads + options.queueSizeMax);
    this.#freeSlots = Array.from({ length: this.#control.slotCount }, (_, slot) => this.#control.slotCount - 1 - slot);
    this.#piscina = new Piscina<WorkerTask, TaskResult>({
      filename: WORKER_FILE.href,
      minThreads: options.threads,
      maxThreads: options.threads,
      // The slots above bound the queue; piscina's own limit is a second fence, never reached.
      maxQueue: options.queueSizeMax + options.threads,
      concurrentTasksPerWorker: 1,
      // Workers keep a live event loop between tasks (interrupt polling, late DuckDB callbacks).
      atomics: 'disabled',
      closeTimeout: POOL_CLOSE_TIMEOUT_MS,
      execArgv: workerExecArgv(process.execArgv),
      workerData: workerConfig(options, this.#control),
    });
    // A worker that dies outside a task must not become an uncaught 'error' event.
    this.#piscina.on('error', () => undefined);
  }

  /** Resolves once every worker has opened and locked down its DuckDB instance; rejects with its error. */
  async ready(): Promise<void> {
    // The least-busy balancer hands simultaneous tasks to distinct idle workers.
    const pings = Array.from({ length: this.#threads }, () => this.#piscina.run({ kind: 'ping' }));
    for (const result of await Promise.all(pings)) {
      if (!result.ok) throw ArcError.fromShape(result.error);
    }
  }

  /** Tells workers the set of files/measurements changed: they rescan before their next query. */
  invalidateCatalog(): void {
    this.#control.bumpGeneration();
  }

  run(request: QueryRequest, signal?: AbortSignal): Promise<QueryAnswer> {
    if (this.#closed) return Promise.reject(new ArcError(ErrorKind.unavailable, QueryErrorCode.poolClosed, 'The query pool is closed'));
    try {
      checkRequest(request);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (signal?.aborted === true) return Promise.reject(abortedError());
    const slot = this.#freeSlots.pop();
    if (slot === undefined) return Promise.reject(queueFullError());
    this.#control.arm(slot);
    const task: QueryTask = {
      kind: 'query',
      sql: request.sql,
      database: request.database,
      slot,
      format: request.format,
      rowLimit: request.limit ?? Number.POSITIVE_INFINITY,
      readableDatabases: request.readableDatabases ?? null,
    };
    return this.#dispatch(task, signal);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#piscina.close();
  }

  /**
   * Sends the task and settles the caller's promise exactly once: with the worker's answer, or
   * earlier with a timeout / abort, in which case the worker is told through the slot and the
   * slot stays taken until the worker hands the task back.
   */
  #dispatch(task: QueryTask, signal: AbortSignal | undefined): Promise<QueryAnswer> {
    return new Promise<QueryAnswer>((resolvePromise, rejectPromise) => {
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        action();
      };
      const cancel = (error: ArcError): void => {
        this.#control.cancel(task.slot);
        settle(() => rejectPromise(error));
      };
      const onAbort = (): void => cancel(abortedError());
      const timer = setTimeout(() => cancel(timeoutError(this.#timeoutMs)), this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#piscina.run(task).then(
        (result) => {
          this.#freeSlots.push(task.slot);
          settle(() => (result.ok ? resolvePromise(toAnswer(result, task.format)) : rejectPromise(ArcError.fromShape(result.error))));
        },
        (error: unknown) => {
          this.#freeSlots.push(task.slot);
          settle(() => rejectPromise(poolError(error)));
        },
      );
    });
  }
}

function toAnswer(result: TaskResult & { ok: true }, format: AnswerFormat): QueryAnswer {
  return { body: result.body, contentType: CONTENT_TYPE_BY_FORMAT[format], rowCount: result.rowCount, reads: result.reads };
}

function workerConfig(options: QueryPoolOptions, control: ControlBlock): WorkerConfig {
  // allowed_directories and the views' globs need absolute, normalized paths.
  return {
    dataRoot: resolve(options.dataRoot),
    duckdbThreads: options.duckdbThreads,
    memoryLimit: options.memoryLimit,
    tempDirectory: resolve(options.tempDirectory),
    control: control.shared,
  };
}
