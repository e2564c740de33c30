import { ArcError, ErrorKind } from '@arc/errors';
import type { ClientBase } from 'pg';
import type { FieldValue } from './line-protocol.js';
import { PostgresErrorCode } from './postgres-error-codes.js';
import type { PostgresJobSource, TimeUnit } from './postgres-settings.js';

/**
 * How a job's table and columns are found in the catalog, and how each PostgreSQL type becomes an
 * Arc value. Every column is selected as text (the server's exact spelling) and parsed here, so no
 * value passes through a lossy default parser (timestamps as JS Dates keep only milliseconds, bigint
 * as a JS number loses digits past 2^53). docs/import-postgres.md has the mapping as a table.
 */

/** What a field column becomes. */
type FieldKind = 'integer' | 'float' | 'boolean' | 'string' | 'timestamptz' | 'timestamp' | 'date' | 'json';

/** The time column's values in integer units: microseconds for timestamps and dates, the job's time_unit for numbers. */
export interface TimeColumn {
  readonly name: string;
  /** What a bound is cast to in SQL: the column compares with it without a cast of its own (indexes stay usable). */
  readonly boundType: 'timestamptz' | 'timestamp' | 'int8';
  readonly unitNs: bigint;
  /** The column's type as format_type spells it (partition bounds are read with a cast to it). */
  readonly typeText: string;
  readonly attnum: number;
}

export interface FieldColumn {
  readonly name: string;
  readonly kind: FieldKind;
}

export interface TableColumns {
  readonly oid: string;
  readonly schema: string;
  readonly table: string;
  readonly relkind: string;
  readonly time: TimeColumn;
  readonly tags: readonly string[];
  readonly fields: readonly FieldColumn[];
}

interface CatalogColumn {
  readonly name: string;
  readonly attnum: number;
  readonly typeText: string;
  /** The type's name after domains are resolved to their base type (typname). */
  readonly baseType: string;
  /** pg_type.typtype of the base type: 'e' enum, 'b' base, 'c' composite, 'r' range, ... */
  readonly baseKind: string;
  /** pg_type.typcategory of the base type: 'A' marks arrays. */
  readonly category: string;
}

const FIELD_KIND_OF_TYPE: Readonly<Record<string, FieldKind>> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'integer',
  float4: 'float',
  float8: 'float',
  numeric: 'float',
  bool: 'boolean',
  text: 'string',
  varchar: 'string',
  bpchar: 'string',
  name: 'string',
  uuid: 'string',
  inet: 'string',
  cidr: 'string',
  macaddr: 'string',
  citext: 'string',
  timestamptz: 'timestamptz',
  timestamp: 'timestamp',
  date: 'date',
  json: 'json',
  jsonb: 'json',
};

const UNIT_NS: Readonly<Record<TimeUnit, bigint>> = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n };

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function badTable(message: string, column?: string): ArcError {
  return new ArcError(ErrorKind.badRequest, PostgresErrorCode.badTable, message, column === undefined ? undefined : { column });
}

/** The job's table (a table, partitioned table, view, materialized view or foreign table) and its columns, checked against the job. */
export async function tableColumnsOf(client: ClientBase, source: PostgresJobSource): Promise<TableColumns> {
  const found = await client.query<{ oid: string; relkind: string; schema: string }>(
    `SELECT c.oid::int8::text AS oid, c.relkind::text AS relkind, n.nspname AS schema
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relname = $2 AND n.nspname = coalesce($1, current_schema()) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
    [source.schema, source.table],
  );
  const relation = found.rows[0];
  if (relation === undefined) {
    const where = source.schema === null ? 'in the current schema (search_path)' : `in schema '${source.schema}'`;
    throw badTable(`table '${source.table}' not found ${where}`);
  }
  const catalog = await client.query<CatalogColumn>(
    `SELECT a.attname AS name, a.attnum::int AS attnum, format_type(a.atttypid, a.atttypmod) AS "typeText",
            bt.typname::text AS "baseType", bt.typtype::text AS "baseKind", bt.typcategory::text AS category
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = $1::int8::oid AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [relation.oid],
  );
  const byName = new Map(catalog.rows.map((column) => [column.name, column]));
  const qualified = `${relation.schema}.${source.table}`;
  const column = (name: string, role: string): CatalogColumn => {
    const found = byName.get(name);
    if (found === undefined) throw badTable(`${role} '${name}' is not a column of ${qualified} (columns: ${catalog.rows.map((c) => c.name).join(', ')})`, name);
    return found;
  };
  const time = timeColumnOf(column(source.timeColumn, 'time_column'), source.timeUnit);
  const tags = source.tagColumns.map((name) => column(name, 'tag column').name);
  const taken = new Set([source.timeColumn, ...source.tagColumns]);
  const fieldNames = source.fieldColumns ?? catalog.rows.map((c) => c.name).filter((name) => !taken.has(name));
  if (fieldNames.length === 0) throw badTable(`${qualified} has no column left for fields after the time and tag columns`);
  const fields = fieldNames.map((name) => fieldColumnOf(column(name, 'field column'), source.flattenJson, source.fieldColumns === null));
  return { oid: relation.oid, schema: relation.schema, table: source.table, relkind: relation.relkind, time, tags, fields };
}

