#!/usr/bin/env node
// @ts-check
// Arc ingest load generator: TSBS cpu-only rows over `POST /write/v2/msgpack` (or line protocol,
// JSON, the Go version's 5-column shape), closed loop on keep-alive HTTP/1.1 connections or open
// loop at a fixed rate (--rate), then a read-back check (flush + count(*)); the server's RSS is
// sampled during the run. Prints one JSON line per run (and a median line with --runs > 1). See
// bench/ingest/README.md.
//
//   node bench/ingest/ingest.mjs --spawn --format columnar --batch 1000 --connections 8 \
//        --threads 2 --seconds 30 --runs 3
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  CLK_TCK,
  DEFAULT_SERVER_ENTRY,
  connectServer,
  countRows,
  cpuModel,
  describeError,
  flush,
  median,
  percentile,
  round,
  treeCpuTicks,
} from '../lib/arc-server.mjs';
import { UsageError, cliOutput, parseCli } from '../lib/cli.mjs';
import { rssSummary, warmupSeconds, startRssSampler } from '../lib/rss.mjs';
import { STORAGE_ARG_OPTIONS, STORAGE_USAGE, parseStorageOptions, s3ServerProbe, storageEnv, uniquePrefix } from '../lib/s3-target.mjs';
import { BatchSequence } from './batch-sequence.mjs';
import {
  CONTENT_TYPES,
  DATASET_INSTANTS,
  DEFAULT_HOSTS,
  DEFAULT_SEED,
  FORMATS,
  DEFAULT_PATHS,
  INTERVAL_MS,
  SHAPES,
  START_MS,
  TsbsCpu,
  encode,
  timeOffsets,
} from './tsbs.mjs';


export const USAGE = `usage: node bench/ingest/ingest.mjs [options]
  --url URL             server base URL (default http://127.0.0.1:8000; ignored with --spawn)
  --token T             bearer token; must be allowed to write, flush (admin) and query
                        (default $ARC_TOKEN; generated with --spawn)
  --database NAME       target database (default bench; with --runs > 1: NAME_1, NAME_2, ...)
  --format F            columnar | rows | lp | json (default columnar)
  --shape S             tsbs (default: 10 tags, 10 int fields) | arc-go (columnar only: the Go
                        version's benchmark row, time/host/value/cpu_idle/cpu_user)
  --batch N             rows per request (default 1000)
  --connections N       concurrent keep-alive connections (default 8)
  --threads N           loader worker threads sharing the connections (default 2)
  --seconds S           timed phase per run (default 30)
  --rate R              open loop: R rows/s offered (R / --batch requests a second, on a fixed
                        schedule); latency counts from when each request was due (default: closed
                        loop, as fast as the server answers)
  --runs N              repeat N times and print a median line (default 1)
  --hosts N             TSBS hosts, i.e. rows per instant (default 100)
  --seed N              TSBS PRNG seed (default 123)
  --pool-rows N         distinct rows pre-encoded before the timed phase (default hosts x 4320,
                        i.e. 12 h); re-used with times shifted past the pool, never resent as is
  --max-pool-mb N       cap on pre-encoded request bytes (default 1024)
  --path P              write path (default /write/v2/msgpack; lp: /api/v1/write/line-protocol?precision=ns)
  --spawn               start the server (node <server-entry> serve) on a free port in a fresh
                        temp data dir with a generated bootstrap token; SIGTERM it at the end
  --server-entry FILE   server entry for --spawn (default packages/cli/dist/main.js)
  --keep-data           with --spawn: keep the temp data dir (path printed to stderr)
  --auth on|off         with --spawn: off starts the server with auth.enabled = false, to measure
                        what the token check costs on the write path (default on)
  --wal MODE            with --spawn: off (default), fdatasync, fsync or async: starts the server
                        with the write-ahead log on in that sync mode (compare with off)
${STORAGE_USAGE}
  --server-pid N        pid whose CPU time (plus its descendants') is reported (default: the
                        spawned server with --spawn; otherwise server CPU fields are null)
  --ready-timeout S     seconds to wait for GET /ready (default 60)
  --out FILE            also append the JSON lines to FILE
  --json                print only the JSON lines on stdout (progress on stderr is silenced)
  --help`;

