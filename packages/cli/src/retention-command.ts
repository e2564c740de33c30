import { setTimeout as delay } from 'node:timers/promises';
import { RETENTION_EXECUTIONS_KEPT, parseRetentionPolicy } from '@arc/compaction';
import { ApiClient, ServerRequestError } from './api-client.js';
import { CommandUsageError, formatTable, parseCommandArgs } from './command-text.js';
import { formatBytes, progressBar } from './progress-bar.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { RETENTION_POLL_INTERVAL_MS, RETENTION_REQUEST_TIMEOUT_MS } from './limits.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';

export const RETENTION_USAGE = `Usage: arc retention <subcommand> [options]

Manages the retention policies of a running Arc server (/api/v1/retention; admin token) and runs
them now. A policy removes the rows of a database (or of one measurement) older than
retention_days + buffer_days days: wholly expired files are deleted, a file straddling the
cut-off is rewritten without its expired rows.

Subcommands:
  list                                  every policy
  create --name <n> --database <db> --retention-days <n> [--measurement <m>] [--buffer-days <n>] [--inactive]
  show <policy>                         one policy (and the run going on, if any)
  update <policy> [--name <n>] [--database <db>] [--measurement <m> | --all-measurements]
              [--retention-days <n>] [--buffer-days <n>] [--active | --inactive]
  delete <policy>                       the policy and its history
  execute <policy> [--dry-run]          run it now; --dry-run lists the files, rows and bytes it would remove
  executions <policy> [--limit <n>]     its runs, newest first (default 50)

<policy> is a policy's id or its name.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        an admin token (default: the ARC_TOKEN environment variable)
  --json                 print the server's JSON answer
  --config <arc.conf>    where to read server.port when --url is not given
  -h, --help             show this text

A run (execute) shows a progress bar on stderr when it is a terminal. buffer_days defaults to 7.

${exitCodesText('done (a run: it completed)', 'the server refused or could not be reached, or a run failed')}`;

const POLICY_FIELDS = {
  name: { type: 'string' },
  database: { type: 'string' },
  measurement: { type: 'string' },
  'retention-days': { type: 'string' },
  'buffer-days': { type: 'string' },
  inactive: { type: 'boolean' },
} as const;

/** The options each subcommand takes, and whether it names a policy id. */
const SUBCOMMANDS = {
  list: { options: SERVER_OPTIONS, id: false },
  create: { options: { ...SERVER_OPTIONS, ...POLICY_FIELDS }, id: false },
  show: { options: SERVER_OPTIONS, id: true },
  update: { options: { ...SERVER_OPTIONS, ...POLICY_FIELDS, 'all-measurements': { type: 'boolean' }, active: { type: 'boolean' } }, id: true },
  delete: { options: SERVER_OPTIONS, id: true },
  execute: { options: { ...SERVER_OPTIONS, 'dry-run': { type: 'boolean' } }, id: true },
  executions: { options: { ...SERVER_OPTIONS, limit: { type: 'string' } }, id: true },
} as const;
type Subcommand = keyof typeof SUBCOMMANDS;

type OptionValues = Readonly<Record<string, string | boolean | undefined>>;

export interface RetentionOptions extends ServerTarget {
  readonly subcommand: Subcommand;
  /** The policy (subcommands that name one): its id, or its name (an all-digit name is read as an id), else null. */
  readonly policy: number | string | null;
  readonly values: OptionValues;
}

function isSubcommand(name: string): name is Subcommand {
  return Object.hasOwn(SUBCOMMANDS, name);
}

function positiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!/^\d{1,15}$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new CommandUsageError(`${what} must be a positive integer, got '${text}'`);
  return value;
}

