import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { Expr, NameFilter, ShowOptions } from './ast.js';
import type { CatalogReader, SqlRunner } from './catalog-reader.js';
import { filterNames, regexMatches } from './regex.js';
import { compareNames, type MeasurementSchema } from './schema.js';
import { rowsOf, type Cell, type Series } from './series.js';
import { GENERATED_SQL_BYTES_MAX, SCHEMA_READS_IN_FLIGHT } from './limits.js';
import { groupWithin, sqlTable } from './sql-text.js';
import { translateCondition } from './where-translator.js';

/** Rows of a SHOW answer are names and values; a generous bound for one statement. */
export const SHOW_ROWS_MAX = 1_000_000;

/** What the SHOW statements read: the catalog, the engine, the request's database and clock. */
export interface ShowContext {
  readonly catalog: CatalogReader;
  readonly run: SqlRunner;
  /** The request's database (`db`), used when a statement names none. */
  readonly database: string;
  readonly nowNanos: bigint;
  readonly canRead: (database: string) => boolean;
}

/** A SHOW answer's series (no tags, no time column). */
export function showSeries(name: string | null, columns: readonly string[], values: readonly (readonly Cell[])[]): Series {
  return { name, tags: null, columns, values, timeColumn: false };
}

/** The database a SHOW statement reads: `FROM db.rp.m`, else `ON db`, else the request's. */
export function showDatabase(options: ShowOptions, context: ShowContext): string {
  return options.measurement?.database ?? options.database ?? context.database;
}

/** The measurements `[FROM m | FROM /re/]` names (all without FROM), sorted by name. */
export async function showMeasurementNames(options: ShowOptions, context: ShowContext): Promise<string[]> {
  const database = showDatabase(options, context);
  const source = options.measurement;
  if (source === null) return context.catalog.measurements(database);
  if (source.regex === undefined) return [source.measurement];
  const all = await context.catalog.measurements(database);
  const matched = await regexMatches(all, source.regex.pattern, context.run, database);
  return all.filter((name) => matched.has(name));
}

/** The schemas a SHOW ... [FROM m] statement covers, sorted by measurement name. */
export async function showSchemas(options: ShowOptions, context: ShowContext): Promise<{ database: string; schemas: MeasurementSchema[] }> {
  const database = showDatabase(options, context);
  return { database, schemas: await readSchemas(database, await showMeasurementNames(options, context), context) };
}

/** The schemas of the measurements `names` that exist, in their order, a few read at once. */
async function readSchemas(database: string, names: readonly string[], context: ShowContext): Promise<MeasurementSchema[]> {
  const schemas: MeasurementSchema[] = [];
  for (let start = 0; start < names.length; start += SCHEMA_READS_IN_FLIGHT) {
    const batch = names.slice(start, start + SCHEMA_READS_IN_FLIGHT);
    for (const schema of await Promise.all(batch.map((name) => context.catalog.schema(database, name)))) if (schema !== null) schemas.push(schema);
  }
  return schemas;
}

/** Measurements having at least one point that satisfies `where` (one SQL statement for all). */
export async function measurementsMatching(database: string, names: readonly string[], where: Expr, context: ShowContext): Promise<string[]> {
  const branches = (await readSchemas(database, names, context)).map((schema) => {
    const condition = translateCondition(where, { schema, nowNanos: context.nowNanos });
    return `SELECT ${quoteLiteral(schema.name)} AS name WHERE EXISTS (SELECT 1 FROM ${sqlTable(database, schema.name)} WHERE ${condition})`;
  });
  const matching: string[] = [];
  for (const group of groupWithin(branches, ' UNION ALL ', GENERATED_SQL_BYTES_MAX)) {
    const result = await context.run(group.join(' UNION ALL '), database, SHOW_ROWS_MAX);
    for (const [name] of rowsOf(result)) matching.push(String(name));
  }
  return matching.sort(compareNames);
}

/** The tags of `schema` set in some point satisfying `where`. */
export async function tagKeysMatching(database: string, schema: MeasurementSchema, where: Expr, context: ShowContext): Promise<string[]> {
  if (schema.tags.length === 0) return [];
  const condition = translateCondition(where, { schema, nowNanos: context.nowNanos });
  const present = schema.tags.map((tag) => `count(${quoteIdentifier(tag)}) > 0`).join(', ');
  const result = await context.run(`SELECT ${present} FROM ${sqlTable(database, schema.name)} WHERE ${condition}`, database, 1);
  const [row] = rowsOf(result);
  return schema.tags.filter((_, index) => row?.[index] === true);
}

/** The SQL listing the distinct tag sets of `schema` among the points satisfying `where`. */
export function distinctTagSetsSql(database: string, schema: MeasurementSchema, where: Expr | null, nowNanos: bigint): string {
  const condition = where === null ? 'TRUE' : translateCondition(where, { schema, nowNanos });
  const columns = schema.tags.length === 0 ? 'NULL AS no_tag' : schema.tags.map((tag) => `CAST(${quoteIdentifier(tag)} AS VARCHAR)`).join(', ');
  return `SELECT DISTINCT ${columns} FROM ${sqlTable(database, schema.name)} WHERE ${condition}`;
}

/** The distinct (key, value) rows of the tags `key` accepts, per measurement with any, sorted. */
export async function tagValuesByMeasurement(
  options: ShowOptions,
  key: NameFilter,
  where: Expr | null,
  context: ShowContext,
): Promise<{ measurement: string; rows: Cell[][] }[]> {
  const { database, schemas } = await showSchemas(options, context);
  const allKeys = [...new Set(schemas.flatMap((schema) => schema.tags))].sort(compareNames);
  const accepted = new Set(await filterNames(allKeys, key, context.run, database));
  const found: { measurement: string; rows: Cell[][] }[] = [];
  for (const schema of schemas) {
    const keys = schema.tags.filter((tag) => accepted.has(tag));
    if (keys.length === 0) continue;
    const condition = where === null ? 'TRUE' : translateCondition(where, { schema, nowNanos: context.nowNanos });
    const branches = keys.map(
      (tag) => `SELECT DISTINCT ${quoteLiteral(tag)} AS key, CAST(${quoteIdentifier(tag)} AS VARCHAR) AS value FROM ${sqlTable(database, schema.name)} WHERE ${quoteIdentifier(tag)} IS NOT NULL AND ${condition}`,
    );
    const result = await context.run(`${branches.join(' UNION ALL ')} ORDER BY key, value`, database, SHOW_ROWS_MAX);
    const rows = rowsOf(result);
    if (rows.length > 0) found.push({ measurement: schema.name, rows });
  }
  return found;
}
