import type { HttpResponse } from 'uWebSockets.js';
import { ErrorKind, type ArcErrorShape } from '@arc/errors';
import { RETRY_AFTER_SECONDS, UWS_CORK_BUFFER_BYTES } from './limits.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';

/**
 * The one place where errors become HTTP responses: the error's kind picks
 * the status; the body is `{"error": message, "code": ..., ...details}` (query routes add
 * `"success": false`). Authentication failures carry exactly the bodies the README documents.
 */
const STATUS_BY_KIND: Readonly<Record<ErrorKind, string>> = {
  bad_request: '400 Bad Request',
  unauthorized: '401 Unauthorized',
  forbidden: '403 Forbidden',
  not_found: '404 Not Found',
  conflict: '409 Conflict',
  too_large: '413 Payload Too Large',
  headers_too_large: '431 Request Header Fields Too Large',
  request_timeout: '408 Request Timeout',
  unavailable: '503 Service Unavailable',
  timeout: '504 Gateway Timeout',
  internal: '500 Internal Server Error',
};

/**
 * plain: `{error, code, ...details}`; query: the same with `success: false`; influxV2: the same with
 * `message` (the text again), which InfluxDB 2.x clients read (`@influxdata/influxdb-client`'s
 * HttpError.message, Telegraf's influxdb_v2 log line) where InfluxDB answers `{code, message}`
 * (401 and 403 keep their one exact body everywhere).
 */
export const ErrorBodyStyle = { plain: 'plain', query: 'query', influxV2: 'influxV2' } as const;
export type ErrorBodyStyle = (typeof ErrorBodyStyle)[keyof typeof ErrorBodyStyle];

/**
 * Told a response's status as it is written (and the error code of an error answer): how request
 * metrics (metrics-requests.ts) see every answer, streamed ones too, without a wrapper per response.
 */
export interface StatusObserver {
  statusWritten(res: HttpResponse, status: string, errorCode: string | null): void;
}

const STATUS_OBSERVER = Symbol('arc.statusObserver');
const ERROR_CODE = Symbol('arc.errorCode');
interface Observed {
  [STATUS_OBSERVER]?: StatusObserver | undefined;
  [ERROR_CODE]?: string | undefined;
}

/** Attaches the observer that writeStatus tells (once) about this response. */
export function observeStatus(res: HttpResponse, observer: StatusObserver): void {
  const observed = res as HttpResponse & Observed;
  observed[STATUS_OBSERVER] = observer;
  observed[ERROR_CODE] = undefined;
}

/** Every status goes out through here (never `res.writeStatus` directly), so metrics see it. */
export function writeStatus(res: HttpResponse, status: string): HttpResponse {
  const observed = res as HttpResponse & Observed;
  const observer = observed[STATUS_OBSERVER];
  if (observer !== undefined) {
    observed[STATUS_OBSERVER] = undefined;
    observer.statusWritten(res, status, observed[ERROR_CODE] ?? null);
  }
  return res.writeStatus(status);
}

/** Per-request state: uWS forbids touching `res` after the client aborted. */
export interface ResponseState {
  aborted: boolean;
  answered: boolean;
  /** Echoed in X-Request-Id and carried by the log lines about this request. */
  readonly requestId: string;
}

export function newResponseState(res: HttpResponse, onAbort?: () => void): ResponseState {
  const state: ResponseState = { aborted: false, answered: false, requestId: requestIdOf(res) };
  res.onAborted(() => {
    state.aborted = true;
    onAbort?.();
  });
  return state;
}

/** The status line and the headers every answer carries (X-Request-Id); write other headers after it. */
export function writeHead(res: HttpResponse, state: ResponseState, status: string): HttpResponse {
  return writeStatus(res, status).writeHeader(REQUEST_ID_HEADER, state.requestId);
}

/** Runs `write` corked, exactly once per request, and not at all after an abort. */
export function respond(res: HttpResponse, state: ResponseState, write: () => void): void {
  if (state.aborted || state.answered) return;
  state.answered = true;
  res.cork(write);
}

export function sendJson(res: HttpResponse, state: ResponseState, status: string, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  respond(res, state, () => {
    writeHead(res, state, status).writeHeader('Content-Type', 'application/json');
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(JSON.stringify(body));
  });
}

export function sendBytes(res: HttpResponse, state: ResponseState, contentType: string, body: Uint8Array, headers: Readonly<Record<string, string>> = {}): void {
  respond(res, state, () => {
    writeHead(res, state, '200 OK').writeHeader('Content-Type', contentType);
    for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
    res.end(body);
  });
}

export function sendNoContent(res: HttpResponse, state: ResponseState): void {
  respond(res, state, () => {
    writeHead(res, state, '204 No Content').endWithoutBody();
  });
}

export function errorBody(error: ArcErrorShape, style: ErrorBodyStyle): Record<string, unknown> {
  // 401 and 403 bodies are exactly `{"error": ...}` on every route (README, Authentication).
  if (error.kind === ErrorKind.unauthorized || error.kind === ErrorKind.forbidden) return { error: error.message };
  const body: Record<string, unknown> = style === ErrorBodyStyle.query ? { success: false } : {};
  body.error = error.message;
  body.code = error.code;
  if (error.details !== undefined) Object.assign(body, error.details);
  return style === ErrorBodyStyle.influxV2 ? { ...body, message: error.message } : body;
}

/**
 * The error of one item of a batch answer (a dead letter of a replay, the stored reason of a
 * listed one): `{"code", "message"}`, inside a 200 whose other items may have succeeded.
 */
export function itemErrorBody(error: Pick<ArcErrorShape, 'code' | 'message'>): { readonly code: string; readonly message: string } {
  return { code: error.code, message: error.message };
}

export function sendError(res: HttpResponse, state: ResponseState, error: ArcErrorShape, style: ErrorBodyStyle = ErrorBodyStyle.plain): void {
  const headers: Record<string, string> = error.kind === ErrorKind.unavailable ? { 'Retry-After': String(RETRY_AFTER_SECONDS) } : {};
  (res as HttpResponse & Observed)[ERROR_CODE] = error.code;
  sendJson(res, state, STATUS_BY_KIND[error.kind], errorBody(error, style), headers);
}

/**
 * sendError for a request uWS will close right after its handler returns (see
 * UWS_CONTENT_LENGTH_DIGITS_MAX): the JSON is padded with trailing spaces past uWS's cork buffer,
 * which makes uWS write it to the socket at once instead of buffering it until after the close.
 * Call it from the handler itself, not after an await.
 */
export function sendErrorBeforeClose(res: HttpResponse, state: ResponseState, error: ArcErrorShape): void {
  const json = JSON.stringify(errorBody(error, ErrorBodyStyle.plain));
  (res as HttpResponse & Observed)[ERROR_CODE] = error.code;
  respond(res, state, () => {
    writeHead(res, state, STATUS_BY_KIND[error.kind]).writeHeader('Content-Type', 'application/json');
    res.end(json.padEnd(UWS_CORK_BUFFER_BYTES + 1, ' '));
  });
}
