import type { TemplatedApp } from 'uWebSockets.js';
import type { Config } from '@arc/config';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import {
  CONNECTION_NAME_LENGTH_MAX,
  CONNECTION_TEST_TIMEOUT_MS,
  CONNECTION_TYPES,
  ConnectionType,
  ImporterErrorCode,
  driverFor,
  draftSourceConnection,
  isConnectionType,
  type Connection,
  type ConnectionStore,
  type ConnectionTestResult,
  type SourceConnection,
} from '@arc/importer';
import { z } from 'zod';
import { REDACTED } from './log-redact.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import type { ServerLogger } from './log.js';
import type { ServerContext } from './server-context.js';

/**
 * Connections to the systems imports read from (README "Importing data", packages/importer
 * connection-store.ts), admin only, at `/connections/...` and `/api/v1/connections/...`:
 *   GET    /connections/{type}                 {connections: [...]}      type: influx | postgres | http-json
 *   POST   /connections/{type}                 {name, settings, secret?} 201 the connection
 *   GET    /connections/{type}/{id}            the connection
 *   PUT    /connections/{type}/{id}            {name?, settings?, secret?} (each given replaces; secret null removes it)
 *   DELETE /connections/{type}/{id}            {deleted: true}; 409 when a job reads from it
 *   POST   /connections/{type}/{id}/activate   the connection, now the type's active one
 *   POST   /connections/{type}/test            {settings, secret?} or {id}: 200 {ok, version, detail}
 *   GET    /connections/storage                the running storage backend (no credentials)
 *   POST|PUT /connections/storage              409 for any change: storage is set in arc.conf (restating it: 200)
 * and the HTTP JSON connections again at `/api/http-json/connections[/{id}[/test]]`. The secret
 * goes in, sealed; it never comes out in an answer or a log line.
 */

const secretField = z
  .string({ error: 'must be a string, or null for none' })
  .nullable()
  .meta({ description: 'The password or token (InfluxDB 1.x and PostgreSQL: the password; InfluxDB 2.x: the token; HTTP JSON: the bearer token). Stored encrypted, never returned: answers say `has_secret`.' });
const settingsField = z
  .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
  .meta({ description: 'By type (README "Importing data"): influx `{version: 1|2, url, database, username?}` or `{version: 2, url, org, bucket}`; postgres `{url}` or `{host, port, database, user, ssl?}`; http-json `{url, headers?, pagination?}`. No password inside: give it as `secret`.' });
const nameField = z.string({ error: 'must be a string' }).meta({ description: `Unique per type, 1 to ${String(CONNECTION_NAME_LENGTH_MAX)} characters.` });

export const connectionCreateSchema = z.strictObject({ name: nameField, settings: settingsField, secret: secretField.optional() });
export const connectionUpdateSchema = z.strictObject({ name: nameField.optional(), settings: settingsField.optional(), secret: secretField.optional() });
export const connectionTestSchema = z.strictObject({
  id: z.number({ error: 'must be a connection id' }).int({ error: 'must be a connection id' }).positive({ error: 'must be a connection id' }).optional().meta({ description: 'A stored connection to test.' }),
  settings: settingsField.optional().meta({ description: 'Settings to test before storing them (instead of `id`).' }),
  secret: secretField.optional(),
});

export interface ConnectionRouteDeps {
  readonly connections: ConnectionStore;
  /** The names of the import jobs reading from a connection (a connection in use is not deleted). */
  jobsUsing(connectionId: number): readonly string[];
  readonly storage: Config['storage'];
  readonly log: ServerLogger;
}

/** A connection as the API shows it: `has_secret`, never the secret. */
export function connectionJson(connection: Connection): Record<string, unknown> {
  return {
    id: connection.id,
    type: connection.type,
    source_type: connection.sourceType,
    name: connection.name,
    settings: connection.settings,
    has_secret: connection.hasSecret,
    active: connection.active,
    created_at: connection.createdAt,
    updated_at: connection.updatedAt,
  };
}

