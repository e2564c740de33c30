import { TIME_COLUMN, quoteIdentifier } from '@arc/columnar';
import type { MeasurementRef, StatementPlan } from './query-plan.js';
import { childrenOf, columnNames, conjunctsOf, cteNames, isBaseTable, isNode, isSelectNode, locationOf, referenceNameOf } from './sql-tree.js';
import type { BaseTableRef, SqlNode } from './sql-tree.js';
import { callsNonScalar, constantCount, isPlainExpressionTree, isPlainReference, isTimeColumn } from './top-n.js';

/**
 * Latest rows in two steps. A statement whose WHERE has, AND-ed at its top,
 * `(k1, ..., time) IN (SELECT k1, ..., max(time) FROM m [WHERE ...] [GROUP BY ...])` (or
 * `time IN (SELECT max(time) FROM m ...)`) over the measurement m of its own FROM needs every
 * row's keys and time for the subquery, yet keeps only rows whose time is one of the subquery's
 * max times. Step 1 runs the subquery alone for the least and greatest of those times, [lo, hi];
 * step 2 runs the statement with both references to m (the FROM's and the subquery's) narrowed to
 * the rows with lo <= time <= hi, so the time pruning hands DuckDB only the files that can hold
 * them. Why the answer is the same (docs/decisions.md, "Latest rows in two steps"):
 * - the outer rows: a row the IN keeps has its time equal to one of the max times, so within
 *   [lo, hi]; a row outside it makes the IN false or NULL, and a top-level AND conjunct that is
 *   not true drops the row whatever else the WHERE says;
 * - the subquery: each group's max time is at least lo (lo is the least of them), so the group's
 *   latest row is within [lo, hi] and its max is the same; every other output is a group key or a
 *   function of them (no aggregate but the max), so the same too. Only a group whose max is NULL
 *   (every time NULL) vanishes, and its row never made the IN true.
 * Both steps must see the same files: the engine checks that the measurement's catalog version
 * is the same before step 1 picks its files and after step 2 picked its own, else it runs the
 * statement as written.
 *
 * Over fewer files than LAST_POINT_FILES_MIN the second step costs what it saves, and the
 * statement runs in one step; but not over the measurement's view: both references read every
 * file of the measurement as a plain list (wholeReferences), one list for both. The view reads
 * its files unioned by name, which over TSBS's 21 files cost DuckDB 1.6 ms more to prepare this
 * statement and 2.3 ms more to run it (in-process, 16.2 against 12.3 ms); when every file has the
 * measurement's columns in order, a plain read has the view's rows and columns, so the answer is
 * the same whatever the statement (the engine keeps the view otherwise). Step 1 of two reads its
 * subquery's files the same way (stepOneReferences): over TSBS's 72 h (121 files) the subquery took
 * 22.3 ms in-process over the plain list against 30.0 through the view.
 */

/** What step 1 and step 2 need of a statement the rewrite holds exact for. */
export interface LastPointPlan {
  readonly read: MeasurementRef;
  /** The subquery (a SELECT node): step 1 runs it alone. */
  readonly subquery: SqlNode;
  /** How many columns the subquery answers, and which of them is max(time). */
  readonly columnCount: number;
  readonly timeIndex: number;
  /** The FROM's reference to the measurement and the subquery's: each narrowed in step 2. */
  readonly references: readonly LastPointReference[];
}

export interface LastPointReference {
  /** Byte offset of the table's name in the SQL text. */
  readonly location: number;
  readonly tableName: string;
  readonly hasAlias: boolean;
}

/** A reference that reads every file of its measurement (`read`), plainly when they have its columns. */
export type WholeReference = MeasurementRef & LastPointReference;

/** The one-step plan: both references of the statement over every file. */
export function wholeReferences(plan: LastPointPlan): WholeReference[] {
  return plan.references.map((reference) => ({ ...plan.read, ...reference }));
}

