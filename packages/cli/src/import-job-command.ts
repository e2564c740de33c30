import { isDeepStrictEqual } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient, ServerRefusalError, ServerRequestError } from './api-client.js';
import { CommandUsageError, isRfc3339, parseCommandArgs } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { IMPORT_JOB_EXECUTIONS_SEARCHED, IMPORT_JOB_POLL_INTERVAL_MS, IMPORT_JOB_REQUEST_TIMEOUT_MS } from './limits.js';
import { formatBytes, formatCount, formatSeconds, progressCells, redrawnLine } from './progress-bar.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';

/**
 * `arc import influx ...` and `arc import postgres ...`: an import from another system run by the
 * server as a job (the connections and jobs API, README "Importing data"). The command tests the
 * source, creates or reuses a connection and a job named after the source and destination, runs
 * the job and follows its execution. Running the same command again reuses the same job, and a
 * run after a cancelled, interrupted or failed one continues it from its checkpoint
 * (`POST /jobs/{id}/run {"resume": true}`).
 */

const COMMON_OPTIONS_TEXT = `  --database <name>      the destination database in Arc (required)
  --start <time>         first time imported, RFC 3339 or ns since the epoch (default: the oldest row)
  --end <time>           first time not imported, RFC 3339 or ns (default: the newest row when a run starts)
  --since-last-run       each run reads only rows newer than the last run wrote (for --schedule)
  --schedule <cron>      give the job this schedule (5-field cron, UTC) and return: the server runs it
                         (an existing job of the same settings keeps its rows and gets the schedule)
  --name <job>           the job's name (default: derived from the source and the destination)
  --chunk-rows <n>       rows read from the source per write (default: the server's)
  --no-wait              start the run and return at once (run the command again to follow it)
  --url <url>            the Arc server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        an Arc admin token (default: the ARC_TOKEN environment variable)
  --json                 print the outcome as JSON (the default when stdout is not a terminal)
  --config <arc.conf>    where to read server.port when --url is not given
  -h, --help             show this text`;

const RESUME_TEXT = `Ctrl-C cancels the run on the server. Running the same command again reuses the job (found by
its name); after a run that was cancelled, failed or stopped with the server it continues that run
from its last written chunk: no row is imported twice. After a run that succeeded it reads the
job's range again.`;

const EXIT_TEXT = exitCodesText('the run succeeded (or, with --schedule or --no-wait, the job was created and started)', 'the source test failed, the server refused or could not be reached, or the run failed or was cancelled');

export const IMPORT_INFLUX_USAGE = `Usage: arc import influx --from <http://host:8086> --source-db <db> --database <name> [options]
       arc import influx --influx-version 2 --from <url> --org <org> --bucket <bucket> --database <name> [options]

Copies measurements from InfluxDB 1.x (a database) or 2.x (a bucket) into Arc: the server reads
them in chunks, in time order, and writes each chunk as one write; a measurement keeps its name
(with --measurement-prefix before it), tags stay tags and fields stay fields.

Source:
  --from <url>           InfluxDB's HTTP address (required)
  --influx-version <1|2> the InfluxDB version (default 1)
  --source-db <db>       InfluxDB 1.x: the database to read (required for 1.x)
  --username <user>      InfluxDB 1.x: the user
  --password <password>  InfluxDB 1.x: the password (better: the INFLUX_PASSWORD environment variable)
  --retention-policy <rp>  InfluxDB 1.x: the retention policy to read (default: the database's default one)
  --org <org>            InfluxDB 2.x: the organization (required for 2.x)
  --bucket <bucket>      InfluxDB 2.x: the bucket (required for 2.x)
  --influx-token <t>     InfluxDB 2.x: an API token (better: the INFLUX_TOKEN environment variable)
  --measurement <a,b>    only these measurements (default: all)
  --measurement-prefix <p>  put this before every measurement's name in Arc

Job:
${COMMON_OPTIONS_TEXT}

${RESUME_TEXT}
${EXIT_TEXT}`;

