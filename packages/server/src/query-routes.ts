import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/config';
import { ErrorBodyStyle, newResponseState, sendBytes, sendError, type ResponseState } from './http-response.js';
import { QUERY_BODY_BYTES_MAX } from './limits.js';
import { readBody } from './request-body.js';
import { readRequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

export const SQL_QUERY_PATHS = ['/query', '/api/v1/query'] as const;
const QUERY_FORMATS = ['json'] as const;
type QueryFormat = (typeof QUERY_FORMATS)[number];

interface ParsedQuery {
  readonly sql: string;
  readonly format: QueryFormat;
}

/** Validates the JSON request body of `POST /query`: `{"sql": "...", "format": "json"}`. */
export function parseQueryBody(body: Uint8Array): ParsedQuery | ArcError {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    return badRequest('ARC_QUERY_BAD_JSON', `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return badRequest('ARC_QUERY_BAD_JSON', 'Request body must be a JSON object with "sql"');
  }
  const { sql, format = 'json' } = parsed as { sql?: unknown; format?: unknown };
  if (sql === undefined) return badRequest('ARC_QUERY_MISSING_SQL', 'Missing "sql" in the request body');
  if (typeof sql !== 'string') return badRequest('ARC_QUERY_MISSING_SQL', '"sql" must be a string');
  if (sql.trim() === '') return badRequest('ARC_QUERY_EMPTY_SQL', '"sql" is empty');
  if (typeof format !== 'string' || !(QUERY_FORMATS as readonly string[]).includes(format)) {
    return badRequest('ARC_QUERY_BAD_FORMAT', `Unsupported format ${JSON.stringify(format)}; supported: ${QUERY_FORMATS.join(', ')}`, {
      format: String(format),
    });
  }
  return { sql, format: format as QueryFormat };
}

function handleSqlQuery(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
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
      const query = parseQueryBody(body);
      if (query instanceof ArcError) return sendError(res, state, query, ErrorBodyStyle.query);
      runQuery(context, res, state, { sql: query.sql, database, format: query.format }, abort.signal);
    });
  });
}

function runQuery(
  context: ServerContext,
  res: HttpResponse,
  state: ResponseState,
  request: { sql: string; database: string; format: QueryFormat },
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
}
