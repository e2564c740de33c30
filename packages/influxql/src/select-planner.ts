import { quoteIdentifier, TIME_COLUMN } from '@arc/columnar';
import type { Expr, FillOption, GroupByTime, SelectField, SelectStatement } from './ast.js';
import type { FieldType, MeasurementSchema } from './schema.js';
import { StatementFailure, sqlTable } from './sql-text.js';
import { NANOS_PER_MICRO, floorDiv, normalisedOffset } from './time-values.js';
import { zoneSegments, zonedBucketSql, zonedBucketStart } from './time-zones.js';
import { describeExpr, extractTimeRange, translateCondition, type TimeRange } from './where-translator.js';

/**
 * How a SELECT's rows become series: `raw` points, `aggregate` (one row per series), or
 * `bucketed` (one row per GROUP BY time() bucket, gaps filled in JS by fill()).
 */
export type SelectMode = 'raw' | 'aggregate' | 'bucketed';

export interface OutputColumn {
  readonly name: string;
  /** count(): InfluxDB fills its empty buckets with 0 under the default fill(null). */
  readonly isCount: boolean;
}

/**
 * One SELECT over one measurement, as SQL plus what the shaper needs. The SQL's columns are, in
 * order: the GROUP BY tags, `time` (µs, BIGINT) when `hasTime`, the value columns, and
 * `count(*)` when `hasRowCount` (an aggregate over no rows still yields one SQL row; InfluxDB
 * answers no series then).
 */
export interface SelectPlan {
  readonly measurement: string;
  readonly sql: string;
  readonly mode: SelectMode;
  readonly tagKeys: readonly string[];
  readonly columns: readonly OutputColumn[];
  readonly hasTime: boolean;
  readonly hasRowCount: boolean;
  readonly timeRange: TimeRange;
  readonly groupByTime: GroupByTime | null;
  readonly fill: FillOption;
  readonly descending: boolean;
  /** LIMIT / OFFSET per series, applied by the shaper unless `limitInSql`. */
  readonly limit: number | null;
  readonly offset: number;
  readonly limitInSql: boolean;
  readonly seriesLimit: number | null;
  readonly seriesOffset: number;
  readonly timeZone: string | null;
  /** The bucket start of a time (ns): InfluxDB's window, local under tz(). */
  readonly bucketOf: (nanos: bigint) => bigint;
}

const NUMERIC_FUNCTIONS: ReadonlySet<string> = new Set(['mean', 'median', 'sum', 'spread', 'stddev', 'percentile', 'max', 'min']);
const ANY_TYPE_FUNCTIONS: ReadonlySet<string> = new Set(['count', 'first', 'last', 'mode']);
const SELECTORS: ReadonlySet<string> = new Set(['max', 'min', 'first', 'last', 'percentile']);
export const SUPPORTED_FUNCTIONS =
  'mean, median, mode, sum, count, max, min, first, last, percentile, spread, stddev, top, bottom, derivative, non_negative_derivative, difference, non_negative_difference, moving_average, cumulative_sum, elapsed';

const TIME_MICROS_SQL = `epoch_us(${quoteIdentifier(TIME_COLUMN)})`;
/** Under tz() without a lower time bound, zone offsets are looked up this far back from now(). */
const ZONE_LOOKBACK_NANOS = 3_660n * 86_400_000_000_000n;

type CallExpr = Expr & { kind: 'call' };

interface PlannedField {
  readonly name: string;
  readonly sql: string;
  readonly isCount: boolean;
}

/** Builds state shared while the fields of one statement are planned. */
class FieldPlanner {
  readonly schema: MeasurementSchema;
  /** Columns whose non-NULL value makes a row count as a point (InfluxDB skips all-NULL rows). */
  readonly referencedFields = new Set<string>();
  readonly referencedTags = new Set<string>();

  constructor(schema: MeasurementSchema) {
    this.schema = schema;
  }

  column(name: string): string {
    if (this.schema.fields.has(name)) this.referencedFields.add(name);
    else if (this.schema.tags.includes(name)) this.referencedTags.add(name);
    else return 'NULL';
    return quoteIdentifier(name);
  }

  typeOf(name: string): FieldType | 'tag' | null {
    if (this.schema.tags.includes(name)) return 'tag';
    return this.schema.fields.get(name) ?? null;
  }

