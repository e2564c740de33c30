#!/usr/bin/env node
// @ts-check
// Arc query benchmark: the TSBS cpu-only queries of docs/benchmarks.md over HTTP with JSON
// answers (request to last byte), against data written through Arc's own ingest path; the same
// SQL run in-process by DuckDB over the same Parquet files, for the HTTP + JSON overhead and
// (--verify) to prove that each timed answer is right. One JSON line per query, then a summary
// against the reference InfluxDB 1.6.7 / ClickHouse 18.16 / DuckDB medians. See bench/query/README.md.
//
//   node bench/query/query.mjs --spawn --verify            # 100 hosts x 12 h, 20 runs per query
//   node bench/query/query.mjs --spawn --smoke             # CI: 10 hosts x 1 h, 2 runs, verified
//   node bench/query/query.mjs --spawn --verify --compact  # the queries again after compaction
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { DEFAULT_PATHS, DEFAULT_SEED, TsbsCpu, encode } from '../ingest/tsbs.mjs';
import {
  CLK_TCK,
  DEFAULT_SERVER_ENTRY,
  connectServer,
  countRows,
  cpuModel,
  describeError,
  flush,
  gitCommit,
  median,
  percentile,
  round,
  sleep,
  spawnServer,
  treeCpuTicks,
} from '../lib/arc-server.mjs';
import { UsageError, cliOutput, integerOption, numberOption, parseCli } from '../lib/cli.mjs';
import { PARQUET_SUBDIRS, STORAGE_ARG_OPTIONS, STORAGE_USAGE, parseStorageOptions, s3ServerProbe, storageEnv, uniquePrefix } from '../lib/s3-target.mjs';
import { CompactionUnavailable, jobTotals, triggerCompaction, waitForJobs } from '../lib/compaction-api.mjs';
import { answerFromArcJson, answerFromDuckDB, compareAnswers } from './answers.mjs';
import {
  FULL_SCALE,
  HOSTS_MIN,
  INSTANTS_PER_HOUR,
  LAST_CACHE_SPEC,
  QUERY_NAMES,
  REFERENCE_MS,
  SMOKE_SCALE,
  TARGET_AT_MOST_CLICKHOUSE,
  TsbsQueryGenerator,
  parseQueryList,
} from './tsbs-queries.mjs';

/** Write formats of the load phase (the query phase is the same for both). */
const WRITE_FORMATS = /** @type {const} */ (['columnar', 'lp']);
const CONTENT_TYPES = { columnar: 'application/msgpack', lp: 'text/plain; charset=utf-8' };
/** Backoff between retries of a write answered 503/429 (back-pressure), doubling up to the max. */
const WRITE_BACKOFF_MS = 10;
const WRITE_BACKOFF_MAX_MS = 500;
/** Smoke mode's runs per query (CI: proves the benchmark works, times nothing). */
const SMOKE_RUNS = 2;
/**
 * Arc's Parquet files sit under <data_dir>/<subdir>/<database>/<measurement>/YYYY/MM/DD/HH/, the
 * subdir being `arc` on local disk and the write-through cache (`cache`) on S3.
 * @param {'local' | 's3'} storage
 */
const parquetSubdir = (storage) => PARQUET_SUBDIRS[storage];
/**
 * --compact: what each round triggers, in order (every tier, then each tier alone, so a day whose
 * hours the hourly tier just merged is a daily candidate), and the rounds at most: a round that
 * queues no job ends it.
 */
const COMPACT_SCOPES = /** @type {const} */ ([{}, { tier: 'live' }, { tier: 'hourly' }, { tier: 'daily' }]);
const COMPACT_ROUNDS_MAX = 3;
/** --compact: the scheduled tiers first run this long after the server starts (see compactEnv). */
const SCHEDULE_DELAY_HOURS = 12;

/**
 * --compact: the server's hourly and daily schedules, both once a day SCHEDULE_DELAY_HOURS after
 * `nowMs` (UTC), so that no scheduled job compacts the data before the "before" timings; only
 * the triggers do. Next run within a day: a far date (say January 1st) could overflow a timer.
 * @param {number} nowMs
 */
export function compactEnv(nowMs) {
  const at = new Date(nowMs + SCHEDULE_DELAY_HOURS * 3_600_000);
  const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
  return { ARC_COMPACTION_HOURLY_SCHEDULE: cron, ARC_COMPACTION_DAILY_SCHEDULE: cron };
}

export const USAGE = `usage: node bench/query/query.mjs [options]
  --spawn               start the built server (node <server-entry> serve) on a free port in a
                        fresh temp data dir with a generated token; SIGTERM it at the end
  --url URL             an already running server instead (default http://127.0.0.1:8000)
  --token T             bearer token with write, flush (admin) and query rights (default $ARC_TOKEN)
  --data-dir DIR        with --url: the server's storage.data_dir (Parquet under DIR/arc), needed
                        for --verify and the in-process DuckDB timings
  --database NAME       database written and queried (default bench_query)
  --format F            write path: columnar (msgpack, default) | lp (line protocol)
  --batch N             rows per write request (default 5000)
  --connections N       concurrent write requests (default 4)
  --hosts N             TSBS hosts (default 100; at least ${HOSTS_MIN})
  --hours N             hours of data from 2016-01-01T00:00:00Z (default 12)
  --seed N              seed of the data and of the query parameters (default ${DEFAULT_SEED})
  --runs N              timed runs per query, after --warmup untimed ones (default 20)
  --warmup N            untimed runs per query first (default 1)
  --queries LIST        comma-separated TSBS names or "all" (default all); also lastpoint-cache
                        (lastpoint from the last-value cache, which the bench creates; not in "all")
  --verify              compare every answer with DuckDB in-process over the same Parquet files
  --no-local            skip the in-process DuckDB runs (no duckdb_ms; not with --verify)
  --explain             EXPLAIN ANALYZE one run of each query, in-process and through Arc (its
                        pruned plan): total time and files read in the line, profiles on stderr
  --duckdb-threads N    threads of the in-process DuckDB (default 2, Arc's query.duckdb_threads)
  --compact             after the queries, compact every tier (POST /api/compaction/trigger), wait
                        for the jobs, run the queries again: before / after times, and every
                        answer after must equal the one before (else exit 1)
  --compact-timeout S   seconds the compaction jobs may take (default 600)
  --cold-node           with --storage s3: after the queries, start a second node with a fresh data
                        dir (an empty cache) on the same bucket and prefix, and time its first run
                        of each query (each fetches what the cache lacks; checked with --verify)
${STORAGE_USAGE}
  --smoke               CI smoke: ${SMOKE_SCALE.hosts} hosts x ${SMOKE_SCALE.hours} h, ${SMOKE_RUNS} runs per query, --verify
  --server-entry FILE   server entry for --spawn (default packages/cli/dist/main.js)
  --keep-data           with --spawn: keep the temp data dir (path printed to stderr)
  --ready-timeout S     seconds to wait for GET /ready (default 60)
  --count-timeout S     seconds to wait for count(*) to reach the rows written (default 120)
  --query-timeout S     seconds one query may take over HTTP (default 300)
  --out FILE            also append the JSON lines to FILE
  --json                only JSON lines on stdout; no progress on stderr
  --help`;