/**
 * Step 1's reference to the measurement, to read every file of it as the one-step plan does: the
 * FROM of the subquery in `statement`, the parse of maxTimeRangeSql's text (none when the text
 * does not have that shape).
 */
export function stepOneReferences(statement: SqlNode, plan: LastPointPlan): WholeReference[] {
  if (!isSelectNode(statement)) return [];
  const wrapper = statement.from_table.subquery;
  const subquery = statement.from_table.type === 'SUBQUERY' && isNode(wrapper) && isNode(wrapper.node) ? wrapper.node : null;
  if (subquery === null || !isSelectNode(subquery) || !isBaseTable(subquery.from_table)) return [];
  const table = subquery.from_table;
  const location = locationOf(table);
  const own = plan.references.some((reference) => reference.tableName.toLowerCase() === table.table_name.toLowerCase());
  return location === null || !own ? [] : [{ ...plan.read, location, tableName: table.table_name, hasAlias: table.alias !== '' }];
}

/** Time column types whose values compare with a TIMESTAMP bound in order (no time zone). */
const TIME_TYPES: ReadonlySet<string> = new Set(['TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S']);

/** A cheap first look: a SELECT whose WHERE holds an IN subquery. */
export function mayBeLastPoint(statement: SqlNode): boolean {
  return isSelectNode(statement) && conjunctsOf(statement.where_clause).some((conjunct) => conjunct.class === 'SUBQUERY' && conjunct.subquery_type === 'ANY');
}

/**
 * The two-step plan of a statement, or null when the rewrite is not provably exact for it: not a
 * SELECT from one measurement whose WHERE has the max(time) IN subquery over the same measurement
 * at its top; a FROM that samples or renames columns; CTEs; an output named `time` that is not the
 * column; a function whose value differs between runs (the two steps would see two values); a
 * subquery with ORDER BY, LIMIT, HAVING, DISTINCT, QUALIFY, another aggregate, its own subqueries
 * or a name of the outer statement; a time column that is not a zone-less TIMESTAMP.
 */
export function planLastPoint(
  statement: SqlNode,
  plan: StatementPlan,
  columns: readonly { readonly name: string; readonly type: string }[],
  nonScalarFunctions: ReadonlySet<string>,
): LastPointPlan | null {
  if (plan.kind !== 'select' || plan.reads.length !== 1 || plan.empty.length > 0 || !plan.deterministic) return null;
  const [read] = plan.reads;
  if (read === undefined || !isSelectNode(statement) || cteNames(statement).length > 0 || statement.sample !== null) return null;
  if (!columns.some((column) => column.name === TIME_COLUMN && TIME_TYPES.has(column.type))) return null;
  const outer = statement.from_table;
  if (!isBaseTable(outer) || !isPlainReference(outer)) return null;
  // A three-part column name would not survive the table becoming a subquery.
  if (hasLongColumnName(statement)) return null;
  const outerName = referenceNameOf(outer);
  // WHERE binds `time` to the column, but an output named `time` is better left alone.
  if (statement.select_list.some((item) => typeof item.alias === 'string' && item.alias.toLowerCase() === TIME_COLUMN && !isTimeColumn(item, outerName))) return null;
  for (const conjunct of conjunctsOf(statement.where_clause)) {
    const found = maxTimeSubquery(conjunct, outer, outerName, nonScalarFunctions);
    if (found === null) continue;
    const references = [outer, found.table].map((table) => ({ location: locationOf(table) ?? -1, tableName: table.table_name, hasAlias: table.alias !== '' }));
    if (references.some((reference) => reference.location < 0)) return null;
    return { read, subquery: found.subquery, columnCount: found.columnCount, timeIndex: found.timeIndex, references };
  }
  return null;
}

/**
 * The tag a plan's step 1 groups by when the series cache can answer it (query-engine.ts,
 * maxTimesFromCache): a subquery of exactly `SELECT tag, max(time) FROM m GROUP BY tag` (or
 * `GROUP BY 1`), no WHERE, the tag a VARCHAR column and `time` a plain TIMESTAMP. Null otherwise.
 */
