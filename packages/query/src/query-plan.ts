import { TIME_COLUMN } from '@arc/columnar';
import { ArcError, badRequest, databaseDenied } from '@arc/errors';
import { QueryErrorCode } from './error-codes.js';
import { checkFunctionCall } from './function-guard.js';
import { LAST_CACHE_FUNCTION } from './last-cache-name.js';
import type { CatalogScan } from './catalog.js';
import {
  childrenOf,
  columnNames,
  conjunctsOf,
  cteNames,
  isBaseTable,
  isConstantExpression,
  isNode,
  isSelectNode,
  isShowRef,
  isTableFunction,
  locationOf,
  readsRelation,
  referenceNameOf,
  renamesColumns,
} from './sql-tree.js';
import type { BaseTableRef, SelectNode, ShowRef, SqlNode } from './sql-tree.js';
import type { PendingMeasurement } from './task-messages.js';
import type { ColumnSpec } from './time-pruning.js';

/** A measurement a query reads: what its permission check and its cache entry depend on. */
export interface MeasurementRef {
  readonly database: string;
  readonly measurement: string;
}

/**
 * A measurement read directly in the FROM clause of a SELECT whose WHERE bounds its `time`:
 * the engine lists only the hour directories in range and puts them in place of the view.
 */
export interface BoundedTable extends MeasurementRef {
  /** Byte offset of the table's name in the SQL text. */
  readonly location: number;
  /** The name as the tree has it (the last part of a qualified name). */
  readonly tableName: string;
  readonly hasAlias: boolean;
  /** Constant expressions the time is >= / > (lower) or <= / < (upper) than. */
  readonly lower: readonly SqlNode[];
  readonly upper: readonly SqlNode[];
  /** For each `upper`: true for `time < x` (x itself is out of range), false for `<=`, `=`, BETWEEN. */
  readonly upperExclusive: readonly boolean[];
}

/** A reference to a measurement with no file yet: replaced by an empty relation of its columns. */
export interface EmptyTable extends MeasurementRef {
  readonly location: number;
  readonly tableName: string;
  readonly hasAlias: boolean;
  /** Named bare after DESCRIBE / SUMMARIZE (`DESCRIBE cpu`), where only a query may replace it. */
  readonly bare: boolean;
  readonly columns: readonly ColumnSpec[];
}

export type StatementPlan =
  | { readonly kind: 'show-databases'; readonly databases: readonly string[] }
  /** `DESCRIBE <measurement>`: answered from the catalog, tags marked (see describe-answer.ts). */
  | { readonly kind: 'describe'; readonly table: MeasurementRef }
  | { readonly kind: 'show-tables'; readonly databases: readonly string[] }
  | {
      readonly kind: 'select';
      readonly reads: readonly MeasurementRef[];
      /** Empty when a reference could not be rewritten safely (then every table reads its view). */
      readonly bounded: readonly BoundedTable[];
      /** False when a function's value changes between runs (now(), random()): never cache the answer. */
      readonly deterministic: boolean;
      /** References to measurements that have rows buffered but no file yet. */
      readonly empty: readonly EmptyTable[];
      /**
       * Reads every reference of which is bounded in time by expressions that reach no relation
       * (a literal, now() - INTERVAL 1 HOUR; no bound anywhere in the statement has a subquery):
       * the engine replaces each reference by its pruned files, so the measurement's view (whose
       * making reads every file's footer) is not needed.
       */
      readonly boundedOnly: readonly MeasurementRef[];
    };

export interface PlanContext {
  readonly defaultDatabase: string;
  readonly catalog: CatalogScan;
  /** Databases the caller may read; null: every database. */
  readonly readable: ReadonlySet<string> | null;
  /** Measurements with rows but no file yet (queries answer their columns, no rows). */
  readonly pending?: readonly PendingMeasurement[];
}

