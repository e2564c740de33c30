#!/usr/bin/env node
// @ts-check
// What Arc's GET /metrics costs (docs/benchmarks.md, "Metrics scrape"):
//  (a) scrape time: write to --databases databases (line protocol and MessagePack, so every database
//      has the arc_ingest_* series of two protocols), then time --scrapes sequential scrapes of
//      /metrics as Prometheus does them (bearer token, whole answer read); median, p99 and max, the
//      server CPU per scrape, the answer's size and series, and how many databases it names;
//  (b) ingest with a scrape every --interval-ms vs none: bench/ingest's loader (columnar msgpack) on
//      a fresh server per run, pairs of runs in alternating order, the median of each mode.
// One JSON line per measurement on stdout; --smoke runs a few seconds of each (no assertion on numbers).
//
//   node bench/metrics/scrape.mjs                     # (a) 100 databases x 200 scrapes, (b) 3 pairs x 20 s
//   node bench/metrics/scrape.mjs --smoke --json
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import { CLK_TCK, DEFAULT_SERVER_ENTRY, connectServer, cpuModel, describeError, median, percentile, round } from '../lib/arc-server.mjs';
import { UsageError, cliOutput, integerOption, numberOption, parseCli } from '../lib/cli.mjs';
import { buildPool, parseOptions as parseIngestOptions, runOnce } from '../ingest/ingest.mjs';

/** The issue's bar for one scrape with 100 databases. */
export const SCRAPE_TARGET_MS = 5;
const SMOKE = { scrapes: 20, seconds: 3, runs: 1, batch: 1000, connections: 4 };
/** Scrapes before the timed ones: the first answers build the registry's label sets. */
const WARMUP_SCRAPES = 10;
/** Writes in flight while filling the databases. */
const FILL_CONCURRENCY = 8;
const MODES = /** @type {const} */ (['none', 'scrape']);
const T0_MS = Date.UTC(2026, 0, 1);

export const USAGE = `usage: node bench/metrics/scrape.mjs [options]
  --part P              scrape | ingest | all (default all)
  --databases N         (a) databases written before the scrapes (default 100)
  --rows N              (a) rows written to each database per protocol (default 100)
  --scrapes N           (a) timed requests per probe and round (default 200, after ${WARMUP_SCRAPES} untimed):
                        /metrics as text 0.0.4, as OpenMetrics, and /health (the HTTP round trip)
  --seconds S           (b) timed ingest per run (default 20)
  --runs N              (a) rounds of scrapes, median reported; (b) pairs of runs, one per mode,
                        order alternating (default 3)
  --interval-ms N       (b) a scrape every N ms in the "scrape" runs (default 1000)
  --batch N             (b) rows per write request (default 5000)
  --connections N       (b) loader connections (default 8)
  --smoke               a few seconds: ${SMOKE.scrapes} scrapes, one pair of ${SMOKE.seconds} s runs (CI: no assertion on numbers)
  --server-entry FILE   the server to spawn (default packages/cli/dist/main.js)
  --ready-timeout S     seconds to wait for GET /ready (default 60)
  --keep-data           keep each spawned server's data dir
  --out FILE            also append the JSON lines to FILE
  --json                print only the JSON lines
  --help`;

/**
 * @typedef {{ parts: ('scrape' | 'ingest')[], databases: number, rows: number, scrapes: number,
 *   seconds: number, runs: number, intervalMs: number, batch: number, connections: number,
 *   smoke: boolean, serverEntry: string, readyTimeout: number, keepData: boolean,
 *   out: string | null, json: boolean }} Options
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
      part: { type: 'string', default: 'all' },
      databases: { type: 'string', default: '100' },
      rows: { type: 'string', default: '100' },
      scrapes: { type: 'string' },
      seconds: { type: 'string' },
      runs: { type: 'string' },
      'interval-ms': { type: 'string', default: '1000' },
      batch: { type: 'string' },
      connections: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
      'ready-timeout': { type: 'string', default: '60' },
      'keep-data': { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const part = String(values.part);
  if (part !== 'all' && part !== 'scrape' && part !== 'ingest') throw new UsageError(`--part must be scrape, ingest or all, got ${part}`);
  const smoke = Boolean(values.smoke);
  /** @param {string | undefined} given @param {number} full @param {number} small */
  const pick = (given, full, small) => given ?? String(smoke ? small : full);
  return {
    parts: part === 'all' ? ['scrape', 'ingest'] : [part],
    databases: integerOption('databases', values.databases, 1),
    rows: integerOption('rows', values.rows, 1),
    scrapes: integerOption('scrapes', pick(values.scrapes, 200, SMOKE.scrapes), 1),
    seconds: numberOption('seconds', pick(values.seconds, 20, SMOKE.seconds), 0.5),
    runs: integerOption('runs', pick(values.runs, 3, SMOKE.runs), 1),
    intervalMs: integerOption('interval-ms', values['interval-ms'], 10),
    batch: integerOption('batch', pick(values.batch, 5000, SMOKE.batch), 1),
    connections: integerOption('connections', pick(values.connections, 8, SMOKE.connections), 1),
    smoke,
    serverEntry: path.resolve(String(values['server-entry'])),
    readyTimeout: numberOption('ready-timeout', values['ready-timeout'], 1),
    keepData: Boolean(values['keep-data']),
    out: values.out ?? null,
    json: Boolean(values.json),
  };
}

