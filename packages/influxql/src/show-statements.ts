import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { Expr, NameFilter, ShowOptions, Statement } from './ast.js';
import type { CatalogReader, SqlRunner } from './catalog-reader.js';
import { compareNames, type MeasurementSchema } from './schema.js';
import { rowsOf, sliceLimit, type Cell, type Series } from './series.js';
import { StatementFailure, sqlTable } from './sql-text.js';
import { formatGoDuration } from './time-values.js';
import { translateCondition } from './where-translator.js';

/** Rows of a SHOW answer are names and values; a generous bound for one statement. */
const SHOW_ROWS_MAX = 1_000_000;
/** The one retention policy every Arc database has (retention is configured per database elsewhere). */
const DEFAULT_RETENTION_POLICY = 'autogen';
/** InfluxDB's default shard group duration, reported for compatibility (Arc partitions by hour). */
const SHARD_GROUP_NANOS = 7n * 24n * 3_600_000_000_000n;

export interface ShowContext {
  readonly catalog: CatalogReader;
  readonly run: SqlRunner;
  /** The request's database (`db`), used when a statement names none. */
  readonly database: string;
  readonly nowNanos: bigint;
  readonly canRead: (database: string) => boolean;
}

type ShowStatement = Exclude<Statement, { kind: 'select' } | { kind: 'createDatabase' }>;

function series(name: string | null, columns: readonly string[], values: readonly (readonly Cell[])[]): Series {
  return { name, tags: null, columns, values, timeColumn: false };
}

function compileFilter(filter: NameFilter): (name: string) => boolean {
  switch (filter.kind) {
    case 'equal':
      return (name) => name === filter.value;
    case 'notEqual':
      return (name) => name !== filter.value;
    case 'in':
      return (name) => filter.values.includes(name);
    default: {
      let pattern: RegExp;
      try {
        pattern = new RegExp(filter.pattern);
      } catch (error) {
        throw new StatementFailure(`invalid regular expression /${filter.pattern}/: ${(error as Error).message}`);
      }
      return filter.kind === 'match' ? (name) => pattern.test(name) : (name) => !pattern.test(name);
    }
  }
}

/** The schemas a SHOW ... [FROM m] statement covers, sorted by measurement name. */
async function schemasOf(options: ShowOptions, context: ShowContext): Promise<{ database: string; schemas: MeasurementSchema[] }> {
  const database = options.measurement?.database ?? options.database ?? context.database;
  const names = options.measurement === null ? await context.catalog.measurements(database) : [options.measurement.measurement];
  const schemas: MeasurementSchema[] = [];
  for (const name of names) {
    const schema = await context.catalog.schema(database, name);
    if (schema !== null) schemas.push(schema);
  }
  return { database, schemas };
}

export async function executeShow(statement: ShowStatement, context: ShowContext): Promise<Series[]> {
  switch (statement.kind) {
    case 'showDatabases': {
      const databases = (await context.catalog.databases()).filter((name) => context.canRead(name));
      return [series('databases', ['name'], databases.map((name) => [name]))];
    }
    case 'showRetentionPolicies':
      return [series(null, ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], [[DEFAULT_RETENTION_POLICY, '0s', formatGoDuration(SHARD_GROUP_NANOS), 1, true]])];
    case 'showMeasurements':
      return showMeasurements(statement.options, statement.filter, statement.where, context);
    case 'showTagKeys': {
      const { schemas } = await schemasOf(statement.options, context);
      return perMeasurement(schemas, ['tagKey'], (schema) => schema.tags.map((tag) => [tag]), statement.options);
    }
    case 'showFieldKeys': {
      const { schemas } = await schemasOf(statement.options, context);
      return perMeasurement(schemas, ['fieldKey', 'fieldType'], (schema) => [...schema.fields].map(([name, type]) => [name, type]), statement.options);
    }
    case 'showTagValues':
      return showTagValues(statement.options, statement.key, statement.where, context);
    case 'showSeries':
      return showSeries(statement.options, statement.where, context);
  }
}

function perMeasurement(
  schemas: readonly MeasurementSchema[],
  columns: readonly string[],
  valuesOf: (schema: MeasurementSchema) => Cell[][],
  options: ShowOptions,
): Series[] {
  const shaped: Series[] = [];
  for (const schema of schemas) {
    const values = sliceLimit(valuesOf(schema), options.limit, options.offset);
    if (values.length > 0) shaped.push(series(schema.name, columns, values));
  }
  return shaped;
}