export { UsageError };

/**
 * @typedef {{
 *   spawn: boolean, url: string, token: string, dataDir: string | null, database: string,
 *   format: 'columnar' | 'lp', batch: number, connections: number, hosts: number, hours: number,
 *   seed: number, runs: number, warmup: number, queries: import('./tsbs-queries.mjs').QueryName[],
 *   verify: boolean, local: boolean, explain: boolean, duckdbThreads: number, smoke: boolean,
 *   compact: boolean, compactTimeout: number, coldNode: boolean,
 *   serverEntry: string, keepData: boolean, readyTimeout: number, countTimeout: number,
 *   queryTimeout: number, out: string | null, json: boolean,
 * } & import('../lib/s3-target.mjs').StorageOptions} Options
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
      spawn: { type: 'boolean', default: false },
      url: { type: 'string', default: 'http://127.0.0.1:8000' },
      token: { type: 'string' },
      'data-dir': { type: 'string' },
      database: { type: 'string', default: 'bench_query' },
      format: { type: 'string', default: 'columnar' },
      batch: { type: 'string', default: '5000' },
      connections: { type: 'string', default: '4' },
      hosts: { type: 'string' },
      hours: { type: 'string' },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      runs: { type: 'string' },
      warmup: { type: 'string', default: '1' },
      queries: { type: 'string', default: 'all' },
      verify: { type: 'boolean', default: false },
      'no-local': { type: 'boolean', default: false },
      explain: { type: 'boolean', default: false },
      'duckdb-threads': { type: 'string', default: '2' },
      smoke: { type: 'boolean', default: false },
      compact: { type: 'boolean', default: false },
      'compact-timeout': { type: 'string', default: '600' },
      'cold-node': { type: 'boolean', default: false },
      ...STORAGE_ARG_OPTIONS,
      'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
      'keep-data': { type: 'boolean', default: false },
      'ready-timeout': { type: 'string', default: '60' },
      'count-timeout': { type: 'string', default: '120' },
      'query-timeout': { type: 'string', default: '300' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const format = /** @type {'columnar' | 'lp'} */ (values.format);
  if (!WRITE_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${WRITE_FORMATS.join(', ')}, got ${values.format}`);
  const smoke = Boolean(values.smoke);
  const scale = smoke ? SMOKE_SCALE : FULL_SCALE;
  let queries;
  try {
    queries = parseQueryList(String(values.queries));
  } catch (err) {
    throw new UsageError(`--queries: ${err instanceof Error ? err.message : String(err)}`);
  }
  const verify = Boolean(values.verify) || smoke;
  const local = !values['no-local'];
  if (verify && !local) throw new UsageError('--verify needs the in-process DuckDB runs: drop --no-local');
  const spawn = Boolean(values.spawn);
  const dataDir = values['data-dir'] === undefined ? null : path.resolve(values['data-dir']);
  if (!spawn && local && dataDir === null) {
    throw new UsageError('--url needs --data-dir (the server storage.data_dir) for the in-process runs and --verify, or --no-local');
  }
  const storage = parseStorageOptions(values, spawn);
  const coldNode = Boolean(values['cold-node']);
  if (coldNode && storage.storage !== 's3') throw new UsageError('--cold-node needs --storage s3 (a second node reads the first one\'s files from the bucket)');
  return {
    spawn,
    ...storage,
    coldNode,
    url: String(values.url).replace(/\/+$/, ''),
    token: values.token ?? process.env.ARC_TOKEN ?? '',
    dataDir,
    database: String(values.database),
    format,
    batch: integerOption('batch', values.batch, 1),
    connections: integerOption('connections', values.connections, 1),
    hosts: integerOption('hosts', values.hosts ?? String(scale.hosts), HOSTS_MIN),
    hours: integerOption('hours', values.hours ?? String(scale.hours), 1),
    seed: integerOption('seed', values.seed, 0),
    runs: integerOption('runs', values.runs ?? String(smoke ? SMOKE_RUNS : 20), 1),
    warmup: integerOption('warmup', values.warmup, 0),
    queries,
    verify,
    local,
    explain: Boolean(values.explain),
    duckdbThreads: integerOption('duckdb-threads', values['duckdb-threads'], 1),
    smoke,
    compact: Boolean(values.compact),
    compactTimeout: numberOption('compact-timeout', values['compact-timeout'], 1),
    serverEntry: path.resolve(String(values['server-entry'])),
    keepData: Boolean(values['keep-data']),
    readyTimeout: numberOption('ready-timeout', values['ready-timeout'], 1),
    countTimeout: numberOption('count-timeout', values['count-timeout'], 1),
    queryTimeout: numberOption('query-timeout', values['query-timeout'], 1),
    out: values.out ?? null,
    json: Boolean(values.json),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP: one keep-alive connection (node:http), timed from the request to the last byte

/**
 * @typedef {{ status: number, headers: http.IncomingHttpHeaders, body: Buffer, ms: number }} HttpAnswer
 */

/**
 * @param {http.Agent} agent
 * @param {URL} base
 * @param {string} method
 * @param {string} pathname
 * @param {Record<string, string>} headers
 * @param {Buffer | null} body
 * @param {number} timeoutMs
 * @returns {Promise<HttpAnswer>}
 */
function httpRequest(agent, base, method, pathname, headers, body, timeoutMs) {
  return sendRequest(agent, base, method, pathname, headers, body, timeoutMs, true);
}

/**
 * One request. A keep-alive socket the server closed while idle (the in-process runs and checks
 * between two requests can outlast its idle timeout on a loaded machine) fails the next request
 * sent on it with ECONNRESET before any answer: such a request is sent once more, on a new
 * socket, and timed from then (Node's documented `reusedSocket` pattern).
 * @param {http.Agent} agent
 * @param {URL} base
 * @param {string} method
 * @param {string} pathname
 * @param {Record<string, string>} headers
 * @param {Buffer | null} body
 * @param {number} timeoutMs
 * @param {boolean} retryReset
 * @returns {Promise<HttpAnswer>}
 */
function sendRequest(agent, base, method, pathname, headers, body, timeoutMs, retryReset) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: Number(base.port || 80),
        method,
        path: pathname,
        headers: { ...headers, 'content-length': String(body?.length ?? 0) },
      },
      (res) => {
        /** @type {Buffer[]} */
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - t0 }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${pathname}: no answer after ${timeoutMs / 1000} s`)));
    req.on('error', (err) => {
      const reset = /** @type {NodeJS.ErrnoException} */ (err).code === 'ECONNRESET';
      if (retryReset && reset && req.reusedSocket) sendRequest(agent, base, method, pathname, headers, body, timeoutMs, false).then(resolve, reject);
      else reject(err);
    });
    req.end(body ?? undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// Load phase: the TSBS rows through Arc's ingest path

/**
 * Writes hosts x hours x 360 rows, `batch` rows per request, `connections` requests in flight;
 * 503/429 (back-pressure) are retried, anything else but 204 fails the benchmark.
 * @param {Options} o
 * @param {{ agent: http.Agent, base: URL, token: string, log: (s: string) => void }} ctx
 */
async function writeDataset(o, ctx) {
  const total = o.hosts * o.hours * INSTANTS_PER_HOUR;
  const gen = new TsbsCpu({ hosts: o.hosts, seed: o.seed });
  const headers = {
    authorization: `Bearer ${ctx.token}`,
    'x-arc-database': o.database,
    'content-type': CONTENT_TYPES[o.format],
  };
  let next = 0;
  let retries = 0;
  const t0 = performance.now();
  const sender = async () => {
    while (next < total) {
      const n = Math.min(o.batch, total - next);
      next += n;
      const body = encode(o.format, gen.next(n), gen.tags);
      for (let backoff = WRITE_BACKOFF_MS; ; backoff = Math.min(2 * backoff, WRITE_BACKOFF_MAX_MS)) {
        const res = await httpRequest(ctx.agent, ctx.base, 'POST', DEFAULT_PATHS[o.format], headers, body, o.queryTimeout * 1000);
        if (res.status === 204) break;
        if (res.status !== 503 && res.status !== 429) {
          throw new Error(`POST ${DEFAULT_PATHS[o.format]} -> ${res.status}: ${res.body.toString('utf8', 0, 300)}`);
        }
        retries++;
        // The pause before a retry is the client's backoff policy, not a wait for an event.
        await sleep(backoff);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, sender));
  const writeS = (performance.now() - t0) / 1000;
  const fl = await flush(ctx.base.origin, ctx.token);
  if (fl.status < 200 || fl.status >= 300) throw new Error(`POST /write/flush -> ${fl.status}: ${fl.error}`);
  return { rows: total, write_s: round(writeS, 2), rows_per_s: Math.round(total / writeS), retries, flush_ms: round(fl.ms, 1) };
}

/**
 * Polls `SELECT count(*) FROM cpu` until it answers `rows`.
 * @param {Options} o
 * @param {string} url
 * @param {string} token
 * @param {number} rows
 */
async function waitForRows(o, url, token, rows) {
  const deadline = Date.now() + o.countTimeout * 1000;
  let last = '';
  while (Date.now() < deadline) {
    const c = await countRows(url, token, o.database);
    if (c.n === rows) return;
    if (c.n !== null && c.n > rows) throw new Error(`database ${o.database} holds ${c.n} cpu rows, more than the ${rows} written (use a fresh --database)`);
    last = c.n === null ? `count failed (${c.status}): ${c.error}` : `count ${c.n}`;
    // The server's count is polled: across HTTP there is no event to wait on.
    await sleep(200);
  }
  throw new Error(`count(*) did not reach ${rows} within ${o.countTimeout} s (last: ${last})`);
}

// ---------------------------------------------------------------------------------------------
// In-process DuckDB over the same Parquet files (the view Arc's query threads define)

/**
 * `anyDepth` (--compact): the files at any depth below the measurement, hour files and the
 * daily tier's files in the day directories alike.
 * @param {string} parquetRoot <data_dir>/arc
 * @param {string} database
 * @param {number} threads
 * @param {boolean} anyDepth
 */
async function openLocalDuckDB(parquetRoot, database, threads, anyDepth) {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const connection = await instance.connect();
  await connection.run(`SET TimeZone = 'UTC'`);
  const glob = anyDepth ? path.join(parquetRoot, database, 'cpu', '**', '*.parquet') : path.join(parquetRoot, database, 'cpu', '*', '*', '*', '*', '*.parquet');
  await connection.run(`CREATE VIEW cpu AS SELECT * FROM read_parquet(${quoteLiteral(glob)}, union_by_name = true)`);
  return {
    glob,
    files: countParquetFiles(path.join(parquetRoot, database, 'cpu')),
    /** @param {string} sql */
    async run(sql) {
      const t0 = performance.now();
      const reader = await connection.runAndReadAll(sql);
      const ms = performance.now() - t0;
      const columns = reader.columnNames();
      const types = reader.columnTypes().map((t) => t.toString());
      return { ms, answer: answerFromDuckDB(columns, types, reader.getRows()) };
    },
    /**
     * DuckDB's EXPLAIN ANALYZE of `sql`: the profile text, its total time and the Parquet files
     * its scans opened (the `Total Files Read` of each TABLE_SCAN, summed).
     * @param {string} sql
     */
    async explainAnalyze(sql) {
      const reader = await connection.runAndReadAll(`EXPLAIN ANALYZE ${sql}`);
      const text = reader
        .getRows()
        .map((row) => String(row[1] ?? ''))
        .join('\n');
      return { text, ...profileFigures(text) };
    },
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Arc's own EXPLAIN ANALYZE of `sql` (the plan it runs after its rewrites, such as time pruning).
 * @param {{ agent: http.Agent, base: URL }} ctx
 * @param {Record<string, string>} headers
 * @param {string} sql
 * @param {number} timeoutS
 */
async function explainThroughArc(ctx, headers, sql, timeoutS) {
  const request = Buffer.from(JSON.stringify({ sql: `EXPLAIN ANALYZE ${sql}`, format: 'json' }));
  const res = await httpRequest(ctx.agent, ctx.base, 'POST', '/query', headers, request, timeoutS * 1000);
  const text = res.body.toString('utf8');
  if (res.status !== 200) return { text: `${res.status}: ${text.slice(0, 300)}`, total_ms: null, files_read: null };
  /** @type {any} */
  const body = JSON.parse(text);
  const profile = (Array.isArray(body.data) ? body.data : []).map((/** @type {unknown[]} */ row) => String(row.at(-1) ?? '')).join('\n');
  return { text: profile, ...profileFigures(profile) };
}

/**
 * Total time and files read of an EXPLAIN ANALYZE text profile (null when DuckDB printed none).
 * @param {string} text
 */
export function profileFigures(text) {
  const total = /Total Time: ([0-9.]+)s/.exec(text);
  let files = null;
  for (const m of text.matchAll(/Total Files Read: (\d+)/g)) files = (files ?? 0) + Number(m[1]);
  return { total_ms: total ? round(Number(total[1]) * 1000, 2) : null, files_read: files };
}

/**
 * Parquet files below a measurement directory (what the view's glob reads).
 * @param {string} dir
 * @returns {number}
 */
function countParquetFiles(dir) {
  let n = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Query phase

/**
 * The fixed cost of a query answered over HTTP, measured like the TSBS queries: reads no file.
 * Its line (query `select-1`) is not part of the summary's comparisons.
 */
export const BASELINE_QUERY = 'select-1';
const BASELINE_SQL = 'SELECT 1 AS one';

/**
 * --compact: Arc's answers before compaction by SQL text (`record`), then each answer after it
 * compared with the one to the same SQL (`check`).
 * @typedef {{ mode: 'record' | 'check', bySql: Map<string, import('./answers.mjs').Answer> }} AnswerLog
 */

/**
 * Creates the last-value cache lastpoint-cache reads (seeded from the rows just written); one kept
 * from an earlier run over the same database (409) is used as it is.
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @param {(s: string) => void} log
 */
async function createLastCache(url, token, database, log) {
  const response = await fetch(`${url}/api/v3/configure/last_cache`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ db: database, ...LAST_CACHE_SPEC }),
  });
  const text = await response.text();
  if (response.status !== 201 && response.status !== 409) throw new Error(`creating the last-value cache failed: ${response.status} ${text}`);
  log(response.status === 201 ? `last-value cache created: ${text}` : `last-value cache '${LAST_CACHE_SPEC.name}' exists already`);
}

/**
 * Times one query name: `--warmup` untimed runs, then `--runs` timed ones over HTTP, one right
 * after the other on one keep-alive connection, as TSBS sends its queries; then (unless
 * --no-local) each run's SQL in-process, answers compared with --verify (and with `ctx.answers`).
 * Nothing runs between two requests: an in-process run, a check or a read of /proc between them
 * left the server's threads idle for tens of ms, and a request after such a pause took about
 * twice as long (`SELECT 1` 2.6 ms against 1.3 ms back to back, 300 requests each, load ~15),
 * which made this harness's fixed cost ~3x that of select-one.mjs. The server's CPU is read
 * before the first timed request and after the last one.
 * @param {Options} o
 * @param {string} name
 * @param {() => { sql: string, localSql?: string, ordered: boolean }} nextQuery fresh parameters for each run
 * @param {{ agent: http.Agent, base: URL, token: string, serverPid: number | null,
 *   local: Awaited<ReturnType<typeof openLocalDuckDB>> | null, log: (s: string) => void,
 *   answers?: AnswerLog }} ctx
 */
async function benchQuery(o, name, nextQuery, ctx) {
  const headers = { authorization: `Bearer ${ctx.token}`, 'x-arc-database': o.database, 'content-type': 'application/json' };
  const sent = await sendRuns(o, nextQuery, ctx, headers);
  /** @type {number[]} */
  const httpMs = [];
  /** @type {number[]} */
  const localMs = [];
  /** @type {number[]} */
  const serverMs = [];
  /** @type {number[]} */
  const rows = [];
  /** @type {number[]} */
  const bytes = [];
  let cacheHits = 0;
  let errors = 0;
  let mismatches = 0;
  let changedByCompaction = 0;
  /** @type {string | null} */
  let firstProblem = null;
  /** @type {{ text: string, total_ms: number | null, files_read: number | null } | null} */
  let explained = null;
  /** @type {{ text: string, total_ms: number | null, files_read: number | null } | null} */
  let arcExplained = null;
  for (const [i, { q, res, timed }] of sent.runs.entries()) {
    /** @type {any} */
    let body = null;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      /* reported below */
    }
    if (res.status !== 200 || body === null || body.success !== true) {
      errors++;
      firstProblem ??= `run ${i}: ${res.status} ${res.body.toString('utf8', 0, 300)} (SQL: ${q.sql})`;
      continue;
    }
    if (res.headers['x-arc-cache'] === 'hit') cacheHits++;
    if (timed) {
      httpMs.push(res.ms);
      rows.push(Number(body.row_count ?? body.data?.length ?? 0));
      bytes.push(res.body.length);
      if (typeof body.execution_time_ms === 'number') serverMs.push(body.execution_time_ms);
    }
    /** @type {import('./answers.mjs').ValueKind[] | null} */
    let kinds = null;
    if (ctx.local) {
      const mine = await ctx.local.run(q.localSql ?? q.sql);
      kinds = mine.answer.kinds;
      if (timed) localMs.push(mine.ms);
      if (o.verify) {
        const problem = compareAnswers(mine.answer, answerFromArcJson(body, mine.answer.kinds), q.ordered);
        if (problem !== null) {
          mismatches++;
          firstProblem ??= `run ${i}: ${problem} (SQL: ${q.sql})`;
        }
      }
      if (o.explain && explained === null && timed) explained = await ctx.local.explainAnalyze(q.sql);
    }
    if (o.explain && arcExplained === null && timed) arcExplained = await explainThroughArc(ctx, headers, q.sql, o.queryTimeout);
    if (ctx.answers) {
      const problem = logAnswer(ctx.answers, q, body, kinds);
      if (problem !== null) {
        changedByCompaction++;
        firstProblem ??= `run ${i}: after compaction: ${problem} (SQL: ${q.sql})`;
      }
    }
  }
  if (explained !== null) ctx.log(`--- EXPLAIN ANALYZE ${name} (in-process) ---\n${explained.text}`);
  if (arcExplained !== null) ctx.log(`--- EXPLAIN ANALYZE ${name} (through Arc) ---\n${arcExplained.text}`);
  const sorted = Float64Array.from(httpMs).sort();
  const localSorted = Float64Array.from(localMs).sort();
  const med = median(httpMs);
  const localMed = median(localMs);
  const serverMed = median(serverMs);
  return {
    query: name,
    storage: o.storage,
    runs: httpMs.length,
    median_ms: med === null ? null : round(med, 2),
    p95_ms: percentile(sorted, 0.95),
    min_ms: sorted.length ? round(/** @type {number} */ (sorted[0]), 2) : null,
    runs_ms: httpMs.map((ms) => round(ms, 2)),
    rows: median(rows),
    response_bytes: median(bytes),
    server_execution_ms: serverMed === null ? null : round(serverMed, 2),
    server_cpu_ms_per_query: sent.cpuTicks !== null && sent.timedRuns > 0 ? round((sent.cpuTicks * 1000) / CLK_TCK / sent.timedRuns, 1) : null,
    duckdb_in_process_ms: localMed === null ? null : round(localMed, 2),
    duckdb_in_process_p95_ms: percentile(localSorted, 0.95),
    http_json_overhead_ms: med !== null && localMed !== null ? round(med - localMed, 2) : null,
    verified: o.verify ? mismatches === 0 && errors === 0 : null,
    errors,
    mismatches,
    first_problem: firstProblem,
    ...(ctx.answers ? { phase: ctx.answers.mode === 'record' ? 'before-compaction' : 'after-compaction' } : {}),
    ...(ctx.answers?.mode === 'check' ? { same_as_before: changedByCompaction === 0 && errors === 0, changed_by_compaction: changedByCompaction } : {}),
    cache_hits: cacheHits,
    explain: o.explain
      ? {
          in_process: explained === null ? null : { total_ms: explained.total_ms, files_read: explained.files_read },
          arc: arcExplained === null ? null : { total_ms: arcExplained.total_ms, files_read: arcExplained.files_read },
        }
      : null,
    reference_ms: name in REFERENCE_MS ? REFERENCE_MS[/** @type {import('./tsbs-queries.mjs').QueryName} */ (name)] : null,
  };
}

/**
 * The HTTP half of benchQuery: `--warmup` then `--runs` requests back to back, each with fresh
 * parameters; the answers are kept for the checks that follow. `cpuTicks`: the server process
 * tree's CPU over the timed runs (null without its pid).
 * @param {Options} o
 * @param {() => { sql: string, localSql?: string, ordered: boolean }} nextQuery
 * @param {{ agent: http.Agent, base: URL, serverPid: number | null }} ctx
 * @param {Record<string, string>} headers
 */
async function sendRuns(o, nextQuery, ctx, headers) {
  /** @type {{ q: ReturnType<typeof nextQuery>, res: HttpAnswer, timed: boolean }[]} */
  const runs = [];
  let cpuBefore = null;
  for (let i = 0; i < o.warmup + o.runs; i++) {
    const timed = i >= o.warmup;
    if (i === o.warmup && ctx.serverPid) cpuBefore = treeCpuTicks(ctx.serverPid);
    const q = nextQuery();
    const request = Buffer.from(JSON.stringify({ sql: q.sql, format: 'json' }));
    runs.push({ q, res: await httpRequest(ctx.agent, ctx.base, 'POST', '/query', headers, request, o.queryTimeout * 1000), timed });
  }
  const cpuAfter = ctx.serverPid ? treeCpuTicks(ctx.serverPid) : null;
  return { runs, timedRuns: o.runs, cpuTicks: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null };
}

/**
 * Records Arc's answer to `q` (before compaction) or compares it with the recorded one (after):
 * null when equal (as --verify compares: floats to 1e-9 relative, rows as a multiset where the
 * SQL fixes no order), else what differs. Without in-process runs (`kinds` null) every value
 * is compared as its JSON text.
 * @param {AnswerLog} log
 * @param {{ sql: string, ordered: boolean }} q
 * @param {{ columns?: unknown, data?: unknown }} body
 * @param {import('./answers.mjs').ValueKind[] | null} kinds
 * @returns {string | null}
 */
export function logAnswer(log, q, body, kinds) {
  const before = log.bySql.get(q.sql);
  const columnKinds = before?.kinds ?? kinds ?? (Array.isArray(body.columns) ? body.columns.map(() => /** @type {const} */ ('other')) : []);
  const answer = answerFromArcJson(body, columnKinds);
  if (log.mode === 'record') {
    log.bySql.set(q.sql, answer);
    return null;
  }
  if (before === undefined) return 'no answer before compaction to compare with';
  return compareAnswers(before, answer, q.ordered);
}

/**
 * --compact: triggers every tier of `database` (COMPACT_SCOPES) and waits for the jobs, round
 * after round until a round queues none; the jobs' totals. A failed job fails the benchmark.
 * @param {string} url
 * @param {string} token
 * @param {string} database
 * @param {number} timeoutS
 * @param {(s: string) => void} log
 */
async function compactDatabase(url, token, database, timeoutS, log) {
  const t0 = performance.now();
  /** @type {any[]} */
  const ended = [];
  let rounds = 0;
  while (rounds < COMPACT_ROUNDS_MAX) {
    rounds++;
    let queued = 0;
    for (const scope of COMPACT_SCOPES) {
      const jobs = await triggerCompaction(url, token, { database, ...scope });
      if (jobs.length === 0) continue;
      queued += jobs.length;
      log(`compaction: ${jobs.length} jobs for ${JSON.stringify({ database, ...scope })}`);
      ended.push(...(await waitForJobs(url, token, jobs.map((j) => String(j.id)), timeoutS)));
    }
    if (queued === 0) break;
  }
  const failed = ended.find((j) => j.state !== 'succeeded');
  if (failed) throw new Error(`compaction job ${failed.id} (${failed.tier} ${failed.partition}) ${failed.state}: ${failed.error}`);
  return { rounds, seconds: round((performance.now() - t0) / 1000, 2), ...jobTotals(ended) };
}

/**
 * The before/after line of --compact: each query's median before and after, their ratio, and
 * whether every answer after equalled the one before.
 * @param {readonly any[]} before
 * @param {readonly any[]} after
 * @param {Record<string, unknown>} compaction
 */
export function compactionSummary(before, after, compaction) {
  const queries = before.map((b) => {
    const a = after.find((l) => l.query === b.query);
    return {
      query: b.query,
      before_ms: b.median_ms,
      after_ms: a?.median_ms ?? null,
      after_over_before: a?.median_ms && b.median_ms ? round(a.median_ms / b.median_ms, 2) : null,
      same_answers: a ? a.same_as_before === true : false,
    };
  });
  return { summary: 'tsbs-compaction', queries, same_answers: queries.every((q) => q.same_answers), compaction };
}

/**
 * The closing line: Arc's medians against the reference medians.
 * @param {Options} o
 * @param {any[]} lines
 * @param {Record<string, unknown>} load
 */
export function summaryLine(o, lines, load) {
  const fullScale = o.hosts === FULL_SCALE.hosts && o.hours === FULL_SCALE.hours;
  /** @type {string[]} */
  const slowerThanInflux = [];
  /** @type {string[]} */
  const slowerThanClickHouse = [];
  // Variants (lastpoint-cache) are not TSBS queries: the target counts the TSBS ones only.
  const tsbsLines = lines.filter((line) => /** @type {readonly string[]} */ (QUERY_NAMES).includes(line.query));
  for (const line of tsbsLines) {
    if (line.median_ms === null) continue;
    if (line.median_ms >= line.reference_ms.influxdb_1_6_7) slowerThanInflux.push(line.query);
    if (line.median_ms > line.reference_ms.clickhouse_18_16) slowerThanClickHouse.push(line.query);
  }
  const measured = tsbsLines.filter((l) => l.median_ms !== null).length;
  const atMostClickHouse = measured - slowerThanClickHouse.length;
  const allQueries = tsbsLines.length === QUERY_NAMES.length && measured === tsbsLines.length;
  return {
    summary: 'tsbs-queries',
    storage: o.storage,
    hosts: o.hosts,
    hours: o.hours,
    rows: load.rows,
    write_format: o.format,
    runs_per_query: o.runs,
    queries: lines.length,
    verified: o.verify ? lines.every((l) => l.verified === true) : null,
    errors: lines.reduce((a, l) => a + l.errors, 0),
    cache_hits: lines.reduce((a, l) => a + l.cache_hits, 0),
    median_ms: Object.fromEntries(lines.map((l) => [l.query, l.median_ms])),
    duckdb_in_process_ms: Object.fromEntries(lines.map((l) => [l.query, l.duckdb_in_process_ms])),
    slower_than_influxdb_1_6_7: slowerThanInflux,
    slower_than_clickhouse_18_16: slowerThanClickHouse,
    at_most_clickhouse_18_16: atMostClickHouse,
    // The target (docs/benchmarks.md) holds for its scale and all 8 queries only.
    target_met: fullScale && allQueries ? slowerThanInflux.length === 0 && atMostClickHouse >= TARGET_AT_MOST_CLICKHOUSE : null,
    load,
    date: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpu: cpuModel(),
    cpus: os.cpus().length,
  };
}

/**
 * The test S3 server's figures of a phase, rounded for the JSON line.
 * @param {{ requests: ReturnType<typeof import('../lib/s3-target.mjs').countRequests>, daemon_cpu_seconds: number }} m
 */
function s3Figures(m) {
  return { requests: m.requests, daemon_cpu_seconds: round(m.daemon_cpu_seconds, 2) };
}

/**
 * Bytes and number of the files below `dir` (0 when it does not exist).
 * @param {string} dir
 */
function treeBytes(dir) {
  let files = 0;
  let bytes = 0;
  if (!fs.existsSync(dir)) return { files, bytes };
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).size;
  }
  return { files, bytes };
}

