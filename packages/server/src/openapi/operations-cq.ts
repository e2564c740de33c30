import { z } from 'zod';
import { cqBodySchema, executeBodySchema } from '../cq-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';

/**
 * Continuous queries (cq-routes.ts): definitions, runs of their windows on request, and their
 * window runs' history. Request bodies are the zod schemas the routes validate with.
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });
const jsonBody = (schema: z.ZodType, required = true): NonNullable<ApiOperation['body']> => ({ required, content: { 'application/json': schema } });

const cqSchema = z.looseObject({
  id: z.number(),
  name: z.string(),
  description: z.string().nullable(),
  database: z.string(),
  source_measurement: z.string(),
  destination_measurement: z.string(),
  query: z.string(),
  interval: z.string(),
  retention_days: z.number().nullable(),
  delete_source_after_days: z.number().nullable(),
  is_active: z.boolean(),
  destination_database: z.string().nullable().meta({ description: 'As given; null: the rows go to `database`.' }),
  window_offset: z.string().nullable().meta({ description: 'As given; null: windows start at multiples of the interval since the epoch.' }),
  resample_every: z.string().nullable().meta({ description: 'As given; null: the query runs every interval.' }),
  resample_for: z.string().nullable().meta({ description: 'As given; null: each run recomputes max(interval, resample_every).' }),
  last_processed_time: z.string().nullable().meta({ description: 'The last run time the scheduler ran in order (with the default schedule, the end of the last window): catch-up resumes there.' }),
  rolled_up_from: z.string().nullable().meta({ description: 'Read-only. The start (ISO 8601) of the one contiguous span of windows the query has rolled up, which ends at last_processed_time: the first window the scheduler ran (or, before it, the start of an executed range reaching the first window of the next run), lowered by an execute of a range that reaches it. delete_source_after_days removes only source rows at or after it; null: none yet, no source row is removed.' }),
  created_at: z.string(),
  updated_at: z.string(),
});

const executionSchema = z.looseObject({
  execution_id: z.string(),
  trigger: z.enum(['schedule', 'late', 'manual']),
  status: z.enum(['completed', 'dry_run', 'failed']),
  start_time: z.string(),
  end_time: z.string(),
  records_read: z.number().nullable(),
  records_written: z.number().nullable(),
  records_removed: z.number().nullable().meta({ description: "The destination's rows of the window that the new ones replaced." }),
  execution_time: z.string(),
  execution_duration_seconds: z.number(),
  error_message: z.string().nullable(),
});

const executeAnswerSchema = z.looseObject({
  query_id: z.number(),
  query_name: z.string(),
  execution_id: z.string(),
  status: z.enum(['completed', 'dry_run', 'failed']),
  start_time: z.string().nullable(),
  end_time: z.string().nullable(),
  windows: z.number(),
  records_read: z.number(),
  records_written: z.number(),
  execution_time_seconds: z.number(),
  destination_measurement: z.string(),
  dry_run: z.boolean(),
  executed_query: z.string().optional().meta({ description: "A dry run: the first window's query as it runs." }),
  executions: z.array(executionSchema),
});

const idParameter = { id: z.string().regex(/^\d+$/).meta({ type: 'integer', minimum: 1, description: 'The continuous query id (400 ARC_CQ_BAD_ID if not a positive integer).' }) };
const PATH = '/api/v1/continuous_queries';

export const CQ_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    paths: [PATH],
    id: 'listContinuousQueries',
    tag: 'continuous queries',
    summary: 'List continuous queries of readable databases',
    access: 'read',
    query: z.object({ database: z.string().optional(), is_active: z.enum(['true', 'false']).optional() }),
    responses: { 200: json(z.array(cqSchema), 'The definitions, oldest first.') },
    errors: [400, 500],
  },
  {
    method: 'post',
    paths: [PATH],
    id: 'createContinuousQuery',
    tag: 'continuous queries',
    summary: 'Create a continuous query',
    description: 'The query is checked by DuckDB\'s parser: one SELECT reading only the source measurement, no table function, no volatile function (400 ARC_CQ_BAD_QUERY). Its first window is the one it is created in. 409 ARC_CQ_NAME_TAKEN.',
    access: 'admin',
    body: jsonBody(cqBodySchema),
    responses: { 201: json(cqSchema, 'Created.') },
    errors: [400, 409, 500],
  },
  { method: 'get', paths: [`${PATH}/{id}`], id: 'getContinuousQuery', tag: 'continuous queries', summary: 'One continuous query', access: 'read', pathParameters: idParameter, responses: { 200: json(cqSchema, 'The definition.') }, errors: [400, 404, 500] },
  {
    method: 'put',
    paths: [`${PATH}/{id}`],
    id: 'updateContinuousQuery',
    tag: 'continuous queries',
    summary: 'Replace a continuous query',
    description: 'Every field is replaced. A new interval, database or source restarts its windows from now.',
    access: 'admin',
    pathParameters: idParameter,
    body: jsonBody(cqBodySchema),
    responses: { 200: json(cqSchema, 'Updated.') },
    errors: [400, 404, 409, 500],
  },
  { method: 'delete', paths: [`${PATH}/{id}`], id: 'deleteContinuousQuery', tag: 'continuous queries', summary: 'Delete a continuous query and its history', description: 'Its destination\'s rows stay.', access: 'admin', pathParameters: idParameter, responses: { 200: json(z.looseObject({ message: z.string(), id: z.number() }), 'Deleted.') }, errors: [400, 404, 500] },
  {
    method: 'post',
    paths: [`${PATH}/{id}/execute`],
    id: 'executeContinuousQuery',
    tag: 'continuous queries',
    summary: 'Run windows now',
    description:
      'With start_time (and end_time, default: the start of the current window) the windows covering the range, aligned outwards; without, the windows due since the last processed one. Each window replaces the destination\'s rows of the window. dry_run computes and reports only. 409 ARC_CQ_INACTIVE, ARC_CQ_DISABLED; 400 ARC_CQ_BAD_WINDOW.',
    access: 'admin',
    pathParameters: idParameter,
    body: jsonBody(executeBodySchema, false),
    responses: { 200: json(executeAnswerSchema, 'The windows run, in order (status failed: the first failed window ends the run).') },
    errors: [400, 404, 409, 500],
  },
  {
    method: 'get',
    paths: [`${PATH}/{id}/executions`],
    id: 'continuousQueryExecutions',
    tag: 'continuous queries',
    summary: 'Window runs, newest first',
    access: 'read',
    pathParameters: idParameter,
    query: z.object({ limit: z.string().optional().meta({ type: 'integer', minimum: 1, maximum: 1000, default: 100 }) }),
    responses: { 200: json(z.looseObject({ query_id: z.number(), executions: z.array(executionSchema) }), 'The runs kept (the newest 1,000).') },
    errors: [400, 404, 500],
  },
];
