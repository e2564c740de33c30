import { z } from 'zod';
import { createTokenSchema, patchTokenSchema } from '../auth-routes.js';
import { triggerBodySchema } from '../compaction-routes.js';
import { createDatabaseSchema } from '../database-routes.js';
import { replaySchema } from '../wal-dead-letter-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';
import { compactionHistoryParametersSchema, compactionScopeParametersSchema, confirmParametersSchema, databaseNameParameter, measurementNameParameter } from './request-schemas.js';
import {
  compactionCandidatesSchema,
  compactionJobsSchema,
  componentHealthSchema,
  databaseAnswerSchema,
  databaseListSchema,
  databaseMeasurementsSchema,
  deadLetterListSchema,
  deadLetterReplaySchema,
  deletedFilesSchema,
  healthSchema,
  logLinesSchema,
  newTokenSchema,
  readySchema,
  serviceInfoSchema,
  statsSchema,
  tokenAnswerSchema,
  tokenDeletedSchema,
  tokenListSchema,
  verifyAnswerSchema,
} from './response-schemas.js';

/**
 * Management and operation: tokens, databases, the answer cache, the WAL, compaction, health,
 * monitoring, logs, and this API description. The request bodies are the zod schemas the routes
 * validate with (management-route.ts parseBody).
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });

/** `path` and its `/api/v1` alias (registerManagementRoutes with an alias prefix). */
const withV1 = (path: string): string[] => [path, `/api/v1${path}`];

/** A management body: JSON, checked by the route's zod schema; 400 ARC_BAD_JSON / ARC_BAD_REQUEST_BODY (naming the field). */
const jsonBody = (schema: z.ZodType, required = true): NonNullable<ApiOperation['body']> => ({ required, content: { 'application/json': schema } });

const TOKEN_ERRORS = [400, 404, 500, 503] as const;
const tokenIdParameter = { id: z.string().regex(/^\d+$/).meta({ type: 'integer', minimum: 1, description: 'The token id (400 ARC_AUTH_BAD_TOKEN_ID if not a positive integer).' }) };

const TOKEN_OPERATIONS: readonly ApiOperation[] = [
  { method: 'post', paths: withV1('/auth/tokens'), id: 'createToken', tag: 'auth', summary: 'Create a token', description: 'The answer shows the token text once.', access: 'admin', body: jsonBody(createTokenSchema), responses: { 201: json(newTokenSchema, 'Created.') }, errors: TOKEN_ERRORS },
  { method: 'get', paths: withV1('/auth/tokens'), id: 'listTokens', tag: 'auth', summary: 'List tokens (never their text)', access: 'admin', responses: { 200: json(tokenListSchema, 'Every token.') }, errors: [404, 500] },
  { method: 'get', paths: withV1('/auth/tokens/{id}'), id: 'getToken', tag: 'auth', summary: 'One token', access: 'admin', pathParameters: tokenIdParameter, responses: { 200: json(tokenAnswerSchema, 'The token.') }, errors: [400, 404, 500] },
  {
    method: 'patch',
    paths: withV1('/auth/tokens/{id}'),
    id: 'updateToken',
    tag: 'auth',
    summary: 'Change a token',
    description: 'Applies from the next request on, on every node.',
    access: 'admin',
    pathParameters: tokenIdParameter,
    body: jsonBody(patchTokenSchema),
    responses: { 200: json(tokenAnswerSchema, 'Updated.') },
    errors: TOKEN_ERRORS,
  },
  { method: 'delete', paths: withV1('/auth/tokens/{id}'), id: 'deleteToken', tag: 'auth', summary: 'Delete a token', access: 'admin', pathParameters: tokenIdParameter, responses: { 200: json(tokenDeletedSchema, 'Deleted.') }, errors: TOKEN_ERRORS },
  { method: 'post', paths: withV1('/auth/tokens/{id}/rotate'), id: 'rotateToken', tag: 'auth', summary: 'Give a token new text (shown once)', access: 'admin', pathParameters: tokenIdParameter, responses: { 200: json(newTokenSchema, 'Rotated; the old text stops working.') }, errors: TOKEN_ERRORS },
  { method: 'post', paths: withV1('/auth/tokens/{id}/revoke'), id: 'revokeToken', tag: 'auth', summary: 'Disable a token', access: 'admin', pathParameters: tokenIdParameter, responses: { 200: json(tokenAnswerSchema, 'Revoked.') }, errors: TOKEN_ERRORS },
  { method: 'get', paths: withV1('/auth/verify'), id: 'verifyToken', tag: 'auth', summary: 'Who the calling token is', access: 'token', responses: { 200: json(verifyAnswerSchema, 'The token\'s name, permissions and databases.') }, errors: [500] },
];