/**
 * Table functions user SQL may call: they compute rows and reach no file. Every other one
 * (read_parquet, read_csv, glob, query, duckdb_tables, ...) is refused, so a query can only
 * read measurements by name and so only through the permission check.
 */
const TABLE_FUNCTIONS_ALLOWED: ReadonlySet<string> = new Set(['range', 'generate_series', 'unnest']);

/** Functions whose value differs between two runs of the same statement. */
const NONDETERMINISTIC_FUNCTIONS: ReadonlySet<string> = new Set([
  'now',
  'current_timestamp',
  'get_current_timestamp',
  'transaction_timestamp',
  'current_date',
  'current_time',
  'get_current_time',
  'today',
  'localtimestamp',
  'localtime',
  'random',
  'uuid',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'setseed',
  'nextval',
  'currval',
]);

/** DuckDB's metadata schemas: they list every schema, i.e. every database. */
const METADATA_SCHEMAS: ReadonlySet<string> = new Set(['information_schema', 'pg_catalog']);

/**
 * Metadata views that show server paths: view definitions (each measurement's view reads
 * `read_parquet('<data dir>/...')`) and settings (temp_directory, allowed_directories, ...).
 */
const METADATA_VIEWS_REFUSED: ReadonlySet<string> = new Set(['information_schema.views', 'pg_catalog.pg_views', 'pg_catalog.pg_settings']);

const SHOW_DATABASES = '"databases"';
const SHOW_TABLES = '"tables"';
const SHOW_ALL_TABLES = '__show_tables_expanded';
/** `SHOW MEASUREMENTS` parses as DESCRIBE of a table of that name (InfluxDB's spelling). */
const SHOW_MEASUREMENTS_NAME = 'measurements';

const LOWER_BOUND_COMPARISONS: ReadonlySet<string> = new Set(['COMPARE_GREATERTHAN', 'COMPARE_GREATERTHANOREQUALTO']);
const UPPER_BOUND_COMPARISONS: ReadonlySet<string> = new Set(['COMPARE_LESSTHAN', 'COMPARE_LESSTHANOREQUALTO']);
const FLIPPED_COMPARISON: Readonly<Record<string, string>> = {
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_EQUAL: 'COMPARE_EQUAL',
};

function unknownDatabase(database: string): ArcError {
  return badRequest(QueryErrorCode.unknownDatabase, `Database '${database}' does not exist (no data has been written to it)`, { database });
}

function unknownTable(database: string, table: string): ArcError {
  return badRequest(QueryErrorCode.unknownTable, `Table '${table}' does not exist in database '${database}'`, { database, table });
}

function forbiddenReference(message: string, details: Record<string, string>): ArcError {
  return badRequest(QueryErrorCode.sqlForbidden, message, details);
}

/** Case-insensitive lookups of database and measurement names, as DuckDB resolves them. */
class CatalogNames {
  private readonly databases = new Map<string, { name: string; measurements: Map<string, string> }>();

  constructor(scan: CatalogScan) {
    for (const [database, measurements] of scan) {
      const byLowerName = new Map<string, string>();
      for (const measurement of measurements) byLowerName.set(measurement.toLowerCase(), measurement);
      this.databases.set(database.toLowerCase(), { name: database, measurements: byLowerName });
    }
  }

  database(name: string): string | undefined {
    return this.databases.get(name.toLowerCase())?.name;
  }

  measurement(database: string, name: string): string | undefined {
    return this.databases.get(database.toLowerCase())?.measurements.get(name.toLowerCase());
  }

  allDatabases(): string[] {
    return [...this.databases.values()].map((entry) => entry.name);
  }
}

/**
 * Decides what one parsed statement may read and how: resolves every table reference to a
 * measurement (checking the caller may read its database), refuses file-reading table functions
 * and foreign catalogs, answers SHOW statements from the catalog, and finds the time bounds the
 * engine prunes hour directories with. Throws ArcError.
 */
