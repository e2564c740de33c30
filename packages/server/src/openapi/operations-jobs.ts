import { z } from 'zod';
import { jobBodySchema, runBodySchema } from '../job-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';

/**
 * Import jobs (job-routes.ts, README "Importing data", "Jobs"): definitions, runs, cancels, history and
 * the monitoring view. Request bodies are the zod schemas the routes validate with.
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });
const jsonBody = (schema: z.ZodType, required = true): NonNullable<ApiOperation['body']> => ({ required, content: { 'application/json': schema } });

const executionSchema = z.looseObject({
  id: z.number(),
  job_id: z.number(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'skipped']).meta({ description: 'interrupted: the server stopped or died during it (resumed at the next start); skipped: a scheduled run while one ran.' }),
  trigger: z.enum(['manual', 'schedule', 'resume']),
  resumes: z.number().nullable().meta({ description: 'The execution this one continues (trigger resume).' }),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  rows: z.number().meta({ description: 'Rows written (acknowledged by ingest), counting the executions it continues.' }),
  rows_rejected: z.number(),
  bytes: z.number().meta({ description: 'Bytes read from the source.' }),
  chunks: z.number(),
  progress: z.number().nullable().meta({ description: 'The fraction of the range done (0..1), when the source can tell.' }),
  eta_seconds: z.number().nullable(),
  rows_per_second: z.number(),
  in_doubt_chunk: z.boolean().meta({ description: 'A chunk was written but not checkpointed when the execution ended: the next resume counts the destination to settle it.' }),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  range_start: z.string().nullable(),
  range_end: z.string().nullable(),
});

const jobSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  connection_id: z.number().nullable(),
  type: z.enum(['influx1', 'influx2', 'postgres', 'http-json']),
  source: z.record(z.string(), z.unknown()),
  database: z.string(),
  range: z.object({ start: z.string().nullable(), end: z.string().nullable(), since_last_run: z.boolean() }),
  schedule: z.string().nullable(),
  enabled: z.boolean(),
  chunk_rows: z.number().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  last_execution: executionSchema.nullable(),
});

const idParameter = { id: z.string().regex(/^\d+$/).meta({ type: 'integer', minimum: 1, description: 'The job id (400 naming `id` if not a positive integer).' }) };
const PATHS = ['/jobs', '/api/v1/jobs'];
const withId = (suffix = ''): string[] => PATHS.map((path) => `${path}/{id}${suffix}`);
const TAG = 'import jobs';
const executionAnswer = z.looseObject({ execution: executionSchema });

export const JOB_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: PATHS, id: 'listImportJobs', tag: TAG, summary: 'List import jobs', access: 'admin', responses: { 200: json(z.looseObject({ jobs: z.array(jobSchema) }), 'The jobs, oldest first, each with its last execution.') }, errors: [500] },
  {
    method: 'post',
    paths: PATHS,
    id: 'createImportJob',
    tag: TAG,
    summary: 'Create an import job',
    description: "The source is checked by the type's driver (400 naming `source.<field>`; a type without a driver in this build is refused); the connection must exist and be of the job's type (400 ARC_IMPORT_CONNECTION_NOT_FOUND). 409 ARC_IMPORT_JOB_NAME_TAKEN.",
    access: 'admin',
    body: jsonBody(jobBodySchema),
    responses: { 201: json(jobSchema, 'Created.') },
    errors: [400, 409, 500],
  },
  { method: 'get', paths: withId(), id: 'getImportJob', tag: TAG, summary: 'One import job', access: 'admin', pathParameters: idParameter, responses: { 200: json(jobSchema, 'The job.') }, errors: [400, 404, 500] },
  { method: 'put', paths: withId(), id: 'updateImportJob', tag: TAG, summary: 'Replace an import job', description: 'Every field is replaced. 409 ARC_IMPORT_JOB_RUNNING while it runs.', access: 'admin', pathParameters: idParameter, body: jsonBody(jobBodySchema), responses: { 200: json(jobSchema, 'Updated.') }, errors: [400, 404, 409, 500] },
  { method: 'delete', paths: withId(), id: 'deleteImportJob', tag: TAG, summary: 'Delete an import job and its history', description: 'The rows it wrote stay. 409 ARC_IMPORT_JOB_RUNNING while it runs.', access: 'admin', pathParameters: idParameter, responses: { 200: json(z.looseObject({ deleted: z.literal(true), id: z.number() }), 'Deleted.') }, errors: [400, 404, 409, 500] },
  {
    method: 'get',
    paths: withId('/executions'),
    id: 'importJobExecutions',
    tag: TAG,
    summary: 'Executions of a job, newest first',
    access: 'admin',
    pathParameters: idParameter,
    query: z.object({ limit: z.string().optional().meta({ type: 'integer', minimum: 1, maximum: 100, default: 20 }) }),
    responses: { 200: json(z.looseObject({ executions: z.array(executionSchema) }), 'The executions kept (the newest 100).') },
    errors: [400, 404, 500],
  },
  {
    method: 'post',
    paths: withId('/run'),
    id: 'runImportJob',
    tag: TAG,
    summary: 'Run an import job now',
    description:
      "Starts an execution in the background. Each chunk is one ingest write (WAL, atomic) checkpointed after its acknowledgement, so a cancelled, failed or interrupted execution is continued by `resume: true` without duplicating rows. 409 ARC_IMPORT_JOB_RUNNING; 409 ARC_IMPORT_NOTHING_TO_RESUME when the last execution succeeded.",
    access: 'admin',
    pathParameters: idParameter,
    body: jsonBody(runBodySchema, false),
    responses: { 202: json(executionAnswer, 'Started.') },
    errors: [400, 404, 409, 500, 503],
  },
  { method: 'post', paths: withId('/cancel'), id: 'cancelImportJob', tag: TAG, summary: 'Cancel the running execution', description: 'Answers once the chunk in flight settled; its checkpoint is kept. 409 ARC_IMPORT_JOB_NOT_RUNNING.', access: 'admin', pathParameters: idParameter, responses: { 200: json(executionAnswer, 'Cancelled.') }, errors: [400, 404, 409, 500] },
  {
    method: 'get',
    paths: ['/monitoring/jobs', '/api/v1/monitoring/jobs'],
    id: 'monitorImportJobs',
    tag: TAG,
    summary: 'Running, recent and scheduled import jobs',
    access: 'admin',
    responses: {
      200: json(
        z.looseObject({
          running: z.array(executionSchema.extend({ job_name: z.string() })),
          recent: z.array(executionSchema).meta({ description: 'The newest ended executions of every job (at most 20).' }),
          scheduled: z.array(z.object({ job_id: z.number(), name: z.string(), schedule: z.string(), next_run: z.string().nullable() })),
        }),
        'The jobs now.',
      ),
    },
    errors: [500],
  },
];
