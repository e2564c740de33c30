// The real InfluxDB 1.x server (Debian's `influxdb` package, 1.6.7 on bookworm) run beside Arc, so
// InfluxQL answers are compared with the reference, not with memory of it. `scripts/install-influxdb.sh`
// installs it; CI runs it. Locally, without `influxd` on PATH, the comparison tests are skipped,
// but under CI=true a missing server is an error (the suite must not pass by skipping).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { pollUntil } from '../../../../test/support/poll-until.js';
import { influxdConfigText } from '../../../../bench/lib/influxd.mjs';
import { freePort } from './arc-process.js';

const READY_TIMEOUT_MS = 60_000;

/** True when `influxd` can be run here; throws under CI=true when it cannot (CI installs it). */
export function influxdAvailable(): boolean {
  const found = spawnSync('influxd', ['version'], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('influxd is not installed: CI runs scripts/install-influxdb.sh first');
  return found;
}

export interface InfluxdProcess {
  readonly url: string;
  /** POST /write with line protocol; throws unless InfluxDB answers 204. */
  write(database: string, lines: string, precision?: string): Promise<void>;
  /** GET /query; the parsed JSON body and status (InfluxDB answers errors with 200 or 400). */
  query(q: string, parameters?: Record<string, string>): Promise<{ status: number; body: unknown; text: string }>;
  stop(): Promise<void>;
}

export interface InfluxdOptions {
  /** `[http] auth-enabled`: every request but /ping needs credentials once an admin user exists. */
  readonly authEnabled?: boolean;
}

/** Polls /ping under a deadline: influxd announces readiness no other way than by answering it. */
async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const ping = async (): Promise<boolean> => {
    if (child.exitCode !== null) throw new Error(`influxd exited with ${String(child.exitCode)}:\n${output()}`);
    return fetch(`${url}/ping`).then((response) => response.status === 204, () => false);
  };
  await pollUntil('influxd answers /ping', READY_TIMEOUT_MS, ping, (up) => up);
}

/** Starts influxd on free ports in a fresh directory; resolves once /ping answers. */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxdProcess> {
  const directory = await mkdtemp(path.join(tmpdir(), 'influxd-it-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const configPath = path.join(directory, 'influxdb.conf');
  await writeFile(configPath, influxdConfigText(directory, httpPort, rpcPort, options));
  const child = spawn('influxd', ['run', '-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;
  await waitForPing(url, child, () => output);
  const query: InfluxdProcess['query'] = async (q, parameters = {}) => {
    const search = new URLSearchParams({ ...parameters, q });
    const response = await fetch(`${url}/query?${search.toString()}`);
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown), text };
  };
  return {
    url,
    query,
    write: async (database, lines, precision = 'ns') => {
      const created = await query(`CREATE DATABASE "${database}"`);
      if (created.status !== 200) throw new Error(`influxd CREATE DATABASE: ${created.text}`);
      const response = await fetch(`${url}/write?db=${encodeURIComponent(database)}&precision=${precision}`, { method: 'POST', body: lines });
      if (response.status !== 204) throw new Error(`influxd /write answered ${response.status}: ${await response.text()}`);
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** One influxd for a whole test file (started before the first test, stopped after the last). */
export function useInfluxd(): { readonly influxd: InfluxdProcess } {
  let influxd: InfluxdProcess | null = null;
  beforeAll(async () => {
    influxd = await startInfluxd();
  }, READY_TIMEOUT_MS + 5_000);
  afterAll(async () => {
    await influxd?.stop();
  });
  return {
    get influxd(): InfluxdProcess {
      if (influxd === null) throw new Error('influxd is not started yet');
      return influxd;
    },
  };
}
