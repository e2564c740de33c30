import { setTimeout as delay } from 'node:timers/promises';
import { COMPACTION_TIERS, HISTORY_LIST_LIMIT_MAX, parseTriggerRequest } from '@arc/compaction';
import type { CompactionCandidate, CompactionJob, CompactionStats, TriggerRequest } from '@arc/compaction';
import { CommandUsageError, formatTable, parseCommandArgs } from './command-text.js';
import { EXIT_FAILED, EXIT_OK, exitCodesText } from './exit-codes.js';
import { ApiClient, ServerRequestError } from './api-client.js';
import { SERVER_OPTIONS, runServerCommand, serverTargetOf, type ServerCommandIo, type ServerTarget } from './server-command.js';
import { serverUrlOf } from './server-url.js';
import { formatBytes, progressBar } from './progress-bar.js';
import { COMPACT_OUTCOME_POLLS_MAX, COMPACT_POLL_INTERVAL_MS, COMPACT_REQUEST_TIMEOUT_MS } from './limits.js';

export const COMPACT_USAGE = `Usage: arc compact [options]

Asks a running Arc server to compact now (POST /api/compaction/trigger), waits for the jobs and
prints what they did; the server holds the data directory, so this talks to it over HTTP.

Options:
  --url <url>            the server (default http://127.0.0.1:<server.port of arc.conf>)
  --token <token>        an admin token (default: the ARC_TOKEN environment variable)
  --database <name>      only this database
  --measurement <name>   only this measurement
  --tier <tier>          only this tier: ${COMPACTION_TIERS.join(', ')} (default: every tier)
  --dry-run              list what would be compacted (GET /api/compaction/candidates), change nothing
  --json                 print JSON instead of text
  --config <arc.conf>    where to read server.port when --url is not given

  -h, --help             show this text

${exitCodesText('every job succeeded (or nothing to do)', "a job failed or its outcome is unknown, or the server refused or could not be reached")}`;

/** A server that refused or could not be reached (api-client.ts): one line on stderr, exit 1. */
export class CompactCommandError extends ServerRequestError {
  override readonly name = 'CompactCommandError';
}

