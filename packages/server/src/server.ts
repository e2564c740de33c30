import assert from 'node:assert/strict';
import { mkdir, open, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import uWS from 'uWebSockets.js';
import { TokenVerifier, type TokenAccess } from '@arc/auth';
import { describeConfig, importSecretKeyHex, type Config } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { CONNECTION_FILE_NAME, ConnectionStore, ImporterErrorCode, SECRET_KEY_SETTING, SecretBox, generateSecretKey } from '@arc/importer';
import { QueryPool } from '@arc/query';
import { Storage, openStorageBackend, readableRootOf } from '@arc/storage';
import { ImportJobs, JOB_STORE_FILE_NAME, JobStore, connectionLookupOf } from '@arc/importer';
import { CQ_FILE_NAME, Compactor, ContinuousQueries, CqStore, HISTORY_FILE_NAME, RETENTION_FILE_NAME, RetentionService, RowDeleter } from '@arc/compaction';
import { AuthGate } from './auth-gate.js';
import { CatalogFollower } from './catalog-follower.js';
import { ImportJobSink } from './import-job-sink.js';
import { InfluxqlCqExpander } from './influxql-cq-expander.js';
import { LastCacheService } from './last-cache-service.js';
import { LAST_CACHE_FILE_NAME, LastCacheStore } from './last-cache-store.js';
import { emptyRecoveryReport, IngestPipeline, prepareWal, replayWal } from '@arc/ingest';
import { IngestStats } from './ingest-stats.js';
import { createLogger, type Logger, type ServerLogger } from './log.js';
import { limitRequestHeads } from './request-head.js';
import { requestIds } from './request-id.js';
import { QueryCache } from './query-cache.js';
import { RouteTable } from './route-table.js';
import { ServerMetrics } from './metrics-registry.js';
import { registerRoutes } from './routes.js';
import { DataDirLock } from './data-dir-lock.js';
import { listenExclusive } from './listen-exclusive.js';
import { ServerPhase, type ServerContext } from './server-context.js';
import { INGEST_BUSY_SAMPLE_MS, INGEST_BUSY_WINDOW_SAMPLES, STORAGE_PROBE_INTERVAL_MS } from './limits.js';
import { StorageProbe } from './storage-probe.js';
import { openTokens } from './token-sync.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
/** How often shutdown checks whether in-flight requests have been answered. */
const SHUTDOWN_POLL_MS = 10;

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, answers in-flight requests, flushes every buffer, stops every thread. */
  close(): Promise<StopReport>;
}

/** What a stop could not do; all zero after a clean stop. */
export interface StopReport {
  /**
   * Acknowledged rows not in Parquet when the server stopped (the final flush kept failing):
   * lost with the WAL off, replayed from the WAL at the next start with it on.
   */
  readonly rowsUnflushed: number;
  /** Writer threads that did not report at the end: their rows, if any, are not counted. */
  readonly writersUnreported: number;
}

export interface StartServerOptions {
  readonly log?: ServerLogger;
  /** Where the one-time bootstrap token is printed (stdout by default). */
  readonly printToken?: (line: string) => void;
  /** A thread died: the server cannot go on (the CLI stops it and exits 1). */
  readonly onFatal?: (reason: string) => void;
}

/**
 * V8's memory reducer runs full garbage collections (three in a row, ~0.6 s apart) in an isolate
 * that has gone quiet, to give its memory back. Arc has many threads that are quiet while others
 * are busy: the idle decoders and the query threads during ingest. Their collections mark on
 * V8's shared helper threads at normal priority, which take the cores from the decoders (nice
 * 15): at half of peak load they were where the slowest 1% of write requests waited (p99 17-24
 * ms with it, 8-10 ms without; docs/benchmarks.md, "p99 at half of peak load"). A quiet thread
 * keeps its garbage until its next collection instead. What that cost at first (RSS growing 11-23 %
 * over 10 minutes at peak) was the decoders' batch buffers dropped by a pool too small for a
 * flush's worth; with the pool sized and trimmed it grew 2.5-4.7 % (docs/decisions.md, "Batch
 * buffers go back to the decoders; V8's memory reducer is off").
 */
