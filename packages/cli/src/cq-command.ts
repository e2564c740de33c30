import type { parseArgs } from 'node:util';
import { parseDurationMs } from '@arc/compaction';
import { ApiClient, ServerRequestError } from './api-client.js';
import { CommandUsageError, formatTable, parseCommandArgs } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { CQ_REQUEST_TIMEOUT_MS, CQ_WINDOWS_PER_REQUEST } from './limits.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';

export const CQ_USAGE = `Usage: arc cq <subcommand> [options]

Manages the continuous queries of a running Arc server (/api/v1/continuous_queries).

Subcommands:
  list [--database <db>]                 every continuous query (of readable databases)
  show <id|name>                         one continuous query
  create --name <n> --database <db> --source <m> --destination <m> --interval <d> --query <sql>
         [--description <text>] [--inactive] [--destination-database <db>]
         [--offset <d>] [--every <d>] [--for <d>]
                                         windows start at epoch + offset + k * interval; it runs
                                         every --every (default the interval), each run
                                         recomputing the windows of the last --for
  delete <id|name>                       delete it (its destination's rows stay)
  execute <id|name> [--start <time>] [--end <time>] [--dry-run]
                                         run its windows of a range now (RFC 3339 times), with
                                         progress; without --start, the windows due
  executions <id|name> [--limit <n>]     its window runs, newest first

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        a token (default: the ARC_TOKEN environment variable); changes need admin
  --json                 print JSON instead of text
  --config <arc.conf>    where to read server.port when --url is not given
  -h, --help             show this text

${exitCodesText('done (every window completed)', 'a window failed, or the server refused or could not be reached')}`;

/** A server that refused or could not be reached (api-client.ts), or a query not found: one line on stderr, exit 1. */
export class CqCommandError extends ServerRequestError {
  override readonly name = 'CqCommandError';
}

const SUBCOMMANDS = ['list', 'show', 'create', 'delete', 'execute', 'executions'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const OPTIONS = {
  ...SERVER_OPTIONS,
  database: { type: 'string' },
  name: { type: 'string' },
  source: { type: 'string' },
  destination: { type: 'string' },
  interval: { type: 'string' },
  query: { type: 'string' },
  description: { type: 'string' },
  inactive: { type: 'boolean' },
  'destination-database': { type: 'string' },
  offset: { type: 'string' },
  every: { type: 'string' },
  for: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'dry-run': { type: 'boolean' },
  limit: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: true }>>['values'];

export interface CqOptions extends ServerTarget {
  readonly subcommand: Subcommand;
  /** The id or name of `show`, `delete`, `execute`, `executions`. */
  readonly target: string | null;
  readonly values: Values;
}

export type CqIo = ServerCommandIo;

function isSubcommand(text: string | undefined): text is Subcommand {
  return (SUBCOMMANDS as readonly (string | undefined)[]).includes(text);
}

/** An RFC 3339 time of --start / --end, in ms. */
function instantOf(text: string, option: string): number {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms)) throw new CommandUsageError(`option '--${option}' must be an RFC 3339 time (2026-01-01T00:00:00Z), got '${text}'`);
  return ms;
}

/** The command line of `arc cq` (after `cq`), checked. */
export function parseCqArgs(args: readonly string[], env: NodeJS.ProcessEnv): CqOptions {
  const parsed = parseCommandArgs({ args: [...args], options: OPTIONS, strict: true, allowPositionals: true });
  const [subcommand, target, ...extra] = parsed.positionals;
  if (!isSubcommand(subcommand)) throw new CommandUsageError(subcommand === undefined ? `a subcommand is needed: ${SUBCOMMANDS.join(', ')}` : `unknown subcommand '${subcommand}'`);
  const needsTarget = subcommand !== 'list' && subcommand !== 'create';
  if (needsTarget && target === undefined) throw new CommandUsageError(`'${subcommand}' needs the id or name of a continuous query`);
  if ((!needsTarget && target !== undefined) || extra.length > 0) throw new CommandUsageError(`unexpected argument '${String(needsTarget ? extra[0] : target)}'`);
  if (subcommand === 'create') {
    for (const option of ['name', 'database', 'source', 'destination', 'interval', 'query'] as const) if (parsed.values[option] === undefined) throw new CommandUsageError(`'create' needs --${option}`);
  }
  // Times are checked before the server is asked anything.
  if (parsed.values.start !== undefined) instantOf(parsed.values.start, 'start');
  if (parsed.values.end !== undefined) instantOf(parsed.values.end, 'end');
  return { ...serverTargetOf(parsed.values, env), subcommand, target: target ?? null, values: parsed.values };
}

