// @ts-check
// The command-line frame shared by the bench/ scripts: options or usage, progress on stderr, one
// JSON line per result on stdout (and appended to --out).
import fs from 'node:fs';

/** A bad option or a missing one: the scripts exit 2 for it (3 for a setup failure). */
export class UsageError extends Error {}

/**
 * Parses `argv` with `parse` (which throws on a bad option and returns null for --help): the
 * options, or the exit code after printing the usage (0 for --help, 2 for a bad option).
 * @template T
 * @param {string[]} argv
 * @param {(argv: string[]) => T | null} parse
 * @param {string} usage
 * @returns {{ options: T, exitCode: null } | { options: null, exitCode: number }}
 */
export function parseCli(argv, parse, usage) {
  let options;
  try {
    options = parse(argv);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${usage}\n`);
    return { options: null, exitCode: 2 };
  }
  if (options === null) {
    process.stdout.write(`${usage}\n`);
    return { options: null, exitCode: 0 };
  }
  return { options, exitCode: null };
}

/**
 * `log` writes progress to stderr unless `json`; `emit` writes one JSON line to stdout and
 * appends it to `out` when set.
 * @param {{ json: boolean, out: string | null }} o
 */
export function cliOutput(o) {
  /** @param {string} s */
  const log = (s) => {
    if (!o.json) process.stderr.write(`${s}\n`);
  };
  /** @param {object} line */
  const emit = (line) => {
    const s = JSON.stringify(line);
    process.stdout.write(`${s}\n`);
    if (o.out) fs.appendFileSync(o.out, `${s}\n`);
  };
  return { log, emit };
}

/**
 * The number an option's text says, at least `min`; a UsageError naming `--name` otherwise.
 * @param {string} name
 * @param {string | undefined} v
 * @param {number} min
 */
export function numberOption(name, v, min) {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got ${v}`);
  return n;
}

/**
 * As numberOption, and a whole number.
 * @param {string} name
 * @param {string | undefined} v
 * @param {number} min
 */
export function integerOption(name, v, min) {
  const n = numberOption(name, v, min);
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got ${v}`);
  return n;
}
