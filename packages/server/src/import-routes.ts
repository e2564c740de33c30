import { randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { PayloadFormat, type RequestOptions } from '@arc/ingest';
import { LineProtocolPrecision, parsePrecision } from '@arc/protocol';
import { ServerErrorCode } from './error-codes.js';
import { ImportFeed } from './import-feed.js';
import { LineChunker, MeasurementFilter } from './import-lines.js';
import { ImportReader, type ImportWorkerData, type RowRefusal } from './import-reader.js';
import { TIME_FORMATS, type TimeFormat } from './import-sql.js';
import { newResponseState, sendError, sendJson, type ResponseState } from './http-response.js';
import { IMPORT_CHUNK_BYTES, IMPORT_LP_BYTES_MAX, IMPORT_READER_MEMORY_LIMIT, IMPORT_READER_THREADS, IMPORT_SPOOL_BYTES_MAX } from './limits.js';
import { readRequestInfo, type RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { maybeGunzip, type UploadBytes } from './upload-gunzip.js';
import { UploadStream } from './upload-stream.js';

/**
 * File imports, Arc Go's routes (admin): `POST /api/v1/import/lp`, `/csv`, `/parquet`. The file is
 * the request body, raw or as the `file` part of multipart/form-data, and is never held whole:
 * line protocol is cut into chunks at line breaks as it arrives; CSV and Parquet are spooled to
 * `<data_dir>/import` (Parquet's footer ends the file) and read back by DuckDB in an import's own
 * thread as line protocol. Either way each chunk goes through the ingest pipeline like a write
 * (same validation, WAL and atomicity), and the answer counts the rows imported and rejected.
 */

export const IMPORT_FORMATS = ['lp', 'csv', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Where the answer goes and what it reports; filled as the import runs. */
interface ImportRun {
  readonly context: ServerContext;
  readonly res: HttpResponse;
  readonly state: ResponseState;
  readonly request: RequestInfo;
  readonly upload: UploadStream;
  /** The file's bytes: the upload, decompressed when it is a gzip file. */
  readonly file: UploadBytes;
  readonly startedMs: number;
}

interface TableOptions {
  readonly measurement: string;
  readonly timeColumn: string;
  readonly timeFormat: TimeFormat;
  readonly tagColumns: readonly string[];
  readonly delimiter: string;
  readonly skipRows: number;
}

/** The summary every import answers with (`result`), also carried by an error that stopped one midway. */
interface ImportSummary {
  readonly rows_imported: number;
  readonly rows_rejected: number;
  readonly bytes: number;
  readonly duration_ms: number;
}

function badParameter(name: string, message: string): ArcError {
  return badRequest(ServerErrorCode.importBadParameter, message, { parameter: name });
}

function databaseOf(request: RequestInfo): string | ArcError {
  const database = request.database !== '' ? request.database : (request.query.get('db') ?? '');
  if (database === '') return badParameter('db', 'database is required (set the x-arc-database header or the db query parameter)');
  return validateDatabaseName(database) ?? database;
}

/** The line protocol import's optional `measurement` (Arc Go's filter: only that measurement's lines are imported). */
function lineProtocolMeasurement(query: URLSearchParams): string | null | ArcError {
  const measurement = query.get('measurement');
  if (measurement === null) return null;
  if (measurement === '') return badParameter('measurement', 'measurement, when given, names the measurement whose lines are imported');
  return validateMeasurementName(measurement) ?? measurement;
}

function tableOptions(query: URLSearchParams): TableOptions | ArcError {
  const measurement = query.get('measurement') ?? '';
  if (measurement === '') return badParameter('measurement', 'measurement query parameter is required');
  const nameError = validateMeasurementName(measurement);
  if (nameError !== null) return nameError;
  const timeFormat = query.get('time_format') ?? '';
  if (!(TIME_FORMATS as readonly string[]).includes(timeFormat)) return badParameter('time_format', `unsupported time_format '${timeFormat}': use epoch_s, epoch_ms, epoch_us, epoch_ns, rfc3339, or leave it out to detect`);
  const delimiter = query.get('delimiter') ?? ',';
  if (Array.from(delimiter).length !== 1) return badParameter('delimiter', `delimiter must be a single character, got '${delimiter}'`);
  const skipText = query.get('skip_rows') ?? '0';
  const skipRows = Number(skipText);
  if (!/^\d{1,9}$/.test(skipText)) return badParameter('skip_rows', `skip_rows must be a whole number, got '${skipText}'`);
  const tagText = query.get('tag_columns') ?? '';
  const tagColumns = tagText === '' ? [] : tagText.split(',').map((name) => name.trim());
  const timeColumn = query.get('time_column') ?? 'time';
  if (tagColumns.includes(timeColumn)) return badParameter('tag_columns', `the time column '${timeColumn}' cannot be a tag`);
  return { measurement, timeColumn, timeFormat: timeFormat as TimeFormat, tagColumns, delimiter, skipRows };
}

function summaryOf(run: ImportRun, feed: ImportFeed): ImportSummary {
  return {
    rows_imported: feed.rowsImported,
    rows_rejected: feed.rowsRejected,
    bytes: run.upload.receivedBytes,
    duration_ms: Math.round(performance.now() - run.startedMs),
  };
}

/**
 * The answer: 200 with the summary and the first rejected rows; an import stopped midway answers its
 * reason's status with how far it got (rows acknowledged stay); one whose every row was refused, 400.
 */
async function answer(run: ImportRun, feed: ImportFeed, result: Record<string, unknown>): Promise<void> {
  const flushError = feed.rowsImported > 0 ? await run.context.pipeline.flushAll() : null;
  const summary = summaryOf(run, feed);
  const first = feed.errors[0];
  const failure = feed.stopped ?? flushError ?? (summary.rows_imported === 0 && first !== undefined ? badRequest(ServerErrorCode.importRejected, `No row imported; line ${first.line}: ${first.error}`, { line: first.line }) : null);
  run.context.log.info(`import into '${String(result['database'])}': ${summary.rows_imported} rows imported, ${summary.rows_rejected} rejected, ${summary.bytes} bytes, ${summary.duration_ms} ms`);
  if (failure !== null) { sendError(run.res, run.state, new ArcError(failure.kind, failure.code, failure.message, { ...failure.details, ...summary })); return; }
  sendJson(run.res, run.state, '200 OK', { status: 'ok', result: { ...result, ...summary, errors: feed.errors } });
}

/** Reads the rest of an upload refused early, when the connection closes after the answer (see request-body.ts). */
async function drain(upload: UploadStream): Promise<void> {
  for (let bytes = await upload.next(); bytes !== null && !(bytes instanceof ArcError); bytes = await upload.next());
}

async function refuse(run: ImportRun, error: ArcError): Promise<void> {
  if (run.request.closesConnection) await drain(run.upload);
  run.upload.close(error);
  sendError(run.res, run.state, error);
}

async function importLineProtocol(run: ImportRun, options: RequestOptions, measurement: string | null): Promise<void> {
  const feed = new ImportFeed(run.context, options);
  const chunker = new LineChunker();
  const filter = measurement === null ? null : new MeasurementFilter(measurement);
  for (;;) {
    const bytes = await run.file.next();
    if (bytes instanceof ArcError) {
      await feed.drain();
      return refuseMidway(run, feed, bytes);
    }
    const chunks = bytes === null ? [chunker.finish()].filter((chunk) => chunk !== null) : chunker.push(bytes);
    if (chunks instanceof ArcError) {
      await feed.drain();
      return refuseMidway(run, feed, chunks);
    }
    for (const chunk of chunks) {
      const kept = filter === null ? chunk : filter.keep(chunk);
      if (kept !== null) await feed.submit(kept);
    }
    if (bytes === null || feed.stopped !== null) break;
  }
  await feed.drain();
  if (feed.stopped !== null) run.upload.close(feed.stopped);
  if (filter === null) return answer(run, feed, { database: options.database, precision: options.precision });
  // Arc Go's answer to a filter that matched nothing: 400, not an empty success.
  if (filter.keptLines === 0 && feed.stopped === null) return refuseMidway(run, feed, badParameter('measurement', `no line of measurement '${String(measurement)}' in the file (${filter.skippedLines} lines of other measurements skipped)`));
  await answer(run, feed, { database: options.database, precision: options.precision, measurement, rows_skipped: filter.skippedLines });
}

/** An upload that could not be read to its end: the error, with how far the import got. */
async function refuseMidway(run: ImportRun, feed: ImportFeed, error: ArcError): Promise<void> {
  if (feed.rowsImported > 0) await run.context.pipeline.flushAll();
  run.upload.close(error);
  sendError(run.res, run.state, new ArcError(error.kind, error.code, error.message, { ...error.details, ...summaryOf(run, feed) }));
}

/** Writes the upload to the spool file; null when all of it is there. */
async function spool(run: ImportRun, file: string): Promise<ArcError | null> {
  const handle = await open(file, 'wx', 0o600);
  try {
    for (;;) {
      const bytes = await run.file.next();
      if (bytes === null) return null;
      if (bytes instanceof ArcError) return bytes;
      await handle.write(bytes);
    }
  } finally {
    await handle.close();
  }
}

async function importTable(run: ImportRun, format: 'csv' | 'parquet', options: RequestOptions, table: TableOptions): Promise<void> {
  const directory = path.join(run.context.config.storage.dataDir, 'import');
  await mkdir(directory, { recursive: true });
  const file = path.join(directory, `${randomUUID()}.${format}`);
  try {
    const spooled = await spool(run, file);
    if (spooled !== null) { sendError(run.res, run.state, spooled); return; }
    if (run.upload.receivedBytes === 0) { sendError(run.res, run.state, badRequest(ServerErrorCode.importBadFile, 'The uploaded file is empty')); return; }
    await importSpooled(run, { ...table, path: file, format, directory, memoryLimit: IMPORT_READER_MEMORY_LIMIT, threads: IMPORT_READER_THREADS, chunkBytes: IMPORT_CHUNK_BYTES }, options);
  } finally {
    await rm(file, { force: true });
  }
}

async function importSpooled(run: ImportRun, data: ImportWorkerData, options: RequestOptions): Promise<void> {
  const feed = new ImportFeed(run.context, options);
  const reader = new ImportReader(data);
  const noteRefused = (refused: readonly RowRefusal[], count: number): void => {
    feed.noteRejected(count, refused.map((row) => ({ line: row.row, code: ServerErrorCode.importBadTime, error: `time value '${row.value}' in column '${data.timeColumn}' is not a time` })));
  };
  try {
    // The next chunk is read while the feed submits this one.
    let step = reader.next();
    for (;;) {
      const current = await step;
      noteRefused(current.refused, current.refusedCount);
      if (current.kind === 'done') {
        await feed.drain();
        await answer(run, feed, { database: options.database, measurement: data.measurement, columns: current.columns }); return;
      }
      step = reader.next();
      await feed.submit(current.chunk);
      if (feed.stopped !== null) {
        step.catch(() => undefined);
        await feed.drain();
        await answer(run, feed, { database: options.database, measurement: data.measurement }); return;
      }
    }
  } catch (error) {
    await feed.drain();
    if (!(error instanceof ArcError)) throw error;
    await refuseMidway(run, feed, error);
  } finally {
    await reader.close();
  }
}

function handleImport(context: ServerContext, format: ImportFormat, res: HttpResponse, req: HttpRequest): void {
  const request = readRequestInfo(req);
  const upload = new UploadStream(res, req.getHeader('content-type'), format === 'lp' ? IMPORT_LP_BYTES_MAX : IMPORT_SPOOL_BYTES_MAX);
  const state = newResponseState(res, () => upload.close(new ArcError(ErrorKind.badRequest, ServerErrorCode.importBadFile, 'The client closed the connection')));
  const started: ImportRun = { context, res, state, request, upload, file: upload, startedMs: performance.now() };
  const authorized = context.auth.check(request, 'admin', null);
  const contentEncoding = req.getHeader('content-encoding').toLowerCase();
  void (async () => {
    const identity = await authorized;
    if (identity instanceof ArcError) return refuse(started, identity);
    if (contentEncoding !== '' && contentEncoding !== 'identity' && contentEncoding !== 'gzip') return refuse(started, badRequest(ServerErrorCode.importBadFile, `Content-Encoding '${contentEncoding}' is not taken by imports: send the file as it is or gzip-compressed`));
    if (context.phase !== 'ready') return refuse(started, new ArcError(ErrorKind.unavailable, context.phase === 'stopping' ? ServerErrorCode.shuttingDown : ServerErrorCode.starting, `Server is ${context.phase}; retry the import later`));
    const database = databaseOf(request);
    if (database instanceof ArcError) return refuse(started, database);
    // Checked before the file is read, so a bad parameter is answered without waiting for the upload.
    const lpMeasurement = format === 'lp' ? lineProtocolMeasurement(request.query) : null;
    if (lpMeasurement instanceof ArcError) return refuse(started, lpMeasurement);
    const table = format === 'lp' ? null : tableOptions(request.query);
    if (table instanceof ArcError) return refuse(started, table);
    const precision = format === 'lp' ? parsePrecision(request.query.get('precision'), 'v1') : LineProtocolPrecision.ns;
    if (precision instanceof ArcError) return refuse(started, precision);
    const file = await maybeGunzip(upload, contentEncoding === 'gzip', format === 'lp' ? IMPORT_LP_BYTES_MAX : IMPORT_SPOOL_BYTES_MAX);
    if (file instanceof ArcError) return refuse(started, file);
    const run: ImportRun = { ...started, file };
    if (format === 'lp' || table === null) return importLineProtocol(run, { format: PayloadFormat.lineProtocol, database, nowUs: request.receivedAtUs, precision }, lpMeasurement);
    return importTable(run, format, { format: PayloadFormat.lineProtocol, database, nowUs: request.receivedAtUs, precision: LineProtocolPrecision.ns }, table);
  })().catch((error: unknown) => {
    context.log.error(`import failed: ${(error as Error).stack ?? String(error)}`);
    upload.close(new ArcError(ErrorKind.internal, ServerErrorCode.importFailed, 'import failed'));
    sendError(res, state, new ArcError(ErrorKind.internal, ServerErrorCode.importFailed, `The import failed: ${(error as Error).message}`));
  });
}

export function registerImportRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const format of IMPORT_FORMATS) app.post(`/api/v1/import/${format}`, (res, req) => handleImport(context, format, res, req));
}
