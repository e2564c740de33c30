import { TIME_COLUMN } from '@arc/columnar';
import type { MeasurementRef, StatementPlan } from './query-plan.js';
import { columnNames, conjunctsOf, cteNames, isBaseTable, isConstantExpression, isNode, isSelectNode, locationOf, referenceNameOf } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';
import { constantCount, isConstantTree, isPlainExpressionTree, isPlainReference, isTimeColumn, isTruncUnit, shapeOf } from './top-n.js';

/**
 * Series windows: the statement dashboards and TSBS send most, a few series of one measurement
 * over a window of time, aggregated per bucket of time:
 *
 *   SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user
 *   FROM cpu WHERE hostname = 'host_7' AND time >= '...' AND time < '...'
 *   GROUP BY minute ORDER BY minute
 *
 * DuckDB costs ~2.3 ms in-process for it over any Parquet file, even one of 360 rows (prepare and
 * three pipelines; docs/benchmarks.md, "Single-host TSBS queries: the floor"), more than the whole
 * answer may cost. A query thread answers this one shape itself, from its series cache
 * (series-cache.ts: each file's rows decoded once, sorted by the tag, then time), with DuckDB's
 * semantics: the same groups, values, types and order (tested against DuckDB's own answers).
 *
 * The shape, exactly (anything else runs in DuckDB as written):
 * - one SELECT over one measurement (a plain reference, no CTE, join, subquery, DISTINCT, HAVING,
 *   QUALIFY, SAMPLE, window);
 * - a WHERE of conjuncts only: at most one tag predicate (`tag = 'v'` or `tag IN ('v', ...)`, the
 *   tag a VARCHAR column; none: every series) and comparisons of `time` with constants (>=, >,
 *   <=, <, BETWEEN);
 * - a select list of aliased items: one bucket of time (time_bucket(width, time) or
 *   date_trunc(unit, time), each of fixed width, checked by the engine) and aggregates max(f),
 *   min(f), count(f), sum(f) of numeric fields (FIELD_TYPES), avg(f) of floating-point ones,
 *   count(*);
 * - GROUP BY that bucket (alias, position or expression), at most an ORDER BY of it (ASC or DESC)
 *   and, after it, a constant LIMIT (TSBS's groupby-orderby-limit: every series, newest 5 minutes);
 * - or no bucket, no GROUP BY and no ORDER BY or LIMIT: the aggregates of the whole window, one
 *   row (a stat panel's "last hour": `SELECT count(*) AS n, sum(value) AS total FROM m WHERE
 *   time > now() - INTERVAL 1 HOUR`).
 */

/** An output column of a series window's answer. */
export type SeriesColumn =
  | { readonly kind: 'bucket'; readonly name: string }
  | { readonly kind: 'aggregate'; readonly name: string; readonly aggregate: SeriesAggregate; readonly column: SeriesField | null };

/** A field an aggregate reads: its name and type as the measurement has them. */
export interface SeriesField {
  readonly name: string;
  readonly type: string;
}

/**
 * The aggregates a series window computes. max, min, count and sum of integers are exact whatever
 * order the rows come in; sum and avg of floating-point values add in the cache's order (tag, then
 * time), where DuckDB adds in the order its threads meet the rows: the two may differ in the last
 * bits, as two DuckDB runs with other thread counts do (docs/decisions.md).
 */
export type SeriesAggregate = 'max' | 'min' | 'count' | 'sum' | 'avg';

/** A comparison of `time` with a constant: `exclusive` for > and <. */
export interface TimeBoundNode {
  readonly node: SqlNode;
  readonly exclusive: boolean;
}

