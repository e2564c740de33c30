import type { TemplatedApp } from 'uWebSockets.js';
import {
  RETENTION_BUFFER_DAYS_MAX,
  RETENTION_DAYS_MAX,
  RETENTION_EXECUTIONS_KEPT,
  RetentionErrorCode,
  type RetentionExecuted,
  type RetentionExecution,
  type RetentionPolicyState,
  type RetentionService,
} from '@arc/compaction';
import { ArcError, badRequest } from '@arc/errors';
import { z } from 'zod';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { integerParameter } from './measurement-routes.js';
import type { ServerContext } from './server-context.js';

/**
 * Retention policies (README "Retention"), admin only (a policy removes data of any database):
 *   GET    /api/v1/retention                       every policy (a bare array, as Arc Go answers)
 *   POST   /api/v1/retention {policy}              201 the policy; 409 ARC_RETENTION_NAME_TAKEN
 *   GET    /api/v1/retention/:id                   the policy (with the run going on now, if any)
 *   PUT    /api/v1/retention/:id {policy}          replaces every field
 *   DELETE /api/v1/retention/:id                   the policy and its history
 *   POST   /api/v1/retention/:id/execute {dry_run} runs it now, answers what it did (a dry run: would do)
 *   GET    /api/v1/retention/:id/executions?limit= its runs, newest first
 * Field names follow Arc Go's API (`deleted_count` is rows, `files_deleted` files dropped whole);
 * Arc's own additions say what a run rewrote and the bytes it freed.
 */
const PREFIX = '/api/v1/retention';

/** Runs listed when `?limit=` is absent (Arc Go's default). */
export const EXECUTIONS_LIMIT_DEFAULT = 50;

/** zod messages are completed to "Invalid request body: field '<name>' <message>". */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

function daysField(min: number, max: number): z.ZodNumber {
  const what = `a whole number of days from ${String(min)} to ${String(max)}`;
  return z.number({ error: expected(what) }).int({ error: expected(what) }).min(min, { error: expected(what) }).max(max, { error: expected(what) });
}

/** A policy as POST and PUT take it; names and ranges are checked again by @arc/compaction parseRetentionPolicy. */
export const retentionPolicyBodySchema = z.strictObject({
  name: z.string({ error: expected('a string') }).describe('Unique; letters, digits, `_`, `.`, `-`, at most 64.'),
  database: z.string({ error: expected('a database name') }),
  measurement: z.string({ error: expected('a measurement name or null') }).nullable().optional().describe('Absent or null: every measurement of the database.'),
  retention_days: daysField(1, RETENTION_DAYS_MAX).describe('Rows older than retention_days + buffer_days days are removed by a run.'),
  buffer_days: daysField(0, RETENTION_BUFFER_DAYS_MAX).optional().describe('Default 7.'),
  is_active: z.boolean({ error: expected('true or false') }).optional().describe('Default true; an inactive policy is not run by the schedule (it still runs on demand).'),
});

export const retentionExecuteBodySchema = z.strictObject({
  dry_run: z.boolean({ error: expected('true or false') }).optional().describe('Default false: true lists the files, rows and bytes a run would remove and changes nothing.'),
});

function policyId(call: ManagementCall): number | ArcError {
  const text = pathParameter(call, 0);
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(id) || id < 1) return badRequest(RetentionErrorCode.badId, `Retention policy id must be a positive integer, got '${text}'`, { field: 'id' });
  return id;
}

function durationMs(execution: RetentionExecution): number {
  return Date.parse(execution.finishedAt) - Date.parse(execution.startedAt);
}

/** A policy as the API shows it (Arc Go's fields, plus the run going on). */
export function policyJson(policy: RetentionPolicyState): Record<string, unknown> {
  const { lastRun, running } = policy;
  return {
    id: policy.id,
    name: policy.name,
    database: policy.database,
    measurement: policy.measurement,
    retention_days: policy.retentionDays,
    buffer_days: policy.bufferDays,
    is_active: policy.isActive,
    last_execution_time: lastRun?.startedAt ?? null,
    last_execution_status: lastRun === null ? null : statusOf(lastRun),
    last_deleted_count: lastRun?.rowsRemoved ?? null,
    running:
      running === null
        ? null
        : { dry_run: running.dryRun, started_at: running.startedAt, measurements_done: running.measurementsDone, measurements_total: running.measurementsTotal, files_done: running.filesDone },
    created_at: policy.createdAt,
    updated_at: policy.updatedAt,
  };
}