/**
 * --cold-node: a second node over the same bucket and prefix with a fresh data dir (nothing in its
 * cache), the same token; the first run of each query (the SQL the first node's first runs had:
 * a generator with the same seed) timed and verified against the in-process answers. Its line
 * `{"summary":"tsbs-cold-node",...}`: each first run's time, their total, the files the cache
 * fetched, and the node's S3 requests over the queries.
 * @param {Options} o
 * @param {{ env: Record<string, string>, token: string, prefix: string, probe: ReturnType<typeof s3ServerProbe>,
 *   local: Awaited<ReturnType<typeof openLocalDuckDB>> | null, log: (s: string) => void }} ctx
 */
async function coldNodeQueries(o, ctx) {
  const t0 = performance.now();
  const node = await spawnServer({ serverEntry: o.serverEntry, readyTimeout: o.readyTimeout, keepData: o.keepData, env: ctx.env, bootstrapToken: ctx.token }, ctx.log);
  const readyMs = performance.now() - t0;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const mark = ctx.probe?.mark() ?? null;
    const generator = new TsbsQueryGenerator({ hosts: o.hosts, hours: o.hours, seed: o.seed });
    const nodeContext = { agent, base: new URL(node.url), token: node.token, serverPid: node.pid, local: ctx.local, log: ctx.log };
    const firstRuns = { ...o, warmup: 0, runs: 1, explain: false };
    /** @type {any[]} */
    const lines = [];
    const tq = performance.now();
    for (const name of o.queries) {
      const line = await benchQuery(firstRuns, name, () => generator.next(name), nodeContext);
      if (node.exitedReason()) throw new Error(`the cold node exited during ${name}: ${node.exitedReason()}`);
      lines.push(line);
      ctx.log(`cold node ${name}: ${line.median_ms} ms` + (line.errors ? `, ERROR: ${line.first_problem}` : '') + (line.verified === false ? `, NOT VERIFIED: ${line.first_problem}` : ''));
    }
    const wallMs = performance.now() - tq;
    const s3 = ctx.probe && mark ? s3Figures(ctx.probe.measure(mark, ctx.prefix, CLK_TCK)) : null;
    const cache = treeBytes(path.join(node.dataDir, parquetSubdir('s3'), o.database));
    return {
      summary: 'tsbs-cold-node',
      storage: o.storage,
      hosts: o.hosts,
      hours: o.hours,
      queries: lines.length,
      node_ready_ms: round(readyMs, 1),
      cold_ms: Object.fromEntries(lines.map((l) => [l.query, l.median_ms])),
      total_cold_ms: round(lines.reduce((a, l) => a + (l.median_ms ?? 0), 0), 1),
      wall_ms: round(wallMs, 1),
      server_cpu_ms: Object.fromEntries(lines.map((l) => [l.query, l.server_cpu_ms_per_query])),
      errors: lines.reduce((a, l) => a + l.errors, 0),
      first_problem: lines.find((l) => l.first_problem)?.first_problem ?? null,
      verified: o.verify ? lines.every((l) => l.verified === true) : null,
      cache_files: cache.files,
      cache_bytes: cache.bytes,
      s3,
      date: new Date().toISOString(),
      commit: gitCommit(),
    };
  } finally {
    agent.destroy();
    await node.stop();
  }
}

