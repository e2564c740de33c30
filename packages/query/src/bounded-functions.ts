import { FUNCTION_LIST_ELEMENTS_MAX, FUNCTION_VALUE_BYTES_MAX } from './limits.js';
import { quoteLiteral } from './sql-text.js';
import { QueryErrorCode } from './error-codes.js';

/**
 * DuckDB functions whose answer can be far larger than their arguments (`repeat('x', 2e9)`,
 * `range(1e8)` as a list). DuckDB builds their values in the vector's heap, outside the buffer
 * manager (so `memory_limit` does not bound them), and does not look at an interrupt until the
 * vector is done, so one call held gigabytes for tens of seconds past a timeout or an abort.
 *
 * Each instance defines a TEMP macro of the same name, which user SQL calls instead of the
 * built-in (temp comes first on DuckDB's search path; the guard refuses schema-qualified
 * function names, so `system.main.repeat` cannot be reached). The macro passes the built-in its
 * size argument through a CASE that raises an error when the size is over the limit, so the
 * check runs at run time on every row (also for sizes from columns) and, for constants, while
 * DuckDB folds them during planning; the built-in never sees an oversized argument. (A CASE
 * around the whole call would not do: DuckDB folds its constant branches one by one, the
 * unbounded call included, and an error() of list type folds to NULL.)
 */

/** The built-ins the macros stand in for: the guard refuses their schema-qualified names. */
export const BOUNDED_FUNCTIONS: readonly string[] = ['repeat', 'lpad', 'rpad', 'bitstring', 'range', 'generate_series', 'list_resize', 'array_resize'];

const BYTES = String(FUNCTION_VALUE_BYTES_MAX);
const BITS = String(FUNCTION_VALUE_BYTES_MAX * 8);
const ELEMENTS = String(FUNCTION_LIST_ELEMENTS_MAX);

function tooLarge(name: string, limit: string, unit: string): string {
  return `error(${quoteLiteral(`${QueryErrorCode.sqlValueTooLarge}: ${name}() would build a value of more than ${limit} ${unit} (limit of one function value)`)})`;
}

/** A size argument, or the error when it is over the limit (NULL sizes stay NULL). */
function checked(name: string, limit: string, unit: string, over: string, size: string): string {
  return `CASE WHEN ${over} THEN ${tooLarge(name, limit, unit)} ELSE ${size} END`;
}

/** `stop` lies more than the limit's count of steps beyond `start`, for numbers and for times alike. */
function stepsOver(start: string, stop: string, step: string): string {
  return (
    `((${start} + ${step} > ${start} AND ${stop} > ${start} + ${step} * ${ELEMENTS}) OR ` +
    `(${start} + ${step} < ${start} AND ${stop} < ${start} + ${step} * ${ELEMENTS}))`
  );
}

function rangeMacro(name: string): string {
  const stop = (over: string): string => checked(name, ELEMENTS, 'elements', over, 'stop');
  return (
    `CREATE OR REPLACE TEMP MACRO ${name}(stop) AS system.main.${name}(${stop(`stop > ${ELEMENTS}`)}), ` +
    `(start, stop) AS system.main.${name}(start, ${stop(`stop - start > ${ELEMENTS}`)}), ` +
    `(start, stop, step) AS system.main.${name}(start, ${stop(stepsOver('start', 'stop', 'step'))}, step)`
  );
}

function resizeMacro(name: string): string {
  const size = checked(name, ELEMENTS, 'elements', `size > ${ELEMENTS}`, 'size');
  return `CREATE OR REPLACE TEMP MACRO ${name}(list, size) AS system.main.${name}(list, ${size}), (list, size, fill) AS system.main.${name}(list, ${size}, fill)`;
}

function padMacro(name: string): string {
  const count = checked(name, BYTES, 'characters', `count > ${BYTES}`, 'count');
  return `CREATE OR REPLACE TEMP MACRO ${name}(text, count, fill) AS system.main.${name}(text, ${count}, fill)`;
}

/**
 * The statements that define the macros; run once per instance, before any user SQL. `repeat`
 * measures its first argument as text (exact for VARCHAR, an upper bound for BLOB and lists).
 */
export function boundedFunctionMacros(): string[] {
  const count = checked('repeat', BYTES, 'bytes', `strlen(value::VARCHAR) * count > ${BYTES}`, 'count');
  const length = checked('bitstring', BITS, 'bits', `length > ${BITS}`, 'length');
  return [
    `CREATE OR REPLACE TEMP MACRO repeat(value, count) AS system.main.repeat(value, ${count})`,
    padMacro('lpad'),
    padMacro('rpad'),
    `CREATE OR REPLACE TEMP MACRO bitstring(bits, length) AS system.main.bitstring(bits, ${length})`,
    rangeMacro('range'),
    rangeMacro('generate_series'),
    resizeMacro('list_resize'),
    resizeMacro('array_resize'),
  ];
}