export function maxTimeByTag(plan: LastPointPlan, columns: readonly { readonly name: string; readonly type: string }[]): string | null {
  const subquery = plan.subquery;
  if (!isSelectNode(subquery) || subquery.where_clause !== null || plan.columnCount !== 2 || plan.timeIndex !== 1) return null;
  if (!columns.some((column) => column.name === TIME_COLUMN && column.type === 'TIMESTAMP')) return null;
  const [key] = subquery.select_list;
  const names = key === undefined ? null : columnNames(key);
  const name = names?.at(-1)?.toLowerCase();
  const tag = columns.find((column) => column.name.toLowerCase() === name && column.type === 'VARCHAR' && name !== TIME_COLUMN);
  if (names === null || tag === undefined || (names.length === 2 && isBaseTable(subquery.from_table) && names[0]?.toLowerCase() !== referenceNameOf(subquery.from_table))) return null;
  const groups = Array.isArray(subquery.group_expressions) ? (subquery.group_expressions as unknown[]) : [];
  const [group] = groups;
  if (groups.length !== 1 || !isNode(group)) return null;
  const groupNames = columnNames(group);
  const byPosition = constantCount(group) === 1;
  if (!byPosition && groupNames?.at(-1)?.toLowerCase() !== name) return null;
  return tag.name;
}

function hasLongColumnName(node: SqlNode): boolean {
  const names = columnNames(node);
  if (names !== null && names.length > 2) return true;
  return childrenOf(node).some(hasLongColumnName);
}

/** `row IN (SELECT ..., max(time), ... FROM <the same table> ...)` with `time` at the same place in the row: its parts. */
function maxTimeSubquery(
  conjunct: SqlNode,
  outer: BaseTableRef,
  outerName: string,
  nonScalar: ReadonlySet<string>,
): { subquery: SqlNode; table: BaseTableRef; columnCount: number; timeIndex: number } | null {
  if (conjunct.class !== 'SUBQUERY' || conjunct.subquery_type !== 'ANY' || conjunct.comparison_type !== 'COMPARE_EQUAL') return null;
  const { child, subquery: wrapper } = conjunct;
  if (!isNode(child) || !isNode(wrapper) || !isNode(wrapper.node)) return null;
  const row = rowItems(child);
  const timeIndex = row.findIndex((item) => isTimeColumn(item, outerName));
  if (timeIndex < 0) return null;
  const subquery = wrapper.node;
  if (!isSelectNode(subquery) || cteNames(subquery).length > 0 || subquery.modifiers.length > 0) return null;
  if (subquery.having !== null || subquery.qualify !== null || subquery.sample !== null || subquery.aggregate_handling !== 'STANDARD_HANDLING') return null;
  const table = subquery.from_table;
  if (!isBaseTable(table) || !isPlainReference(table)) return null;
  if (table.table_name.toLowerCase() !== outer.table_name.toLowerCase() || table.schema_name.toLowerCase() !== outer.schema_name.toLowerCase()) return null;
  const innerName = referenceNameOf(table);
  if (subquery.select_list.length !== row.length) return null;
  if (!childrenOf(subquery).every(isPlainExpressionTree) || !namesOnly(subquery, innerName)) return null;
  const sets = subquery.group_sets;
  if (Array.isArray(sets) && sets.length > 1) return null;
  const groups = Array.isArray(subquery.group_expressions) ? (subquery.group_expressions as unknown[]).filter(isNode) : [];
  if (groups.some((group) => callsNonScalar(group, nonScalar))) return null;
  const fits = subquery.select_list.every((item, index) => (index === timeIndex ? isMaxOfTime(item, innerName) : !callsNonScalar(item, nonScalar)));
  return fits ? { subquery, table, columnCount: row.length, timeIndex } : null;
}

