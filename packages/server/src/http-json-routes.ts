import type { TemplatedApp } from 'uWebSockets.js';
import { validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import {
  HTTP_JSON_EXPORT_BYTES_MAX,
  HTTP_JSON_EXPORT_DURATION_MS_MAX,
  HTTP_JSON_EXPORT_PAGE_BYTES_MAX,
  HTTP_JSON_EXPORT_PAGES_MAX,
  HTTP_JSON_EXPORT_ROWS_MAX,
  HTTP_JSON_EXPORTS_AT_ONCE,
  HttpJsonErrorCode,
  SourceType,
  discoverHttpJsonSchema,
  driverFor,
  openHttpJsonReader,
  rfc3339Ns,
  type SourceChunk,
  type SourceConnection,
} from '@arc/importer';
import { PayloadFormat } from '@arc/ingest';
import { LineProtocolPrecision } from '@arc/protocol';
import { z } from 'zod';
import { ServerErrorCode } from './error-codes.js';
import { ImportFeed } from './import-feed.js';
import { answer, parseBody, pathParameter, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { IMPORT_CHUNK_BYTES } from './limits.js';
import type { ServerContext } from './server-context.js';

/**
 * HTTP JSON APIs as a source (README "HTTP JSON APIs"), admin only:
 *   POST /api/http-json/discover-schema                  {settings, secret?, path?, query?}: the first page's record arrays and a suggested mapping
 *   POST /api/http-json/connections/{id}/discover-schema {path?, query?}: the same for a stored connection
 *   POST /api/http-json/export {connection_id | settings (+secret), source, database, range?}: a one-shot import, answered when done
 * The connection CRUD and /test routes are the connection routes'. These run on the acceptor
 * thread: fetch is asynchronous, and each page's JSON.parse is bounded (HTTP_JSON_EXPORT_PAGE_BYTES_MAX).
 * An export reads every page before it writes a row, so one passing its bounds (pages, rows, bytes)
 * writes nothing and answers 400 suggesting an import job (which reads in the import thread and checkpoints).
 */
const PREFIX = '/api/http-json';


/** zod messages are completed to "Invalid request body: field '<name>' <message>". */
function expected(what: string): (issue: { input?: unknown }) => string {
  return (issue) => (issue.input === undefined ? 'is required' : `must be ${what}`);
}

const jsonObject = z.record(z.string(), z.unknown(), { error: expected('a JSON object') });
const queryObject = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: expected('an object of strings, numbers or booleans') });
const timeBound = z.union([z.string(), z.number().int()], { error: expected('an RFC 3339 time or ns since the epoch') });

const discoverFields = {
  path: z.string({ error: expected('a string') }).optional().describe("Appended to the connection's URL (as a job's `source.path`)."),
  query: queryObject.optional().describe('Query parameters added to the URL (as a job\'s `source.query`).'),
};

export const httpJsonDiscoverBodySchema = z.strictObject({
  settings: jsonObject.describe('Connection settings: `{url, headers?, method?, body?, timeout_ms?, auth_header?, pagination?}`.'),
  secret: z.string({ error: expected('a string') }).optional().describe('Sent as `Authorization: Bearer <secret>`, or in the header `settings.auth_header` names.'),
  ...discoverFields,
});

export const httpJsonConnectionDiscoverBodySchema = z.strictObject(discoverFields);

export const httpJsonExportBodySchema = z.strictObject({
  connection_id: z.number({ error: expected('a connection id') }).int({ error: expected('a connection id') }).positive({ error: expected('a connection id') }).optional().describe('A stored http-json connection; or give `settings` (and `secret`).'),
  settings: jsonObject.optional().describe('Connection settings, when no `connection_id` is given.'),
  secret: z.string({ error: expected('a string') }).optional(),
  source: jsonObject.describe('What to read, as a job\'s source: `{path?, query?, mapping, pagination?, time_param?}`.'),
  database: z.string({ error: expected('a database name') }),
  range: z
    .strictObject({ start: timeBound.optional().describe('Inclusive.'), end: timeBound.optional().describe('Exclusive.') }, { error: expected('an object {start?, end?}') })
    .optional()
    .describe('Rows outside are dropped (and asked of the API with `source.time_param`).'),
});

type ExportBody = z.infer<typeof httpJsonExportBodySchema>;

function stringQuery(query: Readonly<Record<string, string | number | boolean>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(query ?? {}).map(([name, value]) => [name, String(value)]));
}

/** A stored connection by id, as a driver takes it; 404 when there is none, 400 when it is not http-json. */
function storedConnection(context: ServerContext, id: number): SourceConnection | ArcError {
  const store = context.connections;
  const connection = store.find(id);
  if (connection === null) return new ArcError(ErrorKind.notFound, ServerErrorCode.notFound, `Connection ${id} not found`, { field: 'connection_id' });
  if (connection.sourceType !== SourceType.httpJson) return badRequest(ServerErrorCode.badRequestBody, `Connection ${id} is of type '${connection.sourceType}', not 'http-json'`, { field: 'connection_id' });
  return store.sourceConnection(connection);
}

