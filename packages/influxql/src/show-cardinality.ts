import assert from 'node:assert/strict';
import { quoteLiteral, TIME_COLUMN } from '@arc/columnar';
import type { Expr, Statement } from './ast.js';
import { rowsOf, sliceLimit, type Cell, type Series } from './series.js';
import {
  distinctTagSetsSql,
  measurementsMatching,
  showDatabase,
  showMeasurementNames,
  showSchemas,
  showSeries,
  SHOW_ROWS_MAX,
  tagKeysMatching,
  tagValuesByMeasurement,
  type ShowContext,
} from './show-sources.js';
import { GENERATED_SQL_BYTES_MAX } from './limits.js';
import { StatementFailure, groupWithin } from './sql-text.js';

type CardinalityStatement = Extract<Statement, { kind: 'showCardinality' }>;

/** InfluxDB's column for the sketch-based counts of the plain forms; Arc's count is exact. */
const ESTIMATION_COLUMN = 'cardinality estimation';
const COUNT_COLUMN = 'count';

/**
 * `SHOW SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES [EXACT] CARDINALITY`, shaped as InfluxDB 1.x
 * answers each: the plain series and measurement forms with neither FROM nor WHERE give one
 * unnamed `cardinality estimation` (0 for an empty database); the others count exactly, series,
 * tag keys, field keys and tag values per measurement (series named after it, column `count`, zero counts
 * left out), measurements as one unnamed `count`. Arc counts exactly in every form.
 */
export async function executeCardinality(statement: CardinalityStatement, context: ShowContext): Promise<Series[]> {
  const estimated = !statement.exact && statement.options.measurement === null && statement.where === null;
  switch (statement.of) {
    case 'measurement':
      return measurementCardinality(statement, estimated, context);
    case 'series': {
      if (statement.where !== null && mentionsTime(statement.where)) throw new StatementFailure("SHOW SERIES EXACT CARDINALITY doesn't support time in WHERE clause");
      const counts = await seriesCounts(statement, context);
      if (estimated) return [showSeries(null, [ESTIMATION_COLUMN], [[counts.reduce((total, [, count]) => total + count, 0)]])];
      return perMeasurementCounts(counts, statement);
    }
    case 'tagKey':
      return perMeasurementCounts(await tagKeyCounts(statement, context), statement);
    case 'tagValues': {
      assert.ok(statement.key !== null, 'SHOW TAG VALUES CARDINALITY has a WITH KEY');
      const found = await tagValuesByMeasurement(statement.options, statement.key, statement.where, context);
      return perMeasurementCounts(found.map(({ measurement, rows }) => [measurement, rows.length]), statement);
    }
    case 'fieldKey': {
      const { schemas } = await showSchemas(statement.options, context);
      return perMeasurementCounts(schemas.map((schema) => [schema.name, schema.fields.size]), statement);
    }
  }
}

function perMeasurementCounts(counts: readonly (readonly [string, number])[], statement: CardinalityStatement): Series[] {
  const shaped: Series[] = [];
  for (const [name, count] of counts) {
    if (count === 0) continue;
    const values = sliceLimit<Cell[]>([[count]], statement.options.limit, statement.options.offset);
    if (values.length > 0) shaped.push(showSeries(name, [COUNT_COLUMN], values));
  }
  return shaped;
}

async function measurementCardinality(statement: CardinalityStatement, estimated: boolean, context: ShowContext): Promise<Series[]> {
  const database = showDatabase(statement.options, context);
  let names = await showMeasurementNames(statement.options, context);
  if (estimated) return [showSeries(null, [ESTIMATION_COLUMN], [[names.length]])];
  if (statement.options.measurement !== null) {
    const existing: string[] = [];
    for (const name of names) if ((await context.catalog.schema(database, name)) !== null) existing.push(name);
    names = existing;
  }
  if (statement.where !== null && names.length > 0) names = await measurementsMatching(database, names, statement.where, context);
  return names.length === 0 ? [] : [showSeries(null, [COUNT_COLUMN], [[names.length]])];
}

/** Distinct tag sets per measurement (one SQL statement for all), in measurement order. */
async function seriesCounts(statement: CardinalityStatement, context: ShowContext): Promise<[string, number][]> {
  const { database, schemas } = await showSchemas(statement.options, context);
  if (schemas.length === 0) return [];
  const branches = schemas.map(
    (schema, index) =>
      `SELECT ${String(index)} AS position, ${quoteLiteral(schema.name)} AS name, count(*) AS series FROM (${distinctTagSetsSql(database, schema, statement.where, context.nowNanos)})`,
  );
  const counts: [string, number][] = [];
  for (const group of groupWithin(branches, ' UNION ALL ', GENERATED_SQL_BYTES_MAX)) {
    const result = await context.run(`${group.join(' UNION ALL ')} ORDER BY position`, database, SHOW_ROWS_MAX);
    for (const [, name, count] of rowsOf(result)) counts.push([String(name), Number(count)]);
  }
  return counts;
}

async function tagKeyCounts(statement: CardinalityStatement, context: ShowContext): Promise<[string, number][]> {
  const { database, schemas } = await showSchemas(statement.options, context);
  const where = statement.where;
  const counts: [string, number][] = [];
  for (const schema of schemas) counts.push([schema.name, where === null ? schema.tags.length : (await tagKeysMatching(database, schema, where, context)).length]);
  return counts;
}

function mentionsTime(expr: Expr): boolean {
  if (expr.kind === 'identifier') return expr.name.toLowerCase() === TIME_COLUMN;
  if (expr.kind === 'binary') return mentionsTime(expr.left) || mentionsTime(expr.right);
  if (expr.kind === 'unary') return mentionsTime(expr.operand);
  return false;
}