/** The items of `(a, b, ...)` (DuckDB's row()), or the one expression. */
function rowItems(node: SqlNode): SqlNode[] {
  const isRow = node.class === 'FUNCTION' && node.function_name === 'row' && (node.schema === 'main' || node.schema === '') && Array.isArray(node.children);
  return isRow ? (node.children as unknown[]).filter(isNode) : [node];
}

/** `max(time)`, plain. */
function isMaxOfTime(node: SqlNode, reference: string): boolean {
  if (node.class !== 'FUNCTION' || typeof node.function_name !== 'string' || node.function_name.toLowerCase() !== 'max') return false;
  if (node.schema !== '' || (node.catalog ?? '') !== '' || node.filter !== null || node.distinct !== false || node.export_state === true) return false;
  const orders = isNode(node.order_bys) ? node.order_bys.orders : [];
  if (Array.isArray(orders) && orders.length > 0) return false;
  const children = Array.isArray(node.children) ? (node.children as unknown[]) : [];
  const [only] = children;
  return children.length === 1 && isNode(only) && isTimeColumn(only, reference);
}

/** True when every qualified column name in the subquery names its own table: none reaches the outer statement. */
function namesOnly(node: SqlNode, reference: string): boolean {
  const names = columnNames(node);
  if (names !== null && names.length === 2 && names[0]?.toLowerCase() !== reference) return false;
  return childrenOf(node).every((child) => namesOnly(child, reference));
}

/** Step 1: the least and greatest max time (µs since the epoch, BIGINT; NULL when there is none) of the subquery `subquerySql`. */
export function maxTimeRangeSql(subquerySql: string, plan: LastPointPlan): string {
  const names = Array.from({ length: plan.columnCount }, (_, index) => quoteIdentifier(index === plan.timeIndex ? 'arc_max_time' : `arc_key_${String(index)}`));
  return `SELECT epoch_us(min(arc_last_point.arc_max_time)) AS lo, epoch_us(max(arc_last_point.arc_max_time)) AS hi FROM (${subquerySql}) AS arc_last_point(${names.join(', ')})`;
}

/**
 * The relation standing in for a reference in step 2: the table as the text names it, with only
 * the rows from `lowerUs` to `upperUs` (inclusive). The bounds are literals the planner reads
 * without asking DuckDB, and its time pruning keeps only the files that can hold them.
 */
export function narrowedReferenceSql(nameText: string, lowerUs: bigint, upperUs: bigint): string {
  const time = quoteIdentifier(TIME_COLUMN);
  return `(SELECT * FROM ${nameText} WHERE ${time} >= ${timestampLiteral(lowerUs)} AND ${time} <= ${timestampLiteral(upperUs)})`;
}

const MICROS_PER_SECOND = 1_000_000n;
const MICROS_PER_MILLI = 1000n;
/** Years a `TIMESTAMP 'YYYY-...'` literal writes with four digits. */
const LITERAL_YEAR_MIN = 1000;
const LITERAL_YEAR_MAX = 9999;

/** `TIMESTAMP 'YYYY-MM-DD HH:MM:SS.ffffff'` (UTC), or make_timestamp(µs) outside four-digit years. */
export function timestampLiteral(micros: bigint): string {
  const fraction = ((micros % MICROS_PER_SECOND) + MICROS_PER_SECOND) % MICROS_PER_SECOND;
  const seconds = (micros - fraction) / MICROS_PER_SECOND;
  const date = new Date(Number(seconds * MICROS_PER_SECOND / MICROS_PER_MILLI));
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < LITERAL_YEAR_MIN || year > LITERAL_YEAR_MAX) return `make_timestamp(${micros.toString()}::BIGINT)`;
  const text = `${date.toISOString().slice(0, 19).replace('T', ' ')}.${fraction.toString().padStart(6, '0')}`;
  return `TIMESTAMP '${text}'`;
}
