import type { TemplatedApp } from 'uWebSockets.js';
import type { QueryPoolStats } from '@arc/query';
import type { ServerContext } from './server-context.js';
import { withReadToken } from './write-stats-routes.js';

/** The query pool's state in the README's spelling (snake_case, like every stats answer). */
export function queryPoolBody(stats: QueryPoolStats): Record<string, number> {
  return {
    threads: stats.threads,
    queue_max: stats.queueSizeMax,
    running: stats.running,
    queued: stats.queued,
    cancelling: stats.cancelling,
    completed: stats.completed,
    refused: stats.refused,
    timed_out: stats.timedOut,
    aborted: stats.aborted,
  };
}

/**
 * Monitoring answers under /metrics, for any valid token like the other stats routes. The query
 * pool's state is read from its shared control block on the acceptor thread: no message to a
 * worker, so the answer comes at once even when every worker is busy.
 */
export function registerMetricsRoutes(app: TemplatedApp, context: ServerContext): void {
  app.get('/metrics/query-pool', (res, req) =>
    withReadToken(context, res, req, (send) => {
      send(queryPoolBody(context.queryPool.stats()));
    }),
  );
}
