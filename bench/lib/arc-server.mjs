// @ts-check
// Helpers shared by the bench/ scripts that talk to a real Arc: start the built server in a fresh
// data dir (--spawn), wait for it, measure its CPU time, flush its buffers, count rows, and a few
// number helpers for the JSON lines. Used by bench/ingest/ingest.mjs and bench/query/query.mjs.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTokenText } from '@arc/auth';
import { UsageError } from './cli.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const DEFAULT_SERVER_ENTRY = path.join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');
/** Kernel clock ticks per second of /proc/<pid>/stat utime and stime (USER_HZ on Linux). */
export const CLK_TCK = 100;

// ---------------------------------------------------------------------------------------------
// Server process helpers

/** @param {number} pid */
function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) }; // utime + stime
  } catch {
    return null;
  }
}

/**
 * `pid` and its live descendants (from /proc's parent links), or null if `pid` is not readable.
 * @param {number} pid
 * @returns {{ pid: number, ticks: number }[] | null}
 */
function processTree(pid) {
  const root = readStat(pid);
  if (!root) return null;
  /** @type {Map<number, number[]>} */
  const children = new Map();
  /** @type {Map<number, number>} */
  const ticks = new Map();
  for (const name of fs.readdirSync('/proc')) {
    const p = Number(name);
    if (!Number.isInteger(p) || p === pid) continue;
    const st = readStat(p);
    if (!st) continue;
    ticks.set(p, st.ticks);
    const list = children.get(st.ppid) ?? [];
    list.push(p);
    children.set(st.ppid, list);
  }
  const tree = [{ pid, ticks: root.ticks }];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length) {
    const p = /** @type {number} */ (stack.pop());
    tree.push({ pid: p, ticks: ticks.get(p) ?? 0 });
    stack.push(...(children.get(p) ?? []));
  }
  return tree;
}

/**
 * utime+stime ticks of `pid` and all its live descendants, or null if `pid` is not readable.
 * @param {number} pid
 */
export function treeCpuTicks(pid) {
  const tree = processTree(pid);
  return tree === null ? null : tree.reduce((total, p) => total + p.ticks, 0);
}

/**
 * Resident bytes (VmRSS of /proc/<pid>/status) of `pid` and its live descendants, or null if
 * `pid` is not readable. Worker threads are part of their process's figure.
 * @param {number} pid
 */
export function treeRssBytes(pid) {
  const tree = processTree(pid);
  if (tree === null) return null;
  let total = 0;
  for (const p of tree) {
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${p.pid}/status`, 'latin1'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // exited between the walk and this read: it holds no memory any more
    }
  }
  return total;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A pause of `ms`: for polls across HTTP or process boundaries, backoffs and sample schedules,
 * never to order events (each caller says which it is).
 * @param {number} ms
 */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {string} url
 * @param {number} timeoutS
 * @param {() => string | null} [exited] returns a reason if the server process is gone
 */
export async function waitReady(url, timeoutS, exited) {
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const gone = exited?.();
    if (gone) throw new Error(`server exited before ready: ${gone}`);
    try {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `GET /ready -> ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    // /ready is polled: the server process announces nothing the harness could wait on.
    await sleep(100);
  }
  throw new Error(`server not ready after ${timeoutS} s (${last})`);
}

/**
 * @typedef {{ serverEntry: string, readyTimeout: number, keepData: boolean,
 *   env?: Record<string, string>, bootstrapToken?: string, nodeArgs?: string[] }} SpawnOptions `env` is added
 *   to the server's environment; `bootstrapToken` is its ARC_AUTH_BOOTSTRAP_TOKEN (default: a fresh
 *   random one); `nodeArgs` go to node before the entry (--cpu-prof is refused in NODE_OPTIONS)
 */

/**
 * Starts `node <entry> serve` with ARC_PORT / ARC_DATA_DIR / ARC_AUTH_BOOTSTRAP_TOKEN.
 * `dataDir` is ARC_DATA_DIR (Arc keeps its Parquet files under `<dataDir>/arc`).
 * @param {SpawnOptions} o
 * @param {(s: string) => void} log
 */
