import { quoteIdentifier, TIME_COLUMN } from '@arc/columnar';
import type { Expr, SelectStatement } from './ast.js';
import { statementBuckets, uniqueNames, type SelectContext, type SelectPlan } from './select-planner.js';
import { StatementFailure, sqlTable } from './sql-text.js';
import { extractTimeRange, translateCondition } from './where-translator.js';

/**
 * `top(field[, tag...], N)` and `bottom(...)`: the N largest (smallest) points of each series (and
 * of each GROUP BY time() bucket), answered with their own times, as raw points. Equal values go
 * to the earlier point. With tags, each distinct combination of those tags contributes its best
 * point first. Empty buckets answer nothing (no fill), as in InfluxDB.
 */
const TOP_BOTTOM: ReadonlySet<string> = new Set(['top', 'bottom']);

type CallExpr = Expr & { kind: 'call' };

function isTime(expr: Expr): boolean {
  return expr.kind === 'identifier' && expr.name.toLowerCase() === TIME_COLUMN;
}

/** The statement's top() or bottom() call; null when it has none. */
export function topBottomCall(statement: SelectStatement): CallExpr | null {
  const call = statement.fields.find((field) => field.expr.kind === 'call' && TOP_BOTTOM.has(field.expr.name))?.expr;
  return call?.kind === 'call' ? call : null;
}

interface TopBottomArguments {
  readonly field: string;
  readonly tags: readonly string[];
  readonly count: number;
}

function parseArguments(call: CallExpr): TopBottomArguments {
  const [field, ...rest] = call.args;
  const count = rest.pop();
  if (field === undefined || count === undefined) throw new StatementFailure(`invalid number of arguments for ${call.name}, expected at least 2, got ${String(call.args.length)}`);
  if (field.kind !== 'identifier') throw new StatementFailure(`expected first argument to be a field in ${call.name}(), found ${field.kind}`);
  if (count.kind !== 'number' || !count.integer) throw new StatementFailure(`expected integer as last argument in ${call.name}(), found ${count.kind}`);
  if (count.value <= 0) throw new StatementFailure(`limit (${count.text}) in ${call.name} function must be at least 1`);
  const tags = rest.map((tag) => {
    if (tag.kind !== 'identifier') throw new StatementFailure(`only fields or tags are allowed in ${call.name}(), found ${tag.kind}`);
    return tag.name;
  });
  return { field: field.name, tags, count: count.value };
}

/** The plan of a SELECT holding top() or bottom(): raw points picked by window functions. */
export function planTopBottom(statement: SelectStatement, call: CallExpr, context: SelectContext): SelectPlan | null {
  const { schema } = context;
  const { field, tags, count } = parseArguments(call);
  const others = statement.fields.filter((item) => item.expr !== call && !isTime(item.expr));
  if (others.some((item) => item.expr.kind !== 'identifier')) throw new StatementFailure(`selector function ${call.name}() cannot be combined with other functions`);
  if (statement.limit !== null && statement.limit < count) {
    throw new StatementFailure(`limit (${String(count)}) in ${call.name} function can not be larger than the LIMIT (${String(statement.limit)}) in the select statement`);
  }
  const type = schema.fields.get(field);
  if (type === undefined) return null;
  if (type !== 'float' && type !== 'integer') throw new StatementFailure(`${call.name}() takes a numeric field; ${field} is a ${type} field`);
  const column = (name: string): string => (schema.fields.has(name) || schema.tags.includes(name) ? quoteIdentifier(name) : 'NULL');
  const tagKeys = statement.groupByAllTags ? [...schema.tags] : [...new Set(statement.groupByTags)];
  const tagColumns = tagKeys.map((tag) => (schema.tags.includes(tag) ? quoteIdentifier(tag) : 'NULL::VARCHAR'));
  const valueColumns = [column(field), ...tags.map(column), ...others.map((item) => (item.expr.kind === 'identifier' ? column(item.expr.name) : 'NULL'))];
  const names = [call.name, ...tags, ...others.map((item) => item.alias ?? (item.expr.kind === 'identifier' ? item.expr.name : ''))];
  const time = quoteIdentifier(TIME_COLUMN);
  const timeRange = extractTimeRange(statement.where, context.nowNanos);
  const buckets = statementBuckets(statement, timeRange, context.nowNanos);
  const bucket = buckets.sql;
  // Largest (smallest) first; equal values go to the earlier point.
  const order = (value: string): string => `${value} ${call.name === 'top' ? 'DESC' : 'ASC'}, ${time}`;
  const partition = (extra: readonly string[]): string => `PARTITION BY ${['__bucket', ...tagColumns.map((_, index) => `__t${String(index)}`), ...extra].join(', ')}`;
  const conditions = [`${column(field)} IS NOT NULL`];
  if (statement.where !== null) conditions.unshift(translateCondition(statement.where, { schema, nowNanos: context.nowNanos }));
  const inner = [
    ...tagColumns.map((sql, index) => `${sql} AS __t${String(index)}`),
    `${bucket} AS __bucket`,
    `${time} AS ${time}`,
    ...valueColumns.map((sql, index) => `${sql} AS c${String(index)}`),
  ];
  const tagArguments = tags.map((_, index) => `c${String(index + 1)}`);
  const best = tags.length === 0 ? '' : ` QUALIFY row_number() OVER (${partition(tagArguments)} ORDER BY ${order(column(field))}) = 1`;
  const picked = `SELECT ${inner.join(', ')} FROM ${context.fromSql ?? sqlTable(context.database, schema.name)} WHERE ${conditions.join(' AND ')}${best}`;
  const outer = [...tagColumns.map((_, index) => `__t${String(index)}`), `epoch_us(${time})`, ...valueColumns.map((_, index) => `c${String(index)}`)];
  // InfluxDB answers top/bottom points oldest first even under ORDER BY time DESC (the series are reversed).
  const orderBy = [...tagColumns.map((_, index) => `__t${String(index)}`), time].join(', ');
  const sql = `SELECT ${outer.join(', ')} FROM (${picked}) QUALIFY row_number() OVER (${partition([])} ORDER BY ${order('c0')}) <= ${String(count)} ORDER BY ${orderBy}`;
  return {
    measurement: schema.name,
    sql,
    mode: 'raw',
    tagKeys,
    columns: uniqueNames(names.map((name) => ({ name, isCount: false }))),
    hasTime: true,
    hasRowCount: false,
    timeRange,
    groupByTime: null,
    fill: { kind: 'none' },
    descending: statement.descending,
    limit: statement.limit,
    offset: statement.offset,
    limitInSql: false,
    seriesLimit: statement.seriesLimit,
    seriesOffset: statement.seriesOffset,
    timeZone: statement.timeZone,
    bucketOf: buckets.of,
  };
}