  /** Columns mode() reads; each gets per-value statistics as window columns (modeWindowsSql). */
  readonly modeColumns: string[] = [];

  modeStats(column: string): ModeStats {
    let index = this.modeColumns.indexOf(column);
    if (index < 0) index = this.modeColumns.push(column) - 1;
    return modeStatsNames(index);
  }
}

/** Window columns for mode(): a value's count, first and last time, and the largest count. */
interface ModeStats {
  readonly count: string;
  readonly first: string;
  readonly last: string;
  readonly top: string;
}

function modeStatsNames(index: number): ModeStats {
  const name = (what: string): string => quoteIdentifier(`__mode${String(index)}_${what}`);
  return { count: name('n'), first: name('tf'), last: name('tl'), top: name('c') };
}

/**
 * The rows `FROM` reads with mode()'s statistics added: per group (the series' tags and the
 * bucket) and value, its count and first and last time; per group, the largest count. Two
 * window passes, so mode() costs a sort, not a step per point.
 */
function modeWindowsSql(columns: readonly string[], groupKeys: readonly string[], rowsSql: string): string {
  const time = quoteIdentifier(TIME_COLUMN);
  const perValue = columns.flatMap((column, index) => {
    const stats = modeStatsNames(index);
    const window = `OVER (PARTITION BY ${[...groupKeys, column].join(', ')})`;
    return [`count(${column}) ${window} AS ${stats.count}`, `min(${time}) ${window} AS ${stats.first}`, `max(${time}) ${window} AS ${stats.last}`];
  });
  const group = groupKeys.length === 0 ? 'OVER ()' : `OVER (PARTITION BY ${groupKeys.join(', ')})`;
  const perGroup = columns.map((_, index) => `max(${modeStatsNames(index).count}) ${group} AS ${modeStatsNames(index).top}`);
  return `(SELECT *, ${perGroup.join(', ')} FROM (SELECT *, ${perValue.join(', ')} FROM ${rowsSql}))`;
}

function containsCall(expr: Expr): boolean {
  if (expr.kind === 'call') return true;
  if (expr.kind === 'binary') return containsCall(expr.left) || containsCall(expr.right);
  if (expr.kind === 'unary') return containsCall(expr.operand);
  return false;
}

/**
 * The column name InfluxDB gives an unaliased field: a call's name; for arithmetic, the names of
 * its fields and calls (not looking inside calls) joined by `_` (`used / total` -> `used_total`,
 * `mean(a) / mean(b)` -> `mean_mean`).
 */
export function derivedName(expr: Expr): string {
  const names: string[] = [];
  const visit = (node: Expr): void => {
    if (node.kind === 'call' || node.kind === 'identifier') names.push(node.name);
    else if (node.kind === 'binary') {
      visit(node.left);
      visit(node.right);
    } else if (node.kind === 'unary') visit(node.operand);
  };
  visit(expr);
  return names.join('_');
}

/** Arithmetic between fields, function results and numbers, the same in both modes. */
function arithmetic(expr: Expr, planner: FieldPlanner, leaf: (leafExpr: Expr) => string): string {
  if (expr.kind === 'binary' && ['+', '-', '*', '/', '%'].includes(expr.operator)) {
    return `(${arithmetic(expr.left, planner, leaf)} ${expr.operator} ${arithmetic(expr.right, planner, leaf)})`;
  }
  if (expr.kind === 'unary') return `(-${arithmetic(expr.operand, planner, leaf)})`;
  if (expr.kind === 'number') return expr.integer ? expr.text : `${expr.text}::DOUBLE`;
  return leaf(expr);
}

function rawLeaf(planner: FieldPlanner): (expr: Expr) => string {
  return (expr) => {
    if (expr.kind === 'identifier') return planner.column(expr.name);
    if (expr.kind === 'call') throw new StatementFailure('mixing aggregate and non-aggregate queries is not supported');
    throw new StatementFailure(`unsupported field in SELECT: ${describeExpr(expr)}`);
  };
}

/**
 * The selector of `SELECT max(v), host, other FROM m`: one max, min, first or last over a field,
 * with only plain names beside it, which then answer their values at the selected point (InfluxDB
 * allows this for selectors, not for aggregates such as mean). Null for any other field list.
 */
