import type { TemplatedApp } from 'uWebSockets.js';
import { isAllowed } from '@arc/auth';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { z } from 'zod';
import type { DatabaseUsage } from '@arc/storage';
import { databaseJson, measurementJson } from './database-files.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/**
 * The databases API (README, Databases):
 *   GET    /api/v1/databases                          read: every database the token may read
 *   GET    /api/v1/databases/:name                    read on that database
 *   GET    /api/v1/databases/:name/measurements       read on that database
 *   POST   /api/v1/databases {"name"}                 admin: creates it (201; 409 if it, or a name equal but for case, exists)
 *   DELETE /api/v1/databases/:name?confirm=true       admin: removes it through the writers (below)
 *   DELETE /api/v1/databases/:name/measurements/:m?confirm=true   admin: the same for one measurement
 * A token limited to some databases never learns whether another database exists: for a name
 * outside its list it gets the same 403 before anything on disk is looked at.
 */

export const createDatabaseSchema = z.strictObject({
  name: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }),
});

const databaseNotFound = (name: string): ArcError =>
  new ArcError(ErrorKind.notFound, ServerErrorCode.databaseNotFound, `Database '${name}' not found`, { database: name });

/**
 * The database named in the path, once the caller may read it and it exists. Order matters for
 * privacy: the name is validated and the token's database list checked before the disk is read.
 */
async function readableDatabase(context: ServerContext, call: ManagementCall): Promise<DatabaseUsage | ArcError> {
  const name = pathParameter(call, 0);
  const nameError = validateDatabaseName(name);
  if (nameError !== null) return nameError;
  const denied = context.auth.authorize(call.identity, 'read', name);
  if (denied !== null) return denied;
  return (await context.storage.databaseUsage(name)) ?? databaseNotFound(name);
}

async function listDatabases(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer> {
  const databases = [];
  for (const name of context.storage.databases()) {
    if (!isAllowed(call.identity, 'read', name)) continue;
    const usage = await context.storage.databaseUsage(name);
    if (usage !== null) databases.push(databaseJson(usage));
  }
  return answer('200 OK', { success: true, databases, count: databases.length });
}

async function createDatabase(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const input = parseBody(createDatabaseSchema, call.body);
  if (input instanceof ArcError) return input;
  const nameError = validateDatabaseName(input.name);
  if (nameError !== null) return nameError;
  try {
    // Refused when it exists, or when a name equal but for case does (storage's names rule).
    await context.storage.createDatabase(input.name);
  } catch (error) {
    if (error instanceof ArcError) return error;
    throw error;
  }
  return answer('201 Created', { success: true, database: { name: input.name, measurement_count: 0, file_count: 0, total_size_bytes: 0, total_size_mb: 0 } });
}

/**
 * The delete goes through the writers (IngestPipeline.deleteDatabase, docs/architecture.md):
 * writes to the database are refused with 409 ARC_BEING_DELETED while it runs, the writers drop
 * its buffered rows, then storage removes its files and drops it from the catalog (the query
 * threads and the answer cache follow its generation). A write acknowledged before this answer is
 * either deleted with the database or refused; one after it creates the database again, as any
 * first write does.
 */
async function deleteDatabase(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const name = pathParameter(call, 0);
  const nameError = validateDatabaseName(name);
  if (nameError !== null) return nameError;
  if (call.request.query.get('confirm') !== 'true') {
    return badRequest(ServerErrorCode.confirmationRequired, `Deleting database '${name}' removes all its files: repeat with ?confirm=true`, { database: name });
  }
  // Counted before: the writers drop the database's buffered rows (no flush adds a file meanwhile).
  const usage = await context.storage.databaseUsage(name);
  if (usage === null) return databaseNotFound(name);
  const deleteError = await context.pipeline.deleteDatabase(name);
  if (deleteError !== null) return deleteError;
  context.forgetDatabase(name);
  context.log.info(`database '${name}' deleted: ${usage.fileCount} files, ${usage.sizeBytes} bytes`);
  return answer('200 OK', { success: true, database: name, deleted: true, files_deleted: usage.fileCount, bytes_deleted: usage.sizeBytes });
}

/** One measurement, through the writers like a database (deleteDatabase). */
async function deleteMeasurement(context: ServerContext, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const database = pathParameter(call, 0);
  const measurement = pathParameter(call, 1);
  const nameError = validateDatabaseName(database) ?? validateMeasurementName(measurement);
  if (nameError !== null) return nameError;
  if (call.request.query.get('confirm') !== 'true') {
    return badRequest(ServerErrorCode.confirmationRequired, `Deleting measurement '${measurement}' removes all its files: repeat with ?confirm=true`, { database, measurement });
  }
  const found = (await context.storage.databaseUsage(database))?.measurements.find((entry) => entry.name === measurement);
  if (found === undefined) {
    return new ArcError(ErrorKind.notFound, ServerErrorCode.measurementNotFound, `Measurement '${measurement}' not found in database '${database}'`, { database, measurement });
  }
  const deleteError = await context.pipeline.deleteMeasurement(database, measurement);
  if (deleteError !== null) return deleteError;
  context.log.info(`measurement '${database}.${measurement}' deleted: ${found.fileCount} files, ${found.sizeBytes} bytes`);
  return answer('200 OK', { success: true, database, measurement, deleted: true, files_deleted: found.fileCount, bytes_deleted: found.sizeBytes });
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
    { method: 'del', path: '/api/v1/databases/:name/measurements/:measurement', permission: 'admin', readsBody: false, handle: (call) => deleteMeasurement(context, call) },
  ];
}

export function registerDatabaseRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, databaseRoutes(context));
}
