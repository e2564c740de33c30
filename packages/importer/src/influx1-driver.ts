import { isArcError } from '@arc/errors';
import { bigintOfJson, numberOfJson } from './exact-json.js';
import { influxql, influxqlIdentifier, type Influx1Server } from './influx1-client.js';
import { fetchOrConnectError, sourceError } from './influx-http.js';
import { openInfluxReader, type InfluxPage, type InfluxPageRequest, type InfluxRow } from './influx-reader.js';
import { badSetting, checkInfluxJobSource, nameOf, objectOf, refuseUnknownKeys, serverUrlOf } from './influx-settings.js';
import { INFLUX1_ANSWER_CHUNK_ROWS } from './limits.js';
import { lineOf, type FieldValue } from './line-protocol.js';
import { SourceType, type ConnectionTestResult, type ReadOptions, type SourceConnection, type SourceDriver, type SourceReader } from './source.js';

/**
 * InfluxDB 1.x: settings `{ version: 1, url, database, username? }`, the password as the secret
 * (sent as HTTP Basic, which InfluxDB 1.x accepts beside u/p parameters and keeps out of URLs).
 *
 * Reading (docs/import-influxdb.md): from the job's `retention_policy` (the database's default
 * one, as an unqualified query reads, when the job names none); per measurement, its tag keys (SHOW TAG KEYS) and
 * field keys with their types (SHOW FIELD KEYS), then pages of
 * `SELECT "tag"::tag, "field"::type, ... FROM "m" WHERE time >= a AND time < b LIMIT n OFFSET k`.
 * Columns are named with their type, not `SELECT *`, because:
 * - a tag and a field of one name come back as two columns (`*` calls the tag `name_1`); the
 *   line carries both under their own name, as InfluxDB stored them;
 * - a field whose type differs between shards: `SELECT *` answers only the values of the type the
 *   query engine picks and drops the others' rows; typed columns answer each. Float and integer
 *   of one field are read as float (the engine's own cast, as a query of it answers);
 *   string and boolean values keep their type.
 */

interface Influx1Settings {
  readonly url: string;
  readonly database: string;
  readonly username: string | null;
}

function settingsOf(settings: unknown): Influx1Settings {
  const object = objectOf(settings, 'settings');
  refuseUnknownKeys(object, ['version', 'url', 'database', 'username'], 'settings');
  if (object.version !== undefined && object.version !== 1) throw badSetting('settings.version', 'must be 1 for InfluxDB 1.x');
  const username = object.username === undefined || object.username === null ? null : nameOf(object.username, 'settings.username');
  return { url: serverUrlOf(object.url, 'settings.url'), database: nameOf(object.database, 'settings.database'), username };
}

function serverOf(connection: SourceConnection): Influx1Server {
  const settings = settingsOf(connection.settings);
  return { ...settings, password: connection.secret };
}

/** A field type as SHOW FIELD KEYS names it (`unsigned` only from servers built with uint64 support). */
type InfluxqlFieldType = 'float' | 'integer' | 'unsigned' | 'string' | 'boolean';
const FIELD_TYPES: readonly string[] = ['float', 'integer', 'unsigned', 'string', 'boolean'];

/** One selected column: a tag, or one type of a field. */
type Column = { readonly role: 'tag'; readonly key: string } | { readonly role: 'field'; readonly key: string; readonly type: InfluxqlFieldType };

/** The typed columns of a field: numbers as one column (float when float is among its types), string and boolean their own. */
function fieldColumns(key: string, types: ReadonlySet<InfluxqlFieldType>): Column[] {
  const columns: Column[] = [];
  if (types.has('float')) columns.push({ role: 'field', key, type: 'float' });
  else if (types.has('integer')) columns.push({ role: 'field', key, type: 'integer' });
  else if (types.has('unsigned')) columns.push({ role: 'field', key, type: 'unsigned' });
  if (types.has('string')) columns.push({ role: 'field', key, type: 'string' });
  if (types.has('boolean')) columns.push({ role: 'field', key, type: 'boolean' });
  return columns;
}

