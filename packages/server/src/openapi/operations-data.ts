import { z } from 'zod';
import type { ApiOperation, ApiResponse } from './api-operation.js';
import {
  databaseHeaderSchema,
  estimateQueryBodySchema,
  fixedFormatQueryBodySchema,
  influxQueryFormSchema,
  influxQueryParametersSchema,
  lineProtocolV1ParametersSchema,
  lineProtocolV2ParametersSchema,
  measurementListParametersSchema,
  measurementNameParameter,
  measurementQueryParametersSchema,
  sqlQueryBodySchema,
  streamQueryBodySchema,
} from './request-schemas.js';
import { estimateAnswerSchema, flushAnswerSchema, influxResultsSchema, measurementListSchema, queryJsonAnswerSchema, statsSchema, componentHealthSchema } from './response-schemas.js';

/**
 * The data path: writes (MessagePack, line protocol, JSON), SQL and InfluxQL queries, and the
 * measurement reads. Each operation names the paths it is registered at (write-routes.ts,
 * query-routes.ts, measurement-routes.ts, influx-query-routes.ts, write-stats-routes.ts).
 */

/** Statuses a write can answer with the error body (the decoder's 400s, a slow or large body, a database being deleted, full rings). */
const WRITE_ERRORS = [400, 408, 409, 413, 503] as const;
/** And a query (the engine's 400s, an internal failure, an overloaded pool, a timeout). */
const QUERY_ERRORS = [400, 408, 413, 500, 503, 504] as const;

const NO_CONTENT: ApiResponse = { description: 'Every row was decoded and handed to the writers (and is in the WAL when it is on).' };

const writeDescription =
  'The token needs `write` on the database. 204 means acknowledged: the rows are in a writer buffer (and in the WAL with `wal.enabled`) and become visible to queries at the next flush. ' +
  'Bodies may be gzip (`Content-Encoding: gzip` or by magic bytes) or zstd. Errors name the line or byte offset.';

const msgpackBody = {
  required: true,
  description: 'A MessagePack row, columnar object or batch (README, Writing data: MessagePack; GET /write/v2/msgpack/spec).',
  content: { 'application/msgpack': 'binary', 'application/x-msgpack': 'binary' },
} as const;

const lineProtocolBody = {
  required: true,
  description: 'InfluxDB line protocol: `measurement,tag=value field=1.5 1700000000000000000`, one point per line.',
  content: { 'text/plain': z.string().meta({ examples: ['cpu,host=server01 usage_idle=95.5 1700000000000000000'] }) },
} as const;

/** The shapes of a JSON write, for readers (the decoder in @arc/protocol is what checks them). */
const jsonRowSchema = z.looseObject({
  measurement: z.string().optional().meta({ description: 'Or `m`.' }),
  time: z.union([z.number(), z.string()]).optional().meta({ description: 'Or `timestamp` / `t`: a number (unit inferred by magnitude) or RFC 3339 text.' }),
  tags: z.record(z.string(), z.string()).optional(),
  fields: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])).optional(),
});
const jsonColumnarSchema = z.looseObject({ m: z.string(), columns: z.record(z.string(), z.array(z.unknown())), tags: z.array(z.string()).optional() });
const jsonWriteSchema = z
  .union([jsonRowSchema, z.array(jsonRowSchema), z.strictObject({ batch: z.array(z.union([jsonRowSchema, jsonColumnarSchema])) }), jsonColumnarSchema])
  .meta({ examples: [{ measurement: 'events', time: '2025-10-16T16:00:00Z', tags: { host: 'a' }, fields: { latency_ms: 12.5, ok: true } }] });

const jsonRowsBody = {
  required: true,
  description: 'A row, an array of rows, `{"batch": [...]}`, or a columnar object, with the MessagePack row keys or their long names. Every JSON number is stored as DOUBLE.',
  content: { 'application/json': jsonWriteSchema },
} as const;

