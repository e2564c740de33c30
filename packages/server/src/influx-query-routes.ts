import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { continuousQueryPort } from './cq-influxql-port.js';
import { AUTH_ERRORS, isAllowed, type Permission, type TokenInfo } from '@arc/auth';
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import {
  DEFAULT_CHUNK_SIZE,
  EPOCH_UNITS,
  checkRegexes,
  chunkStyleOf,
  decodeColumnarAnswer,
  executeStatements,
  isEpochUnit,
  isParseError,
  parseQuery,
  serializeChunks,
  serializeResults,
  statementDatabases,
  type EpochUnit,
  type SqlRunner,
  type Statement,
} from '@arc/influxql';
import { newResponseState, respond, sendBytes, sendError, writeHead, type ResponseState } from './http-response.js';
import { logQueryEnd } from './log-requests.js';
import { markQuery } from './metrics-requests.js';
import { QUERY_BODY_BYTES_MAX } from './limits.js';
import { readBody } from './request-body.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';
import { influxDeletesOf } from './influx-deletes.js';

/**
 * InfluxDB 1.x's query API: `GET|POST /query?db=&q=&epoch=` (POST also with a form body `q=...`),
 * answered from Arc's Parquet through the InfluxQL translation of @arc/influxql, and `/ping`,
 * which InfluxDB clients (the `influx` CLI first of all) call before anything else.
 */
const INFLUX_QUERY_PATH = '/query';
const PING_PATH = '/ping';
const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';
/** The InfluxDB API version Arc's /query and /write follow, reported by /ping as InfluxDB does. */
const INFLUXDB_API_VERSION = '1.8.10';
const NANOS_PER_MS = 1_000_000n;

function isFormBody(contentType: string): boolean {
  return contentType.toLowerCase().startsWith(FORM_CONTENT_TYPE);
}

/**
 * What a `POST /query` body is: `influxql` with `q` in the URL; `sql` (Arc SQL, a JSON body
 * `{"sql": ...}`) for any content type but a form; `body` for a form content type, decided once
 * the body is read (isJsonObjectBody): curl's `-d` sends Arc's JSON with the form content type,
 * while InfluxDB clients send `q=...` forms.
 */
export type QueryDialect = 'influxql' | 'sql' | 'body';

export function queryDialectOf(contentType: string, query: string): QueryDialect {
  if (new URLSearchParams(query).has('q')) return 'influxql';
  return isFormBody(contentType) ? 'body' : 'sql';
}

const OPENING_BRACE = 0x7b;

/** True when the body's first byte after whitespace is `{`: JSON, which no `q=...` form starts with. */
export function isJsonObjectBody(body: Uint8Array): boolean {
  for (const byte of body) {
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    return byte === OPENING_BRACE;
  }
  return false;
}

interface InfluxParameters {
  readonly q: string | null;
  readonly db: string;
  readonly epoch: string;
  /** `chunked=true`: the rows per chunk (`chunk_size`, else InfluxDB's default); null: one document. */
  readonly chunkSize: number | null;
}

/** InfluxDB's reading of `chunked` and `chunk_size`: only `true` chunks; a size that is not a positive integer is the default. */
function chunkSizeOf(chunked: string | null, chunkSize: string | null): number | null {
  if (chunked !== 'true') return null;
  if (chunkSize === null) return DEFAULT_CHUNK_SIZE;
  const size = Number(chunkSize);
  return Number.isSafeInteger(size) && size > 0 ? size : DEFAULT_CHUNK_SIZE;
}

/**
 * URL parameters, overridden by form body parameters (Go's FormValue order, which InfluxDB uses).
 * `formBody` is null unless the body is `application/x-www-form-urlencoded`.
 */
