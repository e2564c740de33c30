import type { SqlNode } from './sql-tree.js';
import { isNode } from './sql-tree.js';

/**
 * The common time bounds, read without asking DuckDB: a string literal
 * (`time >= '2025-10-16T16:00:00Z'`, Grafana's `$__timeFilter`) or `TIMESTAMP '...'`. Only the
 * text forms whose meaning is beyond doubt are read here (a date, or a date and time with seconds,
 * optional fraction and an optional `Z`, all UTC as in Arc's query threads); anything else is left
 * to DuckDB (`undefined`). A bound evaluated by DuckDB costs a deserialize and a query (~2 ms).
 */
const UTC_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?Z?$/;
const MICROS_PER_MILLI = 1000n;
const FRACTION_DIGITS = 6;

/** The instant of a UTC text, µs (its fraction cut to the µs), and how many fraction digits it had. */
function textMicros(text: string): { readonly micros: bigint; readonly fractionDigits: number } | undefined {
  const match = UTC_TEXT.exec(text.trim());
  if (match === null) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = ''] = match;
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const [y, mo, d, h, mi, s] = fields;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const milliseconds = Date.UTC(y, mo - 1, d, h, mi, s);
  // Date.UTC rolls 2025-02-30 over into March; DuckDB refuses it. Leave such text to DuckDB.
  if (new Date(milliseconds).getUTCDate() !== d || y < 100) return undefined;
  const micros = BigInt(fraction.padEnd(FRACTION_DIGITS, '0').slice(0, FRACTION_DIGITS));
  return { micros: BigInt(milliseconds) * MICROS_PER_MILLI + micros, fractionDigits: fraction.length };
}

function varcharConstant(node: SqlNode): string | undefined {
  if (node.type !== 'VALUE_CONSTANT' || !isNode(node.value)) return undefined;
  const value = node.value;
  const type = value.type;
  if (!isNode(type) || type.id !== 'VARCHAR' || value.is_null === true || typeof value.value !== 'string') return undefined;
  return value.value;
}

/** Microseconds of a literal time bound, or undefined when DuckDB must evaluate the expression. */
export function constantTimestampMicros(node: SqlNode): bigint | undefined {
  const text = timestampText(node);
  return text === undefined ? undefined : textMicros(text)?.micros;
}

/**
 * Microseconds of a literal time bound that stands for exactly that instant: as
 * constantTimestampMicros, but undefined for a fraction finer than a microsecond (the text's own
 * instant lies between two; pruning by either is safe, filtering by either is not).
 */
export function exactTimestampMicros(node: SqlNode): bigint | undefined {
  const text = timestampText(node);
  const instant = text === undefined ? undefined : textMicros(text);
  return instant === undefined || instant.fractionDigits > FRACTION_DIGITS ? undefined : instant.micros;
}

/** The text of a VARCHAR literal bound or of `TIMESTAMP '...'`, else undefined. */
function timestampText(node: SqlNode): string | undefined {
  const literal = varcharConstant(node);
  if (literal !== undefined) return literal;
  if (node.type !== 'OPERATOR_CAST' || node.try_cast === true || !isNode(node.child) || !isNode(node.cast_type)) return undefined;
  if (node.cast_type.id !== 'TIMESTAMP') return undefined;
  return varcharConstant(node.child);
}

/** The names DuckDB gives the statement's start instant as a function of no arguments. */
const CLOCK_FUNCTIONS: ReadonlySet<string> = new Set(['now', 'get_current_timestamp', 'transaction_timestamp']);

/**
 * `now()` alone, or plus or minus an interval (`now() - INTERVAL 1 HOUR`, Grafana's and a stat
 * panel's bound): the interval expression and the sign it is added with; undefined for anything
 * else. Whether the interval is a constant is the caller's to check (top-n's isConstantTree).
 */
export function clockPlusInterval(node: SqlNode): { readonly sign: 1 | -1; readonly interval: SqlNode | null } | undefined {
  if (isClock(node)) return { sign: 1, interval: null };
  if (node.class !== 'FUNCTION' || node.is_operator !== true || !Array.isArray(node.children) || node.children.length !== 2) return undefined;
  const [left, right] = node.children as unknown[];
  if (!isNode(left) || !isNode(right)) return undefined;
  if (node.function_name === '-' && isClock(left)) return { sign: -1, interval: right };
  if (node.function_name === '+' && isClock(left)) return { sign: 1, interval: right };
  if (node.function_name === '+' && isClock(right)) return { sign: 1, interval: left };
  return undefined;
}

function isClock(node: SqlNode): boolean {
  return (
    node.class === 'FUNCTION' &&
    typeof node.function_name === 'string' &&
    CLOCK_FUNCTIONS.has(node.function_name.toLowerCase()) &&
    node.schema === '' &&
    (node.catalog ?? '') === '' &&
    Array.isArray(node.children) &&
    node.children.length === 0 &&
    node.filter === null &&
    node.distinct === false
  );
}

const MICROS_PER_DAY = 86_400_000_000n;

/** The instant `nowMs` plus `sign` times an interval of days and µs, in µs: a day is 24 hours in UTC. */
export function clockMicros(nowMs: number, sign: 1 | -1, days: number, micros: bigint): bigint {
  return BigInt(nowMs) * MICROS_PER_MILLI + BigInt(sign) * (BigInt(days) * MICROS_PER_DAY + micros);
}
