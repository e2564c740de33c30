import type { TemplatedApp } from 'uWebSockets.js';
import { isAllowed } from '@arc/auth';
import { CQ_EXECUTIONS_KEPT, CqErrorCode, continuousQueryFieldsOf, type ContinuousQueries, type ContinuousQuery, type CqExecution, type CqExecutionSummary, type ExecuteResult } from '@arc/compaction';
import { ArcError, badRequest } from '@arc/errors';
import { z } from 'zod';
import type { AuthGate } from './auth-gate.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { integerParameter } from './measurement-routes.js';
import type { ServerContext } from './server-context.js';

/**
 * Continuous queries' endpoints (README "Continuous queries"; the JSON spelling is Arc's Go
 * server's):
 *   GET    /api/v1/continuous_queries?database=&is_active=   read: [definitions] the caller may read
 *   POST   /api/v1/continuous_queries                         admin: 201 the definition
 *   GET    /api/v1/continuous_queries/{id}                    read
 *   PUT    /api/v1/continuous_queries/{id}                    admin: every field replaced
 *   DELETE /api/v1/continuous_queries/{id}                    admin
 *   POST   /api/v1/continuous_queries/{id}/execute {start_time?, end_time?, dry_run?}   admin
 *   GET    /api/v1/continuous_queries/{id}/executions?limit=  read: its window runs, newest first
 * Bodies are checked by zod (types), then by the compaction package (names, interval, and the
 * query by DuckDB's parser): 400 naming the field, 404 for an unknown id, 409 for a name taken.
 */
const PREFIX = '/api/v1/continuous_queries';
const EXECUTIONS_LIMIT_DEFAULT = 100;

const requiredText = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
const days = z.number({ error: 'must be a whole number of days or null' }).int({ error: 'must be a whole number of days or null' }).nullable().optional();

export const cqBodySchema = z.strictObject({
  name: requiredText,
  description: z.string({ error: 'must be a string or null' }).nullable().optional(),
  database: requiredText,
  source_measurement: requiredText,
  destination_measurement: requiredText,
  query: requiredText.meta({ description: 'One SELECT over the source measurement with {start_time} and {end_time} placeholders (each becomes a quoted RFC 3339 instant), giving a `time` column inside the window.' }),
  interval: requiredText.meta({ description: 'The window length: a number and a unit (ms, s, m, h, d, w), as 5m or 1h30m; windows are its multiples since the Unix epoch.' }),
  retention_days: days,
  delete_source_after_days: days,
  is_active: z.boolean({ error: 'must be true or false' }).optional(),
  destination_database: z.string({ error: 'must be a string or null' }).nullable().optional().meta({ description: "The database the rows go to (an ordinary measurement of it); `database` when absent (InfluxQL `INTO otherdb..m`)." }),
  window_offset: z.string({ error: 'must be a duration or null' }).nullable().optional().meta({ description: 'Shift of the windows from the epoch, whole seconds, 0 <= offset < interval: windows start at epoch + offset + k * interval (InfluxQL `GROUP BY time(i, offset)`).' }),
  resample_every: z.string({ error: 'must be a duration or null' }).nullable().optional().meta({ description: 'How often the query runs (whole seconds, at least 1s, may exceed the interval), at epoch + offset + k * every; the interval when absent (InfluxQL `RESAMPLE EVERY`).' }),
  resample_for: z.string({ error: 'must be a duration or null' }).nullable().optional().meta({ description: 'The span each run recomputes: every window overlapping [run - for, run); at least the interval; max(interval, resample_every) when absent (InfluxQL `RESAMPLE FOR`).' }),
});

const instant = z.string({ error: 'must be an RFC 3339 time (2026-01-01T00:00:00Z)' });
export const executeBodySchema = z.strictObject({
  start_time: instant.optional(),
  end_time: instant.optional(),
  dry_run: z.boolean({ error: 'must be true or false' }).optional(),
});

export interface CqRouteDeps {
  readonly cqs: ContinuousQueries;
  readonly auth: Pick<AuthGate, 'authorize'>;
}

/** A definition as the API spells it. */
export function cqJson(cq: ContinuousQuery): Record<string, unknown> {
  return {
    id: cq.id,
    ...continuousQueryFieldsOf(cq),
    last_processed_time: cq.lastProcessedTime,
    rolled_up_from: cq.rolledUpFromTime,
    created_at: cq.createdAt,
    updated_at: cq.updatedAt,
  };
}

function executionJson(execution: CqExecutionSummary | CqExecution): Record<string, unknown> {
  return {
    ...('id' in execution ? { id: execution.id, query_id: execution.cqId } : {}),
    execution_id: execution.executionId,
    trigger: execution.trigger,
    status: execution.status,
    start_time: execution.startTime,
    end_time: execution.endTime,
    records_read: execution.recordsRead,
    records_written: execution.recordsWritten,
    records_removed: execution.recordsRemoved,
    execution_time: execution.executedAt,
    execution_duration_seconds: execution.durationMs / 1000,
    error_message: execution.error,
  };
}

function executeJson(result: ExecuteResult, dryRun: boolean, durationMs: number): Record<string, unknown> {
  return {
    query_id: result.query.id,
    query_name: result.query.name,
    execution_id: result.executionId,
    status: result.status,
    start_time: result.startTime,
    end_time: result.endTime,
    windows: result.windows,
    records_read: result.recordsRead,
    records_written: result.recordsWritten,
    execution_time_seconds: durationMs / 1000,
    destination_measurement: result.query.destinationMeasurement,
    dry_run: dryRun,
    executed_at: result.executions[0]?.executedAt ?? new Date().toISOString(),
    ...(result.executedQuery === null ? {} : { executed_query: result.executedQuery }),
    executions: result.executions.map(executionJson),
  };
}

