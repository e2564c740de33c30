import assert from 'node:assert/strict';
import { quoteLiteral, quoteIdentifier, TIME_COLUMN } from '@arc/columnar';
import { SUBQUERY_ROWS_MAX } from './limits.js';
import type { FieldType, MeasurementSchema } from './schema.js';
import type { Cell, Series } from './series.js';
import { StatementFailure } from './sql-text.js';
import { NANOS_PER_MICRO, floorDiv } from './time-values.js';

/**
 * A subquery's answer as a table the outer SELECT reads like a measurement: its GROUP BY tags are
 * the tags, its output columns the fields, its times the points' times. The inner answer is
 * computed first (fill and transformations included, as InfluxDB feeds the outer query), then
 * handed to DuckDB as VALUES; SUBQUERY_ROWS_MAX bounds that text.
 */
export interface SubqueryTable {
  readonly schema: MeasurementSchema;
  readonly fromSql: string;
}

const SQL_TYPES: Readonly<Record<FieldType, string>> = { float: 'DOUBLE', integer: 'BIGINT', string: 'VARCHAR', boolean: 'BOOLEAN' };

/** The InfluxDB type of a column of the answer: integer only when every value is a whole number. */
function columnType(cells: readonly Cell[]): FieldType {
  if (cells.some((cell) => typeof cell === 'string')) return 'string';
  if (cells.some((cell) => typeof cell === 'boolean')) return 'boolean';
  return cells.every((cell) => cell === null || typeof cell === 'bigint' || Number.isInteger(cell)) ? 'integer' : 'float';
}

function literal(cell: Cell): string {
  if (cell === null) return 'NULL';
  if (typeof cell === 'string') return quoteLiteral(cell);
  if (typeof cell === 'boolean') return cell ? 'TRUE' : 'FALSE';
  if (typeof cell === 'bigint') return cell.toString();
  return Number.isFinite(cell) ? String(cell) : 'NULL';
}

/** The table of a subquery's series; null when it answered nothing. */
export function subqueryTable(series: readonly Series[]): SubqueryTable | null {
  const first = series[0];
  if (first === undefined) return null;
  const name = first.name;
  // A subquery is a SELECT, whose series are named by their measurement and share its columns.
  assert.ok(name !== null, 'a SELECT names its series');
  if (series.some((one) => one.name !== name)) throw new StatementFailure('a subquery over several measurements is not supported');
  for (const one of series) assert.deepEqual(one.columns, first.columns, 'the series of a SELECT have the same columns');
  const tags = [...new Set(series.flatMap((one) => Object.keys(one.tags ?? {})))].sort();
  const fieldNames = first.columns.slice(1);
  const rowCount = series.reduce((total, one) => total + one.values.length, 0);
  if (rowCount > SUBQUERY_ROWS_MAX) throw new StatementFailure(`the subquery answers more than ${String(SUBQUERY_ROWS_MAX)} points; narrow its time range or GROUP BY time()`);
  // Each row holds a cell per column (Series): `row[index + 1]` is the field's cell, after the time.
  const types = fieldNames.map((_, index) => columnType(series.flatMap((one) => one.values.map((row) => row[index + 1] as Cell))));
  // InfluxDB feeds the outer query the inner points merged in time order (series in order at
  // equal times); listed so, DuckDB's sums add them in the same order (same last digit).
  const points = series.flatMap((one, order) => one.values.map((row) => ({ one, order, row, nanos: typeof row[0] === 'bigint' ? row[0] : BigInt(Number(row[0])) })));
  points.sort((left, right) => (left.nanos < right.nanos ? -1 : left.nanos > right.nanos ? 1 : left.order - right.order));
  const rows = points.map(({ one, row, nanos }) => {
    const tagValues = tags.map((tag) => literal(one.tags?.[tag] ?? null));
    return `(${[...tagValues, floorDiv(nanos, NANOS_PER_MICRO).toString(), ...fieldNames.map((_, index) => literal(row[index + 1] as Cell))].join(', ')})`;
  });
  const columns = tags.map((tag, index) => `CAST(v${String(index)} AS VARCHAR) AS ${quoteIdentifier(tag)}`);
  columns.push(`make_timestamp(CAST(v${String(tags.length)} AS BIGINT)) AS ${quoteIdentifier(TIME_COLUMN)}`);
  // `types` has one entry per field name (mapped from them above).
  fieldNames.forEach((field, index) => columns.push(`CAST(v${String(tags.length + 1 + index)} AS ${SQL_TYPES[types[index] as FieldType]}) AS ${quoteIdentifier(field)}`));
  const aliases = Array.from({ length: tags.length + 1 + fieldNames.length }, (_, index) => `v${String(index)}`);
  const fromSql = `(SELECT ${columns.join(', ')} FROM (VALUES ${rows.join(', ')}) AS subquery(${aliases.join(', ')}))`;
  const fields = new Map<string, FieldType>(fieldNames.map((field, index) => [field, types[index] as FieldType]));
  // A subquery's answer holds no unsigned column: its values come back as JSON numbers.
  return { schema: { name, tags, fields, unsignedFields: new Set<string>() }, fromSql };
}
