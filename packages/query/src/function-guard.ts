import { badRequest } from '@arc/errors';
import type { ArcError } from '@arc/errors';
import { BOUNDED_FUNCTIONS } from './bounded-functions.js';
import { QueryErrorCode } from './error-codes.js';
import { FUNCTION_VALUE_BYTES_MAX } from './limits.js';
import { isNode } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';

/**
 * Checks of the scalar function calls in a query's tree, for what the instance's lockdown cannot
 * stop: settings that are server paths, qualified names that would reach a built-in past its
 * bounding macro (bounded-functions.ts), and format widths that build huge strings.
 */

/**
 * Settings `current_setting` may read. The others include server paths (temp_directory,
 * allowed_directories, home_directory, extension_directory, secret_directory, ...), which are no
 * query reader's business; a name not listed here (or not a constant) is refused.
 */
const READABLE_SETTINGS: ReadonlySet<string> = new Set(['timezone', 'calendar', 'threads', 'memory_limit', 'max_memory', 'default_order', 'default_null_order']);

/**
 * Functions user SQL may not call at all: `getvariable` reads the DuckDB variables that hold
 * each view's file list (catalog.ts), i.e. server paths.
 */
const FUNCTIONS_REFUSED: ReadonlySet<string> = new Set(['getvariable']);

/** Functions whose first argument is a format string with field widths (`%9d`, `{:>9}`). */
const FORMAT_FUNCTIONS: ReadonlySet<string> = new Set(['printf', 'format']);

/** Widths in printf (`%-20s`, `%.3f`, `%*d`) and fmt (`{:>20}`, `{0:020d}`, `{:{}}`) format strings. */
const PRINTF_WIDTH = /%[-+ #0]*(\d+|\*)?(?:\.(\d+|\*))?/g;
const FMT_WIDTH = /\{[^{}]*:[^{}]*?(\d+|\{[^{}]*\})[^{}]*\}/g;

function refused(message: string, details: Record<string, string>): ArcError {
  return badRequest(QueryErrorCode.sqlForbidden, message, details);
}

/** The value of a VARCHAR constant node, or null for anything else. */
function constantText(node: unknown): string | null {
  if (!isNode(node) || node.class !== 'CONSTANT' || !isNode(node.value)) return null;
  const value = node.value as { is_null?: unknown; value?: unknown };
  return value.is_null === false && typeof value.value === 'string' ? value.value : null;
}

function checkSetting(argument: unknown): void {
  const name = constantText(argument);
  if (name !== null && READABLE_SETTINGS.has(name.toLowerCase())) return;
  throw refused(`current_setting() may read only these settings: ${[...READABLE_SETTINGS].join(', ')}; got ${name === null ? 'a non-constant name' : `'${name}'`}`, {
    function: 'current_setting',
  });
}

/** The widths a format string asks for, in characters ('*' and nested `{}` widths come from arguments: Infinity). */
function formatWidths(format: string): number[] {
  const widths: number[] = [];
  for (const pattern of [PRINTF_WIDTH, FMT_WIDTH]) {
    for (const match of format.matchAll(pattern)) {
      // A group that took no part in the match is undefined, which RegExpMatchArray's type leaves out.
      for (const group of match.slice(1) as (string | undefined)[]) {
        if (group === undefined) continue;
        widths.push(/^\d+$/.test(group) ? Number(group) : Number.POSITIVE_INFINITY);
      }
    }
  }
  return widths;
}

function checkFormat(name: string, argument: unknown): void {
  const format = constantText(argument);
  if (format === null) {
    throw refused(`${name}() needs a constant format string (its field widths are checked against the limit of one value)`, { function: name });
  }
  if (formatWidths(format).some((width) => width > FUNCTION_VALUE_BYTES_MAX)) {
    throw badRequest(
      QueryErrorCode.sqlValueTooLarge,
      `${name}() format '${format.slice(0, 64)}' asks for a field wider than ${String(FUNCTION_VALUE_BYTES_MAX)} characters (limit of one function value), or for a width from an argument`,
      { function: name, value_bytes_max: FUNCTION_VALUE_BYTES_MAX },
    );
  }
}

/** Functions checked here or bounded by a macro: a schema-qualified name would bypass that. */
const GUARDED_FUNCTIONS: ReadonlySet<string> = new Set([...BOUNDED_FUNCTIONS, ...FORMAT_FUNCTIONS, 'current_setting']);

/** Throws ArcError when a FUNCTION node of the tree is refused. */
export function checkFunctionCall(node: SqlNode): void {
  if (node.class !== 'FUNCTION' || typeof node.function_name !== 'string') return;
  const name = node.function_name.toLowerCase();
  // The parser itself qualifies some calls (`[1, 2]` is main.list_value): only guarded names are refused.
  const qualified = (typeof node.schema === 'string' && node.schema !== '') || (typeof node.catalog === 'string' && node.catalog !== '');
  if (qualified && GUARDED_FUNCTIONS.has(name)) {
    throw refused(`Schema-qualified function names are not allowed: call ${node.function_name}() by its name alone`, { function: node.function_name });
  }
  if (FUNCTIONS_REFUSED.has(name)) throw refused(`${node.function_name}() is not allowed`, { function: node.function_name });
  const [first] = Array.isArray(node.children) ? (node.children as unknown[]) : [];
  if (name === 'current_setting') checkSetting(first);
  else if (FORMAT_FUNCTIONS.has(name)) checkFormat(name, first);
}