function typeOf(call: ManagementCall): ConnectionType | ArcError {
  const text = pathParameter(call, 0);
  if (isConnectionType(text)) return text;
  return badRequest(ImporterErrorCode.badConnectionType, `Connection type '${text}' is not one of ${CONNECTION_TYPES.join(', ')}`, { field: 'type' });
}

function idOf(call: ManagementCall, index: number): number | ArcError {
  const text = pathParameter(call, index);
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(id) || id < 1) return badRequest(ImporterErrorCode.badConnectionId, `Connection id must be a positive integer, got '${text}'`, { field: 'id' });
  return id;
}

/** Where a route's type and id come from: `/connections/:type/:id`, or `/api/http-json/connections/:id` (type fixed). */
interface Scope {
  type(call: ManagementCall): ConnectionType | ArcError;
  readonly idIndex: number;
}

const BY_PATH: Scope = { type: typeOf, idIndex: 1 };
const HTTP_JSON: Scope = { type: () => ConnectionType.httpJson, idIndex: 0 };

interface Target {
  readonly type: ConnectionType;
  readonly id: number;
}

function targetOf(call: ManagementCall, scope: Scope): Target | ArcError {
  const type = scope.type(call);
  if (type instanceof ArcError) return type;
  const id = idOf(call, scope.idIndex);
  return id instanceof ArcError ? id : { type, id };
}

function list(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): ManagementAnswer | ArcError {
  const connectionType = scope.type(call);
  if (connectionType instanceof ArcError) return connectionType;
  return answer('200 OK', { connections: deps.connections.list(connectionType).map(connectionJson) });
}

function create(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): ManagementAnswer | ArcError {
  const connectionType = scope.type(call);
  if (connectionType instanceof ArcError) return connectionType;
  const body = parseBody(connectionCreateSchema, call.body);
  if (body instanceof ArcError) return body;
  const connection = deps.connections.create(connectionType, { name: body.name, settings: body.settings, secret: body.secret ?? null });
  deps.log.info(`import: ${connectionType} connection '${connection.name}' (id ${String(connection.id)}) created`, { request_id: call.requestId });
  return answer('201 Created', connectionJson(connection));
}

function read(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): ManagementAnswer | ArcError {
  const target = targetOf(call, scope);
  if (target instanceof ArcError) return target;
  return answer('200 OK', connectionJson(deps.connections.get(target.type, target.id)));
}

function update(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): ManagementAnswer | ArcError {
  const target = targetOf(call, scope);
  if (target instanceof ArcError) return target;
  const body = parseBody(connectionUpdateSchema, call.body);
  if (body instanceof ArcError) return body;
  if (body.name === undefined && body.settings === undefined && body.secret === undefined) return badRequest(ImporterErrorCode.badConnection, 'Nothing to change: give name, settings or secret', { field: 'name' });
  const connection = deps.connections.update(target.type, target.id, body);
  deps.log.info(`import: ${target.type} connection '${connection.name}' (id ${String(target.id)}) changed: ${Object.keys(body).join(', ')}`, { request_id: call.requestId });
  return answer('200 OK', connectionJson(connection));
}

function remove(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): ManagementAnswer | ArcError {
  const target = targetOf(call, scope);
  if (target instanceof ArcError) return target;
  deps.connections.delete(target.type, target.id, deps.jobsUsing(target.id));
  deps.log.info(`import: ${target.type} connection ${String(target.id)} deleted`, { request_id: call.requestId });
  return answer('200 OK', { deleted: true, id: target.id });
}

function activate(deps: ConnectionRouteDeps, call: ManagementCall): ManagementAnswer | ArcError {
  const target = targetOf(call, BY_PATH);
  if (target instanceof ArcError) return target;
  return answer('200 OK', connectionJson(deps.connections.activate(target.type, target.id)));
}

