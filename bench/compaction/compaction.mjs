#!/usr/bin/env node
// @ts-check
// Compaction benchmark (docs/benchmarks.md, "Compaction"): real-time rows (stamped now) for 20
// measurements at a steady rate with the default flush policy, compaction off then on; every
// --sample-seconds the files in the live hour, the median time of two queries over the last
// hour, the ingest rate and the server's CPU. --saturate instead ingests as fast as it can
// (bench/ingest's loader) with compaction off and on: what compaction costs ingest. See
// bench/compaction/README.md.
//
//   node bench/compaction/compaction.mjs --minutes 10 --plot compaction.png
//   node bench/compaction/compaction.mjs --saturate --seconds 60 --runs 3
//   node bench/compaction/compaction.mjs --smoke --json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import {
  CLK_TCK,
  DEFAULT_SERVER_ENTRY,
  connectServer,
  cpuModel,
  describeError,
  flush,
  median,
  round,
  sleep,
  treeCpuTicks,
} from '../lib/arc-server.mjs';
import { UsageError, cliOutput, integerOption, numberOption, parseCli } from '../lib/cli.mjs';
import { CompactionUnavailable, compactionHistory, jobTotals } from '../lib/compaction-api.mjs';
import { buildPool, parseOptions as parseIngestOptions, runOnce } from '../ingest/ingest.mjs';
import { COLORS, renderPlot } from './plot.mjs';
import {
  HOUR_MS,
  PARQUET_SUBDIR,
  countAnomaly,
  fellBehind,
  liveHourFiles,
  plotPanels,
  samplesTable,
  steadySchedule,
  summarizeSamples,
  windowRate,
} from './sampling.mjs';

const MODES = /** @type {const} */ (['off', 'on']);
/** The steady ingest sends what is due every tick: 5 requests a second. */
const TICK_MS = 200;
/** Requests in flight at most; a slower server leaves rows due (and the run falls behind). */
const MAX_IN_FLIGHT = 4;
/** Rows of one measurement in one request at most (a request catching up is split over ticks). */
const MAX_ROWS_PER_ITEM = 20_000;
const WRITE_PATH = '/write/v2/msgpack';
/** Backoff of a write answered 503/429 (back-pressure), doubling up to the max. */
const BACKOFF_MS = 10;
const BACKOFF_MAX_MS = 1000;
/** Seconds the end of a mode waits for the last requests and for count(*) to reach the rows acknowledged. */
const DRAIN_TIMEOUT_S = 60;
/** --smoke: seconds per mode, sample interval, rate (CI: proves it works, measures nothing). */
const SMOKE = { seconds: 20, sampleSeconds: 5, rate: 5000, saturateSeconds: 5 };
/** --saturate rows: one instant of `hosts` rows every ms from now, so they land in the live hour. */
const SATURATE_INTERVAL_MS = 1;

export const USAGE = `usage: node bench/compaction/compaction.mjs [options]
  --mode M              off | on | both (default both: off, then on), i.e. [compaction] enabled
  --measurements N      measurements written (default 20)
  --hosts N             hosts (tag "host") per measurement (default 10)
  --rate R              rows/s offered, all measurements together (default 20000)
  --minutes M           duration of each mode (default 10)
  --sample-seconds S    seconds between samples (default 60)
  --query-runs N        runs of each query per sample; the median is reported (default 5)
  --plot FILE           write a PNG of both modes' curves (files in the live hour, query ms)
  --replot LIST         with --plot: no run; plot the samples of earlier runs' JSON lines
                        (comma-separated files written with --out or from stdout)
  --saturate            ingest as fast as possible (bench/ingest's loader, TSBS rows stamped from
                        now) for --seconds with compaction off and on: rows/s, rows per server CPU-s
  --seconds S           --saturate: seconds per run (default 60)
  --runs N              --saturate: runs per mode, alternating modes, median reported (default 1)
  --connections N       --saturate: connections (default 8)
  --batch N             --saturate: rows per request (default 5000)
  --database NAME       database written (default bench_compaction)
  --smoke               CI: ${SMOKE.seconds} s per mode, a sample every ${SMOKE.sampleSeconds} s, ${SMOKE.rate} rows/s
                        (--saturate: ${SMOKE.saturateSeconds} s); no assertion on numbers
  --server-entry FILE   server entry (default packages/cli/dist/main.js); always spawned, fresh data dir
  --keep-data           keep the temp data dirs (paths printed to stderr)
  --ready-timeout S     seconds to wait for GET /ready (default 60)
  --out FILE            also append the JSON lines to FILE
  --json                only JSON lines on stdout; no progress on stderr
  --help`;

