import { escapeKey, escapeMeasurement, quoteIdentifier, quoteLiteral } from '@arc/columnar';

/**
 * The SQL that turns the rows of a CSV or Parquet file into line protocol, one line per row, run by
 * DuckDB in an import's reading thread (import-worker.ts): DuckDB reads and types the file, the
 * decoders then take the lines as they take any line protocol write. Pure text building, no I/O.
 */

/** Arc Go's `time_format` values ('' = detect), plus `rfc3339` (a timestamp string). */
export const TIME_FORMATS = ['', 'epoch_s', 'epoch_ms', 'epoch_us', 'epoch_ns', 'rfc3339'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

export interface ImportShape {
  readonly measurement: string;
  readonly timeColumn: string;
  readonly timeFormat: TimeFormat;
  readonly tagColumns: readonly string[];
}

/** A column of the file as DuckDB's DESCRIBE names it. */
export interface SourceColumn {
  readonly name: string;
  readonly type: string;
}

const NANOS_PER_UNIT: Readonly<Record<Exclude<TimeFormat, '' | 'rfc3339'>, string>> = {
  epoch_s: '1000000000',
  epoch_ms: '1000000',
  epoch_us: '1000',
  epoch_ns: '1',
};

const INTEGER_TYPES = new Set(['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);
const FLOAT_TYPES = new Set(['FLOAT', 'DOUBLE']);
const TIMESTAMP_TYPES = new Set(['TIMESTAMP', 'TIMESTAMP WITH TIME ZONE', 'TIMESTAMP_S', 'TIMESTAMP_MS', 'TIMESTAMP_NS', 'DATE']);
/** Stored as strings (their text form): times that are no row's time, UUIDs. */
const TEXT_TYPES = new Set(['VARCHAR', 'UUID', 'TIME', 'TIME WITH TIME ZONE', 'INTERVAL', ...TIMESTAMP_TYPES]);

function isDecimal(type: string): boolean {
  return type.startsWith('DECIMAL');
}

/** The column's type as a field: 'integer' | 'float' | 'boolean' | 'text', or null (a type Arc cannot store). */
export function fieldKind(type: string): 'integer' | 'float' | 'boolean' | 'text' | null {
  if (INTEGER_TYPES.has(type)) return 'integer';
  if (FLOAT_TYPES.has(type) || isDecimal(type)) return 'float';
  if (type === 'BOOLEAN') return 'boolean';
  if (TEXT_TYPES.has(type)) return 'text';
  return null;
}

/** `key=value` of a field, NULL when the value is (concat_ws then leaves it out). */
function fieldSql(column: SourceColumn): string {
  const value = quoteIdentifier(column.name);
  const key = quoteLiteral(`${escapeKey(column.name)}=`);
  switch (fieldKind(column.type)) {
    case 'integer':
      return `${key} || CAST(${value} AS VARCHAR) || 'i'`;
    case 'float':
      // NaN and infinities have no line protocol spelling: such a value is left out like a NULL.
      return `CASE WHEN isfinite(CAST(${value} AS DOUBLE)) THEN ${key} || CAST(CAST(${value} AS DOUBLE) AS VARCHAR) END`;
    case 'boolean':
      return `${key} || CASE WHEN ${value} THEN 't' ELSE 'f' END`;
    default:
      return `${key} || '"' || replace(replace(CAST(${value} AS VARCHAR), '\\', '\\\\'), '"', '\\"') || '"'`;
  }
}

/** `,key=value` of a tag, '' when the value is NULL or empty (a tag without value is no tag). */
function tagSql(name: string): string {
  const text = `CAST(${quoteIdentifier(name)} AS VARCHAR)`;
  return `CASE WHEN coalesce(${text}, '') = '' THEN '' ELSE ${quoteLiteral(`,${escapeKey(name)}=`)} || regexp_replace(${text}, '([\\\\,= ])', '\\\\\\1', 'g') END`;
}

/** Nanoseconds since the epoch from a number in `format` (or, detected, from its magnitude as Arc Go does). */
function epochNanosSql(number: string, format: TimeFormat, integral: boolean): string {
  const scaled = (nanos: string): string => (integral ? `try_cast(CAST(${number} AS HUGEINT) * ${nanos} AS BIGINT)` : `try_cast(round(CAST(${number} AS DOUBLE) * ${nanos}) AS BIGINT)`);
  if (format !== '' && format !== 'rfc3339') return scaled(NANOS_PER_UNIT[format]);
  const magnitude = `abs(CAST(${number} AS DOUBLE))`;
  return `CASE WHEN ${magnitude} < 1e10 THEN ${scaled('1000000000')} WHEN ${magnitude} < 1e13 THEN ${scaled('1000000')} WHEN ${magnitude} < 1e16 THEN ${scaled('1000')} ELSE ${scaled('1')} END`;
}

/** Nanoseconds since the epoch of the time column, NULL where the value is no time. */
export function timeNanosSql(column: SourceColumn, format: TimeFormat): string {
  const value = quoteIdentifier(column.name);
  if (TIMESTAMP_TYPES.has(column.type)) return `epoch_ns(CAST(${value} AS TIMESTAMP))`;
  if (INTEGER_TYPES.has(column.type)) return epochNanosSql(value, format, true);
  if (FLOAT_TYPES.has(column.type) || isDecimal(column.type)) return epochNanosSql(value, format, false);
  const text = `trim(CAST(${value} AS VARCHAR))`;
  const asTimestamp = `epoch_ns(CAST(try_cast(${text} AS TIMESTAMPTZ) AS TIMESTAMP))`;
  if (format === 'rfc3339') return asTimestamp;
  const integral = `coalesce(${epochNanosSql(`try_cast(${text} AS HUGEINT)`, format, true)}, ${epochNanosSql(`try_cast(${text} AS DOUBLE)`, format, false)})`;
  return format === '' ? `CASE WHEN try_cast(${text} AS DOUBLE) IS NOT NULL THEN ${integral} ELSE ${asTimestamp} END` : integral;
}

/**
 * `SELECT line, bad_time FROM source`: `line` is the row's line protocol (NULL when its time is
 * not one), `bad_time` the time value's text on such rows. Rows keep the file's order.
 */
export function linesSql(source: string, columns: readonly SourceColumn[], shape: ImportShape): string {
  const timeColumn = columns.find((column) => column.name === shape.timeColumn);
  if (timeColumn === undefined) throw new Error('the time column is checked before');
  const tags = new Set(shape.tagColumns);
  const tagText = shape.tagColumns.map(tagSql).join(' || ');
  const fields = columns.filter((column) => column.name !== shape.timeColumn && !tags.has(column.name)).map(fieldSql);
  const nanos = timeNanosSql(timeColumn, shape.timeFormat);
  const head = quoteLiteral(escapeMeasurement(shape.measurement)) + (tagText === '' ? '' : ` || ${tagText}`);
  const fieldText = fields.length === 0 ? "''" : `concat_ws(',', ${fields.join(', ')})`;
  return [
    `SELECT CASE WHEN __nanos IS NULL THEN NULL ELSE ${head} || ' ' || ${fieldText} || ' ' || CAST(__nanos AS VARCHAR) END AS line,`,
    `  CASE WHEN __nanos IS NULL THEN coalesce(CAST(${quoteIdentifier(shape.timeColumn)} AS VARCHAR), 'NULL') END AS bad_time`,
    `FROM (SELECT *, ${nanos} AS __nanos FROM ${source})`,
  ].join('\n');
}

/** DuckDB's table function for the spooled file. */
export function sourceSql(path: string, format: 'csv' | 'parquet', csv: { readonly delimiter: string; readonly skipRows: number }): string {
  if (format === 'parquet') return `read_parquet(${quoteLiteral(path)})`;
  return `read_csv(${quoteLiteral(path)}, header = true, auto_detect = true, delim = ${quoteLiteral(csv.delimiter)}, skip = ${String(csv.skipRows)})`;
}

/** A column of a stored measurement as `DESCRIBE` answers it (`extra`: time, tag or field). */
export interface MeasurementColumn extends SourceColumn {
  readonly extra: string;
}

/**
 * The SQL `arc export --format lp` runs through the query API: a measurement's rows (those `where`
 * keeps; '' for all) as line protocol, one `line` per row, tags and field types from its schema.
 */
export function measurementLinesSql(measurement: string, columns: readonly MeasurementColumn[], where: string): string {
  const source = `(SELECT * FROM ${quoteIdentifier(measurement)}${where === '' ? '' : ` WHERE ${where}`})`;
  const tagColumns = columns.filter((column) => column.extra === 'tag').map((column) => column.name);
  return `SELECT line FROM (${linesSql(source, columns, { measurement, timeColumn: 'time', timeFormat: '', tagColumns })}) WHERE line IS NOT NULL`;
}
