import type { TemplatedApp } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { newResponseState, sendError, sendJson } from './http-response.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import type { StorageReachability } from './storage-probe.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * Time since the routes were registered, as Arc's Python SDK reads `/health`: `uptime` a string
 * (Go's duration spelling, `3h2m5s`), `uptime_sec` whole seconds.
 */
export function uptimeFields(startedAtMs: number, nowMs: number): { uptime: string; uptime_sec: number } {
  const seconds = Math.max(0, Math.floor((nowMs - startedAtMs) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const uptime = hours > 0 ? `${String(hours)}h${String(minutes)}m${String(rest)}s` : minutes > 0 ? `${String(minutes)}m${String(rest)}s` : `${String(rest)}s`;
  return { uptime, uptime_sec: seconds };
}

/** The store's state as /health and /ready show it. */
function storageFields(reachability: StorageReachability): { backend: string; reachable: boolean; error?: string; checked_at: string | null } {
  return {
    backend: reachability.backend,
    reachable: reachability.reachable,
    ...(reachability.error === null ? {} : { error: reachability.error }),
    checked_at: reachability.checkedAtMs === null ? null : new Date(reachability.checkedAtMs).toISOString(),
  };
}

/** A component's state as /health shows it: `ok`, or a word saying what is wrong or in progress. */
type ComponentStatus = 'ok' | 'off' | 'starting' | 'stopping' | 'replaying' | 'failed' | 'unreachable' | 'saturated';

/**
 * Each part of the node, from state the acceptor thread already holds (no message to a thread, no
 * request to the store: the probe's last answer), so /health stays cheap however often it is asked.
 */
export function componentStates(context: ServerContext): Record<string, { status: ComponentStatus } & Record<string, unknown>> {
  const storage = storageFields(context.storageProbe.reachability);
  const pool = context.queryPool.stats();
  const compaction = context.compaction.status();
  const recovery = context.walRecovery;
  const server: ComponentStatus = context.phase === 'ready' ? 'ok' : context.phase;
  const wal: ComponentStatus = recovery.state === 'off' ? 'off' : recovery.state === 'done' ? 'ok' : recovery.state;
  return {
    server: { status: server },
    storage: { status: storage.reachable ? 'ok' : 'unreachable', ...storage },
    ingest: { status: server === 'ok' ? 'ok' : server, decoders: context.pipeline.decoderCount, writers: context.pipeline.writerCount, requests_in_flight: context.pipeline.inFlight },
    wal: { status: wal, sync_mode: context.config.wal.enabled ? context.config.wal.syncMode : null, entries_replayed: recovery.entriesReplayed },
    query: { status: pool.queued >= pool.queueSizeMax ? 'saturated' : 'ok', threads: pool.threads, running: pool.running, queued: pool.queued, queue_max: pool.queueSizeMax },
    compaction: { status: compaction.enabled ? 'ok' : 'off', running: compaction.running, queued: compaction.queued },
  };
}

/** Public routes (no token): service info, liveness and readiness as the README shows them. */
export function registerHealthRoutes(app: TemplatedApp, context: ServerContext): void {
  const startedAtMs = Date.now();
  app.get('/', (res) => {
    const state = newResponseState(res);
    sendJson(res, state, '200 OK', { service: 'arc', version: context.version, status: context.phase, docs: 'README.md' });
  });
  // A store that cannot be read makes the node unhealthy (503): a load balancer must not send it queries.
  app.get('/health', (res) => {
    const state = newResponseState(res);
    const now = Date.now();
    const storage = storageFields(context.storageProbe.reachability);
    const healthy = storage.reachable;
    sendJson(res, state, healthy ? '200 OK' : '503 Service Unavailable', {
      status: healthy ? 'healthy' : 'unhealthy',
      service: 'arc',
      version: context.version,
      node_id: context.storage.backend.nodeId,
      timestamp: new Date(now).toISOString(),
      ...uptimeFields(startedAtMs, now),
      storage,
      components: componentStates(context),
    });
  });
  app.get('/ready', (res) => {
    const state = newResponseState(res);
    const timestamp = new Date().toISOString();
    const storage = storageFields(context.storageProbe.reachability);
    if (context.phase === 'ready' && !storage.reachable) {
      sendJson(res, state, '503 Service Unavailable', { status: 'not_ready', reason: `${storage.backend} storage unreachable`, service: 'arc', timestamp, storage });
    } else if (context.phase === 'ready') {
      sendJson(res, state, '200 OK', {
        status: 'ready',
        service: 'arc',
        version: context.version,
        timestamp,
        decoders: context.pipeline.decoderCount,
        writers: context.pipeline.writerCount,
        storage,
      });
    } else {
      const reason = context.phase === 'stopping' ? 'shutting down' : context.walRecovery.state === 'replaying' ? 'replaying the write-ahead log' : 'starting';
      sendJson(res, state, '503 Service Unavailable', { status: 'not_ready', reason, service: 'arc', timestamp });
    }
  });
  app.any('/*', (res, req) => {
    const request = readRequestInfo(req);
    const state = newResponseState(res);
    // Through the error mapper, like every error: the echoed URL is bounded with the message.
    sendError(res, state, new ArcError(ErrorKind.notFound, ServerErrorCode.notFound, `Not found: ${request.method} ${request.url}`));
  });
}