const databaseName = { name: databaseNameParameter };

const DATABASE_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: ['/api/v1/databases'], id: 'listDatabases', tag: 'databases', summary: 'List the databases the token may read', access: 'read', responses: { 200: json(databaseListSchema, 'The databases with their sizes.') }, errors: [500] },
  { method: 'get', paths: ['/api/v1/databases/{name}'], id: 'getDatabase', tag: 'databases', summary: 'One database', access: 'read', pathParameters: databaseName, responses: { 200: json(databaseAnswerSchema, 'The database.') }, errors: [400, 404, 500] },
  { method: 'get', paths: ['/api/v1/databases/{name}/measurements'], id: 'listDatabaseMeasurements', tag: 'databases', summary: 'The measurements of a database', access: 'read', pathParameters: databaseName, responses: { 200: json(databaseMeasurementsSchema, 'Its measurements with their files.') }, errors: [400, 404, 500] },
  { method: 'post', paths: ['/api/v1/databases'], id: 'createDatabase', tag: 'databases', summary: 'Create a database', description: '409 when it exists, or a name equal but for case does.', access: 'admin', body: jsonBody(createDatabaseSchema), responses: { 201: json(databaseAnswerSchema, 'Created.') }, errors: [400, 409, 500] },
  {
    method: 'delete',
    paths: ['/api/v1/databases/{name}'],
    id: 'deleteDatabase',
    tag: 'databases',
    summary: 'Delete a database and all its files',
    description: 'Writes to it are refused with 409 while the delete runs.',
    access: 'admin',
    pathParameters: databaseName,
    query: confirmParametersSchema,
    responses: { 200: json(deletedFilesSchema, 'Deleted.') },
    errors: [400, 404, 409, 500, 503],
  },
  {
    method: 'delete',
    paths: ['/api/v1/databases/{name}/measurements/{measurement}'],
    id: 'deleteMeasurement',
    tag: 'databases',
    summary: 'Delete a measurement and all its files',
    access: 'admin',
    pathParameters: { ...databaseName, measurement: measurementNameParameter },
    query: confirmParametersSchema,
    responses: { 200: json(deletedFilesSchema, 'Deleted.') },
    errors: [400, 404, 409, 500, 503],
  },
];

const CACHE_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: withV1('/cache/stats'), id: 'cacheStats', tag: 'cache', summary: 'Answer cache counters', access: 'read', responses: { 200: json(statsSchema, 'Entries, bytes, hits and misses.') }, errors: [500] },
  { method: 'get', paths: withV1('/cache/health'), id: 'cacheHealth', tag: 'cache', summary: 'Answer cache health', access: 'read', responses: { 200: json(componentHealthSchema, '`healthy`, `degraded` or `disabled`.') }, errors: [500] },
  { method: 'post', paths: withV1('/cache/clear'), id: 'clearCache', tag: 'cache', summary: 'Empty the answer cache', access: 'admin', responses: { 200: json(statsSchema, '`{success, cleared}`: entries removed.') }, errors: [500] },
];

const walPaths = (path: string): string[] => [`/api/wal${path}`, `/api/v1/wal${path}`];

