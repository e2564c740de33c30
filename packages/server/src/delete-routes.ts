import type { TemplatedApp } from 'uWebSockets.js';
import type { DeleteControl, DeleteResult, RunningDelete } from '@arc/compaction';
import { ArcError } from '@arc/errors';
import { z } from 'zod';
import type { AuthGate } from './auth-gate.js';
import { answer, parseBody, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { registerDeleteV2Route } from './delete-v2-route.js';
import type { ServerContext } from './server-context.js';

/**
 * Row deletes (README "Deleting data"), Arc Go's API:
 *   POST /api/v1/delete {database, measurement, where, dry_run?, confirm?}   delete: 200 (207 when some files failed)
 *   GET  /api/v1/delete/config                                              delete: the threshold
 * The `delete` permission (or admin) on the database is needed. A dry run answers the matching
 * rows and files; a delete over `delete.confirmation_threshold` rows needs `confirm: true`.
 */
const DELETE_PATH = '/api/v1/delete';

const requiredText = (what: string) => z.string({ error: `must be a string (${what})` });
export const deleteBodySchema = z.strictObject({
  database: requiredText('the database'),
  measurement: requiredText('the measurement'),
  where: requiredText("a SQL expression over the rows' columns"),
  dry_run: z.boolean({ error: 'must be true or false' }).default(false),
  confirm: z.boolean({ error: 'must be true or false' }).default(false),
});

export interface DeleteRouteDeps {
  readonly deletes: DeleteControl;
  readonly auth: Pick<AuthGate, 'authorize'>;
}

/** The answer's body, in Arc Go's field names. */
export function deleteAnswerBody(result: DeleteResult): Record<string, unknown> {
  return {
    success: result.success,
    deleted_count: result.deletedCount,
    affected_files: result.affectedFiles,
    rewritten_files: result.rewrittenFiles,
    execution_time_ms: result.executionTimeMs,
    dry_run: result.dryRun,
    files_processed: result.filesProcessed,
    ...(result.failedFiles.length === 0 ? {} : { failed_files: result.failedFiles, error: `${String(result.failedFiles.length)} of ${String(result.affectedFiles)} files failed to process` }),
  };
}

async function deleteRows(deps: DeleteRouteDeps, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const body = parseBody(deleteBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const denied = deps.auth.authorize(call.identity, 'delete', body.database);
  if (denied !== null) return denied;
  const result = await deps.deletes.deleteRows({ database: body.database, measurement: body.measurement, where: body.where, dryRun: body.dry_run, confirm: body.confirm, requestId: call.requestId });
  return answer(result.success ? '200 OK' : '207 Multi-Status', deleteAnswerBody(result));
}

/** A running delete as the API spells it. */
export function runningDeleteJson(run: RunningDelete): Record<string, unknown> {
  return { request_id: run.requestId, database: run.database, measurement: run.measurement, dry_run: run.dryRun, started_at: run.startedAt, phase: run.phase, files_done: run.filesDone, files_total: run.filesTotal };
}

/** The deletes in flight of the databases the token may delete in (a client finds its own by the X-Request-Id it sent). */
function runningDeletes(deps: DeleteRouteDeps, call: ManagementCall): ManagementAnswer {
  const visible = deps.deletes.running().filter((run) => deps.auth.authorize(call.identity, 'delete', run.database) === null);
  return answer('200 OK', { deletes: visible.map(runningDeleteJson) });
}

function deleteConfig(deps: DeleteRouteDeps): ManagementAnswer {
  return answer('200 OK', { enabled: true, confirmation_threshold: deps.deletes.confirmationThreshold, implementation: 'rewrite-based' });
}

/** The routes (exported for the route tests). */
export function deleteRoutes(deps: DeleteRouteDeps): ManagementRoute[] {
  return [
    { method: 'post', path: DELETE_PATH, permission: 'delete', readsBody: true, handle: (call) => deleteRows(deps, call) },
    { method: 'get', path: `${DELETE_PATH}/config`, permission: 'delete', readsBody: false, handle: () => deleteConfig(deps) },
    { method: 'get', path: `${DELETE_PATH}/running`, permission: 'delete', readsBody: false, handle: (call) => runningDeletes(deps, call) },
  ];
}

export function registerDeleteRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, deleteRoutes({ deletes: context.deletes, auth: context.auth }));
  registerDeleteV2Route(app, context);
}