/**
 * @param {Options} o
 * @param {(s: string) => void} log
 */
function startServer(o, log) {
  // The query cache off as in the other benches; the database label cap at least --databases, so
  // every database is named in the answer (the default cap is 100).
  const env = { ARC_QUERY_CACHE_ENABLED: 'false', ARC_METRICS_DATABASE_LABELS_MAX: String(Math.max(100, o.databases)) };
  return connectServer({ spawn: true, url: '', token: '', serverEntry: o.serverEntry, readyTimeout: o.readyTimeout, keepData: o.keepData, env }, log);
}

/**
 * What is timed: a scrape in each of the two formats Prometheus asks for (2.x asks for OpenMetrics
 * first), and GET /health, the HTTP round trip alone, for scale on a loaded machine.
 */
export const PROBES = /** @type {const} */ ({
  text: { path: '/metrics', accept: 'text/plain;version=0.0.4' },
  openmetrics: { path: '/metrics', accept: 'application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5' },
  health: { path: '/health', accept: '*/*' },
});

/**
 * One request as Prometheus makes it: the bearer token, the whole answer read.
 * @param {string} url
 * @param {string} token
 * @param {{ path: string, accept: string }} [probe]
 * @returns {Promise<{ ms: number, status: number, text: string }>}
 */
export async function scrapeOnce(url, token, probe = PROBES.text) {
  const t = performance.now();
  const res = await fetch(`${url}${probe.path}`, { headers: { authorization: `Bearer ${token}`, accept: probe.accept } });
  const text = await res.text();
  return { ms: performance.now() - t, status: res.status, text };
}

/**
 * What an exposition answer holds: its series (sample lines), and the distinct values of the
 * `database` label on arc_ingest_rows_total.
 * @param {string} text
 */
export function describeAnswer(text) {
  let series = 0;
  /** @type {Set<string>} */
  const databases = new Set();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    series++;
    if (line.startsWith('arc_ingest_rows_total{')) {
      const database = /database="((?:[^"\\]|\\.)*)"/.exec(line)?.[1];
      if (database !== undefined) databases.add(database);
    }
  }
  return { series, databases: databases.size };
}

/**
 * utime+stime ticks of a process's main thread (its task whose id is the pid), or null.
 * @param {number} pid
 */
export function mainThreadTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/task/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

const packr = new Packr({ useRecords: false });

/**
 * `rows` rows to database `database` by line protocol and by MessagePack (columnar, int64 times).
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @param {number} rows
 */
