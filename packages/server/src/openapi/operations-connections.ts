import { z } from 'zod';
import { CONNECTION_TEST_TIMEOUT_MS, CONNECTION_TYPES } from '@arc/importer';
import { connectionCreateSchema, connectionTestSchema, connectionUpdateSchema } from '../connection-routes.js';
import type { ApiOperation, ApiResponse } from './api-operation.js';

/**
 * Import connections (connection-routes.ts): CRUD per type, the active one, a test, the storage
 * backend (read only), and the HTTP JSON aliases. Request bodies are the zod schemas the routes
 * validate with. Every route is admin only and also answers under `/api/v1`.
 */

const json = (schema: z.ZodType, description: string): ApiResponse => ({ description, content: { 'application/json': schema } });

const connectionSchema = z.looseObject({
  id: z.number().int(),
  type: z.enum(CONNECTION_TYPES),
  source_type: z.enum(['influx1', 'influx2', 'postgres', 'http-json']).meta({ description: 'The driver: influx1 or influx2 by settings.version for an influx connection.' }),
  name: z.string(),
  settings: z.record(z.string(), z.unknown()),
  has_secret: z.boolean().meta({ description: 'Whether a secret is stored (it is never returned).' }),
  active: z.boolean().meta({ description: 'The connection of its type that imports use when they name none (one per type).' }),
  created_at: z.string(),
  updated_at: z.string(),
});
const testResultSchema = z.looseObject({
  ok: z.boolean(),
  version: z.string().nullable().meta({ description: "The source's version when it says." }),
  detail: z.string().meta({ description: 'What was checked, or the step that failed and why.' }),
});
const storageSchema = z.looseObject({
  backend: z.enum(['local', 's3', 'minio', 'gcs']),
  data_dir: z.string(),
  parquet_root: z.string().nullable(),
  endpoint: z.string().nullable(),
  bucket: z.string().nullable(),
  prefix: z.string().nullable(),
  region: z.string().nullable(),
  cache_dir: z.string().nullable(),
  read_only: z.literal(true),
});

const typeParameter = { type: z.enum(CONNECTION_TYPES).meta({ description: 'influx (InfluxDB 1.x or 2.x by settings.version), postgres (PostgreSQL / TimescaleDB) or http-json. 400 ARC_IMPORT_BAD_CONNECTION_TYPE otherwise.' }) };
const idParameter = { id: z.string().regex(/^\d+$/).meta({ type: 'integer', minimum: 1, description: 'The connection id (400 ARC_IMPORT_BAD_CONNECTION_ID if not a positive integer).' }) };
const both = { ...typeParameter, ...idParameter };
const tag = 'import';
const admin = 'admin' as const;

/** `/connections{suffix}` and its `/api/v1` alias. */
const paths = (suffix: string): string[] => [`/connections${suffix}`, `/api/v1/connections${suffix}`];
const HTTP_JSON = '/api/http-json/connections';

const listAnswer = json(z.looseObject({ connections: z.array(connectionSchema) }), 'The connections of the type, oldest first.');
const createBody = { required: true, content: { 'application/json': connectionCreateSchema } };
const updateBody = { required: true, content: { 'application/json': connectionUpdateSchema } };
const deletedAnswer = json(z.looseObject({ deleted: z.literal(true), id: z.number().int() }), 'Deleted.');
const testAnswer = json(testResultSchema, `The outcome: a source that refused or did not answer within ${String(CONNECTION_TEST_TIMEOUT_MS / 1000)} s is \`ok: false\` with the reason.`);
const createText = 'The first connection of a type becomes its active one. 400 naming the field (a password inside a URL is refused: give it as `secret`), 409 ARC_IMPORT_CONNECTION_NAME_TAKEN.';
const updateText = 'Each field given replaces the stored one; `secret: null` removes the secret. 400 naming the field, 404, 409 ARC_IMPORT_CONNECTION_NAME_TAKEN.';
const deleteText = '409 ARC_IMPORT_CONNECTION_IN_USE while an import job reads from it.';
const readOnlyText = 'Storage is set in arc.conf (`storage.*`) and takes a restart: a body changing any field (or naming one GET does not answer, such as credentials) is 409 ARC_IMPORT_STORAGE_READ_ONLY naming the field; one restating the running storage, or none, changes nothing.';
const storageBody = { required: false, content: { 'application/json': storageSchema.partial() } };

