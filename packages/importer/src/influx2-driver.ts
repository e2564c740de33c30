import { isArcError, type ArcError } from '@arc/errors';
import { parseAnnotatedCsv, type CsvColumn, type CsvTable, type CsvValue } from './annotated-csv.js';
import { answerText, fetchOrConnectError, sourceError } from './influx-http.js';
import { openInfluxReader, type InfluxPage, type InfluxPageRequest, type InfluxRow } from './influx-reader.js';
import { badSetting, checkInfluxJobSource, nameOf, objectOf, refuseUnknownKeys, serverUrlOf } from './influx-settings.js';
import { FLUX_WINDOW_NS_INITIAL } from './limits.js';
import { lineOf, type FieldValue } from './line-protocol.js';
import { SourceType, type ConnectionTestResult, type ReadOptions, type SourceConnection, type SourceDriver, type SourceReader } from './source.js';

/**
 * InfluxDB 2.x: settings `{ version: 2, url, org, bucket }`, the token as the secret
 * (`Authorization: Token ...`). Reading (docs/import-influxdb.md): the bucket's measurements and
 * each one's tag keys (Flux `schema`), then pages of
 *
 *   from(bucket) |> range(start, stop) |> filter(_measurement == m)
 *     |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
 *     |> group() |> sort(columns: ["_time", tags...]) |> limit(n, offset)
 *
 * answered as annotated CSV: one row per point, its fields as typed columns. group() puts every
 * series in one table so limit/offset count rows across series in time order (the shared cursor of
 * influx-reader.ts); the sort by tags after time makes the order of one timestamp's rows the same
 * on every page. Flux sorts the whole range before it limits, so each query covers a time window
 * sized to about one chunk (FLUX_WINDOW_NS_INITIAL), never the rest of the run.
 */

interface Influx2Server {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: string | null;
}

function settingsOf(settings: unknown): Omit<Influx2Server, 'token'> {
  const object = objectOf(settings, 'settings');
  refuseUnknownKeys(object, ['version', 'url', 'org', 'bucket'], 'settings');
  if (object.version !== 2) throw badSetting('settings.version', 'must be 2 for InfluxDB 2.x');
  return { url: serverUrlOf(object.url, 'settings.url'), org: nameOf(object.org, 'settings.org'), bucket: nameOf(object.bucket, 'settings.bucket') };
}

function serverOf(connection: SourceConnection): Influx2Server {
  return { ...settingsOf(connection.settings), token: connection.secret };
}

/** A Flux string literal: backslash, quote and `${` (interpolation) escaped. */
export function fluxString(text: string): string {
  return `"${text.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** The oldest time InfluxDB stores (its storage's minimum), for a range without a start. */
const INFLUX_TIME_MIN_NS = -9223372036854775806n;

function fluxTime(ns: bigint): string {
  return `time(v: ${ns.toString()})`;
}

function authorization(server: Influx2Server): Record<string, string> {
  return server.token === null ? {} : { authorization: `Token ${server.token}` };
}

/** The message of an InfluxDB 2.x error answer (`{"code", "message"}`), else the text. */
function errorMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not JSON: the text says it.
  }
  return text.trim();
}

function refusal(server: Influx2Server, status: number, text: string): ArcError | null {
  if (status === 401 || status === 403) return sourceError(`authenticate: InfluxDB refused ${server.token === null ? 'a request without a token' : 'the token'} (${String(status)}: ${errorMessage(text)})`);
  return null;
}

/** Runs a Flux query; the tables of its annotated CSV answer. */
export async function flux(server: Influx2Server, query: string, signal: AbortSignal): Promise<{ tables: readonly CsvTable[]; bytes: number }> {
  const response = await fetchOrConnectError(`${server.url}/api/v2/query?${new URLSearchParams({ org: server.org }).toString()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/csv', ...authorization(server) },
    body: JSON.stringify({
      query,
      type: 'flux',
      dialect: { header: true, delimiter: ',', annotations: ['group', 'datatype', 'default'], dateTimeFormat: 'RFC3339Nano' },
    }),
    signal,
  });
  const text = await answerText(response);
  const refused = refusal(server, response.status, text);
  if (refused !== null) throw refused;
  if (response.status !== 200) throw sourceError(`query: InfluxDB answered ${String(response.status)}: ${errorMessage(text)}`);
  const parsed = parseAnnotatedCsv(text);
  if (!parsed.ok) throw sourceError(`query: ${parsed.message}`);
  return { tables: parsed.tables, bytes: Buffer.byteLength(text) };
}

/** The `_value` strings of a schema query's tables. */
function valuesOf(tables: readonly CsvTable[]): string[] {
  const values: string[] = [];
  for (const table of tables) {
    const at = table.columns.findIndex((column) => column.name === '_value');
    if (at === -1) continue;
    for (const record of table.records) if (typeof record[at] === 'string') values.push(record[at]);
  }
  return values;
}

