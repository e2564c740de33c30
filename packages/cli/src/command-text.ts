import assert from 'node:assert/strict';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * A command line that cannot be run as written (unknown option, missing or malformed value):
 * exit code 2, with a pointer to the command's --help.
 */
export class CommandUsageError extends Error {
  override readonly name = 'CommandUsageError';
}

/** What node:util's parseArgs declares of an option. */
type OptionTypes = Readonly<Record<string, { readonly type: 'string' | 'boolean' }>>;

/**
 * node:util's parse errors are multi-line hints; keep one line that names the option. What went
 * wrong comes from the error's code and the option's declared type (a value option whose value
 * is missing or looks like another option); the option itself is named only in the text, so
 * this function is the one place that reads it (token-command.test.ts pins the wording).
 */
export function parseArgsErrorMessage(error: Error & { code?: unknown }, options: OptionTypes): string {
  const option = /'(--?[^' ]+)/.exec(error.message)?.[1];
  const takesValue = option !== undefined && options[option.replace(/^--/, '')]?.type === 'string';
  // A text that names no option (the wording changed) falls through to the first line as it is.
  if (option !== undefined && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option '${option}'`;
  if (option !== undefined && error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && takesValue) return `option '${option}' needs a value`;
  const newlineIndex = error.message.indexOf('\n');
  return (newlineIndex === -1 ? error.message : error.message.slice(0, newlineIndex)).replace(/\.$/, '');
}

/** node:util's parseArgs, a parse error as a CommandUsageError of one line naming the option. */
export function parseCommandArgs<const T extends ParseArgsConfig & { readonly options: OptionTypes }>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    throw new CommandUsageError(parseArgsErrorMessage(error as Error & { code?: unknown }, config.options));
  }
}

/** True for an RFC 3339 time (`2026-01-01T00:00:00Z`, fractions and offsets allowed) that Date can read. */
export function isRfc3339(text: string): boolean {
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d:\d\d)$/i.test(text) && !Number.isNaN(Date.parse(text));
}

/** Rows of cells as aligned columns (two spaces apart); the first row is the header. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const columnCount = rows[0]?.length ?? 0;
  for (const row of rows) assert.equal(row.length, columnCount, 'a cell under every header');
  const widths = Array.from({ length: columnCount }, (_, column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd()).join('\n');
}

/** True when the arguments ask for help (`help` first, or --help / -h anywhere). */
export function wantsHelp(args: readonly string[]): boolean {
  return args[0] === 'help' || args.includes('--help') || args.includes('-h');
}
