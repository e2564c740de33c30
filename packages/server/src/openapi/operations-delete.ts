import { z } from 'zod';
import { deleteBodySchema } from '../delete-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';

/** Row deletes (README "Deleting data"): Arc's API, its settings, and InfluxDB 2.x's. */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });

const deleteAnswerSchema = z.object({
  success: z.boolean(),
  deleted_count: z.number().int().meta({ description: 'Rows removed; in a dry run, rows the clause matches.' }),
  affected_files: z.number().int().meta({ description: 'Files holding matching rows.' }),
  rewritten_files: z.number().int().meta({ description: 'Files rewritten without the rows (or deleted when none was left); 0 in a dry run.' }),
  execution_time_ms: z.number(),
  dry_run: z.boolean(),
  files_processed: z.array(z.string()).meta({ description: 'Base names of the affected files.' }),
  failed_files: z.array(z.string()).optional().meta({ description: 'Files whose rewrite failed (unchanged), with a 207.' }),
  error: z.string().optional(),
});

const deleteConfigSchema = z.object({
  enabled: z.boolean(),
  confirmation_threshold: z.number().int().meta({ description: 'Matching rows above it need `confirm: true` (`delete.confirmation_threshold`).' }),
  implementation: z.literal('rewrite-based'),
});

const runningDeletesSchema = z.object({
  deletes: z.array(
    z.object({
      request_id: z.string().nullable().meta({ description: 'The X-Request-Id of the delete\'s request (sent by the client, or made by Arc); null for a delete made by InfluxQL.' }),
      database: z.string(),
      measurement: z.string(),
      dry_run: z.boolean(),
      started_at: z.string().meta({ description: 'ISO 8601.' }),
      phase: z.enum(['flushing', 'counting', 'rewriting']).meta({ description: "Flushing the measurement's buffered rows, counting the matches of the files in the clause's time range, or rewriting the files that hold some." }),
      files_done: z.number().int().meta({ description: 'Files counted, or rewritten, so far in this phase.' }),
      files_total: z.number().int().meta({ description: 'Files of this phase (0 while flushing).' }),
    }),
  ),
});

const deleteV2ParametersSchema = z.object({
  org: z.string().optional().meta({ description: 'Required (or orgID); any value: Arc has no organizations.' }),
  orgID: z.string().optional(),
  bucket: z.string().optional().meta({ description: 'The database (`db` or `db/rp`); required (or bucketID).' }),
  bucketID: z.string().optional(),
});

const deleteV2BodySchema = z.object({
  start: z.string().meta({ description: 'RFC 3339 (nanoseconds allowed), inclusive.' }),
  stop: z.string().meta({ description: 'RFC 3339 (nanoseconds allowed), inclusive.' }),
  predicate: z.string().optional().meta({ description: 'InfluxDB 2.x delete predicate: `tag="v" AND _measurement="m"` (= and !=, AND, parentheses).' }),
});

export const DELETE_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    paths: ['/api/v1/delete'],
    id: 'deleteRows',
    tag: 'databases',
    summary: 'Delete the rows a SQL condition matches',
    description:
      'Buffered rows are flushed first and deleted too; only files whose time range the condition can match are read, and only those holding matching rows are rewritten (atomically). ' +
      'Over `delete.confirmation_threshold` matching rows `confirm: true` is needed (400 ARC_DELETE_CONFIRM_REQUIRED). The `where` clause is one plain expression over the columns (400 ARC_DELETE_BAD_WHERE otherwise).',
    access: 'delete',
    body: { required: true, content: { 'application/json': deleteBodySchema } },
    responses: { 200: json(deleteAnswerSchema, 'Deleted (or counted, in a dry run).'), 207: json(deleteAnswerSchema, 'Some files failed; they are unchanged.') },
    errors: [400, 500, 503],
  },
  {
    method: 'get',
    paths: ['/api/v1/delete/config'],
    id: 'deleteConfig',
    tag: 'databases',
    summary: 'Delete settings',
    access: 'delete',
    responses: { 200: json(deleteConfigSchema, 'The confirmation threshold.') },
    errors: [500],
  },
  {
    method: 'get',
    paths: ['/api/v1/delete/running'],
    id: 'runningDeletes',
    tag: 'databases',
    summary: 'Deletes in flight, with their progress',
    description: 'The deletes running now in the databases the token may delete in, oldest first. A client that sent `X-Request-Id` with its delete finds it by `request_id` (`arc delete` draws its progress this way).',
    access: 'delete',
    responses: { 200: json(runningDeletesSchema, 'The running deletes (none: an empty list).') },
    errors: [500],
  },
  {
    method: 'post',
    paths: ['/api/v2/delete'],
    id: 'deleteV2',
    tag: 'databases',
    summary: 'Delete points (InfluxDB 2.x)',
    description: 'The points of the bucket in [start, stop] whose series match the predicate. InfluxDB 2.x\'s messages for what it refuses.',
    access: 'delete',
    query: deleteV2ParametersSchema,
    body: { required: true, content: { 'application/json': deleteV2BodySchema } },
    responses: { 204: { description: 'Deleted.' } },
    errors: [400, 404, 500],
    errorStyle: 'influxV2',
  },
];