export const CONNECTION_OPERATIONS: readonly ApiOperation[] = [
  { method: 'get', paths: paths('/storage'), id: 'getStorageConnection', tag, summary: 'The running storage backend', description: 'As arc.conf set it, credentials left out.', access: admin, responses: { 200: json(storageSchema, 'The backend.') }, errors: [500] },
  { method: 'post', paths: paths('/storage'), id: 'createStorageConnection', tag, summary: 'Storage is not set through the API', description: readOnlyText, access: admin, body: storageBody, responses: { 200: json(storageSchema, 'Nothing changed: the running backend.') }, errors: [400, 409] },
  { method: 'put', paths: paths('/storage'), id: 'updateStorageConnection', tag, summary: 'Storage is not set through the API', description: readOnlyText, access: admin, body: storageBody, responses: { 200: json(storageSchema, 'Nothing changed: the running backend.') }, errors: [400, 409] },
  { method: 'get', paths: paths('/{type}'), id: 'listConnections', tag, summary: 'The connections of a type', access: admin, pathParameters: typeParameter, responses: { 200: listAnswer }, errors: [400, 500] },
  { method: 'post', paths: paths('/{type}'), id: 'createConnection', tag, summary: 'Store a connection', description: createText, access: admin, pathParameters: typeParameter, body: createBody, responses: { 201: json(connectionSchema, 'Stored.') }, errors: [400, 409, 500] },
  {
    method: 'post',
    paths: paths('/{type}/test'),
    id: 'testConnection',
    tag,
    summary: 'Test a connection',
    description: "Connects, authenticates and checks the database, bucket or endpoint, with the stored connection `id` or with `settings` (and `secret`) not stored yet. 400 for settings the type's driver refuses, or a type without a driver in this build.",
    access: admin,
    pathParameters: typeParameter,
    body: { required: true, content: { 'application/json': connectionTestSchema } },
    responses: { 200: testAnswer },
    errors: [400, 404, 500],
  },
  { method: 'get', paths: paths('/{type}/{id}'), id: 'getConnection', tag, summary: 'One connection', access: admin, pathParameters: both, responses: { 200: json(connectionSchema, 'The connection.') }, errors: [400, 404, 500] },
  { method: 'put', paths: paths('/{type}/{id}'), id: 'updateConnection', tag, summary: 'Change a connection', description: updateText, access: admin, pathParameters: both, body: updateBody, responses: { 200: json(connectionSchema, 'Changed.') }, errors: [400, 404, 409, 500] },
  { method: 'delete', paths: paths('/{type}/{id}'), id: 'deleteConnection', tag, summary: 'Delete a connection', description: deleteText, access: admin, pathParameters: both, responses: { 200: deletedAnswer }, errors: [400, 404, 409, 500] },
  { method: 'post', paths: paths('/{type}/{id}/activate'), id: 'activateConnection', tag, summary: 'Make a connection the active one of its type', description: 'Imports that name no connection use it; the one active before no longer is.', access: admin, pathParameters: both, responses: { 200: json(connectionSchema, 'Now active.') }, errors: [400, 404, 500] },
  { method: 'get', paths: [HTTP_JSON], id: 'listHttpJsonConnections', tag, summary: 'The HTTP JSON connections', description: 'The same as GET /connections/http-json.', access: admin, responses: { 200: listAnswer }, errors: [500] },
  { method: 'post', paths: [HTTP_JSON], id: 'createHttpJsonConnection', tag, summary: 'Store an HTTP JSON connection', description: createText, access: admin, body: createBody, responses: { 201: json(connectionSchema, 'Stored.') }, errors: [400, 409, 500] },
  { method: 'get', paths: [`${HTTP_JSON}/{id}`], id: 'getHttpJsonConnection', tag, summary: 'One HTTP JSON connection', access: admin, pathParameters: idParameter, responses: { 200: json(connectionSchema, 'The connection.') }, errors: [400, 404, 500] },
  { method: 'put', paths: [`${HTTP_JSON}/{id}`], id: 'updateHttpJsonConnection', tag, summary: 'Change an HTTP JSON connection', description: updateText, access: admin, pathParameters: idParameter, body: updateBody, responses: { 200: json(connectionSchema, 'Changed.') }, errors: [400, 404, 409, 500] },
  { method: 'delete', paths: [`${HTTP_JSON}/{id}`], id: 'deleteHttpJsonConnection', tag, summary: 'Delete an HTTP JSON connection', description: deleteText, access: admin, pathParameters: idParameter, responses: { 200: deletedAnswer }, errors: [400, 404, 409, 500] },
  { method: 'post', paths: [`${HTTP_JSON}/{id}/test`], id: 'testHttpJsonConnection', tag, summary: 'Test a stored HTTP JSON connection', description: '400 when this build has no HTTP JSON driver.', access: admin, pathParameters: idParameter, responses: { 200: testAnswer }, errors: [400, 404, 500] },
];
