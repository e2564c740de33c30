import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import uWS from 'uWebSockets.js';
import { TokenStore, TokenVerifier } from '@arc/auth';
import { describeConfig, type Config } from '@arc/config';
import { QueryPool } from '@arc/query';
import { AuthGate } from './auth-gate.js';
import { CatalogFollower } from './catalog-follower.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerDatabaseRoutes } from './database-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerInfluxQueryRoutes } from './influx-query-routes.js';
import { IngestPipeline } from './ingest-pipeline.js';
import { IngestStats } from './ingest-stats.js';
import { createLogger, type Logger } from './log.js';
import { registerQueryRoutes } from './query-routes.js';
import { registerMeasurementRoutes } from './measurement-routes.js';
import { registerCacheRoutes } from './cache-routes.js';
import { QueryCache } from './query-cache.js';
import { ServerPhase, type ServerContext } from './server-context.js';
import { registerWriteRoutes } from './write-routes.js';
import { registerWriteStatsRoutes } from './write-stats-routes.js';
import { emptyRecoveryReport, prepareWal, replayWal } from './wal-recovery.js';
import { registerWalRoutes } from './wal-routes.js';

const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
/** How often shutdown checks whether in-flight requests have been answered. */
const SHUTDOWN_POLL_MS = 10;

export interface RunningServer {
  readonly port: number;
  /** Stops accepting, answers in-flight requests, flushes every buffer, stops every thread. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  readonly log?: Logger;
  /** Where the one-time bootstrap token is printed (stdout by default). */
  readonly printToken?: (line: string) => void;
  /** A thread died: the server cannot go on (the CLI stops it and exits 1). */
  readonly onFatal?: (reason: string) => void;
}

function openTokens(config: Config, log: Logger, printToken: (line: string) => void): TokenStore | null {
  if (!config.auth.enabled) {
    log.warn('AUTHENTICATION IS DISABLED (auth.enabled = false): every request, from anyone who can reach the port, is admin. Use only on a trusted machine.');
    return null;
  }
  const store = TokenStore.open(config.storage.metadataPath);
  const bootstrap = store.ensureBootstrapToken(config.auth.bootstrapToken);
  // A preset token is known to whoever set it: never echo it (stdout often ends up in logs).
  if (bootstrap.created && config.auth.bootstrapToken !== '') {
    printToken('Arc bootstrap admin token created from ARC_AUTH_BOOTSTRAP_TOKEN (auth.bootstrap_token); not printed\n');
  } else if (bootstrap.created && bootstrap.token !== null) {
    printToken(`Arc bootstrap admin token (printed once, store it now): ${bootstrap.token}\n`);
  }
  return store;
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.log.level, config.log.format);
  for (const warning of config.warnings) log.warn(warning);
  log.info(`starting Arc ${VERSION}: ${describeConfig(config)}`);
  await mkdir(config.storage.parquetRoot, { recursive: true });
  await mkdir(path.join(config.storage.dataDir, 'tmp'), { recursive: true });
  const tokens = openTokens(config, log, options.printToken ?? ((line) => process.stdout.write(line)));
  const walPlan = await prepareWal(config, log);
  const pipeline = await IngestPipeline.start(config, log, walPlan);
  const queryPool = new QueryPool({
    dataRoot: config.storage.parquetRoot,
    threads: config.query.threads,
    duckdbThreads: config.query.duckdbThreads,
    memoryLimit: config.query.memoryLimit,
    tempDirectory: path.join(config.storage.dataDir, 'tmp', 'query'),
    queueSizeMax: config.query.queueMax,
    timeoutMs: config.query.timeoutSeconds * 1000,
    rowsMax: config.query.maxRows,
  });
  const queryCache = new QueryCache(config.queryCache);
  await queryPool.ready();
  const catalog = new CatalogFollower(queryPool, queryCache);
  pipeline.onMeasurementEvents((events) => catalog.apply(events));
  if (options.onFatal !== undefined) pipeline.onFatal(options.onFatal);
  const context: ServerContext = {
    config,
    log,
    auth: new AuthGate(tokens === null ? null : new TokenVerifier(tokens, config.auth.cacheTtlSeconds * 1000)),
    tokens,
    pipeline,
    ingestStats: new IngestStats(),
    queryPool,
    version: VERSION,
    phase: ServerPhase.starting,
    walRecovery: emptyRecoveryReport(),
    forgetDatabase: (database) => {
      catalog.forgetDatabase(database);
      pipeline.forgetDatabase(database);
    },
  };
  const app = uWS.App();
  registerWriteRoutes(app, context);
  registerWriteStatsRoutes(app, context);
  registerQueryRoutes(app, context, queryCache);
  registerMeasurementRoutes(app, context);
  registerCacheRoutes(app, context, queryCache);
  registerInfluxQueryRoutes(app, context);
  registerAuthRoutes(app, context);
  registerDatabaseRoutes(app, context);
  registerWalRoutes(app, context);
  registerHealthRoutes(app, context);
  const listenSocket = await new Promise<uWS.us_listen_socket>((resolve, reject) => {
    app.listen(config.server.host, config.server.port, (socket) => {
      if (socket === false) reject(new Error(`cannot listen on ${config.server.host}:${config.server.port} (port in use?)`));
      else resolve(socket);
    });
  });
  const port = uWS.us_socket_local_port(listenSocket);
  // /ready answers 503 and writes are refused until every logged request is replayed and flushed.
  if (walPlan !== null) await replayWal(walPlan, pipeline, context.walRecovery, log);
  context.phase = ServerPhase.ready;
  log.info(
    `Arc listening on http://${config.server.host}:${port} | data ${config.storage.parquetRoot} | ` +
      `decoders ${pipeline.decoderCount}, writers ${pipeline.writerCount}, query threads ${config.query.threads}`,
  );
  return { port, close: () => stopServer(context, listenSocket, tokens) };
}

async function stopServer(context: ServerContext, listenSocket: uWS.us_listen_socket, tokens: TokenStore | null): Promise<void> {
  if (context.phase === ServerPhase.stopping) return;
  context.phase = ServerPhase.stopping;
  context.log.info('shutting down: answering in-flight requests, then flushing every buffer');
  uWS.us_listen_socket_close(listenSocket);
  const deadline = Date.now() + context.config.server.shutdownTimeoutSeconds * 1000;
  while (context.pipeline.inFlight > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, SHUTDOWN_POLL_MS));
  }
  const flushError = await context.pipeline.shutdown();
  if (flushError !== null) context.log.error(`final flush failed: ${flushError.message}`);
  await context.queryPool.close();
  tokens?.close();
  context.log.info(flushError === null ? 'stopped; every buffer flushed' : 'stopped with unflushed rows');
}