export { UsageError };

/**
 * @typedef {{
 *   modes: ('off' | 'on')[], measurements: number, hosts: number, rate: number, seconds: number,
 *   sampleSeconds: number, queryRuns: number, plot: string | null, replot: string[], saturate: boolean,
 *   saturateSeconds: number, runs: number, connections: number, batch: number, database: string,
 *   smoke: boolean, serverEntry: string, keepData: boolean, readyTimeout: number,
 *   out: string | null, json: boolean,
 * }} Options
 */

/**
 * @param {string[]} argv
 * @returns {Options | null} null for --help
 */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      mode: { type: 'string', default: 'both' },
      measurements: { type: 'string', default: '20' },
      hosts: { type: 'string', default: '10' },
      rate: { type: 'string' },
      minutes: { type: 'string' },
      'sample-seconds': { type: 'string' },
      'query-runs': { type: 'string', default: '5' },
      plot: { type: 'string' },
      replot: { type: 'string' },
      saturate: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      runs: { type: 'string', default: '1' },
      connections: { type: 'string', default: '8' },
      batch: { type: 'string', default: '5000' },
      database: { type: 'string', default: 'bench_compaction' },
      smoke: { type: 'boolean', default: false },
      'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
      'keep-data': { type: 'boolean', default: false },
      'ready-timeout': { type: 'string', default: '60' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const mode = String(values.mode);
  if (mode !== 'both' && !MODES.includes(/** @type {'off' | 'on'} */ (mode))) throw new UsageError(`--mode must be off, on or both, got ${mode}`);
  const smoke = Boolean(values.smoke);
  const measurements = integerOption('measurements', values.measurements, 1);
  const rate = numberOption('rate', values.rate ?? String(smoke ? SMOKE.rate : 20_000), 1);
  // Each row of a measurement has its own microsecond (steadySchedule), so dedup merges none.
  if (rate / measurements > 1e6) throw new UsageError(`--rate ${rate} over ${measurements} measurements is above 1,000,000 rows/s per measurement`);
  const seconds = smoke ? SMOKE.seconds : numberOption('minutes', values.minutes ?? '10', 0.1) * 60;
  const sampleSeconds = numberOption('sample-seconds', values['sample-seconds'] ?? String(smoke ? SMOKE.sampleSeconds : 60), 1);
  if (sampleSeconds > seconds) throw new UsageError(`--sample-seconds ${sampleSeconds} is longer than the run (${seconds} s)`);
  const replot = values.replot === undefined ? [] : values.replot.split(',').map((f) => path.resolve(f.trim()));
  if (replot.length > 0 && values.plot === undefined) throw new UsageError('--replot needs --plot FILE');
  return {
    modes: mode === 'both' ? [...MODES] : [/** @type {'off' | 'on'} */ (mode)],
    measurements,
    hosts: integerOption('hosts', values.hosts, 1),
    rate,
    seconds,
    sampleSeconds,
    queryRuns: integerOption('query-runs', values['query-runs'], 1),
    plot: values.plot === undefined ? null : path.resolve(values.plot),
    replot,
    saturate: Boolean(values.saturate),
    saturateSeconds: smoke ? SMOKE.saturateSeconds : numberOption('seconds', values.seconds ?? '60', 1),
    runs: integerOption('runs', values.runs, 1),
    connections: integerOption('connections', values.connections, 1),
    batch: integerOption('batch', values.batch, 1),
    database: String(values.database),
    smoke,
    serverEntry: path.resolve(String(values['server-entry'])),
    keepData: Boolean(values['keep-data']),
    readyTimeout: numberOption('ready-timeout', values['ready-timeout'], 1),
    out: values.out ?? null,
    json: Boolean(values.json),
  };
}

