import assert from 'node:assert/strict';
import type { LastValueTable } from '@arc/columnar';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BroadcastChannel, MessageChannel } from 'node:worker_threads';
import type { MessagePort, Transferable } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { workerExecArgv } from '@arc/config';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { validateDatabaseName } from '@arc/columnar';
import { Storage, type CatalogEvent, type CatalogSnapshot } from '@arc/storage';
import type { CatalogMessage } from './catalog.js';
import { CachePortServer, isCachePortMessage } from './cache-port.js';
import { ControlBlock } from './control-block.js';
import { QueryErrorCode } from './error-codes.js';
import { abortedError, timeoutError } from './errors.js';
import { ANSWER_FORMATS, CONTENT_TYPE_BY_FORMAT, STREAM_FORMATS, isAnswerFormat, isStreamFormat } from './answer-format.js';
import type { AnswerFormat, StreamFormat } from './answer-format.js';
import type { AnswerCompression } from './answer-compression.js';
import { isSharedAnswerBody, releaseAnswerBody } from './answer-buffers.js';
import { POOL_CLOSE_TIMEOUT_MS, QUERY_ROW_LIMIT_MAX, SERIES_CACHE_BYTES_DEFAULT, SQL_BYTES_MAX } from './limits.js';
import type { EstimateTask, MeasurementQuery, PendingMeasurement, QuerySource, QueryTask, StreamControl, StreamMessage, StreamTask, TaskResult, WorkerConfig, WorkerTask } from './task-messages.js';
import type { MeasurementRef } from './query-plan.js';
import type { ColumnSpec } from './time-pruning.js';
import { DUCKDB_MEMORY_SAMPLE_MS, TelemetryBlock, type BlockOf } from '@arc/telemetry';
import { QUERY_TELEMETRY, QUERY_TELEMETRY_BLOCKS_PER_THREAD } from './query-telemetry.js';

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
  /** Rows a non-streamed answer may have; more is refused (413) with advice to stream. */
  rowsMax?: number;
  /**
   * The store whose file catalog the workers follow (its root must be `dataRoot`). Absent: the
   * pool opens one itself in ready() (tests, tools).
   */
  storage?: Storage;
  /** How often each thread reads its DuckDB memory (arc_duckdb_memory_bytes); DUCKDB_MEMORY_SAMPLE_MS by default. */
  memorySampleMs?: number;
  /** Bytes of decoded files each thread keeps for series windows (series-cache.ts); SERIES_CACHE_BYTES_DEFAULT by default, 0: off. */
  seriesCacheBytes?: number;
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
  /** From the request's Accept-Encoding (compressionFor); absent: none. */
  compression?: AnswerCompression;
  /** The default database's last-value caches, when the SQL calls last_cache() (last-cache-relation.ts). */
  lastCaches?: readonly LastValueTable[];
}

/**
 * The pool's state at one moment (`GET /metrics/query-pool`). The three task counts come from the
 * slots of the control block; the totals count since the pool started.
 */
export interface QueryPoolStats {
  /** Worker threads (each runs one task at a time). */
  readonly threads: number;
  /** Tasks that may wait beyond the running ones; one more is refused. */
  readonly queueSizeMax: number;
  /** Tasks a worker has started and nobody cancelled. */
  readonly running: number;
  /** Tasks waiting for a worker. */
  readonly queued: number;
  /** Tasks cancelled (timeout, client gone) that a worker has not handed back yet. */
  readonly cancelling: number;
  /** Tasks a worker handed back, whatever their outcome. */
  readonly completed: number;
  /** Tasks refused because every slot was taken (503 ARC_QUERY_QUEUE_FULL). */
  readonly refused: number;
  /** Tasks given up on at the query timeout. */
  readonly timedOut: number;
  /** Tasks given up on because the caller went away. */
  readonly aborted: number;
  /** Rows of every answer a worker handed back (queries and streams; estimates count none). */
  readonly rowsReturned: number;
}

/** `GET /query/{measurement}`: a read of one measurement the engine builds the SQL for. */
export interface MeasurementRequest {
  measurement: MeasurementQuery;
  database: string;
  format: AnswerFormat;
  readableDatabases?: readonly string[] | null;
  compression?: AnswerCompression;
}

export interface EstimateRequest {
  sql: string;
  database: string;
  readableDatabases?: readonly string[] | null;
  lastCaches?: readonly LastValueTable[];
}

