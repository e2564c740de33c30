// /health and /ready answer from the state the acceptor already holds: proven by calling the
// registered handlers with a fake response over contexts in each phase (starting, replaying the
// WAL, ready, storage unreachable, stopping) and reading the status and body they write.
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { registerHealthRoutes, uptimeFields } from '../src/health-routes.js';
import type { ServerContext } from '../src/server-context.js';
import type { RouteHandler } from '../src/route-table.js';

interface Written {
  status: string;
  body: Record<string, unknown>;
}

/** Registers the health routes on a fake app; `call(path)` runs the handler and returns what it wrote. */
function healthRoutes(context: ServerContext): (path: string) => Written {
  const handlers = new Map<string, RouteHandler>();
  const app = { get: (pattern: string, handler: RouteHandler) => handlers.set(pattern, handler), any: () => app } as unknown as TemplatedApp;
  registerHealthRoutes(app, context);
  return (path) => {
    const written: Written = { status: '', body: {} };
    const res = {
      onAborted: () => res,
      cork: (write: () => void) => write(),
      writeStatus: (status: string) => ((written.status = status), res),
      writeHeader: () => res,
      end: (text: string) => ((written.body = JSON.parse(text) as Record<string, unknown>), res),
    };
    const handler = handlers.get(path);
    if (handler === undefined) throw new Error(`no route ${path}`);
    handler(res as unknown as HttpResponse, {} as HttpRequest);
    return written;
  };
}

function fakeContext(overrides: { phase?: string; walState?: string; reachable?: boolean; queued?: number }): ServerContext {
  return {
    phase: overrides.phase ?? 'ready',
    version: '9.9.9',
    config: { wal: { enabled: overrides.walState !== 'off', syncMode: 'fdatasync' } },
    storage: { backend: { nodeId: 'node-a' } },
    storageProbe: { reachability: { backend: 'local', reachable: overrides.reachable ?? true, error: overrides.reachable === false ? 'ECONNREFUSED' : null, checkedAtMs: 0 } },
    queryPool: { stats: () => ({ threads: 2, running: 1, queued: overrides.queued ?? 0, queueSizeMax: 4 }) },
    compaction: { status: () => ({ enabled: true, running: 0, queued: 1 }) },
    walRecovery: { state: overrides.walState ?? 'done', entriesReplayed: 7 },
    pipeline: { decoderCount: 3, writerCount: 2, inFlight: 5 },
  } as unknown as ServerContext;
}

describe('health routes', () => {
  it('/ready is 503 while the WAL replays, naming it, and /health reports the WAL replaying', () => {
    const call = healthRoutes(fakeContext({ phase: 'starting', walState: 'replaying' }));
    const ready = call('/ready');
    expect(ready.status).toBe('503 Service Unavailable');
    expect(ready.body).toMatchObject({ status: 'not_ready', reason: 'replaying the write-ahead log' });
    const health = call('/health').body as { components: Record<string, { status: string }> };
    expect(health.components.wal?.status).toBe('replaying');
    expect(health.components.server?.status).toBe('starting');
  });

  it('/ready is 200 once ready with the store reachable, and 503 again when the store is not', () => {
    expect(healthRoutes(fakeContext({}))('/ready').status).toBe('200 OK');
    const down = healthRoutes(fakeContext({ reachable: false }));
    expect(down('/ready')).toMatchObject({ status: '503 Service Unavailable', body: { status: 'not_ready', reason: 'local storage unreachable' } });
    expect(down('/health')).toMatchObject({ status: '503 Service Unavailable', body: { status: 'unhealthy', components: { storage: { status: 'unreachable', error: 'ECONNREFUSED' } } } });
  });

  it('/health reports uptime as a string, the version, the node and every component', () => {
    const health = healthRoutes(fakeContext({ queued: 4 }))('/health');
    expect(health.status).toBe('200 OK');
    expect(health.body).toMatchObject({ status: 'healthy', version: '9.9.9', node_id: 'node-a' });
    expect(typeof health.body.uptime).toBe('string');
    expect(health.body.components).toEqual({
      server: { status: 'ok' },
      storage: { status: 'ok', backend: 'local', reachable: true, checked_at: '1970-01-01T00:00:00.000Z' },
      ingest: { status: 'ok', decoders: 3, writers: 2, requests_in_flight: 5 },
      wal: { status: 'ok', sync_mode: 'fdatasync', entries_replayed: 7 },
      query: { status: 'saturated', threads: 2, running: 1, queued: 4, queue_max: 4 },
      compaction: { status: 'ok', running: 0, queued: 1 },
    });
  });

  it('/ready is 503 while stopping', () => {
    expect(healthRoutes(fakeContext({ phase: 'stopping' }))('/ready').body).toMatchObject({ status: 'not_ready', reason: 'shutting down' });
  });

  it('spells uptime the way Go prints durations', () => {
    expect(uptimeFields(0, 3_723_000)).toEqual({ uptime: '1h2m3s', uptime_sec: 3723 });
    expect(uptimeFields(0, 65_000).uptime).toBe('1m5s');
    expect(uptimeFields(0, 999).uptime).toBe('0s');
  });
});
