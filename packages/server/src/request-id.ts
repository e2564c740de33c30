import { randomUUID } from 'node:crypto';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { ServerLogger } from './log.js';
import { REQUEST_ID_CHARS_MAX } from './limits.js';
import { rawQueryOf } from './request-info.js';
import type { HandlerWrapper } from './route-table.js';

/** Sent back on every answer, and taken from the request when the client set a sane one. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Letters, digits and `._:+=/-`: what UUIDs, trace ids and base64 ids use, nothing a log line or header could misread. */
export const REQUEST_ID_PATTERN = new RegExp(`^[A-Za-z0-9._:+=/-]{1,${String(REQUEST_ID_CHARS_MAX)}}$`);

/**
 * Where a request's id is kept: on its response object, which uWS makes per request and lets
 * hold user data (its HttpRequest dies when the handler first returns; every answer is written
 * through the response). A property costs nothing measurable; a WeakMap keyed by response cost
 * about 1 us per request here, mostly in the garbage collector.
 */
const REQUEST_ID_KEY = 'arcRequestId';

/** The client's id when it is short and plain, else a new one. */
export function requestIdFrom(header: string): string {
  return REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

/** The id of the request `res` answers; one is made for a request that got none at its start (refused before its route ran). */
export function requestIdOf(res: HttpResponse): string {
  const kept = res[REQUEST_ID_KEY] as string | undefined;
  if (kept !== undefined) return kept;
  const id = randomUUID();
  res[REQUEST_ID_KEY] = id;
  return id;
}

/**
 * Gives each request its id before its route's handler runs; at debug level, logs the request
 * (method, path, query string: the logger redacts its secrets, `?p=` and the like).
 */
export function requestIds(log: ServerLogger): HandlerWrapper {
  return (_route, handler) => (res: HttpResponse, req: HttpRequest) => {
    const id = requestIdFrom(req.getHeader('x-request-id'));
    res[REQUEST_ID_KEY] = id;
    if (log.isLevelEnabled('debug')) log.debug('request', { request_id: id, method: req.getMethod().toUpperCase(), path: req.getUrl(), query: rawQueryOf(req) });
    handler(res, req);
  };
}
