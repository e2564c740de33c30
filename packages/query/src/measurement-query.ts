import { badRequest } from '@arc/errors';
import { QueryErrorCode } from './error-codes.js';
import { quoteIdentifier, quoteLiteral } from './sql-text.js';
import type { ColumnSpec } from './time-pruning.js';
import type { MeasurementQuery } from './task-messages.js';

function unknownColumn(parameter: string, column: string, known: readonly ColumnSpec[]): Error {
  return badRequest(
    QueryErrorCode.unknownColumn,
    `Unknown column '${column}' in ${parameter}; the measurement has: ${known.map((spec) => spec.name).join(', ')}`,
    { parameter, column },
  );
}

/** The measurement's own spelling of a requested column (DuckDB names are case-insensitive). */
function knownColumn(parameter: string, column: string, known: readonly ColumnSpec[]): string {
  const match = known.find((spec) => spec.name.toLowerCase() === column.toLowerCase());
  if (match === undefined) throw unknownColumn(parameter, column, known);
  return match.name;
}

/**
 * The SQL of a `GET /query/{measurement}` read. Every name in it is one of the measurement's
 * columns (checked against `columns`, then quoted) and every value a quoted literal, so request
 * parameters cannot inject SQL. With `columns` null, the plain `SELECT *` used to resolve the
 * measurement and check access before its columns are known.
 */
export function measurementSql(database: string, query: MeasurementQuery, columns: readonly ColumnSpec[] | null): string {
  const table = `${quoteIdentifier(database)}.${quoteIdentifier(query.measurement)}`;
  if (columns === null) return `SELECT * FROM ${table}`;
  const selected = query.columns.length === 0 ? '*' : query.columns.map((column) => quoteIdentifier(knownColumn('columns', column, columns))).join(', ');
  const orderBy = quoteIdentifier(knownColumn('order_by', query.orderBy, columns));
  const conditions: string[] = [];
  if (query.startTime !== null) conditions.push(`time >= ${quoteLiteral(query.startTime)}::TIMESTAMPTZ`);
  if (query.endTime !== null) conditions.push(`time < ${quoteLiteral(query.endTime)}::TIMESTAMPTZ`);
  const where = conditions.length === 0 ? '' : ` WHERE ${conditions.join(' AND ')}`;
  const direction = query.descending ? 'DESC' : 'ASC';
  return `SELECT ${selected} FROM ${table}${where} ORDER BY ${orderBy} ${direction} LIMIT ${String(query.limit)} OFFSET ${String(query.offset)}`;
}
