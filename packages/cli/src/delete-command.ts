import { randomUUID } from 'node:crypto';
import { DeleteErrorCode } from '@arc/compaction';
import { ApiClient, ServerRefusalError, ServerRequestError } from './api-client.js';
import { CommandUsageError, parseCommandArgs } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { DELETE_PROGRESS_INTERVAL_MS } from './limits.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';

export const DELETE_USAGE = `Usage: arc delete --database <name> --measurement <name> --where <sql> [options]

Asks a running Arc server to delete the rows of a measurement that a SQL condition matches
(POST /api/v1/delete): rows still buffered are flushed first and deleted too; each file holding
matching rows is rewritten without them, atomically. The token needs the delete permission.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        a token with the delete permission (default: the ARC_TOKEN environment variable)
  --database <name>      the database (required)
  --measurement <name>   the measurement (required)
  --where <sql>          the rows to delete: a SQL expression over the columns, e.g. "host = 'a'" (required)
  --dry-run              count the matching rows and files, change nothing
  --confirm              needed when more rows match than delete.confirmation_threshold (10000)
  --json                 print the server's answer as JSON
  --config <arc.conf>    where to read server.port when --url is not given

  -h, --help             show this text

${exitCodesText('the rows were deleted (or counted, with --dry-run)', 'the server refused (a bad WHERE clause, confirmation needed, no permission), a file failed or the server could not be reached')}`;

const OPTIONS = {
  ...SERVER_OPTIONS,
  database: { type: 'string' },
  measurement: { type: 'string' },
  where: { type: 'string' },
  'dry-run': { type: 'boolean' },
  confirm: { type: 'boolean' },
} as const;

export interface DeleteOptions extends ServerTarget {
  readonly database: string;
  readonly measurement: string;
  readonly where: string;
  readonly dryRun: boolean;
  readonly confirm: boolean;
}

/** What the server answers (Arc Go's field names). */
export interface DeleteAnswer {
  readonly success: boolean;
  readonly deleted_count: number;
  readonly affected_files: number;
  readonly rewritten_files: number;
  readonly execution_time_ms: number;
  readonly dry_run: boolean;
  readonly files_processed: readonly string[];
  readonly failed_files?: readonly string[];
  readonly error?: string;
}

/** A refusal worded for `arc delete` (the --confirm hint), or an answer that is not a delete's: one line on stderr, exit 1. */
export class DeleteCommandError extends ServerRequestError {
  override readonly name = 'DeleteCommandError';
}

function required(value: string | undefined, option: string): string {
  if (value === undefined || value.trim() === '') throw new CommandUsageError(`option '--${option}' is required`);
  return value;
}

/** The command line of `arc delete` (after the command), checked; the token defaults to ARC_TOKEN. */
export function parseDeleteArgs(args: readonly string[], env: NodeJS.ProcessEnv): DeleteOptions {
  const { values } = parseCommandArgs({ args: [...args], options: OPTIONS, allowPositionals: false, strict: true });
  const database = required(values.database, 'database');
  const measurement = required(values.measurement, 'measurement');
  return {
    ...serverTargetOf(values, env),
    database,
    measurement,
    where: required(values.where, 'where'),
    dryRun: values['dry-run'] === true,
    confirm: values.confirm === true,
  };
}

/** The text a person reads of a delete's answer. */
export function formatDeleteAnswer(answer: DeleteAnswer): string {
  const seconds = (answer.execution_time_ms / 1000).toFixed(1);
  const lines = answer.dry_run
    ? [`dry run: ${String(answer.deleted_count)} rows match in ${String(answer.affected_files)} files (nothing changed)`]
    : [`deleted ${String(answer.deleted_count)} rows: ${String(answer.rewritten_files)} of ${String(answer.affected_files)} files rewritten in ${seconds} s`];
  for (const name of answer.files_processed) lines.push(`  ${name}`);
  for (const name of answer.failed_files ?? []) lines.push(`failed: ${name} (unchanged; run the delete again)`);
  return `${lines.join('\n')}\n`;
}

export type DeleteIo = ServerCommandIo;

/** The server's refusal as one line; a confirmation refusal names the option that gives it. */
function refusalOf(refusal: ServerRefusalError): string {
  const code = refusal.code === null ? '' : ` (${refusal.code})`;
  const hint = refusal.code === DeleteErrorCode.confirmRequired ? '; pass --confirm' : '';
  return `the server answered ${String(refusal.status)}: ${refusal.reason}${code}${hint}`;
}