function turnOffMemoryReducer(): void {
  setFlagsFromString('--no-memory-reducer');
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  // Before any thread starts: every isolate of the process is made with the flag.
  turnOffMemoryReducer();
  // Staged files older than this are a dead process's (every staged file of this one is newer).
  const startedAtMs = Date.now();
  const log = options.log ?? createLogger(config.log.level, config.log.format, undefined, { ringLines: config.log.ringLines });
  for (const warning of config.warnings) log.warn(warning);
  log.info(`starting Arc ${VERSION}: ${describeConfig(config)}`);
  // Before anything reads or writes the WAL or the data: one process per data directory.
  await mkdir(config.storage.dataDir, { recursive: true });
  const lock = DataDirLock.acquire(config.storage.dataDir);
  await mkdir(path.join(config.storage.dataDir, 'tmp'), { recursive: true });
  // A key that does not open the stored secrets stops the start here, named.
  const connections = ConnectionStore.open(path.join(config.storage.dataDir, CONNECTION_FILE_NAME), await importSecretBox(config));
  // Wrong credentials or a missing bucket stop the start here, named, before any thread runs.
  const backend = openStorageBackend(config.storage);
  await backend.check();
  // With an object store the token table is shared through it (token-sync.ts).
  const tokens = await openTokens(config, log, backend, options.printToken ?? ((line) => process.stdout.write(line)));
  const walPlan = await prepareWal(config, log);
  // After WAL recovery rolled committed flushes forward: the catalog lists the names now, each
  // measurement's files when a query first needs them or in the background (listCatalogFiles).
  // (WAL recovery has published the staged files its journal committed: older ones are garbage,
  // removed as each measurement is listed.)
  const metrics = new ServerMetrics(config.metrics);
  const storage = await Storage.open({ root: config.storage.parquetRoot, backend, removeStagedBeforeMs: startedAtMs, cacheMaxBytes: config.storage.cacheMaxBytes });
  // Before the threads start: a bad schedule (cron) stops the start before anything runs.
  const compactor = Compactor.open({
    storage,
    config: config.compaction,
    historyPath: path.join(config.storage.dataDir, HISTORY_FILE_NAME),
    tempDirectory: path.join(config.storage.dataDir, 'tmp', 'compaction'),
    // The pool is made next; a job reaches this only after the start.
    queriesEnded: () => queryPool.tasksSubmittedEnded(),
    log: (level, message) => log[level](message),
    onJobEnded: metrics.compactionEnded,
  });
  // Its schedule (cron) is checked here too: a bad one stops the start.
  const retention = RetentionService.open({
    storage,
    rewriter: compactor,
    config: config.retention,
    storePath: path.join(config.storage.dataDir, RETENTION_FILE_NAME),
    log: (level, message) => log[level](message),
    flushScope: (database, measurement) => (measurement === null ? pipeline.flushAll() : pipeline.flushMeasurement(database, measurement)),
  });
  const continuousQueries = new ContinuousQueries({
    store: CqStore.open(path.join(config.storage.dataDir, CQ_FILE_NAME)),
    windows: compactor,
    storage,
    config: config.continuousQueries,
    log: (level, message) => log[level](message),
    flushMeasurement: (database, measurement) => pipeline.flushMeasurement(database, measurement),
  });
  const queryPool = new QueryPool({
    storage,
    dataRoot: readableRootOf(config.storage),
    threads: config.query.threads,
    duckdbThreads: config.query.duckdbThreads,
    memoryLimit: config.query.memoryLimit,
    seriesCacheBytes: config.query.seriesCacheBytes,
    tempDirectory: path.join(config.storage.dataDir, 'tmp', 'query'),
    queueSizeMax: config.query.queueMax,
    timeoutMs: config.query.timeoutSeconds * 1000,
    rowsMax: config.query.maxRows,
  });
  const queryCache = new QueryCache(config.queryCache);
  // Deletes end in storage once the writers dropped the name's rows (docs/architecture.md). The
  // ingest threads and the query threads start side by side: neither needs the other to start.
  const pipeline = await startThreads(IngestPipeline.start(config, log, walPlan, storage), queryPool);
  const catalog = new CatalogFollower(queryPool, queryCache, storage);
  pipeline.onMeasurementEvents((events) => catalog.apply(events));
  if (options.onFatal !== undefined) pipeline.onFatal(options.onFatal);
  pipeline.onWaitEnded((waitedMs, outcome) => metrics.ingest.waitEnded(waitedMs, outcome));
  const context: ServerContext = {
    config,
    log,
    auth: new AuthGate(tokens === null ? null : new TokenVerifier(tokens.store, config.auth.cacheTtlSeconds * 1000)),
    tokens,
    pipeline,
    ingestStats: new IngestStats(),
    queryPool,
    storage,
    version: VERSION,
    phase: ServerPhase.starting,
    walRecovery: emptyRecoveryReport(),
    forgetDatabase: (database) => pipeline.forgetDatabase(database),
    compaction: compactor,
    retention,
    continuousQueries,
    // A delete flushes every writer first: a row acknowledged before it is in a file it rewrites.
    deletes: new RowDeleter({ storage, rewriter: compactor, flushWriters: (database, measurement) => pipeline.flushMeasurement(database, measurement), confirmationThreshold: config.delete.confirmationThreshold }),
    storageProbe: new StorageProbe(backend, log),
    connections,
    lastCaches: new LastCacheService(LastCacheStore.open(path.join(config.storage.dataDir, LAST_CACHE_FILE_NAME)), pipeline, queryPool, storage, (message) => log.warn(message)),
    // The sink writes through ImportFeed, which takes the whole context: it is read when a job runs, after this.
    importJobs: new ImportJobs({ store: JobStore.open(path.join(config.storage.dataDir, JOB_STORE_FILE_NAME)), sink: new ImportJobSink(() => context), connections: connectionLookupOf(connections), log: (level, message) => log[level](message) }),
    routes: new RouteTable(),
    metrics,
  };
  metrics.expose({
    version: VERSION,
    startedAtMs,
    pipeline,
    queryPool,
    cacheLookups: () => queryCache.lookups(),
    authFailures: () => context.auth.failureCounts(),
    compactionThreads: compactor.telemetry,
  });
  context.routes.wrapHandlers(metrics.requests.wrap);
  // Another node's token change: cached verifications on this node may be stale.
  tokens?.follow(() => context.auth.invalidate());
  const app = uWS.App();
  limitRequestHeads(app);
  context.routes.wrapHandlers(requestIds(log));
  // Through the route table: every registration recorded (the API description is checked against it).
  registerRoutes(context.routes.recording(app), context, queryCache);
  const listenSocket = await listenExclusive(app, config.server.host, config.server.port);
  const port = uWS.us_socket_local_port(listenSocket);
  // /ready answers 503 and writes are refused until every logged request is replayed and flushed.
  if (walPlan !== null) await replayWal(walPlan, pipeline, context.walRecovery, log);
  context.phase = ServerPhase.ready;
  listCatalogFiles(storage, log, compactor);
  // After the replay: each cache takes what is buffered, then what the files hold.
  context.lastCaches.start();
  // After the replay too: executions a stop or crash left are resumed (their in-doubt chunk counted on flushed files).
  context.importJobs.start();
  // Windows due (missed while the server was down first), then each interval; late rows re-run theirs.
  continuousQueries.start();
  // InfluxQL CQs over fn(*), GROUP BY * or FROM /re/ follow new measurements, fields and tags.
  const influxqlCqs = InfluxqlCqExpander.forServer(context);
  influxqlCqs.start();
  context.storageProbe.start(STORAGE_PROBE_INTERVAL_MS);
  // Several nodes on one bucket: the others' files show within the refresh interval (docs/scale-out.md).
  const stopRefreshing = backend.kind === 's3' ? storage.startRefreshing(config.storage.listingRefreshMs, (error) => log.warn(`storage: refreshing the listing failed: ${error instanceof Error ? error.message : String(error)}`)) : null;
  // With compaction off no merge runs: nothing to tell it.
  const ingestWatch = config.compaction.enabled ? watchIngestForCompaction(pipeline, compactor) : null;
  log.info(
    `Arc listening on http://${config.server.host}:${port} | data ${config.storage.s3 === null ? config.storage.parquetRoot : `${config.storage.backend} bucket ${config.storage.s3.bucket}/${config.storage.s3.prefix} (node ${backend.nodeId})`} | ` +
      `decoders ${pipeline.decoderCount}, writers ${pipeline.writerCount}, query threads ${config.query.threads}`,
  );
  // The data directory stays locked until every buffer is flushed (a second close() waits for the first).
  let closing: Promise<StopReport> | null = null;
  return {
    port,
    close: () => {
      if (ingestWatch !== null) clearInterval(ingestWatch);
      const stopWatching = async (): Promise<void> => {
        await influxqlCqs.close();
        await stopRefreshing?.();
        await context.storageProbe.stop();
      };
      return (closing ??= stopWatching()
        .then(() => stopServer(context, listenSocket, tokens, compactor))
        .finally(() => lock.release()));
    },
  };
}