function readParameters(request: RequestInfo, formBody: Uint8Array | null): InfluxParameters {
  const merged = new URLSearchParams(request.query);
  if (formBody !== null && formBody.byteLength > 0) {
    const form = new URLSearchParams(Buffer.from(formBody.buffer, formBody.byteOffset, formBody.byteLength).toString('utf8'));
    for (const [key, value] of form) merged.set(key, value);
  }
  // Go's FormValue answers '' for a parameter that is absent, so InfluxDB treats the two alike.
  return { q: merged.get('q'), db: merged.get('db') ?? '', epoch: merged.get('epoch') ?? '', chunkSize: chunkSizeOf(merged.get('chunked'), merged.get('chunk_size')) };
}

const DELETE_KINDS: ReadonlySet<Statement['kind']> = new Set(['delete', 'dropSeries', 'dropMeasurement']);

/**
 * CREATE DATABASE alone (Telegraf's first call) needs `write`; DELETE / DROP alone `delete`, mixed
 * with reads `admin` (one permission is checked per request); anything else reads.
 */
function permissionFor(statements: readonly Statement[] | null): Permission {
  // Continuous queries write a measurement on their own schedule: admin, as /api/v1/continuous_queries.
  if (statements?.some((statement) => statement.kind === 'createContinuousQuery' || statement.kind === 'dropContinuousQuery') === true) return 'admin';
  const deletes = statements?.filter((statement) => DELETE_KINDS.has(statement.kind)).length ?? 0;
  if (statements !== null && deletes > 0) return deletes === statements.length ? 'delete' : 'admin';
  return statements !== null && statements.length > 0 && statements.every((statement) => statement.kind === 'createDatabase') ? 'write' : 'read';
}

/** Handles an InfluxQL `GET /query` or `POST /query`; `hasBody` is false for GET. */
export function handleInfluxQuery(context: ServerContext, res: HttpResponse, req: HttpRequest, hasBody: boolean): void {
  const request = readRequestInfo(req);
  const formBody = hasBody && isFormBody(req.getHeader('content-type'));
  const abort = new AbortController();
  const state = newResponseState(res, () => abort.abort());
  markQuery(res, 'influxql');
  const proceed = (body: Uint8Array | ArcError | null): void => answerInfluxQuery(context, res, state, request, formBody ? body : null, abort.signal);
  if (hasBody) readBody(res, request, QUERY_BODY_BYTES_MAX, proceed);
  else proceed(null);
}