/**
 * The samples in JSON lines (the `{"bench":"compaction"}` lines of earlier runs), by mode, in order.
 * @param {string} text
 * @returns {Record<string, any[]>}
 */
export function samplesFromJsonLines(text) {
  /** @type {Record<string, any[]>} */
  const byMode = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('{"bench":"compaction"')) continue;
    const sample = JSON.parse(line);
    (byMode[sample.mode] ??= []).push(sample);
  }
  return byMode;
}

/**
 * Writes the PNG of `samplesByMode` to `file` (its directory created).
 * @param {string} file
 * @param {Record<string, readonly any[]>} samplesByMode
 */
function writePlot(file, samplesByMode) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, renderPlot(plotPanels(samplesByMode, COLORS)));
}

/** `m00` ... `m19`: names sort in creation order. */
export function measurementNames(/** @type {number} */ n) {
  const width = String(n - 1).length;
  return Array.from({ length: n }, (_, i) => `m${String(i).padStart(width, '0')}`);
}

/**
 * The server of one mode: spawned fresh, compaction on or off, answer cache off.
 * @param {Options} o
 * @param {'off' | 'on'} mode
 * @param {(s: string) => void} log
 */
function startServer(o, mode, log) {
  return connectServer(
    {
      spawn: true,
      url: '',
      token: '',
      serverEntry: o.serverEntry,
      readyTimeout: o.readyTimeout,
      keepData: o.keepData,
      env: { ARC_COMPACTION_ENABLED: mode === 'on' ? 'true' : 'false', ARC_QUERY_CACHE_ENABLED: 'false' },
    },
    log,
  );
}

// ---------------------------------------------------------------------------------------------
// Steady real-time ingest

const packr = new Packr({ useRecords: false });

/**
 * Writes `rate` rows/s spread over the measurements, stamped with their ideal send time, one
 * request per tick carrying a columnar item per measurement. Rows are acknowledged by 204;
 * 503/429 are retried with backoff; any other answer is counted and its rows dropped.
 * @param {{ url: string, token: string, database: string, names: readonly string[], hosts: number, rate: number }} o
 */
