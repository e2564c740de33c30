import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/config';
import { ANSWER_FORMATS, QUERY_ROW_LIMIT_MAX, isAnswerFormat, type AnswerFormat, type QueryRequest } from '@arc/query';
import { handleInfluxQuery, isInfluxQLRequest } from './influx-query-routes.js';
import { ErrorBodyStyle, newResponseState, sendBytes, sendError, type ResponseState } from './http-response.js';
import { QUERY_BODY_BYTES_MAX } from './limits.js';
import { readBody } from './request-body.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

export const SQL_QUERY_PATHS = ['/query', '/api/v1/query'] as const;

/** Paths that fix the answer format: the body's `format`, if any, is not consulted. */
const FORMAT_QUERY_PATHS: readonly (readonly [string, AnswerFormat])[] = [
  ['/api/v1/query/arrow', 'arrow'],
  ['/api/v1/query/msgpack', 'msgpack'],
];

interface ParsedQuery {
  readonly sql: string;
  readonly format: AnswerFormat;
  /** Rows answered at most; absent when the body gives no `limit`. */
  readonly limit?: number;
}

/**
 * Validates the JSON request body of `POST /query`: `{"sql": "...", "format"?: "json" | "csv" |
 * "arrow" | "msgpack", "limit"?: N}`. `pathFormat` is the format a format-specific path fixes.
 */
export function parseQueryBody(body: Uint8Array, pathFormat?: AnswerFormat): ParsedQuery | ArcError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    return badRequest('ARC_QUERY_BAD_JSON', `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return badRequest('ARC_QUERY_BAD_JSON', 'Request body must be a JSON object with "sql"');
  }
  const { sql, format = 'json', limit } = parsed as { sql?: unknown; format?: unknown; limit?: unknown };
  if (sql === undefined) return badRequest('ARC_QUERY_MISSING_SQL', 'Missing "sql" in the request body');
  if (typeof sql !== 'string') return badRequest('ARC_QUERY_MISSING_SQL', '"sql" must be a string');
  if (sql.trim() === '') return badRequest('ARC_QUERY_EMPTY_SQL', '"sql" is empty');
  if (pathFormat === undefined && !isAnswerFormat(format)) {
    return badRequest('ARC_QUERY_BAD_FORMAT', `Unsupported format ${JSON.stringify(format)}; supported: ${ANSWER_FORMATS.join(', ')}`, {
      format: String(format),
    });
  }
  const answerFormat = pathFormat ?? (format as AnswerFormat);
  if (limit === undefined || limit === null) return { sql, format: answerFormat };
  // The pool checks the range (1..QUERY_ROW_LIMIT_MAX, integers only) for every caller.
  if (typeof limit !== 'number') {
    return badRequest('ARC_QUERY_BAD_LIMIT', `"limit" must be an integer from 1 to ${String(QUERY_ROW_LIMIT_MAX)}, got ${JSON.stringify(limit)}`, {
      limit_max: QUERY_ROW_LIMIT_MAX,
    });
  }
  return { sql, format: answerFormat, limit };
}

function handleSqlQuery(context: ServerContext, res: HttpResponse, req: HttpRequest, pathFormat?: AnswerFormat): void {
  // InfluxDB 1.x clients POST InfluxQL to the same path (a form body or `q` in the URL).
  if (pathFormat === undefined && isInfluxQLRequest(req.getHeader('content-type'), req.getQuery() ?? '')) {
    handleInfluxQuery(context, res, req, true);
    return;
  }
  const request = readRequestInfo(req);
  const abort = new AbortController();
  const state = newResponseState(res, () => abort.abort());
  const database = request.database === '' ? DEFAULT_DATABASE : request.database;
  const authorized = context.auth.check(request, 'read', database);
  readBody(res, request.contentLength, QUERY_BODY_BYTES_MAX, (body) => {
    void authorized.then((identity) => {
      if (identity instanceof ArcError) return sendError(res, state, identity, ErrorBodyStyle.query);
      if (body instanceof ArcError) return sendError(res, state, body, ErrorBodyStyle.query);
      const nameError = validateDatabaseName(database);
      if (nameError !== null) return sendError(res, state, nameError, ErrorBodyStyle.query);
      const query = parseQueryBody(body, pathFormat);
      if (query instanceof ArcError) return sendError(res, state, query, ErrorBodyStyle.query);
      runQuery(context, res, state, { ...query, database }, abort.signal);
    });
  });
}

function runQuery(
  context: ServerContext,
  res: HttpResponse,
  state: ResponseState,
  request: QueryRequest,
  signal: AbortSignal,
): void {
  context.queryPool.run(request, signal).then(
    (answer) => sendBytes(res, state, answer.contentType, answer.body),
    (error: unknown) => {
      const shape = error instanceof ArcError ? error : new ArcError(ErrorKind.internal, 'ARC_QUERY_FAILED', String(error));
      if (shape.kind === ErrorKind.internal) context.log.error(`query failed: ${shape.message}`);
      sendError(res, state, shape, ErrorBodyStyle.query);
    },
  );
}

export function registerQueryRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const path of SQL_QUERY_PATHS) app.post(path, (res, req) => handleSqlQuery(context, res, req));
  for (const [path, format] of FORMAT_QUERY_PATHS) app.post(path, (res, req) => handleSqlQuery(context, res, req, format));
}
