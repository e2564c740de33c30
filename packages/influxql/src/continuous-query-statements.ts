import assert from 'node:assert/strict';
import type { CreateContinuousQueryStatement, Source } from './ast.js';
import { formatDuration } from './continuous-query-parser.js';
import { arcNameOf, continuousQueryDefinition, needsSchemas, refused, templateDefinitions, type ContinuousQueryDefinition, type ContinuousQuerySource } from './continuous-query-sql.js';
import { isParseError, parseQuery } from './parser.js';
import type { Series } from './series.js';
import { StatementFailure } from './sql-text.js';

/**
 * CREATE / SHOW / DROP CONTINUOUS QUERY run against Arc's continuous queries (the port the server
 * gives: packages/compaction's ContinuousQueries), so an InfluxDB 1.x definition becomes ordinary
 * continuous queries (continuous-query-sql.ts translates the SELECT). Arc stores it as
 * `<db>.<name>` (names are per database in InfluxQL, global in Arc), or `<db>.<name>.<measurement>`
 * per measurement of a regex or several FROM measurements, each with InfluxDB's normalised
 * statement as its description: SHOW lists, CREATE compares and DROP deletes by it, so the
 * expanded queries act as the one InfluxQL query. A statement Arc expands over the data (fn(*),
 * GROUP BY *, FROM /re/ or several measurements) is kept too, as a template named `<db>.<name>`
 * (even when nothing matches yet): the server re-expands it as measurements, fields and tags
 * appear (continuous-query-templates.ts), SHOW lists it, DROP removes it with its queries.
 */

/** A continuous query as the port lists it. */
export interface ContinuousQueryEntry {
  readonly name: string;
  readonly database: string;
  readonly query: string;
  readonly description: string | null;
  /** When it was made (SHOW lists a database's queries in creation order). */
  readonly createdAtMs: number;
}

/** A statement kept to be re-expanded over the data: `<db>.<name>`, its ON database and SHOW's text. */
export interface ContinuousQueryTemplate {
  readonly name: string;
  readonly database: string;
  readonly statement: string;
  readonly createdAtMs: number;
}

export { arcNameOf };
export type { ContinuousQueryDefinition, ContinuousQuerySource };

/** What the executor needs of Arc's continuous queries (the server provides it). */
export interface ContinuousQueryPort {
  list(): readonly ContinuousQueryEntry[];
  /** Stores a new query; throws an ArcError (its message becomes the statement's error) when refused. */
  create(definition: ContinuousQueryDefinition): Promise<void>;
  /** Deletes the query of that name; nothing when there is none. */
  remove(name: string): void;
  /** The statements kept to be re-expanded, oldest first. */
  templates(): readonly ContinuousQueryTemplate[];
  /** Keeps a statement to re-expand; throws an ArcError when refused (too many). */
  addTemplate(template: Omit<ContinuousQueryTemplate, 'createdAtMs'>): void;
  /** Deletes the template of that name; nothing when there is none. */
  removeTemplate(name: string): void;
}

/** The prefix of the description of a query made by CREATE CONTINUOUS QUERY. */
const INFLUXQL_MARK = 'CREATE CONTINUOUS QUERY ';


