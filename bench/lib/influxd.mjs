// @ts-check
// A real InfluxDB 1.x server (Debian's `influxd`) for the import benchmarks: a fresh directory
// and free ports, started and stopped by the benchmark (the test suite has its own helper under
// packages/server/test/support, which takes its configuration from here: bench code does not
// import test files).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep } from './arc-server.mjs';

const READY_TIMEOUT_MS = 60_000;
/** How often /ping is asked while influxd starts: it announces readiness no other way. */
const PING_INTERVAL_MS = 100;

/** True when `influxd` can be run here. */
export function influxdAvailable() {
  return spawnSync('influxd', ['version'], { encoding: 'utf8' }).status === 0;
}

/**
 * influxd's configuration for a run beside Arc: loopback ports, everything under `directory`, no
 * reporting, monitor store, continuous queries or subscribers. The test suite's influxd
 * (packages/server/test/support/influxd-process.ts) uses it too.
 * @param {string} directory @param {number} httpPort @param {number} rpcPort
 * @param {{ authEnabled?: boolean }} [options] `[http] auth-enabled`: every request but /ping needs credentials once an admin user exists
 */
export function influxdConfigText(directory, httpPort, rpcPort, options = {}) {
  return [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${directory}/meta"`,
    '[data]',
    `  dir = "${directory}/data"`,
    `  wal-dir = "${directory}/wal"`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    `  auth-enabled = ${String(options.authEnabled === true)}`,
    '[monitor]',
    '  store-enabled = false',
    '[continuous_queries]',
    '  enabled = false',
    '[subscriber]',
    '  enabled = false',
    '',
  ].join('\n');
}

/**
 * Starts influxd on free ports in a fresh directory; resolves once /ping answers.
 * @returns {Promise<{ url: string, pid: number, query: (q: string, db?: string) => Promise<any>,
 *   write: (db: string, body: Buffer | string) => Promise<void>, stop: () => Promise<void> }>}
 */
export async function startInfluxd() {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-bench-influxd-'));
  const httpPort = /** @type {number} */ (await freePort());
  const rpcPort = /** @type {number} */ (await freePort());
  const configPath = path.join(directory, 'influxdb.conf');
  fs.writeFileSync(configPath, influxdConfigText(directory, httpPort, rpcPort));
  const child = spawn('influxd', ['run', '-config', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
  let output = '';
  child.stdout.on('data', (chunk) => (output = (output + String(chunk)).slice(-4000)));
  child.stderr.on('data', (chunk) => (output = (output + String(chunk)).slice(-4000)));
  const exited = new Promise((resolve) => child.once('exit', () => resolve(undefined)));
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(directory, { recursive: true, force: true });
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`influxd exited with ${child.exitCode}:\n${output}`);
    }
    const up = await fetch(`${url}/ping`).then((response) => response.status === 204, () => false);
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`influxd did not answer /ping within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    // /ping is polled: influxd announces nothing the harness could wait on.
    await sleep(PING_INTERVAL_MS);
  }
  /** @param {string} q @param {string} [db] */
  const query = async (q, db) => {
    const search = new URLSearchParams({ q, ...(db === undefined ? {} : { db }) });
    const response = await fetch(`${url}/query?${search.toString()}`, { method: 'POST' });
    const text = await response.text();
    if (response.status !== 200) throw new Error(`influxd ${q}: ${response.status} ${text}`);
    return JSON.parse(text);
  };
  /** @param {string} db @param {Buffer | string} body */
  const write = async (db, body) => {
    const response = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, { method: 'POST', body });
    if (response.status !== 204) throw new Error(`influxd /write answered ${response.status}: ${await response.text()}`);
  };
  return { url, pid: /** @type {number} */ (child.pid), query, write, stop };
}
