import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { TokenInfo } from '@arc/auth';
import { validateDatabaseName } from '@arc/columnar';
import { DeleteErrorCode } from '@arc/compaction';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { FIELDS_IN_DELETE, executeStatements, parseDeletePredicate, parseTimeLiteral, type Expr, type PredicateRule, type Statement } from '@arc/influxql';
import { ErrorBodyStyle, newResponseState, sendError, sendNoContent, type ResponseState } from './http-response.js';
import { influxDeletesOf } from './influx-deletes.js';
import { influxSqlRunner } from './influx-query-routes.js';
import { MANAGEMENT_BODY_BYTES_MAX } from './management-route.js';
import { readBody } from './request-body.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';

/**
 * InfluxDB 2.x's `POST /api/v2/delete?org=&bucket=` with `{"start", "stop", "predicate"}`: the
 * points of the bucket (Arc's database; `db/rp` names the database `db`) in [start, stop] (both
 * inclusive) whose series match the predicate (delete-predicate.ts: tags, `_measurement`) are
 * deleted through the same row delete as InfluxQL's DELETE. 204 when done; InfluxDB's messages
 * for what it refuses (`{"code", "message"}` with Arc's code, the error body of InfluxDB 2 routes).
 * The token needs the `delete` permission on the database.
 */
const DELETE_V2_PATH = '/api/v2/delete';
const PARSE_PREFIX = 'invalid request; error parsing request json';
const START_EXAMPLE = '2009-01-02T23:00:00Z';
const STOP_EXAMPLE = '2009-01-01T23:00:00Z';
const NANOS_PER_MS = 1_000_000n;

function invalid(message: string): ArcError {
  return badRequest(DeleteErrorCode.badRequest, message);
}

interface DeleteV2Request {
  readonly database: string;
  readonly startNanos: bigint;
  readonly stopNanos: bigint;
  readonly rules: readonly PredicateRule[];
}

/** `org`/`orgID` and `bucket`/`bucketID` (the database, before any `/rp`), InfluxDB's checks in its order. */
function bucketOf(query: URLSearchParams): string | ArcError {
  const org = query.get('org') ?? query.get('orgID') ?? '';
  if (org === '') return invalid('Please provide either orgID or org');
  const bucket = query.get('bucket') ?? query.get('bucketID') ?? '';
  if (bucket === '') return invalid('Please provide either bucketID or bucket');
  return bucket.split('/', 1)[0] ?? '';
}

function timeField(body: Record<string, unknown>, field: 'start' | 'stop'): bigint | ArcError {
  const text = body[field];
  const nanos = typeof text === 'string' ? parseTimeLiteral(text) : null;
  if (nanos !== null) return nanos;
  return invalid(`${PARSE_PREFIX}: invalid RFC3339Nano for field ${field}, please format your time with RFC3339Nano format, example: ${field === 'start' ? START_EXAMPLE : STOP_EXAMPLE}`);
}

