import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { DEFAULT_DATABASE, quoteIdentifier, validateMeasurementName } from '@arc/columnar';
import { ArcError, badRequest } from '@arc/errors';
import { QUERY_ROW_LIMIT_MAX, compressionFor, type AnswerFormat, type MeasurementQuery } from '@arc/query';
import { ErrorBodyStyle, sendError, sendJson } from './http-response.js';
import { acceptQuery, reportFailure, sendAnswer, type QuerySource } from './query-routes.js';
import type { RequestInfo } from './request-info.js';
import type { ServerContext } from './server-context.js';
import { ServerErrorCode } from './error-codes.js';

/** Rows `GET /query/{measurement}` answers when the request gives no `limit`. */
export const MEASUREMENT_READ_LIMIT_DEFAULT = 100;
/** Rows skipped at most: beyond, a time range is the tool, not an offset. */
export const MEASUREMENT_READ_OFFSET_MAX = 1_000_000_000;
export const ORDER_BY_PATTERN = /^\s*(-)?\s*([^\s]+)(?:\s+(asc|desc))?\s*$/i;
/** The spellings of an instant `start_time` and `end_time` accept (Date.parse then reads them). */
export const INSTANT_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function parameterError(parameter: string, message: string): ArcError {
  return badRequest(ServerErrorCode.queryBadParameter, message, { parameter });
}