export function planStatement(statement: SqlNode, context: PlanContext): StatementPlan {
  const names = new CatalogNames(context.catalog);
  const show = planShow(statement, context, names);
  if (show !== null) return show;
  const analyzer = new ReadAnalyzer(context, names);
  analyzer.visit(statement, new Set());
  const [onlyRead] = analyzer.reads.values();
  if (isDescribeOfTable(statement) && analyzer.reads.size === 1 && analyzer.empty.length === 0 && onlyRead !== undefined) {
    return { kind: 'describe', table: onlyRead };
  }
  return {
    kind: 'select',
    reads: [...analyzer.reads.values()],
    bounded: analyzer.rewritable ? analyzer.bounded : [],
    deterministic: analyzer.deterministic,
    empty: analyzer.empty,
    boundedOnly: boundedOnlyReads(analyzer),
  };
}

function checkReadable(context: PlanContext, database: string): void {
  if (context.readable === null) return;
  const wanted = database.toLowerCase();
  for (const allowed of context.readable) if (allowed.toLowerCase() === wanted) return;
  throw databaseDenied(database);
}

function readableDatabases(context: PlanContext, names: CatalogNames): string[] {
  const all = names.allDatabases();
  const readable = context.readable;
  const visible = readable === null ? all : all.filter((database) => [...readable].some((allowed) => allowed.toLowerCase() === database.toLowerCase()));
  return visible.sort();
}

/** SHOW DATABASES / SHOW TABLES [FROM db] / SHOW ALL TABLES / SHOW MEASUREMENTS as a whole statement. */
function planShow(statement: SqlNode, context: PlanContext, names: CatalogNames): StatementPlan | null {
  if (!isSelectNode(statement) || !isShowRef(statement.from_table)) return null;
  const show = statement.from_table;
  if (show.show_type === 'SHOW_UNQUALIFIED') {
    if (show.table_name === SHOW_DATABASES) return { kind: 'show-databases', databases: readableDatabases(context, names) };
    if (show.table_name === SHOW_TABLES) return showTablesOf(context, names, context.defaultDatabase);
    if (show.table_name === SHOW_ALL_TABLES) return { kind: 'show-tables', databases: readableDatabases(context, names) };
    return null;
  }
  if (show.show_type === 'SHOW_FROM') {
    if (show.catalog_name !== '') throw forbiddenReference('SHOW TABLES FROM takes a database name', { catalog: show.catalog_name });
    return showTablesOf(context, names, show.schema_name);
  }
  if (isShowMeasurements(show, context, names)) return showTablesOf(context, names, context.defaultDatabase);
  return null;
}

function showTablesOf(context: PlanContext, names: CatalogNames, database: string): StatementPlan {
  checkReadable(context, database);
  const known = names.database(database);
  return { kind: 'show-tables', databases: known === undefined ? [] : [known] };
}

function isShowMeasurements(show: ShowRef, context: PlanContext, names: CatalogNames): boolean {
  const inner = show.query;
  if (show.show_type !== 'DESCRIBE' || inner === null || !isSelectNode(inner)) return false;
  const table = inner.from_table;
  if (!isBaseTable(table) || table.schema_name !== '' || table.catalog_name !== '') return false;
  if (table.table_name.toLowerCase() !== SHOW_MEASUREMENTS_NAME) return false;
  // A measurement really named "measurements" is described as usual.
  return names.measurement(context.defaultDatabase, table.table_name) === undefined;
}

/** `DESCRIBE name` (also `SHOW name`): a DESCRIBE of exactly one base table, nothing else. */
function isDescribeOfTable(statement: SqlNode): boolean {
  if (!isSelectNode(statement) || !isShowRef(statement.from_table) || statement.from_table.show_type !== 'DESCRIBE') return false;
  const inner = statement.from_table.query;
  if (inner === null || !isSelectNode(inner) || inner.where_clause !== null || inner.modifiers.length > 0) return false;
  const [star, ...rest] = inner.select_list;
  return rest.length === 0 && star?.class === 'STAR' && isBaseTable(inner.from_table);
}