const WAL_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: walPaths('/status'), id: 'walStatus', tag: 'wal', summary: 'WAL settings and recovery report', access: 'read', responses: { 200: json(statsSchema, 'Settings, the last recovery, dead letters.') }, errors: [] },
  { method: 'get', paths: walPaths('/stats'), id: 'walStats', tag: 'wal', summary: 'WAL counters', access: 'read', responses: { 200: json(statsSchema, 'Entries, bytes, syncs and their latency, segments.') }, errors: [] },
  { method: 'get', paths: walPaths('/files'), id: 'walFiles', tag: 'wal', summary: 'WAL segment files', access: 'read', responses: { 200: json(statsSchema, '`{directory, files, count, total_bytes}`.') }, errors: [] },
  {
    method: 'get',
    paths: walPaths('/health'),
    id: 'walHealth',
    tag: 'wal',
    summary: 'WAL health',
    access: 'read',
    responses: { 200: json(componentHealthSchema, 'healthy'), 503: json(componentHealthSchema, 'degraded: the reasons say why (failed recovery, dead letters, write errors, old unflushed entries).') },
    errors: [],
  },
  { method: 'post', paths: walPaths('/cleanup'), id: 'walCleanup', tag: 'wal', summary: 'Rotate, flush and delete the covered WAL segments', access: 'admin', responses: { 200: json(statsSchema, '`{success, segments_deleted, segments_live, bytes_live}`.') }, errors: [500, 503] },
  { method: 'get', paths: walPaths('/dead-letter'), id: 'listDeadLetters', tag: 'wal', summary: 'Acknowledged entries that replay could not apply', access: 'admin', responses: { 200: json(deadLetterListSchema, 'Each dead letter and why it was refused.') }, errors: [500] },
  {
    method: 'post',
    paths: walPaths('/dead-letter/replay'),
    id: 'replayDeadLetters',
    tag: 'wal',
    summary: 'Re-apply dead letters through the normal ingest path',
    description: '`{"ids": [...]}`, or `{}` for all. 409 with the WAL off, while another replay runs, or after a failed recovery.',
    access: 'admin',
    body: jsonBody(replaySchema),
    responses: { 200: json(deadLetterReplaySchema, 'Each id applied or refused (with the new reason).') },
    errors: [400, 404, 409, 500, 503],
  },
  {
    method: 'delete',
    paths: walPaths('/dead-letter/{id}'),
    id: 'deleteDeadLetter',
    tag: 'wal',
    summary: 'Drop a dead letter dealt with otherwise',
    access: 'admin',
    pathParameters: { id: z.string().meta({ description: 'A dead-letter id (`<stream>-<seq>`, as listed).' }) },
    responses: { 200: json(statsSchema, '`{success, deleted, remaining}`.') },
    errors: [400, 404, 500],
  },
];

const compactionPaths = (path: string): string[] => [`/api/compaction${path}`, `/api/v1/compaction${path}`];

const COMPACTION_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: compactionPaths('/status'), id: 'compactionStatus', tag: 'compaction', summary: 'Compaction state and schedule', access: 'read', responses: { 200: json(statsSchema, 'Enabled, schedules, running jobs.') }, errors: [500] },
  { method: 'get', paths: compactionPaths('/stats'), id: 'compactionStats', tag: 'compaction', summary: 'Compaction counters', access: 'read', responses: { 200: json(statsSchema, 'Jobs, files and bytes merged.') }, errors: [500] },
  { method: 'get', paths: compactionPaths('/candidates'), id: 'compactionCandidates', tag: 'compaction', summary: 'What the next run would merge', access: 'read', query: compactionScopeParametersSchema, responses: { 200: json(compactionCandidatesSchema, 'Candidates of readable databases.') }, errors: [400, 500] },
  { method: 'get', paths: compactionPaths('/jobs'), id: 'compactionJobs', tag: 'compaction', summary: 'Queued and running jobs', access: 'read', responses: { 200: json(compactionJobsSchema, 'Jobs of readable databases.') }, errors: [500] },
  { method: 'get', paths: compactionPaths('/history'), id: 'compactionHistory', tag: 'compaction', summary: 'Finished jobs, newest first', access: 'read', query: compactionHistoryParametersSchema, responses: { 200: json(compactionJobsSchema, 'Jobs of readable databases.') }, errors: [400, 500] },
  {
    method: 'post',
    paths: compactionPaths('/trigger'),
    id: 'triggerCompaction',
    tag: 'compaction',
    summary: 'Queue compaction jobs now',
    description: 'An empty body means everything. 409 with compaction off.',
    access: 'admin',
    body: jsonBody(triggerBodySchema, false),
    responses: { 202: json(compactionJobsSchema, 'The jobs queued.') },
    errors: [400, 409, 500],
  },
];

const HEALTH_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: ['/'], id: 'serviceInfo', tag: 'health', summary: 'Service name, version and phase', access: 'public', responses: { 200: json(serviceInfoSchema, 'Arc.') }, errors: [] },
  { method: 'get', paths: ['/health'], id: 'health', tag: 'health', summary: 'Liveness, uptime and storage reachability', access: 'public', responses: { 200: json(healthSchema, 'healthy'), 503: json(healthSchema, 'unhealthy: storage unreachable.') }, errors: [] },
  { method: 'get', paths: ['/ready'], id: 'ready', tag: 'health', summary: 'Readiness', description: '503 until the WAL is replayed, while stopping, and while storage is unreachable.', access: 'public', responses: { 200: json(readySchema, 'ready'), 503: json(readySchema, 'not_ready, with the reason.') }, errors: [] },
];

const prometheusText = z.string().meta({ description: 'Every arc_ series: Prometheus text exposition 0.0.4, or OpenMetrics 1.0 when the Accept header asks for it.' });

