import type { TemplatedApp } from 'uWebSockets.js';
import { ArcError, badRequest } from '@arc/errors';
import { JOB_EXECUTIONS_LISTED_DEFAULT, JOB_EXECUTIONS_LISTED_MAX, rfc3339Of, type Execution, type ImportJobs, type Job } from '@arc/importer';
import { z } from 'zod';
import { ServerErrorCode } from './error-codes.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { integerParameter } from './measurement-routes.js';
import type { ServerContext } from './server-context.js';

/**
 * Import jobs (README "Importing data", "Jobs"), admin only, bare and under /api/v1:
 *   GET    /jobs                       {jobs: [...]}
 *   POST   /jobs                       201 the job
 *   GET    /jobs/{id}                  the job, with its last execution
 *   PUT    /jobs/{id}                  every field replaced (409 while it runs)
 *   DELETE /jobs/{id}                  {deleted: true} (409 while it runs)
 *   GET    /jobs/{id}/executions?limit=   {executions: [...]} newest first
 *   POST   /jobs/{id}/run  {resume?}   202 {execution} (409 while it runs)
 *   POST   /jobs/{id}/cancel           200 {execution} once its chunk in flight settled (409 when not running)
 *   GET    /monitoring/jobs            {running, recent, scheduled}
 * Bodies are typed by zod here; names, database, range, schedule, the connection and the source
 * (by the type's driver) are checked by the importer (import-jobs.ts): 400 naming the field.
 */
const ALIAS_PREFIX = '/api/v1';

const requiredText = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
const instant = z.union([z.string(), z.number()], { error: 'must be an RFC 3339 time or ns since the epoch' }).nullable().optional();

export const jobBodySchema = z.strictObject({
  name: requiredText,
  connection_id: z.number({ error: 'must be a connection id' }).int({ error: 'must be a connection id' }).nullable().optional().meta({ description: "The connection read; the type's active connection when absent." }),
  type: requiredText.meta({ description: 'The source type: influx1, influx2, postgres or http-json.' }),
  source: z.record(z.string(), z.unknown(), { error: 'must be an object (what the job reads, per type)' }),
  database: requiredText.meta({ description: 'The Arc database the rows go to.' }),
  range: z
    .strictObject({
      start: instant.meta({ description: 'Inclusive start: RFC 3339 (to the ns) or ns since the epoch; the oldest row when absent.' }),
      end: instant.meta({ description: 'Exclusive end; the newest row when the run starts when absent.' }),
      since_last_run: z.boolean({ error: 'must be true or false' }).optional().meta({ description: 'Each run starts just after the newest row the last successful run wrote.' }),
    }, { error: 'must be an object' })
    .optional(),
  schedule: z.string({ error: 'must be a cron expression or null' }).nullable().optional().meta({ description: 'Cron (5 fields, or 6 with seconds first), UTC; null: runs only when asked.' }),
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  chunk_rows: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).nullable().optional().meta({ description: 'Rows per chunk (one ingest write and one checkpoint); 50,000 when absent.' }),
});

export const runBodySchema = z.strictObject({
  resume: z.boolean({ error: 'must be true or false' }).optional().meta({ description: "Continue the job's last execution (cancelled, interrupted or failed) from its checkpoint." }),
});

const nsText = (ns: bigint | null): string | null => (ns === null ? null : rfc3339Of(ns));

/** An execution as the API spells it (its checkpoint stays inside). */
export function executionJson(execution: Execution): Record<string, unknown> {
  return {
    id: execution.id,
    job_id: execution.jobId,
    status: execution.status,
    trigger: execution.trigger,
    resumes: execution.resumes,
    started_at: execution.startedAt,
    finished_at: execution.finishedAt,
    rows: execution.rows,
    rows_rejected: execution.rowsRejected,
    bytes: execution.bytes,
    chunks: execution.chunks,
    progress: execution.progress,
    eta_seconds: execution.etaSeconds === null ? null : Math.round(execution.etaSeconds),
    rows_per_second: Math.round(execution.rowsPerSecond),
    in_doubt_chunk: execution.pending !== null,
    error: execution.error,
    range_start: nsText(execution.rangeStartNs),
    range_end: nsText(execution.rangeEndNs),
  };
}