/** The command line of `arc retention` (after the command), checked; the token defaults to ARC_TOKEN. */
export function parseRetentionArgs(args: readonly string[], env: NodeJS.ProcessEnv): RetentionOptions {
  const [subcommand, ...rest] = args;
  if (subcommand === undefined) throw new CommandUsageError('a subcommand is required: list, create, show, update, delete, execute or executions');
  if (!isSubcommand(subcommand)) throw new CommandUsageError(`unknown subcommand '${subcommand}'`);
  const spec = SUBCOMMANDS[subcommand];
  const parsed = parseCommandArgs({ args: rest, options: spec.options, allowPositionals: true, strict: true });
  const values = parsed.values as OptionValues;
  const expected = spec.id ? 1 : 0;
  if (parsed.positionals.length !== expected) throw new CommandUsageError(spec.id ? `'${subcommand}' takes one policy (its id or name)` : `'${subcommand}' takes no argument, got '${parsed.positionals.join(' ')}'`);
  const [policy] = parsed.positionals;
  return {
    subcommand,
    policy: policy === undefined ? null : /^\d+$/.test(policy) ? positiveInteger(policy, 'a policy id') : policy,
    values,
    ...serverTargetOf(values, env),
  };
}

/** A whole number of days from an option, or a usage error naming it (ranges are checked with the policy). */
function daysOption(values: OptionValues, option: string): number | undefined {
  const text = values[option];
  if (typeof text !== 'string') return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new CommandUsageError(`option '--${option}' must be a whole number of days, got '${text}'`);
  return Number(text);
}

/** The policy's API fields the options set (absent ones absent). */
function fieldsOf(values: OptionValues): Record<string, unknown> {
  if (values.active === true && values.inactive === true) throw new CommandUsageError("options '--active' and '--inactive' exclude each other");
  if (typeof values.measurement === 'string' && values['all-measurements'] === true) throw new CommandUsageError("options '--measurement' and '--all-measurements' exclude each other");
  const fields: Record<string, unknown> = {};
  if (typeof values.name === 'string') fields.name = values.name;
  if (typeof values.database === 'string') fields.database = values.database;
  if (typeof values.measurement === 'string') fields.measurement = values.measurement;
  if (values['all-measurements'] === true) fields.measurement = null;
  const retentionDays = daysOption(values, 'retention-days');
  if (retentionDays !== undefined) fields.retention_days = retentionDays;
  const bufferDays = daysOption(values, 'buffer-days');
  if (bufferDays !== undefined) fields.buffer_days = bufferDays;
  if (values.active === true) fields.is_active = true;
  if (values.inactive === true) fields.is_active = false;
  return fields;
}

/** The body of a create or an update, checked here as the server checks it (a bad one is a usage error, exit 2). */
function checkedPolicy(body: Record<string, unknown>): Record<string, unknown> {
  try {
    parseRetentionPolicy(body);
  } catch (error) {
    throw new CommandUsageError((error as Error).message.replace(/^Retention policy field '([^']+)'/, (_, field: string) => `option '--${field.replace(/_/g, '-')}'`));
  }
  return body;
}

// --- What the server answers (retention-routes.ts), as the command reads it ---

export interface PolicyJson {
  readonly id: number;
  readonly name: string;
  readonly database: string;
  readonly measurement: string | null;
  readonly retention_days: number;
  readonly buffer_days: number;
  readonly is_active: boolean;
  readonly last_execution_time: string | null;
  readonly last_execution_status: string | null;
  readonly last_deleted_count: number | null;
  readonly running: { readonly measurements_done: number; readonly measurements_total: number; readonly files_done: number } | null;
}

export interface ExecutedJson {
  readonly policy_name: string;
  readonly dry_run: boolean;
  readonly status: string;
  readonly cutoff_date: string;
  readonly deleted_count: number | null;
  readonly files_deleted: number;
  readonly files_rewritten: number;
  readonly bytes_removed: number;
  readonly bytes_rewritten: number;
  readonly execution_time_ms: number;
  readonly error_message: string | null;
  readonly files: readonly { readonly measurement: string; readonly key: string; readonly action: string; readonly rows: number | null; readonly bytes: number }[];
  readonly files_truncated: boolean;
}

export interface ExecutionJson {
  readonly id: number;
  readonly execution_time: string;
  readonly status: string;
  readonly dry_run: boolean;
  readonly deleted_count: number | null;
  readonly files_deleted: number;
  readonly files_rewritten: number;
  readonly bytes_removed: number;
  readonly execution_duration_ms: number;
  readonly error_message: string | null;
}

// --- Output: pure functions of what the server answered ---