/**
 * @typedef {{
 *   url: string, token: string, database: string, format: import('./tsbs.mjs').WireFormat,
 *   shape: import('./tsbs.mjs').RowShape, rate: number | null, batch: number,
 *   connections: number, threads: number, seconds: number, runs: number, hosts: number,
 *   seed: number, poolRows: number, maxPoolMb: number, path: string, spawn: boolean,
 *   serverEntry: string, keepData: boolean, serverPid: number | null, readyTimeout: number,
 *   out: string | null, json: boolean, auth: 'on' | 'off', wal: string, env: Record<string, string>,
 * } & import('../lib/s3-target.mjs').StorageOptions} Options
 */

/** `--wal` values: off, or a `[wal] sync_mode`. */
const WAL_MODES = ['off', 'fdatasync', 'fsync', 'async'];

/**
 * @param {string[]} argv
 * @returns {Options | null} null for --help
 */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      token: { type: 'string' },
      database: { type: 'string', default: 'bench' },
      format: { type: 'string', default: 'columnar' },
      shape: { type: 'string', default: 'tsbs' },
      rate: { type: 'string' },
      batch: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '8' },
      threads: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '30' },
      runs: { type: 'string', default: '1' },
      hosts: { type: 'string', default: String(DEFAULT_HOSTS) },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      'pool-rows': { type: 'string' },
      'max-pool-mb': { type: 'string', default: '1024' },
      path: { type: 'string' },
      spawn: { type: 'boolean', default: false },
      'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
      'keep-data': { type: 'boolean', default: false },
      'server-pid': { type: 'string' },
      'ready-timeout': { type: 'string', default: '60' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      auth: { type: 'string', default: 'on' },
      wal: { type: 'string', default: 'off' },
      ...STORAGE_ARG_OPTIONS,
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  /**
   * @param {string} name
   * @param {string | undefined} v
   * @param {number} min
   */
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got ${v}`);
    return n;
  };
  /**
   * @param {string} name
   * @param {string | undefined} v
   * @param {number} min
   */
  const int = (name, v, min) => {
    const n = num(name, v, min);
    if (!Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got ${v}`);
    return n;
  };
  const format = /** @type {import('./tsbs.mjs').WireFormat} */ (values.format);
  if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got ${values.format}`);
  const shape = /** @type {import('./tsbs.mjs').RowShape} */ (values.shape);
  if (!SHAPES.includes(shape)) throw new UsageError(`--shape must be one of ${SHAPES.join(', ')}, got ${values.shape}`);
  if (shape === 'arc-go' && format !== 'columnar') throw new UsageError(`--shape arc-go is columnar msgpack: it needs --format columnar, got ${format}`);
  const auth = /** @type {'on' | 'off'} */ (values.auth);
  if (auth !== 'on' && auth !== 'off') throw new UsageError(`--auth must be on or off, got ${values.auth}`);
  if (auth === 'off' && !values.spawn) throw new UsageError('--auth off needs --spawn (a running server has its own auth.enabled)');
  const wal = String(values.wal);
  if (!WAL_MODES.includes(wal)) throw new UsageError(`--wal must be one of ${WAL_MODES.join(', ')}, got ${wal}`);
  if (wal !== 'off' && !values.spawn) throw new UsageError('--wal needs --spawn (a running server has its own [wal] settings)');
  const storage = parseStorageOptions(values, Boolean(values.spawn));
  const hosts = int('hosts', values.hosts, 1);
  const connections = int('connections', values.connections, 1);
  return {
    url: String(values.url).replace(/\/+$/, ''),
    token: values.token ?? process.env.ARC_TOKEN ?? '',
    database: String(values.database),
    format,
    shape,
    rate: values.rate === undefined ? null : num('rate', values.rate, 1),
    batch: int('batch', values.batch, 1),
    connections,
    threads: Math.min(int('threads', values.threads, 1), connections),
    seconds: num('seconds', values.seconds, 0.1),
    runs: int('runs', values.runs, 1),
    hosts,
    seed: int('seed', values.seed, 0),
    poolRows: values['pool-rows'] === undefined ? hosts * DATASET_INSTANTS : int('pool-rows', values['pool-rows'], 1),
    maxPoolMb: num('max-pool-mb', values['max-pool-mb'], 1),
    path: values.path ?? DEFAULT_PATHS[format],
    spawn: Boolean(values.spawn),
    serverEntry: path.resolve(String(values['server-entry'])),
    keepData: Boolean(values['keep-data']),
    serverPid: values['server-pid'] === undefined ? null : int('server-pid', values['server-pid'], 1),
    readyTimeout: num('ready-timeout', values['ready-timeout'], 1),
    out: values.out ?? null,
    json: Boolean(values.json),
    auth,
    wal,
    ...storage,
    env: {
      ...(auth === 'off' ? { ARC_AUTH_ENABLED: 'false' } : {}),
      ...(wal === 'off' ? {} : { ARC_WAL_ENABLED: 'true', ARC_WAL_SYNC_MODE: wal }),
    },
  };
}

export { UsageError };

// ---------------------------------------------------------------------------------------------
// Pool of pre-encoded bodies (built once, before any timed phase)

/**
 * @typedef {{ bodies: Buffer[], timeOff: Int32Array[], batchRows: number, poolRows: number,
 *   spanMs: number, hosts: number, bytes: number, note: string | null, startMs: number,
 *   intervalMs: number }} Pool
 */

/**
 * The rows' times: TSBS's (from 2016-01-01, 10 s apart) unless `clock` says otherwise
 * (bench/compaction stamps them from now, 1 ms apart, so they land in the live hour).
 * @param {Options} o
 * @param {{ startMs: number, intervalMs: number }} [clock]
 * @returns {Pool}
 */
export function buildPool(o, clock = { startMs: START_MS, intervalMs: INTERVAL_MS }) {
  // Twice as many batches as connections (4 at least), so that a batch's turn seldom comes while
  // it is in flight; the threads share the pool, so their count does not matter.
  const minBatches = Math.max(4, 2 * o.connections);
  let nBatches = Math.max(minBatches, Math.ceil(o.poolRows / o.batch));
  const gen = new TsbsCpu({ hosts: o.hosts, seed: o.seed, ...clock });
  /** @type {Buffer[]} */
  const bodies = [];
  /** @type {Int32Array[]} */
  const timeOff = [];
  let bytes = 0;
  let note = null;
  for (let b = 0; b < nBatches; b++) {
    const body = encode(o.format, gen.next(o.batch), gen.tags, o.shape);
    bodies.push(body);
    timeOff.push(timeOffsets(body, o.format, o.batch));
    bytes += body.length;
    if (b === 0) {
      const cap = Math.floor((o.maxPoolMb * 1048576) / (body.length + 256));
      if (cap < nBatches) {
        const capped = Math.max(minBatches, cap);
        note = `pool capped by --max-pool-mb ${o.maxPoolMb}: ${capped} batches of ${o.batch} rows (~${body.length} B each) instead of ${nBatches}`;
        nBatches = capped;
      }
    }
  }
  const poolRows = nBatches * o.batch;
  const spanMs = Math.ceil(poolRows / o.hosts) * clock.intervalMs;
  return { bodies, timeOff, batchRows: o.batch, poolRows, spanMs, hosts: o.hosts, bytes, note, ...clock };
}

/**
 * Percentiles of the latencies of requests that began after the warm-up (due after it in open
 * loop, sent after it in closed loop): a run's first seconds also time the loader's JIT, its
 * connections opening and the server's first batches of a database, which a steady load does not
 * have. `latency_ms` keeps every request.
 * @param {number[]} latencies
 * @param {number} warmupS
 */
export function latencyAfterWarmup(latencies, warmupS) {
  const sorted = Float64Array.from(latencies).sort();
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), warmup_s: round(warmupS, 3), requests: sorted.length };
}

/**
 * Every batch's request (headers + body) in one contiguous region of a SharedArrayBuffer that the
 * loader threads share, with where each request starts and ends, and for each row of each batch
 * where in the buffer its time is written (for re-stamping).
 * @param {Pool} pool
 * @param {Options} o
 * @param {string} database
 * @param {URL} url
 */
function assembleRequests(pool, o, database, url) {
  const heads = pool.bodies.map((body) =>
    Buffer.from(
      `POST ${o.path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${o.token}\r\n` +
        `x-arc-database: ${database}\r\nContent-Type: ${CONTENT_TYPES[o.format]}\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
      'latin1',
    ),
  );
  let total = 0;
  pool.bodies.forEach((body, b) => (total += /** @type {Buffer} */ (heads[b]).length + body.length));
  const buf = new SharedArrayBuffer(total);
  const u8 = new Uint8Array(buf);
  const reqStart = new Float64Array(pool.bodies.length);
  const reqLen = new Float64Array(pool.bodies.length);
  const timeOffBuffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * pool.bodies.length * pool.batchRows);
  const timeOff = new Int32Array(timeOffBuffer);
  let p = 0;
  pool.bodies.forEach((body, b) => {
    const head = /** @type {Buffer} */ (heads[b]);
    const offs = /** @type {Int32Array} */ (pool.timeOff[b]);
    reqStart[b] = p;
    reqLen[b] = head.length + body.length;
    u8.set(head, p);
    u8.set(body, p + head.length);
    for (let j = 0; j < offs.length; j++) timeOff[b * pool.batchRows + j] = head.length + /** @type {number} */ (offs[j]);
    p += head.length + body.length;
  });
  return { buf, reqStart, reqLen, timeOff: timeOffBuffer, sequence: BatchSequence.allocate(pool.bodies.length) };
}