export const IMPORT_POSTGRES_USAGE = `Usage: arc import postgres --from <postgres://user@host:5432/db> --table <table> --time-column <column> --database <name> [options]

Copies a PostgreSQL or TimescaleDB table into Arc: the server reads it in time order, in chunks,
and writes each chunk as one write into one measurement (the table's name unless --measurement).

Source:
  --from <url>           postgres://user@host:5432/database (required; ?sslmode=require for TLS)
  --username <user>      the user (instead of the one in the URL)
  --password <password>  the password (better: the PGPASSWORD environment variable); a password
                         inside --from is taken out of it and stored as the connection's secret
  --table <table>        the table or view, schema.table allowed (required)
  --time-column <column> the column holding the time (required)
  --tag-columns <a,b>    columns stored as tags
  --field-columns <a,b>  the columns stored as fields (default: every other column)
  --measurement <name>   the measurement in Arc (default: the table's name)

Job:
${COMMON_OPTIONS_TEXT}

${RESUME_TEXT}
${EXIT_TEXT}`;

const JOB_OPTIONS = {
  ...SERVER_OPTIONS,
  from: { type: 'string' },
  database: { type: 'string' },
  measurement: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  'since-last-run': { type: 'boolean' },
  schedule: { type: 'string' },
  name: { type: 'string' },
  'chunk-rows': { type: 'string' },
  'no-wait': { type: 'boolean' },
} as const;

const INFLUX_OPTIONS = {
  ...JOB_OPTIONS,
  'influx-version': { type: 'string' },
  'source-db': { type: 'string' },
  'retention-policy': { type: 'string' },
  org: { type: 'string' },
  bucket: { type: 'string' },
  'influx-token': { type: 'string' },
  'measurement-prefix': { type: 'string' },
} as const;

const POSTGRES_OPTIONS = {
  ...JOB_OPTIONS,
  table: { type: 'string' },
  'time-column': { type: 'string' },
  'tag-columns': { type: 'string' },
  'field-columns': { type: 'string' },
} as const;

/** The sources `arc import <source>` runs as a job (any other first argument is a file, directory or URL). */
export const IMPORT_JOB_SOURCES = ['influx', 'postgres'] as const;
export type ImportJobSource = (typeof IMPORT_JOB_SOURCES)[number];

export function isImportJobSource(text: string | undefined): text is ImportJobSource {
  return (IMPORT_JOB_SOURCES as readonly (string | undefined)[]).includes(text);
}

/** A connection as POST /api/v1/connections/{type} takes it; the secret is never printed. */
export interface ConnectionRequest {
  readonly type: ImportJobSource;
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly secret: string | null;
}

/** A job as POST /api/v1/jobs takes it, without the connection id (known once the connection is). */
export interface JobRequest {
  readonly name: string;
  readonly type: 'influx1' | 'influx2' | 'postgres';
  readonly source: Readonly<Record<string, unknown>>;
  readonly database: string;
  readonly range: { readonly start?: string; readonly end?: string; readonly since_last_run?: boolean };
  readonly schedule: string | null;
  readonly chunk_rows?: number;
}

export interface ImportJobOptions extends ServerTarget {
  readonly connection: ConnectionRequest;
  readonly job: JobRequest;
  readonly wait: boolean;
}

type JobValues = Partial<Record<keyof typeof INFLUX_OPTIONS | keyof typeof POSTGRES_OPTIONS, string | boolean>>;

function required(values: JobValues, option: keyof JobValues): string {
  const value = values[option];
  if (typeof value !== 'string' || value.trim() === '') throw new CommandUsageError(`option '--${option}' is required`);
  return value;
}

function optional(values: JobValues, option: keyof JobValues): string | undefined {
  const value = values[option];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `a, b,c` -> ['a', 'b', 'c']; undefined stays undefined. */
function listOf(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim()).filter((item) => item !== '');
  return items.length === 0 ? undefined : items;
}

/** Nanoseconds since the epoch of an RFC 3339 time (all nine fraction digits kept) or of a ns integer. */
export function timeNs(text: string): bigint {
  if (/^-?\d+$/.test(text)) return BigInt(text);
  const fraction = /\.(\d{1,9})/.exec(text)?.[1] ?? '';
  const wholeSecondsMs = Date.parse(text.replace(/\.\d{1,9}/, ''));
  return BigInt(wholeSecondsMs) * 1_000_000n + BigInt(fraction.padEnd(9, '0') || '0');
}

