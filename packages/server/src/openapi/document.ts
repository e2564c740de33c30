import assert from 'node:assert/strict';
import { z } from 'zod';
import { pathParameterNames, type ApiOperation, type ApiResponse, type ErrorStyle } from './api-operation.js';
import { ADMIN_OPERATIONS } from './operations-admin.js';
import { DATA_OPERATIONS } from './operations-data.js';
import { RETENTION_OPERATIONS } from './operations-retention.js';
import { CQ_OPERATIONS } from './operations-cq.js';
import { LAST_CACHE_OPERATIONS } from './operations-last-cache.js';
import { DELETE_OPERATIONS } from './operations-delete.js';
import { IMPORT_OPERATIONS } from './operations-import.js';
import { JOB_OPERATIONS } from './operations-jobs.js';
import { CONNECTION_OPERATIONS } from './operations-connections.js';
import { HTTP_JSON_OPERATIONS } from './operations-http-json.js';
import { authErrorBodySchema, errorBodySchema, influxV2ErrorBodySchema, queryErrorBodySchema } from './response-schemas.js';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '../request-id.js';

/** Every operation of the HTTP API: the list the document is built from and the route test checks. */
export const API_OPERATIONS: readonly ApiOperation[] = [...DATA_OPERATIONS, ...ADMIN_OPERATIONS, ...RETENTION_OPERATIONS, ...CQ_OPERATIONS, ...LAST_CACHE_OPERATIONS, ...DELETE_OPERATIONS, ...IMPORT_OPERATIONS, ...CONNECTION_OPERATIONS, ...HTTP_JSON_OPERATIONS, ...JOB_OPERATIONS];

type JsonObject = Record<string, unknown>;

/** Converted schemas by direction: a schema shared by many operations and aliases is converted once. */
const CONVERTED = { input: new WeakMap<z.ZodType, JsonObject>(), output: new WeakMap<z.ZodType, JsonObject>() };

/**
 * zod 4's own JSON Schema output (draft 2020-12, the dialect of OpenAPI 3.1), without the
 * `$schema` key, which an embedded Schema Object does not need. Request schemas are described as
 * input (what a client sends), answers as output. The result is shared: callers copy before changing it.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const known = CONVERTED[io].get(schema);
  if (known !== undefined) return known;
  const described = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonObject;
  delete described.$schema;
  CONVERTED[io].set(schema, described);
  return described;
}

const BINARY_SCHEMA = { type: 'string', contentMediaType: 'application/octet-stream' };

function content(media: Readonly<Record<string, z.ZodType | 'binary'>>, io: 'input' | 'output'): JsonObject {
  return Object.fromEntries(Object.entries(media).map(([type, schema]) => [type, { schema: schema === 'binary' ? BINARY_SCHEMA : jsonSchema(schema, io) }]));
}

/** Token schemes, in the order auth-gate.ts tries them (@arc/auth extractToken). */
const SECURITY_SCHEMES = {
  bearerAuth: { type: 'http', scheme: 'bearer', description: '`Authorization: Bearer <token>`.' },
  tokenAuth: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Authorization: Token <token>` (InfluxDB 2.x clients).' },
  basicAuth: { type: 'http', scheme: 'basic', description: 'HTTP Basic with the token as the password, any user (InfluxDB 1.x clients).' },
  apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key', description: '`x-api-key: <token>` (Telegraf outputs.arc, Arc SDKs).' },
  queryTokenAuth: { type: 'apiKey', in: 'query', name: 'p', description: '`?p=<token>` (also `?u=<user>&p=<token>`; InfluxDB 1.x query parameters). Prefer a header: URLs end up in logs.' },
} as const;

/** Any one of the schemes: OpenAPI reads a list of requirements as alternatives. */
const ANY_TOKEN = Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] }));

const ERROR_SCHEMA_NAMES: Readonly<Record<ErrorStyle, string>> = { plain: 'Error', query: 'QueryError', influxV2: 'InfluxV2Error' };

const COMPONENT_SCHEMAS = {
  Error: jsonSchema(errorBodySchema, 'output'),
  QueryError: jsonSchema(queryErrorBodySchema, 'output'),
  InfluxV2Error: jsonSchema(influxV2ErrorBodySchema, 'output'),
  AuthError: jsonSchema(authErrorBodySchema, 'output'),
};

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad input: the message names what was wrong and where (a field, a parameter, a line).',
  404: 'Not found.',
  408: 'The body came slower than the minimum upload rate.',
  409: 'Conflict with the current state (the code says which).',
  413: 'The body (or its Content-Length) is over the limit.',
  431: 'The request line and headers are over the limit.',
  500: 'An internal failure (logged).',
  503: 'Busy, starting or stopping: retry after `Retry-After` seconds.',
  504: 'The query ran past its time limit.',
};

const schemaRef = (name: string): JsonObject => ({ $ref: `#/components/schemas/${name}` });

/** On every answer (request-id.ts): the client's own X-Request-Id when it sent a plain one, else a new UUID. */
const REQUEST_ID_RESPONSE_HEADER: JsonObject = { [REQUEST_ID_HEADER]: { description: "The request's id: the client's own when it sent a plain one, else a new UUID; the log lines about the request carry it as `request_id`.", schema: { type: 'string' } } };
const REQUEST_ID_PARAMETER: JsonObject = {
  name: REQUEST_ID_HEADER,
  in: 'header',
  required: false,
  description: 'An id for this request, echoed in the answer and logged with the lines about it; anything else is replaced by a new UUID.',
  schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
};

function errorResponse(status: number, style: ErrorStyle): JsonObject {
  const headers = status === 503 ? { ...REQUEST_ID_RESPONSE_HEADER, 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } } : REQUEST_ID_RESPONSE_HEADER;
  return { description: STATUS_TEXT[status] ?? 'Error.', headers, content: { 'application/json': { schema: schemaRef(ERROR_SCHEMA_NAMES[style]) } } };
}