export interface SeriesWindowPlan {
  readonly read: MeasurementRef;
  /** The tag the series cache sorts by (the WHERE's, else the measurement's first VARCHAR column). */
  readonly tag: string;
  /** The tag values the WHERE keeps (distinct, in the order written); null: no tag predicate, every row. */
  readonly tagValues: readonly string[] | null;
  readonly lower: readonly TimeBoundNode[];
  readonly upper: readonly TimeBoundNode[];
  /** The bucket call: time_bucket(width, time) or date_trunc(unit, time); null: the whole window is one group. */
  readonly bucket: SqlNode | null;
  readonly columns: readonly SeriesColumn[];
  /** The fields the aggregates read (distinct, as the measurement names them). */
  readonly fields: readonly SeriesField[];
  readonly descending: boolean;
  readonly limit: number | null;
}

/** The column types the plan reads: a tag is VARCHAR, max/min read DOUBLE, time is a plain TIMESTAMP. */
const TAG_TYPE = 'VARCHAR';
/**
 * The field types max/min/count read: what Arc stores numbers as (DOUBLE, BIGINT, UBIGINT) and
 * the narrower ones a Parquet file from elsewhere may have. The series cache holds them as
 * doubles: exact for all of them (a 64-bit value past 2^53 makes the file DuckDB's, FileSeries).
 */
export const FIELD_TYPES: ReadonlySet<string> = new Set(['DOUBLE', 'FLOAT', 'BIGINT', 'UBIGINT', 'INTEGER', 'UINTEGER', 'SMALLINT', 'USMALLINT', 'TINYINT', 'UTINYINT']);
const TIME_TYPE = 'TIMESTAMP';
/**
 * The floating-point field types: the only ones avg reads (DuckDB's avg of an integer divides a
 * 128-bit sum in long double, which a double does not always round alike); their sum is a DOUBLE.
 */
export const FLOATING_FIELD_TYPES: ReadonlySet<string> = new Set(['DOUBLE', 'FLOAT']);
const AGGREGATES: ReadonlyMap<string, SeriesAggregate> = new Map([
  ['max', 'max'],
  ['min', 'min'],
  ['count', 'count'],
  ['count_star', 'count'],
  ['sum', 'sum'],
  ['avg', 'avg'],
  ['mean', 'avg'],
]);
const LOWER_COMPARISONS: ReadonlyMap<string, boolean> = new Map([
  ['COMPARE_GREATERTHANOREQUALTO', false],
  ['COMPARE_GREATERTHAN', true],
]);
const UPPER_COMPARISONS: ReadonlyMap<string, boolean> = new Map([
  ['COMPARE_LESSTHANOREQUALTO', false],
  ['COMPARE_LESSTHAN', true],
]);
const FLIPPED: Readonly<Record<string, string>> = {
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_EQUAL: 'COMPARE_EQUAL',
};
const ORDER_TYPES: ReadonlySet<string> = new Set(['ORDER_DEFAULT', 'ASCENDING', 'DESCENDING']);
/** Date_trunc units of one fixed width on a TIMESTAMP (month and longer vary). */
const FIXED_TRUNC_UNITS: ReadonlySet<string> = new Set(['microseconds', 'milliseconds', 'second', 'minute', 'hour', 'day', 'week']);

/**
 * A cheap first look before the measurement's columns are fetched (which may describe its view):
 * a SELECT of function calls only, with a WHERE and at most one GROUP BY key.
 */
export function mayBeSeriesWindow(statement: SqlNode): boolean {
  if (!isSelectNode(statement) || !isNode(statement.where_clause) || !Array.isArray(statement.group_expressions) || statement.group_expressions.length > 1) return false;
  return statement.select_list.every((item) => item.class === 'FUNCTION');
}

/**
 * The series window plan of a statement, or null when it is not exactly the shape above.
 * `columns` are the measurement's (DESCRIBE: names and types).
 */
