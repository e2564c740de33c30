import type { TemplatedApp } from 'uWebSockets.js';
import { answer, registerManagementRoutes, type ManagementRoute } from './management-route.js';
import type { QueryCache } from './query-cache.js';
import type { ServerContext } from './server-context.js';

/**
 * `GET /cache/stats` and `/cache/health` (any token that may read) and `POST /cache/clear`
 * (admin), with `/api/v1/...` aliases. Health is "healthy" while the cache is enabled and within
 * its bounds.
 */
function cacheRoutes(cache: QueryCache): ManagementRoute[] {
  return [
    { method: 'get', path: '/cache/stats', permission: 'read', readsBody: false, handle: () => answer('200 OK', { success: true, ...cache.stats() }) },
    {
      method: 'get',
      path: '/cache/health',
      permission: 'read',
      readsBody: false,
      handle: () => {
        const stats = cache.stats();
        const status = !cache.enabled ? 'disabled' : Number(stats.entries) <= Number(stats.max_size) ? 'healthy' : 'degraded';
        return answer('200 OK', { success: true, status, enabled: cache.enabled, entries: stats.entries, max_size: stats.max_size, hit_rate: stats.hit_rate });
      },
    },
    { method: 'post', path: '/cache/clear', permission: 'admin', readsBody: false, handle: () => answer('200 OK', { success: true, cleared: cache.clear() }) },
  ];
}

export function registerCacheRoutes(app: TemplatedApp, context: ServerContext, cache: QueryCache): void {
  registerManagementRoutes(app, context, cacheRoutes(cache), '/api/v1');
}