function loneSelector(fields: readonly SelectField[]): CallExpr | null {
  const calls = fields.filter((field) => field.expr.kind === 'call');
  const call = calls.length === 1 ? calls[0]?.expr : undefined;
  if (call?.kind !== 'call' || !SELECTORS.has(call.name) || call.args[0]?.kind !== 'identifier') return null;
  return fields.every((field) => field.expr.kind === 'call' || field.expr.kind === 'identifier') ? call : null;
}

/**
 * InfluxDB's percentile, nearest rank: the 1-based index floor(n * p / 100 + 0.5) into the
 * values sorted (equal values by time); `valueSql` taken at that point.
 */
function percentileSql(call: CallExpr, column: string, valueSql: string): string {
  const rank = call.args[1];
  const percent = rank?.kind === 'number' ? rank.text : '50';
  const index = `CAST(floor(count(${column}) * ${percent} / 100.0 + 0.5) AS BIGINT)`;
  const sorted = `list(${valueSql} ORDER BY ${column}, ${quoteIdentifier(TIME_COLUMN)}) FILTER (WHERE ${column} IS NOT NULL)`;
  return `CASE WHEN ${index} >= 1 THEN ${sorted}[${index}] END`;
}

/** `valueSql` taken at the point the selector picks. */
function atSelectedPoint(selector: CallExpr, valueSql: string): string {
  const argument = selector.args[0];
  const column = argument?.kind === 'identifier' ? quoteIdentifier(argument.name) : 'NULL';
  const time = quoteIdentifier(TIME_COLUMN);
  if (selector.name === 'percentile') return percentileSql(selector, column, valueSql);
  // The _null variants keep a NULL value of the selected point; plain arg_max skips such rows.
  switch (selector.name) {
    case 'max':
      return `arg_max_null(${valueSql}, ${column})`;
    case 'min':
      return `arg_min_null(${valueSql}, ${column})`;
    case 'first':
      return `arg_min_null(${valueSql}, ${time}) FILTER (WHERE ${column} IS NOT NULL)`;
    default:
      return `arg_max_null(${valueSql}, ${time}) FILTER (WHERE ${column} IS NOT NULL)`;
  }
}

function aggregateLeaf(planner: FieldPlanner, selector: CallExpr | null): (expr: Expr) => string {
  return (expr) => {
    if (expr.kind === 'call') {
      const argument = expr.args[0];
      if (argument?.kind !== 'identifier') throw new StatementFailure(`${expr.name}() takes a field name`);
      return aggregateSql(expr, argument.name, planner);
    }
    if (expr.kind === 'identifier' && selector !== null) return atSelectedPoint(selector, planner.column(expr.name));
    if (expr.kind === 'identifier') throw new StatementFailure('mixing aggregate and non-aggregate queries is not supported');
    throw new StatementFailure(`unsupported field in SELECT: ${describeExpr(expr)}`);
  };
}

function checkCall(call: CallExpr): void {
  if (!NUMERIC_FUNCTIONS.has(call.name) && !ANY_TYPE_FUNCTIONS.has(call.name)) {
    throw new StatementFailure(`unsupported function: ${call.name}() (Arc supports ${SUPPORTED_FUNCTIONS})`);
  }
  const expected = call.name === 'percentile' ? 2 : 1;
  if (call.args.length !== expected) {
    throw new StatementFailure(`invalid number of arguments for ${call.name}, expected ${String(expected)}, got ${String(call.args.length)}`);
  }
  const argument = call.args[0];
  if (argument?.kind !== 'identifier' && argument?.kind !== 'star') {
    throw new StatementFailure(`${call.name}() takes a field name or *; nested functions and expressions are not supported`);
  }
  const rank = call.args[1];
  if (call.name === 'percentile' && (rank?.kind !== 'number' || rank.value < 0 || rank.value > 100)) {
    throw new StatementFailure('percentile() takes a number from 0 to 100 as its second argument');
  }
}