/** Answers an InfluxQL query whose form body (null: none, or not a form) has been read. */
export function answerInfluxQuery(
  context: ServerContext,
  res: HttpResponse,
  state: ResponseState,
  request: RequestInfo,
  formBody: Uint8Array | ArcError | null,
  signal: AbortSignal,
): void {
  if (formBody instanceof ArcError) return sendError(res, state, formBody);
  answerQuery(context, res, state, request, readParameters(request, formBody), signal).catch((error: unknown) => {
    context.log.error(`InfluxQL query failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, { request_id: state.requestId });
    sendError(res, state, new ArcError(ErrorKind.internal, ServerErrorCode.influxqlFailed, 'InfluxQL query failed'));
  });
}

async function answerQuery(
  context: ServerContext,
  res: HttpResponse,
  state: ResponseState,
  request: RequestInfo,
  parameters: InfluxParameters,
  signal: AbortSignal,
): Promise<void> {
  const startedAtMs = performance.now();
  const parsed = parameters.q === null ? null : parseQuery(parameters.q);
  const statements = parsed === null || isParseError(parsed) ? null : parsed;
  const permission = permissionFor(statements);
  const identity = await context.auth.check(request, permission, null);
  if (identity instanceof ArcError) { sendError(res, state, identity); return; }
  if (parameters.q === null) { sendError(res, state, badRequest(ServerErrorCode.influxqlMissingQuery, 'missing required parameter "q"')); return; }
  if (parsed !== null && isParseError(parsed)) {
    sendError(res, state, badRequest(ServerErrorCode.influxqlParse, parsed.message, { line: parsed.line, char: parsed.char })); return;
  }
  if (statements === null) return;
  if (parameters.epoch !== '' && !isEpochUnit(parameters.epoch)) {
    sendError(res, state, badRequest(ServerErrorCode.influxqlBadEpoch, `invalid epoch '${parameters.epoch}'; use one of ${EPOCH_UNITS.join(', ')}`)); return;
  }
  const database = parameters.db !== '' ? parameters.db : request.database !== '' ? request.database : DEFAULT_DATABASE;
  const denied = checkDatabases(statements, database, identity, permission);
  if (denied !== null) { sendError(res, state, denied); return; }
  const run = influxSqlRunner(context, identity, signal);
  // Bad regexes refuse the whole query before anything runs, as InfluxDB's parser does.
  // The check runs on the query pool: its refusals (overload, timeout) answer as they are.
  const badRegex = await checkRegexes(parameters.q, statements, run, database).catch((error: unknown) => {
    if (error instanceof ArcError) return error;
    throw error;
  });
  if (badRegex instanceof ArcError) { sendError(res, state, badRegex); return; }
  if (badRegex !== null) { sendError(res, state, badRequest(ServerErrorCode.influxqlParse, badRegex.message, { line: badRegex.line, char: badRegex.char })); return; }
  const results = await executeStatements(statements, {
    run,
    database,
    nowNanos: BigInt(Date.now()) * NANOS_PER_MS,
    canRead: (name) => isAllowed(identity, 'read', name),
    continuousQueries: continuousQueryPort(context.continuousQueries),
    deletes: influxDeletesOf(context),
  });
  const epoch: EpochUnit | null = parameters.epoch === '' ? null : parameters.epoch;
  const text =
    parameters.chunkSize === null
      ? serializeResults(results, epoch)
      : serializeChunks(results, statements.map(chunkStyleOf), epoch, parameters.chunkSize);
  sendBytes(res, state, 'application/json', Buffer.from(text));
  logQueryEnd(context.log, context.config.query.slowQueryMs, { requestId: state.requestId, database, startedAtMs }, parameters.q, { rows: null, cache: null }, 'influxql');
}

/** How InfluxQL's statements run their SQL: on the query pool, as the caller (their databases only). */
export function influxSqlRunner(context: Pick<ServerContext, 'queryPool'>, identity: TokenInfo, signal: AbortSignal): SqlRunner {
  return (sql, runDatabase, rowsMax) =>
    context.queryPool
      .run({ sql, database: runDatabase, format: 'msgpack', limit: rowsMax, readableDatabases: identity.databases }, signal)
      .then((answer) => {
        try {
          return { ...decodeColumnarAnswer(answer.body), reads: answer.reads };
        } finally {
          answer.release();
        }
      });
}

/** Every database the statements read must be a valid name the token may use, else nothing runs. */
function checkDatabases(statements: readonly Statement[], database: string, identity: TokenInfo, permission: Permission): ArcError | null {
  const databases = new Set([database, ...statements.flatMap((statement) => statementDatabases(statement, database))]);
  for (const name of databases) {
    const invalid = validateDatabaseName(name);
    if (invalid !== null) return invalid;
    if (!isAllowed(identity, permission, name)) return AUTH_ERRORS.databaseDenied(name);
  }
  return null;
}

function answerPing(context: ServerContext, res: HttpResponse): void {
  const state = newResponseState(res);
  respond(res, state, () => {
    writeHead(res, state, '204 No Content').writeHeader('X-Influxdb-Version', INFLUXDB_API_VERSION).writeHeader('X-Influxdb-Build', 'OSS');
    res.writeHeader('X-Arc-Version', context.version).endWithoutBody();
  });
}

/**
 * Registers `GET /query` (InfluxQL only: Arc SQL is POSTed) and the public `GET|HEAD /ping`.
 * `POST /query` belongs to query-routes.ts, which hands InfluxQL requests to handleInfluxQuery.
 */
export function registerInfluxQueryRoutes(app: TemplatedApp, context: ServerContext): void {
  app.get(INFLUX_QUERY_PATH, (res, req) => handleInfluxQuery(context, res, req, false));
  app.get(PING_PATH, (res) => answerPing(context, res));
  app.head(PING_PATH, (res) => answerPing(context, res));
}