function parseRequest(request: RequestInfo, body: Uint8Array): DeleteV2Request | ArcError {
  const database = bucketOf(request.query);
  if (database instanceof ArcError) return database;
  const invalidName = validateDatabaseName(database);
  if (invalidName !== null) return invalidName;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (error) {
    return invalid(`${PARSE_PREFIX}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return invalid(`${PARSE_PREFIX}: the body must be a JSON object`);
  const fields = parsed as Record<string, unknown>;
  const startNanos = timeField(fields, 'start');
  if (startNanos instanceof ArcError) return startNanos;
  const stopNanos = timeField(fields, 'stop');
  if (stopNanos instanceof ArcError) return stopNanos;
  const predicate = fields['predicate'] ?? '';
  if (typeof predicate !== 'string') return invalid(`${PARSE_PREFIX}: predicate must be a string`);
  const rules = parseDeletePredicate(predicate);
  if ('error' in rules) return invalid(`${PARSE_PREFIX}: ${rules.error}`);
  if (rules.rules.some((rule) => rule.key === '_field')) return invalid(`${PARSE_PREFIX}: deleting by _field is not supported (InfluxDB 2.x OSS does not either): delete by measurement and tags`);
  return { database, startNanos, stopNanos, rules: rules.rules };
}

/** The measurements the predicate's `_measurement` rules leave, of those the database has. */
function measurementsOf(context: ServerContext, request: DeleteV2Request): string[] {
  const named = request.rules.filter((rule) => rule.key === '_measurement');
  return context.storage.catalog.measurementNames(request.database).filter((name) => named.every((rule) => (rule.operator === '=') === (name === rule.value)));
}

/** The InfluxQL DELETE the request is: its tag rules and its time range, ANDed. */
function deleteStatement(measurements: readonly string[], request: DeleteV2Request): Statement {
  const time = { kind: 'identifier', name: 'time', offset: 0 } as const;
  const nanos = (value: bigint) => ({ kind: 'number', value: Number(value), integer: true, text: value.toString() }) as const;
  let where: Expr = { kind: 'binary', operator: '>=', left: time, right: nanos(request.startNanos), offset: 0 };
  where = { kind: 'binary', operator: 'AND', left: where, right: { kind: 'binary', operator: '<=', left: time, right: nanos(request.stopNanos), offset: 0 }, offset: 0 };
  for (const rule of request.rules.filter((candidate) => candidate.key !== '_measurement')) {
    const tag = { kind: 'binary', operator: rule.operator, left: { kind: 'identifier', name: rule.key, offset: 0 }, right: { kind: 'string', value: rule.value }, offset: 0 } as const;
    where = { kind: 'binary', operator: 'AND', left: where, right: tag, offset: 0 };
  }
  return { kind: 'delete', sources: measurements.map((measurement) => ({ database: null, measurement })), where };
}

async function runDelete(context: ServerContext, identity: TokenInfo, request: DeleteV2Request, signal: AbortSignal): Promise<ArcError | null> {
  if (!context.storage.hasDatabase(request.database)) return new ArcError(ErrorKind.notFound, DeleteErrorCode.bucketNotFound, `bucket "${request.database}" not found`);
  const measurements = measurementsOf(context, request);
  if (measurements.length === 0) return null;
  const [result] = await executeStatements([deleteStatement(measurements, request)], {
    run: influxSqlRunner(context, identity, signal),
    database: request.database,
    nowNanos: BigInt(Date.now()) * NANOS_PER_MS,
    canRead: () => false,
    deletes: influxDeletesOf(context),
  });
  if (result === undefined || !('error' in result)) return null;
  if (result.error === FIELDS_IN_DELETE) return invalid(`${PARSE_PREFIX}: ${result.error}`);
  return new ArcError(ErrorKind.internal, DeleteErrorCode.failed, `unable to delete: ${result.error}`);
}

async function answerDeleteV2(context: ServerContext, res: HttpResponse, state: ResponseState, request: RequestInfo, body: Uint8Array | ArcError, signal: AbortSignal): Promise<void> {
  const failure = await deleteFailure(context, request, body, signal);
  if (failure === null) sendNoContent(res, state);
  else sendError(res, state, failure, ErrorBodyStyle.influxV2);
}

/** Null once the points are deleted, else why not (the caller, the request, the delete itself). */
async function deleteFailure(context: ServerContext, request: RequestInfo, body: Uint8Array | ArcError, signal: AbortSignal): Promise<ArcError | null> {
  const identity = await context.auth.check(request, 'delete', null);
  if (identity instanceof ArcError) return identity;
  if (body instanceof ArcError) return body;
  const parsed = parseRequest(request, body);
  if (parsed instanceof ArcError) return parsed;
  return context.auth.authorize(identity, 'delete', parsed.database) ?? runDelete(context, identity, parsed, signal);
}

function handleDeleteV2(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const abort = new AbortController();
  const state = newResponseState(res, () => abort.abort());
  readBody(res, request, MANAGEMENT_BODY_BYTES_MAX, (body) => {
    answerDeleteV2(context, res, state, request, body, abort.signal).catch((error: unknown) => {
      context.log.error(`POST ${DELETE_V2_PATH} failed: ${error instanceof Error ? error.message : String(error)}`, { request_id: state.requestId });
      sendError(res, state, error instanceof ArcError ? error : new ArcError(ErrorKind.internal, DeleteErrorCode.failed, 'unable to delete'), ErrorBodyStyle.influxV2);
    });
  });
}

export function registerDeleteV2Route(app: TemplatedApp, context: ServerContext): void {
  app.post(DELETE_V2_PATH, (res, req) => handleDeleteV2(context, res, req));
}
