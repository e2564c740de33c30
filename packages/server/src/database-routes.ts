import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { TemplatedApp } from 'uWebSockets.js';
import { isAllowed } from '@arc/auth';
import { validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { z } from 'zod';
import { databaseFiles, databaseJson, findDatabaseIgnoringCase, listDatabaseNames, measurementJson, type DatabaseFiles } from './database-files.js';
import { answer, parseBody, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * The databases API (README, Databases):
 *   GET    /api/v1/databases                          read: every database the token may read
 *   GET    /api/v1/databases/:name                    read on that database
 *   GET    /api/v1/databases/:name/measurements       read on that database
 *   POST   /api/v1/databases {"name"}                 admin: creates the directory (201; 409 if it exists)
 *   DELETE /api/v1/databases/:name?confirm=true       admin: flushes, then removes every file of it
 * A token limited to some databases never learns whether another database exists: for a name
 * outside its list it gets the same 403 before anything on disk is looked at.
 */

const createDatabaseSchema = z.strictObject({
  name: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }),
});

const databaseNotFound = (name: string): ArcError =>
  new ArcError(ErrorKind.notFound, ServerErrorCode.databaseNotFound, `Database '${name}' not found`, { database: name });

/**
 * The database named in the path, once the caller may read it and it exists. Order matters for
 * privacy: the name is validated and the token's database list checked before the disk is read.
 */
async function readableDatabase(context: ServerContext, call: ManagementCall): Promise<DatabaseFiles | ArcError> {
  const name = call.parameters[0] ?? '';
  const nameError = validateDatabaseName(name);
  if (nameError !== null) return nameError;
  const denied = context.auth.authorize(call.identity, 'read', name);
  if (denied !== null) return denied;
  return (await databaseFiles(context.config.storage.parquetRoot, name)) ?? databaseNotFound(name);
}

async function listDatabases(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer> {
  const root = context.config.storage.parquetRoot;
  const databases = [];
  for (const name of await listDatabaseNames(root)) {
    if (!isAllowed(call.identity, 'read', name)) continue;
    const files = await databaseFiles(root, name);
    if (files !== null) databases.push(databaseJson(files));
  }
  return answer('200 OK', { success: true, databases, count: databases.length });
}

async function createDatabase(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const input = parseBody(createDatabaseSchema, call.body);
  if (input instanceof ArcError) return input;
  const nameError = validateDatabaseName(input.name);
  if (nameError !== null) return nameError;
  const root = context.config.storage.parquetRoot;
  // DuckDB names are case-insensitive: `Prod` next to `prod` could not be queried.
  const existing = await findDatabaseIgnoringCase(root, input.name);
  if (existing !== null) {
    return new ArcError(ErrorKind.conflict, ServerErrorCode.databaseExists, `Database '${existing}' already exists`, { database: existing });
  }
  await mkdir(path.join(root, input.name), { recursive: true });
  context.queryPool.invalidateCatalog();
  return answer('201 Created', { success: true, database: { name: input.name, measurement_count: 0, file_count: 0, total_size_bytes: 0, total_size_mb: 0 } });
}

/**
 * Rows still buffered for the database are flushed first (every buffer: the pipeline has no
 * per-database flush), then the directory goes, so no buffered row lands after the delete and
 * resurrects the database. Writes that arrive while the delete runs are not blocked: they create
 * the database again, as any first write does (stop the writers first).
 */
async function deleteDatabase(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const name = call.parameters[0] ?? '';
  const nameError = validateDatabaseName(name);
  if (nameError !== null) return nameError;
  if (call.request.query.get('confirm') !== 'true') {
    return badRequest(ServerErrorCode.confirmationRequired, `Deleting database '${name}' removes all its files: repeat with ?confirm=true`, { database: name });
  }
  const root = context.config.storage.parquetRoot;
  if ((await databaseFiles(root, name)) === null) return databaseNotFound(name);
  const flushError = await context.pipeline.flushAll();
  if (flushError !== null) return flushError;
  const files = (await databaseFiles(root, name)) ?? { name, measurements: [], fileCount: 0, sizeBytes: 0 };
  await rm(path.join(root, name), { recursive: true, force: true });
  context.forgetDatabase(name);
  context.queryPool.invalidateCatalog();
  context.log.info(`database '${name}' deleted: ${files.fileCount} files, ${files.sizeBytes} bytes`);
  return answer('200 OK', { success: true, database: name, deleted: true, files_deleted: files.fileCount, bytes_deleted: files.sizeBytes });
}

function databaseRoutes(context: ServerContext): ManagementRoute[] {
  return [
    { method: 'get', path: '/api/v1/databases', permission: 'read', readsBody: false, handle: (call) => listDatabases(context, call) },
    {
      method: 'get',
      path: '/api/v1/databases/:name',
      permission: 'read',
      readsBody: false,
      handle: async (call) => {
        const files = await readableDatabase(context, call);
        return files instanceof ArcError ? files : answer('200 OK', { success: true, database: databaseJson(files) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/databases/:name/measurements',
      permission: 'read',
      readsBody: false,
      handle: async (call) => {
        const files = await readableDatabase(context, call);
        if (files instanceof ArcError) return files;
        return answer('200 OK', { success: true, database: files.name, measurements: files.measurements.map(measurementJson), count: files.measurements.length });
      },
    },
    { method: 'post', path: '/api/v1/databases', permission: 'admin', readsBody: true, handle: (call) => createDatabase(context, call) },
    { method: 'del', path: '/api/v1/databases/:name', permission: 'admin', readsBody: false, handle: (call) => deleteDatabase(context, call) },
  ];
}

export function registerDatabaseRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, databaseRoutes(context));
}