/** A measurement as a FROM clause names it: `"rp"."m"` in the job's retention policy, else `"m"` (the default one). */
function sourceOf(retentionPolicy: string | null, measurement: string): string {
  return retentionPolicy === null ? influxqlIdentifier(measurement) : `${influxqlIdentifier(retentionPolicy)}.${influxqlIdentifier(measurement)}`;
}

async function columnsOf(server: Influx1Server, from: string, signal: AbortSignal): Promise<Column[]> {
  const tagAnswer = await influxql(server, `SHOW TAG KEYS FROM ${from}`, signal);
  const fieldAnswer = await influxql(server, `SHOW FIELD KEYS FROM ${from}`, signal);
  const columns: Column[] = [];
  for (const series of tagAnswer.series) for (const [key] of series.values) columns.push({ role: 'tag', key: String(key) });
  const typesByKey = new Map<string, Set<InfluxqlFieldType>>();
  for (const series of fieldAnswer.series) {
    for (const [key, type] of series.values) {
      if (typeof type !== 'string' || !FIELD_TYPES.includes(type)) continue;
      const types = typesByKey.get(String(key)) ?? new Set<InfluxqlFieldType>();
      types.add(type as InfluxqlFieldType);
      typesByKey.set(String(key), types);
    }
  }
  for (const [key, types] of typesByKey) columns.push(...fieldColumns(key, types));
  return columns;
}

function fieldValueOf(type: InfluxqlFieldType, value: unknown): FieldValue | null {
  switch (type) {
    case 'float': {
      const number = numberOfJson(value);
      return number === null ? null : { kind: 'float', value: number };
    }
    case 'integer':
    case 'unsigned': {
      const integer = bigintOfJson(value);
      return integer === null ? null : { kind: type === 'integer' ? 'integer' : 'unsigned', value: integer };
    }
    case 'string':
      return typeof value === 'string' ? { kind: 'string', value } : null;
    case 'boolean':
      return typeof value === 'boolean' ? { kind: 'boolean', value } : null;
  }
}

/** A row of the typed columns (values[0] is the time) as a line; a field's first non-null typed column wins. */
function rowOf(destination: string, columns: readonly Column[], values: readonly unknown[]): InfluxRow {
  const timeNs = bigintOfJson(values[0]);
  if (timeNs === null) throw sourceError(`query: InfluxDB answered a time that is not an integer: ${String(values[0])}`);
  const tags: [string, string][] = [];
  const fields: [string, FieldValue][] = [];
  const fieldsTaken = new Set<string>();
  columns.forEach((column, index) => {
    const value = values[index + 1];
    if (value === null || value === undefined) return;
    if (column.role === 'tag') {
      if (typeof value === 'string') tags.push([column.key, value]);
      return;
    }
    if (fieldsTaken.has(column.key)) return;
    const field = fieldValueOf(column.type, value);
    if (field === null) return;
    fields.push([column.key, field]);
    fieldsTaken.add(column.key);
  });
  return { timeNs, line: lineOf(destination, tags, fields, timeNs) };
}

function selectOf(from: string, columns: readonly Column[], request: InfluxPageRequest): string {
  const list = columns.map((column) => `${influxqlIdentifier(column.key)}::${column.role === 'tag' ? 'tag' : column.type}`).join(', ');
  const lower = request.fromNs === null ? '' : `time >= ${request.fromNs.toString()} AND `;
  return `SELECT ${list} FROM ${from} WHERE ${lower}time < ${request.endNs.toString()} LIMIT ${String(request.limit)} OFFSET ${String(request.offset)}`;
}