export function planSeriesWindow(statement: SqlNode, plan: StatementPlan, columns: readonly { readonly name: string; readonly type: string }[]): SeriesWindowPlan | null {
  if (plan.kind !== 'select' || plan.reads.length !== 1 || plan.empty.length > 0 || plan.bounded.length !== 1) return null;
  const [read] = plan.reads;
  if (read === undefined || !isSelectNode(statement) || cteNames(statement).length > 0) return null;
  const table = statement.from_table;
  if (!isBaseTable(table) || !isPlainReference(table) || plan.bounded[0]?.location !== locationOf(table)) return null;
  if (statement.qualify !== null || statement.sample !== null || statement.having !== null || statement.aggregate_handling !== 'STANDARD_HANDLING') return null;
  if (!isNode(statement.where_clause) || !isPlainExpressionTree(statement.where_clause)) return null;
  const byName = new Map(columns.map((column) => [column.name.toLowerCase(), column]));
  if (byName.get(TIME_COLUMN)?.type !== TIME_TYPE) return null;
  const reference = referenceNameOf(table);
  const columnOf = (node: SqlNode): { readonly name: string; readonly type: string } | null => {
    const names = columnNames(node);
    if (names === null) return null;
    if (names.length === 2 && names[0]?.toLowerCase() !== reference) return null;
    if (names.length !== 1 && names.length !== 2) return null;
    return byName.get((names[names.length - 1] ?? '').toLowerCase()) ?? null;
  };

  const items = selectItems(statement.select_list, reference, columnOf);
  if (items === null) return null;
  const groups = statement.group_expressions as unknown[];
  const sets = statement.group_sets;
  const bucketIndex = items.findIndex((item) => item.kind === 'bucket');
  const bucketItem = statement.select_list[bucketIndex] ?? null;
  let order: { descending: boolean; limit: number | null } | null;
  if (bucketItem === null) {
    // The whole window: no GROUP BY (one row, even of no rows), nothing after it.
    if (groups.length !== 0 || !Array.isArray(sets) || sets.length !== 0 || statement.modifiers.length !== 0) return null;
    order = { descending: false, limit: null };
  } else {
    const bucketName = items[bucketIndex]?.name ?? '';
    // GROUP BY a name that is also a column binds to the column (ORDER BY to the alias).
    const aliasIsColumn = byName.has(bucketName.toLowerCase());
    const [group] = groups;
    if (groups.length !== 1 || !isNode(group) || !Array.isArray(sets) || sets.length !== 1) return null;
    if (!isBucketKey(group, bucketItem, bucketName, bucketIndex, !aliasIsColumn)) return null;
    order = orderOf(statement.modifiers, bucketItem, bucketName, bucketIndex);
  }
  if (order === null) return null;

  const where = whereOf(statement.where_clause, columnOf);
  if (where === null) return null;
  // Without a tag predicate every row counts: the cache sorts by the first tag-like column all the same.
  const tag = where.tag ?? columns.find((column) => column.type === TAG_TYPE && column.name.toLowerCase() !== TIME_COLUMN)?.name;
  if (tag === undefined) return null;
  const fields = [...new Map(items.flatMap((item) => (item.kind === 'aggregate' && item.column !== null ? [[item.column.name, item.column] as const] : []))).values()];
  return { read, tag, tagValues: where.tagValues, lower: where.lower, upper: where.upper, bucket: bucketItem, columns: items, fields, descending: order.descending, limit: order.limit };
}