/** The integer query parameter `name` within min..max (absent or empty: `fallback`), else the 400 naming it. */
export function integerParameter(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number | ArcError {
  const text = query.get(name);
  if (text === null || text === '') return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    return parameterError(name, `"${name}" must be an integer from ${String(min)} to ${String(max)}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** An RFC 3339 instant (`2025-10-16T16:00:00Z`, offsets and fractions allowed) or epoch milliseconds... as UTC text. */
function instantParameter(query: URLSearchParams, name: string): string | null | ArcError {
  const text = query.get(name);
  if (text === null || text === '') return null;
  const milliseconds = INSTANT_PATTERN.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(milliseconds)) {
    return parameterError(name, `"${name}" must be an RFC 3339 time such as 2025-10-16T16:00:00Z, got ${JSON.stringify(text)}`);
  }
  // Sub-millisecond digits survive as written; the engine casts the text, not the number.
  return text.includes('T') || text.includes(' ') ? text : `${text}T00:00:00Z`;
}

/** Reads the parameters of `GET /query/{measurement}` into a MeasurementQuery, or the first error. */
export function parseMeasurementQuery(measurement: string, query: URLSearchParams): MeasurementQuery | ArcError {
  const nameError = validateMeasurementName(measurement);
  if (nameError !== null) return nameError;
  const limit = integerParameter(query, 'limit', MEASUREMENT_READ_LIMIT_DEFAULT, 1, QUERY_ROW_LIMIT_MAX);
  if (limit instanceof ArcError) return limit;
  const offset = integerParameter(query, 'offset', 0, 0, MEASUREMENT_READ_OFFSET_MAX);
  if (offset instanceof ArcError) return offset;
  const startTime = instantParameter(query, 'start_time');
  if (startTime instanceof ArcError) return startTime;
  const endTime = instantParameter(query, 'end_time');
  if (endTime instanceof ArcError) return endTime;
  const columnsText = query.get('columns');
  const columns = columnsText === null || columnsText === '' ? [] : columnsText.split(',').map((column) => column.trim());
  if (columns.some((column) => column === '')) return parameterError('columns', '"columns" must be a comma-separated list of column names');
  const order = ORDER_BY_PATTERN.exec(query.get('order_by') ?? 'time DESC');
  if (order === null) return parameterError('order_by', '"order_by" must be a column name, optionally followed by ASC or DESC');
  const [, minus, orderBy = 'time', direction] = order;
  const descending = minus === '-' || direction?.toLowerCase() === 'desc';
  return { measurement, columns, startTime, endTime, orderBy, descending, limit, offset };
}

function databaseOf(request: RequestInfo): string {
  return request.query.get('database') ?? request.query.get('db') ?? (request.database === '' ? DEFAULT_DATABASE : request.database);
}

/** GET routes: the database comes from `?database=` (or InfluxDB's `?db=`), then the header. */
const URL_QUERY: QuerySource = { readsBody: false, databaseOf };

/** `GET /query/{measurement}[/csv]`: the measurement's rows, newest first by default. */
function handleMeasurementRead(context: ServerContext, res: HttpResponse, req: HttpRequest, format: AnswerFormat): void {
  const measurement = decodeURIComponent(req.getParameter(0));
  const acceptEncoding = req.getHeader('accept-encoding');
  acceptQuery(context, res, req, URL_QUERY, (caller) => {
    const { request, database, readable, state, signal } = caller;
    const parsed = parseMeasurementQuery(measurement, request.query);
    if (parsed instanceof ArcError) return sendError(res, state, parsed, ErrorBodyStyle.query);
    const compression = compressionFor(acceptEncoding);
    context.queryPool.readMeasurement({ measurement: parsed, database, format, readableDatabases: readable, compression }, signal).then(
      (answer) => {
        sendAnswer(res, caller, answer, null);
        answer.release();
      },
      (error: unknown) => reportFailure(context, res, state, error),
    );
  });
}

/** A `SHOW TABLES` row as `/measurements` answers it (Arc's Python SDK reads it as its MeasurementInfo). */
function measurementInfo(row: readonly unknown[]): Record<string, unknown> {
  const [database, measurement, storagePath, fileCount, totalSizeMb, firstHour, lastHour] = row;
  return {
    database,
    measurement,
    file_count: fileCount,
    total_size_mb: totalSizeMb,
    storage_path: storagePath,
    first_hour: firstHour,
    last_hour: lastHour,
  };
}

/** True when the request names its database (`?database=`, `?db=` or the `x-arc-database` header). */
function namesDatabase(request: RequestInfo): boolean {
  return request.query.get('database') !== null || request.query.get('db') !== null || request.database !== '';
}

/**
 * `GET /measurements?database=`: the measurements of a database that have data, one object each
 * (`database`, `measurement`, `file_count`, `total_size_mb`, `storage_path`, `first_hour`,
 * `last_hour`), plus `names`, the bare list earlier versions answered as `measurements`. Without a
 * database named, those of every database the token may read (`database: null`), as Arc's Python
 * SDK's `list_measurements()` expects.
 */
function handleMeasurementList(context: ServerContext, res: HttpResponse, req: HttpRequest): void {
  acceptQuery(context, res, req, URL_QUERY, ({ request, database, readable, state, signal }) => {
    const everyDatabase = !namesDatabase(request);
    const databases = everyDatabase ? context.storage.databases().filter((name) => readable === null || readable.includes(name)) : [database];
    void (async () => {
      const rows: unknown[][] = [];
      for (const name of databases) {
        // SHOW TABLES FROM checks the caller's access to the database in the worker, like any query.
        const answer = await context.queryPool.run({ sql: `SHOW TABLES FROM ${quoteIdentifier(name)}`, database: name, format: 'json', readableDatabases: readable }, signal);
        const tables = JSON.parse(Buffer.from(answer.body).toString('utf8')) as { data: unknown[][] };
        answer.release();
        rows.push(...tables.data);
      }
      return rows;
    })().then(
      (rows) => {
        const measurements = rows.map(measurementInfo);
        const names = rows.map((row) => String(row[1]));
        sendJson(res, state, '200 OK', { success: true, database: everyDatabase ? null : database, measurements, names, count: measurements.length });
      },
      (error: unknown) => reportFailure(context, res, state, error),
    );
  });
}

export function registerMeasurementRoutes(app: TemplatedApp, context: ServerContext): void {
  for (const prefix of ['', '/api/v1']) {
    app.get(`${prefix}/measurements`, (res, req) => handleMeasurementList(context, res, req));
    app.get(`${prefix}/query/:measurement`, (res, req) => handleMeasurementRead(context, res, req, 'json'));
    app.get(`${prefix}/query/:measurement/csv`, (res, req) => handleMeasurementRead(context, res, req, 'csv'));
  }
}