/** The base tables of a FROM clause reached through joins only (not through subqueries). */
function directTables(from: SqlNode): BaseTableRef[] {
  if (isBaseTable(from)) return [from];
  if (from.type !== 'JOIN') return [];
  return [from.left, from.right].flatMap((side) => (isNode(side) ? directTables(side) : []));
}

interface TimeComparison {
  readonly column: readonly string[];
  readonly lower: SqlNode | null;
  readonly upper: SqlNode | null;
  readonly upperExclusive: boolean;
}

/** `time >= expr`, `expr > time`, `time = expr`, `time BETWEEN a AND b` with constant sides. */
function timeComparison(conjunct: SqlNode): TimeComparison | null {
  if (conjunct.type === 'COMPARE_BETWEEN') {
    const { input, lower, upper } = conjunct;
    if (!isNode(input) || !isNode(lower) || !isNode(upper)) return null;
    const column = columnNames(input);
    if (column === null || !isConstantExpression(lower) || !isConstantExpression(upper)) return null;
    return { column, lower, upper, upperExclusive: false };
  }
  const { left, right } = conjunct;
  if (conjunct.class !== 'COMPARISON' || !isNode(left) || !isNode(right) || typeof conjunct.type !== 'string') return null;
  let comparison: string | undefined = conjunct.type;
  let column = columnNames(left);
  let bound = right;
  if (column === null) {
    column = columnNames(right);
    bound = left;
    comparison = FLIPPED_COMPARISON[comparison];
  }
  if (column === null || comparison === undefined || !isConstantExpression(bound)) return null;
  if (comparison === 'COMPARE_EQUAL') return { column, lower: bound, upper: bound, upperExclusive: false };
  if (LOWER_BOUND_COMPARISONS.has(comparison)) return { column, lower: bound, upper: null, upperExclusive: false };
  if (UPPER_BOUND_COMPARISONS.has(comparison)) return { column, lower: null, upper: bound, upperExclusive: comparison === 'COMPARE_LESSTHAN' };
  return null;
}

/** Walks a statement's tree: resolves tables, checks access, collects time bounds. */
class ReadAnalyzer {
  readonly reads = new Map<string, MeasurementRef>();
  /** Table references per read (by readKey): a CTE shadowing a measurement counts as one, unbounded. */
  readonly references = new Map<string, number>();
  readonly bounded: BoundedTable[] = [];
  readonly empty: EmptyTable[] = [];
  /** False once a construct makes splicing replacements into the text unsafe. */
  rewritable = true;
  deterministic = true;
  private readonly context: PlanContext;
  private readonly names: CatalogNames;
  private readonly resolved = new WeakMap<SqlNode, MeasurementRef | null>();
  private readonly pending = new Map<string, PendingMeasurement>();
  /** Tables named bare after DESCRIBE / SUMMARIZE (DuckDB wraps them in an implicit SELECT *). */
  private readonly bareTables = new WeakSet<SqlNode>();

  constructor(context: PlanContext, names: CatalogNames) {
    this.context = context;
    this.names = names;
    for (const entry of context.pending ?? []) this.pending.set(pendingKey(entry.database, entry.measurement), entry);
  }

