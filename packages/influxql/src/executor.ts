import { isArcError } from '@arc/errors';
import { validateDatabaseName } from '@arc/columnar';
import type { SelectStatement, Statement } from './ast.js';
import { CatalogReader, type SqlRunner } from './catalog-reader.js';
import { SELECT_ROWS_MAX } from './limits.js';
import { planSelect } from './select-planner.js';
import { shapeSelect } from './select-shaper.js';
import { compareNames } from './schema.js';
import type { Series, StatementResult } from './series.js';
import { executeShow } from './show-statements.js';
import { StatementFailure } from './sql-text.js';

export interface ExecutionContext {
  readonly run: SqlRunner;
  /** The request's database (`db`, else `x-arc-database`, else `default`). */
  readonly database: string;
  readonly nowNanos: bigint;
  /** Whether the caller's token may read a database (SHOW DATABASES lists only those). */
  readonly canRead: (database: string) => boolean;
}

/** InfluxDB's text for statements after a failed one: they are not run. */
const NOT_EXECUTED = 'not executed';

/** The databases a statement reads: the route checks the caller may read each before running any. */
export function statementDatabases(statement: Statement, database: string): string[] {
  switch (statement.kind) {
    case 'select':
      return [...new Set(statement.sources.map((source) => source.database ?? database))];
    case 'showDatabases':
    case 'createDatabase':
      return [];
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
    default:
      return executeShow(statement, { catalog, run: context.run, database: context.database, nowNanos: context.nowNanos, canRead: context.canRead });
  }
}

async function executeSelect(statement: SelectStatement, catalog: CatalogReader, context: ExecutionContext): Promise<Series[]> {
  const series: Series[] = [];
  const sources = [...statement.sources].sort((left, right) => compareNames(left.measurement, right.measurement));
  for (const source of sources) {
    const database = source.database ?? context.database;
    const schema = await catalog.schema(database, source.measurement);
    if (schema === null) continue;
    const plan = planSelect(statement, { database, schema, nowNanos: context.nowNanos });
    if (plan === null) continue;
    const result = await context.run(plan.sql, database, SELECT_ROWS_MAX + 1);
    if ((result.data[0]?.length ?? 0) > SELECT_ROWS_MAX) {
      throw new StatementFailure(`the result exceeds ${String(SELECT_ROWS_MAX)} rows; add LIMIT, a narrower time range or GROUP BY time()`);
    }
    series.push(...shapeSelect(plan, result, context.nowNanos));
  }
  return series;
}