const WRITE_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    paths: ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'],
    id: 'writeMsgpack',
    tag: 'write',
    summary: 'Write rows as MessagePack',
    description: writeDescription,
    access: 'write',
    headers: databaseHeaderSchema,
    body: msgpackBody,
    responses: { 204: NO_CONTENT },
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    paths: ['/write', '/api/v1/write', '/api/v1/write/line-protocol'],
    id: 'writeLineProtocol',
    tag: 'write',
    summary: 'Write line protocol (InfluxDB 1.x)',
    description: writeDescription,
    access: 'write',
    query: lineProtocolV1ParametersSchema,
    headers: databaseHeaderSchema,
    body: lineProtocolBody,
    responses: { 204: NO_CONTENT },
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    paths: ['/api/v2/write'],
    id: 'writeLineProtocolV2',
    tag: 'write',
    summary: 'Write line protocol (InfluxDB 2.x)',
    description: `${writeDescription} Error bodies also carry \`message\`, where InfluxDB 2.x clients read it.`,
    access: 'write',
    query: lineProtocolV2ParametersSchema,
    headers: databaseHeaderSchema,
    body: lineProtocolBody,
    responses: { 204: NO_CONTENT },
    errors: WRITE_ERRORS,
    errorStyle: 'influxV2',
  },
  {
    method: 'post',
    paths: ['/write/json', '/api/v1/write/json'],
    id: 'writeJson',
    tag: 'write',
    summary: 'Write rows as JSON',
    description: writeDescription,
    access: 'write',
    headers: databaseHeaderSchema,
    body: jsonRowsBody,
    responses: { 204: NO_CONTENT },
    errors: WRITE_ERRORS,
  },
  {
    method: 'post',
    paths: ['/write/flush'],
    id: 'flushWrites',
    tag: 'write',
    summary: 'Flush every buffer to Parquet',
    description: 'Answers once every row acknowledged before the call is in a durable Parquet file.',
    access: 'admin',
    responses: { 200: { description: 'Flushed.', content: { 'application/json': flushAnswerSchema } } },
    errors: [500, 503],
  },
  {
    method: 'get',
    paths: ['/write/stats'],
    id: 'writeStats',
    tag: 'write',
    summary: 'Ingest counters',
    access: 'read',
    responses: { 200: { description: 'Requests, rows and bytes by format, rejects, and the writers\' buffers.', content: { 'application/json': statsSchema } } },
    errors: [],
  },
  {
    method: 'get',
    paths: ['/write/health'],
    id: 'writeHealth',
    tag: 'write',
    summary: 'Ingest health',
    access: 'read',
    responses: {
      200: { description: 'healthy', content: { 'application/json': componentHealthSchema } },
      503: { description: 'degraded: the reasons say why (starting, buffers nearly full, failed flushes).', content: { 'application/json': componentHealthSchema } },
    },
    errors: [],
  },
  {
    method: 'get',
    paths: ['/write/v2/msgpack/stats'],
    id: 'msgpackStats',
    tag: 'write',
    summary: 'MessagePack ingest counters',
    access: 'read',
    responses: { 200: { description: 'Requests, rows and bytes of the MessagePack endpoints.', content: { 'application/json': statsSchema } } },
    errors: [],
  },
  {
    method: 'get',
    paths: ['/write/v2/msgpack/spec'],
    id: 'msgpackSpec',
    tag: 'write',
    summary: 'The MessagePack payload format, machine-readable',
    access: 'read',
    responses: { 200: { description: 'Endpoints, compression, shapes and types of the MessagePack format.', content: { 'application/json': statsSchema } } },
    errors: [],
  },
];

const queryAnswerHeaders = { 'x-arc-execution-time-ms': 'Time from the request to the answer, in ms.', 'x-arc-cache': '`hit` or `miss` when the answer cache is on.' };

/** The four answer formats of `POST /query`. */
const QUERY_ANSWER: ApiResponse = {
  description: 'The result in the asked format (`Content-Encoding: gzip` or zstd when accepted, but never for Arrow).',
  content: {
    'application/json': queryJsonAnswerSchema,
    'text/csv': z.string(),
    'application/vnd.apache.arrow.stream': 'binary',
    'application/msgpack': 'binary',
  },
  headers: queryAnswerHeaders,
};

const queryDescription =
  'Runs one read statement with DuckDB. The token needs `read`, and `read` on every database the SQL touches (checked on its parse tree). ' +
  'With `q` in the URL, or a form body that is not JSON, the same path answers InfluxQL (operation `influxQuery`).';

/** A path that fixes the answer format of a SQL query (query-routes.ts FORMAT_QUERY_PATHS). */
function fixedFormatQuery(path: string, id: string, summary: string, mediaType: string, description: string): ApiOperation {
  return {
    method: 'post',
    paths: [path],
    id,
    tag: 'query',
    summary,
    access: 'read',
    headers: databaseHeaderSchema,
    body: { required: true, content: { 'application/json': fixedFormatQueryBodySchema } },
    responses: { 200: { description, content: { [mediaType]: 'binary' }, headers: queryAnswerHeaders } },
    errors: QUERY_ERRORS,
    errorStyle: 'query',
  };
}

/** What the two measurement reads share (measurement-routes.ts handleMeasurementRead). */
const MEASUREMENT_READ = {
  method: 'get',
  tag: 'query',
  access: 'read',
  pathParameters: { measurement: measurementNameParameter },
  query: measurementQueryParametersSchema,
  headers: databaseHeaderSchema,
  errors: QUERY_ERRORS,
  errorStyle: 'query',
} as const;

