import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import type { QueryPoolStats } from '@arc/query';
import { ServerErrorCode } from './error-codes.js';
import { newResponseState, sendBytes, sendError, sendJson } from './http-response.js';
import { metricsFormatOf } from './metrics-registry.js';
import { readRequestInfo } from './request-info.js';
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
 * `GET /metrics`: every series, read at scrape time, as Prometheus text 0.0.4, OpenMetrics (Accept:
 * application/openmetrics-text, what Prometheus asks for first) or JSON (Accept: application/json).
 * Needs any valid token (Prometheus sends one as `Authorization: Bearer`), unless
 * `[metrics] public = true`.
 */
function handleScrape(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const format = metricsFormatOf(req.getHeader('accept'));
  const state = newResponseState(res);
  const allowed = context.config.metrics.public ? Promise.resolve(null) : context.auth.check(request, 'read', null);
  void allowed.then(async (identity) => {
    if (identity instanceof ArcError) {
      sendError(res, state, identity);
      return;
    }
    const rendered = await context.metrics.render(format);
    sendBytes(res, state, rendered.contentType, Buffer.from(rendered.body));
  });
}

function unknownType(type: string, types: readonly string[]): ArcError {
  return new ArcError(ErrorKind.notFound, ServerErrorCode.metricsUnknownType, `No metrics time series '${type}'; valid types: ${types.join(', ')}`, { type, valid_types: types.join(',') });
}

/**
 * Monitoring answers under /metrics. Besides the scrape, for any valid token like the other stats
 * routes: recent values for a console, per-route request counts and latency, memory per thread,
 * and the query pool's state (read from its shared control block on the acceptor thread: no
 * message to a worker, so the answer comes at once even when every worker is busy).
 */
export function registerMetricsRoutes(app: TemplatedApp, context: ServerContext): void {
  app.get('/metrics', (res, req) => handleScrape(context, res, req));
  app.get('/metrics/query-pool', (res, req) =>
    withReadToken(context, res, req, (send) => {
      send(queryPoolBody(context.queryPool.stats()));
    }),
  );
  app.get('/metrics/endpoints', (res, req) => withReadToken(context, res, req, (send) => send({ endpoints: context.metrics.requests.endpoints() })));
  app.get('/metrics/memory', (res, req) => withReadToken(context, res, req, (send) => send(context.metrics.memory())));
  app.get('/metrics/timeseries/:type', (res, req) => handleTimeseries(context, res, req));
}

/** `GET /metrics/timeseries/{type}`: the type's recent points, oldest first, or 404 naming the valid types. */
function handleTimeseries(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  // Types are plain words: the parameter is compared as sent, never decoded.
  const type = req.getParameter(0);
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  void context.auth.check(request, 'read', null).then((identity) => {
    if (identity instanceof ArcError) return sendError(res, state, identity);
    const recent = context.metrics.recent;
    const points = recent?.points(type) ?? null;
    if (recent === null || points === null) return sendError(res, state, unknownType(type, recent?.types ?? []));
    sendJson(res, state, '200 OK', { type, interval_seconds: recent.intervalMs / 1000, points });
  });
}
