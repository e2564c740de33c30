import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { CreateContinuousQueryStatement, Expr, SelectField, Source } from './ast.js';
import { formatDuration } from './continuous-query-parser.js';
import { isParseError, parseQuery } from './parser.js';
import type { Series } from './series.js';
import { StatementFailure } from './sql-text.js';

/**
 * CREATE / SHOW / DROP CONTINUOUS QUERY run against Arc's continuous queries (the port the server
 * gives: packages/compaction's ContinuousQueries), so an InfluxDB 1.x definition becomes an
 * ordinary continuous query: its SELECT translated to DuckDB SQL with `{start_time}` /
 * `{end_time}`, its GROUP BY time() interval as the window, its INTO measurement as the
 * destination. Arc stores it as `<db>.<name>` (names are per database in InfluxQL, global in
 * Arc) with InfluxDB's normalised statement as its description, which SHOW answers.
 *
 * The translation covers aggregates of one field each (mean, count, sum, min, max, median,
 * spread, stddev, first, last, mode), optionally AS, over one measurement, GROUP BY time(i[,
 * offset]) and tags, WHERE on tags (a time condition is ignored, as InfluxDB replaces it).
 * RESAMPLE EVERY / FOR, the offset (normalised into [0, interval) as InfluxDB applies it) and
 * INTO's database go to the definition's resample, window offset and destination database
 * fields; FROM another database makes that the Arc query's database, as the InfluxDB query reads
 * there. Others (`:MEASUREMENT`, GROUP BY *, regex FROM, subqueries, tz()) are refused with a
 * statement error naming the construct.
 */

/** A continuous query as the port lists it. */
export interface ContinuousQueryEntry {
  readonly name: string;
  readonly database: string;
  readonly query: string;
  readonly description: string | null;
}

export interface ContinuousQueryDefinition {
  readonly name: string;
  readonly database: string;
  readonly sourceMeasurement: string;
  readonly destinationMeasurement: string;
  readonly query: string;
  readonly interval: string;
  readonly description: string;
  /** INTO's database when it is not the CQ's; null otherwise. */
  readonly destinationDatabase: string | null;
  /** GROUP BY time(i, offset)'s offset (`15m`); null without one. */
  readonly windowOffset: string | null;
  /** RESAMPLE EVERY (`30m`); null without one. */
  readonly resampleEvery: string | null;
  /** RESAMPLE FOR (`2h`); null without one. */
  readonly resampleFor: string | null;
}

/** What the executor needs of Arc's continuous queries (the server provides it). */
export interface ContinuousQueryPort {
  list(): readonly ContinuousQueryEntry[];
  /** Stores a new query; throws an ArcError (its message becomes the statement's error) when refused. */
  create(definition: ContinuousQueryDefinition): Promise<void>;
  /** Deletes the query of that name; nothing when there is none. */
  remove(name: string): void;
}

/** The prefix of the description of a query made by CREATE CONTINUOUS QUERY. */
const INFLUXQL_MARK = 'CREATE CONTINUOUS QUERY ';
const NANOS_PER_MICRO = 1000n;
const NANOS_PER_MILLI = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;

/** Arc's name of an InfluxQL query: `<db>.<name>`. */
export function arcNameOf(database: string, name: string): string {
  return `${database}.${name}`;
}

const AGGREGATES: Readonly<Record<string, (column: string) => string>> = {
  mean: (column) => `avg(${column})`,
  count: (column) => `count(${column})`,
  sum: (column) => `sum(${column})`,
  min: (column) => `min(${column})`,
  max: (column) => `max(${column})`,
  median: (column) => `median(${column})`,
  spread: (column) => `(max(${column}) - min(${column}))`,
  stddev: (column) => `stddev_samp(${column})`,
  mode: (column) => `mode(${column})`,
  first: (column) => `arg_min(${column}, "time")`,
  last: (column) => `arg_max(${column}, "time")`,
};

function refused(construct: string): StatementFailure {
  return new StatementFailure(`continuous query: ${construct} is not supported by Arc (aggregates of one field each over one measurement, GROUP BY time() and tags, whole seconds)`);
}

function fieldSql(field: SelectField): string {
  const { expr } = field;
  if (expr.kind !== 'call') throw refused('a field that is not an aggregate call');
  const aggregate = AGGREGATES[expr.name.toLowerCase()];
  const [argument] = expr.args;
  if (aggregate === undefined) throw refused(`${expr.name}()`);
  if (expr.args.length !== 1 || argument?.kind !== 'identifier') throw refused(`${expr.name}() of anything but one field`);
  return `${aggregate(quoteIdentifier(argument.name))} AS ${quoteIdentifier(field.alias ?? expr.name.toLowerCase())}`;
}