/** An entry of GET /api/v1/delete/running (the fields the progress line shows). */
interface RunningDeleteJson {
  readonly request_id: string | null;
  readonly phase: string;
  readonly files_done: number;
  readonly files_total: number;
}

/** `deleting: rewriting 12/40 files, 8 s`; before the server listed the delete (or when it cannot), the elapsed time alone. */
export function deleteProgressLine(dryRun: boolean, elapsedMs: number, running: RunningDeleteJson | null): string {
  const seconds = `${(elapsedMs / 1000).toFixed(0)} s`;
  const what = dryRun ? 'counting' : 'deleting';
  if (running === null) return `${what}... ${seconds}`;
  const files = running.phase === 'flushing' ? '' : ` ${String(running.files_done)}/${String(running.files_total)} files`;
  return `${what}: ${running.phase}${files}, ${seconds}`;
}

/**
 * The progress line on stderr while the server works (a terminal only): the delete's phase and
 * files, read from GET /api/v1/delete/running by the request id the command sent, every
 * DELETE_PROGRESS_INTERVAL_MS. A server that cannot say (an older one, a token without the
 * listing) leaves the elapsed time alone: progress never fails the delete.
 */
function showProgress(io: DeleteIo, api: ApiClient, requestId: string, dryRun: boolean): () => void {
  if (!io.stderrIsTTY) return () => undefined;
  const startedMs = Date.now();
  let running: RunningDeleteJson | null = null;
  let listing = true;
  let stopped = false;
  const draw = (): void => void io.stderr.write(`\r${deleteProgressLine(dryRun, Date.now() - startedMs, running)}\x1b[K`);
  const poll = async (): Promise<void> => {
    if (!listing) return;
    try {
      const answer = (await api.request('GET', '/api/v1/delete/running', undefined, DELETE_PROGRESS_INTERVAL_MS)) as { deletes?: RunningDeleteJson[] };
      running = answer.deletes?.find((entry) => entry.request_id === requestId) ?? running;
    } catch {
      listing = false;
    }
  };
  draw();
  const timer = setInterval(() => {
    void poll().then(() => {
      if (!stopped) draw();
    });
  }, DELETE_PROGRESS_INTERVAL_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
    io.stderr.write('\n');
  };
}

/**
 * POST /api/v1/delete, waiting for the answer however long the delete takes: the server answers
 * when it has counted and rewritten every file, which for a large delete is past fetch's five
 * minutes (retention runs wait the same way).
 */
async function postDelete(api: ApiClient, requestId: string, options: DeleteOptions): Promise<DeleteAnswer> {
  const body = JSON.stringify({ database: options.database, measurement: options.measurement, where: options.where, dry_run: options.dryRun, confirm: options.confirm });
  let answer;
  try {
    answer = await api.requestUntilAnswered('POST', '/api/v1/delete', body, { 'x-request-id': requestId });
  } catch (error) {
    throw error instanceof ServerRefusalError ? new DeleteCommandError(refusalOf(error)) : error;
  }
  if (typeof answer !== 'object' || answer === null) throw new DeleteCommandError("the server's answer is not a delete's JSON: is this an Arc server?");
  return answer as DeleteAnswer;
}

/** Runs the delete against the server; returns the exit code. Throws ServerRequestError. */
export async function runDelete(options: DeleteOptions, io: DeleteIo): Promise<number> {
  const api = new ApiClient(serverUrlOf(options.url, options.configPath), options.token);
  // The server lists the delete under this id (GET /api/v1/delete/running): the progress line finds it by it.
  const requestId = `arc-delete-${randomUUID()}`;
  const stop = showProgress(io, api, requestId, options.dryRun);
  let result;
  try {
    result = await postDelete(api, requestId, options);
  } finally {
    stop();
  }
  io.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : formatDeleteAnswer(result));
  return result.success ? EXIT_OK : EXIT_FAILED;
}

/** `arc delete ...`: the exit code; a bad command line (2) or a server error (1) is one line on stderr. */
export function deleteCommand(args: readonly string[], io: DeleteIo): Promise<number> {
  return runServerCommand('delete', DELETE_USAGE, args, io, () => runDelete(parseDeleteArgs(args, io.env), io));
}
