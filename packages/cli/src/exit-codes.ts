/**
 * Exit codes of every `arc` command, so a script or a supervisor can tell a bad command line
 * (fix the call, retrying is useless) from a failure of the work itself (perhaps retry).
 */
export const EXIT_OK = 0;
/** The command ran and failed: a server or store refused, a job failed, a server is not healthy. */
export const EXIT_FAILED = 1;
/** The command line is wrong: an unknown command or option, a missing or malformed value. */
export const EXIT_USAGE = 2;
/** `arc serve` only: a stop could not write every acknowledged row to Parquet (the log says how many). */
export const EXIT_ROWS_UNFLUSHED = 3;

/** The paragraph every usage text ends with; `extra` lines name a command's own codes. */
export function exitCodesText(success: string, failure: string, ...extra: string[]): string {
  const lines = [`0  ${success}`, `1  ${failure}`, '2  usage error: unknown command or option, missing or malformed value', ...extra];
  return `Exit codes (the reason of a non-zero exit is one line on stderr):\n${lines.map((line) => `  ${line}\n`).join('')}`;
}