export async function spawnServer(o, log) {
  if (!fs.existsSync(o.serverEntry)) throw new Error(`--spawn: ${o.serverEntry} not found (run \`npm run build\` first)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-bench-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const logPath = path.join(dir, 'server.log');
  const logFd = fs.openSync(logPath, 'a');
  const port = /** @type {number} */ (await freePort());
  const token = o.bootstrapToken ?? generateTokenText();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.serverEntry, 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...o.env, ARC_PORT: String(port), ARC_DATA_DIR: dataDir, ARC_AUTH_BOOTSTRAP_TOKEN: token },
    stdio: ['ignore', logFd, logFd],
  });
  fs.closeSync(logFd);
  /** @type {string | null} */
  let exitReason = null;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitReason = `code ${code} signal ${signal}`;
      resolve(undefined);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (exitReason === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (exitReason === null) child.kill('SIGKILL');
      }, 30_000);
      await exited;
      clearTimeout(timer);
    }
    if (o.keepData) log(`server data kept in ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  const tail = () => {
    try {
      return fs.readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  };
  try {
    await waitReady(url, o.readyTimeout, () => exitReason);
  } catch (err) {
    const t = tail();
    await stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server log tail ---\n${t}`, { cause: err });
  }
  log(`spawned ${o.serverEntry} pid ${child.pid} on ${url} (data ${dataDir})`);
  return { url, token, dataDir, pid: /** @type {number} */ (child.pid), stop, exitedReason: () => exitReason };
}

/**
 * The Arc a bench script talks to: one it spawns (`spawn`), or the running one at `url`, which
 * needs a token. Until `close()`, SIGINT/SIGTERM stop a spawned server and exit 130; `close()`
 * removes those handlers and stops the spawned server. `pid` and `dataDir` are null for `url`.
 * @param {SpawnOptions & { spawn: boolean, url: string, token: string }} o
 * @param {(s: string) => void} log
 */
export async function connectServer(o, log) {
  /** @type {Awaited<ReturnType<typeof spawnServer>> | null} */
  let server = null;
  const onSignal = () => {
    void (server ? server.stop() : Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const close = async () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (server) await server.stop();
  };
  try {
    if (o.spawn) {
      server = await spawnServer(o, log);
      return { url: server.url, token: server.token, dataDir: server.dataDir, pid: server.pid, exitedReason: server.exitedReason, close };
    }
    if (!o.token) throw new UsageError('--token (or $ARC_TOKEN) is required without --spawn');
    await waitReady(o.url, Math.min(o.readyTimeout, 5));
    return { url: o.url, token: o.token, dataDir: null, pid: null, exitedReason: () => null, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Read-back

/**
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @returns {Promise<{ n: number | null, status: number, error: string | null }>}
 */
export async function countRows(url, token, database) {
  let res;
  let text;
  try {
    res = await fetch(`${url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-arc-database': database },
      body: JSON.stringify({ sql: 'SELECT count(*) AS n FROM cpu', format: 'json' }),
    });
    text = await res.text();
  } catch (err) {
    return { n: null, status: 0, error: `POST /query: ${describeError(err)}` };
  }
  /** @type {any} */
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (res.status !== 200 || !body || body.success === false) {
    return { n: null, status: res.status, error: (body && body.error) || text.slice(0, 200) };
  }
  const data = Array.isArray(body.data) ? body.data : [];
  if (data.length === 0) return { n: 0, status: 200, error: null }; // measurement with no files yet
  const v = Array.isArray(data[0]) ? data[0][0] : data[0]?.n;
  const n = Number(v);
  return Number.isFinite(n) ? { n, status: 200, error: null } : { n: null, status: 200, error: `unexpected count ${JSON.stringify(v)}` };
}

/**
 * @param {string} url
 * @param {string} token
 */
export async function flush(url, token) {
  const t = performance.now();
  try {
    const res = await fetch(`${url}/write/flush`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const text = await res.text();
    return { status: res.status, ms: performance.now() - t, error: res.ok ? null : text.slice(0, 200) };
  } catch (err) {
    return { status: 0, ms: performance.now() - t, error: describeError(err) };
  }
}

/** @param {unknown} err */
export function describeError(err) {
  if (!(err instanceof Error)) return String(err);
  const cause = /** @type {{ cause?: unknown }} */ (err).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/**
 * @param {Float64Array} sorted
 * @param {number} q
 */
export function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return round(/** @type {number} */ (sorted[i]), 3);
}

/**
 * @param {number} x
 * @param {number} digits
 */
export function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The checkout's short commit, recorded beside a benchmark's figures; null outside a git checkout. */
export function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

export function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** @param {number[]} xs */
export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const m = v.length >> 1;
  return v.length % 2 ? /** @type {number} */ (v[m]) : (/** @type {number} */ (v[m - 1]) + /** @type {number} */ (v[m])) / 2;
}