export function jobJson(job: Job, last: Execution | null): Record<string, unknown> {
  return {
    id: job.id,
    name: job.name,
    connection_id: job.connectionId,
    type: job.type,
    source: job.source,
    database: job.database,
    range: { start: nsText(job.rangeStartNs), end: nsText(job.rangeEndNs), since_last_run: job.sinceLastRun },
    schedule: job.schedule,
    enabled: job.enabled,
    chunk_rows: job.chunkRows,
    created_at: job.createdAt,
    updated_at: job.updatedAt,
    last_execution: last === null ? null : executionJson(last),
  };
}

function jobId(call: ManagementCall): number | ArcError {
  const text = pathParameter(call, 0);
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || id < 1) return badRequest(ServerErrorCode.badRequestBody, `job id must be a positive whole number, got '${text}'`, { field: 'id' });
  return id;
}

/** Runs `handle` with the path's job id, or answers its 400. */
function withId(call: ManagementCall, handle: (id: number) => ManagementAnswer | Promise<ManagementAnswer>): ManagementAnswer | Promise<ManagementAnswer> | ArcError {
  const id = jobId(call);
  return id instanceof ArcError ? id : handle(id);
}

function create(jobs: ImportJobs, call: ManagementCall): ManagementAnswer | ArcError {
  const body = parseBody(jobBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return answer('201 Created', jobJson(jobs.create(body), null));
}

function update(jobs: ImportJobs, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const body = parseBody(jobBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return withId(call, (id) => {
    const job = jobs.update(id, body);
    return answer('200 OK', jobJson(job, jobs.lastExecution(id)));
  });
}

function run(jobs: ImportJobs, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const body = parseBody(runBodySchema, call.body);
  if (body instanceof ArcError) return body;
  return withId(call, (id) => answer('202 Accepted', { execution: executionJson(jobs.run(id, body.resume ?? false)) }));
}

function executions(jobs: ImportJobs, call: ManagementCall): ManagementAnswer | ArcError | Promise<ManagementAnswer> {
  const limit = integerParameter(call.request.query, 'limit', JOB_EXECUTIONS_LISTED_DEFAULT, 1, JOB_EXECUTIONS_LISTED_MAX);
  if (limit instanceof ArcError) return limit;
  return withId(call, (id) => answer('200 OK', { executions: jobs.executions(id, limit).map(executionJson) }));
}

function monitoring(jobs: ImportJobs): ManagementAnswer {
  const { running, recent, scheduled } = jobs.monitoring();
  return answer('200 OK', {
    running: running.map(({ job, execution }) => ({ ...executionJson(execution), job_name: job.name })),
    recent: recent.map(executionJson),
    scheduled: scheduled.map((entry) => ({ job_id: entry.jobId, name: entry.name, schedule: entry.schedule, next_run: entry.nextRun?.toISOString() ?? null })),
  });
}

export function jobRoutes(jobs: ImportJobs): ManagementRoute[] {
  const admin = { permission: 'admin' as const };
  return [
    { ...admin, method: 'get', path: '/jobs', readsBody: false, handle: () => answer('200 OK', { jobs: jobs.list().map((job) => jobJson(job, jobs.lastExecution(job.id))) }) },
    { ...admin, method: 'post', path: '/jobs', readsBody: true, handle: (call) => create(jobs, call) },
    { ...admin, method: 'get', path: '/jobs/:id', readsBody: false, handle: (call) => withId(call, (id) => answer('200 OK', jobJson(jobs.get(id), jobs.lastExecution(id)))) },
    { ...admin, method: 'put', path: '/jobs/:id', readsBody: true, handle: (call) => update(jobs, call) },
    {
      ...admin,
      method: 'del',
      path: '/jobs/:id',
      readsBody: false,
      handle: (call) =>
        withId(call, (id) => {
          jobs.delete(id);
          return answer('200 OK', { deleted: true, id });
        }),
    },
    { ...admin, method: 'get', path: '/jobs/:id/executions', readsBody: false, handle: (call) => executions(jobs, call) },
    { ...admin, method: 'post', path: '/jobs/:id/run', readsBody: true, emptyBodyAllowed: true, handle: (call) => run(jobs, call) },
    { ...admin, method: 'post', path: '/jobs/:id/cancel', readsBody: false, handle: (call) => withId(call, async (id) => answer('200 OK', { execution: executionJson(await jobs.cancel(id)) })) },
    { ...admin, method: 'get', path: '/monitoring/jobs', readsBody: false, handle: () => monitoring(jobs) },
  ];
}

export function registerJobRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, jobRoutes(context.importJobs), ALIAS_PREFIX);
}