  visit(node: SqlNode, ctes: ReadonlySet<string>): void {
    const defined = cteNames(node);
    const scope = defined.length === 0 ? ctes : new Set([...ctes, ...defined]);
    if (isBaseTable(node)) this.resolve(node, scope);
    else if (isTableFunction(node) && node.function.function_name.toLowerCase() === LAST_CACHE_FUNCTION) {
      // Answered from the writers' caches, which change without any file changing: never cached.
      this.deterministic = false;
      // It reads a cache of the default database (last-cache-relation.ts).
      checkReadable(this.context, this.context.defaultDatabase);
    } else if (isTableFunction(node)) checkTableFunction(node.function.function_name);
    else if (isShowRef(node) && node.query === null) {
      throw forbiddenReference('SHOW DATABASES and SHOW TABLES must be the whole statement', { statement: 'SHOW' });
    } else if (isShowRef(node) && node.query !== null && isSelectNode(node.query) && isBaseTable(node.query.from_table)) {
      const [star] = node.query.select_list;
      if (star?.class === 'STAR' && locationOf(star) === null) this.bareTables.add(node.query.from_table);
    }
    // A three-part column name (db.table.column) would not survive the table becoming a subquery.
    const column = columnNames(node);
    if (column !== null && column.length > 2) this.rewritable = false;
    checkFunctionCall(node);
    if (node.class === 'FUNCTION' && typeof node.function_name === 'string' && NONDETERMINISTIC_FUNCTIONS.has(node.function_name.toLowerCase())) {
      this.deterministic = false;
    }
    // `current_timestamp` and its kin parse as column names; DuckDB binds them to the function.
    const [onlyName, ...more] = column ?? [];
    if (onlyName !== undefined && more.length === 0 && NONDETERMINISTIC_FUNCTIONS.has(onlyName.toLowerCase())) this.deterministic = false;
    if (isSelectNode(node)) this.collectBounds(node, scope);
    for (const child of childrenOf(node)) this.visit(child, scope);
  }

  /** The measurement a base table names, null for a CTE or a metadata view; throws when refused. */
  private resolve(table: BaseTableRef, ctes: ReadonlySet<string>): MeasurementRef | null {
    const known = this.resolved.get(table);
    if (known !== undefined) return known;
    const measurement = this.resolveUncached(table, ctes);
    this.resolved.set(table, measurement);
    return measurement;
  }

  private resolveUncached(table: BaseTableRef, ctes: ReadonlySet<string>): MeasurementRef | null {
    if (table.catalog_name !== '') {
      throw forbiddenReference(`Catalog-qualified names are not allowed: '${table.catalog_name}.${table.schema_name}.${table.table_name}'`, {
        catalog: table.catalog_name,
      });
    }
    const schema = table.schema_name;
    if (schema === '' && ctes.has(table.table_name.toLowerCase())) {
      // Which of a CTE and a same-named measurement DuckDB binds depends on CTE order; counting
      // the measurement as read keeps permission checks and cache invalidation on the safe side.
      const shadowed = this.names.measurement(this.context.defaultDatabase, table.table_name);
      if (shadowed !== undefined) this.addReference(this.context.defaultDatabase, shadowed);
      return null;
    }
    if (METADATA_SCHEMAS.has(schema.toLowerCase())) {
      const view = `${schema}.${table.table_name}`.toLowerCase();
      if (METADATA_VIEWS_REFUSED.has(view)) throw forbiddenReference(`'${view}' is not readable: it shows server paths`, { table: view });
      if (this.context.readable !== null) throw databaseDenied(schema);
      this.rewritable = false;
      return null;
    }
    const database = schema === '' ? this.context.defaultDatabase : schema;
    checkReadable(this.context, database);
    const canonicalDatabase = this.names.database(database);
    const measurement = canonicalDatabase === undefined ? undefined : this.names.measurement(canonicalDatabase, table.table_name);
    if (canonicalDatabase !== undefined && measurement !== undefined) return this.addReference(canonicalDatabase, measurement);
    const pending = this.pending.get(pendingKey(database, table.table_name));
    const location = locationOf(table);
    if (pending !== undefined && location !== null) {
      this.empty.push({
        database: pending.database,
        measurement: pending.measurement,
        location,
        tableName: table.table_name,
        hasAlias: table.alias !== '',
        bare: this.bareTables.has(table),
        columns: pending.columns,
      });
      this.addRead(pending.database, pending.measurement);
      // No files to prune: the reference becomes an empty relation, never a bounded one.
      return null;
    }
    if (canonicalDatabase === undefined) throw schema === '' ? unknownTable(database, table.table_name) : unknownDatabase(database);
    throw unknownTable(canonicalDatabase, table.table_name);
  }