function timeOption(values: JobValues, option: 'start' | 'end'): string | undefined {
  const value = optional(values, option);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value) && !isRfc3339(value)) throw new CommandUsageError(`option '--${option}' must be an RFC 3339 time (2026-01-01T00:00:00Z) or nanoseconds since the epoch, got '${value}'`);
  return value;
}

function rangeOf(values: JobValues): JobRequest['range'] {
  const start = timeOption(values, 'start');
  const end = timeOption(values, 'end');
  if (start !== undefined && end !== undefined && timeNs(start) >= timeNs(end)) throw new CommandUsageError(`--start (${start}) must be before --end (${end})`);
  return { ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }), ...(values['since-last-run'] === true ? { since_last_run: true } : {}) };
}

function chunkRowsOf(values: JobValues): { chunk_rows?: number } {
  const text = optional(values, 'chunk-rows');
  if (text === undefined) return {};
  if (!/^[1-9]\d*$/.test(text) || !Number.isSafeInteger(Number(text))) throw new CommandUsageError(`option '--chunk-rows' must be a positive integer, got '${text}'`);
  return { chunk_rows: Number(text) };
}

function sourceUrl(text: string, schemes: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CommandUsageError(`option '--from' must be a ${schemes.join(' or ')} URL, got '${text}'`);
  }
  if (!schemes.includes(url.protocol.replace(/:$/, ''))) throw new CommandUsageError(`option '--from' must be a ${schemes.join(' or ')} URL, got '${text}'`);
  return url;
}

/** The parts of a derived name, joined by '-', characters other than letters, digits, '.', '_', ':', '+' and '-' made '_'. */
function derivedName(...parts: string[]): string {
  return parts.map((part) => part.replace(/[^\p{L}\p{N}._:+-]+/gu, '_')).join('-');
}

function jobEnd(values: JobValues, connection: ConnectionRequest, database: string, type: JobRequest['type'], source: Readonly<Record<string, unknown>>, wait: boolean, target: ServerTarget): ImportJobOptions {
  const schedule = optional(values, 'schedule') ?? null;
  // A job per what it reads: another retention policy or measurement list is another job.
  const scope = [...(typeof source.retention_policy === 'string' ? [`rp:${source.retention_policy}`] : []), ...(Array.isArray(source.measurements) ? [(source.measurements as string[]).join('+')] : [])];
  const name = optional(values, 'name') ?? derivedName(connection.name, ...scope, 'to', database);
  const job: JobRequest = { name, type, source, database, range: rangeOf(values), schedule, ...chunkRowsOf(values) };
  return { ...target, connection, job, wait: wait && schedule === null };
}

function parseInfluxArgs(args: readonly string[], env: NodeJS.ProcessEnv): ImportJobOptions {
  const { values } = parseCommandArgs({ args: [...args], options: INFLUX_OPTIONS, allowPositionals: false, strict: true });
  const from = sourceUrl(required(values, 'from'), ['http', 'https']);
  const database = required(values, 'database');
  const version = optional(values, 'influx-version') ?? '1';
  if (version !== '1' && version !== '2') throw new CommandUsageError(`option '--influx-version' must be 1 or 2, not '${version}'`);
  const url = from.href.replace(/\/+$/, '');
  let connection: ConnectionRequest;
  if (version === '1') {
    for (const option of ['org', 'bucket', 'influx-token'] as const) if (values[option] !== undefined) throw new CommandUsageError(`option '--${option}' is for InfluxDB 2.x (--influx-version 2)`);
    const sourceDb = required(values, 'source-db');
    const username = optional(values, 'username');
    const settings = { version: 1, url, database: sourceDb, ...(username === undefined ? {} : { username }) };
    connection = { type: 'influx', name: derivedName('influx', from.host, sourceDb), settings, secret: optional(values, 'password') ?? nonEmpty(env.INFLUX_PASSWORD) };
  } else {
    for (const option of ['source-db', 'username', 'password', 'retention-policy'] as const) if (values[option] !== undefined) throw new CommandUsageError(`option '--${option}' is for InfluxDB 1.x: 2.x reads --org and --bucket with --influx-token`);
    const org = required(values, 'org');
    const bucket = required(values, 'bucket');
    connection = { type: 'influx', name: derivedName('influx2', from.host, org, bucket), settings: { version: 2, url, org, bucket }, secret: optional(values, 'influx-token') ?? nonEmpty(env.INFLUX_TOKEN) };
  }
  const measurements = listOf(optional(values, 'measurement'));
  const prefix = optional(values, 'measurement-prefix');
  const retentionPolicy = optional(values, 'retention-policy');
  const source = {
    ...(retentionPolicy === undefined ? {} : { retention_policy: retentionPolicy }),
    ...(measurements === undefined ? {} : { measurements }),
    ...(prefix === undefined ? {} : { measurement_prefix: prefix }),
  };
  return jobEnd(values, connection, database, version === '1' ? 'influx1' : 'influx2', source, values['no-wait'] !== true, serverTargetOf(values, env));
}

