import assert from 'node:assert/strict';
import { TIME_COLUMN, quoteIdentifier } from '@arc/columnar';
import { spanMicros, type CatalogFile } from '@arc/storage';
import { TOP_N_SPAN_GROWTH } from './limits.js';
import type { MeasurementRef, StatementPlan } from './query-plan.js';
import { childrenOf, columnNames, cteNames, isBaseTable, isNode, isSelectNode, locationOf, referenceNameOf, renamesColumns } from './sql-tree.js';
import type { BaseTableRef, SqlNode } from './sql-tree.js';

/**
 * Exact top-N over the newest (or oldest) files. A statement that orders first by a bucket of
 * `time` (time itself, time_bucket(width, time), date_trunc(unit, time)) and keeps LIMIT n rows
 * is run first over only the rows at or after an edge L aligned to a bucket start (DESC; before
 * an edge for ASC), so over only the files that can hold them. Why that answer is exact when it
 * has n rows (docs/decisions.md, "Top-N over the newest files"): each of the three buckets is a
 * floor (b(t) <= t, monotone, b(b(t)) = b(t)), so with L = b(L0) a row has t >= L exactly when
 * its bucket b(t) >= L. Every group (each is of one bucket: the bucket is a group key) or row
 * the narrowed run sees is then whole and the same as in the full run, HAVING keeps the same
 * ones, and every one it does not see has a bucket below L, so sorts after all of them. The
 * narrowed run's ordered rows are a prefix of the full run's: with n rows after OFFSET they are
 * the answer; with fewer, the edge moves back (TOP_N_SPAN_GROWTH times as many partitions)
 * until every file is read, as without this.
 */

/**
 * One query's runs: the plan (null: run as written), which narrowed run this is, and whether the
 * last run was narrowed. The engine runs again while widens() says so.
 */
export class TopNAttempts {
  plan: TopNPlan | null = null;
  attempt = 0;
  narrowed = false;

  /** True when the last run, which answered `rowCount` rows, was narrowed and fell short of the LIMIT: run again wider. */
  widens(rowCount: number): boolean {
    if (!this.narrowed || this.plan === null || rowCount >= this.plan.rowsWanted) return false;
    this.attempt++;
    return true;
  }
}

/** A cheap first look: a SELECT whose modifiers are ORDER BY then LIMIT (planTopN looks at the rest). */
export function mayBeTopN(statement: SqlNode): boolean {
  if (!isSelectNode(statement)) return false;
  const [order, limit] = statement.modifiers;
  return order?.type === 'ORDER_MODIFIER' && limit?.type === 'LIMIT_MODIFIER';
}

/** What a narrowed run needs of a statement the rewrite holds exact for. */
export interface TopNPlan {
  /** The measurement's one reference, where it is in the text and how it is named there. */
  readonly table: MeasurementRef & { readonly location: number; readonly tableName: string; readonly hasAlias: boolean };
  /** The ordering bucket of `time`; null: `time` itself. */
  readonly bucket: SqlNode | null;
  readonly descending: boolean;
  /** The LIMIT: an answer with this many rows is exact. */
  readonly rowsWanted: number;
}

/** What a statement's measurement is, as planTopN needs to know it. */
export interface TopNContext {
  /** The measurement's column names and types (DESCRIBE). */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** Lower-cased names of the functions that are not plain scalar functions (aggregates, macros, ...). */
  readonly nonScalarFunctions: ReadonlySet<string>;
}

/** The time column type the bucket evaluation and the edge filter assume (a plain UTC TIMESTAMP). */
const TIME_TYPE = 'TIMESTAMP';
/** date_trunc units that floor a TIMESTAMP (each a calendar or clock unit, no time zone). */
const TRUNC_UNITS: ReadonlySet<string> = new Set([
  'microseconds',
  'milliseconds',
  'second',
  'minute',
  'hour',
  'day',
  'week',
  'month',
  'quarter',
  'year',
  'decade',
  'century',
  'millennium',
]);
const ORDER_DESCENDING = 'DESCENDING';
/** Orders whose nulls come last; NULLS FIRST would put rows the narrowed run never sees first. */
const NULLS_LAST: ReadonlySet<string> = new Set(['ORDER_DEFAULT', 'NULLS_LAST']);
const LIMIT_TYPES: ReadonlySet<string> = new Set(['INTEGER', 'BIGINT', 'SMALLINT', 'TINYINT', 'UBIGINT', 'UINTEGER']);

/**
 * The top-N plan of a statement, or null when the rewrite is not provably exact for it: not one
 * SELECT over one measurement (joins, subqueries, CTEs, set operations), DISTINCT, windows,
 * QUALIFY, SAMPLE, grouping sets, an aggregate without a GROUP BY of the bucket, an ORDER BY
 * whose first key is not the bucket, a LIMIT that is not a constant, a time column that is not
 * a TIMESTAMP.
 */
