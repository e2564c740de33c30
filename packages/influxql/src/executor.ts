import { isArcError } from '@arc/errors';
import { validateDatabaseName } from '@arc/columnar';
import type { SelectStatement, Source, Statement } from './ast.js';
import { CatalogReader, type SqlRunner } from './catalog-reader.js';
import { executeDelete, type InfluxDeletes } from './delete-execution.js';
import { SCHEMA_READS_IN_FLIGHT, SELECT_ROWS_MAX } from './limits.js';
import { regexMatches } from './regex.js';
import { planSelect, type SelectContext } from './select-planner.js';
import { shapeSelect } from './select-shaper.js';
import { compareNames } from './schema.js';
import { rowCountOf, type Series, type StatementResult } from './series.js';
import { executeShow } from './show-statements.js';
import { createContinuousQuery, dropContinuousQuery, showContinuousQueries, type ContinuousQueryPort, type ContinuousQuerySource, type ReadContinuousQuerySources } from './continuous-query-statements.js';
import { StatementFailure } from './sql-text.js';
import { subqueryTable } from './subquery.js';
import { planTopBottom, topBottomCall } from './top-bottom.js';
import { applyTransforms, planTransforms } from './transform-functions.js';

export interface ExecutionContext {
  readonly run: SqlRunner;
  /** The request's database (`db`, else `x-arc-database`, else `default`). */
  readonly database: string;
  readonly nowNanos: bigint;
  /** Whether the caller's token may read a database (SHOW DATABASES lists only those). */
  readonly canRead: (database: string) => boolean;
  /** Arc's continuous queries (CREATE / SHOW / DROP CONTINUOUS QUERY); absent: those statements fail. */
  readonly continuousQueries?: ContinuousQueryPort;
  /** DELETE / DROP SERIES / DROP MEASUREMENT (delete-execution.ts); absent: refused. */
  readonly deletes?: InfluxDeletes;
}

/** InfluxDB's text for statements after a failed one: they are not run. */
const NOT_EXECUTED = 'not executed';

/** The databases a statement reads: the route checks the caller may read each before running any. */
export function statementDatabases(statement: Statement, database: string): string[] {
  switch (statement.kind) {
    case 'select':
      return [...new Set(statement.sources.flatMap((source) => (source.subquery === undefined ? [source.database ?? database] : statementDatabases(source.subquery, database))))];
    case 'showDatabases':
    case 'createDatabase':
    case 'showContinuousQueries':
      return [];
    case 'createContinuousQuery':
    case 'dropContinuousQuery':
      return [statement.database];
    case 'delete':
    case 'dropSeries':
    case 'dropMeasurement':
      return [database];
    case 'showRetentionPolicies':
      return [statement.database ?? database];
    case 'showMeasurements':
      return [statement.options.database ?? database];
    default:
      return [statement.options.measurement?.database ?? statement.options.database ?? database];
  }
}

/**
 * Runs the statements in order, like InfluxDB: each gets a result; after the first that fails,
 * the rest answer `not executed`. Operating errors (bad field types, SQL errors, timeouts)
 * become a statement's `error`; anything else is a bug and propagates.
 */
export async function executeStatements(statements: readonly Statement[], context: ExecutionContext): Promise<StatementResult[]> {
  const catalog = new CatalogReader(context.run, context.database);
  const results: StatementResult[] = [];
  for (const statement of statements) {
    if (results.some((result) => 'error' in result)) {
      results.push({ error: NOT_EXECUTED });
      continue;
    }
    try {
      results.push({ series: await executeStatement(statement, catalog, context) });
    } catch (error) {
      if (!(error instanceof StatementFailure) && !isArcError(error)) throw error;
      results.push({ error: error.message });
    }
  }
  return results;
}

async function executeStatement(statement: Statement, catalog: CatalogReader, context: ExecutionContext): Promise<readonly Series[]> {
  switch (statement.kind) {
    case 'select':
      return executeSelect(statement, catalog, context);
    case 'createDatabase': {
      // A database exists once data is written to it (no directory is made); the name must be one Arc accepts.
      const invalid = validateDatabaseName(statement.name);
      if (invalid !== null) throw invalid;
      return [];
    }
    case 'createContinuousQuery':
    case 'showContinuousQueries':
    case 'dropContinuousQuery':
      return executeContinuousQueryStatement(statement, catalog, context);
    case 'delete':
    case 'dropSeries':
    case 'dropMeasurement':
      return executeDelete(statement, catalog, context, (sources) => expandSources(sources, catalog, context.run, context.database));
    default:
      return executeShow(statement, { catalog, run: context.run, database: context.database, nowNanos: context.nowNanos, canRead: context.canRead });
  }
}