function timeColumnOf(column: CatalogColumn, timeUnit: TimeUnit | null): TimeColumn {
  const base = { name: column.name, typeText: column.typeText, attnum: column.attnum };
  switch (column.baseType) {
    case 'timestamptz':
      return { ...base, boundType: 'timestamptz', unitNs: 1_000n };
    case 'timestamp':
    case 'date':
      return { ...base, boundType: 'timestamp', unitNs: 1_000n };
    case 'int2':
    case 'int4':
    case 'int8':
      if (timeUnit === null) {
        throw badTable(`time_column '${column.name}' is ${column.typeText}: say what its numbers count with source.time_unit (s, ms, us or ns since the epoch)`, column.name);
      }
      return { ...base, boundType: 'int8', unitNs: UNIT_NS[timeUnit] };
    default:
      throw badTable(`time_column '${column.name}' is ${column.typeText}: a time column must be timestamp, timestamptz, date, or an integer with source.time_unit`, column.name);
  }
}

function fieldColumnOf(column: CatalogColumn, flattenJson: boolean, defaulted: boolean): FieldColumn {
  const kind = column.category === 'A' ? undefined : column.baseKind === 'e' ? 'string' : FIELD_KIND_OF_TYPE[column.baseType];
  const leaveOut = defaulted ? ' (or list the columns to import in source.field_columns)' : '';
  if (kind === undefined) {
    throw badTable(`column '${column.name}' is ${column.typeText}, which has no Arc type: leave it out of the fields${leaveOut}, or import a view that casts it`, column.name);
  }
  if (kind === 'json' && !flattenJson) {
    throw badTable(`column '${column.name}' is ${column.typeText}: set source.flatten_json to store its top-level keys as fields '${column.name}.<key>', or leave it out${leaveOut}`, column.name);
  }
  return { name: column.name, kind };
}

const RFC3339_MICROS = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** The SELECT expression of a field: text in every case, timestamps spelled as RFC 3339 in UTC. */
function fieldSql(field: FieldColumn): string {
  const q = quoteIdent(field.name);
  switch (field.kind) {
    case 'timestamptz':
      // `AT TIME ZONE 'UTC'` turns a timestamptz into its UTC wall time, whatever the session's time zone.
      return `CASE WHEN isfinite(${q}) THEN to_char(${q} AT TIME ZONE 'UTC', '${RFC3339_MICROS}') ELSE ${q}::text END`;
    case 'timestamp':
      // A timestamp without zone is taken as UTC as it is (a cast to timestamptz would read it in the session's zone).
      return `CASE WHEN isfinite(${q}) THEN to_char(${q}, '${RFC3339_MICROS}') ELSE ${q}::text END`;
    case 'date':
      return `CASE WHEN isfinite(${q}) THEN to_char(${q}, 'YYYY-MM-DD') ELSE ${q}::text END`;
    default:
      return `${q}::text`;
  }
}

/**
 * The time column in its integer units, as text: microseconds since the epoch for timestamps
 * (extract(epoch) is numeric, exact, since PostgreSQL 14; before, a double whose error stays under
 * half a microsecond for years 1 to 9999, so the rounding cast is still exact), the number itself for
 * integer columns.
 */
export function timeUnitsSql(time: TimeColumn, expression: string): string {
  return time.boundType === 'int8' ? `(${expression})::int8::text` : `round(extract(epoch from ${expression}) * 1000000)::int8::text`;
}

/** Rows whose time can be read: NULL and infinite times have no place on a time line and are never selected. */
export function timeUsableSql(time: TimeColumn): string {
  const q = quoteIdent(time.name);
  return time.boundType === 'int8' ? `${q} IS NOT NULL` : `isfinite(${q})`;
}

/** The select list: time units first, then tags, then fields. */
export function selectListSql(columns: TableColumns): string {
  const parts = [timeUnitsSql(columns.time, quoteIdent(columns.time.name))];
  for (const tag of columns.tags) parts.push(`${quoteIdent(tag)}::text`);
  for (const field of columns.fields) parts.push(fieldSql(field));
  // Output names of their own: a bare output named like the time column would be what ORDER BY sorts (text order).
  return parts.map((part, index) => `${part} AS c${String(index)}`).join(', ');
}

/** Appends a field's value to `out`, or nothing for NULL; `text` is what fieldSql selected. */
export function appendField(out: (readonly [string, FieldValue])[], field: FieldColumn, text: string | null): void {
  if (text === null) return;
  switch (field.kind) {
    case 'integer':
      out.push([field.name, { kind: 'integer', value: BigInt(text) }]);
      return;
    case 'float':
      // NaN and infinities parse too; line protocol has no spelling for them, so they are left out like NULLs.
      out.push([field.name, { kind: 'float', value: Number(text) }]);
      return;
    case 'boolean':
      out.push([field.name, { kind: 'boolean', value: text === 'true' }]);
      return;
    case 'string':
    case 'timestamptz':
    case 'timestamp':
    case 'date':
      out.push([field.name, { kind: 'string', value: text }]);
      return;
    case 'json':
      appendJson(out, field.name, JSON.parse(text) as unknown);
      return;
  }
}

/** A JSON object's top-level keys become fields `column.key`; any other JSON value is stored under the column's own name. */
function appendJson(out: (readonly [string, FieldValue])[], column: string, value: unknown): void {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    for (const [key, member] of Object.entries(value)) appendJsonValue(out, `${column}.${key}`, member);
    return;
  }
  appendJsonValue(out, column, value);
}

/** Numbers are floats (JSON has one number type), strings and booleans stay so, null is left out, arrays and objects are kept as JSON text. */
function appendJsonValue(out: (readonly [string, FieldValue])[], name: string, value: unknown): void {
  if (value === null) return;
  if (typeof value === 'number') out.push([name, { kind: 'float', value }]);
  else if (typeof value === 'string') out.push([name, { kind: 'string', value }]);
  else if (typeof value === 'boolean') out.push([name, { kind: 'boolean', value }]);
  else out.push([name, { kind: 'string', value: JSON.stringify(value) }]);
}