/** Columns Flux adds that are not the point's tags or fields. */
const NOT_DATA = new Set(['result', 'table', '_start', '_stop', '_time', '_measurement', '_field', '_value']);

const FIELD_KINDS: Readonly<Record<string, FieldValue['kind']>> = { double: 'float', long: 'integer', unsignedLong: 'unsigned', string: 'string', boolean: 'boolean' };

function fieldValueOf(kind: FieldValue['kind'], value: CsvValue): FieldValue | null {
  if (value === null) return null;
  if (kind === 'float' && typeof value === 'number') return { kind, value };
  if ((kind === 'integer' || kind === 'unsigned') && typeof value === 'bigint') return { kind, value };
  if (kind === 'string' && typeof value === 'string') return { kind, value };
  if (kind === 'boolean' && typeof value === 'boolean') return { kind, value };
  return null;
}

/** A pivoted record as a line: tags are the measurement's tag keys and group-key string columns, the other typed columns fields. */
function rowOf(destination: string, tagKeys: ReadonlySet<string>, columns: readonly CsvColumn[], record: readonly CsvValue[]): InfluxRow {
  const timeAt = columns.findIndex((column) => column.name === '_time');
  const timeNs = record[timeAt];
  if (typeof timeNs !== 'bigint') throw sourceError(`query: a record without a _time (${String(timeNs)})`);
  const tags: [string, string][] = [];
  const fields: [string, FieldValue][] = [];
  columns.forEach((column, index) => {
    if (NOT_DATA.has(column.name)) return;
    const value = record[index] ?? null;
    if (tagKeys.has(column.name) || (column.group && column.datatype === 'string')) {
      if (typeof value === 'string') tags.push([column.name, value]);
      return;
    }
    const kind = FIELD_KINDS[column.datatype];
    const field = kind === undefined ? null : fieldValueOf(kind, value);
    if (field !== null) fields.push([column.name, field]);
  });
  return { timeNs, line: lineOf(destination, tags, fields, timeNs) };
}

/** One window of a page: rows in [fromNs, stopNs), at most `limit` after leaving out `offset`. */
interface FluxWindow {
  readonly fromNs: bigint;
  readonly stopNs: bigint;
  readonly limit: number;
  readonly offset: number;
}

function pageQuery(server: Influx2Server, measurement: string, tagKeys: readonly string[], window: FluxWindow): string {
  const sortColumns = ['_time', ...tagKeys].map(fluxString).join(', ');
  return [
    `from(bucket: ${fluxString(server.bucket)})`,
    `  |> range(start: ${fluxTime(window.fromNs)}, stop: ${fluxTime(window.stopNs)})`,
    `  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)})`,
    '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
    '  |> group()',
    `  |> sort(columns: [${sortColumns}])`,
    `  |> limit(n: ${String(window.limit)}, offset: ${String(window.offset)})`,
  ].join('\n');
}

/** The measurement's oldest time before `endNs` (first() per series is read from the storage's index, not scanned); null when it has none. */
async function firstTimeOf(server: Influx2Server, measurement: string, endNs: bigint, signal: AbortSignal): Promise<bigint | null> {
  const query = [
    `from(bucket: ${fluxString(server.bucket)})`,
    `  |> range(start: ${fluxTime(INFLUX_TIME_MIN_NS)}, stop: ${fluxTime(endNs)})`,
    `  |> filter(fn: (r) => r._measurement == ${fluxString(measurement)})`,
    '  |> first()',
    '  |> group()',
    '  |> min(column: "_time")',
  ].join('\n');
  for (const table of (await flux(server, query, signal)).tables) {
    const at = table.columns.findIndex((column) => column.name === '_time');
    const value = table.records[0]?.[at];
    if (typeof value === 'bigint') return value;
  }
  return null;
}

function tagKeysQuery(server: Influx2Server, measurement: string, startNs: bigint | null, endNs: bigint): string {
  return [
    'import "influxdata/influxdb/schema"',
    `schema.measurementTagKeys(bucket: ${fluxString(server.bucket)}, measurement: ${fluxString(measurement)}, start: ${fluxTime(startNs ?? INFLUX_TIME_MIN_NS)}, stop: ${fluxTime(endNs)})`,
  ].join('\n');
}

/** What a reader keeps of one measurement between pages. */
interface MeasurementState {
  readonly tagKeys: readonly string[];
  windowNs: bigint;
}

/**
 * A page as the reader asks for it (the first `limit` rows from `fromNs`), read in windows: the
 * first starts at `fromNs` (with the offset), the next ones go on where the last stopped until
 * the page is full or the range ends.
 */