/** 1, 5 and 15 minute load averages. */
function roundedLoad() {
  return os.loadavg().map((x) => round(x, 2));
}

/**
 * --compact's second half: compacts the database, checks the rows are all there, runs the
 * same queries (the same SQL: a generator with the same seed) and compares each answer with
 * the one before. True when every answer after equals the one before and none failed.
 * @param {Options} o
 * @param {Parameters<typeof benchQuery>[3] & { url: string, dataDir: string | null, expected: number,
 *   lines: any[], emit: (line: object) => void, isDead: () => string | null }} ctx
 */
async function afterCompaction(o, ctx) {
  const parquetDir = ctx.dataDir === null ? null : path.join(ctx.dataDir, parquetSubdir(o.storage), o.database, 'cpu');
  const filesBefore = parquetDir === null ? null : countParquetFiles(parquetDir);
  let compaction;
  try {
    compaction = await compactDatabase(ctx.url, ctx.token, o.database, o.compactTimeout, ctx.log);
  } catch (err) {
    if (err instanceof CompactionUnavailable) err.message = `--compact: ${err.message}`;
    throw err;
  }
  await waitForRows(o, ctx.url, ctx.token, ctx.expected);
  const filesAfter = parquetDir === null ? null : countParquetFiles(parquetDir);
  ctx.log(`compacted: ${JSON.stringify(compaction)}; Parquet files ${filesBefore} -> ${filesAfter}`);
  if (ctx.answers) ctx.answers.mode = 'check';
  const generator = new TsbsQueryGenerator({ hosts: o.hosts, hours: o.hours, seed: o.seed });
  const after = [];
  for (const name of o.queries) {
    const line = await benchQuery(o, name, () => generator.next(name), ctx);
    if (ctx.isDead()) throw new Error(`server exited during ${name} after compaction: ${ctx.isDead()}`);
    after.push(line);
    ctx.emit(line);
    ctx.log(`${name} after compaction: median ${line.median_ms} ms` + (line.same_as_before ? ', same answers' : `, ANSWERS CHANGED: ${line.first_problem}`));
  }
  const summary = { ...compactionSummary(ctx.lines, after, compaction), parquet_files_before: filesBefore, parquet_files_after: filesAfter, date: new Date().toISOString(), commit: gitCommit() };
  ctx.emit(summary);
  ctx.log(compactionTable(summary.queries));
  const verifiedAfter = !o.verify || after.every((l) => l.verified === true);
  return summary.same_answers && verifiedAfter && after.every((l) => l.errors === 0);
}