/** The DuckDB aggregate computing InfluxDB's function over one column. */
function aggregateSql(call: CallExpr, name: string, planner: FieldPlanner): string {
  checkCall(call);
  const type = planner.typeOf(name);
  if (NUMERIC_FUNCTIONS.has(call.name) && type !== null && type !== 'float' && type !== 'integer') {
    throw new StatementFailure(`${call.name}() takes a numeric field; ${name} is ${type === 'tag' ? 'a tag' : `a ${type} field`}`);
  }
  const column = type === null ? 'NULL::DOUBLE' : planner.column(name);
  const time = quoteIdentifier(TIME_COLUMN);
  const nonNull = `FILTER (WHERE ${column} IS NOT NULL)`;
  switch (call.name) {
    case 'mean':
      return `avg(${column})`;
    case 'sum':
      return type === 'integer' ? `CAST(sum(${column}) AS BIGINT)` : `sum(${column})`;
    case 'spread':
      return `(max(${column}) - min(${column}))`;
    case 'stddev':
      // InfluxDB's running mean then summed squares can differ from DuckDB's in the last digits
      // (docs/influxql.md); an exact replay in SQL costs 100 times more.
      return `stddev_samp(${column})`;
    case 'first':
      return `arg_min(${column}, ${time}) ${nonNull}`;
    case 'last':
      return `arg_max(${column}, ${time}) ${nonNull}`;
    case 'mode':
      // InfluxDB reads only fields in functions: a tag's mode is null.
      return type === 'tag' || type === null ? 'NULL' : modeSql(column, planner.modeStats(column));
    case 'percentile':
      return percentileSql(call, column, column);
    default:
      return `${call.name}(${column})`;
  }
}

/**
 * InfluxDB 1.6's mode. Its scan reads the points sorted by value (equal values in time order);
 * a value's run replaces the mode when longer, or as long and its first point is not later than
 * the mode's last. So: with no repeated value, the smallest value; else, among the values with
 * the largest count in value order, each replaces the previous when its first time is not after
 * the previous one's last time.
 */
function modeSql(column: string, stats: ModeStats): string {
  const tied = `list_sort(list(DISTINCT {'v': ${column}, 'tf': ${stats.first}, 'tl': ${stats.last}}) FILTER (WHERE ${column} IS NOT NULL AND ${stats.count} = ${stats.top}))`;
  const chain = `list_reduce(${tied}, lambda a, g: CASE WHEN g.tf <= a.tl THEN g ELSE a END).v`;
  return `CASE WHEN coalesce(max(${stats.top}), 0) = 0 THEN NULL WHEN max(${stats.top}) = 1 THEN min(${column}) ELSE ${chain} END`;
}

/** `fn(*)`: one column per field the function takes, named `fn_field`. */
function expandStarCall(call: CallExpr, planner: FieldPlanner): PlannedField[] {
  checkCall(call);
  const planned: PlannedField[] = [];
  for (const [field, type] of planner.schema.fields) {
    if (NUMERIC_FUNCTIONS.has(call.name) && type !== 'float' && type !== 'integer') continue;
    const fieldCall = { ...call, args: [{ kind: 'identifier', name: field, offset: call.offset } as const, ...call.args.slice(1)] };
    planned.push({ name: `${call.name}_${field}`, sql: aggregateSql(fieldCall, field, planner), isCount: call.name === 'count' });
  }
  return planned;
}

function planFields(fields: readonly SelectField[], planner: FieldPlanner, aggregate: boolean, excludedTags: ReadonlySet<string>): PlannedField[] {
  const planned: PlannedField[] = [];
  const selector = aggregate ? loneSelector(fields.filter((field) => !isTimeField(field))) : null;
  for (const { expr, alias } of fields) {
    if (isTimeField({ expr, alias })) continue;
    if (expr.kind === 'star' && !aggregate) {
      const names = [...planner.schema.tags.filter((tag) => !excludedTags.has(tag)), ...planner.schema.fields.keys()].sort();
      for (const name of names) planned.push({ name, sql: planner.column(name), isCount: false });
    } else if (expr.kind === 'call' && expr.args[0]?.kind === 'star') {
      planned.push(...expandStarCall(expr, planner));
    } else if (expr.kind === 'star') {
      throw new StatementFailure('mixing aggregate and non-aggregate queries is not supported');
    } else {
      const sql = arithmetic(expr, planner, aggregate ? aggregateLeaf(planner, selector) : rawLeaf(planner));
      planned.push({ name: alias ?? derivedName(expr), sql, isCount: expr.kind === 'call' && expr.name === 'count' });
    }
  }
  if (planned.length === 0) throw new StatementFailure('at least 1 non-time field must be queried');
  return planned;
}

/** InfluxDB's de-duplication of output names: `mean`, `mean_1`, `mean_2`. */
export function uniqueNames<T extends { readonly name: string }>(fields: readonly T[]): T[] {
  const seen = new Map<string, number>();
  return fields.map((field) => {
    // A name not seen yet has been used 0 times.
    const count = seen.get(field.name) ?? 0;
    seen.set(field.name, count + 1);
    return count === 0 ? field : { ...field, name: `${field.name}_${String(count)}` };
  });
}