async function pageOf(server: Influx2Server, state: MeasurementState, request: InfluxPageRequest): Promise<InfluxPage> {
  const rows: InfluxRow[] = [];
  let sourceBytes = 0;
  let fromNs = request.fromNs ?? (await firstTimeOf(server, request.measurement, request.endNs, request.signal));
  let offset = request.offset;
  const tagSet = new Set(state.tagKeys);
  for (let windowCount = 1; fromNs !== null && fromNs < request.endNs; windowCount += 1) {
    const stopNs = fromNs + state.windowNs < request.endNs ? fromNs + state.windowNs : request.endNs;
    const window = { fromNs, stopNs, limit: request.limit - rows.length, offset };
    const answer = await flux(server, pageQuery(server, request.measurement, state.tagKeys, window), request.signal);
    sourceBytes += answer.bytes;
    for (const table of answer.tables) for (const record of table.records) rows.push(rowOf(request.destination, tagSet, table.columns, record));
    if (rows.length >= request.limit) {
      if (windowCount === 1 && state.windowNs > 1n) state.windowNs /= 2n;
      break;
    }
    state.windowNs *= 2n;
    fromNs = stopNs;
    offset = 0;
  }
  return { rows, sourceBytes };
}

function pagerOf(server: Influx2Server, startNs: bigint | null): (request: InfluxPageRequest) => Promise<InfluxPage> {
  const states = new Map<string, MeasurementState>();
  return async (request) => {
    let state = states.get(request.measurement);
    if (state === undefined) {
      const answer = await flux(server, tagKeysQuery(server, request.measurement, startNs, request.endNs), request.signal);
      const tagKeys = valuesOf(answer.tables).filter((key) => !NOT_DATA.has(key)).sort();
      state = { tagKeys, windowNs: FLUX_WINDOW_NS_INITIAL };
      states.set(request.measurement, state);
    }
    return pageOf(server, state, request);
  };
}

async function measurementsOf(server: Influx2Server, startNs: bigint | null, endNs: bigint, signal: AbortSignal): Promise<string[]> {
  const query = ['import "influxdata/influxdb/schema"', `schema.measurements(bucket: ${fluxString(server.bucket)}, start: ${fluxTime(startNs ?? INFLUX_TIME_MIN_NS)}, stop: ${fluxTime(endNs)})`].join('\n');
  return valuesOf((await flux(server, query, signal)).tables);
}

async function healthVersion(server: Influx2Server, signal: AbortSignal): Promise<{ version: string | null; failure: string | null }> {
  const health = await fetchOrConnectError(`${server.url}/health`, { method: 'GET', headers: { accept: 'application/json' }, signal });
  const text = await answerText(health);
  let body: { status?: unknown; version?: unknown; message?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { version: null, failure: `connect: ${server.url}/health answered ${String(health.status)} without JSON: not an InfluxDB 2.x server?` };
  }
  const version = typeof body.version === 'string' ? `InfluxDB ${body.version.replace(/^v/, '')}` : null;
  if (health.status !== 200 || body.status !== 'pass') return { version, failure: `connect: ${server.url}/health answered ${String(health.status)} status '${String(body.status)}': ${typeof body.message === 'string' ? body.message : ''}` };
  return { version, failure: null };
}

async function test(connection: SourceConnection, signal: AbortSignal): Promise<ConnectionTestResult> {
  const server = serverOf(connection);
  let version: string | null = null;
  try {
    const health = await healthVersion(server, signal);
    version = health.version;
    if (health.failure !== null) return { ok: false, version, detail: health.failure };
    const search = new URLSearchParams({ org: server.org, name: server.bucket });
    const response = await fetchOrConnectError(`${server.url}/api/v2/buckets?${search.toString()}`, { method: 'GET', headers: { accept: 'application/json', ...authorization(server) }, signal });
    const text = await answerText(response);
    const refused = refusal(server, response.status, text);
    if (refused !== null) return { ok: false, version, detail: refused.message };
    if (response.status === 404) return { ok: false, version, detail: `bucket: ${errorMessage(text)} (org '${server.org}')` };
    if (response.status !== 200) return { ok: false, version, detail: `bucket: InfluxDB answered ${String(response.status)}: ${errorMessage(text)}` };
    const buckets = (JSON.parse(text) as { buckets?: { name?: unknown }[] }).buckets ?? [];
    if (!buckets.some((bucket) => bucket.name === server.bucket)) return { ok: false, version, detail: `bucket: '${server.bucket}' does not exist in org '${server.org}' (or the token may not read it)` };
    return { ok: true, version, detail: `connected to ${server.url}, the token reads bucket '${server.bucket}' of org '${server.org}'` };
  } catch (error) {
    if (signal.aborted || !isArcError(error)) throw error;
    return { ok: false, version, detail: error.message };
  }
}

async function open(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions): Promise<SourceReader> {
  const server = serverOf(connection);
  return openInfluxReader(source, cursor, options, (endNs) => measurementsOf(server, options.startNs, endNs, options.signal), pagerOf(server, options.startNs));
}

export const influx2Driver: SourceDriver = {
  type: SourceType.influx2,
  checkSettings: (settings) => ({ version: 2, ...settingsOf(settings) }),
  checkJobSource: (source) => checkInfluxJobSource(source, 2),
  test,
  open,
};
