import { badRequest, ArcError, ErrorKind } from '@arc/errors';
import { quoteIdentifier, quoteLiteral, type LastValue, type LastValueTable } from '@arc/columnar';
import { QueryErrorCode } from './error-codes.js';
import { childrenOf, isNode, isTableFunction, locationOf } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';
import type { Splice } from './sql-splice.js';

/**
 * `last_cache('table'[, 'name'])` in user SQL (InfluxDB 3's spelling) reads a last-value cache:
 * the rows the writers keep of each key's newest points. The call is replaced in the SQL text by
 * a relation over the cache's rows as the task carries them (a VALUES list: a cache holds one or a
 * few rows per series), so WHERE, ORDER BY and projections apply to it as to any table.
 */
export const LAST_CACHE_FUNCTION = 'last_cache';

const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;
const OPEN_PAREN = 0x28;
const CLOSE_PAREN = 0x29;

/** A `last_cache(...)` call of the statement: where it starts, its arguments, and whether it has an alias. */
interface LastCacheCall {
  readonly location: number;
  readonly table: string;
  readonly name: string | null;
  readonly hasAlias: boolean;
}

/** False when the SQL text cannot call last_cache() (most queries: their tree is then not walked again). */
export function mayCallLastCache(sql: string): boolean {
  return MAY_CALL.test(sql);
}

const MAY_CALL = /last_cache/i;

function isLastCacheCall(node: SqlNode): boolean {
  return isTableFunction(node) && node.function.function_name.toLowerCase() === LAST_CACHE_FUNCTION;
}

function lastCacheCalls(node: SqlNode): LastCacheCall[] {
  const calls: LastCacheCall[] = [];
  const visit = (current: SqlNode): void => {
    if (isLastCacheCall(current)) calls.push(callOf(current));
    for (const child of childrenOf(current)) visit(child);
  };
  visit(node);
  return calls;
}

function callOf(node: SqlNode): LastCacheCall {
  const call = node.function as SqlNode & { children?: unknown };
  const args = Array.isArray(call.children) ? call.children.map(constantText) : [];
  const [table, name, ...more] = args;
  const location = locationOf(node);
  if (typeof table !== 'string' || (name !== undefined && typeof name !== 'string') || more.length > 0 || location === null) {
    throw badRequest(QueryErrorCode.sqlError, `${LAST_CACHE_FUNCTION}() takes a table name and optionally a cache name, both string literals: last_cache('cpu') or last_cache('cpu', 'cpu_last')`, {
      function: LAST_CACHE_FUNCTION,
    });
  }
  return { location, table, name: name ?? null, hasAlias: typeof node.alias === 'string' && node.alias !== '' };
}

function constantText(node: unknown): string | null {
  if (!isNode(node) || node.class !== 'CONSTANT' || !isNode(node.value)) return null;
  const value = node.value as { is_null?: unknown; value?: unknown };
  return value.is_null === false && typeof value.value === 'string' ? value.value : null;
}

/**
 * The splices that put each last_cache() call's rows in its place. `tables` are the caches of the
 * default database the task was given; a call naming none of them is answered with a 400.
 */
export function lastCacheSplices(sql: Buffer, statement: SqlNode, database: string, tables: readonly LastValueTable[]): Splice[] {
  return lastCacheCalls(statement).map((call) => {
    const table = chooseTable(call, database, tables);
    const end = callEnd(sql, call.location);
    if (end === null) throw new ArcError(ErrorKind.internal, QueryErrorCode.engine, `Cannot locate ${LAST_CACHE_FUNCTION}() in the SQL text`);
    const alias = call.hasAlias ? '' : ` AS ${quoteIdentifier(LAST_CACHE_FUNCTION)}`;
    return { start: call.location, end, text: `(${lastValueRelationSql(table)})${alias}` };
  });
}

function chooseTable(call: LastCacheCall, database: string, tables: readonly LastValueTable[]): LastValueTable {
  const ofTable = tables.filter((table) => table.database === database && table.measurement.toLowerCase() === call.table.toLowerCase());
  const chosen = call.name === null ? (ofTable.length === 1 ? ofTable[0] : undefined) : ofTable.find((table) => table.name === call.name);
  if (chosen !== undefined) return chosen;
  const names = ofTable.map((table) => table.name);
  const why =
    call.name === null && ofTable.length > 1
      ? `table '${call.table}' has several last caches (${names.join(', ')}): name one, last_cache('${call.table}', '<name>')`
      : `database '${database}' has no last cache ${call.name === null ? `on table '${call.table}'` : `named '${call.name}' on table '${call.table}'`}; create one with POST /api/v3/configure/last_cache`;
  throw badRequest(QueryErrorCode.unknownTable, why, { database, table: call.table, ...(call.name === null ? {} : { name: call.name }) });
}

/**
 * The end of the call starting at `start` (one past its closing parenthesis): parentheses counted
 * outside quoted text. Null when the text there is not a complete call.
 */
function callEnd(sql: Buffer, start: number): number | null {
  let depth = 0;
  let quote: number | null = null;
  for (let position = start; position < sql.length; position++) {
    const byte = sql[position];
    if (quote !== null) {
      // A doubled quote inside quoted text is the quote itself; the next byte reopens it.
      if (byte === quote) quote = null;
      continue;
    }
    if (byte === SINGLE_QUOTE || byte === DOUBLE_QUOTE) quote = byte;
    else if (byte === OPEN_PAREN) depth++;
    else if (byte === CLOSE_PAREN && --depth === 0) return position + 1;
  }
  return null;
}

/** A SELECT answering the cache's rows with its columns' types (no rows: the columns alone). */
export function lastValueRelationSql(table: LastValueTable): string {
  const names = table.columns.map((_, index) => `c${String(index)}`);
  const projections = table.columns.map((column, index) => {
    const value = names[index] ?? '';
    const typed = column.type === 'TIMESTAMP' ? `make_timestamp(${value}::BIGINT)` : `CAST(${value} AS ${column.type})`;
    return `${typed} AS ${quoteIdentifier(column.name)}`;
  });
  if (table.rows.length === 0) {
    const nulls = table.columns.map((column) => `CAST(NULL AS ${column.type}) AS ${quoteIdentifier(column.name)}`);
    return `SELECT ${nulls.join(', ')} WHERE false`;
  }
  const rows = table.rows.map((row) => `(${table.columns.map((_, index) => literalOf(row[index] ?? null)).join(', ')})`);
  return `SELECT ${projections.join(', ')} FROM (VALUES ${rows.join(', ')}) AS arc_last_values(${names.join(', ')})`;
}

/**
 * A value as SQL text. Every value of a column goes in as text or as an integer and is cast to the
 * column's type once (a DOUBLE as text parses back to the same double; NaN and Infinity too).
 */
function literalOf(value: LastValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return `'${value.toString()}'`;
  if (typeof value === 'number') return `'${String(value)}'`;
  if (typeof value === 'boolean') return value ? "'true'" : "'false'";
  return quoteLiteral(value);
}
