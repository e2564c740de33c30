import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { CreateContinuousQueryStatement, Expr, SelectField } from './ast.js';
import { formatDuration } from './continuous-query-parser.js';
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
 * The translation covers InfluxDB's basic CQs: aggregates of one field each (mean, count, sum,
 * min, max, median, spread, stddev, first, last, mode), optionally AS, over one measurement of
 * the CQ's database, GROUP BY time(i) and tags, WHERE on tags (a time condition is ignored, as
 * InfluxDB replaces it). Others (`:MEASUREMENT`, GROUP BY *, regex FROM, subqueries, offsets,
 * other databases) are refused with a statement error naming the construct.
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
  return new StatementFailure(`continuous query: ${construct} is not supported by Arc (aggregates of one field each over one measurement, GROUP BY time() and tags)`);
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

/** The statement as Arc's SQL and window. */
export function continuousQueryDefinition(statement: CreateContinuousQueryStatement, description: string): ContinuousQueryDefinition {
  const { select, into, database } = statement;
  const groupByTime = select.groupByTime;
  if (groupByTime === null) throw refused('a SELECT without GROUP BY time()');
  if (groupByTime.offsetNanos !== 0n) throw refused('GROUP BY time() with an offset');
  if (groupByTime.intervalNanos % 1_000_000_000n !== 0n) throw refused('a GROUP BY time() interval that is not whole seconds');
  const [source, ...others] = select.sources;
  if (source === undefined || others.length > 0) throw refused('FROM with several measurements');
  if (source.subquery !== undefined || source.regex !== undefined) throw refused('FROM with a subquery or a regular expression');
  if ((source.database ?? database) !== database || (into.database ?? database) !== database) throw refused('a FROM or INTO of another database');
  if (into.regex !== undefined || into.measurement === '') throw refused('INTO :MEASUREMENT');
  if (select.groupByAllTags) throw refused('GROUP BY *');
  if (select.timeZone !== null) throw refused('tz()');
  const bucket = `time_bucket(to_microseconds(${(groupByTime.intervalNanos / NANOS_PER_MICRO).toString()}), "time", TIMESTAMP '1970-01-01 00:00:00')`;
  const tags = select.groupByTags.map(quoteIdentifier);
  const where = ['"time" >= {start_time}', '"time" < {end_time}', ...(select.where === null ? [] : [conditionSql(select.where)])].join(' AND ');
  const query = `SELECT ${[`${bucket} AS "time"`, ...tags, ...select.fields.map(fieldSql)].join(', ')} FROM ${quoteIdentifier(source.measurement)} WHERE ${where} GROUP BY ${['1', ...tags].join(', ')}`;
  return {
    name: arcNameOf(database, statement.name),
    database,
    sourceMeasurement: source.measurement,
    destinationMeasurement: into.measurement,
    query,
    interval: `${(groupByTime.intervalNanos / 1_000_000_000n).toString()}s`,
    description,
    destinationDatabase: null,
    windowOffset: null,
    resampleEvery: null,
    resampleFor: null,
  };
}

/** InfluxDB's SHOW text of the statement: INTO and FROM qualified with the database and `autogen`, keywords upper case. */
export function showText(statement: CreateContinuousQueryStatement): string {
  const qualify = (name: string): string => `${statement.database}.autogen.${name}`;
  let select = statement.selectText.replace(/^select\b/i, 'SELECT');
  select = select.replace(/\bINTO\s+(?:[^\s]+\.)?("?[A-Za-z_][\w]*"?)\s+FROM\s+(?:[^\s]+\.)?("?[A-Za-z_][\w]*"?)/i, (_all, target: string, from: string) => `INTO ${qualify(target)} FROM ${qualify(from)}`);
  select = select.replace(/\bgroup\s+by\b/i, 'GROUP BY').replace(/\bwhere\b/i, 'WHERE');
  const resample = [statement.everyNanos === null ? '' : `EVERY ${formatDuration(statement.everyNanos)}`, statement.forNanos === null ? '' : `FOR ${formatDuration(statement.forNanos)}`].filter((part) => part !== '').join(' ');
  const name = /^[A-Za-z_]\w*$/.test(statement.name) ? statement.name : `"${statement.name}"`;
  return `${INFLUXQL_MARK}${name} ON ${statement.database} ${resample === '' ? '' : `RESAMPLE ${resample} `}BEGIN ${select} END`;
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

/** SHOW: one series per database (InfluxDB lists every one, without `values` when it has none), queries in creation order. */
export function showContinuousQueries(port: ContinuousQueryPort, databasesWithData: readonly string[], canRead: (database: string) => boolean): Series[] {
  const entries = port.list();
  const databases = [...new Set([...databasesWithData, ...entries.map((entry) => entry.database)])].filter(canRead).sort();
  return databases.map((database) => {
    const rows = entries
      .filter((entry) => entry.database === database)
      .map((entry) => {
        const fromInfluxql = entry.description?.startsWith(INFLUXQL_MARK) === true && entry.name.startsWith(`${database}.`);
        return fromInfluxql ? [entry.name.slice(database.length + 1), entry.description] : [entry.name, entry.query];
      });
    return { name: database, tags: null, columns: ['name', 'query'], values: rows, timeColumn: false };
  });
}
