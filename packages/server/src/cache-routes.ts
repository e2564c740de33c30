import type { HttpResponse, TemplatedApp, HttpRequest } from 'uWebSockets.js';
import { ArcError } from '@arc/config';
import type { Permission } from '@arc/auth';
import { newResponseState, sendError, sendJson } from './http-response.js';
import type { QueryCache } from './query-cache.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

function withToken(context: ServerContext, res: HttpResponse, req: HttpRequest, permission: Permission, answer: () => unknown): void {
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  void context.auth.check(request, permission, null).then((identity) => {
    if (identity instanceof ArcError) return sendError(res, state, identity);
    sendJson(res, state, '200 OK', answer());
  });
}

/**
 * `GET /cache/stats` and `/cache/health` (any valid token) and `POST /cache/clear` (admin), with
 * `/api/v1/...` aliases. Health is "healthy" while the cache is enabled and within its bounds.
 */
export function registerCacheRoutes(app: TemplatedApp, context: ServerContext, cache: QueryCache): void {
  for (const prefix of ['', '/api/v1']) {
    app.get(`${prefix}/cache/stats`, (res, req) => withToken(context, res, req, 'read', () => ({ success: true, ...cache.stats() })));
    app.get(`${prefix}/cache/health`, (res, req) =>
      withToken(context, res, req, 'read', () => {
        const stats = cache.stats();
        const status = !cache.enabled ? 'disabled' : Number(stats.entries) <= Number(stats.max_size) ? 'healthy' : 'degraded';
        return { success: true, status, enabled: cache.enabled, entries: stats.entries, max_size: stats.max_size, hit_rate: stats.hit_rate };
      }),
    );
    app.post(`${prefix}/cache/clear`, (res, req) => {
      // A POST without a body still needs onData/onAborted handled by uWS: nothing to read here.
      withToken(context, res, req, 'admin', () => ({ success: true, cleared: cache.clear() }));
    });
  }
}