/** A WHERE condition on tags (time conditions are dropped: each window sets the time range). */
function conditionSql(expr: Expr): string {
  if (expr.kind === 'binary' && (expr.operator === 'AND' || expr.operator === 'OR')) return `(${conditionSql(expr.left)} ${expr.operator} ${conditionSql(expr.right)})`;
  if (expr.kind !== 'binary') throw refused('this WHERE condition');
  const { left, right, operator } = expr;
  if (left.kind === 'identifier' && left.name.toLowerCase() === 'time') return 'TRUE';
  if (left.kind !== 'identifier') throw refused('this WHERE condition');
  const column = quoteIdentifier(left.name);
  if (right.kind === 'regex' && (operator === '=~' || operator === '!~')) return `${operator === '!~' ? 'NOT ' : ''}regexp_matches(${column}, ${quoteLiteral(right.pattern)})`;
  if (right.kind === 'string' && (operator === '=' || operator === '!=' || operator === '<>')) return `${column} ${operator === '=' ? '=' : '<>'} ${quoteLiteral(right.value)}`;
  if (right.kind === 'number' && ['=', '!=', '<>', '<', '<=', '>', '>='].includes(operator)) return `${column} ${operator === '!=' ? '<>' : operator} ${right.text}`;
  throw refused('this WHERE condition');
}

/** A duration as Arc's continuous-query fields spell it (`15m`, `90s`): whole seconds, as Arc's windows are. */
function arcDuration(nanos: bigint, construct: string): string {
  if (nanos % NANOS_PER_SECOND !== 0n) throw refused(`${construct} that is not whole seconds`);
  return formatDuration(nanos);
}

/** The offset as InfluxDB applies it, within [0, interval): `time(1h, -15m)` is `time(1h, 45m)`, `time(1h, 75m)` is `time(1h, 15m)`. */
export function normalisedOffset(offsetNanos: bigint, intervalNanos: bigint): bigint {
  const remainder = offsetNanos % intervalNanos;
  return remainder < 0n ? remainder + intervalNanos : remainder;
}

/** time_bucket's origin: the epoch shifted by the offset, so the buckets are the shifted windows. */
function bucketOrigin(offsetNanos: bigint): string {
  const text = new Date(Number(offsetNanos / NANOS_PER_MILLI)).toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
  return `TIMESTAMP '${text}'`;
}

/** RESAMPLE EVERY / FOR as Arc's fields; FOR defaults to EVERY when EVERY exceeds the interval (InfluxDB's continuous querier). */
function resampleFields(statement: CreateContinuousQueryStatement, intervalNanos: bigint): { resampleEvery: string | null; resampleFor: string | null } {
  const { everyNanos, forNanos } = statement;
  const effectiveForNanos = forNanos ?? (everyNanos !== null && everyNanos > intervalNanos ? everyNanos : null);
  return {
    resampleEvery: everyNanos === null ? null : arcDuration(everyNanos, 'RESAMPLE EVERY'),
    resampleFor: effectiveForNanos === null ? null : arcDuration(effectiveForNanos, 'RESAMPLE FOR'),
  };
}

/** The statement as Arc's SQL and window. */
export function continuousQueryDefinition(statement: CreateContinuousQueryStatement, description: string): ContinuousQueryDefinition {
  const { select, into, database } = statement;
  const groupByTime = select.groupByTime;
  if (groupByTime === null) throw refused('a SELECT without GROUP BY time()');
  if (groupByTime.intervalNanos % NANOS_PER_SECOND !== 0n) throw refused('a GROUP BY time() interval that is not whole seconds');
  const offsetNanos = normalisedOffset(groupByTime.offsetNanos, groupByTime.intervalNanos);
  const [source, ...others] = select.sources;
  if (source === undefined || others.length > 0) throw refused('FROM with several measurements');
  if (source.subquery !== undefined || source.regex !== undefined) throw refused('FROM with a subquery or a regular expression');
  if (into.regex !== undefined || into.measurement === '') throw refused('INTO :MEASUREMENT');
  if (select.groupByAllTags) throw refused('GROUP BY *');
  if (select.timeZone !== null) throw refused('tz()');
  // The Arc query reads where the InfluxQL one reads (`FROM otherdb..m` runs in otherdb); its rows go to INTO's database.
  const sourceDatabase = source.database ?? database;
  const destinationDatabase = into.database ?? database;
  const bucket = `time_bucket(to_microseconds(${(groupByTime.intervalNanos / NANOS_PER_MICRO).toString()}), "time", ${bucketOrigin(offsetNanos)})`;
  const tags = select.groupByTags.map(quoteIdentifier);
  const where = ['"time" >= {start_time}', '"time" < {end_time}', ...(select.where === null ? [] : [conditionSql(select.where)])].join(' AND ');
  const query = `SELECT ${[`${bucket} AS "time"`, ...tags, ...select.fields.map(fieldSql)].join(', ')} FROM ${quoteIdentifier(source.measurement)} WHERE ${where} GROUP BY ${['1', ...tags].join(', ')}`;
  return {
    name: arcNameOf(database, statement.name),
    database: sourceDatabase,
    sourceMeasurement: source.measurement,
    destinationMeasurement: into.measurement,
    query,
    interval: `${(groupByTime.intervalNanos / NANOS_PER_SECOND).toString()}s`,
    description,
    destinationDatabase: destinationDatabase === sourceDatabase ? null : destinationDatabase,
    windowOffset: offsetNanos === 0n ? null : arcDuration(offsetNanos, 'a GROUP BY time() offset'),
    ...resampleFields(statement, groupByTime.intervalNanos),
  };
}

