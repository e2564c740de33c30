import type { TemplatedApp } from 'uWebSockets.js';
import { isAllowed, type TokenInfo } from '@arc/auth';
import {
  HISTORY_LIST_LIMIT_DEFAULT,
  HISTORY_LIST_LIMIT_MAX,
  parseTriggerRequest,
  type CompactionControl,
  type TriggerRequest,
} from '@arc/compaction';
import { ArcError } from '@arc/errors';
import { z } from 'zod';
import type { AuthGate } from './auth-gate.js';
import { answer, parseBody, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { integerParameter } from './measurement-routes.js';
import type { ServerContext } from './server-context.js';

/**
 * Compaction's endpoints (README "Compaction"), each under both prefixes:
 *   GET  /api/compaction/status                                    read
 *   GET  /api/compaction/stats                                     read
 *   GET  /api/compaction/candidates?database=&measurement=&tier=   read: {"candidates": [...]}
 *   GET  /api/compaction/jobs                                      read: {"jobs": [...]} queued and running
 *   GET  /api/compaction/history?limit=100&database=&measurement=  read: {"jobs": [...]} newest first
 *   POST /api/compaction/trigger {database?, measurement?, tier?}  admin: 202 {"jobs": [...]} queued
 * The reads need `read`, as the WAL's and the cache's status and stats do (GET /api/wal/status,
 * /cache/stats); lists name databases, so a token limited to some databases sees only theirs,
 * and naming another one is the usual 403 before anything is looked at. With compaction off
 * (`compaction.enabled = false`) status says so and a trigger answers 409.
 */
const PATH_PREFIXES = ['/api/compaction', '/api/v1/compaction'] as const;

const optionalText = z.string({ error: 'must be a string' }).optional();
export const triggerBodySchema = z.strictObject({ database: optionalText, measurement: optionalText, tier: optionalText });

/** What a compaction route needs of the server: the compactor and the auth gate. */
export interface CompactionRouteDeps {
  readonly control: CompactionControl;
  readonly auth: Pick<AuthGate, 'authorize'>;
}

/** A query-string value; empty counts as absent (`?database=&tier=hourly`). */
function queryValue(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

/** The scope named in the query string, checked, and allowed to the caller. */
function queryScope(deps: CompactionRouteDeps, call: ManagementCall, withTier: boolean): TriggerRequest | ArcError {
  const { query } = call.request;
  const scope = parseTriggerRequest({
    database: queryValue(query, 'database'),
    measurement: queryValue(query, 'measurement'),
    tier: withTier ? queryValue(query, 'tier') : undefined,
  });
  if (scope instanceof ArcError || scope.database === undefined) return scope;
  return deps.auth.authorize(call.identity, 'read', scope.database) ?? scope;
}

/** Only the items of databases the token may read. */
function readable<T extends { readonly database: string }>(identity: TokenInfo, items: readonly T[]): T[] {
  return items.filter((item) => isAllowed(identity, 'read', item.database));
}

async function candidates(deps: CompactionRouteDeps, control: CompactionControl, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const scope = queryScope(deps, call, true);
  if (scope instanceof ArcError) return scope;
  return answer('200 OK', { candidates: readable(call.identity, await control.candidates(scope)) });
}

function history(deps: CompactionRouteDeps, control: CompactionControl, call: ManagementCall): ManagementAnswer | ArcError {
  const limit = integerParameter(call.request.query, 'limit', HISTORY_LIST_LIMIT_DEFAULT, 1, HISTORY_LIST_LIMIT_MAX);
  if (limit instanceof ArcError) return limit;
  const scope = queryScope(deps, call, false);
  if (scope instanceof ArcError) return scope;
  const { database, measurement } = scope;
  const options = { limit, ...(database === undefined ? {} : { database }), ...(measurement === undefined ? {} : { measurement }) };
  return answer('200 OK', { jobs: readable(call.identity, control.history(options)) });
}

async function trigger(control: CompactionControl, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const body = parseBody(triggerBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const scope = parseTriggerRequest(body);
  if (scope instanceof ArcError) return scope;
  return answer('202 Accepted', { jobs: await control.trigger(scope) });
}

function routesAt(prefix: string, deps: CompactionRouteDeps): ManagementRoute[] {
  const read = { method: 'get', permission: 'read', readsBody: false } as const;
  const { control } = deps;
  return [
    { ...read, path: `${prefix}/status`, handle: () => answer('200 OK', control.status()) },
    { ...read, path: `${prefix}/stats`, handle: () => answer('200 OK', control.stats()) },
    { ...read, path: `${prefix}/candidates`, handle: (call) => candidates(deps, control, call) },
    { ...read, path: `${prefix}/jobs`, handle: (call) => answer('200 OK', { jobs: readable(call.identity, control.jobs()) }) },
    { ...read, path: `${prefix}/history`, handle: (call) => history(deps, control, call) },
    { method: 'post', path: `${prefix}/trigger`, permission: 'admin', readsBody: true, emptyBodyAllowed: true, handle: (call) => trigger(control, call) },
  ];
}

/** Every compaction route, under both prefixes (exported for the route tests). */
export function compactionRoutes(deps: CompactionRouteDeps): ManagementRoute[] {
  return PATH_PREFIXES.flatMap((prefix) => routesAt(prefix, deps));
}

export function registerCompactionRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, compactionRoutes({ control: context.compaction, auth: context.auth }));
}
