import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { TokenInfo } from '@arc/auth';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import {
  ANSWER_FORMATS,
  CONTENT_TYPE_BY_STREAM_FORMAT,
  QUERY_ROW_LIMIT_MAX,
  STREAM_FORMATS,
  compressionFor,
  isAnswerFormat,
  isStreamFormat,
  type AnswerFormat,
  type QueryAnswer,
  type StreamFormat,
} from '@arc/query';
import { answerInfluxQuery, handleInfluxQuery, isJsonObjectBody, queryDialectOf } from './influx-query-routes.js';
import { ErrorBodyStyle, newResponseState, respond, sendBytes, sendError, sendJson, writeHead, type ResponseState } from './http-response.js';
import { QUERY_BODY_BYTES_MAX } from './limits.js';
import { logQueryEnd, type QueryEnd } from './log-requests.js';
import { QueryCache } from './query-cache.js';
import { markQuery } from './metrics-requests.js';
import { readBody } from './request-body.js';
import { rawQueryOf, readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { QueryErrorCode, mayCallLastCache } from '@arc/query';
import type { LastValueTable } from '@arc/columnar';
import { ServerErrorCode } from './error-codes.js';

export const SQL_QUERY_PATHS = ['/query', '/api/v1/query'] as const;
const STREAM_QUERY_PATHS = ['/query/stream', '/api/v1/query/stream'] as const;
const ESTIMATE_QUERY_PATHS = ['/query/estimate', '/api/v1/query/estimate'] as const;

/** Paths that fix the answer format: the body's `format`, if any, is not consulted. */
const FORMAT_QUERY_PATHS: readonly (readonly [string, AnswerFormat])[] = [
  ['/api/v1/query/arrow', 'arrow'],
  ['/api/v1/query/msgpack', 'msgpack'],
];

/** Estimated row counts above which the estimate warns (README: none <= 10k < low < 100k < medium < 1M < high). */
const ESTIMATE_LEVELS = [
  { above: 1_000_000, level: 'high', advice: 'a very large result: use POST /query/stream, or add a LIMIT or a narrower time range' },
  { above: 100_000, level: 'medium', advice: 'a large result: consider a LIMIT, a narrower time range, or POST /query/stream' },
  { above: 10_000, level: 'low', advice: 'a moderately large result' },
] as const;

export const QUERY_HEADERS = { cache: 'x-arc-cache', executionTime: 'x-arc-execution-time-ms' } as const;

interface ParsedQuery {
  readonly sql: string;
  readonly format: AnswerFormat;
  /** Rows answered at most; absent when the body gives no `limit`. */
  readonly limit?: number;
}

interface ParsedStreamQuery {
  readonly sql: string;
  readonly format: StreamFormat;
  readonly limit?: number;
}

/** A query request that passed authentication: its default database and who may read what. */
export interface QueryCaller {
  readonly request: RequestInfo;
  readonly database: string;
  readonly readable: readonly string[] | null;
  readonly state: ResponseState;
  readonly signal: AbortSignal;
  readonly startedAtMs: number;
}

function badJson(message: string): ArcError {
  return badRequest(ServerErrorCode.queryBadJson, message);
}

/** The JSON object of a query body, with `sql` present, a string, and not blank. */
export function parseSqlBody(body: Uint8Array): { readonly fields: Record<string, unknown>; readonly sql: string } | ArcError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    return badJson(`Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return badJson('Request body must be a JSON object with "sql"');
  const fields = parsed as Record<string, unknown>;
  const sql = fields.sql;
  if (sql === undefined) return badRequest(ServerErrorCode.queryMissingSql, 'Missing "sql" in the request body');
  if (typeof sql !== 'string') return badRequest(ServerErrorCode.queryMissingSql, '"sql" must be a string');
  if (sql.trim() === '') return badRequest(ServerErrorCode.queryEmptySql, '"sql" is empty');
  return { fields, sql };
}

/** `limit` as given: absent/null, or a number (the pool checks the range for every caller). */
function parseLimit(limit: unknown): number | undefined | ArcError {
  if (limit === undefined || limit === null) return undefined;
  if (typeof limit === 'number') return limit;
  return badRequest(QueryErrorCode.badLimit, `"limit" must be an integer from 1 to ${String(QUERY_ROW_LIMIT_MAX)}, got ${JSON.stringify(limit)}`, {
    limit_max: QUERY_ROW_LIMIT_MAX,
  });
}

/**
 * Validates the JSON request body of `POST /query`: `{"sql": "...", "format"?: "json" | "csv" |
 * "arrow" | "msgpack", "limit"?: N}`. `pathFormat` is the format a format-specific path fixes.
 */
export function parseQueryBody(body: Uint8Array, pathFormat?: AnswerFormat): ParsedQuery | ArcError {
  const parsed = parseSqlBody(body);
  if (parsed instanceof ArcError) return parsed;
  const { format = 'json' } = parsed.fields;
  if (pathFormat === undefined && !isAnswerFormat(format)) {
    return badRequest(QueryErrorCode.badFormat, `Unsupported format ${JSON.stringify(format)}; supported: ${ANSWER_FORMATS.join(', ')}`, {
      format: String(format),
    });
  }
  const limit = parseLimit(parsed.fields.limit);
  if (limit instanceof ArcError) return limit;
  const answerFormat = pathFormat ?? (format as AnswerFormat);
  return limit === undefined ? { sql: parsed.sql, format: answerFormat } : { sql: parsed.sql, format: answerFormat, limit };
}

/** `POST /query/stream`: `{"sql", "format"?: "csv" (default) | "ndjson", "limit"?}`. */
export function parseStreamBody(body: Uint8Array): ParsedStreamQuery | ArcError {
  const parsed = parseSqlBody(body);
  if (parsed instanceof ArcError) return parsed;
  const { format = 'csv' } = parsed.fields;
  if (!isStreamFormat(format)) {
    return badRequest(QueryErrorCode.badFormat, `Unsupported stream format ${JSON.stringify(format)}; supported: ${STREAM_FORMATS.join(', ')}`, {
      format: String(format),
    });
  }
  const limit = parseLimit(parsed.fields.limit);
  if (limit instanceof ArcError) return limit;
  return limit === undefined ? { sql: parsed.sql, format } : { sql: parsed.sql, format, limit };
}

function elapsedMs(startedAtMs: number): string {
  return (performance.now() - startedAtMs).toFixed(3);
}

export function reportFailure(context: ServerContext, res: HttpResponse, state: ResponseState, error: unknown): void {
  const arcError = error instanceof ArcError ? error : new ArcError(ErrorKind.internal, ServerErrorCode.queryFailed, String(error));
  if (arcError.kind === ErrorKind.internal) context.log.error(`query failed: ${arcError.message}`, { request_id: state.requestId });
  sendError(res, state, arcError, ErrorBodyStyle.query);
}

/** Where a query route's request comes from: a JSON body (POST), or the URL only (GET). */
export interface QuerySource {
  readonly readsBody: boolean;
  /** The default database of the request. */
  databaseOf(request: RequestInfo): string;
}

/** `x-arc-database`, else `default`: the POST routes' default database. */
function headerDatabase(request: RequestInfo): string {
  return request.database === '' ? DEFAULT_DATABASE : request.database;
}

const BODY_QUERY: QuerySource = { readsBody: true, databaseOf: headerDatabase };
const NO_BODY = new Uint8Array(0);

/** A query request's fields, read while uWS's request object is valid, and its response state. */
interface StartedQuery {
  readonly request: RequestInfo;
  readonly state: ResponseState;
  readonly abort: AbortController;
  readonly startedAtMs: number;
  /** The token check, started before the body is read; null: start it once the body is in. */
  readonly authorized: Promise<TokenInfo | ArcError> | null;
}

function startQuery(context: ServerContext, res: HttpResponse, req: HttpRequest, checkNow: boolean): StartedQuery {
  const startedAtMs = performance.now();
  const request = readRequestInfo(req);
  const abort = new AbortController();
  const state = newResponseState(res, () => abort.abort());
  markQuery(res, 'sql');
  return { request, state, abort, startedAtMs, authorized: checkNow ? context.auth.check(request, 'read', null) : null };
}

/** After the body: token, then default database, then `handle`. */
function continueQuery(
  context: ServerContext,
  res: HttpResponse,
  started: StartedQuery,
  source: QuerySource,
  body: Uint8Array | ArcError,
  handle: (caller: QueryCaller, body: Uint8Array) => void,
): void {
  const { request, state, abort, startedAtMs } = started;
  const authorized = started.authorized ?? context.auth.check(request, 'read', null);
  void authorized.then((identity: TokenInfo | ArcError) => {
    if (identity instanceof ArcError) return sendError(res, state, identity, ErrorBodyStyle.query);
    if (body instanceof ArcError) return sendError(res, state, body, ErrorBodyStyle.query);
    const database = source.databaseOf(request);
    const nameError = validateDatabaseName(database);
    if (nameError !== null) return sendError(res, state, nameError, ErrorBodyStyle.query);
    handle({ request, database, readable: identity.databases, state, signal: abort.signal, startedAtMs }, body);
  });
}

/**
 * The steps every query route shares: request fields read synchronously, token checked for
 * `read` (which databases the SQL may touch is decided on its parse tree, in the query worker),
 * body read and bounded (when there is one), default database named and valid, then `handle`.
 */
export function acceptQuery(
  context: ServerContext,
  res: HttpResponse,
  req: HttpRequest,
  source: QuerySource,
  handle: (caller: QueryCaller, body: Uint8Array) => void,
): void {
  const started = startQuery(context, res, req, true);
  if (source.readsBody) readBody(res, started.request, QUERY_BODY_BYTES_MAX, (body) => continueQuery(context, res, started, source, body, handle));
  else continueQuery(context, res, started, source, NO_BODY, handle);
}

export function sendAnswer(res: HttpResponse, caller: QueryCaller, answer: Pick<QueryAnswer, 'body' | 'contentType' | 'contentEncoding'>, cache: 'hit' | 'miss' | null): void {
  const headers: Record<string, string> = { [QUERY_HEADERS.executionTime]: elapsedMs(caller.startedAtMs) };
  if (cache !== null) headers[QUERY_HEADERS.cache] = cache;
  if (answer.contentEncoding !== null) {
    headers['Content-Encoding'] = answer.contentEncoding;
    headers.Vary = 'Accept-Encoding';
  }
  sendBytes(res, caller.state, answer.contentType, answer.body, headers);
}

function handleSqlQuery(context: ServerContext, cache: QueryCache, res: HttpResponse, req: HttpRequest, pathFormat?: AnswerFormat): void {
  // InfluxDB 1.x clients POST InfluxQL to the same path (a form body or `q` in the URL).
  const dialect = pathFormat === undefined ? queryDialectOf(req.getHeader('content-type'), rawQueryOf(req)) : 'sql';
  if (dialect === 'influxql') {
    handleInfluxQuery(context, res, req, true);
    return;
  }
  const acceptEncoding = req.getHeader('accept-encoding');
  const answer = (caller: QueryCaller, body: Uint8Array): void => answerSqlQuery(context, cache, res, caller, body, acceptEncoding, pathFormat);
  if (dialect === 'sql') {
    acceptQuery(context, res, req, BODY_QUERY, answer);
    return;
  }
  // A form content type: a JSON object body is Arc SQL all the same (curl -d), else InfluxQL's form.
  const started = startQuery(context, res, req, false);
  readBody(res, started.request, QUERY_BODY_BYTES_MAX, (body) => {
    if (body instanceof ArcError || !isJsonObjectBody(body)) {
      markQuery(res, 'influxql');
      return answerInfluxQuery(context, res, started.state, started.request, body, started.abort.signal);
    }
    continueQuery(context, res, started, BODY_QUERY, body, answer);
  });
}

function answerSqlQuery(
  context: ServerContext,
  cache: QueryCache,
  res: HttpResponse,
  caller: QueryCaller,
  body: Uint8Array,
  acceptEncoding: string,
  pathFormat: AnswerFormat | undefined,
): void {
  const query = parseQueryBody(body, pathFormat);
  if (query instanceof ArcError) return sendError(res, caller.state, query, ErrorBodyStyle.query);
  // Arrow answers are read as they arrive and never compressed.
  const compression = query.format === 'arrow' ? 'none' : compressionFor(acceptEncoding);
  // No key while the cache is off: it normalises the SQL text character by character.
  const key = cache.enabled ? QueryCache.key({ database: caller.database, sql: query.sql, format: query.format, limit: query.limit, encoding: compression, readable: caller.readable }) : null;
  const cached = key === null ? undefined : cache.get(key);
  if (cached !== undefined) {
    logQueryDone(context, caller, query.sql, { rows: cached.rowCount, cache: 'hit' });
    return sendAnswer(res, caller, cached, 'hit');
  }
  const request = { ...query, database: caller.database, readableDatabases: caller.readable, compression };
  const startedAt = cache.epoch();
  withLastCaches(context, request).then((withCaches) => context.queryPool.run(withCaches, caller.signal)).then(
    (answer) => {
      if (key !== null && cache.accepts(answer, answer.cacheable)) {
        // A lent buffer goes back to its worker below: the cache keeps a copy of its own.
        cache.put(key, { ...answer, body: answer.shared ? answer.body.slice() : answer.body }, true, startedAt);
      }
      sendAnswer(res, caller, answer, cache.enabled ? 'miss' : null);
      answer.release();
      logQueryDone(context, caller, query.sql, { rows: answer.rowCount, cache: cache.enabled ? 'miss' : null });
    },
    (error: unknown) => {
      logQueryDone(context, caller, query.sql, { error });
      reportFailure(context, res, caller.state, error);
    },
  );
}

/**
 * The request with the rows of its database's last-value caches when its SQL may call
 * last_cache(): they travel with the task (last-cache-service.ts); other SQL goes as it is.
 */
function withLastCaches<T extends { readonly sql: string; readonly database: string }>(context: ServerContext, request: T): Promise<T & { lastCaches?: readonly LastValueTable[] }> {
  if (!mayCallLastCache(request.sql)) return Promise.resolve(request);
  return context.lastCaches.tablesOf(request.database).then((lastCaches) => ({ ...request, lastCaches }));
}

/** The slow-query line of a query that ended (log-requests.ts). */
function logQueryDone(context: ServerContext, caller: QueryCaller, sql: string, end: QueryEnd): void {
  logQueryEnd(context.log, context.config.query.slowQueryMs, { requestId: caller.state.requestId, database: caller.database, startedAtMs: caller.startedAtMs }, sql, end);
}

function estimateLevel(rows: number): { level: string; message: string } {
  for (const { above, level, advice } of ESTIMATE_LEVELS) {
    if (rows > above) return { level, message: `About ${String(rows)} rows: ${advice}` };
  }
  return { level: 'none', message: '' };
}

function handleEstimate(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  acceptQuery(context, res, req, BODY_QUERY, (caller, body) => {
    const parsed = parseSqlBody(body);
    if (parsed instanceof ArcError) return sendError(res, caller.state, parsed, ErrorBodyStyle.query);
    withLastCaches(context, { sql: parsed.sql, database: caller.database, readableDatabases: caller.readable }).then((request) => context.queryPool.estimate(request, caller.signal)).then(
      (rows) => {
        const { level, message } = estimateLevel(rows);
        sendJson(res, caller.state, '200 OK', {
          success: true,
          estimated_rows: rows,
          warning_level: level,
          warning_message: message,
          execution_time_ms: Number(elapsedMs(caller.startedAtMs)),
        });
      },
      (error: unknown) => reportFailure(context, res, caller.state, error),
    );
  });
}

/**
 * Writes a streamed answer with uWS back-pressure: a piece that did not fit the socket's buffer
 * resolves only once uWS reports the socket writable again, which holds back the worker's next
 * piece (QueryPool.stream grants credit per resolved write). Headers go with the first piece,
 * so an error before it still gets a proper error response.
 */
class SocketStreamSink {
  started = false;
  private readonly res: HttpResponse;
  private readonly caller: QueryCaller;
  private readonly contentType: string;

  constructor(res: HttpResponse, caller: QueryCaller, contentType: string) {
    this.res = res;
    this.caller = caller;
    this.contentType = contentType;
  }

  write(piece: Uint8Array): Promise<void> {
    const { res, caller } = this;
    if (caller.state.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      res.cork(() => {
        if (!this.started) {
          this.started = true;
          caller.state.answered = true;
          writeHead(res, caller.state, '200 OK').writeHeader('Content-Type', this.contentType);
          res.writeHeader(QUERY_HEADERS.executionTime, elapsedMs(caller.startedAtMs));
        }
        if (res.write(piece)) {
          resolve();
          return;
        }
        res.onWritable(() => {
          resolve();
          return true;
        });
      });
    });
  }

  /** The last piece went out: end the chunked body (or send the header-only answer of no rows). */
  finish(): void {
    const { res, caller } = this;
    if (caller.state.aborted) return;
    if (!this.started) {
      respond(res, caller.state, () => {
        writeHead(res, caller.state, '200 OK').writeHeader('Content-Type', this.contentType);
        res.end();
      });
      return;
    }
    res.cork(() => res.end());
  }
}

function handleStream(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  acceptQuery(context, res, req, BODY_QUERY, (caller, body) => {
    const query = parseStreamBody(body);
    if (query instanceof ArcError) return sendError(res, caller.state, query, ErrorBodyStyle.query);
    const sink = new SocketStreamSink(res, caller, CONTENT_TYPE_BY_STREAM_FORMAT[query.format]);
    const request = { ...query, database: caller.database, readableDatabases: caller.readable };
    withLastCaches(context, request).then((withCaches) => context.queryPool.stream(withCaches, sink, caller.signal)).then(
      (rows) => {
        sink.finish();
        logQueryDone(context, caller, query.sql, { rows, cache: null });
      },
      (error: unknown) => {
        logQueryDone(context, caller, query.sql, { error });
        if (!sink.started) { reportFailure(context, res, caller.state, error); return; }
        // Headers and rows are out: the only honest signal left is a body cut short.
        context.log.warn(`streamed query failed after its first rows: ${error instanceof Error ? error.message : String(error)}`, { request_id: caller.state.requestId });
        if (!caller.state.aborted) res.close();
      },
    );
  });
}

export function registerQueryRoutes(app: TemplatedApp, context: ServerContext, cache: QueryCache): void {
  for (const path of SQL_QUERY_PATHS) app.post(path, (res, req) => handleSqlQuery(context, cache, res, req));
  for (const [path, format] of FORMAT_QUERY_PATHS) app.post(path, (res, req) => handleSqlQuery(context, cache, res, req, format));
  for (const path of STREAM_QUERY_PATHS) app.post(path, (res, req) => handleStream(context, res, req));
  for (const path of ESTIMATE_QUERY_PATHS) app.post(path, (res, req) => handleEstimate(context, res, req));
}
