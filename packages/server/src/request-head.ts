import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { newResponseState, sendError, sendErrorBeforeClose } from './http-response.js';
import { HTTP_HEAD_BYTES_MAX, UWS_CONTENT_LENGTH_DIGITS_MAX } from './limits.js';
import { ProtocolErrorCode } from '@arc/protocol';
import { ServerErrorCode } from './error-codes.js';
import { rawQueryOf } from './request-info.js';

type RouteHandler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;
type RouteMethod = 'get' | 'post' | 'put' | 'patch' | 'del' | 'options' | 'head' | 'any';
const ROUTE_METHODS: readonly RouteMethod[] = ['get', 'post', 'put', 'patch', 'del', 'options', 'head', 'any'];

/** `GET ` and ` HTTP/1.1\r\n` around the target, and the blank line closing the head. */
const REQUEST_LINE_FRAMING_BYTES = 1 + 11;
const HEAD_END_BYTES = 2;
/** `: ` and `\r\n` around a header's value. */
const HEADER_FRAMING_BYTES = 4;

/**
 * The size of the request head as a client writes it (request line, `name: value` lines, blank
 * line). uWS gives the parts, not the raw bytes, so this counts characters of the parts: exact for
 * ASCII heads, which HTTP heads are in practice.
 */
export function requestHeadBytes(req: HttpRequest): number {
  const query = rawQueryOf(req);
  let bytes = req.getMethod().length + req.getUrl().length + (query === '' ? 0 : 1 + query.length) + REQUEST_LINE_FRAMING_BYTES + HEAD_END_BYTES;
  req.forEach((name, value) => {
    bytes += name.length + value.length + HEADER_FRAMING_BYTES;
  });
  return bytes;
}

function headTooLarge(bytes: number): ArcError {
  return new ArcError(
    ErrorKind.headersTooLarge,
    ServerErrorCode.headersTooLarge,
    `Request line and headers take ${bytes} bytes; the limit is ${HTTP_HEAD_BYTES_MAX} bytes`,
    { limit_bytes: HTTP_HEAD_BYTES_MAX },
  );
}

function contentLengthUnreadable(contentLength: string): ArcError {
  const largestReadable = '9'.repeat(UWS_CONTENT_LENGTH_DIGITS_MAX);
  return new ArcError(
    ErrorKind.tooLarge,
    ProtocolErrorCode.payloadTooLarge,
    `Content-Length has ${contentLength.length} digits: a body over ${largestReadable} bytes is over every body limit of this server`,
    { content_length_max: Number(largestReadable) },
  );
}

/**
 * The error for a request uWS cannot read past its head, or null. Its answer must leave from the
 * handler itself: uWS closes such a connection right after the handler returns.
 */
function unreadableRequest(req: HttpRequest): ArcError | null {
  const contentLength = req.getHeader('content-length');
  return contentLength.length > UWS_CONTENT_LENGTH_DIGITS_MAX ? contentLengthUnreadable(contentLength) : null;
}

/**
 * Makes every route registered on `app` afterwards answer 431 to a request whose head is over
 * HTTP_HEAD_BYTES_MAX, before its own handler runs (see HTTP_HEAD_BYTES_MAX for why the limit
 * must be enforced here rather than left to uWS), and 413 to a Content-Length uWS cannot read
 * (see UWS_CONTENT_LENGTH_DIGITS_MAX).
 */
export function limitRequestHeads(app: TemplatedApp): void {
  for (const method of ROUTE_METHODS) {
    const register = app[method].bind(app);
    app[method] = (pattern, handler: RouteHandler) =>
      register(pattern, (res, req) => {
        const bytes = requestHeadBytes(req);
        const unreadable = unreadableRequest(req);
        const refusal = bytes > HTTP_HEAD_BYTES_MAX ? headTooLarge(bytes) : unreadable;
        if (refusal === null) return handler(res, req);
        // The 431 of a head that also has an unreadable length must leave before uWS's close too.
        if (unreadable === null) sendError(res, newResponseState(res), refusal);
        else sendErrorBeforeClose(res, newResponseState(res), refusal);
      });
  }
}