/**
 * The before/after table (stderr).
 * @param {ReturnType<typeof compactionSummary>['queries']} rows
 */
function compactionTable(rows) {
  const out = ['| query | before compaction ms | after ms | after / before | same answers |', '|---|---|---|---|---|'];
  for (const r of rows) out.push(`| ${r.query} | ${r.before_ms ?? '-'} | ${r.after_ms ?? '-'} | ${r.after_over_before ?? '-'} | ${r.same_answers ? 'yes' : 'NO'} |`);
  return out.join('\n');
}

/**
 * A human table of the lines (stderr).
 * @param {any[]} lines
 */
function table(lines) {
  /** @param {unknown} v */
  const cell = (v) => (v === null || v === undefined ? '-' : String(v));
  const out = ['| query | Arc median ms | p95 | in-process DuckDB | server exec | InfluxDB 1.6.7 | ClickHouse 18.16 | DuckDB (reference) | verified |', '|---|---|---|---|---|---|---|---|---|'];
  for (const l of lines) {
    out.push(
      `| ${l.query} | ${cell(l.median_ms)} | ${cell(l.p95_ms)} | ${cell(l.duckdb_in_process_ms)} | ${cell(l.server_execution_ms)} | ` +
        `${l.reference_ms.influxdb_1_6_7} | ${l.reference_ms.clickhouse_18_16} | ${l.reference_ms.duckdb_in_process} | ${cell(l.verified)} |`,
    );
  }
  return out.join('\n');
}