export interface StreamRequest {
  sql: string;
  database: string;
  format: StreamFormat;
  limit?: number;
  readableDatabases?: readonly string[] | null;
  lastCaches?: readonly LastValueTable[];
}

/** Where a streamed answer goes; `write` resolves once the consumer can take the next piece. */
export interface StreamSink {
  write(piece: Uint8Array): Promise<void>;
}

export interface QueryAnswer {
  body: Uint8Array;
  contentType: string;
  rowCount: number;
  /** The measurements the query read. */
  reads: readonly MeasurementRef[];
  /** False when the answer may change without new data (now(), random()): do not cache it. */
  cacheable: boolean;
  /** How `body` is compressed (the Content-Encoding to send); null: not at all. */
  contentEncoding: 'gzip' | 'zstd' | null;
  /**
   * True when `body` is a view of a buffer the worker lent (see answer-buffers.ts): copy what
   * must outlive `release()`.
   */
  shared: boolean;
  /**
   * Hands the body's buffer back to its worker once the bytes were sent (uWS copies what it does
   * not send at once) or copied. Call exactly once; never touch `body` afterwards.
   */
  release(): void;
}

/**
 * The worker's compiled file. From src/ (vitest) and from dist/ alike, `../dist/` is the
 * package's build output, so tests need `npx tsc -b packages/query` first.
 */
const WORKER_FILE = new URL('../dist/query-worker.js', import.meta.url);

/** The row cap when the options give none (the config's default). */
const QUERY_ROWS_MAX_DEFAULT = 5_000_000;

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
  assert.ok(options.rowsMax === undefined || (Number.isInteger(options.rowsMax) && options.rowsMax > 0), 'rowsMax must be a positive integer');
  for (const character of GLOB_CHARACTERS) assert.ok(!options.dataRoot.includes(character), 'dataRoot must not contain glob characters');
}

function checkFormat(format: unknown): void {
  // Callers parsing HTTP bodies may pass any string despite the type.
  if (!isAnswerFormat(format)) {
    throw badRequest(QueryErrorCode.badFormat, `Unsupported answer format '${String(format)}'; supported: ${ANSWER_FORMATS.join(', ')}`, {
      format: String(format),
    });
  }
}

function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= QUERY_ROW_LIMIT_MAX)) {
    throw badRequest(QueryErrorCode.badLimit, `"limit" must be an integer from 1 to ${String(QUERY_ROW_LIMIT_MAX)}, got ${String(limit)}`, {
      limit_max: QUERY_ROW_LIMIT_MAX,
    });
  }
}

function checkSqlAndDatabase(sql: string | null, database: string): void {
  const badName = validateDatabaseName(database);
  if (badName !== null) throw badName;
  if (sql !== null && Buffer.byteLength(sql) > SQL_BYTES_MAX) {
    throw badRequest(QueryErrorCode.sqlTooLarge, `SQL longer than ${String(SQL_BYTES_MAX)} bytes`, { bytes_max: SQL_BYTES_MAX });
  }
}

function tooManyRows(rowsMax: number): ArcError {
  return new ArcError(
    ErrorKind.tooLarge,
    QueryErrorCode.resultTooLarge,
    `The result has more than ${String(rowsMax)} rows (query.max_rows); use POST /query/stream for large results, or narrow the query (LIMIT, WHERE time ...)`,
    { rows_max: rowsMax },
  );
}

/**
 * Maps a piscina rejection (a worker that died) to an ArcError. Piscina's queue limit is never
 * the reason: the pool's slots refuse a query past the queue first (queueFullError), and
 * piscina's errors carry nothing but their text, so none is told apart from another.
 */