/**
 * The bucket start of a time, in SQL (µs) and in JS (ns), for a statement's GROUP BY time() and
 * tz(). Zone offsets are looked up over the query's time range (else the last ten years).
 */
export function statementBuckets(statement: SelectStatement, timeRange: TimeRange, nowNanos: bigint): { sql: string; of: (nanos: bigint) => bigint } {
  const groupByTime = statement.groupByTime ?? { intervalNanos: 1n, offsetNanos: 0n };
  const interval = groupByTime.intervalNanos;
  if (statement.timeZone === null) {
    const offset = normalisedOffset(groupByTime.offsetNanos, interval);
    return { sql: statement.groupByTime === null ? 'NULL' : bucketSql(groupByTime), of: (nanos) => floorDiv(nanos - offset, interval) * interval + offset };
  }
  const from = timeRange.lowerNanos ?? nowNanos - ZONE_LOOKBACK_NANOS;
  const segments = zoneSegments(statement.timeZone, from - interval, (timeRange.upperNanos ?? nowNanos) + interval);
  return {
    sql: statement.groupByTime === null ? 'NULL' : zonedBucketSql(segments, interval, groupByTime.offsetNanos, TIME_MICROS_SQL),
    of: (nanos) => zonedBucketStart(segments, interval, groupByTime.offsetNanos, nanos),
  };
}

/** The bucket start (µs) of a row's time, aligned to the epoch plus the offset, as InfluxDB aligns. */
export function bucketSql(groupByTime: GroupByTime): string {
  if (groupByTime.intervalNanos % NANOS_PER_MICRO !== 0n || groupByTime.offsetNanos % NANOS_PER_MICRO !== 0n) {
    throw new StatementFailure('GROUP BY time() interval and offset must be whole microseconds (Arc stores microsecond times)');
  }
  const interval = groupByTime.intervalNanos / NANOS_PER_MICRO;
  const offset = (((groupByTime.offsetNanos / NANOS_PER_MICRO) % interval) + interval) % interval;
  return `(${TIME_MICROS_SQL} - (((${TIME_MICROS_SQL} - ${offset.toString()}) % ${interval.toString()}) + ${interval.toString()}) % ${interval.toString()})`;
}

function isTimeField(field: SelectField): boolean {
  return field.expr.kind === 'identifier' && field.expr.name.toLowerCase() === TIME_COLUMN;
}

/** The time of the point a lone selector picked (`SELECT max(v) FROM m` answers that point's time). */
function selectorTimeSql(fields: readonly SelectField[], planner: FieldPlanner): string | null {
  const selector = loneSelector(fields.filter((field) => !isTimeField(field)));
  const argument = selector?.args[0];
  if (selector === null || argument?.kind !== 'identifier' || planner.typeOf(argument.name) === null) return null;
  return atSelectedPoint(selector, TIME_MICROS_SQL);
}

export interface SelectContext {
  readonly database: string;
  readonly schema: MeasurementSchema;
  readonly nowNanos: bigint;
  /** What FROM reads instead of the measurement's view (a subquery's answer as a table). */
  readonly fromSql?: string;
}

/**
 * Plans one SELECT over one measurement; null when no point can match (every selected name is
 * missing from the measurement), which InfluxDB answers with no series.
 */
