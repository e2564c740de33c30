import type { HttpResponse, HttpRequest, TemplatedApp } from 'uWebSockets.js';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { LineProtocolPrecision, parsePrecision, type LineProtocolDialect } from '@arc/protocol';
import { PayloadFormat, type RequestOptions } from '@arc/ingest';
import { ErrorBodyStyle, newResponseState, sendError, sendJson, sendNoContent, type ResponseState } from './http-response.js';
import { readBodyInto } from './request-body.js';
import { BodyBufferPool } from './body-buffers.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { logRejectedWrite } from './log-requests.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * A write endpoint: its payload format, where an InfluxDB client names the database when the
 * `x-arc-database` header is absent (the header wins), and its precision dialect.
 */
export interface WriteEndpoint {
  readonly path: string;
  readonly format: PayloadFormat;
  readonly databaseParameter: 'db' | 'bucket' | null;
  /** Line protocol only: which `precision` spellings the endpoint accepts. */
  readonly precisionDialect: LineProtocolDialect | null;
}

/** MessagePack paths (the README's first, then the Go version's aliases), InfluxDB's, then JSON. */
export const WRITE_ENDPOINTS: readonly WriteEndpoint[] = [
  { path: '/write/v2/msgpack', format: PayloadFormat.msgpack, databaseParameter: null, precisionDialect: null },
  { path: '/api/v2/msgpack', format: PayloadFormat.msgpack, databaseParameter: null, precisionDialect: null },
  { path: '/api/v1/write/msgpack', format: PayloadFormat.msgpack, databaseParameter: null, precisionDialect: null },
  { path: '/write', format: PayloadFormat.lineProtocol, databaseParameter: 'db', precisionDialect: 'v1' },
  { path: '/api/v1/write', format: PayloadFormat.lineProtocol, databaseParameter: 'db', precisionDialect: 'v1' },
  { path: '/api/v2/write', format: PayloadFormat.lineProtocol, databaseParameter: 'bucket', precisionDialect: 'v2' },
  { path: '/api/v1/write/line-protocol', format: PayloadFormat.lineProtocol, databaseParameter: 'db', precisionDialect: 'v1' },
  { path: '/write/json', format: PayloadFormat.json, databaseParameter: null, precisionDialect: null },
  { path: '/api/v1/write/json', format: PayloadFormat.json, databaseParameter: null, precisionDialect: null },
];

const ingestBusy = (bytesHeld: number, bytesHeldMax: number): ArcError =>
  new ArcError(
    ErrorKind.unavailable,
    ServerErrorCode.ingestBusy,
    `Writes waiting or being decoded hold ${bytesHeld} bytes, past ingest.in_flight_max_mb (${bytesHeldMax} bytes) with this one; retry later`,
    { bytes_held: bytesHeld, bytes_held_max: bytesHeldMax },
  );
const shuttingDown = (): ArcError => new ArcError(ErrorKind.unavailable, ServerErrorCode.shuttingDown, 'Server is shutting down');
const starting = (): ArcError => new ArcError(ErrorKind.unavailable, ServerErrorCode.starting, 'Server is starting (replaying the write-ahead log); retry later');

export function databaseOf(endpoint: WriteEndpoint, request: RequestInfo): string {
  if (request.database !== '') return request.database;
  const named = endpoint.databaseParameter === null ? null : request.query.get(endpoint.databaseParameter);
  return named === null || named === '' ? DEFAULT_DATABASE : named;
}

/** The frame options of a write, or the 400 for a bad database name or precision. */
export function requestOptions(endpoint: WriteEndpoint, request: RequestInfo, database: string): RequestOptions | ArcError {
  const nameError = validateDatabaseName(database);
  if (nameError !== null) return nameError;
  const precision = endpoint.precisionDialect === null ? LineProtocolPrecision.ns : parsePrecision(request.query.get('precision'), endpoint.precisionDialect);
  if (precision instanceof ArcError) return precision;
  return { format: endpoint.format, database, nowUs: request.receivedAtUs, precision };
}