/** The id in the path: a positive integer, else 400 ARC_CQ_BAD_ID. */
function idOf(call: ManagementCall): number | ArcError {
  const text = pathParameter(call, 0);
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || id < 1) return badRequest(CqErrorCode.badId, `Invalid continuous query id '${text}': a positive integer`, { id: text });
  return id;
}

/** The definition of the id in the path, once the caller may act on its database with `permission`. */
function allowedQuery(deps: CqRouteDeps, call: ManagementCall, permission: 'read' | 'admin'): ContinuousQuery | ArcError {
  const id = idOf(call);
  if (id instanceof ArcError) return id;
  const cq = deps.cqs.get(id);
  return deps.auth.authorize(call.identity, permission, cq.database) ?? cq;
}

function list(deps: CqRouteDeps, call: ManagementCall): ManagementAnswer | ArcError {
  const { query } = call.request;
  const database = query.get('database') ?? '';
  const active = query.get('is_active') ?? '';
  if (active !== '' && active !== 'true' && active !== 'false') return badRequest(CqErrorCode.badDefinition, `Query parameter 'is_active' must be true or false, got '${active}'`, { field: 'is_active' });
  const filter = { ...(database === '' ? {} : { database }), ...(active === '' ? {} : { isActive: active === 'true' }) };
  const readable = deps.cqs.list(filter).filter((cq) => isAllowed(call.identity, 'read', cq.database));
  return answer('200 OK', readable.map(cqJson));
}

async function create(deps: CqRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const body = parseBody(cqBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const denied = deps.auth.authorize(call.identity, 'admin', body.database);
  if (denied !== null) return denied;
  return answer('201 Created', cqJson(await deps.cqs.create(body)));
}

async function update(deps: CqRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const cq = allowedQuery(deps, call, 'admin');
  if (cq instanceof ArcError) return cq;
  const body = parseBody(cqBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return answer('200 OK', cqJson(await deps.cqs.update(cq.id, body)));
}

function remove(deps: CqRouteDeps, call: ManagementCall): ManagementAnswer | ArcError {
  const cq = allowedQuery(deps, call, 'admin');
  if (cq instanceof ArcError) return cq;
  deps.cqs.delete(cq.id);
  return answer('200 OK', { message: 'Continuous query deleted successfully', id: cq.id });
}

function instantOf(text: string | undefined, field: string): number | undefined | ArcError {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) return badRequest(CqErrorCode.badWindow, `Invalid ${field} '${text}': an RFC 3339 time (2026-01-01T00:00:00Z)`, { field });
  return ms;
}

async function execute(deps: CqRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const cq = allowedQuery(deps, call, 'admin');
  if (cq instanceof ArcError) return cq;
  const body = parseBody(executeBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const startMs = instantOf(body.start_time, 'start_time');
  if (startMs instanceof ArcError) return startMs;
  const endMs = instantOf(body.end_time, 'end_time');
  if (endMs instanceof ArcError) return endMs;
  const dryRun = body.dry_run ?? false;
  const startedMs = Date.now();
  const result = await deps.cqs.execute(cq.id, { dryRun, ...(startMs === undefined ? {} : { startMs }), ...(endMs === undefined ? {} : { endMs }) });
  return answer('200 OK', executeJson(result, dryRun, Date.now() - startedMs));
}

function executions(deps: CqRouteDeps, call: ManagementCall): ManagementAnswer | ArcError {
  const cq = allowedQuery(deps, call, 'read');
  if (cq instanceof ArcError) return cq;
  const limit = integerParameter(call.request.query, 'limit', EXECUTIONS_LIMIT_DEFAULT, 1, CQ_EXECUTIONS_KEPT);
  if (limit instanceof ArcError) return limit;
  return answer('200 OK', { query_id: cq.id, executions: deps.cqs.executions(cq.id, limit).map(executionJson) });
}

/** Every continuous-query route (exported for the route tests). */
export function cqRoutes(deps: CqRouteDeps): ManagementRoute[] {
  const read = { permission: 'read', readsBody: false } as const;
  return [
    { ...read, method: 'get', path: PREFIX, handle: (call) => list(deps, call) },
    { method: 'post', path: PREFIX, permission: 'admin', readsBody: true, handle: (call) => create(deps, call) },
    { ...read, method: 'get', path: `${PREFIX}/:id`, handle: (call) => cqOrError(allowedQuery(deps, call, 'read')) },
    { method: 'put', path: `${PREFIX}/:id`, permission: 'admin', readsBody: true, handle: (call) => update(deps, call) },
    { method: 'del', path: `${PREFIX}/:id`, permission: 'admin', readsBody: false, handle: (call) => remove(deps, call) },
    { method: 'post', path: `${PREFIX}/:id/execute`, permission: 'admin', readsBody: true, emptyBodyAllowed: true, handle: (call) => execute(deps, call) },
    { ...read, method: 'get', path: `${PREFIX}/:id/executions`, handle: (call) => executions(deps, call) },
  ];
}

function cqOrError(cq: ContinuousQuery | ArcError): ManagementAnswer | ArcError {
  return cq instanceof ArcError ? cq : answer('200 OK', cqJson(cq));
}

export function registerCqRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, cqRoutes({ cqs: context.continuousQueries, auth: context.auth }));
}
