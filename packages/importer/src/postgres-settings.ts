import { ArcError, ErrorKind } from '@arc/errors';
import type { ClientConfig } from 'pg';
import { ImporterErrorCode } from './error-codes.js';
import { PG_CONNECT_TIMEOUT_MS, PG_JOB_COLUMNS_MAX, PG_STATEMENT_TIMEOUT_MS } from './postgres-limits.js';

/**
 * A PostgreSQL connection's settings and a postgres job's source: checked shapes, and the client
 * configuration they make. The password is never a setting: it is the connection's secret (stored
 * encrypted, never returned), so a password inside the URL is refused rather than stored in clear.
 */

export interface PostgresSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly ssl: boolean;
}

/** The time column's unit when it holds numbers (epoch counts); timestamps need none. */
export const TIME_UNITS = ['s', 'ms', 'us', 'ns'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

export interface PostgresJobSource {
  /** Schema-qualified when the job said so; null schema = the session's current schema. */
  readonly schema: string | null;
  readonly table: string;
  readonly timeColumn: string;
  readonly timeUnit: TimeUnit | null;
  readonly tagColumns: readonly string[];
  /** null = every column that is neither the time column nor a tag. */
  readonly fieldColumns: readonly string[] | null;
  readonly measurement: string;
  readonly flattenJson: boolean;
}

const DEFAULT_PORT = 5432;
const SETTINGS_KEYS = ['url', 'host', 'port', 'database', 'user', 'ssl'];
const SOURCE_KEYS = ['table', 'time_column', 'time_unit', 'tag_columns', 'field_columns', 'measurement', 'flatten_json'];

function bad(message: string, field: string): ArcError {
  return new ArcError(ErrorKind.badRequest, ImporterErrorCode.badSettings, message, { field });
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${what} must be a JSON object`, what);
  return value as Record<string, unknown>;
}

function refuseUnknownKeys(value: Record<string, unknown>, known: readonly string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw bad(`${what}.${key} is not a postgres ${what} field (known: ${known.join(', ')})`, `${what}.${key}`);
  }
}

function nonEmptyString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw bad(`${field} must be a non-empty string`, field);
  return value;
}

function portOf(value: unknown, field: string): number {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) throw bad(`${field} must be a TCP port (1-65535)`, field);
  return port;
}

/** `postgres://user@host:port/database[?sslmode=disable|require]`: the one URL form, split into settings. */
function settingsOfUrl(text: string): PostgresSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw bad(`settings.url '${text}' is not a URL (postgres://user@host:5432/database)`, 'settings.url');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw bad(`settings.url must start with postgres:// (got '${url.protocol}')`, 'settings.url');
  if (url.password !== '' || url.searchParams.has('password')) {
    throw bad('settings.url holds a password: give it as the connection\'s "secret" instead (stored encrypted, never returned)', 'settings.url');
  }
  let ssl = false;
  for (const [key, value] of url.searchParams) {
    if (key !== 'sslmode') throw bad(`settings.url parameter '${key}' is not supported (only sslmode=disable|require)`, 'settings.url');
    if (value !== 'disable' && value !== 'require') throw bad(`settings.url sslmode must be disable or require (got '${value}')`, 'settings.url');
    ssl = value === 'require';
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (url.username === '') throw bad('settings.url names no user (postgres://user@host:5432/database)', 'settings.url');
  if (database === '' || database.includes('/')) throw bad('settings.url names no database (postgres://user@host:5432/database)', 'settings.url');
  if (url.hostname === '') throw bad('settings.url names no host', 'settings.url');
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_PORT : portOf(url.port, 'settings.url'),
    database,
    user: decodeURIComponent(url.username),
    ssl,
  };
}

/** The settings a connection keeps: the URL form as given (normalised), or the field form with its defaults. */
export function checkPostgresSettings(value: unknown): Record<string, unknown> {
  const settings = record(value, 'settings');
  refuseUnknownKeys(settings, SETTINGS_KEYS, 'settings');
  if (settings.url !== undefined) {
    for (const key of ['host', 'port', 'database', 'user', 'ssl']) {
      if (settings[key] !== undefined) throw bad(`settings.url and settings.${key} both given: use one form`, `settings.${key}`);
    }
    const url = nonEmptyString(settings.url, 'settings.url');
    settingsOfUrl(url);
    return { url };
  }
  return { ...settingsOfFields(settings) };
}

function settingsOfFields(settings: Record<string, unknown>): PostgresSettings {
  if (settings.ssl !== undefined && typeof settings.ssl !== 'boolean') throw bad('settings.ssl must be true or false', 'settings.ssl');
  return {
    host: nonEmptyString(settings.host, 'settings.host'),
    port: settings.port === undefined ? DEFAULT_PORT : portOf(settings.port, 'settings.port'),
    database: nonEmptyString(settings.database, 'settings.database'),
    user: nonEmptyString(settings.user, 'settings.user'),
    ssl: settings.ssl === true,
  };
}

/** Settings as checkPostgresSettings returned them, as one shape. */
export function postgresSettingsOf(settings: Readonly<Record<string, unknown>>): PostgresSettings {
  return typeof settings.url === 'string' ? settingsOfUrl(settings.url) : settingsOfFields(settings);
}

/**
 * The client configuration: every option given here, none left to the library or to PG* environment
 * variables of the server process. Session settings (SESSION_SETTINGS) are set by a query after the
 * login, not as startup parameters, which connection poolers such as PgBouncer refuse.
 */
export function clientConfigOf(settings: PostgresSettings, secret: string | null): ClientConfig {
  return {
    host: settings.host,
    port: settings.port,
    database: settings.database,
    user: settings.user,
    // An empty password string makes the library send it; undefined would fall back to PGPASSWORD.
    password: secret ?? '',
    ssl: settings.ssl ? { rejectUnauthorized: true } : false,
    connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    application_name: 'arc-import',
  };
}

/**
 * Set once per session. The reads do not depend on the time zone (every conversion names UTC); it is
 * UTC so that text forms the server prints (a timestamp tag, a partition bound) carry +00, and the
 * date style is ISO so they read back in any session.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO',
  statement_timeout: String(PG_STATEMENT_TIMEOUT_MS),
};

function columnList(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) throw bad(`${field} must be an array of column names`, field);
  if (value.length > PG_JOB_COLUMNS_MAX) throw bad(`${field} names ${String(value.length)} columns, more than ${String(PG_JOB_COLUMNS_MAX)}`, field);
  return value.map((name, index) => nonEmptyString(name, `${field}[${String(index)}]`));
}

/** `schema.table` or `table`; a name with a dot of its own is written with double quotes: `"my.schema"."t"`. */
function splitTableName(text: string): { schema: string | null; table: string } {
  const part = String.raw`(?:"((?:[^"]|"")+)"|([^."]+))`;
  const match = new RegExp(`^${part}(?:\\.${part})?$`).exec(text);
  if (match === null) throw bad(`source.table '${text}' must be "table" or "schema.table"`, 'source.table');
  const first = match[1] === undefined ? match[2] : match[1].replace(/""/g, '"');
  const second = match[3] === undefined ? match[4] : match[3].replace(/""/g, '"');
  if (first === undefined) throw bad(`source.table '${text}' must be "table" or "schema.table"`, 'source.table');
  return second === undefined ? { schema: null, table: first } : { schema: first, table: second };
}

export function postgresJobSourceOf(source: Readonly<Record<string, unknown>>): PostgresJobSource {
  const tableText = nonEmptyString(source.table, 'source.table');
  const { schema, table } = splitTableName(tableText);
  const timeColumn = nonEmptyString(source.time_column, 'source.time_column');
  const timeUnit = source.time_unit === undefined ? null : source.time_unit;
  if (timeUnit !== null && !(TIME_UNITS as readonly unknown[]).includes(timeUnit)) throw bad(`source.time_unit must be one of ${TIME_UNITS.join(', ')}`, 'source.time_unit');
  const tagColumns = source.tag_columns === undefined ? [] : columnList(source.tag_columns, 'source.tag_columns');
  const fieldColumns = source.field_columns === undefined ? null : columnList(source.field_columns, 'source.field_columns');
  const measurement = source.measurement === undefined ? table : nonEmptyString(source.measurement, 'source.measurement');
  if (source.flatten_json !== undefined && typeof source.flatten_json !== 'boolean') throw bad('source.flatten_json must be true or false', 'source.flatten_json');
  const named = [timeColumn, ...tagColumns, ...(fieldColumns ?? [])];
  const repeated = named.find((name, index) => named.indexOf(name) !== index);
  if (repeated !== undefined) throw bad(`column '${repeated}' is named twice among time_column, tag_columns and field_columns`, 'source');
  if (fieldColumns !== null && fieldColumns.length === 0) throw bad('source.field_columns is empty: a row needs at least one field (leave it out for every other column)', 'source.field_columns');
  return { schema, table, timeColumn, timeUnit: timeUnit as TimeUnit | null, tagColumns, fieldColumns, measurement, flattenJson: source.flatten_json === true };
}

export function checkPostgresJobSource(value: unknown): Record<string, unknown> {
  const source = record(value, 'source');
  refuseUnknownKeys(source, SOURCE_KEYS, 'source');
  const checked = postgresJobSourceOf(source);
  const normalised: Record<string, unknown> = {
    table: source.table,
    time_column: checked.timeColumn,
    tag_columns: checked.tagColumns,
    measurement: checked.measurement,
    flatten_json: checked.flattenJson,
  };
  if (checked.timeUnit !== null) normalised.time_unit = checked.timeUnit;
  if (checked.fieldColumns !== null) normalised.field_columns = checked.fieldColumns;
  return normalised;
}