/** Pages of one connection's measurements; each measurement's columns are learnt once per reader. */
function pagerOf(server: Influx1Server, retentionPolicy: string | null): (request: InfluxPageRequest) => Promise<InfluxPage> {
  const columnsByMeasurement = new Map<string, Column[]>();
  return async (request) => {
    const from = sourceOf(retentionPolicy, request.measurement);
    let columns = columnsByMeasurement.get(request.measurement);
    if (columns === undefined) {
      columns = await columnsOf(server, from, request.signal);
      columnsByMeasurement.set(request.measurement, columns);
    }
    if (!columns.some((column) => column.role === 'field')) return { rows: [], sourceBytes: 0 };
    const chunkRows = Math.min(request.limit, INFLUX1_ANSWER_CHUNK_ROWS);
    const answer = await influxql(server, selectOf(from, columns, request), request.signal, chunkRows);
    const rows = answer.series.flatMap((series) => series.values.map((values) => rowOf(request.destination, columns, values)));
    return { rows, sourceBytes: answer.bytes };
  };
}

async function measurementsOf(server: Influx1Server, signal: AbortSignal): Promise<string[]> {
  const answer = await influxql(server, 'SHOW MEASUREMENTS', signal);
  return answer.series.flatMap((series) => series.values.map(([name]) => String(name)));
}

/**
 * The job's retention policy, checked to exist when a run opens its reader: a policy the database
 * lacks would read as empty measurements (SHOW FIELD KEYS answers nothing for it), a silent import
 * of nothing, so it fails the run naming the policies there are.
 */
async function checkedRetentionPolicy(server: Influx1Server, retentionPolicy: string | null, signal: AbortSignal): Promise<string | null> {
  if (retentionPolicy === null) return null;
  const answer = await influxql(server, `SHOW RETENTION POLICIES ON ${influxqlIdentifier(server.database)}`, signal);
  const names = answer.series.flatMap((series) => series.values.map(([name]) => String(name)));
  if (!names.includes(retentionPolicy)) throw sourceError(`query: source.retention_policy '${retentionPolicy}' is not a retention policy of database '${server.database}' (it has: ${names.join(', ') || 'none'})`);
  return retentionPolicy;
}

async function test(connection: SourceConnection, signal: AbortSignal): Promise<ConnectionTestResult> {
  const server = serverOf(connection);
  let version: string | null = null;
  try {
    const ping = await fetchOrConnectError(`${server.url}/ping`, { method: 'GET', signal });
    await ping.arrayBuffer();
    const header = ping.headers.get('x-influxdb-version');
    version = header === null ? null : `InfluxDB ${header}`;
    if (ping.status !== 204 && ping.status !== 200) return { ok: false, version, detail: `connect: ${server.url}/ping answered ${String(ping.status)}, not InfluxDB's 204` };
    const answer = await influxql(server, 'SHOW DATABASES', signal);
    const databases = answer.series.flatMap((series) => series.values.map(([name]) => String(name)));
    if (!databases.includes(server.database)) {
      return { ok: false, version, detail: `database: '${server.database}' does not exist on ${server.url} (or the user may not read it); it has: ${databases.join(', ') || 'none'}` };
    }
    return { ok: true, version, detail: `connected to ${server.url}, authenticated${server.username === null ? ' (no credentials)' : ` as '${server.username}'`}, database '${server.database}' exists` };
  } catch (error) {
    if (signal.aborted || !isArcError(error)) throw error;
    return { ok: false, version, detail: error.message };
  }
}

async function open(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions): Promise<SourceReader> {
  const server = serverOf(connection);
  const retentionPolicy = await checkedRetentionPolicy(server, (checkInfluxJobSource(source, 1).retention_policy as string | undefined) ?? null, options.signal);
  return openInfluxReader(source, cursor, options, () => measurementsOf(server, options.signal), pagerOf(server, retentionPolicy));
}

export const influx1Driver: SourceDriver = {
  type: SourceType.influx1,
  checkSettings: (settings) => {
    const checked = settingsOf(settings);
    return { version: 1, url: checked.url, database: checked.database, ...(checked.username === null ? {} : { username: checked.username }) };
  },
  checkJobSource: (source) => checkInfluxJobSource(source, 1),
  test,
  open,
};