function successResponse(response: ApiResponse): JsonObject {
  const headers = { ...REQUEST_ID_RESPONSE_HEADER, ...Object.fromEntries(Object.entries(response.headers ?? {}).map(([name, description]) => [name, { description, schema: { type: 'string' } }])) };
  return {
    description: response.description,
    headers,
    ...(response.content === undefined ? {} : { content: content(response.content, 'output') }),
  };
}

function responses(operation: ApiOperation): JsonObject {
  const style = operation.errorStyle ?? 'plain';
  const out: JsonObject = {};
  for (const [status, response] of Object.entries(operation.responses)) out[status] = successResponse(response);
  // Every route can refuse an oversized head (431) or an unreadable Content-Length (413): request-head.ts.
  const statuses = new Set([...operation.errors, 413, 431]);
  if (operation.access !== 'public') {
    out['401'] = { description: 'No token, or not a valid one.', headers: REQUEST_ID_RESPONSE_HEADER, content: { 'application/json': { schema: schemaRef('AuthError') } } };
    if (operation.access !== 'token') out['403'] = { description: `The token lacks \`${operation.access}\` (on the database).`, headers: REQUEST_ID_RESPONSE_HEADER, content: { 'application/json': { schema: schemaRef('AuthError') } } };
  }
  for (const status of [...statuses].sort((a, b) => a - b)) out[String(status)] ??= errorResponse(status, style);
  return out;
}

/** OpenAPI parameters from a zod object: one per key, required when the key is. */
function parametersIn(where: 'query' | 'header', schema: z.ZodObject | undefined): JsonObject[] {
  if (schema === undefined) return [];
  const described = jsonSchema(schema, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
  return Object.entries(described.properties ?? {}).map(([name, property]) => {
    const { description, ...propertySchema } = property;
    return { name, in: where, required: described.required?.includes(name) === true, ...(description === undefined ? {} : { description }), schema: propertySchema };
  });
}

function pathParameters(path: string, operation: ApiOperation): JsonObject[] {
  return pathParameterNames(path).map((name) => {
    const schema = operation.pathParameters?.[name];
    const { description, ...rest } = schema === undefined ? { type: 'string' } : jsonSchema(schema, 'input');
    return { name, in: 'path', required: true, ...(description === undefined ? {} : { description }), schema: rest };
  });
}

const ACCESS_TEXT: Readonly<Record<ApiOperation['access'], string>> = {
  public: 'Public: no token.',
  token: 'Any valid token.',
  read: 'Token permission: `read`.',
  write: 'Token permission: `write`.',
  delete: 'Token permission: `delete`.',
  admin: 'Token permission: `admin`.',
};

/** `/api/v1/query/{measurement}/csv` -> `ApiV1QueryMeasurementCsv`: tells an alias's operationId apart. */
function pathSuffix(path: string): string {
  return path
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => `${part[0]?.toUpperCase() ?? ''}${part.slice(1)}`)
    .join('');
}