/** Where the key sealing import connection secrets is kept when `import.secret_key` is empty. */
export const IMPORT_SECRET_KEY_FILE_NAME = 'import_secret.key';

/**
 * The box sealing import connection secrets: with the key `import.secret_key` gives, else with the
 * one generated at the first start into `<data_dir>/import_secret.key` (mode 0600; 64 hex digits,
 * the form import.secret_key takes, so it can be moved into arc.conf). Read here, not in the
 * importer: the server owns the data directory's files at start (the lock, the directory itself),
 * and the importer stays free of node:fs.
 */
async function importSecretBox(config: Config): Promise<SecretBox> {
  if (config.import.secretKeyHex !== null) return new SecretBox(Buffer.from(config.import.secretKeyHex, 'hex'), SECRET_KEY_SETTING);
  const file = path.join(config.storage.dataDir, IMPORT_SECRET_KEY_FILE_NAME);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const key = generateSecretKey();
    // Synced before any secret is sealed with it: a crash must not keep secrets and lose their key.
    const handle = await open(file, 'wx', 0o600);
    try {
      await handle.writeFile(`${key.toString('hex')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return new SecretBox(key, file);
  }
  const hex = importSecretKeyHex(text.trim());
  if (hex === null) throw new ArcError(ErrorKind.internal, ImporterErrorCode.secretKeyFileBad, `${file} does not hold a key of 32 bytes (64 hex digits): restore it from a backup, or set ${SECRET_KEY_SETTING}`);
  return new SecretBox(Buffer.from(hex, 'hex'), file);
}

/** Waits for the ingest pipeline and the query pool to start; if either fails, stops the other. */
async function startThreads(starting: Promise<IngestPipeline>, queryPool: QueryPool): Promise<IngestPipeline> {
  const [pipeline, pool] = await Promise.allSettled([starting, queryPool.ready()]);
  if (pipeline.status === 'fulfilled' && pool.status === 'fulfilled') return pipeline.value;
  if (pipeline.status === 'fulfilled') await pipeline.value.shutdown();
  await queryPool.close();
  const failed = pipeline.status === 'rejected' ? pipeline : pool;
  assert.ok(failed.status === 'rejected', 'one of the two failed to start');
  throw failed.reason;
}

/**
 * Tells compaction when ingest is busy (write requests in flight averaging at least one per decoder
 * over the last second): merges then wait, so compaction takes from ingest only what it leaves.
 */
function watchIngestForCompaction(pipeline: IngestPipeline, compactor: Compactor): NodeJS.Timeout {
  const samples: number[] = [];
  const timer = setInterval(() => {
    samples.push(pipeline.inFlight);
    if (samples.length > INGEST_BUSY_WINDOW_SAMPLES) samples.shift();
    const average = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    compactor.setIngestBusy(average >= pipeline.decoderCount);
  }, INGEST_BUSY_SAMPLE_MS);
  timer.unref();
  return timer;
}

/**
 * Lists every measurement's files in the background, after the start (queries list what they
 * need first, Storage.ensureLoaded), so the start costs the same with 100 files or 100,000.
 */
function listCatalogFiles(storage: Storage, log: Logger, compactor: Compactor): void {
  const startedAt = performance.now();
  storage.loadAll().then(
    () => {
      log.info(`storage: ${storage.catalog.size} files in the catalog (listed in ${Math.round(performance.now() - startedAt)} ms)`);
      // Closed hours and days the schedules missed while the server was down.
      compactor.catchUp();
    },
    (error: unknown) => log.error(`storage: listing the files failed; queries list what they read: ${error instanceof Error ? error.message : String(error)}`),
  );
}

async function stopServer(context: ServerContext, listenSocket: uWS.us_listen_socket, tokens: TokenAccess | null, compactor: Compactor): Promise<StopReport> {
  if (context.phase === ServerPhase.stopping) return { rowsUnflushed: 0, writersUnreported: 0 };
  context.phase = ServerPhase.stopping;
  context.log.info('shutting down: answering in-flight requests, then flushing every buffer');
  uWS.us_listen_socket_close(listenSocket);
  // Import jobs first, while the pipeline runs: each settles its chunk in flight and keeps its
  // checkpoint; the next start resumes it.
  await context.importJobs.stop();
  const deadline = Date.now() + context.config.server.shutdownTimeoutSeconds * 1000;
  while (context.pipeline.inFlight > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
  }
  // A running job stops (its staged files go, or the next start's listing removes them): the
  // final flush must not wait for a merge.
  // The retention schedule stops first; a run in flight ends with the compactor's jobs.
  const retentionClosed = context.retention.close();
  // A window running ends first (its replacement commits or is undone whole), then the merges stop.
  await context.continuousQueries.close();
  await compactor.close();
  await retentionClosed;
  const { flushError, rowsUnflushed, writersUnreported } = await context.pipeline.shutdown();
  await context.queryPool.close();
  await tokens?.close();
  context.connections.close();
  context.metrics.close();
  if (rowsUnflushed === 0 && writersUnreported === 0) {
    if (flushError !== null) context.log.warn(`a final flush failed, but its rows were flushed by a retry before the writers stopped: ${flushError.message}`);
    context.log.info('stopped; every buffer flushed');
  } else {
    context.log.error(unflushedMessage(context.config, rowsUnflushed, writersUnreported, flushError));
  }
  return { rowsUnflushed, writersUnreported };
}

/** The log line of a stop that could not write every acknowledged row to Parquet. */
function unflushedMessage(config: Config, rowsUnflushed: number, writersUnreported: number, flushError: ArcError | null): string {
  const retried = `after retrying the flush for server.shutdown_flush_retry_seconds (${config.server.shutdownFlushRetrySeconds} s)`;
  const cause = flushError === null ? '' : `; last error ${flushError.code}: ${flushError.message}`;
  const silent = writersUnreported === 0 ? '' : `, and ${writersUnreported} writer thread(s) did not report their rows`;
  const rows = `${rowsUnflushed} acknowledged rows`;
  return config.wal.enabled
    ? `stopped with ${rows} not written to Parquet ${retried}${silent}; they stay in the WAL and are replayed at the next start${cause}`
    : `stopped and DROPPED ${rows} that could not be written to Parquet ${retried}${silent} (the WAL is off)${cause}`;
}