/** A continuous query as the server answers it (the fields the command prints). */
interface CqJson {
  readonly id: number;
  readonly name: string;
  readonly database: string;
  readonly source_measurement: string;
  readonly destination_measurement: string;
  readonly interval: string;
  readonly is_active: boolean;
  readonly last_processed_time: string | null;
  readonly query: string;
  readonly destination_database?: string | null;
  readonly window_offset?: string | null;
  readonly resample_every?: string | null;
  readonly resample_for?: string | null;
  /** The start of the span rolled up (delete_source_after_days removes source rows only from it); a server before it answers none. */
  readonly rolled_up_from?: string | null;
}

interface ExecutionJson {
  readonly status: string;
  readonly trigger?: string;
  readonly start_time: string;
  readonly end_time: string;
  readonly records_written: number | null;
  readonly error_message: string | null;
}

interface ExecuteJson {
  readonly status: string;
  readonly windows: number;
  readonly records_read: number;
  readonly records_written: number;
  readonly executions: readonly ExecutionJson[];
}

/** JSON over HTTP to the server (ApiClient); every failure is a ServerRequestError naming the request. */
class CqClient {
  readonly #api: ApiClient;

  constructor(baseUrl: string, token: string | null) {
    this.#api = new ApiClient(baseUrl, token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await this.#api.request(method, path, body === undefined ? undefined : JSON.stringify(body), CQ_REQUEST_TIMEOUT_MS)) as T;
  }

