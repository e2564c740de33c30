import { TIME_COLUMN, quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { ComparisonOperator, DeleteStatement, Expr } from './ast.js';
import type { CatalogReader } from './catalog-reader.js';
import type { ExecutionContext } from './executor.js';
import type { MeasurementSchema } from './schema.js';
import type { Series } from './series.js';
import { StatementFailure } from './sql-text.js';
import { describeExpr, evaluateTime } from './where-translator.js';

/**
 * Execution of DELETE, DROP SERIES and DROP MEASUREMENT with InfluxDB 1.6.7's rules and answers
 * (success is an empty result; errors are the statement's): tags take `= != < <= > >= =~ !~`,
 * AND, OR and parentheses; a tag a series lacks reads as '' (so `nosuchtag = 'x'` matches
 * nothing); a field anywhere in the WHERE clause is refused; DELETE's time conditions are pulled
 * out of the clause wherever they are and ANDed as one range (InfluxDB's reading, OR included);
 * DROP SERIES refuses time. Unknown measurements are not errors. The rows go through the
 * server's row delete (flush, count, rewrite), a whole measurement through its measurement delete.
 */

/** What the server does for these statements. */
export interface InfluxDeletes {
  /** Deletes the rows of a measurement where `whereSql` is TRUE; `range` (µs, inclusive) bounds the files read. */
  deleteRows(database: string, measurement: string, whereSql: string, range: { readonly minUs: number; readonly maxUs: number }): Promise<void>;
  /** Deletes a measurement: its files and its buffered rows. */
  dropMeasurement(database: string, measurement: string): Promise<void>;
}

/** InfluxDB prefixes it with `shard <id>: `; Arc has no shards. */
export const FIELDS_IN_DELETE = 'fields not supported in WHERE clause during deletion';
export const TIME_IN_DROP_SERIES = "DROP SERIES doesn't support time in WHERE clause";

const NANOS_PER_MICRO = 1000n;

interface NanoRange {
  lowerNanos: bigint | null;
  upperNanos: bigint | null;
}

function isTime(expr: Expr): boolean {
  return expr.kind === 'identifier' && expr.name.toLowerCase() === TIME_COLUMN;
}

function isTimeComparison(expr: Expr): boolean {
  return expr.kind === 'binary' && expr.operator !== 'AND' && expr.operator !== 'OR' && (isTime(expr.left) || isTime(expr.right));
}

const MIRRORED: Readonly<Record<string, ComparisonOperator>> = { '=': '=', '!=': '!=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=~': '=~', '!~': '!~' };

/** Narrows `range` by every time comparison in the clause, under AND or OR alike (InfluxDB's reading). */
function collectTimeRange(expr: Expr, nowNanos: bigint, range: NanoRange): void {
  if (expr.kind !== 'binary') return;
  if (expr.operator === 'AND' || expr.operator === 'OR') {
    collectTimeRange(expr.left, nowNanos, range);
    collectTimeRange(expr.right, nowNanos, range);
    return;
  }
  if (!isTimeComparison(expr)) return;
  const operator = isTime(expr.left) ? expr.operator : MIRRORED[expr.operator];
  const nanos = evaluateTime(isTime(expr.left) ? expr.right : expr.left, nowNanos);
  if (operator === '>' || operator === '>=' || operator === '=') {
    const bound = operator === '>' ? nanos + 1n : nanos;
    if (range.lowerNanos === null || bound > range.lowerNanos) range.lowerNanos = bound;
  }
  if (operator === '<' || operator === '<=' || operator === '=') {
    const bound = operator === '<' ? nanos - 1n : nanos;
    if (range.upperNanos === null || bound < range.upperNanos) range.upperNanos = bound;
  }
}

/** The clause without its time comparisons (a binary node left with one side becomes that side). */
function withoutTime(expr: Expr | null): Expr | null {
  if (expr === null || isTimeComparison(expr)) return null;
  if (expr.kind !== 'binary' || (expr.operator !== 'AND' && expr.operator !== 'OR')) return expr;
  const left = withoutTime(expr.left);
  const right = withoutTime(expr.right);
  if (left === null || right === null) return left ?? right;
  return { ...expr, left, right };
}

function mentionsTime(expr: Expr | null): boolean {
  if (expr === null) return false;
  if (isTime(expr)) return true;
  return expr.kind === 'binary' && (mentionsTime(expr.left) || mentionsTime(expr.right));
}

/** Whether the clause names a field of the measurement. */
function mentionsField(expr: Expr | null, schema: MeasurementSchema): boolean {
  if (expr === null) return false;
  if (expr.kind === 'identifier') return schema.fields.has(expr.name);
  return expr.kind === 'binary' && (mentionsField(expr.left, schema) || mentionsField(expr.right, schema));
}

/** A tag's value as InfluxDB compares it: '' when the series has no such tag. */
function tagValueSql(name: string, schema: MeasurementSchema): string {
  return schema.tags.includes(name) ? `coalesce(${quoteIdentifier(name)}, '')` : "''";
}

const SQL_OPERATORS: Readonly<Record<string, string>> = { '=': '=', '!=': '<>', '<>': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

function comparisonSql(expr: Extract<Expr, { kind: 'binary' }>, schema: MeasurementSchema): string {
  const [tag, value, operator] = expr.left.kind === 'identifier' ? [expr.left, expr.right, expr.operator] : [expr.right, expr.left, MIRRORED[expr.operator] ?? expr.operator];
  if (tag.kind !== 'identifier') throw new StatementFailure(`unsupported expression in WHERE: ${describeExpr(expr)}`);
  const column = tagValueSql(tag.name, schema);
  if ((operator === '=~' || operator === '!~') && value.kind === 'regex') return `${operator === '!~' ? 'NOT ' : ''}regexp_matches(${column}, ${quoteLiteral(value.pattern)})`;
  const sqlOperator = SQL_OPERATORS[operator];
  // A tag compared with anything but a string (another identifier, a number) matches nothing, as in InfluxDB.
  if (sqlOperator === undefined || value.kind !== 'string') return 'FALSE';
  return `${column} ${sqlOperator} ${quoteLiteral(value.value)}`;
}

/** The SQL of a clause over tags only. */
export function tagConditionSql(expr: Expr, schema: MeasurementSchema): string {
  if (expr.kind !== 'binary') throw new StatementFailure(`unsupported expression in WHERE: ${describeExpr(expr)}`);
  if (expr.operator === 'AND' || expr.operator === 'OR') return `(${tagConditionSql(expr.left, schema)} ${expr.operator} ${tagConditionSql(expr.right, schema)})`;
  return comparisonSql(expr, schema);
}

function ceilDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return quotient * divisor < value ? quotient + 1n : quotient;
}

function floorDiv(value: bigint, divisor: bigint): bigint {
  const quotient = value / divisor;
  return quotient * divisor > value ? quotient - 1n : quotient;
}

/** The rows' SQL condition and the µs range of a DELETE on one measurement. */
function deleteCondition(tags: Expr | null, range: NanoRange, schema: MeasurementSchema): { whereSql: string; minUs: number; maxUs: number } {
  const parts = tags === null ? [] : [tagConditionSql(tags, schema)];
  const time = quoteIdentifier(TIME_COLUMN);
  let minUs = Number.NEGATIVE_INFINITY;
  let maxUs = Number.POSITIVE_INFINITY;
  if (range.lowerNanos !== null) {
    const micros = ceilDiv(range.lowerNanos, NANOS_PER_MICRO);
    parts.push(`${time} >= make_timestamp(${micros.toString()}::BIGINT)`);
    minUs = Number(micros);
  }
  if (range.upperNanos !== null) {
    const micros = floorDiv(range.upperNanos, NANOS_PER_MICRO);
    parts.push(`${time} <= make_timestamp(${micros.toString()}::BIGINT)`);
    maxUs = Number(micros);
  }
  return { whereSql: parts.length === 0 ? 'TRUE' : parts.join(' AND '), minUs, maxUs };
}

/** The measurements a DELETE / DROP SERIES names that exist, with their schemas. */
async function targetsOf(statement: Extract<DeleteStatement, { sources: unknown }>, catalog: CatalogReader, context: ExecutionContext, expand: ExpandSources): Promise<MeasurementSchema[]> {
  const names = statement.sources === null ? await catalog.measurements(context.database) : (await expand(statement.sources)).map((source) => source.measurement);
  const schemas: MeasurementSchema[] = [];
  for (const name of names) {
    const schema = await catalog.schema(context.database, name);
    if (schema !== null) schemas.push(schema);
  }
  return schemas;
}

export type ExpandSources = (sources: NonNullable<Extract<DeleteStatement, { sources: unknown }>['sources']>) => Promise<readonly { readonly measurement: string }[]>;

export async function executeDelete(statement: DeleteStatement, catalog: CatalogReader, context: ExecutionContext, expand: ExpandSources): Promise<Series[]> {
  const deletes = context.deletes;
  if (deletes === undefined) throw new StatementFailure('DELETE and DROP are not available on this endpoint');
  if (!(await catalog.databases()).includes(context.database)) throw new StatementFailure(`database not found: ${context.database}`);
  if (statement.kind === 'dropMeasurement') {
    if ((await catalog.measurements(context.database)).includes(statement.name)) await deletes.dropMeasurement(context.database, statement.name);
    return [];
  }
  if (statement.kind === 'dropSeries' && mentionsTime(statement.where)) throw new StatementFailure(TIME_IN_DROP_SERIES);
  const range: NanoRange = { lowerNanos: null, upperNanos: null };
  if (statement.where !== null) collectTimeRange(statement.where, context.nowNanos, range);
  const tags = withoutTime(statement.where);
  const schemas = await targetsOf(statement, catalog, context, expand);
  // Every measurement is checked before any is touched: a refused statement deletes nothing.
  if (schemas.some((schema) => mentionsField(tags, schema))) throw new StatementFailure(FIELDS_IN_DELETE);
  if (range.lowerNanos !== null && range.upperNanos !== null && range.lowerNanos > range.upperNanos) return [];
  for (const schema of schemas) {
    if (tags === null && range.lowerNanos === null && range.upperNanos === null) {
      await deletes.dropMeasurement(context.database, schema.name);
      continue;
    }
    const { whereSql, minUs, maxUs } = deleteCondition(tags, range, schema);
    await deletes.deleteRows(context.database, schema.name, whereSql, { minUs, maxUs });
  }
  return [];
}