function startSteadyIngest(o) {
  const schedule = steadySchedule(o.rate, o.names.length);
  const startMs = Date.now();
  const startUs = startMs * 1000;
  const assigned = new Array(o.names.length).fill(0);
  /** @type {Record<string, number>} */
  const errorsByStatus = {};
  // firstAcked: rows of the first measurement acknowledged, what its count(*) may reach at most.
  const stats = { rowsAcked: 0, firstAcked: 0, requests: 0, inFlight: 0, errorsByStatus };
  const countError = (/** @type {string} */ key) => (stats.errorsByStatus[key] = (stats.errorsByStatus[key] ?? 0) + 1);

  /**
   * @param {number} part
   * @param {number} first
   * @param {number} n
   */
  const item = (part, first, n) => {
    const time = new Array(n);
    const host = new Array(n);
    const value = new Array(n);
    for (let i = 0; i < n; i++) {
      const index = first + i;
      time[i] = BigInt(schedule.timeUs(startUs, index)); // int64 microseconds
      host[i] = `host_${index % o.hosts}`;
      value[i] = (index % 1000) + 0.25; // never whole: msgpackr writes a float64
    }
    return { m: o.names[part], columns: { time, host, value } };
  };

  /**
   * @param {Buffer} body
   * @param {number} rows
   * @param {number} firstRows rows of the first measurement among them
   */
  const send = async (body, rows, firstRows) => {
    stats.inFlight++;
    try {
      for (let backoff = BACKOFF_MS; ; backoff = Math.min(2 * backoff, BACKOFF_MAX_MS)) {
        let status = 0;
        try {
          const res = await fetch(`${o.url}${WRITE_PATH}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${o.token}`, 'x-arc-database': o.database, 'content-type': 'application/msgpack' },
            body,
          });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          countError('socket'); // not acknowledged: may or may not be written
          return;
        }
        stats.requests++;
        if (status === 204) {
          stats.rowsAcked += rows;
          stats.firstAcked += firstRows;
          return;
        }
        countError(String(status));
        if (status !== 503 && status !== 429) return;
        // The pause before a retry is the client's backoff policy, not a wait for an event.
        await sleep(backoff);
      }
    } finally {
      stats.inFlight--;
    }
  };

  /** Requests sent and not answered yet (send never rejects: failures are counted). */
  const sending = new Set();
  const tick = () => {
    if (stats.inFlight >= MAX_IN_FLIGHT) return; // behind: the rows stay due
    const elapsed = Date.now() - startMs;
    const items = [];
    let rows = 0;
    let firstRows = 0;
    for (let part = 0; part < o.names.length; part++) {
      const n = Math.min(MAX_ROWS_PER_ITEM, schedule.due(part, elapsed) - assigned[part]);
      if (n <= 0) continue;
      items.push(item(part, assigned[part], n));
      assigned[part] += n;
      rows += n;
      if (part === 0) firstRows = n;
    }
    if (rows > 0) {
      const sent = send(Buffer.from(packr.pack({ batch: items })), rows, firstRows);
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
    }
  };
  const timer = setInterval(tick, TICK_MS);
  return {
    startMs,
    stats,
    /** Stops sending and waits for the requests in flight; the rows offered until now. */
    async stop() {
      clearInterval(timer);
      const offered = o.names.reduce((a, _, part) => a + schedule.due(part, Date.now() - startMs), 0);
      // The answers of the requests in flight, bounded by DRAIN_TIMEOUT_S (a bound, not an ordering).
      const bound = new Promise((resolve) => setTimeout(resolve, DRAIN_TIMEOUT_S * 1000).unref());
      await Promise.race([Promise.allSettled([...sending]), bound]);
      return { offered, assigned: assigned.reduce((a, b) => a + b, 0) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Queries over the last hour

/**
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @param {string} sql
 * @returns {Promise<{ ms: number, body: any }>}
 */
async function timedQuery(url, token, database, sql) {
  const t0 = performance.now();
  const res = await fetch(`${url}/query`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'x-arc-database': database, 'content-type': 'application/json' },
    body: JSON.stringify({ sql, format: 'json' }),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  /** @type {any} */
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* reported below */
  }
  if (res.status !== 200 || body?.success !== true) throw new Error(`${sql} -> ${res.status}: ${text.slice(0, 200)}`);
  return { ms, body };
}

/** The two queries of a sample, over the first measurement's last hour. */
export function lastHourQueries(/** @type {string} */ measurement) {
  return {
    count_sum: `SELECT count(*) AS n, sum(value) AS total FROM ${measurement} WHERE time > now() - INTERVAL 1 HOUR`,
    per_host: `SELECT host, count(*) AS n, avg(value) AS mean, max(value) AS peak FROM ${measurement} WHERE time > now() - INTERVAL 1 HOUR GROUP BY host ORDER BY host`,
  };
}

/**
 * Median ms of `runs` runs of each query, and the rows the count saw. Each count is checked
 * against the one before (`watch.last`, across samples) and the rows acknowledged by then
 * (countAnomaly): a row counted twice or missed while files are merged shows there.
 * @param {{ url: string, token: string, database: string, measurement: string, runs: number,
 *   ackedNow: () => number, watch: { last: number | null, anomalies: number, first: string | null } }} o
 */
async function sampleQueries(o) {
  const sqls = lastHourQueries(o.measurement);
  /** @type {Record<string, number | null>} */
  const ms = {};
  /** @type {Record<string, number[]>} */
  const runsMs = {};
  let visible = null;
  let errors = 0;
  /** @type {string | null} */
  let error = null;
  for (const [name, sql] of Object.entries(sqls)) {
    const times = [];
    for (let i = 0; i < o.runs; i++) {
      try {
        const { ms: t, body } = await timedQuery(o.url, o.token, o.database, sql);
        times.push(t);
        if (name === 'count_sum') {
          visible = Number(body.data?.[0]?.[0] ?? body.data?.[0]?.n ?? 0);
          let acked = o.ackedNow();
          // A 204 already read from its socket but not yet handled: let pending I/O run first.
          if (visible > acked) acked = await new Promise((resolve) => setImmediate(() => resolve(o.ackedNow())));
          const anomaly = countAnomaly(o.watch.last, visible, acked);
          if (anomaly !== null) {
            o.watch.anomalies++;
            o.watch.first ??= anomaly;
          }
          o.watch.last = visible;
        }
      } catch (err) {
        errors++;
        error ??= describeError(err);
      }
    }
    const m = median(times);
    ms[name] = m === null ? null : round(m, 2);
    runsMs[name] = times.map((t) => round(t, 2));
  }
  return { ms, runsMs, visible, errors, error };
}

// ---------------------------------------------------------------------------------------------
// One steady mode

/**
 * Rows of every measurement (count(*) each), or null when a count failed.
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @param {readonly string[]} names
 */
async function countAll(url, token, database, names) {
  let total = 0;
  for (const m of names) {
    try {
      const { body } = await timedQuery(url, token, database, `SELECT count(*) AS n FROM ${m}`);
      total += Number(body.data?.[0]?.[0] ?? body.data?.[0]?.n ?? 0);
    } catch {
      return null;
    }
  }
  return total;
}

/**
 * The history's ended jobs, or null on a server without compaction endpoints.
 * @param {string} url
 * @param {string} token
 */
async function jobsSoFar(url, token) {
  try {
    return jobTotals(await compactionHistory(url, token));
  } catch (err) {
    if (err instanceof CompactionUnavailable) return null;
    throw err;
  }
}

/**
 * One steady mode's running state: its server, the ingest, and the count watch.
 * @typedef {{
 *   o: Options, mode: 'off' | 'on', io: { log: (s: string) => void, emit: (line: object) => void },
 *   url: string, token: string, pid: number, parquetRoot: string, names: string[],
 *   ingest: ReturnType<typeof startSteadyIngest>,
 *   watch: { last: number | null, anomalies: number, first: string | null },
 * }} SteadyRun
 */

/**
 * The two last-hour queries on the first measurement, counts checked while the run is younger
 * than an hour (past it rows leave the window and the count may fall).
 * @param {SteadyRun} run
 * @param {number} atMs
 */
function queryLastHour(run, atMs) {
  return sampleQueries({
    url: run.url,
    token: run.token,
    database: run.o.database,
    measurement: /** @type {string} */ (run.names[0]),
    runs: run.o.queryRuns,
    ackedNow: () => run.ingest.stats.firstAcked,
    watch: atMs - run.ingest.startMs < HOUR_MS ? run.watch : { last: null, anomalies: 0, first: null },
  });
}

/**
 * One sample: files of the live hour, the queries, the ingest rate and server CPU since `prev`.
 * @param {SteadyRun} run
 * @param {{ atMs: number, rowsAcked: number, cpu: number | null }} prev
 */
async function takeSample(run, prev) {
  const cur = { atMs: Date.now(), rowsAcked: run.ingest.stats.rowsAcked, cpu: treeCpuTicks(run.pid) };
  const files = liveHourFiles({ parquetRoot: run.parquetRoot, database: run.o.database, measurements: run.names, nowMs: cur.atMs, runStartMs: run.ingest.startMs });
  const q = await queryLastHour(run, cur.atMs);
  const cpuS = cur.cpu !== null && prev.cpu !== null ? (cur.cpu - prev.cpu) / CLK_TCK : null;
  const sample = {
    bench: 'compaction',
    mode: run.mode,
    minute: round((cur.atMs - run.ingest.startMs) / 60_000, 2),
    files: { hour: files.hour, max: files.max, total: files.total, per_measurement: files.per_measurement, previous_hour: files.previous_hour, previous: files.previous },
    query_ms: q.ms,
    query_runs_ms: q.runsMs,
    query_measurement: run.names[0],
    rows_visible_last_hour: q.visible,
    query_errors: q.errors,
    query_error: q.error,
    ingest_rows_per_s: windowRate(prev, cur),
    offered_rows_per_s: run.o.rate,
    server_cpu_seconds: cpuS === null ? null : round(cpuS, 2),
    load_average: os.loadavg().map((x) => round(x, 2)),
  };
  run.io.log(
    `  ${sample.minute} min: live hour ${files.hour} files max ${files.max} total ${files.total}` +
      (files.previous ? ` (previous hour ${files.previous_hour}: max ${files.previous.max} total ${files.previous.total})` : '') +
      `, count+sum ${q.ms.count_sum} ms, per-host ${q.ms.per_host} ms, ${sample.ingest_rows_per_s} rows/s` +
      (q.error ? `, query error: ${q.error}` : ''),
  );
  return { sample, cur };
}

/**
 * After the ingest stopped: flush, then count(*) of every measurement until it equals the rows
 * acknowledged (or DRAIN_TIMEOUT_S passed); the count.
 * @param {SteadyRun} run
 */
async function readBack(run) {
  const fl = await flush(run.url, run.token);
  if (fl.status < 200 || fl.status >= 300) run.io.log(`warning: POST /write/flush -> ${fl.status}: ${fl.error}`);
  const acked = run.ingest.stats.rowsAcked;
  let count = await countAll(run.url, run.token, run.o.database, run.names);
  for (const deadline = Date.now() + DRAIN_TIMEOUT_S * 1000; count !== acked && Date.now() < deadline; ) {
    // The server's count is polled: across HTTP there is no event to wait on.
    await sleep(500);
    count = await countAll(run.url, run.token, run.o.database, run.names);
  }
  return count;
}

/**
 * @param {Options} o
 * @param {'off' | 'on'} mode
 * @param {{ log: (s: string) => void, emit: (line: object) => void }} io
 */
async function steadyMode(o, mode, io) {
  const server = await startServer(o, mode, io.log);
  try {
    const names = measurementNames(o.measurements);
    io.log(`compaction ${mode}: ${o.rate} rows/s over ${names.length} measurements x ${o.hosts} hosts for ${o.seconds} s, a sample every ${o.sampleSeconds} s`);
    /** @type {SteadyRun} */
    const run = {
      o,
      mode,
      io,
      url: server.url,
      token: server.token,
      pid: /** @type {number} */ (server.pid), // spawned: never null
      parquetRoot: path.join(/** @type {string} */ (server.dataDir), PARQUET_SUBDIR),
      names,
      ingest: startSteadyIngest({ url: server.url, token: server.token, database: o.database, names, hosts: o.hosts, rate: o.rate }),
      watch: { last: null, anomalies: 0, first: null },
    };
    const cpuStart = treeCpuTicks(run.pid);
    let prev = { atMs: run.ingest.startMs, rowsAcked: 0, cpu: cpuStart };
    const samples = [];
    for (let k = 1; k <= Math.floor(o.seconds / o.sampleSeconds); k++) {
      // The sample schedule is the measurement (one sample every --sample-seconds), not an ordering.
      await sleep(Math.max(0, run.ingest.startMs + k * o.sampleSeconds * 1000 - Date.now()));
      if (server.exitedReason()) throw new Error(`server exited during the run (compaction ${mode}): ${server.exitedReason()}`);
      const taken = await takeSample(run, prev);
      samples.push(taken.sample);
      io.emit(taken.sample);
      prev = taken.cur;
    }
    const { offered } = await run.ingest.stop();
    const elapsedS = (Date.now() - run.ingest.startMs) / 1000;
    const cpuEnd = treeCpuTicks(run.pid);
    const rowsReadBack = await readBack(run);
    // The same queries with ingest stopped and everything flushed: what the files cost without
    // the writers' flushes competing (the count is the rows acknowledged by now).
    const atRest = await queryLastHour(run, Date.now());
    const filesAtRest = liveHourFiles({ parquetRoot: run.parquetRoot, database: o.database, measurements: names, nowMs: Date.now(), runStartMs: run.ingest.startMs });
    if (server.exitedReason()) throw new Error(`server exited at the end of the run (compaction ${mode}): ${server.exitedReason()}`);
    const cpuS = cpuStart !== null && cpuEnd !== null ? (cpuEnd - cpuStart) / CLK_TCK : null;
    const acked = run.ingest.stats.rowsAcked;
    const summary = {
      summary: 'compaction-mode',
      mode,
      ...summarizeSamples(samples),
      measurements: names.length,
      hosts_per_measurement: o.hosts,
      offered_rows_per_s: o.rate,
      seconds: o.seconds,
      rows_offered: offered,
      rows_acked: acked,
      rows_per_s: Math.round(acked / elapsedS),
      fell_behind: fellBehind(offered, acked),
      errors_by_status: run.ingest.stats.errorsByStatus,
      rows_read_back: rowsReadBack,
      read_back_ok: rowsReadBack === acked,
      server_cpu_seconds: cpuS === null ? null : round(cpuS, 2),
      rows_per_server_cpu_s: cpuS ? Math.round(acked / cpuS) : null,
      compaction_jobs: await jobsSoFar(run.url, run.token),
      at_rest: { query_ms: atRest.ms, query_errors: atRest.errors, files_max: filesAtRest.max, files_total: filesAtRest.total },
      count_anomalies: run.watch.anomalies,
      first_count_anomaly: run.watch.first,
      date: new Date().toISOString(),
    };
    io.emit(summary);
    io.log(samplesTable(mode, samples));
    if (mode === 'on' && summary.compaction_jobs === null) io.log('warning: this server has no compaction endpoints: the "on" run did not compact');
    return { samples, summary };
  } finally {
    await server.close();
  }
}

// ---------------------------------------------------------------------------------------------
// --saturate: ingest as fast as possible, compaction off vs on

/**
 * @param {Options} o
 * @param {{ log: (s: string) => void, emit: (line: object) => void }} io
 */
async function saturate(o, io) {
  const ingestOptions = parseIngestOptions(['--format', 'columnar', '--batch', String(o.batch), '--connections', String(o.connections), '--seconds', String(o.saturateSeconds), ...(o.json ? ['--json'] : [])]);
  if (ingestOptions === null) throw new Error('unreachable: no --help given');
  /** @type {Record<string, any[]>} */
  const runsByMode = Object.fromEntries(o.modes.map((m) => [m, []]));
  for (let run = 1; run <= o.runs; run++) {
    for (const mode of o.modes) {
      const server = await startServer(o, mode, io.log);
      try {
        // Stamped from now, 1 ms per instant of 100 hosts: the rows land in the live hour and
        // its directory fills with one file per flush, which the live tier compacts.
        const pool = buildPool(ingestOptions, { startMs: Date.now(), intervalMs: SATURATE_INTERVAL_MS });
        io.log(`saturate run ${run}/${o.runs}, compaction ${mode}: ${o.saturateSeconds} s, ${o.connections} connections, ${o.batch}-row requests`);
        const line = await runOnce(ingestOptions, pool, { url: server.url, token: server.token, database: o.database, serverPid: server.pid, run, log: io.log });
        if (server.exitedReason()) throw new Error(`server exited during the run (compaction ${mode}): ${server.exitedReason()}`);
        const files = countFiles(path.join(/** @type {string} */ (server.dataDir), PARQUET_SUBDIR, o.database, 'cpu'));
        const result = { bench: 'compaction-saturate', mode, ...line, parquet_files_at_end: files, compaction_jobs: await jobsSoFar(server.url, server.token) };
        runsByMode[mode]?.push(result);
        io.emit(result);
        io.log(`  ${line.rows_per_s} rows/s, ${line.rows_per_server_cpu_s} rows per server CPU-s, ${files} files, read back ${line.read_back_ok ? 'ok' : 'MISMATCH'}`);
      } finally {
        await server.close();
      }
    }
  }
  const summary = saturateSummary(runsByMode);
  io.emit(summary);
  io.log(`saturate: ${JSON.stringify(summary.modes)}; on vs off: rows/s ${summary.on_vs_off.rows_per_s}, rows per CPU-s ${summary.on_vs_off.rows_per_server_cpu_s}`);
  return Object.values(runsByMode).every((rs) => rs.every((r) => r.read_back_ok));
}

/**
 * Each mode's medians, and "on" over "off" (1 = no cost; the bar: >= 0.85).
 * @param {Readonly<Record<string, readonly any[]>>} runsByMode
 */
export function saturateSummary(runsByMode) {
  /**
   * @type {Record<string, { runs: number, rows_per_s: number | null, rows_per_server_cpu_s: number | null, read_back_ok: boolean,
   *   compaction_jobs_succeeded: number | null, compaction_jobs_unfinished: number | null }>}
   */
  const modes = {};
  for (const [mode, runs] of Object.entries(runsByMode)) {
    const rate = median(runs.map((r) => r.rows_per_s));
    const perCpu = median(runs.map((r) => r.rows_per_server_cpu_s));
    modes[mode] = {
      runs: runs.length,
      rows_per_s: rate === null ? null : Math.round(rate),
      rows_per_server_cpu_s: perCpu === null ? null : Math.round(perCpu),
      read_back_ok: runs.every((r) => r.read_back_ok),
      // Whether compaction ran at all during the "on" runs (null: no compaction endpoints).
      compaction_jobs_succeeded: jobCount(runs, 'succeeded'),
      // Jobs still running when the run ended: under saturating ingest a niced merge may not finish.
      compaction_jobs_unfinished: jobCount(runs, 'unfinished'),
    };
  }
  const ratio = (/** @type {'rows_per_s' | 'rows_per_server_cpu_s'} */ k) => {
    const on = modes.on?.[k];
    const off = modes.off?.[k];
    return on && off ? round(on / off, 3) : null;
  };
  return { summary: 'compaction-saturate', modes, on_vs_off: { rows_per_s: ratio('rows_per_s'), rows_per_server_cpu_s: ratio('rows_per_server_cpu_s') }, date: new Date().toISOString(), cpu: cpuModel(), cpus: os.cpus().length };
}

/**
 * The runs' compaction jobs in one state, summed; null when no run had compaction endpoints.
 * @param {readonly any[]} runs
 * @param {'succeeded' | 'unfinished'} state
 */
function jobCount(runs, state) {
  return runs.some((r) => r.compaction_jobs) ? runs.reduce((a, r) => a + (r.compaction_jobs?.[state] ?? 0), 0) : null;
}

/** `*.parquet` files below `dir` at any depth (hour and day files). */
function countFiles(/** @type {string} */ dir) {
  try {
    return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.parquet')).length;
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------

/** @param {string[]} argv */
export async function main(argv) {
  const parsed = parseCli(argv, parseOptions, USAGE);
  if (parsed.options === null) return parsed.exitCode;
  const o = parsed.options;
  const { log, emit } = cliOutput(o);
  const io = { log, emit };
  try {
    if (o.replot.length > 0) {
      const samplesByMode = samplesFromJsonLines(o.replot.map((f) => fs.readFileSync(f, 'utf8')).join('\n'));
      if (Object.keys(samplesByMode).length === 0) throw new UsageError(`--replot: no sample line in ${o.replot.join(', ')}`);
      writePlot(/** @type {string} */ (o.plot), samplesByMode);
      log(`plot of ${Object.keys(samplesByMode).join(', ')} written to ${o.plot}`);
      return 0;
    }
    if (o.saturate) return (await saturate(o, io)) ? 0 : 1;
    /** @type {Record<string, any[]>} */
    const samplesByMode = {};
    /** @type {any[]} */
    const summaries = [];
    for (const mode of o.modes) {
      const { samples, summary } = await steadyMode(o, mode, io);
      samplesByMode[mode] = samples;
      summaries.push(summary);
    }
    if (o.plot) {
      writePlot(o.plot, samplesByMode);
      log(`plot written to ${o.plot}`);
    }
    emit({ summary: 'compaction', modes: Object.fromEntries(summaries.map((s) => [s.mode, s])), plot: o.plot, node: process.version, cpu: cpuModel(), cpus: os.cpus().length });
    let ok = true;
    for (const s of summaries) {
      if (!s.read_back_ok) {
        log(`compaction ${s.mode}: read back ${s.rows_read_back} rows, ${s.rows_acked} acknowledged`);
        ok = false;
      }
      if (s.count_anomalies > 0) {
        log(`compaction ${s.mode}: ${s.count_anomalies} counts over the last hour were impossible, first: ${s.first_count_anomaly}`);
        ok = false;
      }
      if (s.query_errors + s.at_rest.query_errors > 0) {
        log(`compaction ${s.mode}: ${s.query_errors + s.at_rest.query_errors} queries over the last hour failed`);
        ok = false;
      }
      if (s.fell_behind && !o.smoke) {
        log(`compaction ${s.mode}: ingest fell behind: ${s.rows_acked} of ${s.rows_offered} rows offered acknowledged`);
        ok = false;
      }
    }
    return ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`compaction: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 3;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