  /** An execute: answered when its windows ran, however long that takes (no time limit, see CQ_WINDOWS_PER_REQUEST). */
  async execute(path: string, body: unknown): Promise<ExecuteJson> {
    return (await this.#api.requestUntilAnswered('POST', path, JSON.stringify(body))) as ExecuteJson;
  }

  /** The query with this id, or else this name. */
  async find(target: string): Promise<CqJson> {
    if (/^\d+$/.test(target)) return this.request<CqJson>('GET', `/api/v1/continuous_queries/${target}`);
    const found = (await this.request<CqJson[]>('GET', '/api/v1/continuous_queries')).find((cq) => cq.name === target);
    if (found === undefined) throw new CqCommandError(`no continuous query is named '${target}'`);
    return found;
  }
}

// --- Output: pure functions of what the server answered ---

export function formatCqList(cqs: readonly CqJson[]): string {
  if (cqs.length === 0) return 'no continuous query\n';
  const rows = cqs.map((cq) => [String(cq.id), cq.name, cq.database, `${cq.source_measurement} -> ${cq.destination_database == null ? '' : `${cq.destination_database}.`}${cq.destination_measurement}`, cq.interval, cq.is_active ? 'yes' : 'no', cq.last_processed_time ?? '-']);
  return `${formatTable([['ID', 'NAME', 'DATABASE', 'SOURCE -> DESTINATION', 'INTERVAL', 'ACTIVE', 'PROCESSED UNTIL'], ...rows])}\n`;
}

export function formatExecutions(executions: readonly ExecutionJson[]): string {
  if (executions.length === 0) return 'no window has run\n';
  const rows = executions.map((run) => [run.start_time, run.end_time, run.trigger ?? '', run.status, run.records_written === null ? '-' : String(run.records_written), run.error_message ?? '']);
  return `${formatTable([['START', 'END', 'TRIGGER', 'STATUS', 'ROWS', 'ERROR'], ...rows])}\n`;
}

/** Bar cells of the TTY progress line. */
const PROGRESS_BAR_CELLS = 10;

/** `[#####.....] 12/24 windows`. */
export function windowProgress(done: number, total: number): string {
  const filled = total === 0 ? PROGRESS_BAR_CELLS : Math.floor((done / total) * PROGRESS_BAR_CELLS);
  return `[${'#'.repeat(filled)}${'.'.repeat(PROGRESS_BAR_CELLS - filled)}] ${String(done)}/${String(total)} windows`;
}

/** The schedule lines of `show`: only what differs from the defaults. */
export function formatSchedule(cq: CqJson): string {
  const lines = [
    cq.destination_database == null ? null : `destination database: ${cq.destination_database}`,
    cq.window_offset == null ? null : `window offset: ${cq.window_offset}`,
    cq.resample_every == null ? null : `runs every: ${cq.resample_every}`,
    cq.resample_for == null ? null : `each run recomputes: ${cq.resample_for}`,
  ];
  return lines.flatMap((line) => (line === null ? [] : [`${line}\n`])).join('');
}

/** [start, end) cut at window boundaries (epoch + offset + k * interval) into pieces of CQ_WINDOWS_PER_REQUEST windows (aligned outwards, as the server aligns). */
export function executeChunks(startMs: number, endMs: number, intervalMs: number, offsetMs = 0): { startMs: number; endMs: number; windows: number }[] {
  const first = offsetMs + Math.floor((startMs - offsetMs) / intervalMs) * intervalMs;
  const last = offsetMs + Math.ceil((endMs - offsetMs) / intervalMs) * intervalMs;
  const chunks: { startMs: number; endMs: number; windows: number }[] = [];
  for (let from = first; from < last; from += CQ_WINDOWS_PER_REQUEST * intervalMs) {
    const to = Math.min(last, from + CQ_WINDOWS_PER_REQUEST * intervalMs);
    chunks.push({ startMs: from, endMs: to, windows: (to - from) / intervalMs });
  }
  return chunks;
}


/** execute: the range in requests of CQ_WINDOWS_PER_REQUEST windows, progress on a TTY's stderr; 1 when a window failed. */
async function execute(client: CqClient, options: CqOptions, io: CqIo): Promise<number> {
  const cq = await client.find(options.target ?? '');
  const path = `/api/v1/continuous_queries/${String(cq.id)}/execute`;
  const dryRun = options.values['dry-run'] === true;
  const { start, end } = options.values;
  if (start === undefined) {
    if (end !== undefined) throw new CommandUsageError("option '--end' needs '--start'");
    const answer = await client.execute(path, { dry_run: dryRun });
    return report(io, options.json, [answer]);
  }
  const intervalMs = parseDurationMs(cq.interval);
  if (intervalMs === null) throw new CqCommandError(`the server gave an interval Arc cannot read: '${cq.interval}'`);
  const offsetMs = cq.window_offset == null ? 0 : parseDurationMs(cq.window_offset);
  if (offsetMs === null) throw new CqCommandError(`the server gave a window offset Arc cannot read: '${String(cq.window_offset)}'`);
  const startMs = instantOf(start, 'start');
  const endMs = end === undefined ? offsetMs + Math.floor((Date.now() - offsetMs) / intervalMs) * intervalMs : instantOf(end, 'end');
  if (startMs >= endMs) throw new CommandUsageError("'--start' must be before '--end'");
  const chunks = executeChunks(startMs, endMs, intervalMs, offsetMs);
  const total = chunks.reduce((sum, chunk) => sum + chunk.windows, 0);
  const answers: ExecuteJson[] = [];
  let done = 0;
  for (const chunk of chunks) {
    const answer = await client.execute(path, { start_time: new Date(chunk.startMs).toISOString(), end_time: new Date(chunk.endMs).toISOString(), dry_run: dryRun });
    answers.push(answer);
    done += answer.windows;
    if (io.stderrIsTTY) io.stderr.write(`\r${windowProgress(done, total)}`);
    if (answer.status === 'failed') break;
  }
  if (io.stderrIsTTY) io.stderr.write('\n');
  return report(io, options.json, answers);
}

function report(io: CqIo, json: boolean, answers: readonly ExecuteJson[]): number {
  const executions = answers.flatMap((answer) => answer.executions);
  const failed = answers.some((answer) => answer.status === 'failed');
  const written = answers.reduce((sum, answer) => sum + answer.records_written, 0);
  const read = answers.reduce((sum, answer) => sum + answer.records_read, 0);
  if (json) io.stdout.write(`${JSON.stringify({ windows: executions.length, records_read: read, records_written: written, failed, executions }, null, 2)}\n`);
  else {
    io.stdout.write(`${String(executions.length)} windows run: ${String(read)} rows read, ${String(written)} rows written${failed ? ', a window FAILED' : ''}\n`);
    for (const run of executions) if (run.status === 'failed') io.stdout.write(`failed: ${run.start_time}..${run.end_time}: ${run.error_message ?? 'no reason given'}\n`);
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

function createBody(values: Values): Record<string, unknown> {
  return {
    name: values.name,
    database: values.database,
    source_measurement: values.source,
    destination_measurement: values.destination,
    interval: values.interval,
    query: values.query,
    ...(values.description === undefined ? {} : { description: values.description }),
    ...(values.inactive === true ? { is_active: false } : {}),
    ...(values['destination-database'] === undefined ? {} : { destination_database: values['destination-database'] }),
    ...(values.offset === undefined ? {} : { window_offset: values.offset }),
    ...(values.every === undefined ? {} : { resample_every: values.every }),
    ...(values.for === undefined ? {} : { resample_for: values.for }),
  };
}

function print(io: CqIo, json: boolean, value: unknown, text: string): void {
  io.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : text);
}

/** Runs the subcommand against the server; returns the exit code. Throws CqCommandError. */
export async function runCq(options: CqOptions, io: CqIo): Promise<number> {
  const client = new CqClient(serverUrlOf(options.url, options.configPath), options.token);
  const { json, values } = options;
  switch (options.subcommand) {
    case 'list': {
      const query = values.database === undefined ? '' : `?${new URLSearchParams({ database: values.database }).toString()}`;
      const cqs = await client.request<CqJson[]>('GET', `/api/v1/continuous_queries${query}`);
      print(io, json, cqs, formatCqList(cqs));
      return EXIT_OK;
    }
    case 'show': {
      const cq = await client.find(options.target ?? '');
      const rolledUp = cq.rolled_up_from == null ? '' : `rolled up from: ${cq.rolled_up_from}\n`;
      print(io, json, cq, `${formatCqList([cq])}${formatSchedule(cq)}${rolledUp}query: ${cq.query}\n`);
      return EXIT_OK;
    }
    case 'create': {
      const cq = await client.request<CqJson>('POST', '/api/v1/continuous_queries', createBody(values));
      print(io, json, cq, `created continuous query ${String(cq.id)} '${cq.name}'\n`);
      return EXIT_OK;
    }
    case 'delete': {
      const cq = await client.find(options.target ?? '');
      const answer = await client.request<unknown>('DELETE', `/api/v1/continuous_queries/${String(cq.id)}`);
      print(io, json, answer, `deleted continuous query ${String(cq.id)} '${cq.name}'\n`);
      return EXIT_OK;
    }
    case 'execute':
      return execute(client, options, io);
    case 'executions': {
      const cq = await client.find(options.target ?? '');
      const limit = values.limit === undefined ? '' : `?${new URLSearchParams({ limit: values.limit }).toString()}`;
      const answer = await client.request<{ executions: ExecutionJson[] }>('GET', `/api/v1/continuous_queries/${String(cq.id)}/executions${limit}`);
      print(io, json, answer, formatExecutions(answer.executions));
      return EXIT_OK;
    }
  }
}

/** `arc cq ...`: the exit code; a bad command line (2) or a server error (1) is one line on stderr. */
export function cqCommand(args: readonly string[], io: CqIo): Promise<number> {
  return runServerCommand('cq', CQ_USAGE, args, io, () => runCq(parseCqArgs(args, io.env), io));
}
