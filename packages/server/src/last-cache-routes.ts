import type { TemplatedApp } from 'uWebSockets.js';
import { isAllowed } from '@arc/auth';
import { ArcError, badRequest } from '@arc/errors';
import type { LastCacheDefinition } from '@arc/writer';
import { z } from 'zod';
import type { AuthGate } from './auth-gate.js';
import { ServerErrorCode } from './error-codes.js';
import type { LastCacheService } from './last-cache-service.js';
import { answer, parseBody, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import type { ServerContext } from './server-context.js';

/**
 * Last-value caches, spelled as InfluxDB 3 spells them (docs/query-types.md "Last-value cache"):
 *   POST   /api/v3/configure/last_cache {db, table, name?, key_columns?, value_columns?, count?, ttl?}   admin: 201 the cache
 *   DELETE /api/v3/configure/last_cache?db=&table=&name=  (or the same as a JSON body)                   admin
 *   GET    /api/v3/configure/last_cache?db=                                                             read: the caches the caller may read
 * Queries read a cache with `SELECT ... FROM last_cache('table'[, 'name'])`.
 */
const PATH = '/api/v3/configure/last_cache';

const requiredText = z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') });
const columnList = z.array(z.string({ error: 'must be a list of column names' }), { error: 'must be a list of column names' }).min(1, { error: 'must name at least one column' });

export const lastCacheBodySchema = z.strictObject({
  db: requiredText,
  table: requiredText,
  name: z.string({ error: 'must be a string' }).optional(),
  key_columns: columnList.optional().meta({ description: "Columns identifying a series; the table's tags when absent." }),
  value_columns: columnList.optional().meta({ description: 'Columns cached with each row (time always is); every other column, including ones added later, when absent.' }),
  count: z.number({ error: 'must be a whole number from 1 to 10' }).int({ error: 'must be a whole number from 1 to 10' }).optional().meta({ description: 'Rows kept per key (the newest by time); 1 when absent.' }),
  ttl: z.number({ error: 'must be a whole number of seconds' }).int({ error: 'must be a whole number of seconds' }).optional().meta({ description: 'Seconds a row is answered without being refreshed by a newer one; 14400 (4 hours) when absent.' }),
});

export const lastCacheDeleteSchema = z.strictObject({ db: requiredText, table: requiredText, name: requiredText });

export interface LastCacheRouteDeps {
  readonly caches: LastCacheService;
  readonly auth: Pick<AuthGate, 'authorize'>;
}

/** A cache as the API spells it. */
export function lastCacheJson(definition: LastCacheDefinition): Record<string, unknown> {
  return {
    db: definition.database,
    table: definition.measurement,
    name: definition.name,
    key_columns: definition.keyColumns,
    value_columns: definition.valueColumns,
    count: definition.count,
    ttl: definition.ttlSeconds,
  };
}

async function create(deps: LastCacheRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const body = parseBody(lastCacheBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const denied = deps.auth.authorize(call.identity, 'admin', body.db);
  if (denied !== null) return denied;
  const definition = await deps.caches.create({
    database: body.db,
    measurement: body.table,
    name: body.name,
    keyColumns: body.key_columns,
    valueColumns: body.value_columns,
    count: body.count,
    ttlSeconds: body.ttl,
  });
  return answer('201 Created', lastCacheJson(definition));
}

async function remove(deps: LastCacheRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const { query } = call.request;
  const fromQuery = query.has('db') || query.has('table') || query.has('name');
  const fields = fromQuery ? { db: query.get('db') ?? undefined, table: query.get('table') ?? undefined, name: query.get('name') ?? undefined } : call.body;
  const body = parseBody(lastCacheDeleteSchema, fields);
  if (body instanceof ArcError) return badRequest(ServerErrorCode.badRequestBody, `${body.message} (db, table and name: query parameters or a JSON body)`, { field: 'db' });
  const denied = deps.auth.authorize(call.identity, 'admin', body.db);
  if (denied !== null) return denied;
  await deps.caches.delete(body.db, body.table, body.name);
  return answer('200 OK', { message: 'Last cache deleted', db: body.db, table: body.table, name: body.name });
}

function list(deps: LastCacheRouteDeps, call: ManagementCall): ManagementAnswer {
  const database = call.request.query.get('db') ?? '';
  const caches = deps.caches.list(database === '' ? null : database).filter((definition) => isAllowed(call.identity, 'read', definition.database));
  return answer('200 OK', caches.map(lastCacheJson));
}

export function lastCacheRoutes(deps: LastCacheRouteDeps): ManagementRoute[] {
  return [
    { method: 'get', path: PATH, permission: 'read', readsBody: false, handle: (call) => list(deps, call) },
    { method: 'post', path: PATH, permission: 'admin', readsBody: true, handle: (call) => create(deps, call) },
    { method: 'del', path: PATH, permission: 'admin', readsBody: true, emptyBodyAllowed: true, handle: (call) => remove(deps, call) },
  ];
}

export function registerLastCacheRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, lastCacheRoutes({ caches: context.lastCaches, auth: context.auth }));
}
