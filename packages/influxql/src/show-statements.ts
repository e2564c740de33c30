import type { DeleteStatement, Expr, NameFilter, ShowOptions, Statement } from './ast.js';
import { filterNames } from './regex.js';
import { compareNames, UNSIGNED_FIELD_TYPE, type MeasurementSchema } from './schema.js';
import { rowsOf, sliceLimit, type Cell, type Series } from './series.js';
import { executeCardinality } from './show-cardinality.js';
import {
  distinctTagSetsSql,
  measurementsMatching,
  showSchemas,
  showSeries as series,
  SHOW_ROWS_MAX,
  tagKeysMatching,
  tagValuesByMeasurement,
  type ShowContext,
} from './show-sources.js';
import { formatGoDuration } from './time-values.js';

export type { ShowContext } from './show-sources.js';

/** The one retention policy every Arc database has (retention is configured per database elsewhere). */
const DEFAULT_RETENTION_POLICY = 'autogen';
/** InfluxDB's default shard group duration, reported for compatibility (Arc partitions by hour). */
const SHARD_GROUP_NANOS = 7n * 24n * 3_600_000_000_000n;

type ShowStatement = Exclude<Statement, { kind: 'select' } | { kind: 'createDatabase' } | { kind: 'createContinuousQuery' | 'showContinuousQueries' | 'dropContinuousQuery' } | DeleteStatement>;

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
    case 'showTagKeys':
      return showTagKeys(statement.options, statement.where, context);
    case 'showFieldKeys': {
      const { schemas } = await showSchemas(statement.options, context);
      const fieldKeys = (schema: MeasurementSchema): Cell[][] =>
        [...schema.fields].map(([name, type]) => [name, schema.unsignedFields.has(name) ? UNSIGNED_FIELD_TYPE : type]);
      return perMeasurement(schemas, ['fieldKey', 'fieldType'], fieldKeys, statement.options);
    }
    case 'showTagValues':
      return showTagValues(statement.options, statement.key, statement.where, context);
    case 'showSeries':
      return showSeriesKeys(statement.options, statement.where, context);
    case 'showCardinality':
      return executeCardinality(statement, context);
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
  let names = await context.catalog.measurements(database);
  if (filter !== null) names = await filterNames(names, filter, context.run, database);
  if (where !== null && names.length > 0) names = await measurementsMatching(database, names, where, context);
  const values = sliceLimit(names.map((name) => [name]), options.limit, options.offset);
  return values.length === 0 ? [] : [series('measurements', ['name'], values)];
}

/**
 * The tag keys of each measurement; with WHERE, those set in at least one point that satisfies
 * it (InfluxDB lists the keys of the series that match), measurements without such points left out.
 */
async function showTagKeys(options: ShowOptions, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const { database, schemas } = await showSchemas(options, context);
  if (where === null) return perMeasurement(schemas, ['tagKey'], (schema) => schema.tags.map((tag) => [tag]), options);
  const keysByMeasurement = new Map<string, string[]>();
  for (const schema of schemas) keysByMeasurement.set(schema.name, await tagKeysMatching(database, schema, where, context));
  return perMeasurement(schemas, ['tagKey'], (schema) => (keysByMeasurement.get(schema.name) ?? []).map((tag) => [tag]), options);
}

async function showTagValues(options: ShowOptions, key: NameFilter, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const shaped: Series[] = [];
  for (const { measurement, rows } of await tagValuesByMeasurement(options, key, where, context)) {
    const values = sliceLimit(rows, options.limit, options.offset);
    if (values.length > 0) shaped.push(series(measurement, ['key', 'value'], values));
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
async function showSeriesKeys(options: ShowOptions, where: Expr | null, context: ShowContext): Promise<Series[]> {
  const { database, schemas } = await showSchemas(options, context);
  const keys: string[] = [];
  for (const schema of schemas) {
    const measurement = escapeKey(schema.name, false);
    const result = await context.run(distinctTagSetsSql(database, schema, where, context.nowNanos), database, SHOW_ROWS_MAX);
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