async function fillDatabase(url, token, database, rows) {
  const lines = Array.from({ length: rows }, (_, i) => `cpu,host=h${i % 10} usage=${i} ${T0_MS + i}`).join('\n');
  const ids = Array.from({ length: rows }, (_, i) => i);
  const body = packr.pack({ m: 'mem', columns: { time: ids.map((i) => BigInt(T0_MS + i)), host: ids.map((i) => `h${i % 10}`), used: ids } });
  const answers = await Promise.all([
    fetch(`${url}/write?db=${database}&precision=ms`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: lines }),
    fetch(`${url}/write/v2/msgpack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/msgpack', 'x-arc-database': database }, body }),
  ]);
  for (const answer of answers) {
    const text = await answer.text();
    if (answer.status !== 204) throw new Error(`writing to ${database}: ${answer.status} ${text.slice(0, 200)}`);
  }
}

/**
 * The rounds' medians: each probe's median, p99 and main-thread CPU over the rounds, and whether
 * the text scrape's median is under the target.
 * @param {readonly any[]} rounds lines with `scrape_ms.{text,openmetrics,health}.{median,p99,main_thread_cpu_ms}`
 */
export function scrapeSummary(rounds) {
  /** @param {(r: any) => number} f */
  const med = (f) => {
    const m = median(rounds.map(f));
    return m === null ? null : round(m, 3);
  };
  /** @type {Record<string, { median: number | null, p99: number | null, main_thread_cpu_ms: number | null }>} */
  const scrapeMs = {};
  for (const name of Object.keys(PROBES)) {
    scrapeMs[name] = { median: med((r) => r.scrape_ms[name].median), p99: med((r) => r.scrape_ms[name].p99), main_thread_cpu_ms: med((r) => r.scrape_ms[name].main_thread_cpu_ms) };
  }
  const first = rounds[0];
  return {
    summary: 'metrics-scrape',
    rounds: rounds.length,
    databases: first?.databases,
    databases_labelled: first?.databases_labelled,
    series: first?.series,
    answer_bytes: first?.answer_bytes,
    scrapes_per_round: first?.scrapes,
    scrape_ms: scrapeMs,
    target_ms: SCRAPE_TARGET_MS,
    target_met: (scrapeMs.text?.median ?? Infinity) < SCRAPE_TARGET_MS,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel(),
    cpus: os.cpus().length,
  };
}

/**
 * (a) Scrape time with `o.databases` databases.
 * @param {Options} o
 * @param {{ log: (s: string) => void, emit: (line: object) => void }} io
 */
async function scrapeCost(o, io) {
  const server = await startServer(o, io.log);
  try {
    const names = Array.from({ length: o.databases }, (_, i) => `bench_db_${String(i).padStart(3, '0')}`);
    for (let i = 0; i < names.length; i += FILL_CONCURRENCY) {
      await Promise.all(names.slice(i, i + FILL_CONCURRENCY).map((name) => fillDatabase(server.url, server.token, name, o.rows)));
    }
    io.log(`wrote ${o.rows} rows by line protocol and by msgpack to each of ${o.databases} databases`);
    let last = { ms: 0, status: 0, text: '' };
    for (let i = 0; i < WARMUP_SCRAPES; i++) last = await scrapeOnce(server.url, server.token);
    if (last.status !== 200) throw new Error(`GET /metrics answered ${last.status}: ${last.text.slice(0, 200)}`);
    const answer = describeAnswer(last.text);
    io.log(`the answer names ${answer.databases} databases: ${answer.series} series, ${Buffer.byteLength(last.text)} bytes`);
    /** @type {any[]} */
    const rounds = [];
    for (let round_ = 1; round_ <= o.runs; round_++) {
      /** @type {Record<string, any>} */
      const timed = {};
      for (const [name, probe] of Object.entries(PROBES)) {
        const main0 = server.pid ? mainThreadTicks(server.pid) : null;
        const times = new Float64Array(o.scrapes);
        for (let i = 0; i < o.scrapes; i++) {
          const s = await scrapeOnce(server.url, server.token, probe);
          if (s.status !== 200) throw new Error(`${name} ${i + 1}: GET ${probe.path} answered ${s.status}`);
          times[i] = s.ms;
        }
        const main1 = server.pid ? mainThreadTicks(server.pid) : null;
        times.sort();
        timed[name] = {
          median: percentile(times, 0.5),
          p99: percentile(times, 0.99),
          max: round(/** @type {number} */ (times[times.length - 1]), 3),
          // CPU the server's main thread (which answers HTTP and renders /metrics) spent per request:
          // unlike the wall time, it does not grow when other processes load the machine.
          main_thread_cpu_ms: main0 !== null && main1 !== null ? round(((main1 - main0) / CLK_TCK / o.scrapes) * 1000, 3) : null,
        };
      }
      const line = { bench: 'metrics-scrape', round: round_, databases: o.databases, databases_labelled: answer.databases, series: answer.series, answer_bytes: Buffer.byteLength(last.text), scrapes: o.scrapes, scrape_ms: timed };
      rounds.push(line);
      io.emit(line);
      io.log(`round ${round_}/${o.runs}: text median ${timed.text.median} ms (p99 ${timed.text.p99}), OpenMetrics median ${timed.openmetrics.median} ms, /health median ${timed.health.median} ms`);
    }
    const summary = scrapeSummary(rounds);
    io.emit(summary);
    io.log(`scrape with ${answer.databases} databases: median of round medians ${summary.scrape_ms.text?.median} ms (target < ${SCRAPE_TARGET_MS} ms: ${summary.target_met ? 'met' : 'NOT met'})`);
  } finally {
    await server.close();
  }
}

/**
 * Scrapes `url` every `intervalMs` until stopped (a scrape never overlaps the previous one, as in
 * Prometheus); returns the times and failures seen.
 * @param {string} url
 * @param {string} token
 * @param {number} intervalMs
 */
function scrapeEvery(url, token, intervalMs) {
  /** @type {number[]} */
  const times = [];
  let failures = 0;
  let stopped = false;
  let running = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(async () => {
      if (stopped) return;
      try {
        const s = await scrapeOnce(url, token);
        if (s.status === 200) times.push(s.ms);
        else failures++;
      } catch {
        failures++;
      }
    });
  }, intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
      return { scrapes: times.length, failures, scrape_ms_median: median(times) === null ? null : round(/** @type {number} */ (median(times)), 3) };
    },
  };
}

/**
 * Each mode's median rows/s, and "scrape" over "none" (1 = no cost): the ratio of the medians and
 * the median of the pairs' ratios.
 * @param {readonly any[]} runs lines with `mode`, `pair` and `rows_per_s`
 */
export function ingestSummary(runs) {
  /** @type {Record<string, { runs: number, rows_per_s: number | null, rows_per_server_cpu_s: number | null }>} */
  const modes = {};
  for (const mode of MODES) {
    const mine = runs.filter((r) => r.mode === mode);
    const rate = median(mine.map((r) => r.rows_per_s));
    const perCpu = median(mine.map((r) => r.rows_per_server_cpu_s));
    modes[mode] = { runs: mine.length, rows_per_s: rate === null ? null : Math.round(rate), rows_per_server_cpu_s: perCpu === null ? null : Math.round(perCpu) };
  }
  const pairs = [...new Set(runs.map((r) => r.pair))].flatMap((pair) => {
    const none = runs.find((r) => r.pair === pair && r.mode === 'none');
    const scrape = runs.find((r) => r.pair === pair && r.mode === 'scrape');
    return none && scrape && none.rows_per_s > 0 ? [scrape.rows_per_s / none.rows_per_s] : [];
  });
  const none = modes.none?.rows_per_s;
  const scrape = modes.scrape?.rows_per_s;
  const pairRatio = median(pairs);
  return {
    summary: 'metrics-scrape-ingest',
    modes,
    scrape_vs_none: { rows_per_s: none && scrape ? round(scrape / none, 3) : null, pair_ratios: pairs.map((r) => round(r, 3)), pair_ratio_median: pairRatio === null ? null : round(pairRatio, 3) },
    read_back_ok: runs.every((r) => r.read_back_ok),
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cpus: os.cpus().length,
  };
}

/**
 * (b) Ingest throughput with a scrape every interval vs none, fresh server per run.
 * @param {Options} o
 * @param {{ log: (s: string) => void, emit: (line: object) => void }} io
 */
async function ingestCost(o, io) {
  const ingestOptions = parseIngestOptions(['--format', 'columnar', '--batch', String(o.batch), '--connections', String(o.connections), '--seconds', String(o.seconds), ...(o.smoke ? ['--pool-rows', '50000'] : []), ...(o.json ? ['--json'] : [])]);
  if (ingestOptions === null) throw new Error('unreachable: no --help given');
  const pool = buildPool(ingestOptions);
  /** @type {any[]} */
  const runs = [];
  for (let pair = 1; pair <= o.runs; pair++) {
    // Alternating order: a drift of the machine over time weighs on both modes alike.
    const order = pair % 2 === 1 ? MODES : [...MODES].reverse();
    for (const mode of order) {
      const server = await startServer(o, io.log);
      try {
        io.log(`pair ${pair}/${o.runs}, ${mode === 'scrape' ? `a scrape every ${o.intervalMs} ms` : 'no scrape'}: ${o.seconds} s, ${o.connections} connections, ${o.batch}-row requests`);
        const scraper = mode === 'scrape' ? scrapeEvery(server.url, server.token, o.intervalMs) : null;
        const line = await runOnce(ingestOptions, pool, { url: server.url, token: server.token, database: 'bench', serverPid: server.pid, run: pair, log: io.log }).finally(() => scraper?.stop());
        const scraped = scraper ? await scraper.stop() : null;
        if (server.exitedReason()) throw new Error(`server exited during the run: ${server.exitedReason()}`);
        const result = { bench: 'metrics-scrape-ingest', mode, pair, ...line, scrape: scraped };
        runs.push(result);
        io.emit(result);
        io.log(`  ${line.rows_per_s} rows/s${scraped ? `, ${scraped.scrapes} scrapes (median ${scraped.scrape_ms_median} ms, ${scraped.failures} failed)` : ''}, read back ${line.read_back_ok ? 'ok' : 'MISMATCH'}`);
      } finally {
        await server.close();
      }
    }
  }
  const summary = ingestSummary(runs);
  io.emit(summary);
  io.log(`ingest: none ${summary.modes.none?.rows_per_s} rows/s, scrape ${summary.modes.scrape?.rows_per_s} rows/s; scrape vs none ${summary.scrape_vs_none.rows_per_s} (pairs ${summary.scrape_vs_none.pair_ratios.join(', ')})`);
  return summary.read_back_ok;
}

/** @param {string[]} argv */
export async function main(argv) {
  const parsed = parseCli(argv, parseOptions, USAGE);
  if (parsed.options === null) return parsed.exitCode;
  const o = parsed.options;
  const { log, emit } = cliOutput(o);
  try {
    let ok = true;
    if (o.parts.includes('scrape')) await scrapeCost(o, { log, emit });
    if (o.parts.includes('ingest')) ok = await ingestCost(o, { log, emit });
    return ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`metrics scrape bench: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 3;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