const scopeOf = (policy: PolicyJson): string => `${policy.database}.${policy.measurement ?? '*'}`;
const count = (value: number | null): string => (value === null ? '?' : String(value));

export function formatPolicies(policies: readonly PolicyJson[]): string {
  if (policies.length === 0) return 'no retention policy\n';
  const rows = policies.map((policy) => [String(policy.id), policy.name, scopeOf(policy), String(policy.retention_days), String(policy.buffer_days), policy.is_active ? 'yes' : 'no', policy.last_execution_time === null ? '-' : `${policy.last_execution_time} ${policy.last_execution_status ?? ''} ${count(policy.last_deleted_count)} rows`]);
  return `${formatTable([['ID', 'NAME', 'SCOPE', 'DAYS', 'BUFFER', 'ACTIVE', 'LAST RUN'], ...rows])}\n`;
}

export function formatExecuted(executed: ExecutedJson): string {
  const head = `${executed.policy_name}: ${executed.dry_run ? 'dry run' : 'run'} ${executed.status}, cut-off ${executed.cutoff_date}, ${(executed.execution_time_ms / 1000).toFixed(1)} s`;
  const files = `${String(executed.files_deleted)} files deleted, ${String(executed.files_rewritten)} rewritten`;
  const lines = executed.dry_run
    ? [head, `would remove ${count(executed.deleted_count)} rows: ${files}; ${formatBytes(executed.bytes_removed)} deleted, ${formatBytes(executed.bytes_rewritten)} rewritten`]
    : [head, `removed ${count(executed.deleted_count)} rows: ${files}; ${formatBytes(executed.bytes_removed)} freed`];
  if (executed.error_message !== null) lines.push(`error: ${executed.error_message}`);
  if (executed.dry_run && executed.files.length > 0) {
    const rows = executed.files.map((file) => [file.action, file.key, count(file.rows), formatBytes(file.bytes)]);
    lines.push(formatTable([['ACTION', 'FILE', 'ROWS', 'SIZE'], ...rows]));
    if (executed.files_truncated) lines.push('(more files than listed)');
  }
  return `${lines.join('\n')}\n`;
}

export function formatExecutions(executions: readonly ExecutionJson[]): string {
  if (executions.length === 0) return 'no run yet\n';
  const rows = executions.map((execution) => [String(execution.id), execution.execution_time, execution.dry_run ? 'dry' : 'run', execution.status, count(execution.deleted_count), String(execution.files_deleted), String(execution.files_rewritten), formatBytes(execution.bytes_removed), `${String(execution.execution_duration_ms)} ms`]);
  const table = formatTable([['ID', 'STARTED', 'KIND', 'STATUS', 'ROWS', 'DELETED', 'REWRITTEN', 'BYTES', 'TOOK'], ...rows]);
  const errors = executions.filter((execution) => execution.error_message !== null).map((execution) => `run ${String(execution.id)}: ${execution.error_message ?? ''}`);
  return `${[table, ...errors].join('\n')}\n`;
}

/** The progress line of a run in flight: measurements done of all, files handled so far. */
export function runProgress(running: NonNullable<PolicyJson['running']>): string {
  return `${progressBar(running.measurements_done, running.measurements_total, 'measurements')}, ${String(running.files_done)} files`;
}

// --- Running ---

export interface RetentionIo extends ServerCommandIo {
  /** Between two progress reads of a run (tests shorten it). */
  readonly pollIntervalMs?: number;
}

/** The id of the policy the command line names: as given, or looked up by name in the list. */
async function policyIdOf(policy: number | string | null, api: ApiClient): Promise<number> {
  if (typeof policy === 'number') return policy;
  const policies = (await api.request('GET', '/api/v1/retention', undefined, RETENTION_REQUEST_TIMEOUT_MS)) as PolicyJson[];
  const found = policies.find((candidate) => candidate.name === policy);
  if (found === undefined) throw new ServerRequestError(`no retention policy is named '${String(policy)}' (arc retention list)`);
  return found.id;
}