// ---------------------------------------------------------------------------------------------
// One timed run

/**
 * @param {Options} o
 * @param {Pool} pool
 * @param {{ url: string, token: string, database: string, serverPid: number | null, run: number,
 *   log: (s: string) => void, s3?: { prefix: string, probe: ReturnType<typeof s3ServerProbe> } }} ctx
 */
export async function runOnce(o, pool, ctx) {
  const url = new URL(ctx.url);
  const before = await countRows(ctx.url, ctx.token, ctx.database);
  if (before.status === 0 || before.status === 401 || before.status === 403) {
    throw new Error(`query as the bench token failed with ${before.status}: ${before.error}`);
  }
  const rowsBefore = before.n ?? 0;
  if (rowsBefore > 0) ctx.log(`warning: database ${ctx.database} already holds ${rowsBefore} cpu rows`);

  const requestPool = assembleRequests(pool, { ...o, token: ctx.token }, ctx.database, url);
  const perThread = Math.floor(o.connections / o.threads);
  const extra = o.connections % o.threads;
  /** @type {Worker[]} */
  const workers = [];
  /** @type {Promise<any>[]} */
  const ready = [];
  /** @type {Promise<any>[]} */
  const done = [];
  const progress = new Array(o.threads).fill(0);
  for (let w = 0; w < o.threads; w++) {
    const worker = new Worker(new URL('./loader-worker.mjs', import.meta.url), {
      workerData: {
        host: url.hostname,
        port: Number(url.port || 80),
        connections: perThread + (w < extra ? 1 : 0),
        ...requestPool,
        batchRows: pool.batchRows,
        format: o.format,
        hosts: pool.hosts,
        startMs: pool.startMs,
        intervalMs: pool.intervalMs,
        spanMs: pool.spanMs,
        backoffMs: 10,
        maxBackoffMs: 500,
        drainTimeoutMs: 30_000,
        // Each thread keeps its share of the schedule (threads x this = the requests a second).
        requestsPerS: o.rate === null ? 0 : o.rate / o.batch / o.threads,
      },
    });
    workers.push(worker);
    /** @type {(v: any) => void} */
    let onReady = () => {};
    /** @type {(v: any) => void} */
    let onDone = () => {};
    /** @type {(e: Error) => void} */
    let rejReady = () => {};
    /** @type {(e: Error) => void} */
    let rejDone = () => {};
    ready.push(new Promise((res, rej) => ((onReady = res), (rejReady = rej))));
    done.push(new Promise((res, rej) => ((onDone = res), (rejDone = rej))));
    /** @param {Error} e */
    const fail = (e) => {
      rejReady(e);
      rejDone(e);
    };
    worker.on('message', (m) => {
      if (m.type === 'ready') onReady(undefined);
      else if (m.type === 'done') onDone(m);
      else if (m.type === 'progress') progress[w] = m.rowsAcked;
      else if (m.type === 'error') fail(new Error(m.message));
    });
    worker.on('error', (e) => fail(e));
    worker.on('exit', (code) => fail(new Error(`loader thread ${w} exited (${code})`)));
  }
  // Unhandled rejections of `done` before the start are reported through `ready`.
  done.forEach((p) => p.catch(() => {}));
  try {
    await Promise.all(ready);
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }

  const cpu0 = ctx.serverPid ? treeCpuTicks(ctx.serverPid) : null;
  const s3Mark = ctx.s3?.probe?.mark() ?? null;
  const loader0 = process.cpuUsage();
  const rssSampler = ctx.serverPid ? startRssSampler(ctx.serverPid) : null;
  const t0 = performance.now();
  for (const w of workers) w.postMessage({ type: 'start', durationMs: o.seconds * 1000 });
  const ticker = o.json
    ? null
    : setInterval(() => {
        const s = (performance.now() - t0) / 1000;
        const rows = progress.reduce((a, b) => a + b, 0);
        ctx.log(`  ${s.toFixed(0)} s: ${rows} rows acked (${Math.round(rows / s)} rows/s)`);
      }, 5000);
  let results;
  /** @type {import('../lib/rss.mjs').RssSample[] | null} */
  let rssSamples;
  try {
    results = await Promise.all(done);
  } finally {
    if (ticker) clearInterval(ticker);
    rssSamples = rssSampler?.stop() ?? null;
  }
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu1 = ctx.serverPid ? treeCpuTicks(ctx.serverPid) : null;
  const s3Phase = ctx.s3?.probe && s3Mark ? ctx.s3.probe.measure(s3Mark, ctx.s3.prefix, CLK_TCK) : null;
  const loaderUse = process.cpuUsage(loader0);
  await Promise.all(workers.map((w) => w.terminate()));

  let rowsAcked = 0;
  let requests = 0;
  let requestsScheduled = 0;
  let requestsUnsent = 0;
  /** @type {Record<string, number>} */
  const errorsByStatus = {};
  let nLat = 0;
  const warmupMs = warmupSeconds(o.seconds) * 1000;
  /** Latencies of requests that began after the warm-up (see latencyAfterWarmup). */
  const steady = [];
  for (const r of results) {
    for (let i = 0; i < r.latencies.length; i++) if (r.latencyStarts[i] >= warmupMs) steady.push(r.latencies[i]);
    rowsAcked += r.rowsAcked;
    requests += r.requests;
    requestsScheduled += r.requestsScheduled;
    requestsUnsent += r.requestsUnsent;
    nLat += r.latencies.length;
    for (const [k, v] of Object.entries(r.errorsByStatus)) errorsByStatus[k] = (errorsByStatus[k] ?? 0) + /** @type {number} */ (v);
  }
  const lat = new Float64Array(nLat);
  let p = 0;
  for (const r of results) {
    lat.set(r.latencies, p);
    p += r.latencies.length;
  }
  lat.sort();

  const fl = await flush(ctx.url, ctx.token);
  if (fl.status < 200 || fl.status >= 300) ctx.log(`warning: POST /write/flush -> ${fl.status}: ${fl.error}`);
  const after = await countRows(ctx.url, ctx.token, ctx.database);
  if (after.n === null) ctx.log(`warning: count query failed (${after.status}): ${after.error}`);
  const serverCpu = cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / CLK_TCK : null;
  const readBackOk = rowsAcked > 0 && after.n !== null && after.n - rowsBefore === rowsAcked;

  return {
    run: ctx.run,
    storage: o.storage,
    format: o.format,
    shape: o.shape,
    auth: o.auth,
    wal: o.wal,
    batch: o.batch,
    connections: o.connections,
    threads: o.threads,
    seconds: o.seconds,
    elapsed_s: round(elapsedS, 3),
    database: ctx.database,
    rows_acked: rowsAcked,
    rows_per_s: Math.round(rowsAcked / elapsedS),
    requests,
    errors_by_status: errorsByStatus,
    latency_ms: { p50: percentile(lat, 0.5), p95: percentile(lat, 0.95), p99: percentile(lat, 0.99) },
    latency_after_warmup_ms: latencyAfterWarmup(steady, warmupMs / 1000),
    // Open loop: latency counts from when each request was due; `unsent` were still waiting for a
    // free connection at the end (the server fell behind the rate), never sent, no rows.
    open_loop:
      o.rate === null
        ? null
        : { rate_rows_per_s: o.rate, requests_scheduled: requestsScheduled, requests_unsent: requestsUnsent, achieved_over_offered: round(rowsAcked / elapsedS / o.rate, 3) },
    server_rss: rssSamples === null ? null : rssSummary(rssSamples, warmupSeconds(o.seconds)),
    server_cpu_seconds: serverCpu === null ? null : round(serverCpu, 2),
    rows_per_server_cpu_s: serverCpu ? Math.round(rowsAcked / serverCpu) : null,
    loader_cpu_seconds: round((loaderUse.user + loaderUse.system) / 1e6, 2),
    s3_prefix: ctx.s3?.prefix ?? null,
    s3_requests: s3Phase?.requests ?? null,
    s3_daemon_cpu_seconds: s3Phase ? round(s3Phase.daemon_cpu_seconds, 2) : null,
    rows_before: rowsBefore,
    rows_read_back: after.n,
    read_back_ok: readBackOk,
    flush_ms: round(fl.ms, 1),
    flush_status: fl.status,
    pool_rows: pool.poolRows,
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpuModel(),
    cpus: os.cpus().length,
  };
}