export function planTopN(statement: SqlNode, plan: StatementPlan, context: TopNContext): TopNPlan | null {
  if (plan.kind !== 'select' || plan.reads.length !== 1 || plan.empty.length > 0) return null;
  const [read] = plan.reads;
  if (read === undefined || !isSelectNode(statement) || cteNames(statement).length > 0) return null;
  const table = statement.from_table;
  const location = locationOf(table);
  if (!isBaseTable(table) || location === null || !isPlainReference(table)) return null;
  if (statement.qualify !== null || statement.sample !== null || statement.aggregate_handling !== 'STANDARD_HANDLING') return null;
  if (!context.columns.some((column) => column.name === TIME_COLUMN && column.type === TIME_TYPE)) return null;
  if (!childrenOf(statement).every(isPlainExpressionTree)) return null;
  const order = orderAndLimit(statement.modifiers);
  if (order === null) return null;
  const reference = referenceNameOf(table);
  // An output named `time` that is not the column could be what a `time` in ORDER BY binds to.
  if (statement.select_list.some((item) => typeof item.alias === 'string' && item.alias.toLowerCase() === TIME_COLUMN && !isTimeColumn(item, reference))) return null;
  const columns = new Set(context.columns.map((column) => column.name.toLowerCase()));
  const key = resolvedKey(order.key, statement.select_list, columns);
  if (key === null) return null;
  const bucket = bucketOf(key, reference);
  if (bucket === undefined) return null;
  if (!isGroupedBy(statement, key, columns, context.nonScalarFunctions)) return null;
  return { table: { ...read, location, tableName: table.table_name, hasAlias: table.alias !== '' }, bucket, descending: order.descending, rowsWanted: order.limit };
}

/**
 * A base table read as it is: no sample, no time travel, a location in the text, and no renamed
 * columns (`FROM cpu AS c(a, time)`: `time` would no longer be the time column).
 */
export function isPlainReference(table: BaseTableRef): boolean {
  return table.sample === null && (table.at_clause ?? null) === null && locationOf(table) !== null && !renamesColumns(table);
}

/** The SELECT's modifiers as ORDER BY (first key) then LIMIT with constant counts; null otherwise. */
function orderAndLimit(modifiers: readonly SqlNode[]): { key: SqlNode; descending: boolean; limit: number } | null {
  const [orderModifier, limitModifier, ...more] = modifiers;
  if (orderModifier?.type !== 'ORDER_MODIFIER' || limitModifier?.type !== 'LIMIT_MODIFIER' || more.length > 0) return null;
  const orders = orderModifier.orders;
  if (!Array.isArray(orders)) return null;
  const first: unknown = orders[0];
  if (!isNode(first) || !isNode(first.expression) || typeof first.null_order !== 'string' || !NULLS_LAST.has(first.null_order)) return null;
  const limit = constantCount(limitModifier.limit);
  const offset = limitModifier.offset === null ? 0 : constantCount(limitModifier.offset);
  if (limit === null || limit < 1 || offset === null) return null;
  return { key: first.expression, descending: first.type === ORDER_DESCENDING, limit };
}

/** A constant non-negative integer of an integer type (a LIMIT, OFFSET or GROUP BY position), or null. */
export function constantCount(node: unknown): number | null {
  if (!isNode(node) || node.class !== 'CONSTANT' || !isNode(node.value)) return null;
  const { type, is_null: isNull, value } = node.value as { type?: unknown; is_null?: unknown; value?: unknown };
  if (!isNode(type) || typeof type.id !== 'string' || !LIMIT_TYPES.has(type.id) || isNull !== false) return null;
  const count = typeof value === 'string' ? Number(value) : value;
  return typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : null;
}

/**
 * True when a subtree holds no subquery, window, lambda, parameter, table reference beyond the
 * FROM's one, and no column name of three parts (which the relation put in place of the table
 * would not answer).
 */
export function isPlainExpressionTree(node: SqlNode): boolean {
  const expressionClass = node.class;
  if (expressionClass === 'SUBQUERY' || expressionClass === 'WINDOW' || expressionClass === 'PARAMETER' || expressionClass === 'LAMBDA') return false;
  if (node.type === 'SELECT_NODE' || node.type === 'SET_OPERATION_NODE' || node.type === 'JOIN' || node.type === 'SUBQUERY' || node.type === 'TABLE_FUNCTION') return false;
  if (node.type === 'DISTINCT_MODIFIER' || node.type === 'LIMIT_PERCENT_MODIFIER') return false;
  const names = columnNames(node);
  if (names !== null && names.length > 2) return false;
  // `* REPLACE (x AS time)`, `* RENAME (x AS time)` and COLUMNS(...) name output columns that ORDER BY could bind to.
  if (expressionClass === 'STAR' && (node.columns !== false || isNonEmptyList(node.replace_list) || isNonEmptyList(node.rename_list))) return false;
  return childrenOf(node).every(isPlainExpressionTree);
}