/** Runs the policy, drawing the run's progress on a terminal (read from GET /{id}) until it answers. */
async function execute(id: number, options: RetentionOptions, baseUrl: string, io: RetentionIo): Promise<ExecutedJson> {
  const path = `/api/v1/retention/${String(id)}`;
  const api = new ApiClient(baseUrl, options.token);
  const request = { ended: false };
  const run = api.requestUntilAnswered('POST', `${path}/execute`, JSON.stringify({ dry_run: options.values['dry-run'] === true })).finally(() => (request.ended = true));
  if (io.stderrIsTTY) {
    let drawn = false;
    for (;;) {
      await Promise.race([run.catch(() => undefined), delay(io.pollIntervalMs ?? RETENTION_POLL_INTERVAL_MS)]);
      if (request.ended) break;
      const policy = (await api.request('GET', path, undefined, RETENTION_REQUEST_TIMEOUT_MS).catch(() => null)) as PolicyJson | null;
      if (policy?.running == null) continue;
      io.stderr.write(`\r${runProgress(policy.running)}`);
      drawn = true;
    }
    if (drawn) io.stderr.write('\n');
  }
  return (await run) as ExecutedJson;
}

/** What the subcommand asks of the server; the answer's JSON and its text form. */
async function perform(options: RetentionOptions, io: RetentionIo): Promise<{ json: unknown; text: string; failed: boolean }> {
  const baseUrl = serverUrlOf(options.url, options.configPath);
  const api = new ApiClient(baseUrl, options.token);
  const call = (method: string, path: string, body?: unknown): Promise<unknown> => api.request(method, `/api/v1/retention${path}`, body === undefined ? undefined : JSON.stringify(body), RETENTION_REQUEST_TIMEOUT_MS);
  const policyId = options.policy === null ? 0 : await policyIdOf(options.policy, api);
  const id = `/${String(policyId)}`;
  switch (options.subcommand) {
    case 'list': {
      const policies = (await call('GET', '')) as PolicyJson[];
      return { json: policies, text: formatPolicies(policies), failed: false };
    }
    case 'create':
    case 'update': {
      const current = options.subcommand === 'update' ? ((await call('GET', id)) as PolicyJson) : null;
      const base = current === null ? {} : { name: current.name, database: current.database, measurement: current.measurement, retention_days: current.retention_days, buffer_days: current.buffer_days, is_active: current.is_active };
      const body = checkedPolicy({ ...base, ...fieldsOf(options.values) });
      const policy = (await (current === null ? call('POST', '', body) : call('PUT', id, body))) as PolicyJson;
      return { json: policy, text: formatPolicies([policy]), failed: false };
    }
    case 'show': {
      const policy = (await call('GET', id)) as PolicyJson;
      const running = policy.running === null ? '' : `running: ${runProgress(policy.running)}\n`;
      return { json: policy, text: `${formatPolicies([policy])}${running}`, failed: false };
    }
    case 'delete':
      return { json: await call('DELETE', id), text: `retention policy ${String(policyId)} deleted\n`, failed: false };
    case 'execute': {
      const executed = await execute(policyId, options, baseUrl, io);
      return { json: executed, text: formatExecuted(executed), failed: executed.status !== 'completed' };
    }
    case 'executions': {
      const limit = typeof options.values.limit === 'string' ? positiveInteger(options.values.limit, "option '--limit'") : null;
      if (limit !== null && limit > RETENTION_EXECUTIONS_KEPT) throw new CommandUsageError(`option '--limit' must be at most ${String(RETENTION_EXECUTIONS_KEPT)}`);
      const answer = (await call('GET', `${id}/executions${limit === null ? '' : `?limit=${String(limit)}`}`)) as { executions: ExecutionJson[] };
      return { json: answer, text: formatExecutions(answer.executions), failed: false };
    }
  }
}

/** `arc retention ...`: the exit code; a bad command line (2) or a server error (1) is one line on stderr. */
export function retentionCommand(args: readonly string[], io: RetentionIo): Promise<number> {
  return runServerCommand('retention', RETENTION_USAGE, args, io, async () => {
    const options = parseRetentionArgs(args, io.env);
    const { json, text, failed } = await perform(options, io);
    io.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : text);
    return failed ? EXIT_FAILED : EXIT_OK;
  });
}
