import assert from 'node:assert/strict';
import { TIME_COLUMN } from '@arc/columnar';
import { DELETE_RANGE_SUBMILLI_SLACK_US, DELETE_RANGE_ZONELESS_SLACK_US } from './limits.js';
import { isNode, type ParseNode as Node } from './parse-tree.js';

/**
 * The time range a delete's WHERE clause can match, read from DuckDB's parse tree of it: only the
 * files whose [min, max] time overlaps the range are counted and, if they hold matching rows,
 * rewritten. Only the top-level AND terms of the form `time <op> constant` (either side; `=`,
 * `<`, `<=`, `>`, `>=`, BETWEEN) narrow it; anything else (OR, a function of time, an unreadable
 * literal) leaves it as wide as it was, so the range never leaves out a file that could match.
 */
export interface TimeRangeUs {
  /** Inclusive bounds in µs since the epoch; ±Infinity when open. */
  readonly minUs: number;
  readonly maxUs: number;
}

export const ALL_TIME: TimeRangeUs = Object.freeze({ minUs: Number.NEGATIVE_INFINITY, maxUs: Number.POSITIVE_INFINITY });


/** `2024-01-01`, `2024-01-01 10:00`, `2024-01-01T10:00:00.123456Z`, `...+02:00`: the forms DuckDB casts to a timestamp. */
const TIMESTAMP_TEXT = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** An instant read from the clause and how far off DuckDB's reading of it can be (µs). */
interface Instant {
  readonly us: number;
  readonly slackUs: number;
}

/**
 * A timestamp literal's instant, or null when it is not one of the forms read here. With a zone
 * (`Z`, `+02:00`) DuckDB reads the same instant, to the µs digits that milliseconds drop; without
 * one it reads it in its session's zone (a TIMESTAMPTZ column) or as UTC: up to 14 hours away.
 */
export function timestampTextUs(text: string): Instant | null {
  const match = TIMESTAMP_TEXT.exec(text.trim());
  if (match === null) return null;
  const [, date = '', time = '00:00:00', zone] = match;
  const ms = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${(zone ?? 'Z').toUpperCase()}`);
  if (Number.isNaN(ms)) return null;
  return { us: ms * 1000, slackUs: zone === undefined ? DELETE_RANGE_ZONELESS_SLACK_US : DELETE_RANGE_SUBMILLI_SLACK_US };
}

/** The instant a constant side of a comparison stands for, or null when it is not read here. */
function constantUs(node: Node): Instant | null {
  if (node['class'] === 'CAST' && isNode(node['child'])) return constantUs(node['child']);
  if (node['class'] === 'FUNCTION' && String(node['function_name']).toLowerCase() === 'make_timestamp') {
    const args = node['children'];
    if (!Array.isArray(args) || args.length !== 1 || !isNode(args[0])) return null;
    const micros = integerConstant(args[0]);
    return micros === null ? null : { us: micros, slackUs: 0 };
  }
  if (node['class'] !== 'CONSTANT' || !isNode(node['value'])) return null;
  const value = node['value'];
  if (value['is_null'] !== false) return null;
  return typeof value['value'] === 'string' ? timestampTextUs(value['value']) : null;
}

function integerConstant(node: Node): number | null {
  if (node['class'] === 'CAST' && isNode(node['child'])) return integerConstant(node['child']);
  const value = node['class'] === 'CONSTANT' && isNode(node['value']) ? node['value']['value'] : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : null;
}

function isTimeColumn(node: unknown): boolean {
  if (!isNode(node) || node['class'] !== 'COLUMN_REF' || !Array.isArray(node['column_names'])) return false;
  const names: unknown[] = node['column_names'];
  return typeof names.at(-1) === 'string' && String(names.at(-1)).toLowerCase() === TIME_COLUMN;
}

/** A comparison with the time column on the left: the mirrored operator when it is on the right. */
const MIRRORED: Readonly<Record<string, string>> = {
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_EQUAL: 'COMPARE_EQUAL',
};

function narrowByComparison(range: TimeRangeUs, node: Node): TimeRangeUs {
  const type = String(node['type']);
  const left = node['left'];
  const right = node['right'];
  if (!isNode(left) || !isNode(right) || MIRRORED[type] === undefined) return range;
  const timeOnLeft = isTimeColumn(left);
  if (!timeOnLeft && !isTimeColumn(right)) return range;
  const operator = timeOnLeft ? type : MIRRORED[type];
  const other = timeOnLeft ? right : left;
  const instant = constantUs(other);
  if (instant === null) return range;
  const lower = operator === 'COMPARE_GREATERTHAN' || operator === 'COMPARE_GREATERTHANOREQUALTO' || operator === 'COMPARE_EQUAL';
  const upper = operator === 'COMPARE_LESSTHAN' || operator === 'COMPARE_LESSTHANOREQUALTO' || operator === 'COMPARE_EQUAL';
  return { minUs: lower ? Math.max(range.minUs, instant.us - instant.slackUs) : range.minUs, maxUs: upper ? Math.min(range.maxUs, instant.us + instant.slackUs) : range.maxUs };
}

function narrowByBetween(range: TimeRangeUs, node: Node): TimeRangeUs {
  const { input, lower, upper } = node;
  if (!isTimeColumn(input) || !isNode(lower) || !isNode(upper)) return range;
  const lowerAt = constantUs(lower);
  const upperAt = constantUs(upper);
  return {
    minUs: lowerAt === null ? range.minUs : Math.max(range.minUs, lowerAt.us - lowerAt.slackUs),
    maxUs: upperAt === null ? range.maxUs : Math.min(range.maxUs, upperAt.us + upperAt.slackUs),
  };
}

/** The top-level AND terms of an expression (nested ANDs flattened). */
function conjunctsOf(node: Node): Node[] {
  if (node['type'] !== 'CONJUNCTION_AND' || !Array.isArray(node['children'])) return [node];
  return node['children'].filter(isNode).flatMap(conjunctsOf);
}

/**
 * The range of `time` the WHERE expression (the `where_clause` node of DuckDB's JSON parse tree)
 * can match, each bound widened by how far DuckDB's reading of its literal can be from ours.
 */
export function timeRangeOfWhere(where: unknown): TimeRangeUs {
  if (!isNode(where)) return ALL_TIME;
  let range = ALL_TIME;
  for (const term of conjunctsOf(where)) {
    if (term['class'] === 'COMPARISON') range = narrowByComparison(range, term);
    else if (term['class'] === 'BETWEEN') range = narrowByBetween(range, term);
  }
  return range;
}

/** The intersection of two ranges (empty when minUs > maxUs). */
export function intersectRanges(a: TimeRangeUs, b: TimeRangeUs): TimeRangeUs {
  return { minUs: Math.max(a.minUs, b.minUs), maxUs: Math.min(a.maxUs, b.maxUs) };
}

/** Whether a file whose rows lie in [minTimeUs, maxTimeUs] can hold a row of the range. */
export function overlapsRange(file: { readonly minTimeUs: number; readonly maxTimeUs: number }, range: TimeRangeUs): boolean {
  assert.ok(file.minTimeUs <= file.maxTimeUs, 'a file spans a time range');
  return file.maxTimeUs >= range.minUs && file.minTimeUs <= range.maxUs;
}
