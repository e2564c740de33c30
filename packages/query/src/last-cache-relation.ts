import { badRequest, ArcError, ErrorKind } from '@arc/errors';
import { DuckDBTimestampValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, unpackLastValueRows, type LastValue, type LastValueTable } from '@arc/columnar';
import { QueryErrorCode } from './error-codes.js';
import { LAST_CACHE_FUNCTION } from './last-cache-name.js';
import { childrenOf, isNode, isTableFunction, locationOf } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';
import type { Splice } from './sql-splice.js';


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

/** A temporary table to fill with a cache's rows before the statement runs. */
export interface LastCacheLoad {
  readonly tableName: string;
  readonly table: LastValueTable;
}

/**
 * The splices that put each last_cache() call's rows in its place: a temporary table of this
 * query thread's connection (filled by fillLastCacheTable before the statement is prepared). An
 * appender fills 100 rows x 21 columns in a few ms, where DuckDB took 10-25 ms to parse and bind
 * the same rows as a VALUES list or a JSON literal (measured in-process). `tables` are the caches
 * of the default database the task was given; a call naming none of them is answered with a 400.
 */
export function planLastCaches(
  sql: Buffer,
  statement: SqlNode,
  database: string,
  tables: readonly LastValueTable[],
  loaded: LastCacheTables,
): { splices: Splice[]; loads: LastCacheLoad[] } {
  const splices: Splice[] = [];
  const loads: LastCacheLoad[] = [];
  for (const call of lastCacheCalls(statement)) {
    const table = chooseTable(call, database, tables);
    const end = callEnd(sql, call.location);
    if (end === null) throw new ArcError(ErrorKind.internal, QueryErrorCode.engine, `Cannot locate ${LAST_CACHE_FUNCTION}() in the SQL text`);
    const tableName = loaded.tableNameOf(table);
    const alias = call.hasAlias ? '' : ` AS ${quoteIdentifier(LAST_CACHE_FUNCTION)}`;
    splices.push({ start: call.location, end, text: `${TEMP_SCHEMA}.${quoteIdentifier(tableName)}${alias}` });
    loads.push({ tableName, table });
  }
  return { splices, loads };
}

/**
 * Temporary tables live in the connection's `temp` catalog, which user SQL cannot name (the
 * planner refuses catalog-qualified names), so a query reads a cache only through last_cache().
 */
const TEMP_SCHEMA = 'temp.main';
const LAST_CACHE_TABLE_PREFIX = 'arc_last_cache_';

/** A cache's temporary table and the version of the rows it holds (null: not loaded, or a load failed). */
interface LoadedTable {
  readonly tableName: string;
  version: number | null;
}

/**
 * The temporary tables of one query thread's connection, one per cache it has read, with the
 * version of the rows each holds: a cache unchanged since the last query of it is not loaded
 * again (a dashboard refreshing while no row arrives costs no table rebuild), and QueryEngine
 * keeps the statements prepared over the tables until the next load (`generation`). A load
 * creates the table again: a statement prepared over the old rows must not run over new ones,
 * since DuckDB plans with the rows' statistics (a kept `ORDER BY` over a BIGINT column answered
 * 261 for a 5 appended after a DELETE: its plan had packed the column as offsets from the old
 * minimum), and a table emptied by DELETE keeps ~5 KB per reload until a checkpoint.
 */
export class LastCacheTables {
  private readonly byCache = new Map<string, LoadedTable>();
  private readonly byTableName = new Map<string, LoadedTable>();
  private loadCount = 0;

  /** Changes at every load: statements prepared at another generation may read replaced rows. */
  get generation(): number {
    return this.loadCount;
  }

  tableNameOf(table: LastValueTable): string {
    const key = `${table.database}\u0000${table.measurement}\u0000${table.name}`;
    let known = this.byCache.get(key);
    if (known === undefined) {
      known = { tableName: `${LAST_CACHE_TABLE_PREFIX}${String(this.byCache.size)}`, version: null };
      this.byCache.set(key, known);
      this.byTableName.set(known.tableName, known);
    }
    return known.tableName;
  }

  /** Loads the table unless it holds this version already. */
  async fill(connection: DuckDBConnection, load: LastCacheLoad): Promise<void> {
    const known = this.byTableName.get(load.tableName);
    if (known === undefined || known.version === load.table.version) return;
    // Unknown while it loads: a failed load is loaded again by the next query.
    known.version = null;
    this.loadCount++;
    await createLastCacheTable(connection, load);
    await appendLastCacheRows(connection, load);
    known.version = load.table.version;
  }
}

/** (Re)creates the load's temporary table, empty. */
async function createLastCacheTable(connection: DuckDBConnection, load: LastCacheLoad): Promise<void> {
  const definitions = load.table.columns.map((column) => `${quoteIdentifier(column.name)} ${column.type}`);
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${quoteIdentifier(load.tableName)} (${definitions.join(', ')})`);
}

/** Appends the cache's rows to its (empty) temporary table. */
async function appendLastCacheRows(connection: DuckDBConnection, load: LastCacheLoad): Promise<void> {
  const appender = await connection.createAppender(load.tableName, 'main', 'temp');
  try {
    const appends = load.table.columns.map((column) => appendOf(column.type));
    for (const row of unpackLastValueRows(load.table.rowsPacked)) {
      for (const [index, append] of appends.entries()) {
        const value = row[index] ?? null;
        if (value === null) appender.appendNull();
        else append(appender, value);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

type Append = (appender: DuckDBAppender, value: Exclude<LastValue, null>) => void;

/** How a value of a column's SQL type is appended (the writer's types: see LastValueTable). */
function appendOf(type: string): Append {
  switch (type) {
    case 'TIMESTAMP':
      return (appender, value) => appender.appendTimestamp(new DuckDBTimestampValue(BigInt(value)));
    case 'BIGINT':
      return (appender, value) => appender.appendBigInt(BigInt(value));
    case 'UBIGINT':
      return (appender, value) => appender.appendUBigInt(BigInt(value));
    case 'DOUBLE':
      return (appender, value) => appender.appendDouble(Number(value));
    case 'BOOLEAN':
      return (appender, value) => appender.appendBoolean(value === true);
    default:
      return (appender, value) => appender.appendVarchar(String(value));
  }
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