function operationObject(operation: ApiOperation, path: string, index: number): JsonObject {
  const primary = operation.paths[0];
  assert.ok(primary !== undefined, 'an operation has at least one path');
  const alias = index === 0 ? '' : ` Alias of \`${operation.method.toUpperCase()} ${primary}\`.`;
  return {
    operationId: index === 0 ? operation.id : `${operation.id}At${pathSuffix(path)}`,
    tags: [operation.tag],
    summary: operation.summary,
    description: `${operation.description ?? ''} ${ACCESS_TEXT[operation.access]}${alias}`.trim(),
    'x-arc-permission': operation.access,
    security: operation.access === 'public' ? [] : ANY_TOKEN,
    parameters: [...pathParameters(path, operation), ...parametersIn('query', operation.query), ...parametersIn('header', operation.headers), REQUEST_ID_PARAMETER],
    ...(operation.body === undefined ? {} : { requestBody: { required: operation.body.required, ...(operation.body.description === undefined ? {} : { description: operation.body.description }), content: content(operation.body.content, 'input') } }),
    responses: responses(operation),
  };
}

const TAGS = [
  { name: 'write', description: 'Ingest: MessagePack, InfluxDB line protocol, JSON.' },
  { name: 'import', description: 'File imports (line protocol, CSV, Parquet), HTTP JSON APIs, and connections to the systems imports read from.' },
  { name: 'import jobs', description: 'Imports from InfluxDB, PostgreSQL and HTTP JSON APIs: jobs, schedules, executions.' },
  { name: 'query', description: 'SQL queries (DuckDB) and measurement reads.' },
  { name: 'influxdb', description: 'InfluxDB 1.x query API and ping.' },
  { name: 'auth', description: 'Tokens.' },
  { name: 'databases', description: 'Databases and measurements.' },
  { name: 'cache', description: 'The query answer cache.' },
  { name: 'wal', description: 'The write-ahead log and its dead letters.' },
  { name: 'compaction', description: 'Merging small Parquet files.' },
  { name: 'retention', description: 'Retention policies: removing rows past their age.' },
  { name: 'continuous queries', description: 'Rollups kept up to date window by window (README "Continuous queries").' },
  { name: 'last value cache', description: "Each series' newest rows kept in memory, read with last_cache() in SQL (docs/query-types.md)." },
  { name: 'health', description: 'Liveness and readiness.' },
  { name: 'monitoring', description: 'Metrics and logs.' },
  { name: 'documentation', description: 'This description and its viewers.' },
];

/** The OpenAPI 3.1 document of the API of this server version. */
export function openApiDocument(version: string): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const operation of API_OPERATIONS) {
    for (const [index, path] of operation.paths.entries()) {
      const item = (paths[path] ??= {});
      assert.ok(item[operation.method] === undefined, 'one operation per method and path');
      item[operation.method] = operationObject(operation, path, index);
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Arc',
      version,
      license: { name: 'AGPL-3.0-only', identifier: 'AGPL-3.0-only' },
      description:
        'Arc, a time-series warehouse: ingest MessagePack, InfluxDB line protocol or JSON; query with SQL (DuckDB) or InfluxQL. ' +
        'Every route but the public ones needs a token (any of the security schemes); with `auth.enabled = false` none does. ' +
        'Errors are `{"error": "...", "code": "ARC_..."}` with details; 401 and 403 are `{"error": "..."}` alone.',
    },
    // The server that serves this document: a relative URL, so "Try it out" calls the same host and port.
    servers: [{ url: '/' }],
    tags: TAGS,
    paths,
    components: { schemas: COMPONENT_SCHEMAS, securitySchemes: SECURITY_SCHEMES },
  };
}