/** @param {any[]} runs */
export function medianLine(runs) {
  /** @param {(r: any) => number} f */
  const med = (f) => {
    const m = median(runs.map(f));
    return m === null ? null : round(m, 3);
  };
  /** @type {Record<string, number>} */
  const errors = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.errors_by_status)) errors[k] = (errors[k] ?? 0) + /** @type {number} */ (v);
  const first = runs[0];
  const cpuS = med((r) => r.server_cpu_seconds);
  const perCpu = med((r) => r.rows_per_server_cpu_s);
  return {
    summary: 'median',
    runs: runs.length,
    storage: first.storage,
    format: first.format,
    shape: first.shape,
    batch: first.batch,
    connections: first.connections,
    threads: first.threads,
    seconds: first.seconds,
    rows_acked: med((r) => r.rows_acked),
    rows_per_s: Math.round(/** @type {number} */ (med((r) => r.rows_per_s))),
    requests: med((r) => r.requests),
    errors_by_status: errors,
    latency_ms: { p50: med((r) => r.latency_ms.p50), p95: med((r) => r.latency_ms.p95), p99: med((r) => r.latency_ms.p99) },
    latency_after_warmup_ms: {
      p50: med((r) => r.latency_after_warmup_ms.p50),
      p95: med((r) => r.latency_after_warmup_ms.p95),
      p99: med((r) => r.latency_after_warmup_ms.p99),
      warmup_s: first.latency_after_warmup_ms.warmup_s,
      requests: med((r) => r.latency_after_warmup_ms.requests),
    },
    open_loop: first.open_loop ? { rate_rows_per_s: first.open_loop.rate_rows_per_s, requests_unsent: med((r) => r.open_loop.requests_unsent) } : null,
    server_rss_max_bytes: first.server_rss ? Math.max(...runs.map((r) => r.server_rss?.max_bytes ?? 0)) : null,
    server_rss_growth_after_warmup_pct: first.server_rss ? med((r) => r.server_rss?.growth_after_warmup_pct) : null,
    server_cpu_seconds: cpuS,
    rows_per_server_cpu_s: perCpu === null ? null : Math.round(perCpu),
    loader_cpu_seconds: med((r) => r.loader_cpu_seconds),
    s3_requests_per_s: first.s3_requests ? Object.fromEntries(Object.keys(first.s3_requests.per_s).map((k) => [k, med((r) => r.s3_requests?.per_s[k])])) : null,
    s3_daemon_cpu_seconds: first.s3_daemon_cpu_seconds === null ? null : med((r) => r.s3_daemon_cpu_seconds),
    read_back_ok: runs.every((r) => r.read_back_ok),
    date: new Date().toISOString(),
    node: process.version,
    cpu: first.cpu,
    cpus: first.cpus,
  };
}