const OPTIONS = {
  ...SERVER_OPTIONS,
  database: { type: 'string' },
  measurement: { type: 'string' },
  tier: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export interface CompactOptions extends ServerTarget {
  readonly scope: TriggerRequest;
  readonly dryRun: boolean;
}

/** The command line of `arc compact` (after the command), checked; the token defaults to ARC_TOKEN. */
export function parseCompactArgs(args: readonly string[], env: NodeJS.ProcessEnv): CompactOptions {
  const { values } = parseCommandArgs({ args: [...args], options: OPTIONS, allowPositionals: false, strict: true });
  const scope = parseTriggerRequest({ database: values.database, measurement: values.measurement, tier: values.tier });
  if (scope instanceof Error) throw new CommandUsageError(scope.message);
  return { ...serverTargetOf(values, env), scope, dryRun: values['dry-run'] === true };
}

/** The few endpoints `arc compact` calls; every failure becomes a CompactCommandError naming it. */
class CompactionClient {
  readonly #api: ApiClient;

  constructor(baseUrl: string, token: string | null) {
    this.#api = new ApiClient(baseUrl, token);
  }

  async candidates(scope: TriggerRequest): Promise<CompactionCandidate[]> {
    return listField<CompactionCandidate>(await this.#request('GET', `/api/compaction/candidates${queryOf({ ...scope })}`), 'candidates');
  }

  async trigger(scope: TriggerRequest): Promise<CompactionJob[]> {
    return listField<CompactionJob>(await this.#request('POST', '/api/compaction/trigger', JSON.stringify(scope)), 'jobs');
  }

  async jobs(): Promise<CompactionJob[]> {
    return listField<CompactionJob>(await this.#request('GET', '/api/compaction/jobs'), 'jobs');
  }

  async history(scope: TriggerRequest): Promise<CompactionJob[]> {
    const query = queryOf({ ...scope, tier: undefined, limit: String(HISTORY_LIST_LIMIT_MAX) });
    return listField<CompactionJob>(await this.#request('GET', `/api/compaction/history${query}`), 'jobs');
  }

  async #request(method: string, path: string, body?: string): Promise<unknown> {
    return this.#api.request(method, path, body, COMPACT_REQUEST_TIMEOUT_MS);
  }
}

function queryOf(parameters: Readonly<Record<string, string | undefined>>): string {
  const entries = Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

function listField<T>(body: unknown, field: string): T[] {
  const list = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(list)) throw new CompactCommandError(`the server's answer has no '${field}' list: is ${field === 'candidates' ? 'it' : 'this'} an Arc server with compaction?`);
  return list as T[];
}

// --- Output: pure functions of what the server answered ---

export function formatCandidates(candidates: readonly CompactionCandidate[]): string {
  if (candidates.length === 0) return 'nothing to compact: no partition of the scope is a candidate now\n';
  const rows = candidates.map((candidate) => [candidate.database, candidate.measurement, candidate.tier, candidate.partition, String(candidate.files), formatBytes(candidate.bytes)]);
  const files = candidates.reduce((sum, candidate) => sum + candidate.files, 0);
  const bytes = candidates.reduce((sum, candidate) => sum + candidate.bytes, 0);
  const table = formatTable([['DATABASE', 'MEASUREMENT', 'TIER', 'PARTITION', 'FILES', 'SIZE'], ...rows]);
  return `${table}\n${String(candidates.length)} candidates: ${String(files)} files, ${formatBytes(bytes)}\n`;
}

const arrow = (from: number | null, to: number | null, format: (value: number) => string = String): string => `${from === null ? '?' : format(from)} -> ${to === null ? '?' : format(to)}`;

/** One finished job on one line (what a non-TTY sees as each job ends). */
export function jobLine(job: CompactionJob): string {
  const head = `${job.id} ${job.database}.${job.measurement} ${job.tier} ${job.partition}: ${job.state}`;
  const took = job.durationMs === null ? '' : `, ${(job.durationMs / 1000).toFixed(1)} s`;
  if (job.state === 'failed') return `${head}${took}: ${job.error ?? 'no reason given'}`;
  return `${head}, files ${arrow(job.inputFiles, job.outputFiles)}, ${arrow(job.inputBytes, job.outputBytes, formatBytes)}, rows ${arrow(job.inputRows, job.outputRows)}${took}`;
}

/** The server's stats of these jobs alone (files, bytes and rows as CompactionStats counts them), and their outcomes. */
export interface CompactSummary extends Omit<CompactionStats, 'jobsSucceeded' | 'jobsFailed'> {
  readonly jobs: number;
  readonly succeeded: number;
  readonly failed: number;
  /** Jobs whose outcome the server never reported (not in its history). */
  readonly unknown: number;
}

/** Totals of the ended jobs (files, bytes, rows: succeeded jobs only, as the server's stats count them). */
export function summarize(ended: readonly CompactionJob[], unknown: number): CompactSummary {
  const succeeded = ended.filter((job) => job.state === 'succeeded');
  const sum = (values: readonly (number | null)[]): number => values.reduce<number>((total, value) => total + (value ?? 0), 0);
  const counted = succeeded.filter((job) => job.inputRows !== null && job.outputRows !== null);
  const rowsIn = sum(counted.map((job) => job.inputRows));
  const rowsOut = sum(counted.map((job) => job.outputRows));
  return {
    jobs: ended.length + unknown,
    succeeded: succeeded.length,
    failed: ended.filter((job) => job.state === 'failed').length,
    unknown,
    filesIn: sum(succeeded.map((job) => job.inputFiles)),
    filesOut: sum(succeeded.map((job) => job.outputFiles)),
    bytesIn: sum(succeeded.map((job) => job.inputBytes)),
    bytesOut: sum(succeeded.map((job) => job.outputBytes)),
    rowsIn,
    rowsOut,
    duplicatesRemoved: rowsIn - rowsOut,
  };
}

export function formatSummary(summary: CompactSummary): string {
  if (summary.jobs === 0) return 'nothing to compact: no partition of the scope is a candidate now\n';
  const unknown = summary.unknown === 0 ? '' : `, ${String(summary.unknown)} of unknown outcome`;
  return [
    `${String(summary.jobs)} jobs: ${String(summary.succeeded)} succeeded, ${String(summary.failed)} failed${unknown}`,
    `files ${arrow(summary.filesIn, summary.filesOut)}`,
    `bytes ${arrow(summary.bytesIn, summary.bytesOut, formatBytes)}`,
    `rows  ${arrow(summary.rowsIn, summary.rowsOut)} (${String(summary.duplicatesRemoved)} duplicates removed)`,
    '',
  ].join('\n');
}

// --- Running: trigger, wait, report ---

/** Where `arc compact` writes, and whether stderr is a terminal (the progress bar) or not (a line per job). */
export interface CompactIo extends ServerCommandIo {
  /** Between two polls of the server's jobs (tests shorten it). */
  readonly pollIntervalMs?: number;
}

/** Progress on stderr: a bar redrawn in place on a terminal, else one line per finished job. */
class Progress {
  readonly #io: CompactIo;
  readonly #total: number;
  #done = 0;

  constructor(io: CompactIo, total: number) {
    this.#io = io;
    this.#total = total;
    if (io.stderrIsTTY) io.stderr.write(`\r${progressBar(0, total)}`);
  }

  finished(job: CompactionJob): void {
    this.#done += 1;
    if (this.#io.stderrIsTTY) this.#io.stderr.write(`\r${progressBar(this.#done, this.#total)}`);
    else this.#io.stderr.write(`${jobLine(job)}\n`);
  }

  end(): void {
    if (this.#io.stderrIsTTY) this.#io.stderr.write('\n');
  }
}

const isActive = (job: CompactionJob): boolean => job.state === 'queued' || job.state === 'running';

interface Outcomes {
  /** The ended jobs, in the order they were triggered. */
  readonly ended: CompactionJob[];
  /** Jobs that left the queue without an outcome in the history. */
  readonly unknown: string[];
}

/**
 * Polls the server's queue until none of `triggered` is queued or running, reading each one's
 * outcome from the history as it leaves the queue.
 */
async function waitForJobs(client: CompactionClient, triggered: readonly CompactionJob[], scope: TriggerRequest, io: CompactIo): Promise<Outcomes> {
  const ids = new Set(triggered.map((job) => job.id));
  const outcomes = new Map<string, CompactionJob>();
  const progress = new Progress(io, ids.size);
  let pollsWithoutOutcome = 0;
  for (;;) {
    const active = new Set((await client.jobs()).filter((job) => ids.has(job.id) && isActive(job)).map((job) => job.id));
    const waiting = (): string[] => [...ids].filter((id) => !active.has(id) && !outcomes.has(id));
    if (waiting().length > 0) {
      for (const job of await client.history(scope)) {
        if (!waiting().includes(job.id) || isActive(job)) continue;
        outcomes.set(job.id, job);
        progress.finished(job);
      }
    }
    const unresolved = waiting();
    if (active.size === 0 && (unresolved.length === 0 || ++pollsWithoutOutcome > COMPACT_OUTCOME_POLLS_MAX)) {
      progress.end();
      const ended = triggered.flatMap((job) => outcomes.get(job.id) ?? []);
      return { ended, unknown: unresolved };
    }
    await delay(io.pollIntervalMs ?? COMPACT_POLL_INTERVAL_MS);
  }
}

function writeOutcome(io: CompactIo, json: boolean, outcomes: Outcomes, summary: CompactSummary): void {
  if (json) {
    io.stdout.write(`${JSON.stringify({ jobs: outcomes.ended, unknown: outcomes.unknown, summary }, null, 2)}\n`);
    return;
  }
  io.stdout.write(formatSummary(summary));
  for (const job of outcomes.ended) if (job.state === 'failed') io.stdout.write(`failed: ${jobLine(job)}\n`);
  for (const id of outcomes.unknown) io.stdout.write(`unknown: ${id} left the queue but is not in the server's history\n`);
}

/** Runs the command against the server; returns the exit code. Throws CompactCommandError. */
export async function runCompact(options: CompactOptions, io: CompactIo): Promise<number> {
  const client = new CompactionClient(serverUrlOf(options.url, options.configPath), options.token);
  if (options.dryRun) {
    const candidates = await client.candidates(options.scope);
    io.stdout.write(options.json ? `${JSON.stringify({ candidates }, null, 2)}\n` : formatCandidates(candidates));
    return 0;
  }
  const triggered = await client.trigger(options.scope);
  const outcomes = triggered.length === 0 ? { ended: [], unknown: [] } : await waitForJobs(client, triggered, options.scope, io);
  const summary = summarize(outcomes.ended, outcomes.unknown.length);
  writeOutcome(io, options.json, outcomes, summary);
  return summary.failed === 0 && summary.unknown === 0 ? EXIT_OK : EXIT_FAILED;
}

/** `arc compact ...`: the exit code; a bad command line (2) or a server error (1) is one line on stderr. */
export function compactCommand(args: readonly string[], io: CompactIo): Promise<number> {
  return runServerCommand('compact', COMPACT_USAGE, args, io, () => runCompact(parseCompactArgs(args, io.env), io));
}
