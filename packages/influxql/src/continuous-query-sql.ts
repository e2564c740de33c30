import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { CreateContinuousQueryStatement, Expr, SelectField, SelectStatement } from './ast.js';
import { formatDuration } from './continuous-query-parser.js';
import { CQ_TIME_ZONE_CHECK_DAYS } from './limits.js';
import type { FieldType, MeasurementSchema } from './schema.js';
import { StatementFailure } from './sql-text.js';
import { NANOS_PER_MICRO, normalisedOffset } from './time-values.js';
import { zoneSegments } from './time-zones.js';

/**
 * A continuous query's SELECT as Arc's definitions: per source measurement, DuckDB SQL over one
 * window (`{start_time}` / `{end_time}`), the window (interval, offset, RESAMPLE) and where it
 * reads and writes. `mean(*)` and `GROUP BY *` expand over the measurement's schema as it is when
 * expanded, at CREATE and again as the data grows (continuous-query-templates.ts; fields by the
 * types the function takes, named `mean_<field>` as InfluxDB names them; tags are the string
 * columns, schema.ts); `FROM /re/` and several measurements give
 * one definition each, written to the measurement of its own name with `INTO db..:MEASUREMENT`.
 * tz() is taken when it is a fixed shift of UTC windows (zoneShiftNanos); a subquery becomes a
 * derived table over the same window (subqueryDefinition).
 */

const NANOS_PER_MILLI = 1_000_000n;
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MINUTE = 60_000_000_000n;
const DAY_NANOS = 86_400_000_000_000n;

export interface ContinuousQueryDefinition {
  readonly name: string;
  readonly database: string;
  readonly sourceMeasurement: string;
  readonly destinationMeasurement: string;
  readonly query: string;
  readonly interval: string;
  readonly description: string;
  /** INTO's database when it is not the one the query reads; null otherwise. */
  readonly destinationDatabase: string | null;
  /** GROUP BY time(i, offset)'s offset within [0, i) (`15m`); null without one. */
  readonly windowOffset: string | null;
  /** RESAMPLE EVERY (`30m`); null without one. */
  readonly resampleEvery: string | null;
  /** RESAMPLE FOR (`2h`), or EVERY when that exceeds the interval; null otherwise. */
  readonly resampleFor: string | null;
}