/** An identifier as InfluxDB prints it: bare when it can be, else double-quoted. */
function identifierText(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** `db.rp.m` (or `db.rp./re/`) as SHOW prints a source or target: the CQ's database and `autogen` when not given. */
function qualifiedText(source: Source, database: string): string {
  const measurement = source.regex === undefined ? identifierText(source.measurement) : `/${source.regex.pattern}/`;
  return `${identifierText(source.database ?? database)}.${identifierText(source.retentionPolicy ?? 'autogen')}.${measurement}`;
}

/** FROM's sources as SHOW prints them (a subquery is refused at CREATE; its text is not shown). */
function sourcesText(sources: readonly Source[], database: string): string {
  return sources.map((source) => (source.subquery === undefined ? qualifiedText(source, database) : '(...)')).join(', ');
}

/** InfluxDB's SHOW text of the statement: INTO and FROM qualified with the database and `autogen`, keywords upper case. */
export function showText(statement: CreateContinuousQueryStatement): string {
  const { selectText, intoFromOffsetStart, intoFromOffsetEnd, database } = statement;
  const head = selectText.slice(0, intoFromOffsetStart).replace(/^select\b/i, 'SELECT');
  const tail = selectText.slice(intoFromOffsetEnd).replace(/\bgroup\s+by\b/i, 'GROUP BY').replace(/\bwhere\b/i, 'WHERE');
  const intoFrom = `INTO ${qualifiedText(statement.into, database)} FROM ${sourcesText(statement.select.sources, database)}`;
  const select = `${head}${intoFrom}${tail === '' ? '' : ` ${tail}`}`;
  const resample = [statement.everyNanos === null ? '' : `EVERY ${formatDuration(statement.everyNanos)}`, statement.forNanos === null ? '' : `FOR ${formatDuration(statement.forNanos)}`].filter((part) => part !== '').join(' ');
  const name = identifierText(statement.name);
  return `${INFLUXQL_MARK}${name} ON ${database} ${resample === '' ? '' : `RESAMPLE ${resample} `}BEGIN ${select} END`;
}

/** CREATE: stored unless a query of the name exists (same text: nothing to do; other text: InfluxDB's error). */
export async function createContinuousQuery(statement: CreateContinuousQueryStatement, port: ContinuousQueryPort): Promise<Series[]> {
  // No "database not found": an Arc database exists once written to (CREATE DATABASE makes none), and a CQ may come first.
  const text = showText(statement);
  const existing = port.list().find((entry) => entry.name === arcNameOf(statement.database, statement.name));
  if (existing !== undefined) {
    if (existing.description === text) return [];
    throw new StatementFailure('continuous query already exists');
  }
  await port.create(continuousQueryDefinition(statement, text));
  return [];
}

/** DROP: silent when there is no such query, as InfluxDB 1.6.7. */
export function dropContinuousQuery(name: string, database: string, port: ContinuousQueryPort): Series[] {
  port.remove(arcNameOf(database, name));
  return [];
}

/** The database and name of a query made by CREATE CONTINUOUS QUERY (its description is InfluxQL's text); null for others. */
function influxqlOrigin(entry: ContinuousQueryEntry): { database: string; name: string } | null {
  if (entry.description?.startsWith(INFLUXQL_MARK) !== true) return null;
  const parsed = parseQuery(entry.description);
  const [statement] = isParseError(parsed) ? [] : parsed;
  if (statement?.kind !== 'createContinuousQuery' || entry.name !== arcNameOf(statement.database, statement.name)) return null;
  return { database: statement.database, name: statement.name };
}

/**
 * SHOW: one series per database (InfluxDB lists every one, without `values` when it has none), queries in creation order.
 * A query from CREATE CONTINUOUS QUERY is listed under its ON database, which is not Arc's `database` when it reads FROM another.
 */
export function showContinuousQueries(port: ContinuousQueryPort, databasesWithData: readonly string[], canRead: (database: string) => boolean): Series[] {
  const rows = port.list().map((entry) => {
    const origin = influxqlOrigin(entry);
    return origin === null ? { database: entry.database, row: [entry.name, entry.query] } : { database: origin.database, row: [origin.name, entry.description] };
  });
  const databases = [...new Set([...databasesWithData, ...rows.map((entry) => entry.database)])].filter(canRead).sort();
  return databases.map((database) => {
    const values = rows.filter((entry) => entry.database === database).map((entry) => entry.row);
    return { name: database, tags: null, columns: ['name', 'query'], values, timeColumn: false };
  });
}