function isNonEmptyList(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/**
 * The expression an ORDER BY or GROUP BY key stands for: a select-list alias is replaced by its
 * expression. A name that is both an alias and a column is refused: ORDER BY and GROUP BY bind
 * it differently (alias first, column first), unless the alias is that very column.
 */
function resolvedKey(key: SqlNode, selectList: readonly SqlNode[], columns: ReadonlySet<string>): SqlNode | null {
  const names = columnNames(key);
  if (names?.length !== 1) return key;
  const [name] = names;
  assert.ok(name !== undefined);
  const aliased = selectList.filter((item) => typeof item.alias === 'string' && item.alias.toLowerCase() === name.toLowerCase());
  if (aliased.length > 1) return null;
  const [item] = aliased;
  if (item === undefined) return key;
  if (columns.has(name.toLowerCase()) && columnNames(item)?.join('.').toLowerCase() !== name.toLowerCase()) return null;
  return item;
}

/** True for the time column, named bare or by the table's reference name (lower-cased). */
export function isTimeColumn(node: SqlNode, reference: string): boolean {
  const names = columnNames(node);
  if (names === null) return false;
  const [first, second] = names;
  if (names.length === 1) return first?.toLowerCase() === TIME_COLUMN;
  return names.length === 2 && first?.toLowerCase() === reference && second?.toLowerCase() === TIME_COLUMN;
}

/** The bucket of an ORDER BY key: null for `time` itself, the expression for a bucket of it, undefined for anything else. */
function bucketOf(key: SqlNode, reference: string): SqlNode | null | undefined {
  if (isTimeColumn(key, reference)) return null;
  if (key.class !== 'FUNCTION' || typeof key.function_name !== 'string' || key.schema !== '' || (key.catalog ?? '') !== '') return undefined;
  if (key.filter !== null || key.distinct !== false || key.export_state === true) return undefined;
  const children = key.children;
  if (!Array.isArray(children) || children.length !== 2) return undefined;
  const [width, time] = children as unknown[];
  if (!isNode(width) || !isNode(time) || !isTimeColumn(time, reference) || !isConstantTree(width)) return undefined;
  const name = key.function_name.toLowerCase();
  if (name === 'time_bucket') return key;
  if ((name === 'date_trunc' || name === 'datetrunc') && isTruncUnit(width)) return key;
  return undefined;
}

/** Whether `node` is a date_trunc unit among `units` (a non-NULL text constant; any case). */
export function isTruncUnit(node: SqlNode, units: ReadonlySet<string> = TRUNC_UNITS): boolean {
  if (node.class !== 'CONSTANT' || !isNode(node.value)) return false;
  const value = node.value as { value?: unknown; is_null?: unknown };
  return value.is_null === false && typeof value.value === 'string' && units.has(value.value.toLowerCase());
}

/**
 * A constant made of constants, casts and the functions an INTERVAL literal parses to
 * (`INTERVAL 1 minute` is to_minutes(CAST(trunc(CAST(1 AS DOUBLE)) AS BIGINT))): nothing that
 * differs between runs (random(), now()), so the bucket start is worth remembering.
 */
export function isConstantTree(node: SqlNode): boolean {
  if (node.class === 'CONSTANT') return true;
  if (node.class === 'CAST') return isNode(node.child) && isConstantTree(node.child);
  if (node.class !== 'FUNCTION' || typeof node.function_name !== 'string' || !INTERVAL_FUNCTIONS.has(node.function_name.toLowerCase())) return false;
  if (node.filter !== null || node.distinct !== false || !Array.isArray(node.children)) return false;
  return (node.children as unknown[]).every((child) => isNode(child) && isConstantTree(child));
}

const INTERVAL_FUNCTIONS: ReadonlySet<string> = new Set([
  'trunc',
  'to_microseconds',
  'to_milliseconds',
  'to_seconds',
  'to_minutes',
  'to_hours',
  'to_days',
  'to_weeks',
  'to_months',
  'to_quarters',
  'to_years',
  'to_decades',
  'to_centuries',
  'to_millennia',
]);

/**
 * Whether each row of the answer holds rows of one bucket only: the statement is grouped by the
 * key (with other keys or not, one grouping set), or it aggregates nothing (plain rows).
 */
function isGroupedBy(select: SqlNode, key: SqlNode, columns: ReadonlySet<string>, nonScalar: ReadonlySet<string>): boolean {
  const groups = Array.isArray(select.group_expressions) ? (select.group_expressions as unknown[]).filter(isNode) : [];
  const sets = select.group_sets;
  const selectList = Array.isArray(select.select_list) ? (select.select_list as unknown[]).filter(isNode) : [];
  const modifiers = Array.isArray(select.modifiers) ? (select.modifiers as unknown[]).filter(isNode) : [];
  if (groups.length === 0) return !isNode(select.having) && ![...selectList, ...modifiers].some((item) => callsNonScalar(item, nonScalar));
  if (!Array.isArray(sets) || sets.length !== 1) return false;
  const wanted = shapeOf(key);
  return groups.some((group) => {
    const resolved = resolvedKey(group, selectList, columns);
    return resolved !== null && shapeOf(resolved) === wanted;
  });
}

/** True when the expression calls an aggregate (or another non-scalar function), or a function with FILTER or DISTINCT. */
export function callsNonScalar(node: SqlNode, nonScalar: ReadonlySet<string>): boolean {
  if (node.class === 'FUNCTION' && typeof node.function_name === 'string' && nonScalar.has(node.function_name.toLowerCase())) return true;
  if (node.class === 'FUNCTION' && (node.filter !== null || node.distinct === true)) return true;
  return childrenOf(node).some((child) => callsNonScalar(child, nonScalar));
}

/** An expression's tree without its alias and locations: two keys of one shape are one expression. */
export function shapeOf(node: SqlNode): string {
  return JSON.stringify(node, (name, value: unknown) => (name === 'alias' || name === 'query_location' ? undefined : value));
}

/**
 * The partition edge of the `attempt`-th narrowed run over `files` (those in the statement's own
 * range), µs: for DESC the start of the TOP_N_SPAN_GROWTH^attempt-th newest partition with a file,
 * for ASC the end of as many oldest ones. Null when that many partitions are all there are (the
 * run reads every file, as without narrowing).
 */
export function partitionEdge(files: readonly CatalogFile[], descending: boolean, attempt: number): number | null {
  const partitions = [...new Map(files.map((file) => [file.hourUs, file])).values()];
  partitions.sort((left, right) => (descending ? right.hourUs - left.hourUs : left.hourUs - right.hourUs));
  const count = TOP_N_SPAN_GROWTH ** attempt;
  const edge = partitions[count - 1];
  if (edge === undefined || count >= partitions.length) return null;
  return descending ? edge.hourUs : partitionEndUs(edge);
}

/** The first µs after a file's partition (its hour, or its day for a day file). */
function partitionEndUs(file: CatalogFile): number {
  return file.hourUs + spanMicros(file.span);
}

/**
 * The relation standing in for the measurement in a narrowed run: `relation` (its files from the
 * edge on) with only the rows on the edge's side. `edge` is a bucket start, µs.
 */
export function narrowedRelationSql(relation: string, edge: bigint, descending: boolean): string {
  const comparison = descending ? '>=' : '<';
  return `(SELECT * FROM ${relation} AS arc_narrowed WHERE ${quoteIdentifier(TIME_COLUMN)} ${comparison} make_timestamp(${edge.toString()}::BIGINT))`;
}

/**
 * `SELECT bucket` with `time` replaced by the instant `micros`: the tree DuckDB evaluates to the
 * bucket start at or before it. `template` is `SELECT NULL` parsed.
 */
export function bucketStartTree(template: SqlNode, bucket: SqlNode, micros: number): SqlNode {
  const statement = structuredClone(template) as SqlNode & { select_list: SqlNode[] };
  const instant: SqlNode = {
    class: 'FUNCTION',
    type: 'FUNCTION',
    alias: '',
    query_location: 0,
    function_name: 'make_timestamp',
    schema: '',
    catalog: '',
    children: [
      {
        class: 'CAST',
        type: 'OPERATOR_CAST',
        alias: '',
        query_location: 0,
        child: { class: 'CONSTANT', type: 'VALUE_CONSTANT', alias: '', query_location: 0, value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value: String(micros) } },
        cast_type: { id: 'BIGINT', type_info: null },
        try_cast: false,
      },
    ],
    filter: null,
    order_bys: { type: 'ORDER_MODIFIER', orders: [] },
    distinct: false,
    is_operator: false,
    export_state: false,
  };
  const expression = structuredClone(bucket) as SqlNode & { children: SqlNode[]; alias: string };
  const [width] = expression.children;
  assert.ok(width !== undefined, 'a bucket has a width');
  expression.children = [width, instant];
  expression.alias = '';
  statement.select_list = [expression];
  return statement;
}
