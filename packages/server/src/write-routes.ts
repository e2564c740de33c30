import type { HttpResponse, HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/config';
import { PayloadFormat } from './frames.js';
import { newResponseState, sendError, sendJson, sendNoContent, type ResponseState } from './http-response.js';
import { readBody } from './request-body.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

/** MessagePack write paths: the README's first, then the Go version's aliases. */
export const MSGPACK_WRITE_PATHS = ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'] as const;

const ingestBusy = (): ArcError =>
  new ArcError(ErrorKind.unavailable, 'ARC_INGEST_BUSY', 'Every decoder is busy; retry later');
const shuttingDown = (): ArcError => new ArcError(ErrorKind.unavailable, 'ARC_SHUTTING_DOWN', 'Server is shutting down');

/**
 * The acceptor's write path: check the token and the database name, collect the body, hand it to
 * a decoder ring, answer with the decoder's verdict. No payload parsing happens here.
 */
function handleMsgpackWrite(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  const database = request.database === '' ? DEFAULT_DATABASE : request.database;
  const authorized = context.auth.check(request, 'write', database);
  readBody(res, request.contentLength, context.config.server.bodyBytesMax, (body) => {
    void authorized.then((identity) => {
      if (identity instanceof ArcError) return sendError(res, state, identity);
      if (body instanceof ArcError) return sendError(res, state, body);
      const nameError = validateDatabaseName(database);
      if (nameError !== null) return sendError(res, state, nameError);
      submit(context, res, state, request, database, body);
    });
  });
}

function submit(context: ServerContext, res: HttpResponse, state: ResponseState, request: RequestInfo, database: string, body: Uint8Array): void {
  if (context.phase === 'stopping') return sendError(res, state, shuttingDown());
  const outcome = context.pipeline.submit(database, PayloadFormat.msgpack, body, request.receivedAtUs, (completion) => {
    if (completion.error !== null) sendError(res, state, completion.error);
    else sendNoContent(res, state);
  });
  if (outcome === 'busy') sendError(res, state, ingestBusy());
}

/** `POST /write/flush` (admin): answers once every buffered row is in a durable Parquet file. */
function handleFlush(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const state = newResponseState(res);
  void context.auth.check(request, 'admin', null).then(async (identity) => {
    if (identity instanceof ArcError) return sendError(res, state, identity);
    const started = performance.now();
    const error = await context.pipeline.flushAll();
    if (error !== null) return sendError(res, state, error);
    sendJson(res, state, '200 OK', { success: true, flushed: true, execution_time_ms: Math.round(performance.now() - started) });
  });
}

export function registerWriteRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const path of MSGPACK_WRITE_PATHS) app.post(path, (res, req) => handleMsgpackWrite(context, res, req));
  app.post('/write/flush', (res, req) => handleFlush(context, res, req));
}