/**
 * Runs the driver's test under CONNECTION_TEST_TIMEOUT_MS. Whatever the source answered (refused,
 * timed out, bad password) is `ok: false` with the reason; only settings the driver refuses are a
 * 400. The secret is cut out of the reason, should a source quote it back.
 */
async function runTest(connection: SourceConnection): Promise<ConnectionTestResult> {
  const driver = driverFor(connection.type);
  const signal = AbortSignal.timeout(CONNECTION_TEST_TIMEOUT_MS);
  const hide = (text: string): string => (connection.secret === null ? text : text.replaceAll(connection.secret, REDACTED));
  try {
    const result = await driver.test(connection, signal);
    return { ok: result.ok, version: result.version, detail: hide(result.detail) };
  } catch (error) {
    if (error instanceof ArcError && error.kind === ErrorKind.badRequest) throw error;
    const detail = signal.aborted ? `no answer within ${String(CONNECTION_TEST_TIMEOUT_MS / 1000)} s` : error instanceof Error ? error.message : String(error);
    return { ok: false, version: null, detail: hide(detail) };
  }
}

async function test(deps: ConnectionRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const connectionType = typeOf(call);
  if (connectionType instanceof ArcError) return connectionType;
  const body = parseBody(connectionTestSchema, call.body);
  if (body instanceof ArcError) return body;
  if ((body.id === undefined) === (body.settings === undefined)) return badRequest(ImporterErrorCode.badConnection, 'Give either id (a stored connection) or settings (and secret) to test', { field: body.id === undefined ? 'settings' : 'id' });
  if (body.id !== undefined && body.secret !== undefined) return badRequest(ImporterErrorCode.badConnection, 'A stored connection is tested with its stored secret: give secret with settings, not with id', { field: 'secret' });
  const connection = body.id === undefined ? draftSourceConnection(connectionType, body.settings ?? {}, body.secret ?? null) : deps.connections.sourceConnection(deps.connections.get(connectionType, body.id));
  return answer('200 OK', await runTest(connection));
}

async function testStored(deps: ConnectionRouteDeps, call: ManagementCall, scope: Scope): Promise<ManagementAnswer | ArcError> {
  const target = targetOf(call, scope);
  if (target instanceof ArcError) return target;
  return answer('200 OK', await runTest(deps.connections.sourceConnection(deps.connections.get(target.type, target.id))));
}

/** The running storage backend as arc.conf set it, credentials left out. */
export function storageJson(storage: Config['storage']): Record<string, unknown> {
  const s3 = storage.s3;
  return {
    backend: storage.backend,
    data_dir: storage.dataDir,
    parquet_root: s3 === null ? storage.parquetRoot : null,
    endpoint: s3 === null ? null : `${s3.useSSL ? 'https' : 'http'}://${s3.endPoint}${s3.port === null ? '' : `:${String(s3.port)}`}`,
    bucket: s3?.bucket ?? null,
    prefix: s3?.prefix ?? null,
    region: s3?.region ?? null,
    cache_dir: s3 === null ? null : storage.cacheDir,
    read_only: true,
  };
}

/**
 * POST/PUT /connections/storage: storage is arc.conf's (`storage.*`), read once at start. A body
 * that restates the running storage (or none) changes nothing and answers it; any other field or
 * value is a 409 naming the field.
 */
function storageChange(deps: ConnectionRouteDeps, call: ManagementCall): ManagementAnswer | ArcError {
  if (call.body === null || typeof call.body !== 'object' || Array.isArray(call.body)) return badRequest(ImporterErrorCode.badConnection, 'Request body must be a JSON object');
  const running = storageJson(deps.storage);
  for (const [field, value] of Object.entries(call.body)) {
    if (!Object.hasOwn(running, field) || running[field] !== value) {
      return new ArcError(
        ErrorKind.conflict,
        ImporterErrorCode.storageReadOnly,
        `Storage is set in arc.conf (storage.backend, storage.data_dir, [storage.s3]) or its ARC_STORAGE_* variables, not through the API: change '${field}' there and restart Arc`,
        { field },
      );
    }
  }
  return answer('200 OK', running);
}