/** The select list as output columns: aliased, at most one bucket of `time`, the rest aggregates of columns (at least one). */
function selectItems(list: readonly SqlNode[], reference: string, columnOf: (node: SqlNode) => { readonly name: string; readonly type: string } | null): SeriesColumn[] | null {
  const items: SeriesColumn[] = [];
  const aliases = new Set<string>();
  for (const item of list) {
    const alias = item.alias;
    if (typeof alias !== 'string' || alias === '' || aliases.has(alias.toLowerCase())) return null;
    aliases.add(alias.toLowerCase());
    if (!isPlainCall(item) || !isPlainExpressionTree(item)) return null;
    const name = (item.function_name as string).toLowerCase();
    const children = item.children as unknown[];
    if (name === 'time_bucket' || name === 'date_trunc' || name === 'datetrunc') {
      const [width, time] = children;
      if (children.length !== 2 || !isNode(width) || !isNode(time) || !isTimeColumn(time, reference) || !isConstantTree(width)) return null;
      if (name !== 'time_bucket' && !isTruncUnit(width, FIXED_TRUNC_UNITS)) return null;
      items.push({ kind: 'bucket', name: alias });
      continue;
    }
    const aggregate = AGGREGATES.get(name);
    if (aggregate === undefined) return null;
    if (name === 'count_star') {
      if (children.length !== 0) return null;
      items.push({ kind: 'aggregate', name: alias, aggregate, column: null });
      continue;
    }
    const [argument] = children;
    if (children.length !== 1 || !isNode(argument)) return null;
    const column = columnOf(argument);
    if (column === null || !FIELD_TYPES.has(column.type) || (aggregate === 'avg' && !FLOATING_FIELD_TYPES.has(column.type))) return null;
    items.push({ kind: 'aggregate', name: alias, aggregate, column: { name: column.name, type: column.type } });
  }
  const buckets = items.filter((item) => item.kind === 'bucket').length;
  return buckets <= 1 && items.length > buckets ? items : null;
}

/** A function call with nothing beside its arguments: no schema, FILTER, DISTINCT, ORDER BY or exported state. */
function isPlainCall(node: SqlNode): boolean {
  if (node.class !== 'FUNCTION' || typeof node.function_name !== 'string' || node.schema !== '' || (node.catalog ?? '') !== '') return false;
  if (node.filter !== null || node.distinct !== false || node.export_state === true || !Array.isArray(node.children)) return false;
  const orders = isNode(node.order_bys) ? node.order_bys.orders : [];
  return Array.isArray(orders) && orders.length === 0;
}

/** Whether a GROUP BY or ORDER BY key is the bucket: its alias (when `byAlias`), its 1-based position or its expression. */
function isBucketKey(key: SqlNode, bucket: SqlNode, alias: string, index: number, byAlias: boolean): boolean {
  const names = columnNames(key);
  if (names !== null) return byAlias && names.length === 1 && names[0]?.toLowerCase() === alias.toLowerCase();
  const position = constantCount(key);
  if (position !== null) return position === index + 1;
  return shapeOf(key) === shapeOf(bucket);
}

/** No modifiers, ORDER BY the bucket, and a LIMIT without OFFSET (each optional, in that order). */
function orderOf(modifiers: readonly SqlNode[], bucket: SqlNode, alias: string, index: number): { descending: boolean; limit: number | null } | null {
  let descending = false;
  let limit: number | null = null;
  let rest = modifiers;
  const [first] = rest;
  if (first?.type === 'ORDER_MODIFIER') {
    const orders = first.orders;
    if (!Array.isArray(orders) || orders.length !== 1) return null;
    const [order] = orders as unknown[];
    // ORDER BY binds a name to the alias first: the bucket's alias is the bucket.
    if (!isNode(order) || typeof order.type !== 'string' || !ORDER_TYPES.has(order.type) || !isNode(order.expression)) return null;
    if (!isBucketKey(order.expression, bucket, alias, index, true)) return null;
    descending = order.type === 'DESCENDING';
    rest = rest.slice(1);
  }
  const [limitModifier] = rest;
  // A LIMIT without ORDER BY keeps any rows DuckDB meets first: not an answer to give the same.
  if (limitModifier?.type === 'LIMIT_MODIFIER' && rest === modifiers) return null;
  if (limitModifier?.type === 'LIMIT_MODIFIER') {
    if (limitModifier.offset !== null) return null;
    limit = constantCount(limitModifier.limit);
    if (limit === null) return null;
    rest = rest.slice(1);
  }
  return rest.length === 0 ? { descending, limit } : null;
}