/** Arc Go's words: a run that succeeded is `completed`. */
function statusOf(execution: RetentionExecution): 'completed' | 'failed' {
  return execution.state === 'succeeded' ? 'completed' : 'failed';
}

export function executionJson(execution: RetentionExecution): Record<string, unknown> {
  return {
    id: execution.id,
    policy_id: execution.policyId,
    execution_time: execution.startedAt,
    status: statusOf(execution),
    dry_run: execution.dryRun,
    deleted_count: execution.rowsRemoved,
    files_deleted: execution.filesDropped,
    files_rewritten: execution.filesRewritten,
    bytes_removed: execution.bytesRemoved,
    measurements: execution.measurements,
    jobs_failed: execution.jobsFailed,
    cutoff_date: execution.cutoff,
    execution_duration_ms: durationMs(execution),
    error_message: execution.error,
  };
}

/** What a run did (a dry run: would do), with its files. */
function executedJson(policy: RetentionPolicyState, { execution, result }: RetentionExecuted): Record<string, unknown> {
  return {
    policy_id: policy.id,
    policy_name: policy.name,
    execution_id: execution.id,
    dry_run: result.dryRun,
    status: statusOf(execution),
    cutoff_date: result.cutoff,
    deleted_count: result.rowsRemoved,
    files_deleted: result.filesDropped,
    files_rewritten: result.filesRewritten,
    bytes_removed: result.bytesRemoved,
    bytes_rewritten: result.bytesRewritten,
    execution_time_ms: durationMs(execution),
    measurements_checked: result.measurements,
    affected_measurements: result.affectedMeasurements,
    jobs_failed: result.jobsFailed,
    error_message: execution.error,
    files: result.files,
    files_truncated: result.filesTruncated,
  };
}

function withId(call: ManagementCall, handle: (id: number) => ManagementAnswer | Promise<ManagementAnswer>): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const id = policyId(call);
  return id instanceof ArcError ? id : handle(id);
}

function create(service: RetentionService, call: ManagementCall): ManagementAnswer | ArcError {
  const body = parseBody(retentionPolicyBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return answer('201 Created', policyJson(service.create(body)));
}

function update(service: RetentionService, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const body = parseBody(retentionPolicyBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return withId(call, (id) => answer('200 OK', policyJson(service.update(id, body))));
}

function execute(service: RetentionService, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const body = parseBody(retentionExecuteBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return withId(call, async (id) => {
    const policy = service.get(id);
    return answer('200 OK', executedJson(policy, await service.execute(id, body.dry_run === true)));
  });
}

function executions(service: RetentionService, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const limit = integerParameter(call.request.query, 'limit', EXECUTIONS_LIMIT_DEFAULT, 1, RETENTION_EXECUTIONS_KEPT);
  if (limit instanceof ArcError) return limit;
  return withId(call, (id) => answer('200 OK', { policy_id: id, executions: service.executions(id, limit).map(executionJson) }));
}

/** Every retention route (exported for the route tests). */
export function retentionRoutes(service: RetentionService): ManagementRoute[] {
  const admin = { permission: 'admin', readsBody: false } as const;
  const withBody = { permission: 'admin', readsBody: true } as const;
  return [
    { ...admin, method: 'get', path: PREFIX, handle: () => answer('200 OK', service.list().map(policyJson)) },
    { ...withBody, method: 'post', path: PREFIX, handle: (call) => create(service, call) },
    { ...admin, method: 'get', path: `${PREFIX}/:id`, handle: (call) => withId(call, (id) => answer('200 OK', policyJson(service.get(id)))) },
    { ...withBody, method: 'put', path: `${PREFIX}/:id`, handle: (call) => update(service, call) },
    { ...admin, method: 'del', path: `${PREFIX}/:id`, handle: (call) => withId(call, (id) => (service.delete(id), answer('200 OK', { message: 'Retention policy deleted successfully', id }))) },
    { ...withBody, method: 'post', path: `${PREFIX}/:id/execute`, emptyBodyAllowed: true, handle: (call) => execute(service, call) },
    { ...admin, method: 'get', path: `${PREFIX}/:id/executions`, handle: (call) => executions(service, call) },
  ];
}

export function registerRetentionRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, retentionRoutes(context.retention));
}