/** @param {string[]} argv */
export async function main(argv) {
  const parsed = parseCli(argv, parseOptions, USAGE);
  if (parsed.options === null) return parsed.exitCode;
  const o = parsed.options;
  const { log, emit } = cliOutput(o);

  /** @type {Awaited<ReturnType<typeof connectServer>> | null} */
  let server = null;
  /** @type {Awaited<ReturnType<typeof openLocalDuckDB>> | null} */
  let local = null;
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.connections });
  try {
    // Answers are timed uncached: repeated SQL (the 12 h queries over 12 h of data) must not
    // come from issue 4's query cache ([query_cache] enabled; an unknown ARC_ variable only warns).
    const prefix = o.s3 ? uniquePrefix(o.s3.prefixBase, 'query') : null;
    const probe = s3ServerProbe(o.s3ServerDir);
    const serverEnv = { ARC_QUERY_CACHE_ENABLED: 'false', ...(o.compact ? compactEnv(Date.now()) : {}), ...(o.spawn ? storageEnv(o, prefix) : {}) };
    server = await connectServer({ ...o, env: serverEnv }, log);
    if (prefix !== null && o.s3) log(`storage: s3 bucket ${o.s3.bucket} at ${o.s3.endpoint}, prefix ${prefix}` + (probe ? '' : ' (no --s3-server-dir: requests not counted)'));
    const { url, token, pid: serverPid } = server;
    const dataDir = server.dataDir ?? o.dataDir;
    const base = new URL(url);
    const expected = o.hosts * o.hours * INSTANTS_PER_HOUR;
    const before = await countRows(url, token, o.database);
    if (before.status === 0 || before.status === 401 || before.status === 403) {
      throw new Error(`query as the bench token failed with ${before.status}: ${before.error}`);
    }
    /** @type {Record<string, unknown>} */
    let load;
    if (before.n === expected) {
      log(`database ${o.database} already holds the ${expected} rows: not written again`);
      load = { rows: expected, written: false };
    } else if ((before.n ?? 0) > 0) {
      throw new Error(`database ${o.database} holds ${before.n} cpu rows, not the ${expected} of this scale (use a fresh --database)`);
    } else {
      log(`writing ${expected} rows (${o.hosts} hosts x ${o.hours} h) as ${o.format}, ${o.batch} rows per request -> ${url} db ${o.database}`);
      const loadMark = probe?.mark() ?? null;
      load = { ...(await writeDataset(o, { agent, base, token, log })), written: true };
      if (probe && loadMark && prefix) load.s3 = s3Figures(probe.measure(loadMark, prefix, CLK_TCK));
      await waitForRows(o, url, token, expected);
      log(`written and counted: ${JSON.stringify(load)}`);
    }
    if (o.queries.includes('lastpoint-cache')) await createLastCache(url, token, o.database, log);
    if (o.local) {
      if (dataDir === null) throw new UsageError('--data-dir is required for the in-process runs');
      local = await openLocalDuckDB(path.join(dataDir, parquetSubdir(o.storage)), o.database, o.duckdbThreads, o.compact);
      load.parquet_files = local.files;
      log(`in-process DuckDB (${o.duckdbThreads} threads) over ${local.files} Parquet files: ${local.glob}`);
    }
    const generator = new TsbsQueryGenerator({ hosts: o.hosts, hours: o.hours, seed: o.seed });
    // The machine may be shared: its load average frames the timings.
    const loadBefore = roundedLoad();
    /** @type {AnswerLog | undefined} */
    const answers = o.compact ? { mode: 'record', bySql: new Map() } : undefined;
    const benchContext = { agent, base, token, serverPid, local, log, ...(answers ? { answers } : {}) };
    const queryMark = probe?.mark() ?? null;
    const baseline = await benchQuery(o, BASELINE_QUERY, () => ({ sql: BASELINE_SQL, ordered: true }), benchContext);
    emit(baseline);
    log(`${BASELINE_QUERY}: median ${baseline.median_ms} ms (in-process ${baseline.duckdb_in_process_ms} ms): the cost of any query over HTTP`);
    const lines = [];
    for (const name of o.queries) {
      const line = await benchQuery(o, name, () => generator.next(name), benchContext);
      if (server.exitedReason()) throw new Error(`server exited during ${name}: ${server.exitedReason()}`);
      lines.push(line);
      emit(line);
      log(
        `${name}: median ${line.median_ms} ms (in-process ${line.duckdb_in_process_ms} ms), ${line.rows} rows` +
          (line.verified === null ? '' : line.verified ? ', verified' : `, NOT VERIFIED: ${line.first_problem}`),
      );
    }
    const s3Queries = probe && queryMark && prefix ? s3Figures(probe.measure(queryMark, prefix, CLK_TCK)) : null;
    const summary = { ...summaryLine(o, lines, load), select_1_ms: baseline.median_ms, s3: s3Queries, load_average: { before: loadBefore, after: roundedLoad() } };
    emit(summary);
    log(table(lines));
    if (summary.cache_hits > 0) log(`warning: ${summary.cache_hits} answers came from Arc's query cache`);
    let beforeOk = summary.errors === 0 && baseline.errors === 0 && summary.verified !== false && baseline.verified !== false;
    if (o.coldNode && prefix !== null) {
      const cold = await coldNodeQueries(o, { env: serverEnv, token, prefix, probe, local, log });
      emit(cold);
      log(`cold node: ${cold.total_cold_ms} ms for the first run of ${cold.queries} queries; ${cold.cache_files} files (${cold.cache_bytes} B) fetched`);
      beforeOk &&= cold.errors === 0 && cold.verified !== false;
    }
    if (!o.compact) return beforeOk ? 0 : 1;
    const compared = await afterCompaction(o, { ...benchContext, url, dataDir, expected, lines, emit, isDead: () => server?.exitedReason() ?? null });
    return beforeOk && compared ? 0 : 1;
  } catch (err) {
    process.stderr.write(`query: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 3;
  } finally {
    agent.destroy();
    local?.close();
    await server?.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
