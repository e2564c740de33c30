import type { HttpRequest } from 'uWebSockets.js';

/**
 * What a handler needs from the request, read synchronously: uWS's HttpRequest is only valid
 * until the handler first returns (before any await or onData callback).
 */
export interface RequestInfo {
  readonly method: string;
  readonly url: string;
  readonly query: URLSearchParams;
  readonly authorization: string;
  readonly apiKey: string;
  readonly database: string;
  readonly contentLength: string;
  /** uWS closes the connection after the answer: `Connection: close` (see LINGER_BYTES_MAX). */
  readonly closesConnection: boolean;
  readonly receivedAtUs: number;
}

/**
 * The raw query string (after the '?'), '' when the URL has none. uWS answers undefined then,
 * though its typings say string, so the value is typed here as it comes.
 */
export function rawQueryOf(req: HttpRequest): string {
  const query = req.getQuery() as string | undefined;
  return query ?? '';
}

export function readRequestInfo(req: HttpRequest): RequestInfo {
  return {
    method: req.getMethod().toUpperCase(),
    url: req.getUrl(),
    query: new URLSearchParams(rawQueryOf(req)),
    authorization: req.getHeader('authorization'),
    apiKey: req.getHeader('x-api-key'),
    database: req.getHeader('x-arc-database'),
    contentLength: req.getHeader('content-length'),
    closesConnection: closesConnection(req),
    receivedAtUs: Date.now() * 1000,
  };
}

/**
 * As uWS 20.30 decides it: a `connection` header of 5 characters (`close`). uWS also closes after
 * an HTTP/1.0 request, which its JavaScript API does not reveal.
 */
function closesConnection(req: HttpRequest): boolean {
  return req.getHeader('connection').length === 5;
}