  private addReference(database: string, measurement: string): MeasurementRef {
    const key = readKey(database, measurement);
    this.references.set(key, (this.references.get(key) ?? 0) + 1);
    return this.addRead(database, measurement);
  }

  private addRead(database: string, measurement: string): MeasurementRef {
    const key = readKey(database, measurement);
    const existing = this.reads.get(key);
    if (existing !== undefined) return existing;
    const read = { database, measurement };
    this.reads.set(key, read);
    return read;
  }

  /** Time bounds of the measurements this SELECT reads directly, from its WHERE's conjuncts. */
  private collectBounds(select: SelectNode, ctes: ReadonlySet<string>): void {
    const tables = directTables(select.from_table).flatMap((table) => {
      const measurement = this.resolve(table, ctes);
      const location = locationOf(table);
      return measurement === null || location === null ? [] : [{ table, measurement, location }];
    });
    if (tables.length === 0) return;
    const comparisons = conjunctsOf(select.where_clause).flatMap((conjunct) => timeComparison(conjunct) ?? []);
    for (const { table, measurement, location } of tables) {
      // `FROM cpu AS c(a, time)` renames the columns: its `time` is another column, never pruned by.
      if (renamesColumns(table)) continue;
      const reference = referenceNameOf(table);
      const own = comparisons.filter(({ column }) => {
        const [first, second] = column;
        if (column.length === 1) return tables.length === 1 && first?.toLowerCase() === TIME_COLUMN;
        return column.length === 2 && first?.toLowerCase() === reference && second?.toLowerCase() === TIME_COLUMN;
      });
      const lower = own.flatMap((comparison): SqlNode[] => (comparison.lower === null ? [] : [comparison.lower]));
      const uppers = own.filter((comparison) => comparison.upper !== null);
      const upper = uppers.flatMap((comparison): SqlNode[] => (comparison.upper === null ? [] : [comparison.upper]));
      const upperExclusive = uppers.map((comparison) => comparison.upperExclusive);
      if (lower.length === 0 && upper.length === 0) continue;
      this.bounded.push({ ...measurement, location, tableName: table.table_name, hasAlias: table.alias !== '', lower, upper, upperExclusive });
    }
  }
}

function readKey(database: string, measurement: string): string {
  return `${database}\u0000${measurement}`;
}

/** The reads that need no view: each of their references bounded by expressions that read no relation (see StatementPlan). */
function boundedOnlyReads(analyzer: ReadAnalyzer): MeasurementRef[] {
  if (!analyzer.rewritable) return [];
  const boundedReferences = new Map<string, number>();
  for (const table of analyzer.bounded) {
    // A bound that reaches a relation (a subquery) could read a measurement's view: then every view
    // is made. Any other bound (now() - INTERVAL 1 HOUR) reads nothing, whoever evaluates it.
    if ([...table.lower, ...table.upper].some(readsRelation)) return [];
    const key = readKey(table.database, table.measurement);
    boundedReferences.set(key, (boundedReferences.get(key) ?? 0) + 1);
  }
  return [...analyzer.reads].filter(([key]) => analyzer.references.has(key) && boundedReferences.get(key) === analyzer.references.get(key)).map(([, read]) => read);
}

function pendingKey(database: string, measurement: string): string {
  return `${database.toLowerCase()}\u0000${measurement.toLowerCase()}`;
}

function checkTableFunction(name: string): void {
  if (TABLE_FUNCTIONS_ALLOWED.has(name.toLowerCase())) return;
  throw forbiddenReference(
    `Table function '${name}' is not allowed: queries read measurements by name (database.measurement); allowed table functions: ${[...TABLE_FUNCTIONS_ALLOWED].join(', ')}`,
    { function: name },
  );
}