function connectionOf(context: ServerContext, body: ExportBody): SourceConnection | ArcError {
  if (body.connection_id !== undefined && body.settings !== undefined) return badRequest(ServerErrorCode.badRequestBody, 'Invalid request body: give connection_id or settings, not both', { field: 'settings' });
  if (body.connection_id !== undefined) return storedConnection(context, body.connection_id);
  if (body.settings === undefined) return badRequest(ServerErrorCode.badRequestBody, 'Invalid request body: field \'connection_id\' or \'settings\' is required', { field: 'connection_id' });
  return { type: SourceType.httpJson, settings: body.settings, secret: body.secret ?? null };
}

function boundNs(value: string | number | undefined, field: string): bigint | null | ArcError {
  if (value === undefined) return null;
  if (typeof value === 'number') return BigInt(value);
  if (/^-?\d{1,19}$/.test(value)) return BigInt(value);
  return rfc3339Ns(value) ?? badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field '${field}' must be an RFC 3339 time or ns since the epoch, got '${value}'`, { field });
}

/** Runs `check` (a driver's: throws its 400) and gives its ArcError back as a value. */
function checked(check: () => void): ArcError | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof ArcError) return error;
    throw error;
  }
}

function notReady(context: ServerContext): ArcError | null {
  if (context.phase === 'ready') return null;
  return new ArcError(ErrorKind.unavailable, context.phase === 'stopping' ? ServerErrorCode.shuttingDown : ServerErrorCode.starting, `Server is ${context.phase}; retry later`);
}

/** The error of a read whose deadline (HTTP_JSON_EXPORT_DURATION_MS_MAX) ended it: 504; any other error as it is. */
function timedOut(signal: AbortSignal, error: unknown): unknown {
  if (!signal.aborted || error instanceof ArcError) return error;
  return new ArcError(ErrorKind.timeout, HttpJsonErrorCode.exportTooLarge, `Reading the API took longer than ${HTTP_JSON_EXPORT_DURATION_MS_MAX} ms: make it an import job`, { limit_ms: HTTP_JSON_EXPORT_DURATION_MS_MAX });
}

async function discover(connection: SourceConnection | ArcError, path: string | undefined, query: Record<string, string>): Promise<ManagementAnswer | ArcError> {
  if (connection instanceof ArcError) return connection;
  const invalid = checked(() => driverFor(SourceType.httpJson).checkSettings(connection.settings));
  if (invalid !== null) return invalid;
  const signal = AbortSignal.timeout(HTTP_JSON_EXPORT_DURATION_MS_MAX);
  try {
    return answer('200 OK', await discoverHttpJsonSchema(connection, { ...(path === undefined ? {} : { path }), query }, signal));
  } catch (error) {
    throw timedOut(signal, error);
  }
}

/** Every chunk of the export, read before any is written; ARC_IMPORT_EXPORT_TOO_LARGE past a bound. */
async function readAllChunks(connection: SourceConnection, source: Record<string, unknown>, startNs: bigint | null, endNs: bigint | null): Promise<{ chunks: SourceChunk[]; pages: number }> {
  const signal = AbortSignal.timeout(HTTP_JSON_EXPORT_DURATION_MS_MAX);
  // Chunks as a file import cuts them (one ingest request each); the rows bound is checked across chunks below.
  const readOptions = { startNs, endNs, chunkBytesMax: IMPORT_CHUNK_BYTES, chunkRowsMax: HTTP_JSON_EXPORT_ROWS_MAX, signal };
  const reader = openHttpJsonReader(connection, source, null, readOptions, { pageBytesMax: HTTP_JSON_EXPORT_PAGE_BYTES_MAX, pagesMax: HTTP_JSON_EXPORT_PAGES_MAX });
  const chunks: SourceChunk[] = [];
  let rows = 0;
  let bytes = 0;
  const tooLarge = (what: string, limit: Record<string, number>): ArcError =>
    badRequest(HttpJsonErrorCode.exportTooLarge, `The import has more than ${what}: make it an import job (POST /api/v1/jobs), which reads in the background and resumes where it stopped; nothing was written`, limit);
  try {
    for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) {
      rows += chunk.rowCount;
      bytes += chunk.body.byteLength;
      if (rows > HTTP_JSON_EXPORT_ROWS_MAX) throw tooLarge(`${HTTP_JSON_EXPORT_ROWS_MAX} rows`, { limit_rows: HTTP_JSON_EXPORT_ROWS_MAX });
      if (bytes > HTTP_JSON_EXPORT_BYTES_MAX) throw tooLarge(`${HTTP_JSON_EXPORT_BYTES_MAX} bytes of line protocol`, { limit_bytes: HTTP_JSON_EXPORT_BYTES_MAX });
      chunks.push(chunk);
    }
  } catch (error) {
    throw timedOut(signal, error);
  } finally {
    await reader.close();
  }
  return { chunks, pages: reader.pagesRead };
}

/** The chunks through the ingest pipeline like a file import's; the answer counts rows as it does. */
async function writeChunks(context: ServerContext, call: ManagementCall, database: string, chunks: readonly SourceChunk[], pages: number, startedMs: number): Promise<ManagementAnswer | ArcError> {
  const feed = new ImportFeed(context, { format: PayloadFormat.lineProtocol, database, nowUs: call.request.receivedAtUs, precision: LineProtocolPrecision.ns });
  let firstNumber = 1;
  for (const chunk of chunks) {
    await feed.submit({ body: chunk.body, firstNumber, numbers: null });
    firstNumber += chunk.rowCount;
    if (feed.stopped !== null) break;
  }
  await feed.drain();
  const flushError = feed.rowsImported > 0 ? await context.pipeline.flushAll() : null;
  const summary = { database, rows: feed.rowsImported, rows_rejected: feed.rowsRejected, pages, errors: feed.errors, duration_ms: Math.round(performance.now() - startedMs) };
  context.log.info(`http-json export into '${database}': ${summary.rows} rows imported, ${summary.rows_rejected} rejected, ${pages} pages, ${summary.duration_ms} ms`, { request_id: call.requestId });
  const first = feed.errors[0];
  const failure = feed.stopped ?? flushError ?? (summary.rows === 0 && first !== undefined ? badRequest(ServerErrorCode.importRejected, `No row imported; row ${first.line}: ${first.error}`, { line: first.line }) : null);
  if (failure !== null) return new ArcError(failure.kind, failure.code, failure.message, { ...failure.details, rows: summary.rows, rows_rejected: summary.rows_rejected, pages });
  return answer('200 OK', summary);
}

/** Exports running on this server (at most HTTP_JSON_EXPORTS_AT_ONCE). */
interface ExportCount {
  running: number;
}

async function exportRows(context: ServerContext, exports: ExportCount, call: ManagementCall): Promise<ManagementAnswer | ArcError> {
  const startedMs = performance.now();
  const body = parseBody(httpJsonExportBodySchema, call.body);
  if (body instanceof ArcError) return body;
  const unready = notReady(context);
  if (unready !== null) return unready;
  const databaseError = validateDatabaseName(body.database);
  if (databaseError !== null) return databaseError;
  const connection = connectionOf(context, body);
  if (connection instanceof ArcError) return connection;
  const driver = driverFor(SourceType.httpJson);
  const invalid = checked(() => driver.checkSettings(connection.settings)) ?? checked(() => driver.checkJobSource(body.source));
  if (invalid !== null) return invalid;
  const startNs = boundNs(body.range?.start, 'range.start');
  if (startNs instanceof ArcError) return startNs;
  const endNs = boundNs(body.range?.end, 'range.end');
  if (endNs instanceof ArcError) return endNs;
  if (exports.running >= HTTP_JSON_EXPORTS_AT_ONCE) return new ArcError(ErrorKind.unavailable, HttpJsonErrorCode.exportBusy, `${HTTP_JSON_EXPORTS_AT_ONCE} exports are running; retry later`, { limit: HTTP_JSON_EXPORTS_AT_ONCE });
  exports.running += 1;
  try {
    const { chunks, pages } = await readAllChunks(connection, body.source, startNs, endNs);
    return await writeChunks(context, call, body.database, chunks, pages, startedMs);
  } finally {
    exports.running -= 1;
  }
}

function connectionId(call: ManagementCall): number | ArcError {
  const text = pathParameter(call, 0);
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(id) || id < 1) return badRequest(ServerErrorCode.badRequestBody, `Connection id must be a positive integer, got '${text}'`, { field: 'id' });
  return id;
}

/** Every HTTP JSON route of this file (exported for the route tests). */
export function httpJsonRoutes(context: ServerContext): ManagementRoute[] {
  const withBody = { permission: 'admin', readsBody: true } as const;
  const exports: ExportCount = { running: 0 };
  return [
    {
      ...withBody,
      method: 'post',
      path: `${PREFIX}/discover-schema`,
      handle: (call) => {
        const body = parseBody(httpJsonDiscoverBodySchema, call.body);
        if (body instanceof ArcError) return body;
        return notReady(context) ?? discover({ type: SourceType.httpJson, settings: body.settings, secret: body.secret ?? null }, body.path, stringQuery(body.query));
      },
    },
    {
      ...withBody,
      method: 'post',
      path: `${PREFIX}/connections/:id/discover-schema`,
      emptyBodyAllowed: true,
      handle: (call) => {
        const body = parseBody(httpJsonConnectionDiscoverBodySchema, call.body);
        if (body instanceof ArcError) return body;
        const id = connectionId(call);
        if (id instanceof ArcError) return id;
        return notReady(context) ?? discover(storedConnection(context, id), body.path, stringQuery(body.query));
      },
    },
    { ...withBody, method: 'post', path: `${PREFIX}/export`, handle: (call) => exportRows(context, exports, call) },
  ];
}

export function registerHttpJsonRoutes(app: TemplatedApp, context: ServerContext): void {
  registerManagementRoutes(app, context, httpJsonRoutes(context));
}