/** An identifier as InfluxDB prints it: bare when it can be, else double-quoted. */
function identifierText(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `db.rp.m` (or `db.rp./re/`) as SHOW prints a source or target: the CQ's database and `autogen` when not given. */
function qualifiedText(source: Source, database: string): string {
  const measurement = source.measurementBackReference === true ? ':MEASUREMENT' : source.regex === undefined ? identifierText(source.measurement) : `/${source.regex.pattern}/`;
  return `${identifierText(source.database ?? database)}.${identifierText(source.retentionPolicy ?? 'autogen')}.${measurement}`;
}

/** SELECT, WHERE, GROUP BY and TZ upper case, GROUP BY's dimensions one comma and space apart (`time(1h), *`), as InfluxDB prints them. */
function clausesText(text: string): string {
  return text
    .replace(/^select\b/i, 'SELECT')
    .replace(/\bwhere\b/i, 'WHERE')
    .replace(/\btz\s*\(/i, 'TZ(')
    // GROUP BY's dimensions hold no strings.
    .replace(/\bgroup\s+by\s+([\s\S]*?)(?=\s+(?:fill|order|limit|offset|slimit|soffset|tz)\b|\s*$)/i, (_all, dimensions: string) => `GROUP BY ${dimensions.trim().replace(/\s*,\s*/g, ', ')}`);
}

/**
 * A subquery as SHOW prints it: its FROM qualified too. Its sources are names or regexes (one
 * level: parser.ts refuses a subquery inside), so FROM runs to the next clause.
 */
function subqueryText(source: Source, database: string): string {
  const { subquery, subqueryText: text } = source;
  assert.ok(subquery !== undefined && text !== undefined, 'a subquery source has its statement and text');
  const qualified = text.replace(/\bfrom\s+[\s\S]*?(?=\s+(?:where|group|fill|order|limit|offset|slimit|soffset|tz)\b|\s*$)/i, () => `FROM ${sourcesText(subquery.sources, database)}`);
  return `(${clausesText(qualified)})`;
}

/** FROM's sources as SHOW prints them. */
function sourcesText(sources: readonly Source[], database: string): string {
  return sources.map((source) => (source.subquery === undefined ? qualifiedText(source, database) : subqueryText(source, database))).join(', ');
}

/** InfluxDB's SHOW text of the statement: INTO and FROM qualified with the database and `autogen`, keywords upper case. */
export function showText(statement: CreateContinuousQueryStatement): string {
  const { selectText, intoFromOffsetStart, intoFromOffsetEnd, database } = statement;
  const head = clausesText(selectText.slice(0, intoFromOffsetStart));
  const tail = clausesText(selectText.slice(intoFromOffsetEnd));
  const intoFrom = `INTO ${qualifiedText(statement.into, database)} FROM ${sourcesText(statement.select.sources, database)}`;
  const select = `${head}${intoFrom}${tail === '' ? '' : ` ${tail}`}`;
  const resample = [statement.everyNanos === null ? '' : `EVERY ${formatDuration(statement.everyNanos)}`, statement.forNanos === null ? '' : `FOR ${formatDuration(statement.forNanos)}`].filter((part) => part !== '').join(' ');
  const name = identifierText(statement.name);
  return `${INFLUXQL_MARK}${name} ON ${database} ${resample === '' ? '' : `RESAMPLE ${resample} `}BEGIN ${select} END`;
}

/** FROM's measurements (each regex expanded over the catalog) with their schemas, read when the statement needs them. */
export type ReadContinuousQuerySources = (sources: readonly Source[], database: string) => Promise<ContinuousQuerySource[]>;

/**
 * CREATE: stored unless a query of the name exists (same text: nothing to do; other text:
 * InfluxDB's error). A statement Arc expands over the data is kept as a template, then expanded
 * over the measurements with data now (none is no error). `nowNanos` places tz()'s check.
 */
export async function createContinuousQuery(statement: CreateContinuousQueryStatement, port: ContinuousQueryPort, readSources: ReadContinuousQuerySources, nowNanos: bigint): Promise<Series[]> {
  // No "database not found": an Arc database exists once written to (CREATE DATABASE makes none), and a CQ may come first.
  const text = showText(statement);
  const name = arcNameOf(statement.database, statement.name);
  const template = port.templates().find((kept) => kept.name === name);
  const existing = entriesOf(port, statement.database, statement.name);
  if (template !== undefined || existing.length > 0) {
    if ((template === undefined || template.statement === text) && existing.every((entry) => entry.description === text)) return [];
    throw new StatementFailure('continuous query already exists');
  }
  if (!needsSchemas(statement)) {
    await port.create(continuousQueryDefinition(statement, text, nowNanos));
    return [];
  }
  if (statement.select.sources.some((source) => source.subquery !== undefined)) throw refused('a subquery with fn(*), GROUP BY * or other sources');
  const definitions = templateDefinitions(statement, text, await readSources(statement.select.sources, statement.database), nowNanos);
  const created: string[] = [];
  try {
    for (const definition of definitions) {
      await port.create(definition);
      created.push(definition.name);
    }
    // Kept last: the server's re-expansion, which reads the kept statements, must not make these queries meanwhile.
    port.addTemplate({ name, database: statement.database, statement: text });
  } catch (error) {
    // All or nothing: the queries of one statement are one InfluxQL query.
    for (const createdName of created) port.remove(createdName);
    throw error;
  }
  return [];
}

/** The Arc queries that are the InfluxQL query `name` ON `database`. */
function entriesOf(port: ContinuousQueryPort, database: string, name: string): ContinuousQueryEntry[] {
  return port.list().filter((entry) => {
    const origin = influxqlOrigin(entry);
    return origin === null ? entry.name === arcNameOf(database, name) : origin.database === database && origin.name === name;
  });
}

/** DROP: silent when there is no such query, as InfluxDB 1.6.7. */
export function dropContinuousQuery(name: string, database: string, port: ContinuousQueryPort): Series[] {
  // The template first: the server's re-expansion must not make a query of it again.
  port.removeTemplate(arcNameOf(database, name));
  for (const entry of entriesOf(port, database, name)) port.remove(entry.name);
  return [];
}

/** The database and name of a query made by CREATE CONTINUOUS QUERY (its description is InfluxQL's text); null for others. */
export function influxqlOrigin(entry: Pick<ContinuousQueryEntry, 'name' | 'description'>): { database: string; name: string } | null {
  if (entry.description?.startsWith(INFLUXQL_MARK) !== true) return null;
  const parsed = parseQuery(entry.description);
  const [statement] = isParseError(parsed) ? [] : parsed;
  if (statement?.kind !== 'createContinuousQuery') return null;
  const name = arcNameOf(statement.database, statement.name);
  if (entry.name !== name && !entry.name.startsWith(`${name}.`)) return null;
  return { database: statement.database, name: statement.name };
}

/**
 * SHOW: one series per database (InfluxDB lists every one, without `values` when it has none), queries in creation order.
 * A query from CREATE CONTINUOUS QUERY is listed once, under its ON database (not Arc's `database` when it reads FROM another),
 * with or without Arc queries expanded from it yet.
 */
export function showContinuousQueries(port: ContinuousQueryPort, databasesWithData: readonly string[], canRead: (database: string) => boolean): Series[] {
  const rows = new Map<string, { database: string; row: (string | null)[] }>();
  const templates = port.templates().map((template) => ({ createdAtMs: template.createdAtMs, key: `influxql\u0000${template.database}\u0000${template.name.slice(template.database.length + 1)}`, database: template.database, row: [template.name.slice(template.database.length + 1), template.statement] }));
  const queries = port.list().map((entry) => {
    const origin = influxqlOrigin(entry);
    return origin === null
      ? { createdAtMs: entry.createdAtMs, key: `arc\u0000${entry.name}`, database: entry.database, row: [entry.name, entry.query] }
      : { createdAtMs: entry.createdAtMs, key: `influxql\u0000${origin.database}\u0000${origin.name}`, database: origin.database, row: [origin.name, entry.description] };
  });
  // A statement sits where its first query or its template (kept last) was made, whichever is earlier (the sort is stable).
  for (const item of [...templates, ...queries].sort((a, b) => a.createdAtMs - b.createdAtMs)) if (!rows.has(item.key)) rows.set(item.key, { database: item.database, row: item.row });
  const listed = [...rows.values()];
  const databases = [...new Set([...databasesWithData, ...listed.map((entry) => entry.database)])].filter(canRead).sort();
  return databases.map((database) => {
    const values = listed.filter((entry) => entry.database === database).map((entry) => entry.row);
    return { name: database, tags: null, columns: ['name', 'query'], values, timeColumn: false };
  });
}