function poolError(error: unknown): ArcError {
  const message = error instanceof Error ? error.message : String(error);
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
  /** The threads' vitals and DuckDB memory, read at scrape time. */
  readonly telemetry: BlockOf<typeof QUERY_TELEMETRY>;
  readonly #freeSlots: number[];
  readonly #threads: number;
  readonly #queueSizeMax: number;
  readonly #timeoutMs: number;
  readonly #totals = { completed: 0, refused: 0, timedOut: 0, aborted: 0, rowsReturned: 0 };
  readonly #rowsMax: number;
  readonly #pendingByKey = new Map<string, PendingMeasurement>();
  /** The list tasks carry, rebuilt from #pendingByKey at the next task after a change (null). */
  #pending: readonly PendingMeasurement[] | null = [];
  #closed = false;
  /** Each task in flight's cancel, called by close(): a stop never waits on a long query. */
  readonly #cancelsOnClose = new Set<() => void>();
  /** Each task until its worker hands it back (answer, failure, or the end of a cancelled run). */
  readonly #tasksOnWorkers = new Set<Promise<void>>();
  readonly #catalogChannel: BroadcastChannel;
  readonly #dataRoot: string;
  #storage: Storage | null;
  /** On an object store: serves the threads' cache ports (cache-port.ts); null on local disk. */
  readonly #cachePorts: CachePortServer | null;
  /** The last number a task asked for files under. */
  #cacheTasks = 0;
  #snapshotQueued = false;

  constructor(options: QueryPoolOptions) {
    checkOptions(options);
    this.#dataRoot = resolve(options.dataRoot);
    this.#storage = options.storage ?? null;
    const fileCache = this.#storage?.cache ?? null;
    this.#cachePorts = fileCache === null ? null : new CachePortServer(fileCache);
    // One channel per pool: several pools (tests) may share a process.
    const channelName = `arc-catalog-${randomUUID()}`;
    this.#catalogChannel = new BroadcastChannel(channelName);
    this.#catalogChannel.onmessage = (event) => {
      const message = (event as { data: CatalogMessage }).data;
      if (message.type === 'need-snapshot') this.#queueSnapshot();
      else if (message.type === 'need-measurement') this.#loadMeasurement(message.database, message.measurement);
    };
    this.#catalogChannel.unref();
    this.#threads = options.threads;
    this.#queueSizeMax = options.queueSizeMax;
    this.#timeoutMs = options.timeoutMs;
    this.#rowsMax = options.rowsMax ?? QUERY_ROWS_MAX_DEFAULT;
    // One slot per query in flight: running on a worker or waiting in the queue.
    this.#control = ControlBlock.create(options.threads + options.queueSizeMax);
    this.telemetry = TelemetryBlock.create(QUERY_TELEMETRY, options.threads * QUERY_TELEMETRY_BLOCKS_PER_THREAD);
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
      workerData: workerConfig(options, this.#control, channelName, this.#storage?.catalog.snapshot() ?? null, this.telemetry.shared, this.#cachePorts !== null),
    });
    if (this.#storage !== null) this.#follow(this.#storage);
    // A worker that dies outside a task must not become an uncaught 'error' event.
    this.#piscina.on('error', () => undefined);
    // On an object store each thread posts its cache port once, when it starts (cache-port.ts).
    this.#piscina.on('message', (message: unknown) => {
      if (!isCachePortMessage(message)) return;
      // The worker config says whether to make one (workerConfig): none comes on local disk.
      assert.ok(this.#cachePorts !== null, 'only a thread on an object store posts a cache port');
      this.#cachePorts.serve(message.port);
    });
  }

  /** Resolves once every worker has opened and locked down its DuckDB instance; rejects with its error. */
  async ready(): Promise<void> {
    if (this.#storage === null) this.#follow(await Storage.open({ root: this.#dataRoot }));
    // The least-busy balancer hands simultaneous tasks to distinct idle workers.
    const pings = Array.from({ length: this.#threads }, () => this.#piscina.run({ kind: 'ping' }));
    for (const result of await Promise.all(pings)) {
      if (!result.ok) throw ArcError.fromShape(result.error);
    }
  }

  /**
   * A measurement has rows buffered in a writer but no file yet (or its buffered columns grew):
   * queries answer it with these columns and no rows instead of "does not exist".
   */
  setPendingMeasurement(database: string, measurement: string, columns: readonly ColumnSpec[]): void {
    this.#pendingByKey.set(`${database}/${measurement}`, { database, measurement, columns: [...columns] });
    // Rebuilding the list here made a request of thousands of new measurements quadratic on the
    // main thread (issue 11): the next task rebuilds it once instead.
    this.#pending = null;
  }

  /** Its first file is written (and the catalog invalidated): the view answers from now on. */
  clearPendingMeasurement(database: string, measurement: string): void {
    if (this.#pendingByKey.delete(`${database}/${measurement}`)) this.#pending = null;
  }

  /**
   * Tasks a worker has not handed back yet: running, queued, or cancelled (timeout, client gone)
   * and still being stopped. A cancelled query counts until DuckDB has really stopped it.
   */
  get tasksInFlight(): number {
    return this.#control.slotCount - this.#freeSlots.length;
  }

  /** Tasks a worker is running that nobody cancelled. */
  get tasksRunning(): number {
    return this.#control.slotCounts().running;
  }

  /** Running, queued and cancelling tasks now, and totals since start (one pass over the slots). */
  stats(): QueryPoolStats {
    const slots = this.#control.slotCounts();
    return { threads: this.#threads, queueSizeMax: this.#queueSizeMax, running: slots.running, queued: slots.pending, cancelling: slots.cancelled, ...this.#totals };
  }

  #pendingList(): readonly PendingMeasurement[] {
    this.#pending ??= [...this.#pendingByKey.values()];
    return this.#pending;
  }

  /** The store the workers' catalogs follow (after ready() when the pool opened it itself). */
  get storage(): Storage {
    assert.ok(this.#storage !== null, 'the pool has its storage once ready');
    return this.#storage;
  }

  /** Workers take every catalog change (catalog.ts): broadcast first, then the generation moves. */
  #follow(storage: Storage): void {
    this.#storage = storage;
    storage.onChange((event: CatalogEvent) => {
      // The store outlives the pool (a background listing may still run): a closed pool hears nothing.
      if (this.#closed) return;
      const message: CatalogMessage = event.kind === 'delta' ? { type: 'delta', delta: event.delta } : { type: 'snapshot', snapshot: event.snapshot };
      this.#catalogChannel.postMessage(message);
      this.#control.setGeneration(storage.catalog.generation);
    });
    this.#control.setGeneration(storage.catalog.generation);
    this.#queueSnapshot();
  }

  /**
   * A query thread needs a measurement's files that the catalog has not listed yet: storage lists
   * them and the change reaches every thread as a delta. A failed listing is told to the threads
   * waiting for it, which answer their query with the error.
   */
  #loadMeasurement(database: string, measurement: string): void {
    const storage = this.#storage;
    if (storage === null || this.#closed) return;
    storage.ensureLoaded(database, measurement).catch((error: unknown) => {
      const failure = error instanceof ArcError ? error : new ArcError(ErrorKind.unavailable, QueryErrorCode.engine, `Listing the files of ${database}.${measurement} failed: ${String(error)}`);
      if (!this.#closed) this.#catalogChannel.postMessage({ type: 'load-failed', database, measurement, error: failure.toShape() } satisfies CatalogMessage);
    });
  }

  /** Sends the whole catalog once for all the workers that asked in this turn. */
  #queueSnapshot(): void {
    if (this.#snapshotQueued || this.#storage === null) return;
    this.#snapshotQueued = true;
    setImmediate(() => {
      this.#snapshotQueued = false;
      if (this.#storage !== null && !this.#closed) this.#catalogChannel.postMessage({ type: 'snapshot', snapshot: this.#storage.catalog.snapshot() } satisfies CatalogMessage);
    });
  }

  /** Runs SQL to a whole answer in the request's format. */
  async run(request: QueryRequest, signal?: AbortSignal): Promise<QueryAnswer> {
    checkFormat(request.format);
    checkLimit(request.limit);
    checkSqlAndDatabase(request.sql, request.database);
    return this.#answer({ sql: request.sql }, request, request.limit, signal);
  }

  /** Reads one measurement (`GET /query/{measurement}`); column names are checked by the engine. */
  async readMeasurement(request: MeasurementRequest, signal?: AbortSignal): Promise<QueryAnswer> {
    checkFormat(request.format);
    checkLimit(request.measurement.limit);
    checkSqlAndDatabase(null, request.database);
    return this.#answer({ measurement: request.measurement }, request, request.measurement.limit, signal);
  }

  /** The number of rows the SQL answers, counted by DuckDB without sending them. */
  async estimate(request: EstimateRequest, signal?: AbortSignal): Promise<number> {
    checkSqlAndDatabase(request.sql, request.database);
    const result = await this.#submit(
      (slot) => ({ ...this.#taskBase({ sql: request.sql }, request, slot, Number.POSITIVE_INFINITY), kind: 'estimate' }),
      signal,
    );
    return result.rowCount;
  }

  /**
   * Streams the SQL's rows into `sink` (CSV or NDJSON); resolves with the rows sent. No row cap:
   * memory stays flat because the worker waits for the sink (see StreamSender).
   */
  async stream(request: StreamRequest, sink: StreamSink, signal?: AbortSignal): Promise<number> {
    if (!isStreamFormat(request.format)) {
      throw badRequest(QueryErrorCode.badFormat, `Unsupported stream format '${String(request.format)}'; supported: ${STREAM_FORMATS.join(', ')}`, {
        format: String(request.format),
      });
    }
    checkLimit(request.limit);
    checkSqlAndDatabase(request.sql, request.database);
    const channel = new MessageChannel();
    const receiving = receiveStream(channel.port1, sink);
    // Awaited only when the task succeeds; a failed task closes the port, which rejects it too.
    receiving.catch(() => undefined);
    const cancelStream = (): void => channel.port1.postMessage({ type: 'cancel' } satisfies StreamControl);
    try {
      await this.#submit(
        (slot) => ({
          ...this.#taskBase({ sql: request.sql }, request, slot, request.limit ?? Number.POSITIVE_INFINITY),
          kind: 'stream',
          format: request.format,
          port: channel.port2,
        }),
        signal,
        [channel.port2],
        cancelStream,
      );
      return await receiving;
    } catch (error) {
      cancelStream();
      channel.port1.close();
      throw error;
    }
  }

  async #answer(
    source: QuerySource,
    request: { database: string; format: AnswerFormat; readableDatabases?: readonly string[] | null; compression?: AnswerCompression; lastCaches?: readonly LastValueTable[] },
    limit: number | undefined,
    signal?: AbortSignal,
  ): Promise<QueryAnswer> {
    const rowsMax = this.#rowsMax;
    // One row past the cap tells a result at the cap from one beyond it.
    const capped = limit === undefined || limit > rowsMax;
    const rowLimit = capped ? rowsMax + 1 : limit;
    const result = await this.#submit(
      (slot) => ({ ...this.#taskBase(source, request, slot, rowLimit), kind: 'query', format: request.format, compression: request.compression ?? 'none', materialize: capped }),
      signal,
    );
    if (capped && result.rowCount > rowsMax) {
      releaseAnswerBody(result.body);
      throw tooManyRows(rowsMax);
    }
    const body = result.body;
    return {
      body,
      contentType: CONTENT_TYPE_BY_FORMAT[request.format],
      rowCount: result.rowCount,
      reads: result.reads,
      cacheable: result.cacheable,
      contentEncoding: result.contentEncoding,
      shared: isSharedAnswerBody(body),
      release: () => releaseAnswerBody(body),
    };
  }

  #taskBase(source: QuerySource, request: { database: string; readableDatabases?: readonly string[] | null; lastCaches?: readonly LastValueTable[] }, slot: number, rowLimit: number) {
    const lastCaches = request.lastCaches === undefined ? {} : { lastCaches: request.lastCaches };
    return { source, database: request.database, slot, rowLimit, readableDatabases: request.readableDatabases ?? null, pending: this.#pendingList(), cacheTask: null, ...lastCaches };
  }

  /** Takes a slot, builds the task for it and runs it; rejects when closed, aborted or full. */
  #submit(
    build: (slot: number) => QueryTask | EstimateTask | StreamTask,
    signal: AbortSignal | undefined,
    transferList: Transferable[] = [],
    onCancel?: () => void,
  ): Promise<TaskResult & { ok: true }> {
    if (this.#closed) return Promise.reject(new ArcError(ErrorKind.unavailable, QueryErrorCode.poolClosed, 'The query pool is closed'));
    if (signal?.aborted === true) return Promise.reject(abortedError());
    const slot = this.#freeSlots.pop();
    if (slot === undefined) {
      this.#totals.refused++;
      return Promise.reject(queueFullError());
    }
    this.#control.arm(slot);
    // On an object store the task asks the file cache for its files under a number of its own.
    const cachePorts = this.#cachePorts;
    if (cachePorts === null) return this.#dispatch(build(slot), signal, transferList, onCancel, null);
    const cacheTask = ++this.#cacheTasks;
    return this.#dispatch({ ...build(slot), cacheTask }, signal, transferList, onCancel, cachePorts.open(cacheTask));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Running and queued queries are interrupted and answered 503: piscina's close would otherwise
    // wait for them, then end a thread inside DuckDB (which aborts the process).
    for (const cancelOnClose of [...this.#cancelsOnClose]) cancelOnClose();
    // Ending a worker during a DuckDB read of its own would abort the process (control-block.ts);
    // past the wait piscina's close goes ahead anyway, as it would for a query that never ends.
    await this.#control.closeBackgroundReads(POOL_CLOSE_TIMEOUT_MS);
    await this.#piscina.close();
    this.#cachePorts?.close();
    this.#catalogChannel.close();
  }

  /**
   * Sends the task and settles the caller's promise exactly once: with the worker's answer, or
   * earlier with a timeout / abort, in which case the worker is told through the slot and the
   * slot stays taken until the worker hands the task back.
   */
  #dispatch(
    task: QueryTask | EstimateTask | StreamTask,
    signal: AbortSignal | undefined,
    transferList: Transferable[],
    onCancel: (() => void) | undefined,
    cacheSession: { end(): void } | null,
  ): Promise<TaskResult & { ok: true }> {
    return new Promise<TaskResult & { ok: true }>((resolvePromise, rejectPromise) => {
      let settled = false;
      const settle = (action: () => void): void => {
        if (settled) return;
        settled = true;
        this.#cancelsOnClose.delete(onClose);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        action();
      };
      const cancel = (error: ArcError): void => {
        this.#control.cancel(task.slot);
        onCancel?.();
        settle(() => rejectPromise(error));
      };
      const onAbort = (): void => {
        if (!settled) this.#totals.aborted++;
        cancel(abortedError());
      };
      const onTimeout = (): void => {
        if (!settled) this.#totals.timedOut++;
        cancel(timeoutError(this.#timeoutMs));
      };
      const onClose = (): void => cancel(new ArcError(ErrorKind.unavailable, QueryErrorCode.poolClosed, 'The server is stopping: the query was cancelled'));
      this.#cancelsOnClose.add(onClose);
      const timer = setTimeout(onTimeout, this.#timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      const handedBack = this.#piscina.run(task, { transferList }).then(
        (result) => {
          cacheSession?.end();
          this.#handBack(task.slot);
          if (result.ok && task.kind !== 'estimate') this.#totals.rowsReturned += result.rowCount;
          // Nobody takes an answer that came after a timeout or abort: its buffer goes back now.
          if (settled && result.ok) releaseAnswerBody(result.body);
          settle(() => (result.ok ? resolvePromise(result) : rejectPromise(ArcError.fromShape(result.error))));
        },
        (error: unknown) => {
          cacheSession?.end();
          this.#handBack(task.slot);
          settle(() => rejectPromise(poolError(error)));
        },
      );
      this.#tasksOnWorkers.add(handedBack);
      void handedBack.finally(() => this.#tasksOnWorkers.delete(handedBack));
    });
  }

  /**
   * Resolves once every task submitted before this call is back from its worker (a cancelled one
   * too: DuckDB may read files until it stops). Files a catalog change removed may be deleted
   * then: every query still running planned with the new catalog (compaction's inputs).
   */
  async tasksSubmittedEnded(): Promise<void> {
    await Promise.all([...this.#tasksOnWorkers]);
  }

  /** A worker handed the task back (answer or failure): its slot is idle and free again. */
  #handBack(slot: number): void {
    this.#control.release(slot);
    this.#freeSlots.push(slot);
    this.#totals.completed++;
  }
}

/**
 * The pool's end of a streamed answer: hands each piece to the sink and grants the worker one
 * more piece once the sink took it; resolves with the row count of the worker's last message.
 */
function receiveStream(port: MessagePort, sink: StreamSink): Promise<number> {
  return new Promise<number>((resolvePromise, rejectPromise) => {
    let writing: Promise<void> = Promise.resolve();
    port.on('message', (message: StreamMessage) => {
      if (message.type === 'end') {
        writing.then(() => {
          port.close();
          resolvePromise(message.rowCount);
        }, rejectPromise);
        return;
      }
      writing = writing
        .then(() => sink.write(message.bytes))
        .then(() => port.postMessage({ type: 'credit' } satisfies StreamControl));
      writing.catch(rejectPromise);
    });
    port.on('close', () => rejectPromise(new ArcError(ErrorKind.internal, QueryErrorCode.engine, 'The stream ended without its last piece')));
  });
}

function workerConfig(options: QueryPoolOptions, control: ControlBlock, catalogChannel: string, catalogSnapshot: CatalogSnapshot | null, telemetry: SharedArrayBuffer, cachePort: boolean): WorkerConfig {
  // allowed_directories and the views' globs need absolute, normalized paths.
  return {
    dataRoot: resolve(options.dataRoot),
    duckdbThreads: options.duckdbThreads,
    memoryLimit: options.memoryLimit,
    tempDirectory: resolve(options.tempDirectory),
    control: control.shared,
    catalogChannel,
    catalogSnapshot,
    telemetry,
    memorySampleMs: options.memorySampleMs ?? DUCKDB_MEMORY_SAMPLE_MS,
    seriesCacheBytes: options.seriesCacheBytes ?? SERIES_CACHE_BYTES_DEFAULT,
    cachePort,
  };
}