const PREFIX = '/connections';
const HTTP_JSON_PREFIX = '/api/http-json/connections';

export function connectionRoutes(deps: ConnectionRouteDeps): ManagementRoute[] {
  const admin = { permission: 'admin' } as const;
  return [
    // Before `/connections/:type`, though uWS prefers a static segment to a parameter anyway.
    { ...admin, method: 'get', path: `${PREFIX}/storage`, readsBody: false, handle: () => answer('200 OK', storageJson(deps.storage)) },
    { ...admin, method: 'post', path: `${PREFIX}/storage`, readsBody: true, emptyBodyAllowed: true, handle: (call) => storageChange(deps, call) },
    { ...admin, method: 'put', path: `${PREFIX}/storage`, readsBody: true, emptyBodyAllowed: true, handle: (call) => storageChange(deps, call) },
    { ...admin, method: 'get', path: `${PREFIX}/:type`, readsBody: false, handle: (call) => list(deps, call, BY_PATH) },
    { ...admin, method: 'post', path: `${PREFIX}/:type`, readsBody: true, handle: (call) => create(deps, call, BY_PATH) },
    { ...admin, method: 'post', path: `${PREFIX}/:type/test`, readsBody: true, handle: (call) => test(deps, call) },
    { ...admin, method: 'get', path: `${PREFIX}/:type/:id`, readsBody: false, handle: (call) => read(deps, call, BY_PATH) },
    { ...admin, method: 'put', path: `${PREFIX}/:type/:id`, readsBody: true, handle: (call) => update(deps, call, BY_PATH) },
    { ...admin, method: 'del', path: `${PREFIX}/:type/:id`, readsBody: false, handle: (call) => remove(deps, call, BY_PATH) },
    { ...admin, method: 'post', path: `${PREFIX}/:type/:id/activate`, readsBody: false, handle: (call) => activate(deps, call) },
  ];
}

export function httpJsonConnectionRoutes(deps: ConnectionRouteDeps): ManagementRoute[] {
  const admin = { permission: 'admin' } as const;
  return [
    { ...admin, method: 'get', path: HTTP_JSON_PREFIX, readsBody: false, handle: (call) => list(deps, call, HTTP_JSON) },
    { ...admin, method: 'post', path: HTTP_JSON_PREFIX, readsBody: true, handle: (call) => create(deps, call, HTTP_JSON) },
    { ...admin, method: 'get', path: `${HTTP_JSON_PREFIX}/:id`, readsBody: false, handle: (call) => read(deps, call, HTTP_JSON) },
    { ...admin, method: 'put', path: `${HTTP_JSON_PREFIX}/:id`, readsBody: true, handle: (call) => update(deps, call, HTTP_JSON) },
    { ...admin, method: 'del', path: `${HTTP_JSON_PREFIX}/:id`, readsBody: false, handle: (call) => remove(deps, call, HTTP_JSON) },
    { ...admin, method: 'post', path: `${HTTP_JSON_PREFIX}/:id/test`, readsBody: false, handle: (call) => testStored(deps, call, HTTP_JSON) },
  ];
}

export function registerConnectionRoutes(app: TemplatedApp, context: ServerContext): void {
  const deps: ConnectionRouteDeps = {
    get connections() {
      return context.connections;
    },
    jobsUsing: (connectionId) => context.importJobs.jobsUsing(connectionId),
    get storage() {
      return context.config.storage;
    },
    get log() {
      return context.log;
    },
  };
  registerManagementRoutes(app, context, connectionRoutes(deps), '/api/v1');
  registerManagementRoutes(app, context, httpJsonConnectionRoutes(deps));
}