async function executeContinuousQueryStatement(statement: Extract<Statement, { kind: 'createContinuousQuery' | 'showContinuousQueries' | 'dropContinuousQuery' }>, catalog: CatalogReader, context: ExecutionContext): Promise<readonly Series[]> {
  const port = context.continuousQueries;
  if (port === undefined) throw new StatementFailure('continuous queries are not available here');
  if (statement.kind === 'dropContinuousQuery') return dropContinuousQuery(statement.name, statement.database, port);
  if (statement.kind === 'showContinuousQueries') return showContinuousQueries(port, await catalog.databases(), context.canRead);
  return createContinuousQuery(statement, port, (sources, database) => continuousQuerySources(sources, database, catalog, context.run), context.nowNanos);
}

/** How a continuous query's FROM is read over `run` (the server's re-expansion of kept statements): a fresh catalog each call. */
export function continuousQuerySourceReader(run: SqlRunner): ReadContinuousQuerySources {
  return (sources, database) => continuousQuerySources(sources, database, new CatalogReader(run, database), run);
}

/** FROM's measurements with their schemas (null: no data), a few read at once. */
async function continuousQuerySources(sources: readonly Source[], database: string, catalog: CatalogReader, run: SqlRunner): Promise<ContinuousQuerySource[]> {
  const expanded = await expandSources(sources, catalog, run, database);
  const read: ContinuousQuerySource[] = [];
  for (let start = 0; start < expanded.length; start += SCHEMA_READS_IN_FLIGHT) {
    const batch = expanded.slice(start, start + SCHEMA_READS_IN_FLIGHT).map(async (source) => {
      const sourceDatabase = source.database ?? database;
      return { database: sourceDatabase, measurement: source.measurement, schema: await catalog.schema(sourceDatabase, source.measurement) };
    });
    read.push(...(await Promise.all(batch)));
  }
  return read;
}

/**
 * The statement's sources with each `FROM /regex/` replaced by the measurements it matches (RE2,
 * case-sensitive, as InfluxDB), each measurement once, sorted by name as InfluxDB answers them.
 */
export async function expandSources(sources: readonly Source[], catalog: CatalogReader, run: SqlRunner, defaultDatabase: string): Promise<Source[]> {
  const expanded = new Map<string, Source>();
  const subqueries: Source[] = [];
  for (const source of sources) {
    // A subquery is its own source (answered first, executeSelect), never a name to expand.
    if (source.subquery !== undefined) {
      subqueries.push(source);
      continue;
    }
    const database = source.database ?? defaultDatabase;
    const names = source.regex === undefined ? [source.measurement] : [...(await regexMatches(await catalog.measurements(database), source.regex.pattern, run, database))];
    for (const measurement of names) expanded.set(`${database}\u0000${measurement}`, { database: source.database, measurement });
  }
  return [...[...expanded.values()].sort((left, right) => compareNames(left.measurement, right.measurement)), ...subqueries];
}

async function executeSelect(statement: SelectStatement, catalog: CatalogReader, context: ExecutionContext): Promise<Series[]> {
  const series: Series[] = [];
  const sources = await expandSources(statement.sources, catalog, context.run, context.database);
  for (const source of sources) {
    const database = source.database ?? context.database;
    if (source.subquery !== undefined) {
      const table = subqueryTable(await executeSelect(source.subquery, catalog, context));
      if (table !== null) series.push(...(await selectFrom(statement, { database, schema: table.schema, nowNanos: context.nowNanos, fromSql: table.fromSql }, context)));
      continue;
    }
    const schema = await catalog.schema(database, source.measurement);
    if (schema !== null) series.push(...(await selectFrom(statement, { database, schema, nowNanos: context.nowNanos }, context)));
  }
  return series;
}

/** One SELECT over one measurement (or a subquery's table): planned, run, shaped. */
async function selectFrom(statement: SelectStatement, selectContext: SelectContext, context: ExecutionContext): Promise<Series[]> {
  // derivative() and its kin: the SQL computes their arguments, JS the transformation.
  const transforms = planTransforms(statement);
  const planned = transforms?.inner ?? statement;
  const topBottom = topBottomCall(planned);
  const plan = topBottom === null ? planSelect(planned, selectContext) : planTopBottom(planned, topBottom, selectContext);
  if (plan === null) return [];
  const result = await context.run(plan.sql, selectContext.database, SELECT_ROWS_MAX + 1);
  if (rowCountOf(result) > SELECT_ROWS_MAX) {
    throw new StatementFailure(`the result exceeds ${String(SELECT_ROWS_MAX)} rows; add LIMIT, a narrower time range or GROUP BY time()`);
  }
  const shaped = shapeSelect(plan, result, context.nowNanos);
  const answered = transforms === null ? shaped : applyTransforms(transforms, shaped, context.nowNanos, plan.bucketOf);
  const timeZone = statement.timeZone;
  return timeZone === null ? answered : answered.map((one) => ({ ...one, timeZone }));
}
