/**
 * The parts of DuckDB's `json_serialize_sql` parse tree that Arc reads. The tree is DuckDB's own
 * serialization of its parser output, so Arc never guesses what a statement means from its text:
 * it walks the tree to find every table a query reads, every table function it calls and the
 * time bounds of its WHERE clauses. Only the fields used are typed; everything else is walked
 * generically, so a node type Arc does not know still has its tables found.
 */

/** Any node of the tree: an object whose `type` (and for expressions `class`) says what it is. */
export interface SqlNode {
  readonly type?: string;
  readonly class?: string;
  readonly [key: string]: unknown;
}

export interface BaseTableRef extends SqlNode {
  readonly type: 'BASE_TABLE';
  readonly alias: string;
  readonly query_location: number;
  readonly catalog_name: string;
  readonly schema_name: string;
  readonly table_name: string;
}

export interface TableFunctionRef extends SqlNode {
  readonly type: 'TABLE_FUNCTION';
  readonly function: { readonly function_name: string; readonly schema?: string; readonly catalog?: string };
}

export interface ShowRef extends SqlNode {
  readonly type: 'SHOW_REF';
  readonly table_name: string;
  readonly show_type: string;
  readonly schema_name: string;
  readonly catalog_name: string;
  readonly query: SqlNode | null;
}

export interface SelectNode extends SqlNode {
  readonly type: 'SELECT_NODE';
  readonly from_table: SqlNode;
  readonly where_clause: SqlNode | null;
  readonly select_list: readonly SqlNode[];
  readonly modifiers: readonly SqlNode[];
  readonly cte_map?: CteMap;
}

export interface CteMap {
  readonly map: readonly { readonly key: string; readonly value: unknown }[];
}

/** The serialized statements, or DuckDB's parse error. */
export interface ParseTree {
  readonly error: boolean;
  readonly error_type?: string;
  readonly error_message?: string;
  readonly position?: string;
  readonly statements?: readonly { readonly node: SqlNode }[];
}

/**
 * DuckDB writes "no location" as uint64 max, which JSON.parse turns into a double above 2^53;
 * real locations are byte offsets into the SQL text.
 */
export function locationOf(node: SqlNode): number | null {
  const location = node.query_location;
  return typeof location === 'number' && Number.isSafeInteger(location) ? location : null;
}

export function isNode(value: unknown): value is SqlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isBaseTable(node: SqlNode): node is BaseTableRef {
  return node.type === 'BASE_TABLE' && typeof node.table_name === 'string';
}

/** The name a table is referred to by in its statement (its alias, else its own name), lower-cased. */
export function referenceNameOf(table: BaseTableRef): string {
  return (table.alias === '' ? table.table_name : table.alias).toLowerCase();
}

/** True for `FROM t AS a(c1, c2)`: the alias renames the table's columns (its `time` may be another column). */
export function renamesColumns(table: BaseTableRef): boolean {
  return Array.isArray(table.column_name_alias) && table.column_name_alias.length > 0;
}

export function isTableFunction(node: SqlNode): node is TableFunctionRef {
  return node.type === 'TABLE_FUNCTION' && isNode(node.function);
}

export function isShowRef(node: SqlNode): node is ShowRef {
  return node.type === 'SHOW_REF';
}

export function isSelectNode(node: SqlNode): node is SelectNode {
  return node.type === 'SELECT_NODE' && isNode(node.from_table);
}

/** The direct children of a node (object fields and array items that are nodes). */
export function childrenOf(node: SqlNode): SqlNode[] {
  const children: SqlNode[] = [];
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) children.push(item);
    } else if (isNode(value)) {
      children.push(value);
    }
  }
  return children;
}

/** The names of the CTEs a query node defines (lower-cased: DuckDB names are case-insensitive). */
export function cteNames(node: SqlNode): string[] {
  const cteMap = node.cte_map;
  if (!isNode(cteMap) || !Array.isArray(cteMap.map)) return [];
  return (cteMap.map as readonly { key?: unknown }[]).flatMap((entry) => (typeof entry.key === 'string' ? [entry.key.toLowerCase()] : []));
}

/** True when the expression subtree reads no column, row, parameter or subquery: a constant. */
export function isConstantExpression(node: SqlNode): boolean {
  const expressionClass = node.class;
  if (expressionClass === 'COLUMN_REF' || expressionClass === 'SUBQUERY' || expressionClass === 'STAR') return false;
  if (expressionClass === 'PARAMETER' || expressionClass === 'WINDOW' || expressionClass === 'LAMBDA_REF') return false;
  return childrenOf(node).every(isConstantExpression);
}

/**
 * True when the expression reaches a relation: a subquery, a table or a table function anywhere
 * in it. An expression that reaches none reads no view, whatever DuckDB evaluates it to.
 */
export function readsRelation(node: SqlNode): boolean {
  if (node.class === 'SUBQUERY' || isSelectNode(node) || isBaseTable(node) || isTableFunction(node)) return true;
  return childrenOf(node).some(readsRelation);
}

/**
 * True when the statement is one SELECT with no FROM, no CTE and no relation in any expression
 * (`SELECT 1`, `SELECT now() AS t`): what it answers depends on its text and the moment it runs,
 * never on a table, view or file.
 */
export function selectsNoRelation(statement: SqlNode): boolean {
  if (!isSelectNode(statement) || statement.from_table.type !== 'EMPTY' || cteNames(statement).length > 0) return false;
  return childrenOf(statement).every((child) => child === statement.from_table || !readsRelation(child));
}

/** The smallest location in an expression's subtree: where its text starts, when DuckDB recorded it. */
export function earliestLocation(node: SqlNode): number | null {
  const own = locationOf(node);
  return childrenOf(node).reduce<number | null>((earliest, child) => {
    const location = earliestLocation(child);
    return location !== null && (earliest === null || location < earliest) ? location : earliest;
  }, own);
}

/** The conjuncts of a WHERE clause: the children of its top-level AND chain, or the clause itself. */
export function conjunctsOf(where: SqlNode | null): SqlNode[] {
  if (where === null) return [];
  if (where.type !== 'CONJUNCTION_AND' || !Array.isArray(where.children)) return [where];
  return (where.children as unknown[]).filter(isNode).flatMap((child) => conjunctsOf(child));
}

/** The column names of a COLUMN_REF (`time`, `c.time`), or null for another node. */
export function columnNames(node: SqlNode): readonly string[] | null {
  if (node.class !== 'COLUMN_REF' || !Array.isArray(node.column_names)) return null;
  return node.column_names as readonly string[];
}

/** Sets every query_location to 0 so `json_deserialize_sql` accepts the tree (see locationOf). */
export function clearLocations(node: SqlNode): void {
  const writable = node as Record<string, unknown>;
  for (const [key, value] of Object.entries(writable)) {
    if (key === 'query_location') writable[key] = 0;
    else if (Array.isArray(value)) value.forEach((item) => isNode(item) && clearLocations(item));
    else if (isNode(value)) clearLocations(value);
  }
}