const QUERY_OPERATIONS: readonly ApiOperation[] = [
  {
    method: 'post',
    paths: ['/query', '/api/v1/query'],
    id: 'querySql',
    tag: 'query',
    summary: 'Run a SQL query (or InfluxQL, InfluxDB 1.x style)',
    description: queryDescription,
    access: 'read',
    query: influxQueryParametersSchema,
    headers: databaseHeaderSchema,
    body: {
      // InfluxQL with `q` in the URL needs no body.
      required: false,
      description: 'Arc SQL as JSON (required for SQL), or InfluxDB 1.x\'s form `q=...` (then InfluxQL).',
      content: { 'application/json': sqlQueryBodySchema, 'application/x-www-form-urlencoded': influxQueryFormSchema },
    },
    responses: { 200: QUERY_ANSWER },
    errors: QUERY_ERRORS,
    errorStyle: 'query',
  },
  fixedFormatQuery('/api/v1/query/arrow', 'querySqlArrow', 'Run a SQL query, answered as an Arrow IPC stream', 'application/vnd.apache.arrow.stream', 'An Arrow IPC stream.'),
  fixedFormatQuery(
    '/api/v1/query/msgpack',
    'querySqlMsgpack',
    'Run a SQL query, answered as columnar MessagePack',
    'application/msgpack',
    '`{success, columns, types, data: [[column values], ...], row_count, ...}` as MessagePack.',
  ),
  {
    method: 'post',
    paths: ['/query/stream', '/api/v1/query/stream'],
    id: 'queryStream',
    tag: 'query',
    summary: 'Stream a large result as CSV or NDJSON',
    description: 'Rows are sent as they are read, with back-pressure; a failure after the first rows cuts the body short.',
    access: 'read',
    headers: databaseHeaderSchema,
    body: { required: true, content: { 'application/json': streamQueryBodySchema } },
    responses: { 200: { description: 'The rows, chunked.', content: { 'text/csv': z.string(), 'application/x-ndjson': z.string() } } },
    errors: QUERY_ERRORS,
    errorStyle: 'query',
  },
  {
    method: 'post',
    paths: ['/query/estimate', '/api/v1/query/estimate'],
    id: 'queryEstimate',
    tag: 'query',
    summary: 'Estimate the rows a query would answer',
    access: 'read',
    headers: databaseHeaderSchema,
    body: { required: true, content: { 'application/json': estimateQueryBodySchema } },
    responses: { 200: { description: 'The estimate and a warning level.', content: { 'application/json': estimateAnswerSchema } } },
    errors: QUERY_ERRORS,
    errorStyle: 'query',
  },
  {
    method: 'get',
    paths: ['/measurements', '/api/v1/measurements'],
    id: 'listMeasurements',
    tag: 'query',
    summary: 'List the measurements that have data',
    access: 'read',
    query: measurementListParametersSchema,
    headers: databaseHeaderSchema,
    responses: { 200: { description: 'One entry per measurement.', content: { 'application/json': measurementListSchema } } },
    errors: QUERY_ERRORS,
    errorStyle: 'query',
  },
  {
    ...MEASUREMENT_READ,
    paths: ['/query/{measurement}', '/api/v1/query/{measurement}'],
    id: 'readMeasurement',
    summary: 'Read a measurement\'s rows as JSON (newest first)',
    responses: { 200: { description: 'The rows, as a SQL query answers them in JSON.', content: { 'application/json': queryJsonAnswerSchema } } },
  },
  {
    ...MEASUREMENT_READ,
    paths: ['/query/{measurement}/csv', '/api/v1/query/{measurement}/csv'],
    id: 'readMeasurementCsv',
    summary: 'Read a measurement\'s rows as CSV',
    responses: { 200: { description: 'The rows as CSV with a header row.', content: { 'text/csv': z.string() } } },
  },
  {
    method: 'get',
    paths: ['/query'],
    id: 'influxQuery',
    tag: 'influxdb',
    summary: 'Run InfluxQL (InfluxDB 1.x query API)',
    description: 'Answered from Arc\'s Parquet through the InfluxQL translation. `CREATE DATABASE` alone needs `write`, anything else `read` on each database it reads.',
    access: 'read',
    query: influxQueryParametersSchema,
    headers: databaseHeaderSchema,
    responses: { 200: { description: 'InfluxDB 1.x\'s `{results: [...]}` (one document per chunk with chunked=true).', content: { 'application/json': influxResultsSchema } } },
    errors: [400, 500, 503, 504],
  },
  {
    method: 'get',
    paths: ['/ping'],
    id: 'ping',
    tag: 'influxdb',
    summary: 'InfluxDB ping',
    access: 'public',
    responses: { 204: { description: 'Up.', headers: { 'X-Influxdb-Version': 'The InfluxDB API version followed.', 'X-Arc-Version': 'Arc\'s version.' } } },
    errors: [],
  },
  {
    method: 'head',
    paths: ['/ping'],
    id: 'pingHead',
    tag: 'influxdb',
    summary: 'InfluxDB ping (HEAD)',
    access: 'public',
    responses: { 204: { description: 'Up.' } },
    errors: [],
  },
];

export const DATA_OPERATIONS: readonly ApiOperation[] = [...WRITE_OPERATIONS, ...QUERY_OPERATIONS];
