import { z } from 'zod';
import { RETENTION_EXECUTIONS_KEPT } from '@arc/compaction';
import { EXECUTIONS_LIMIT_DEFAULT, retentionExecuteBodySchema, retentionPolicyBodySchema } from '../retention-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';
import { integerText } from './request-schemas.js';

/**
 * Retention policies (retention-routes.ts): CRUD, a run now (dry or not) and the runs' history.
 * The request bodies are the zod schemas the routes validate with.
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });

const policySchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  database: z.string(),
  measurement: z.string().nullable(),
  retention_days: z.number().int(),
  buffer_days: z.number().int(),
  is_active: z.boolean(),
  last_execution_time: z.string().nullable(),
  last_execution_status: z.enum(['completed', 'failed']).nullable(),
  last_deleted_count: z.number().int().nullable(),
  running: z.looseObject({ dry_run: z.boolean(), started_at: z.string(), measurements_done: z.number().int(), measurements_total: z.number().int(), files_done: z.number().int() }).nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

const executionSchema = z.looseObject({
  id: z.number().int(),
  policy_id: z.number().int(),
  execution_time: z.string(),
  status: z.enum(['completed', 'failed']),
  dry_run: z.boolean(),
  deleted_count: z.number().int().nullable().meta({ description: 'Rows removed.' }),
  files_deleted: z.number().int(),
  files_rewritten: z.number().int(),
  bytes_removed: z.number().int(),
  cutoff_date: z.string().nullable(),
  execution_duration_ms: z.number(),
  error_message: z.string().nullable(),
});

const executedSchema = z.looseObject({
  policy_id: z.number().int(),
  policy_name: z.string(),
  execution_id: z.number().int(),
  dry_run: z.boolean(),
  status: z.enum(['completed', 'failed']),
  cutoff_date: z.string(),
  deleted_count: z.number().int().nullable().meta({ description: 'Rows removed (a dry run: that would be).' }),
  files_deleted: z.number().int(),
  files_rewritten: z.number().int(),
  bytes_removed: z.number().int(),
  bytes_rewritten: z.number().int(),
  execution_time_ms: z.number(),
  affected_measurements: z.array(z.string()),
  files: z.array(z.looseObject({ measurement: z.string(), key: z.string(), action: z.enum(['drop', 'rewrite']), rows: z.number().int().nullable(), bytes: z.number().int() })),
  files_truncated: z.boolean(),
});

const idParameter = { id: z.string().regex(/^\d+$/).meta({ type: 'integer', minimum: 1, description: 'The policy id (400 ARC_RETENTION_BAD_ID if not a positive integer).' }) };
const executionsQuery = z.object({ limit: integerText(1, RETENTION_EXECUTIONS_KEPT, EXECUTIONS_LIMIT_DEFAULT, `Runs answered at most, newest first (default ${String(EXECUTIONS_LIMIT_DEFAULT)}).`).optional() });
const policyBody = { required: true, content: { 'application/json': retentionPolicyBodySchema } };
const path = (suffix = ''): string[] => [`/api/v1/retention${suffix}`];

export const RETENTION_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: path(), id: 'listRetentionPolicies', tag: 'retention', summary: 'Every retention policy', access: 'admin', responses: { 200: json(z.array(policySchema), 'A bare array of policies.') }, errors: [500] },
  { method: 'post', paths: path(), id: 'createRetentionPolicy', tag: 'retention', summary: 'Create a retention policy', description: '409 ARC_RETENTION_NAME_TAKEN when the name is taken.', access: 'admin', body: policyBody, responses: { 201: json(policySchema, 'Created.') }, errors: [400, 409, 500] },
  { method: 'get', paths: path('/{id}'), id: 'getRetentionPolicy', tag: 'retention', summary: 'One retention policy', access: 'admin', pathParameters: idParameter, responses: { 200: json(policySchema, 'The policy, with the run going on now (`running`).') }, errors: [400, 404, 500] },
  { method: 'put', paths: path('/{id}'), id: 'updateRetentionPolicy', tag: 'retention', summary: 'Replace a retention policy', access: 'admin', pathParameters: idParameter, body: policyBody, responses: { 200: json(policySchema, 'Updated.') }, errors: [400, 404, 409, 500] },
  { method: 'delete', paths: path('/{id}'), id: 'deleteRetentionPolicy', tag: 'retention', summary: 'Delete a retention policy and its history', access: 'admin', pathParameters: idParameter, responses: { 200: json(z.looseObject({ message: z.string(), id: z.number().int() }), 'Deleted.') }, errors: [400, 404, 500] },
  {
    method: 'post',
    paths: path('/{id}/execute'),
    id: 'executeRetentionPolicy',
    tag: 'retention',
    summary: 'Run a retention policy now',
    description: 'Answers when the run ended (runs go one at a time). A dry run lists the files, rows and bytes it would remove and changes nothing. Recorded in the executions.',
    access: 'admin',
    pathParameters: idParameter,
    body: { required: false, content: { 'application/json': retentionExecuteBodySchema } },
    responses: { 200: json(executedSchema, 'What the run did (would do).') },
    errors: [400, 404, 500, 503],
  },
  { method: 'get', paths: path('/{id}/executions'), id: 'listRetentionExecutions', tag: 'retention', summary: "A retention policy's runs, newest first", access: 'admin', pathParameters: idParameter, query: executionsQuery, responses: { 200: json(z.looseObject({ policy_id: z.number().int(), executions: z.array(executionSchema) }), 'Its runs.') }, errors: [400, 404, 500] },
];