/**
 * The acceptor's write path: check the token and the database name, collect the body, hand it to
 * a decoder ring, answer with the decoder's verdict. No payload parsing happens here.
 */
function handleWrite(context: ServerContext, bodies: BodyBufferPool, endpoint: WriteEndpoint, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  // Counted so that an operator (and a test) can tell clients that hang up from ones never seen.
  const state = newResponseState(res, () => context.ingestStats.recordAborted());
  const database = databaseOf(endpoint, request);
  const authorized = context.auth.check(request, 'write', database);
  const style = endpoint.precisionDialect === 'v2' ? ErrorBodyStyle.influxV2 : ErrorBodyStyle.plain;
  readBodyInto(res, request, context.config.server.bodyBytesMax, bodies, (body) => {
    void authorized.then((identity) => {
      // Refused before a decoder saw it: counted by reason only (the database may be no valid name).
      const refuse = (error: ArcError): void => {
        if (!(body instanceof ArcError)) bodies.give(body);
        context.metrics.ingest.refused(error);
        sendError(res, state, error, style);
      };
      if (identity instanceof ArcError) return refuse(identity);
      if (body instanceof ArcError) return refuse(body);
      const options = requestOptions(endpoint, request, database);
      if (options instanceof ArcError) return refuse(options);
      submit(context, res, { state, style, bodies }, options, body);
    });
  });
}

/** Where a write's answer goes: the response and the error body style of its endpoint; where its body goes back once answered. */
interface WriteReply {
  readonly state: ResponseState;
  readonly style: ErrorBodyStyle;
  readonly bodies: BodyBufferPool;
}

function submit(context: ServerContext, res: HttpResponse, reply: WriteReply, options: RequestOptions, body: Uint8Array): void {
  const { state, style, bodies } = reply;
  const meter = context.metrics.ingest;
  if (context.phase === 'stopping') return refuseUnready(context, res, reply, options, body, shuttingDown());
  // New entries must not overtake replayed ones of the same WAL stream in a writer's buffer.
  if (context.phase === 'starting') return refuseUnready(context, res, reply, options, body, starting());
  const outcome = context.pipeline.submit(options, body, (completion) => {
    context.ingestStats.record(options.format, body.byteLength, completion.rowCount, completion.error);
    meter.written(options.format, options.database, body.byteLength, completion.rowCount, completion.error);
    // The verdict is in: the pipeline no longer holds the body (the decoder read a copy in its ring).
    bodies.give(body);
    if (completion.error === null) return sendNoContent(res, state);
    sendError(res, state, completion.error, style);
    logRejectedWrite(context.log, state.requestId, options.database, completion.error);
  });
  if (outcome === 'busy') {
    const busy = ingestBusy(context.pipeline.writeBytesHeld, context.config.ingest.inFlightBytesMax);
    context.ingestStats.record(options.format, body.byteLength, 0, busy);
    meter.written(options.format, options.database, body.byteLength, 0, busy);
    bodies.give(body);
    sendError(res, state, busy, style);
    logRejectedWrite(context.log, state.requestId, options.database, busy);
  }
}

/** A write refused because the server is starting or stopping: counted like any other verdict. */
function refuseUnready(context: ServerContext, res: HttpResponse, reply: WriteReply, options: RequestOptions, body: Uint8Array, error: ArcError): void {
  context.metrics.ingest.written(options.format, options.database, body.byteLength, 0, error);
  reply.bodies.give(body);
  sendError(res, reply.state, error, reply.style);
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
  // One pool for every write endpoint: a body's buffer serves the next write whatever its format.
  const bodies = new BodyBufferPool();
  for (const endpoint of WRITE_ENDPOINTS) app.post(endpoint.path, (res, req) => handleWrite(context, bodies, endpoint, res, req));
  app.post('/write/flush', (res, req) => handleFlush(context, res, req));
}