async function showMeasurements(options: ShowOptions, filter: NameFilter | null, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const database = options.database ?? context.database;
  const accepts = filter === null ? () => true : compileFilter(filter);
  let names = (await context.catalog.measurements(database)).filter(accepts);
  if (where !== null && names.length > 0) names = await measurementsMatching(database, names, where, context);
  const values = sliceLimit(names.map((name) => [name]), options.limit, options.offset);
  return values.length === 0 ? [] : [series('measurements', ['name'], values)];
}

/** Measurements having at least one point that satisfies `where` (one SQL statement for all). */
async function measurementsMatching(database: string, names: readonly string[], where: Expr, context: ShowContext): Promise<string[]> {
  const branches: string[] = [];
  for (const name of names) {
    const schema = await context.catalog.schema(database, name);
    if (schema === null) continue;
    const condition = translateCondition(where, { schema, nowNanos: context.nowNanos });
    branches.push(`SELECT ${quoteLiteral(name)} AS name WHERE EXISTS (SELECT 1 FROM ${sqlTable(database, name)} WHERE ${condition})`);
  }
  if (branches.length === 0) return [];
  const result = await context.run(`${branches.join(' UNION ALL ')} ORDER BY name`, database, SHOW_ROWS_MAX);
  return rowsOf(result).map(([name]) => String(name));
}

async function showTagValues(options: ShowOptions, key: NameFilter, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const { database, schemas } = await schemasOf(options, context);
  const accepts = compileFilter(key);
  const shaped: Series[] = [];
  for (const schema of schemas) {
    const keys = schema.tags.filter(accepts);
    if (keys.length === 0) continue;
    const condition = where === null ? 'TRUE' : translateCondition(where, { schema, nowNanos: context.nowNanos });
    const branches = keys.map(
      (tag) => `SELECT DISTINCT ${quoteLiteral(tag)} AS key, CAST(${quoteIdentifier(tag)} AS VARCHAR) AS value FROM ${sqlTable(database, schema.name)} WHERE ${quoteIdentifier(tag)} IS NOT NULL AND ${condition}`,
    );
    const result = await context.run(`${branches.join(' UNION ALL ')} ORDER BY key, value`, database, SHOW_ROWS_MAX);
    const values = sliceLimit(rowsOf(result), options.limit, options.offset);
    if (values.length > 0) shaped.push(series(schema.name, ['key', 'value'], values));
  }
  return shaped;
}

/** Line protocol's escaping of a measurement name (`,` and space) and of tag keys and values (also `=`). */
function escapeKey(text: string, escapeEquals: boolean): string {
  return text.replace(escapeEquals ? /[,= ]/g : /[, ]/g, (character) => `\\${character}`);
}

/**
 * SHOW SERIES: one series without a name, column `key`, a line-protocol series key
 * (`cpu,host=a,region=us`) per distinct tag set; tags that are NULL are left out of the key.
 */
async function showSeries(options: ShowOptions, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const { database, schemas } = await schemasOf(options, context);
  const keys: string[] = [];
  for (const schema of schemas) {
    const condition = where === null ? 'TRUE' : translateCondition(where, { schema, nowNanos: context.nowNanos });
    const measurement = escapeKey(schema.name, false);
    const columns = schema.tags.length === 0 ? 'NULL AS no_tag' : schema.tags.map((tag) => `CAST(${quoteIdentifier(tag)} AS VARCHAR)`).join(', ');
    const result = await context.run(`SELECT DISTINCT ${columns} FROM ${sqlTable(database, schema.name)} WHERE ${condition}`, database, SHOW_ROWS_MAX);
    for (const row of rowsOf(result)) {
      const pairs = schema.tags.flatMap((tag, index) => {
        const value = row[index];
        return value === null || value === undefined ? [] : [`${escapeKey(tag, true)}=${escapeKey(String(value), true)}`];
      });
      keys.push([measurement, ...pairs].join(','));
    }
  }
  const values = sliceLimit(keys.sort(compareNames).map((key) => [key]), options.limit, options.offset);
  return values.length === 0 ? [] : [series(null, ['key'], values)];
}