/** A measurement the query reads, with its schema when read (needed for `*`; null when it was not or it has no data). */
export interface ContinuousQuerySource {
  readonly database: string;
  readonly measurement: string;
  readonly schema: MeasurementSchema | null;
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

const NUMERIC: ReadonlySet<FieldType> = new Set(['float', 'integer']);
const ORDERED: ReadonlySet<FieldType> = new Set(['float', 'integer', 'boolean']);
const ANY: ReadonlySet<FieldType> = new Set(['float', 'integer', 'boolean', 'string']);
/** The field types `fn(*)` takes, as InfluxDB 1.6.7 expands it (`mean(*)` skips booleans and strings, `max(*)` strings). */
const WILDCARD_TYPES: Readonly<Record<string, ReadonlySet<FieldType>>> = {
  mean: NUMERIC,
  sum: NUMERIC,
  median: NUMERIC,
  spread: NUMERIC,
  stddev: NUMERIC,
  min: ORDERED,
  max: ORDERED,
  count: ANY,
  mode: ANY,
  first: ANY,
  last: ANY,
};

/** Arc's name of an InfluxQL query: `<db>.<name>`. */
export function arcNameOf(database: string, name: string): string {
  return `${database}.${name}`;
}

export function refused(construct: string): StatementFailure {
  return new StatementFailure(`continuous query: ${construct} is not supported by Arc (aggregates of fields, GROUP BY time() and tags, whole seconds)`);
}

/** Whether the SELECT needs the measurements' schemas or the catalog's names: `fn(*)`, GROUP BY *, a regex or several FROM measurements. */
export function needsSchemas(statement: CreateContinuousQueryStatement): boolean {
  const { select } = statement;
  const wildcardField = select.fields.some((field) => field.expr.kind === 'call' && field.expr.args.some((argument) => argument.kind === 'star'));
  return wildcardField || select.groupByAllTags || select.sources.length > 1 || select.sources.some((source) => source.regex !== undefined);
}

/** `fn(field) AS alias`, or `fn(*)` as one `fn_<field>` per field of a type fn takes. */
function fieldSql(field: SelectField, schema: MeasurementSchema | null): string[] {
  const { expr } = field;
  if (expr.kind !== 'call') throw refused('a field that is not an aggregate call');
  const name = expr.name.toLowerCase();
  const aggregate = AGGREGATES[name];
  const [argument] = expr.args;
  if (aggregate === undefined) throw refused(`${expr.name}()`);
  if (expr.args.length !== 1 || (argument?.kind !== 'identifier' && argument?.kind !== 'star')) throw refused(`${expr.name}() of anything but one field or *`);
  if (argument.kind === 'identifier') return [`${aggregate(quoteIdentifier(argument.name))} AS ${quoteIdentifier(field.alias ?? name)}`];
  if (field.alias !== null) throw refused(`${expr.name}(*) AS an alias`);
  if (schema === null) throw new Error('a wildcard field is expanded over a schema');
  const types = WILDCARD_TYPES[name] ?? ANY;
  return [...schema.fields].filter(([, type]) => types.has(type)).map(([column]) => `${aggregate(quoteIdentifier(column))} AS ${quoteIdentifier(`${name}_${column}`)}`);
}

/** DuckDB's type of a field of each InfluxQL type (unsigned fields: UBIGINT), for a column a window's files may lack. */
const NULL_COLUMN_TYPES: Readonly<Record<FieldType, string>> = { float: 'DOUBLE', integer: 'BIGINT', string: 'VARCHAR', boolean: 'BOOLEAN' };

/**
 * What a query expanded over a schema reads: the measurement with every field and tag of that
 * schema, NULL where a window's files lack it. A window reads only its own files, and a field or
 * tag that appeared later (the query's SQL follows it, continuous-query-templates.ts) is absent
 * from older files: a reference to it would fail the window, where InfluxDB reads null.
 */
function paddedSourceSql(measurement: string, schema: MeasurementSchema): string {
  const fields = [...schema.fields].map(([column, type]) => `NULL::${schema.unsignedFields.has(column) ? 'UBIGINT' : NULL_COLUMN_TYPES[type]} AS ${quoteIdentifier(column)}`);
  const tags = schema.tags.map((tag) => `NULL::VARCHAR AS ${quoteIdentifier(tag)}`);
  const table = quoteIdentifier(measurement);
  return `(SELECT * FROM ${table} UNION ALL BY NAME SELECT ${[...tags, ...fields].join(', ')} WHERE false) AS ${table}`;
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

/** time_bucket's origin: the epoch shifted by the offset, so the buckets are the shifted windows. */
function bucketOrigin(offsetNanos: bigint): string {
  const text = new Date(Number(offsetNanos / NANOS_PER_MILLI)).toISOString().replace('T', ' ').replace(/\.000Z$|Z$/, '');
  return `TIMESTAMP '${text}'`;
}

/** The window start of a row's "time": buckets of the interval from the epoch moved by the offset. */
function bucketSql(intervalNanos: bigint, offsetNanos: bigint): string {
  return `time_bucket(to_microseconds(${(intervalNanos / NANOS_PER_MICRO).toString()}), "time", ${bucketOrigin(offsetNanos)})`;
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

/** `-05:30` for an offset in ns. */
function offsetText(offsetNanos: bigint): string {
  const minutes = Number((offsetNanos < 0n ? -offsetNanos : offsetNanos) / NANOS_PER_MINUTE);
  return `${offsetNanos < 0n ? '-' : '+'}${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * tz(zone) as a shift of UTC windows (ns east): InfluxDB aligns windows to local time, which is a
 * fixed window offset when every UTC offset the zone takes is the same modulo the interval (any
 * zone for 1h windows but India's, a zone without DST for any interval); not otherwise (local
 * days across a DST change are 23 or 25 hours long, Arc's windows all one interval).
 */
function zoneShiftNanos(zone: string, intervalNanos: bigint, nowNanos: bigint): bigint {
  const span = BigInt(CQ_TIME_ZONE_CHECK_DAYS) * DAY_NANOS;
  const offsets = [...new Set(zoneSegments(zone, nowNanos - span, nowNanos + span).map((segment) => segment.offsetNanos))];
  const [first, ...others] = offsets;
  if (first === undefined) throw new Error('a zone has an offset');
  if (others.some((offset) => (offset - first) % intervalNanos !== 0n)) {
    throw refused(`tz('${zone}') with GROUP BY time(${formatDuration(intervalNanos)}) (its UTC offsets ${offsets.map(offsetText).join(', ')} do not differ by whole intervals, so its local windows are not one fixed shift of UTC windows; Arc's are)`);
  }
  return first;
}

/** What every definition of the statement shares: refusals checked, the window's fields and SQL bucket. */
function windowOf(statement: CreateContinuousQueryStatement, nowNanos: bigint): { bucket: string; fields: Pick<ContinuousQueryDefinition, 'interval' | 'windowOffset' | 'resampleEvery' | 'resampleFor'> } {
  const { select } = statement;
  const groupByTime = select.groupByTime;
  if (groupByTime === null) throw refused('a SELECT without GROUP BY time()');
  if (groupByTime.intervalNanos % NANOS_PER_SECOND !== 0n) throw refused('a GROUP BY time() interval that is not whole seconds');
  if (statement.into.regex !== undefined) throw refused('INTO a regular expression');
  // Local windows start where the UTC time plus the zone's offset is a boundary: the offset moves them back.
  const shiftNanos = select.timeZone === null ? 0n : zoneShiftNanos(select.timeZone, groupByTime.intervalNanos, nowNanos);
  const offsetNanos = normalisedOffset(groupByTime.offsetNanos - shiftNanos, groupByTime.intervalNanos);
  return {
    bucket: bucketSql(groupByTime.intervalNanos, offsetNanos),
    fields: {
      interval: `${(groupByTime.intervalNanos / NANOS_PER_SECOND).toString()}s`,
      windowOffset: offsetNanos === 0n ? null : arcDuration(offsetNanos, 'a GROUP BY time() offset'),
      ...resampleFields(statement, groupByTime.intervalNanos),
    },
  };
}

/**
 * One definition per source, named `name` (one source) or `name.<measurement>` (several: SHOW and
 * DROP treat them as the one InfluxQL query, by their shared description). A source none of whose
 * fields a wildcard takes is left out; none left is refused.
 */
export function continuousQueryDefinitions(statement: CreateContinuousQueryStatement, description: string, sources: readonly ContinuousQuerySource[], nowNanos: bigint): ContinuousQueryDefinition[] {
  const definitions = definitionsOver(statement, description, sources, nowNanos);
  if (definitions.length === 0) throw refused(sources.length === 0 ? 'FROM matching no measurement with data' : 'a wildcard matching no field');
  return definitions;
}

/**
 * The definitions of a statement kept as a template (fn(*), GROUP BY *, FROM /re/ or several
 * measurements: re-expanded as the data grows): every refusal that does not depend on the data
 * checked now, then one definition per source with data whose fields the wildcards take. None
 * is no error: InfluxDB takes such a query too, and writes once the data is there.
 */
export function templateDefinitions(statement: CreateContinuousQueryStatement, description: string, sources: readonly ContinuousQuerySource[], nowNanos: bigint): ContinuousQueryDefinition[] {
  const definitions = definitionsOver(statement, description, sources.filter((source) => source.schema !== null), nowNanos);
  // The checks a source would make, made without one: a field that is no aggregate, a WHERE Arc cannot translate.
  const noFields: MeasurementSchema = { name: '', tags: [], fields: new Map(), unsignedFields: new Set() };
  for (const field of statement.select.fields) fieldSql(field, noFields);
  if (statement.select.where !== null) conditionSql(statement.select.where);
  const { into } = statement;
  const destinationDatabase = into.database ?? statement.database;
  for (const source of statement.select.sources) {
    const sourceDatabase = source.database ?? statement.database;
    const self = into.measurementBackReference === true || (source.regex === undefined && source.measurement === into.measurement);
    if (sourceDatabase === destinationDatabase && self) throw refused(`INTO the measurement it reads (${sourceDatabase}.${source.regex === undefined ? source.measurement : `/${source.regex.pattern}/`}: a window's rows would replace the raw rows; write INTO another database)`);
  }
  return definitions;
}

/** The definitions over `sources` (possibly none: no source with a field the wildcards take). */
function definitionsOver(statement: CreateContinuousQueryStatement, description: string, sources: readonly ContinuousQuerySource[], nowNanos: bigint): ContinuousQueryDefinition[] {
  const { select, into } = statement;
  const name = arcNameOf(statement.database, statement.name);
  const window = windowOf(statement, nowNanos);
  if (select.sources.some((source) => source.subquery !== undefined)) throw refused('a subquery with fn(*), GROUP BY * or other sources');
  const fromRegex = select.sources.length > 1 || select.sources.some((source) => source.regex !== undefined);
  if (fromRegex && into.measurementBackReference !== true) throw refused('several measurements INTO one (each query replaces its windows there; use INTO db..:MEASUREMENT)');
  const where = ['"time" >= {start_time}', '"time" < {end_time}', ...(select.where === null ? [] : [conditionSql(select.where)])].join(' AND ');
  return sources.flatMap((source) => {
    const fields = select.fields.flatMap((field) => fieldSql(field, source.schema));
    if (fields.length === 0) return [];
    if (select.groupByAllTags && source.schema === null) throw new Error('GROUP BY * is expanded over a schema');
    const tags = [...new Set([...select.groupByTags, ...(select.groupByAllTags && source.schema !== null ? source.schema.tags : [])])].map(quoteIdentifier);
    const from = source.schema === null ? quoteIdentifier(source.measurement) : paddedSourceSql(source.measurement, source.schema);
    const query = `SELECT ${[`${window.bucket} AS "time"`, ...tags, ...fields].join(', ')} FROM ${from} WHERE ${where} GROUP BY ${['1', ...tags].join(', ')}`;
    // The Arc query reads where the InfluxQL one reads (`FROM otherdb..m` runs in otherdb); its rows go to INTO's database.
    const destinationDatabase = into.database ?? statement.database;
    const destinationMeasurement = into.measurementBackReference === true ? source.measurement : into.measurement;
    // InfluxDB adds the aggregates to the points it reads (retention policies apart); Arc would replace them.
    if (destinationDatabase === source.database && destinationMeasurement === source.measurement) throw refused(`INTO the measurement it reads (${source.database}.${source.measurement}: a window's rows would replace the raw rows; write INTO another database)`);
    return [{
      name: fromRegex ? `${name}.${source.measurement}` : name,
      database: source.database,
      sourceMeasurement: source.measurement,
      destinationMeasurement,
      query,
      description,
      destinationDatabase: destinationDatabase === source.database ? null : destinationDatabase,
      ...window.fields,
    }];
  });
}

/** The statement as one Arc definition, when it names one measurement and needs no schema (needsSchemas is false). */
export function continuousQueryDefinition(statement: CreateContinuousQueryStatement, description: string, nowNanos: bigint): ContinuousQueryDefinition {
  const [source, ...others] = statement.select.sources;
  if (source === undefined || others.length > 0 || source.regex !== undefined) throw refused('FROM with several measurements or a regular expression');
  if (needsSchemas(statement)) throw refused('* without the schema');
  if (source.subquery !== undefined) return subqueryDefinition(statement, description, source.subquery, nowNanos);
  const [definition] = continuousQueryDefinitions(statement, description, [{ database: source.database ?? statement.database, measurement: source.measurement, schema: null }], nowNanos);
  if (definition === undefined) throw refused('this SELECT');
  return definition;
}

/**
 * `FROM (SELECT fn(field) ... GROUP BY time(i)[, tags])`: the inner SELECT over the window as a
 * derived table (its buckets, tags and aggregates named as InfluxDB names them), the outer SELECT
 * aggregating its rows per window. InfluxDB hands the outer time range to the inner query; here
 * both read [{start_time}, {end_time}), so an inner bucket starting before the window is dropped.
 */
function subqueryDefinition(statement: CreateContinuousQueryStatement, description: string, inner: SelectStatement, nowNanos: bigint): ContinuousQueryDefinition {
  const { select, into } = statement;
  const [source, ...others] = inner.sources;
  if (source === undefined || others.length > 0 || source.regex !== undefined || source.subquery !== undefined) throw refused('a subquery FROM several measurements or a regular expression');
  if (inner.groupByTime === null) throw refused('a subquery without GROUP BY time()');
  if (inner.timeZone !== null || inner.groupByAllTags || inner.fields.some((field) => field.expr.kind === 'call' && field.expr.args.some((argument) => argument.kind === 'star'))) throw refused('tz(), GROUP BY * or fn(*) in a subquery');
  const missing = select.groupByTags.find((tag) => !inner.groupByTags.includes(tag));
  if (missing !== undefined) throw refused(`GROUP BY ${missing}, which the subquery does not group by`);
  const window = windowOf(statement, nowNanos);
  const range = ['"time" >= {start_time}', '"time" < {end_time}'];
  const innerTags = inner.groupByTags.map(quoteIdentifier);
  const innerBucket = bucketSql(inner.groupByTime.intervalNanos, normalisedOffset(inner.groupByTime.offsetNanos, inner.groupByTime.intervalNanos));
  const innerWhere = [...range, ...(inner.where === null ? [] : [conditionSql(inner.where)])].join(' AND ');
  const innerSql = `SELECT ${[`${innerBucket} AS "time"`, ...innerTags, ...inner.fields.flatMap((field) => fieldSql(field, null))].join(', ')} FROM ${quoteIdentifier(source.measurement)} WHERE ${innerWhere} GROUP BY ${['1', ...innerTags].join(', ')}`;
  const tags = select.groupByTags.map(quoteIdentifier);
  const where = [...range, ...(select.where === null ? [] : [conditionSql(select.where)])].join(' AND ');
  const query = `SELECT ${[`${window.bucket} AS "time"`, ...tags, ...select.fields.flatMap((field) => fieldSql(field, null))].join(', ')} FROM (${innerSql}) AS "subquery" WHERE ${where} GROUP BY ${['1', ...tags].join(', ')}`;
  const sourceDatabase = source.database ?? statement.database;
  const destinationDatabase = into.database ?? statement.database;
  if (into.measurementBackReference === true) throw refused('INTO :MEASUREMENT from a subquery');
  return {
    name: arcNameOf(statement.database, statement.name),
    database: sourceDatabase,
    sourceMeasurement: source.measurement,
    destinationMeasurement: into.measurement,
    query,
    description,
    destinationDatabase: destinationDatabase === sourceDatabase ? null : destinationDatabase,
    ...window.fields,
  };
}