/** The WHERE as one tag predicate and time bounds, or null when a conjunct is anything else. */
function whereOf(
  where: SqlNode,
  columnOf: (node: SqlNode) => { readonly name: string; readonly type: string } | null,
): { tag: string | null; tagValues: readonly string[] | null; lower: TimeBoundNode[]; upper: TimeBoundNode[] } | null {
  let tag: { name: string; values: string[] | null } | null = null;
  const lower: TimeBoundNode[] = [];
  const upper: TimeBoundNode[] = [];
  const isTime = (node: SqlNode): boolean => columnOf(node)?.name.toLowerCase() === TIME_COLUMN;
  for (const conjunct of conjunctsOf(where)) {
    if (conjunct.type === 'COMPARE_BETWEEN') {
      const { input, lower: low, upper: high } = conjunct;
      if (!isNode(input) || !isNode(low) || !isNode(high) || !isTime(input) || !isConstantExpression(low) || !isConstantExpression(high)) return null;
      lower.push({ node: low, exclusive: false });
      upper.push({ node: high, exclusive: false });
      continue;
    }
    const predicate = tagPredicate(conjunct, columnOf);
    if (predicate !== null) {
      // One tag predicate: two would have to be intersected (or be of two tags).
      if (tag !== null) return null;
      tag = predicate;
      continue;
    }
    const { left, right } = conjunct;
    if (conjunct.class !== 'COMPARISON' || !isNode(left) || !isNode(right) || typeof conjunct.type !== 'string') return null;
    const flipped = !isTime(left);
    const comparison = flipped ? FLIPPED[conjunct.type] : conjunct.type;
    const bound = flipped ? left : right;
    if (comparison === undefined || !isTime(flipped ? right : left) || !isConstantExpression(bound)) return null;
    const lowerExclusive = LOWER_COMPARISONS.get(comparison);
    const upperExclusive = UPPER_COMPARISONS.get(comparison);
    if (lowerExclusive !== undefined) lower.push({ node: bound, exclusive: lowerExclusive });
    else if (upperExclusive !== undefined) upper.push({ node: bound, exclusive: upperExclusive });
    else return null;
  }
  return { tag: tag?.name ?? null, tagValues: tag?.values ?? null, lower, upper };
}

/** `tag = 'v'`, `'v' = tag` or `tag IN ('v', ...)` of a VARCHAR column other than time, or null. */
function tagPredicate(conjunct: SqlNode, columnOf: (node: SqlNode) => { readonly name: string; readonly type: string } | null): { name: string; values: string[] } | null {
  let column: SqlNode | undefined;
  let constants: unknown[];
  if (conjunct.type === 'COMPARE_EQUAL' && conjunct.class === 'COMPARISON' && isNode(conjunct.left) && isNode(conjunct.right)) {
    const leftIsColumn = columnNames(conjunct.left) !== null;
    column = leftIsColumn ? conjunct.left : conjunct.right;
    constants = [leftIsColumn ? conjunct.right : conjunct.left];
  } else if (conjunct.type === 'COMPARE_IN' && Array.isArray(conjunct.children)) {
    const [first, ...rest] = conjunct.children as unknown[];
    column = isNode(first) ? first : undefined;
    constants = rest;
  } else {
    return null;
  }
  const spec = column === undefined ? null : columnOf(column);
  if (spec?.type !== TAG_TYPE || spec.name.toLowerCase() === TIME_COLUMN || constants.length === 0) return null;
  const values: string[] = [];
  for (const constant of constants) {
    const value = varcharValue(constant);
    if (value === null) return null;
    if (!values.includes(value)) values.push(value);
  }
  return { name: spec.name, values };
}

/** The text of a non-NULL VARCHAR constant, or null. */
function varcharValue(node: unknown): string | null {
  if (!isNode(node) || node.class !== 'CONSTANT' || !isNode(node.value)) return null;
  const { type, is_null: isNull, value } = node.value as { type?: unknown; is_null?: unknown; value?: unknown };
  if (!isNode(type) || type.id !== 'VARCHAR' || isNull !== false || typeof value !== 'string') return null;
  return value;
}