const MONITORING_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'get',
    paths: ['/metrics'],
    id: 'metrics',
    tag: 'monitoring',
    summary: 'Prometheus metrics',
    description: 'The format follows Accept: `application/openmetrics-text` (what Prometheus asks for first), `application/json`, else Prometheus text. Public instead with `[metrics] public = true`.',
    access: 'read',
    responses: { 200: { description: 'Every series, read at scrape time.', content: { 'text/plain': prometheusText, 'application/openmetrics-text': prometheusText, 'application/json': statsSchema } } },
    errors: [],
  },
  {
    method: 'get',
    paths: ['/metrics/timeseries/{type}'],
    id: 'metricsTimeseries',
    tag: 'monitoring',
    summary: 'Recent values of one kind of metric, kept in memory for a console',
    access: 'read',
    pathParameters: { type: z.string().meta({ description: 'Which series; an unknown type answers 404 naming the valid ones.' }) },
    responses: { 200: json(z.looseObject({ type: z.string(), interval_seconds: z.number(), points: z.array(z.unknown()) }), 'Recent points, oldest first.') },
    errors: [404],
  },
  { method: 'get', paths: ['/metrics/endpoints'], id: 'metricsEndpoints', tag: 'monitoring', summary: 'Requests and latency by route', access: 'read', responses: { 200: json(z.looseObject({ endpoints: z.unknown() }), 'Per registered route and status.') }, errors: [] },
  { method: 'get', paths: ['/metrics/memory'], id: 'metricsMemory', tag: 'monitoring', summary: 'Memory per thread, DuckDB\'s included', access: 'read', responses: { 200: json(statsSchema, 'Memory figures.') }, errors: [] },
  { method: 'get', paths: ['/metrics/query-pool'], id: 'metricsQueryPool', tag: 'monitoring', summary: 'Query pool state', access: 'read', responses: { 200: json(statsSchema, 'Threads, queue, running, completed, refused, timed out.') }, errors: [] },
  {
    method: 'get',
    paths: ['/logs', '/api/v1/logs'],
    id: 'logs',
    tag: 'monitoring',
    summary: 'Recent log lines of this node',
    description: 'From the bounded in-memory ring the logger keeps. A bad parameter answers 400 ARC_QUERY_BAD_PARAMETER naming it.',
    access: 'admin',
    query: z.object({
      level: z.enum(['debug', 'info', 'warn', 'error']).optional().meta({ description: 'That level and above (default debug: every kept line).' }),
      since: z.string().optional().meta({ description: 'Lines at or after this time: RFC 3339 (2026-01-31T12:00:00Z) or epoch milliseconds.' }),
      limit: z.string().optional().meta({ type: 'integer', minimum: 1, maximum: 10_000, default: 100, description: 'The newest N matching lines, oldest first.' }),
    }),
    responses: { 200: json(logLinesSchema, 'The lines as the JSON objects the log writes, and the ring\'s state.') },
    errors: [400],
  },
];

const DOCS_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: ['/openapi.json'], id: 'openapi', tag: 'documentation', summary: 'This API description (OpenAPI 3.1)', access: 'public', responses: { 200: json(z.record(z.string(), z.unknown()), 'The OpenAPI document.') }, errors: [] },
  { method: 'get', paths: ['/docs'], id: 'swaggerUi', tag: 'documentation', summary: 'Swagger UI over this description', access: 'public', responses: { 200: { description: 'An HTML page.', content: { 'text/html': z.string() } } }, errors: [] },
  { method: 'get', paths: ['/redoc'], id: 'redoc', tag: 'documentation', summary: 'ReDoc over this description', access: 'public', responses: { 200: { description: 'An HTML page.', content: { 'text/html': z.string() } } }, errors: [] },
  {
    method: 'get',
    paths: ['/docs/assets/{file}'],
    id: 'docsAsset',
    tag: 'documentation',
    summary: 'The scripts and styles of /docs and /redoc',
    access: 'public',
    pathParameters: { file: z.string().meta({ description: 'One of the files the pages load.' }) },
    responses: { 200: { description: 'The file.', content: { 'application/javascript': z.string(), 'text/css': z.string() } } },
    errors: [404],
  },
];

export const ADMIN_OPERATIONS: readonly ApiOperation[] = [
  ...TOKEN_OPERATIONS,
  ...DATABASE_OPERATIONS,
  ...CACHE_OPERATIONS,
  ...WAL_OPERATIONS,
  ...COMPACTION_OPERATIONS,
  ...HEALTH_OPERATIONS,
  ...MONITORING_OPERATIONS,
  ...DOCS_OPERATIONS,
];