export function planSelect(statement: SelectStatement, context: SelectContext): SelectPlan | null {
  const { schema } = context;
  const aggregate = statement.fields.some((field) => containsCall(field.expr));
  if (statement.groupByTime !== null && !aggregate) throw new StatementFailure('GROUP BY requires at least one aggregate function');
  const mode: SelectMode = !aggregate ? 'raw' : statement.groupByTime === null ? 'aggregate' : 'bucketed';
  const tagKeys = statement.groupByAllTags ? [...schema.tags] : [...new Set(statement.groupByTags)];
  const planner = new FieldPlanner(schema);
  const fields = uniqueNames(planFields(statement.fields, planner, aggregate, new Set(tagKeys)));
  const pointColumns = planner.referencedFields.size > 0 ? planner.referencedFields : planner.referencedTags;
  if (pointColumns.size === 0) return null;
  const selectorTime = mode === 'aggregate' ? selectorTimeSql(statement.fields, planner) : null;
  const timeRange = extractTimeRange(statement.where, context.nowNanos);
  const buckets = statementBuckets(statement, timeRange, context.nowNanos);
  const timeSql = mode === 'raw' ? TIME_MICROS_SQL : mode === 'bucketed' ? buckets.sql : selectorTime;
  const hasRowCount = mode === 'aggregate' && tagKeys.length === 0;
  const tagColumns = tagKeys.map((tag) => (schema.tags.includes(tag) ? quoteIdentifier(tag) : 'NULL::VARCHAR'));
  const selected = [
    ...tagColumns,
    ...(timeSql === null ? [] : [`${timeSql} AS ${quoteIdentifier(TIME_COLUMN)}`]),
    ...fields.map((field, index) => `${field.sql} AS c${String(index)}`),
    ...(hasRowCount ? ['count(*)'] : []),
  ];
  const conditions = [`(${[...pointColumns].map((name) => `${quoteIdentifier(name)} IS NOT NULL`).join(' OR ')})`];
  if (statement.where !== null) conditions.unshift(translateCondition(statement.where, { schema, nowNanos: context.nowNanos }));
  const limitInSql = mode === 'raw' && statement.limit !== null;
  const rowsSql = `${context.fromSql ?? sqlTable(context.database, schema.name)} WHERE ${conditions.join(' AND ')}`;
  const groupKeys = [...tagColumns, ...(mode === 'bucketed' && timeSql !== null ? [timeSql] : [])];
  const source = planner.modeColumns.length === 0 ? rowsSql : modeWindowsSql(planner.modeColumns, groupKeys, rowsSql);
  const from = `SELECT ${selected.join(', ')} FROM ${source}`;
  const tail = sqlTail(mode, tagColumns, timeSql !== null, statement, limitInSql);
  const sql = tail === '' ? from : `${from} ${tail}`;
  return {
    measurement: schema.name,
    sql,
    mode,
    tagKeys,
    columns: fields.map(({ name, isCount }) => ({ name, isCount })),
    hasTime: timeSql !== null,
    hasRowCount,
    timeRange,
    groupByTime: statement.groupByTime,
    fill: statement.fill ?? { kind: 'null' },
    descending: statement.descending,
    limit: statement.limit,
    offset: statement.offset,
    limitInSql,
    seriesLimit: statement.seriesLimit,
    seriesOffset: statement.seriesOffset,
    timeZone: statement.timeZone,
    bucketOf: buckets.of,
  };
}

/** GROUP BY, QUALIFY, ORDER BY and LIMIT of the plan's SQL, columns named by position. */
function sqlTail(mode: SelectMode, tagColumns: readonly string[], hasTime: boolean, statement: SelectStatement, limitInSql: boolean): string {
  const tagPositions = tagColumns.map((_, index) => String(index + 1));
  const timePosition = String(tagColumns.length + 1);
  const parts: string[] = [];
  if (mode === 'bucketed') parts.push(`GROUP BY ${[...tagPositions, timePosition].join(', ')}`);
  if (mode === 'aggregate' && tagColumns.length > 0) parts.push(`GROUP BY ${tagPositions.join(', ')}`);
  const descending = mode === 'raw' && statement.descending ? ' DESC' : '';
  const limit = limitInSql ? statement.limit : null;
  // InfluxDB's LIMIT and OFFSET count points per series.
  if (limit !== null && tagColumns.length > 0) {
    const window = `row_number() OVER (PARTITION BY ${tagColumns.join(', ')} ORDER BY ${quoteIdentifier(TIME_COLUMN)}${descending})`;
    parts.push(`QUALIFY ${window} BETWEEN ${String(statement.offset + 1)} AND ${String(statement.offset + limit)}`);
  }
  // Buckets are ordered (and filled) ascending, then reversed by the shaper for DESC. A series
  // without a tag (NULL) comes before those with one, as InfluxDB's empty tag value sorts first.
  const order = [...tagPositions.map((position) => `${position} NULLS FIRST`), ...(hasTime ? [`${timePosition}${descending}`] : [])];
  if (order.length > 0) parts.push(`ORDER BY ${order.join(', ')}`);
  if (limit !== null && tagColumns.length === 0) parts.push(`LIMIT ${String(limit)} OFFSET ${String(statement.offset)}`);
  return parts.join(' ');
}