/** @param {string[]} argv */
export async function main(argv) {
  const parsed = parseCli(argv, parseOptions, USAGE);
  if (parsed.options === null) return parsed.exitCode;
  const o = parsed.options;
  const { log, emit } = cliOutput(o);

  /** @type {Awaited<ReturnType<typeof connectServer>> | null} */
  let server = null;
  try {
    const prefix = o.s3 ? uniquePrefix(o.s3.prefixBase, 'ingest') : null;
    const s3 = prefix === null ? undefined : { prefix, probe: s3ServerProbe(o.s3ServerDir) };
    server = await connectServer(o.spawn ? { ...o, env: { ...o.env, ...storageEnv(o, prefix) } } : o, log);
    if (prefix !== null && o.s3) log(`storage: s3 bucket ${o.s3.bucket} at ${o.s3.endpoint}, prefix ${prefix}` + (s3?.probe ? '' : ' (no --s3-server-dir: requests not counted)'));
    const { url, token } = server;
    const serverPid = o.serverPid ?? server.pid;
    const tp = performance.now();
    const pool = buildPool(o);
    if (pool.note) log(pool.note);
    log(
      `pool: ${pool.bodies.length} ${o.format} bodies x ${o.batch} rows, ${(pool.bytes / 1048576).toFixed(1)} MiB, ` +
        `${(pool.bytes / pool.poolRows).toFixed(0)} B/row, built in ${((performance.now() - tp) / 1000).toFixed(1)} s`,
    );
    const lines = [];
    for (let run = 1; run <= o.runs; run++) {
      const database = o.runs > 1 ? `${o.database}_${run}` : o.database;
      const load = o.rate === null ? 'closed loop' : `open loop at ${o.rate} rows/s`;
      log(`run ${run}/${o.runs}: ${o.seconds} s, ${load}, ${o.connections} connections on ${o.threads} threads -> ${url} db ${database}`);
      const line = await runOnce(o, pool, { url, token, database, serverPid, run, log, ...(s3 ? { s3 } : {}) });
      if (server.exitedReason()) throw new Error(`server exited during the run: ${server.exitedReason()}`);
      lines.push(line);
      emit(line);
      log(
        `run ${run} (${o.storage}): ${line.rows_per_s} rows/s, p99 ${line.latency_ms.p99} ms (${line.latency_after_warmup_ms.p99} ms after warm-up), read back ${line.rows_read_back}/${line.rows_acked}` +
          (line.read_back_ok ? ' ok' : ' MISMATCH'),
      );
    }
    if (o.runs > 1) emit(medianLine(lines));
    return lines.every((l) => l.read_back_ok) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`ingest: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 3;
  } finally {
    await server?.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