function nonEmpty(text: string | undefined): string | null {
  return text === undefined || text === '' ? null : text;
}

function parsePostgresArgs(args: readonly string[], env: NodeJS.ProcessEnv): ImportJobOptions {
  const { values } = parseCommandArgs({ args: [...args], options: POSTGRES_OPTIONS, allowPositionals: false, strict: true });
  const from = sourceUrl(required(values, 'from'), ['postgres', 'postgresql']);
  const database = required(values, 'database');
  const table = required(values, 'table');
  const timeColumn = required(values, 'time-column');
  // The server refuses a password inside the URL (it would be stored in the clear): it becomes the secret.
  const passwordInUrl = from.password === '' ? null : decodeURIComponent(from.password);
  from.password = '';
  const username = optional(values, 'username');
  if (username !== undefined) from.username = encodeURIComponent(username);
  const sourceDb = decodeURIComponent(from.pathname.replace(/^\//, ''));
  if (sourceDb === '') throw new CommandUsageError(`option '--from' must name the database (postgres://user@host:5432/<database>), got '${from.href}'`);
  const secret = optional(values, 'password') ?? nonEmpty(env.PGPASSWORD) ?? passwordInUrl;
  const connection: ConnectionRequest = { type: 'postgres', name: derivedName('postgres', from.host, sourceDb), settings: { url: from.href }, secret };
  const tagColumns = listOf(optional(values, 'tag-columns'));
  const fieldColumns = listOf(optional(values, 'field-columns'));
  const measurement = optional(values, 'measurement');
  const source = {
    table,
    time_column: timeColumn,
    ...(tagColumns === undefined ? {} : { tag_columns: tagColumns }),
    ...(fieldColumns === undefined ? {} : { field_columns: fieldColumns }),
    ...(measurement === undefined ? {} : { measurement }),
  };
  const options = jobEnd(values, connection, database, 'postgres', source, values['no-wait'] !== true, serverTargetOf(values, env));
  // A job of one table: its name says which (the connection's name says only the database).
  return optional(values, 'name') === undefined ? { ...options, job: { ...options.job, name: derivedName(connection.name, table, 'to', database) } } : options;
}

/** The command line of `arc import influx|postgres ...` (after `import`), checked. */
export function parseImportJobArgs(args: readonly string[], env: NodeJS.ProcessEnv): ImportJobOptions {
  const [source, ...rest] = args;
  if (source === 'influx') return parseInfluxArgs(rest, env);
  if (source === 'postgres') return parsePostgresArgs(rest, env);
  throw new CommandUsageError(`unknown import source '${String(source)}': influx or postgres`);
}

// --- The server's objects, as far as the command reads them ---

interface ConnectionJson {
  readonly id: number;
  readonly name: string;
  readonly settings: Record<string, unknown>;
  readonly has_secret: boolean;
}

interface JobJson {
  readonly id: number;
  readonly name: string;
  readonly connection_id: number;
  readonly type: string;
  readonly source: Record<string, unknown>;
  readonly database: string;
  readonly range: { readonly start?: string | number | null; readonly end?: string | number | null; readonly since_last_run?: boolean };
  readonly schedule: string | null;
  readonly chunk_rows?: number | null;
  readonly last_execution?: ExecutionJson | null;
}

export interface ExecutionJson {
  readonly id: number;
  readonly job_id: number;
  readonly status: 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
  readonly trigger: string;
  readonly started_at: string;
  readonly finished_at: string | null;
  readonly rows: number;
  readonly rows_rejected: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly progress: number | null;
  readonly eta_seconds: number | null;
  readonly rows_per_second: number;
  readonly error: { readonly code: string; readonly message: string } | null;
}

interface ConnectionTestJson {
  readonly ok: boolean;
  readonly version: string | null;
  readonly detail: string;
}

function field(body: unknown, name: string, path: string): unknown {
  const value = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (value === undefined || value === null) throw new ServerRequestError(`the answer to ${path} has no '${name}': is this an Arc server with import jobs?`);
  return value;
}

/** The connections and jobs routes `arc import influx|postgres` calls; every failure names its request. */
class ImportJobClient {
  readonly #api: ApiClient;

  constructor(baseUrl: string, token: string | null) {
    this.#api = new ApiClient(baseUrl, token);
  }

  #request(method: string, path: string, body?: unknown): Promise<unknown> {
    return this.#api.request(method, path, body === undefined ? undefined : JSON.stringify(body), IMPORT_JOB_REQUEST_TIMEOUT_MS);
  }

  async connections(type: ImportJobSource): Promise<ConnectionJson[]> {
    const path = `/api/v1/connections/${type}`;
    return field(await this.#request('GET', path), 'connections', `GET ${path}`) as ConnectionJson[];
  }

  async testConnection(type: ImportJobSource, body: { settings: unknown; secret?: string } | { id: number }): Promise<ConnectionTestJson> {
    return (await this.#request('POST', `/api/v1/connections/${type}/test`, body)) as ConnectionTestJson;
  }

  async createConnection(connection: ConnectionRequest): Promise<ConnectionJson> {
    const body = { name: connection.name, settings: connection.settings, ...(connection.secret === null ? {} : { secret: connection.secret }) };
    return (await this.#request('POST', `/api/v1/connections/${connection.type}`, body)) as ConnectionJson;
  }

  async updateConnection(type: ImportJobSource, id: number, change: { settings?: unknown; secret?: string }): Promise<ConnectionJson> {
    return (await this.#request('PUT', `/api/v1/connections/${type}/${String(id)}`, change)) as ConnectionJson;
  }

  async jobs(): Promise<JobJson[]> {
    return field(await this.#request('GET', '/api/v1/jobs'), 'jobs', 'GET /api/v1/jobs') as JobJson[];
  }

  async createJob(job: JobRequest, connectionId: number): Promise<JobJson> {
    return (await this.#request('POST', '/api/v1/jobs', { ...job, connection_id: connectionId })) as JobJson;
  }

  async updateJob(jobId: number, job: JobRequest, connectionId: number): Promise<JobJson> {
    return (await this.#request('PUT', `/api/v1/jobs/${String(jobId)}`, { ...job, connection_id: connectionId })) as JobJson;
  }

  async run(jobId: number, resume: boolean): Promise<ExecutionJson> {
    const path = `/api/v1/jobs/${String(jobId)}/run`;
    return field(await this.#request('POST', path, resume ? { resume: true } : {}), 'execution', `POST ${path}`) as ExecutionJson;
  }

  async cancel(jobId: number): Promise<ExecutionJson> {
    const path = `/api/v1/jobs/${String(jobId)}/cancel`;
    return field(await this.#request('POST', path), 'execution', `POST ${path}`) as ExecutionJson;
  }

  /** POST /write/flush: answers once every buffered row is in a Parquet file (admin, as the import routes are). */
  async flush(): Promise<void> {
    await this.#api.requestUntilAnswered('POST', '/write/flush', '');
  }

  async executions(jobId: number, limit: number): Promise<ExecutionJson[]> {
    const path = `/api/v1/jobs/${String(jobId)}/executions?limit=${String(limit)}`;
    return field(await this.#request('GET', path), 'executions', `GET ${path}`) as ExecutionJson[];
  }
}

// --- Reuse: a connection or job of the same name is the same one when its settings are ours ---

/** True when every key we send has the same value in what the server stored (it may add defaults of its own). */
function storedAsSent(sent: Readonly<Record<string, unknown>>, stored: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(sent).every(([key, value]) => isDeepStrictEqual(value, stored[key]));
}

function sameTime(sent: string | undefined, stored: string | number | null | undefined): boolean {
  if (sent === undefined || stored === undefined || stored === null) return (sent === undefined) === (stored === undefined || stored === null);
  return timeNs(sent) === timeNs(String(stored));
}

/**
 * What differs between the job the command line asks for and the stored job of its name ([] when
 * none). The schedule is not compared: --schedule on an existing job sets its schedule (jobFor),
 * and a command line without it runs the job now, whatever its schedule.
 */
export function jobDifferences(wanted: JobRequest, connectionId: number, stored: JobJson): string[] {
  const differences: string[] = [];
  if (stored.connection_id !== connectionId) differences.push('connection');
  if (stored.type !== wanted.type) differences.push('type');
  if (stored.database !== wanted.database) differences.push('database');
  // Only the keys sent are compared: the server fills in defaults (a postgres job's measurement); a
  // derived job name already holds the measurements and the table, the keys that tell jobs apart.
  if (!storedAsSent(wanted.source, stored.source)) differences.push('source');
  if (!sameTime(wanted.range.start, stored.range.start)) differences.push('--start');
  if (!sameTime(wanted.range.end, stored.range.end)) differences.push('--end');
  if ((wanted.range.since_last_run ?? false) !== (stored.range.since_last_run ?? false)) differences.push('--since-last-run');
  return differences;
}

/**
 * The connection to use: the stored one of the same name (its settings and secret brought up to
 * the command line's with PUT when they differ or a secret is given), else a new one. The source
 * is tested before anything is written: ok=false stops the command with the server's detail.
 */
async function connectionFor(client: ImportJobClient, wanted: ConnectionRequest, say: (text: string) => void): Promise<ConnectionJson> {
  const stored = (await client.connections(wanted.type)).find((connection) => connection.name === wanted.name);
  const settingsChanged = stored === undefined || !storedAsSent(wanted.settings, stored.settings);
  const testBody = stored !== undefined && !settingsChanged && wanted.secret === null ? { id: stored.id } : { settings: wanted.settings, ...(wanted.secret === null ? {} : { secret: wanted.secret }) };
  const test = await client.testConnection(wanted.type, testBody);
  if (!test.ok) throw new ServerRequestError(`the source does not answer as expected (${String(wanted.settings.url)}): ${test.detail}`);
  say(`source ok: ${test.version ?? wanted.type}${test.detail === '' ? '' : ` (${test.detail})`}`);
  if (stored === undefined) return client.createConnection(wanted);
  if (!settingsChanged && wanted.secret === null) return stored;
  return client.updateConnection(wanted.type, stored.id, { ...(settingsChanged ? { settings: wanted.settings } : {}), ...(wanted.secret === null ? {} : { secret: wanted.secret }) });
}

/**
 * The stored job of the wanted name when its settings are the command line's (with --schedule:
 * its schedule set to that one, so an import run by hand can be kept going), else a new one;
 * another job of that name is refused.
 */
async function jobFor(client: ImportJobClient, wanted: JobRequest, connectionId: number): Promise<{ job: JobJson; created: boolean }> {
  const stored = (await client.jobs()).find((job) => job.name === wanted.name);
  if (stored === undefined) return { job: await client.createJob(wanted, connectionId), created: true };
  const differences = jobDifferences(wanted, connectionId, stored);
  if (differences.length > 0) {
    throw new ServerRequestError(`a job named '${wanted.name}' (id ${String(stored.id)}) exists with another ${differences.join(', ')}: pass --name to create another job, or delete it (DELETE /api/v1/jobs/${String(stored.id)})`);
  }
  // The whole job is sent (PUT replaces every field): the same as stored but for the schedule.
  if (wanted.schedule !== null && wanted.schedule !== stored.schedule) return { job: await client.updateJob(stored.id, wanted, connectionId), created: false };
  return { job: stored, created: false };
}

// --- Following a run ---

/** `[####......] 41% 1,234,567 rows, 52,000 rows/s, 12.3 MiB, 2m10s left` (no bar nor time left when the source cannot tell). */
export function executionProgressLine(execution: ExecutionJson): string {
  const bar = execution.progress === null ? '' : `${progressCells(execution.progress)} ${String(Math.floor(execution.progress * 100))}% `;
  const rejected = execution.rows_rejected > 0 ? ` (${formatCount(execution.rows_rejected)} rejected)` : '';
  const left = execution.eta_seconds === null || (execution.progress ?? 0) >= 1 ? '' : `, ${formatSeconds(execution.eta_seconds)} left`;
  return `${bar}${formatCount(execution.rows)} rows${rejected}, ${formatCount(execution.rows_per_second)} rows/s, ${formatBytes(execution.bytes)}${left}`;
}

/** The outcome a person reads: `job 'x': succeeded, 1,000 rows (0 rejected), 1.2 MiB in 12s`. */
export function executionSummary(jobName: string, execution: ExecutionJson): string {
  const took = execution.finished_at === null ? '' : ` in ${formatSeconds((Date.parse(execution.finished_at) - Date.parse(execution.started_at)) / 1000)}`;
  const error = execution.error === null ? '' : `: ${execution.error.message} (${execution.error.code})`;
  return `job '${jobName}': ${execution.status}, ${formatCount(execution.rows)} rows (${formatCount(execution.rows_rejected)} rejected), ${formatBytes(execution.bytes)}${took}${error}`;
}

/** The execution of `id` among the job's newest, or null when it is not among them. */
async function executionOf(client: ImportJobClient, jobId: number, id: number): Promise<ExecutionJson | null> {
  const [newest] = await client.executions(jobId, 1);
  if (newest?.id === id) return newest;
  // A scheduled run started after ours ended: ours is further down the list.
  return (await client.executions(jobId, IMPORT_JOB_EXECUTIONS_SEARCHED)).find((execution) => execution.id === id) ?? null;
}

/** Where the command writes, plus the interrupt (Ctrl-C) that cancels a run it follows. */
export interface ImportJobIo extends ServerCommandIo {
  readonly stdoutIsTTY: boolean;
  /** Aborted on Ctrl-C: the run is cancelled on the server. */
  readonly interrupt?: AbortSignal;
  /** Between two reads of the execution (tests shorten it). */
  readonly pollIntervalMs?: number;
}

/**
 * Polls the execution until it ends, drawing its progress on a terminal; on an interrupt, asks the
 * server to cancel it and follows it to its end (the cancel answers while the reader stops).
 */
async function follow(client: ImportJobClient, job: JobJson, started: ExecutionJson, io: ImportJobIo): Promise<{ execution: ExecutionJson; interrupted: boolean }> {
  let execution = started;
  let interrupted = false;
  const pollIntervalMs = io.pollIntervalMs ?? IMPORT_JOB_POLL_INTERVAL_MS;
  while (execution.status === 'running') {
    if (io.stderrIsTTY) io.stderr.write(redrawnLine(executionProgressLine(execution)));
    if (!interrupted && io.interrupt?.aborted === true) {
      interrupted = true;
      if (io.stderrIsTTY) io.stderr.write('\n');
      io.stderr.write(`arc import: cancelling job '${job.name}' (id ${String(job.id)})...\n`);
      execution = await client.cancel(job.id).catch((error: unknown) => {
        // 409: it ended between our last read and the cancel; the next read says how.
        if (error instanceof ServerRefusalError && error.status === 409) return execution;
        throw error;
      });
      continue;
    }
    const signal = interrupted ? undefined : io.interrupt;
    await delay(pollIntervalMs, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
    if (!interrupted && io.interrupt?.aborted === true) continue;
    const read = await executionOf(client, job.id, started.id);
    if (read === null) throw new ServerRequestError(`execution ${String(started.id)} of job '${job.name}' is no longer among its executions`);
    execution = read;
  }
  if (io.stderrIsTTY) io.stderr.write(redrawnLine(''));
  return { execution, interrupted };
}

/** A last execution that ended before its end: a run continues it from its checkpoint (`resume`). */
const RESUMABLE_STATUSES: readonly ExecutionJson['status'][] = ['cancelled', 'interrupted', 'failed'];

/**
 * Starts a run of the job: a continuation of its last execution when that one was cancelled,
 * interrupted or failed (so no row is read twice), else a new one; one already running (409) is
 * followed instead of refused.
 */
async function startRun(client: ImportJobClient, job: JobJson, say: (text: string) => void): Promise<ExecutionJson> {
  const last = job.last_execution ?? null;
  const resume = last !== null && RESUMABLE_STATUSES.includes(last.status);
  if (resume) say(`continuing execution ${String(last.id)} (${last.status} at ${formatCount(last.rows)} rows) from its checkpoint`);
  try {
    return await client.run(job.id, resume);
  } catch (error) {
    if (!(error instanceof ServerRefusalError && error.status === 409)) throw error;
    const [running] = await client.executions(job.id, 1);
    if (running?.status !== 'running') throw error;
    say(`job '${job.name}' is running already (execution ${String(running.id)}): following it`);
    return running;
  }
}

function resumeHint(job: JobJson): string {
  return `run the same command again to continue job '${job.name}' (id ${String(job.id)}) from its last written chunk`;
}

/** The whole flow; returns the exit code. Throws ServerRequestError when the server refuses. */
export async function runImportJob(options: ImportJobOptions, io: ImportJobIo): Promise<number> {
  const client = new ImportJobClient(serverUrlOf(options.url, options.configPath), options.token);
  const asJson = options.json || !io.stdoutIsTTY;
  // Steps go to stderr so that stdout holds only the outcome (JSON for a script).
  const say = (text: string): void => {
    if (io.stderrIsTTY) io.stderr.write(`${text}\n`);
  };
  const connection = await connectionFor(client, options.connection, say);
  const { job, created } = await jobFor(client, options.job, connection.id);
  say(`${created ? 'created' : 'reusing'} job '${job.name}' (id ${String(job.id)}): connection '${connection.name}' -> database '${job.database}'`);
  if (options.job.schedule !== null) {
    io.stdout.write(asJson ? `${JSON.stringify({ job, created })}\n` : `job '${job.name}' (id ${String(job.id)}) ${created ? 'created' : 'kept'}: the server runs it on schedule '${options.job.schedule}' (UTC)\n`);
    return EXIT_OK;
  }
  if (io.interrupt?.aborted === true) {
    io.stderr.write(`arc import: interrupted before a run started; job '${job.name}' (id ${String(job.id)}) is kept: run the same command again to run it\n`);
    return EXIT_FAILED;
  }
  const started = await startRun(client, job, say);
  if (!options.wait) {
    io.stdout.write(asJson ? `${JSON.stringify({ job, execution: started })}\n` : `job '${job.name}' (id ${String(job.id)}): execution ${String(started.id)} started; run the same command again to follow it\n`);
    return EXIT_OK;
  }
  const { execution, interrupted } = await follow(client, job, started, io);
  // A run's rows are acknowledged writes, buffered like any write: flushed now, a query right
  // after the command sees them (as a file import answers once its rows are flushed).
  if (execution.status === 'succeeded') await client.flush();
  io.stdout.write(asJson ? `${JSON.stringify({ job, execution })}\n` : `${executionSummary(job.name, execution)}\n`);
  if (execution.status === 'succeeded') return EXIT_OK;
  if (execution.status === 'cancelled' || execution.status === 'interrupted') {
    const why = interrupted ? 'cancelled' : execution.status === 'cancelled' ? 'cancelled on the server' : 'interrupted by a server stop (the server continues it when it starts again)';
    io.stderr.write(`arc import: ${why} at ${formatCount(execution.rows)} rows: ${resumeHint(job)}\n`);
  } else {
    const reason = execution.error === null ? 'no reason given' : `${execution.error.message} (${execution.error.code})`;
    io.stderr.write(`arc import: job '${job.name}' failed at ${formatCount(execution.rows)} rows: ${reason}; once the cause is fixed, ${resumeHint(job)}\n`);
  }
  return EXIT_FAILED;
}

/** `arc import influx|postgres ...`: the exit code; a bad command line (2) or a server error (1) is one line on stderr. */
export function importJobCommand(args: readonly string[], io: ImportJobIo): Promise<number> {
  const usage = args[0] === 'postgres' ? IMPORT_POSTGRES_USAGE : IMPORT_INFLUX_USAGE;
  return runServerCommand(`import ${String(args[0])}`, usage, args.slice(1), io, () => runImportJob(parseImportJobArgs(args, io.env), io));
}
