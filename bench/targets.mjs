#!/usr/bin/env node
// @ts-check
// The performance targets of docs/benchmarks.md in one table: runs each benchmark of bench/ that
// measures a target (each prints JSON lines; this script only spawns them and reads those lines),
// or reads the lines an earlier run recorded (--from), and prints one row per target: the
// measured value, the target, the ratio (>= 1 means met, whichever way the target points) and
// met / not met. A target whose benchmark cannot run here says "not run" and why.
//
//   node bench/targets.mjs                          # the full runs (make bench: over an hour)
//   node bench/targets.mjs --smoke                  # seconds-long runs, 1 each (CI: make bench-smoke)
//   node bench/targets.mjs --from bench/results/targets.jsonl   # the table of a recorded run
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT, describeError, gitCommit, median, round, spawnServer, DEFAULT_SERVER_ENTRY } from './lib/arc-server.mjs';
import { UsageError, parseCli } from './lib/cli.mjs';
import { QUERY_NAMES } from './query/tsbs-queries.mjs';

export const USAGE = `usage: node bench/targets.mjs [options]
  --smoke           seconds-long runs, one of each (CI): proves every benchmark still works;
                    the figures mean nothing
  --from FILE       no runs: the table of the lines a run recorded with --out
  --jobs LIST       run only these benchmarks (comma-separated job names; see --list)
  --list            print the jobs and the targets they measure, then exit
  --out FILE        record every benchmark line and job status (JSON lines; rewritten)
  --json            print one JSON line per target and a summary line instead of the table
  --help
Exit status: 0 when every benchmark ran (met or not), 1 when one broke, 2 bad usage.`;

/** GiB in bytes (the RSS target). */
const GIB = 1024 ** 3;
/**
 * "Flat" as a number. RSS: the least-squares line through the samples after the warm-up rises
 * by at most this much over the run (a garbage-collected heap breathes by a few percent; a leak
 * under 10 minutes of peak load grows without end). Query time over the live hour: the last
 * sample at most this many times the first (the 5-minute runs of docs/benchmarks.md vary by
 * ~1.3x from sample to sample on this shared machine; 2,000 files instead of 20 cost 26x).
 */
export const RSS_GROWTH_PCT_MAX = 10;
export const QUERY_TIME_GROWTH_MAX = 1.5;
/** The TSBS queries (bench/query/tsbs-queries.mjs) and how many must be at most ClickHouse's time. */
const TSBS_QUERY_COUNT = 8;
const TSBS_AT_MOST_CLICKHOUSE = 6;
/** Catalog sizes compared by the SHOW TABLES / planning target (the smoke's large one: linking 10,000 files takes ~25 s here). */
const CATALOG_SMALL = 10;
const CATALOG_LARGE = 10_000;
const CATALOG_LARGE_SMOKE = 1_000;

// ---------------------------------------------------------------------------------------------
// The jobs: one benchmark command each (several processes for a median over processes)

/**
 * @typedef {{ lines: any[], exitCode: number | null, error: string | null, seconds: number,
 *   argv: string[] | null, notRun: string | null }} JobResult `notRun`: why the job did not run
 * @typedef {Map<string, JobResult>} Results
 * @typedef {{ url: string, token: string, pid: number } | null} SharedServer the smoke's one
 *   server for the benchmarks that can use a running one (a spawn costs ~5 s here)
 * @typedef {{ id: string, script: string, processes: number,
 *   argv: (results: Results, shared: SharedServer) => string[] | { notRun: string } }} Job
 */

/**
 * The ingest runs' common options: full runs spawn a fresh server each, 30 s, median of 3; the
 * smoke's run 2 s against the shared server with a small pool (each database its own).
 * @param {boolean} smoke
 * @param {string} id
 * @param {SharedServer} shared
 */
function ingestCommon(smoke, id, shared) {
  if (!smoke) return ['--spawn', '--connections', '8', '--seconds', '30', '--runs', '3', '--json'];
  const server = shared === null ? ['--spawn'] : ['--url', shared.url, '--token', shared.token, '--server-pid', String(shared.pid)];
  return [...server, '--database', `targets_${id.replaceAll('-', '_')}`, '--connections', '4', '--seconds', '2', '--pool-rows', '20000', '--json'];
}

/**
 * The jobs of a mode, in run order. `env` decides whether the S3 ones can run.
 * @param {{ smoke: boolean, env?: NodeJS.ProcessEnv }} mode
 * @returns {Job[]}
 */
export function jobPlan({ smoke, env = process.env }) {
  const s3Missing = (env.ARC_TEST_S3_ENDPOINT ?? '') === '' ? 'no test S3 server (ARC_TEST_S3_ENDPOINT unset; make bench starts one with scripts/s3-server.sh when it can)' : null;
  /**
   * @param {string} id
   * @param {string[]} args
   * @returns {Job}
   */
  const ingest = (id, args) => ({ id, script: 'bench/ingest/ingest.mjs', processes: 1, argv: (_results, shared) => [...ingestCommon(smoke, id, shared), ...args] });
  const spawnedIngest = (/** @type {string} */ id, /** @type {string[]} */ args) => ({ ...ingest(id, args), argv: () => [...ingestCommon(smoke, id, null), ...args] });
  return [
    ingest('ingest-columnar', ['--format', 'columnar', '--batch', '5000']),
    ingest('ingest-arc-go', ['--format', 'columnar', '--shape', 'arc-go', '--batch', '1000']),
    ingest('ingest-rows', ['--format', 'rows', '--batch', '5000']),
    ingest('ingest-lp', ['--format', 'lp', '--batch', '5000']),
    ingest('ingest-json', ['--format', 'json', '--batch', '5000']),
    spawnedIngest('ingest-wal', ['--wal', 'fdatasync', '--format', 'columnar', '--batch', '5000']),
    ingest('ingest-peak-1000', ['--format', 'columnar', '--batch', '1000']),
    {
      ...ingest('ingest-half-peak-1000', []),
      argv: (results, shared) => {
        const peak = medianRunFigure(results.get('ingest-peak-1000'), (l) => l.rows_per_s);
        if (peak === null) return { notRun: 'needs the peak of ingest-peak-1000, which has no figure' };
        return [...ingestCommon(smoke, 'ingest-half-peak-1000', shared), '--format', 'columnar', '--batch', '1000', '--rate', String(Math.round(peak / 2))];
      },
    },
    smoke
      ? ingest('ingest-rss', ['--format', 'columnar', '--batch', '5000'])
      : { ...ingest('ingest-rss', []), argv: () => ['--spawn', '--connections', '8', '--seconds', '600', '--runs', '1', '--json', '--format', 'columnar', '--batch', '5000'] },
    { id: 'query', script: 'bench/query/query.mjs', processes: 1, argv: () => ['--spawn', smoke ? '--smoke' : '--verify', '--compact', '--queries', [...QUERY_NAMES, 'lastpoint-cache'].join(','), '--json'] },
    {
      id: 'select-one',
      script: 'bench/query/select-one.mjs',
      processes: smoke ? 1 : 3,
      argv: (_results, shared) => (smoke && shared !== null ? ['--requests', '200', '--warmup', '20', '--url', shared.url, '--token', shared.token] : []),
    },
    { id: 'catalog', script: 'bench/catalog.mjs', processes: 1, argv: () => ['--runs', smoke ? '2' : '20', '--sizes', `${CATALOG_SMALL},${smoke ? CATALOG_LARGE_SMOKE : CATALOG_LARGE}`, '--start-files', '0'] },
    { id: 'query-encode', script: 'bench/query-encode.mjs', processes: 1, argv: () => (smoke ? ['20000', '--runs', '1'] : ['1000000', '--runs', '5']) },
    { id: 'compaction', script: 'bench/compaction/compaction.mjs', processes: 1, argv: () => (smoke ? ['--smoke', '--json'] : ['--minutes', '10', '--plot', 'docs/img/compaction.png', '--json']) },
    {
      id: 'compaction-saturate',
      script: 'bench/compaction/compaction.mjs',
      processes: 1,
      argv: () => (smoke ? ['--smoke', '--saturate', '--json'] : ['--saturate', '--seconds', '60', '--runs', '3', '--json']),
    },
    {
      ...spawnedIngest('ingest-s3', ['--storage', 's3', '--format', 'columnar', '--batch', '5000']),
      argv: () => (s3Missing ? { notRun: s3Missing } : [...ingestCommon(smoke, 'ingest-s3', null), '--storage', 's3', '--format', 'columnar', '--batch', '5000']),
    },
    {
      id: 'query-s3',
      script: 'bench/query/query.mjs',
      processes: 1,
      argv: () => (s3Missing ? { notRun: s3Missing } : ['--spawn', '--storage', 's3', '--verify', '--json', ...(smoke ? ['--smoke', '--cold-node'] : [])]),
    },
  ];
}

/** Jobs that use the smoke's shared server (the others spawn their own or need none). */
const SHARED_SERVER_JOBS = new Set(['ingest-columnar', 'ingest-arc-go', 'ingest-rows', 'ingest-lp', 'ingest-json', 'ingest-peak-1000', 'ingest-half-peak-1000', 'ingest-rss', 'select-one']);

// ---------------------------------------------------------------------------------------------
// The targets: what each row measures, from which job's lines

/**
 * @typedef {'>=' | '<='} Direction
 * @typedef {'rows/s' | 'rows/cpu-s' | 'ratio' | 'ms' | 'bytes' | 'pct' | 'queries' | 'files' | 'rows/s encoded'} Unit
 * @typedef {{ value: number, note?: string } | { notRun: string } | { error: string }} Measurement
 * @typedef {{ id: string, docsRow: string, benchmark: string, direction: Direction, threshold: number,
 *   unit: Unit, jobs: string[], measure: (results: Results) => Measurement }} Target `docsRow`: the
 *   row of docs/benchmarks.md's Targets table it measures (a test keeps every row measured)
 */

/**
 * The lines of a job that are runs, not summaries (an ingest median line has `summary`).
 * @param {JobResult | undefined} job
 */
function runLines(job) {
  return (job?.lines ?? []).filter((l) => l && typeof l === 'object' && !('summary' in l));
}

/**
 * The median over a job's run lines of `figure` (null figures left out), or null.
 * @param {JobResult | undefined} job
 * @param {(line: any) => number | null | undefined} figure
 */
export function medianRunFigure(job, figure) {
  const values = runLines(job)
    .map(figure)
    .filter((v) => typeof v === 'number' && Number.isFinite(v));
  return median(/** @type {number[]} */ (values));
}

/**
 * A target read from one figure of one job's run lines (median over the runs).
 * @param {string} job
 * @param {(line: any) => number | null | undefined} figure
 * @param {string} [what] the figure's name, for "no figure" errors
 * @returns {(results: Results) => Measurement}
 */
const medianOf = (job, figure, what = 'figure') => (results) => {
  const value = medianRunFigure(results.get(job), figure);
  const runs = runLines(results.get(job)).length;
  return value === null ? { error: `${job} printed no ${what}` } : { value, note: runs > 1 ? `median of ${runs}` : '1 run' };
};

/**
 * The run lines of query.mjs before any compaction (its --compact phase prints the queries again).
 * @param {JobResult | undefined} job
 */
function queriesBeforeCompaction(job) {
  return runLines(job).filter((l) => typeof l.query === 'string' && l.phase !== 'after-compaction' && l.query !== 'select-1');
}

/**
 * @param {JobResult | undefined} job
 * @param {string} summary
 */
function summaryLine(job, summary) {
  return (job?.lines ?? []).find((l) => l?.summary === summary) ?? null;
}

/** @type {Target[]} */
export const TARGETS = [
  {
    id: 'columnar',
    docsRow: 'msgpack columnar, TSBS cpu rows, 1,000-10,000 rows/request',
    benchmark: 'msgpack columnar, TSBS cpu rows, 5,000 rows/request',
    direction: '>=',
    threshold: 1_000_000,
    unit: 'rows/s',
    jobs: ['ingest-columnar'],
    measure: medianOf('ingest-columnar', (l) => l.rows_per_s, 'rows/s'),
  },
  {
    id: 'arc-go-rows-per-s',
    docsRow: "msgpack columnar, the Go version's row shape (5 columns), 1,000 rows/request",
    benchmark: 'msgpack columnar, Arc-Go row shape (5 columns), 1,000 rows/request',
    direction: '>=',
    threshold: 2_500_000,
    unit: 'rows/s',
    jobs: ['ingest-arc-go'],
    measure: medianOf('ingest-arc-go', (l) => l.rows_per_s, 'rows/s'),
  },
  {
    id: 'arc-go-rows-per-cpu-s',
    docsRow: "msgpack columnar, the Go version's row shape (5 columns), 1,000 rows/request",
    benchmark: 'msgpack columnar, Arc-Go row shape (5 columns), 1,000 rows/request',
    direction: '>=',
    threshold: 1_500_000,
    unit: 'rows/cpu-s',
    jobs: ['ingest-arc-go'],
    measure: medianOf('ingest-arc-go', (l) => l.rows_per_server_cpu_s, 'rows per server CPU-s'),
  },
  {
    id: 'rows',
    docsRow: 'msgpack row format, TSBS cpu rows',
    benchmark: 'msgpack row format, TSBS cpu rows, 5,000 rows/request',
    direction: '>=',
    threshold: 400_000,
    unit: 'rows/s',
    jobs: ['ingest-rows'],
    measure: medianOf('ingest-rows', (l) => l.rows_per_s, 'rows/s'),
  },
  {
    id: 'line-protocol',
    docsRow: 'line protocol, TSBS cpu rows, 5,000 lines/request',
    benchmark: 'line protocol, TSBS cpu rows, 5,000 lines/request',
    direction: '>=',
    threshold: 512_000,
    unit: 'rows/s',
    jobs: ['ingest-lp'],
    measure: medianOf('ingest-lp', (l) => l.rows_per_s, 'rows/s'),
  },
  {
    id: 'json',
    docsRow: 'JSON rows',
    benchmark: 'JSON rows (POST /write/json), TSBS cpu rows, 5,000 rows/request',
    direction: '>=',
    threshold: 200_000,
    unit: 'rows/s',
    jobs: ['ingest-json'],
    measure: medianOf('ingest-json', (l) => l.rows_per_s, 'rows/s'),
  },
  {
    id: 'wal-fdatasync',
    docsRow: 'WAL on, `fdatasync`',
    benchmark: 'WAL on (fdatasync) over WAL off, columnar, 5,000 rows/request',
    direction: '>=',
    threshold: 0.85,
    unit: 'ratio',
    jobs: ['ingest-wal', 'ingest-columnar'],
    measure: ratioOfMedians('ingest-wal', 'ingest-columnar', (l) => l.rows_per_s),
  },
  {
    id: 'p99-half-peak',
    docsRow: 'p99 latency, 1,000-row msgpack requests at half of peak load',
    benchmark: 'p99 latency, 1,000-row msgpack requests at half of peak load (open loop)',
    direction: '<=',
    threshold: 10,
    unit: 'ms',
    jobs: ['ingest-peak-1000', 'ingest-half-peak-1000'],
    // After the warm-up (the first quarter of each run, bench/lib/rss.mjs), as the RSS row; the
    // whole run's p99 goes in the note. Records from before the field existed give the whole run's.
    measure: (results) => {
      const lines = runLines(results.get('ingest-half-peak-1000'));
      const afterWarmup = lines.length > 0 && lines.every((l) => typeof l.latency_after_warmup_ms?.p99 === 'number');
      const m = medianOf('ingest-half-peak-1000', (l) => (afterWarmup ? l.latency_after_warmup_ms?.p99 : l.latency_ms?.p99), 'p99')(results);
      if (!('value' in m)) return m;
      const rate = lines[0]?.open_loop?.rate_rows_per_s;
      const whole = medianOf('ingest-half-peak-1000', (l) => l.latency_ms?.p99, 'p99')(results);
      const scope = afterWarmup ? `after warm-up (whole run: ${'value' in whole ? formatNumber(whole.value) : '-'} ms)` : 'whole run';
      return { value: m.value, note: `${m.note}, ${scope}, offered ${formatNumber(rate)} rows/s` };
    },
  },
  {
    id: 'rss-max',
    docsRow: 'server RSS under sustained peak load for 10 minutes',
    benchmark: 'server RSS under sustained peak load (10 min): peak',
    direction: '<=',
    threshold: 2 * GIB,
    unit: 'bytes',
    jobs: ['ingest-rss'],
    measure: (results) => rssFigure(results, (rss) => rss.max_bytes, 'max'),
  },
  {
    id: 'rss-flat',
    docsRow: 'server RSS under sustained peak load for 10 minutes',
    benchmark: 'server RSS under sustained peak load (10 min): growth after warm-up ("flat")',
    direction: '<=',
    threshold: RSS_GROWTH_PCT_MAX,
    unit: 'pct',
    jobs: ['ingest-rss'],
    measure: (results) => rssFigure(results, (rss) => rss.growth_after_warmup_pct, 'growth'),
  },
  {
    id: 'tsbs-vs-influxdb',
    docsRow: 'TSBS queries over 432,000 rows, over HTTP with JSON, answer cache off',
    benchmark: 'TSBS queries over HTTP with JSON, cache off: faster than InfluxDB 1.6.7',
    direction: '>=',
    threshold: TSBS_QUERY_COUNT,
    unit: 'queries',
    jobs: ['query'],
    measure: (results) => tsbsCount(results, (s) => tsbsQueriesOf(s) - s.slower_than_influxdb_1_6_7.length, (s) => s.slower_than_influxdb_1_6_7),
  },
  {
    id: 'tsbs-vs-clickhouse',
    docsRow: 'TSBS queries over 432,000 rows, over HTTP with JSON, answer cache off',
    benchmark: "TSBS queries over HTTP with JSON, cache off: at most ClickHouse 18.16's time",
    direction: '>=',
    threshold: TSBS_AT_MOST_CLICKHOUSE,
    unit: 'queries',
    jobs: ['query'],
    measure: (results) => tsbsCount(results, (s) => s.at_most_clickhouse_18_16, (s) => s.slower_than_clickhouse_18_16),
  },
  {
    id: 'lastpoint',
    docsRow: 'lastpoint (latest row per host)',
    benchmark: 'lastpoint (latest row per host), over HTTP',
    direction: '<=',
    threshold: 5,
    unit: 'ms',
    jobs: ['query'],
    // The target is met by the last-value cache kept by the writers (lastpoint-cache, the same
    // question through last_cache()); the SQL lastpoint's figure goes in the note beside it.
    measure: (results) => {
      const lines = queriesBeforeCompaction(results.get('query'));
      const cached = lines.find((l) => l.query === 'lastpoint-cache');
      const sql = lines.find((l) => l.query === 'lastpoint');
      if (typeof cached?.median_ms !== 'number') return { error: 'query printed no lastpoint-cache median' };
      const sqlNote = typeof sql?.median_ms === 'number' ? `; the SQL lastpoint: ${sql.median_ms} ms` : '';
      return { value: cached.median_ms, note: `last_cache(), median of ${cached.runs}${sqlNote}${tsbsScaleNote(results)}` };
    },
  },
  {
    id: 'select-1',
    docsRow: '`SELECT 1` over HTTP',
    benchmark: '`SELECT 1` over HTTP',
    direction: '<=',
    threshold: 1.5,
    unit: 'ms',
    jobs: ['select-one'],
    measure: (results) => {
      const m = medianOf('select-one', (l) => l.median_ms, 'median')(results);
      const processes = runLines(results.get('select-one')).length;
      return 'value' in m ? { value: m.value, note: processes > 1 ? `median of ${processes} processes' medians` : "one process's median" } : m;
    },
  },
  {
    id: 'live-hour-files',
    docsRow: 'real-time ingest of 20 measurements for 10 minutes, compaction on',
    benchmark: 'live hour under real-time ingest (compaction on): files at every sample',
    direction: '<=',
    threshold: 32,
    unit: 'files',
    jobs: ['compaction'],
    measure: (results) => compactionOn(results, (s) => s.live_files_max, `max of the samples`),
  },
  {
    id: 'live-hour-query-flat',
    docsRow: 'real-time ingest of 20 measurements for 10 minutes, compaction on',
    benchmark: 'live hour under real-time ingest (compaction on): last-hour query time, last over first sample ("flat")',
    direction: '<=',
    threshold: QUERY_TIME_GROWTH_MAX,
    unit: 'ratio',
    jobs: ['compaction'],
    measure: (results) => compactionOn(results, (s) => s.count_sum_growth, 'count+sum query'),
  },
  {
    id: 'compaction-ingest',
    docsRow: 'ingest throughput while compaction runs',
    benchmark: 'ingest throughput while compaction runs, over compaction off',
    direction: '>=',
    threshold: 0.85,
    unit: 'ratio',
    jobs: ['compaction-saturate'],
    measure: (results) => {
      const s = summaryLine(results.get('compaction-saturate'), 'compaction-saturate');
      const value = s?.on_vs_off?.rows_per_s;
      const runs = s?.modes?.on?.runs;
      return typeof value === 'number' ? { value, note: runs === 1 ? '1 run per mode' : `medians of ${runs} runs per mode` } : { error: 'compaction-saturate printed no on/off ratio' };
    },
  },
  {
    id: 'show-tables',
    docsRow: 'SHOW TABLES / planning over 10,000 files',
    benchmark: `SHOW TABLES over ${formatNumber(CATALOG_LARGE)} files, over ${CATALOG_SMALL} files`,
    direction: '<=',
    threshold: 1.5,
    unit: 'ratio',
    jobs: ['catalog'],
    measure: (results) => catalogRatio(results, 'show_tables_ms'),
  },
  {
    id: 'planning',
    docsRow: 'SHOW TABLES / planning over 10,000 files',
    benchmark: `planning (a one-hour query) over ${formatNumber(CATALOG_LARGE)} files, over ${CATALOG_SMALL} files`,
    direction: '<=',
    threshold: 1.5,
    unit: 'ratio',
    jobs: ['catalog'],
    measure: (results) => catalogRatio(results, 'one_hour_query_ms'),
  },
  {
    id: 's3-ingest',
    docsRow: 'S3 backend ingest',
    benchmark: 'S3 backend ingest over local disk, columnar, 5,000 rows/request',
    direction: '>=',
    threshold: 0.8,
    unit: 'ratio',
    jobs: ['ingest-s3', 'ingest-columnar'],
    measure: ratioOfMedians('ingest-s3', 'ingest-columnar', (l) => l.rows_per_s),
  },
  {
    id: 's3-query',
    docsRow: 'S3 backend ingest',
    benchmark: 'S3 backend, warm cache: TSBS query time over local (the worst query)',
    direction: '<=',
    threshold: 1.2,
    unit: 'ratio',
    jobs: ['query-s3', 'query'],
    measure: s3QueryRatio,
  },
  {
    id: 'json-encoding',
    docsRow: 'query JSON encoding, 1M rows',
    benchmark: 'query JSON encoding, 1M rows',
    direction: '>=',
    threshold: 3_000_000,
    unit: 'rows/s encoded',
    jobs: ['query-encode'],
    measure: (results) => encodingRate(results, 'json'),
  },
  {
    id: 'arrow-encoding',
    docsRow: 'query JSON encoding, 1M rows',
    benchmark: 'query Arrow encoding, 1M rows',
    direction: '>=',
    threshold: 10_000_000,
    unit: 'rows/s encoded',
    jobs: ['query-encode'],
    measure: (results) => encodingRate(results, 'arrow'),
  },
];

/**
 * Median of `figure` over job `top`'s runs over the same over job `bottom`'s.
 * @param {string} top
 * @param {string} bottom
 * @param {(line: any) => number} figure
 * @returns {(results: Results) => Measurement}
 */
function ratioOfMedians(top, bottom, figure) {
  return (results) => {
    const a = medianRunFigure(results.get(top), figure);
    const b = medianRunFigure(results.get(bottom), figure);
    if (a === null) return { error: `${top} printed no figure` };
    if (b === null || b === 0) return { error: `${bottom} printed no figure to compare with` };
    return { value: round(a / b, 3), note: `${formatNumber(Math.round(a))} / ${formatNumber(Math.round(b))} rows/s` };
  };
}

/**
 * @param {Results} results
 * @param {(rss: any) => number | null} figure
 * @param {string} what
 * @returns {Measurement}
 */
function rssFigure(results, figure, what) {
  const lines = runLines(results.get('ingest-rss'));
  const rss = lines[0]?.server_rss;
  if (!rss) return { error: 'ingest-rss printed no server_rss (no server pid?)' };
  const value = figure(rss);
  if (typeof value !== 'number') return { error: `ingest-rss: no RSS ${what} (${rss.samples_after_warmup} samples after the warm-up)` };
  return { value, note: `${rss.samples} samples over ${lines[0].seconds} s, warm-up ${rss.warmup_s} s` };
}

/** @param {Results} results */
function tsbsScaleNote(results) {
  const s = summaryLine(results.get('query'), 'tsbs-queries');
  return s && (s.hosts !== 100 || s.hours !== 12) ? `; ${s.hosts} hosts x ${s.hours} h, not the targets' 100 x 12` : '';
}

/**
 * The TSBS queries a tsbs-queries summary measured: its variants (lastpoint-cache) are not counted
 * (the summary's `queries` counts every query run).
 * @param {any} s
 * @returns {number}
 */
function tsbsQueriesOf(s) {
  if (s.median_ms === undefined) return s.queries;
  return Object.keys(s.median_ms).filter((name) => /** @type {readonly string[]} */ (QUERY_NAMES).includes(name)).length;
}

/**
 * @param {Results} results
 * @param {(summary: any) => number} count
 * @param {(summary: any) => string[]} misses
 * @returns {Measurement}
 */
function tsbsCount(results, count, misses) {
  const s = summaryLine(results.get('query'), 'tsbs-queries');
  if (!s) return { error: 'query printed no tsbs-queries summary' };
  const missed = misses(s);
  return { value: count(s), note: `of ${tsbsQueriesOf(s)}${missed.length ? `; not: ${missed.join(', ')}` : ''}${tsbsScaleNote(results)}` };
}

/**
 * @param {Results} results
 * @param {(modeSummary: any) => number | null} figure
 * @param {string} what
 * @returns {Measurement}
 */
function compactionOn(results, figure, what) {
  const on = (results.get('compaction')?.lines ?? []).find((l) => l?.summary === 'compaction-mode' && l.mode === 'on');
  if (!on) return { error: 'compaction printed no summary of its compaction-on run' };
  const value = figure(on);
  if (typeof value !== 'number') return { error: `compaction: no ${what} figure (${on.samples} samples)` };
  return { value, note: `${what}, ${on.samples} samples over ${on.seconds} s` };
}

/**
 * @param {Results} results
 * @param {'show_tables_ms' | 'one_hour_query_ms'} figure
 * @returns {Measurement}
 */
function catalogRatio(results, figure) {
  // The fewest and the most files measured (the smoke measures fewer than the target's 10,000).
  const lines = (results.get('catalog')?.lines ?? []).filter((l) => typeof l?.files === 'number' && typeof l[figure] === 'number');
  if (lines.length < 2) return { error: `catalog printed no ${figure} for two sizes` };
  const sorted = [...lines].sort((a, b) => a.files - b.files);
  const small = sorted[0];
  const large = sorted.at(-1);
  if (small[figure] <= 0) return { error: `catalog: ${figure} ${small[figure]} over ${small.files} files` };
  return { value: round(large[figure] / small[figure], 2), note: `${large[figure]} ms over ${formatNumber(large.files)} files / ${small[figure]} ms over ${small.files}, medians` };
}

/**
 * The worst S3-over-local ratio of the TSBS queries' medians (docs/benchmarks.md reads the
 * target as "within 1.2x of local on all 8 queries").
 * @param {Results} results
 * @returns {Measurement}
 */
function s3QueryRatio(results) {
  const local = new Map(queriesBeforeCompaction(results.get('query')).map((l) => [l.query, l.median_ms]));
  /** @type {{ query: string, ratio: number }[]} */
  const ratios = [];
  for (const l of queriesBeforeCompaction(results.get('query-s3'))) {
    const base = local.get(l.query);
    if (typeof base === 'number' && base > 0 && typeof l.median_ms === 'number') ratios.push({ query: l.query, ratio: l.median_ms / base });
  }
  if (ratios.length === 0) return { error: 'query-s3 and query printed no query medians to compare' };
  const worst = ratios.reduce((a, b) => (b.ratio > a.ratio ? b : a));
  return { value: round(worst.ratio, 2), note: `${worst.query}; ${ratios.length} queries compared` };
}

/**
 * @param {Results} results
 * @param {string} format
 * @returns {Measurement}
 */
function encodingRate(results, format) {
  // The server's query threads encode into shared answer buffers (answer-buffers.ts).
  const line = (results.get('query-encode')?.lines ?? []).find((l) => l?.format === format && l.answers === 'shared');
  if (typeof line?.rows_per_s !== 'number') return { error: `query-encode printed no ${format} line (shared answers)` };
  return { value: line.rows_per_s, note: `median of ${line.runs}, ${formatNumber(line.rows)} rows` };
}

// ---------------------------------------------------------------------------------------------
// The table

/**
 * How far a value is from its target, as a ratio >= 1 when met: measured / threshold for ">=",
 * threshold / measured for "<=". Null when "<=" and the value is 0 or below (met, by any margin).
 * @param {Direction} direction
 * @param {number} measured
 * @param {number} threshold
 */
export function targetRatio(direction, measured, threshold) {
  if (direction === '>=') return threshold === 0 ? null : measured / threshold;
  return measured <= 0 ? null : threshold / measured;
}

/**
 * @typedef {{ target: string, benchmark: string, direction: Direction, threshold: number, unit: Unit,
 *   status: 'met' | 'not met' | 'not run' | 'error', measured: number | null, ratio: number | null,
 *   note: string | null }} Row
 */

/**
 * One row per target: its measurement, or why there is none.
 * @param {Results} results
 * @param {readonly Target[]} [targets]
 * @returns {Row[]}
 */
export function evaluateTargets(results, targets = TARGETS) {
  return targets.map((t) => {
    const base = { target: t.id, benchmark: t.benchmark, direction: t.direction, threshold: t.threshold, unit: t.unit, measured: null, ratio: null };
    const missing = t.jobs.map((id) => [id, results.get(id)]).find(([, job]) => job === undefined || /** @type {JobResult} */ (job).notRun !== null);
    if (missing) {
      const [id, job] = /** @type {[string, JobResult | undefined]} */ (missing);
      return { ...base, status: /** @type {const} */ ('not run'), note: job?.notRun ?? `${id} was not run` };
    }
    const broken = t.jobs.map((id) => [id, /** @type {JobResult} */ (results.get(id))]).find(([, job]) => /** @type {JobResult} */ (job).error !== null);
    if (broken) {
      const [id, job] = /** @type {[string, JobResult]} */ (broken);
      return { ...base, status: /** @type {const} */ ('error'), note: `${id}: ${job.error}` };
    }
    let m;
    try {
      m = t.measure(results);
    } catch (err) {
      m = { error: `reading the lines: ${describeError(err)}` };
    }
    if ('notRun' in m) return { ...base, status: /** @type {const} */ ('not run'), note: m.notRun };
    if ('error' in m) return { ...base, status: /** @type {const} */ ('error'), note: m.error };
    const ratio = targetRatio(t.direction, m.value, t.threshold);
    const met = ratio === null ? t.direction === '<=' : ratio >= 1;
    return { ...base, measured: m.value, ratio: ratio === null ? null : round(ratio, 2), status: met ? /** @type {const} */ ('met') : /** @type {const} */ ('not met'), note: m.note ?? null };
  });
}

/** @param {unknown} n */
function formatNumber(n) {
  return typeof n === 'number' ? n.toLocaleString('en-US', { maximumFractionDigits: 3 }) : '-';
}

/**
 * @param {number | null} value
 * @param {Unit} unit
 */
export function formatValue(value, unit) {
  if (value === null) return '-';
  if (unit === 'bytes') return value >= GIB ? `${(value / GIB).toFixed(2)} GiB` : `${(value / 1024 ** 2).toFixed(0)} MiB`;
  if (unit === 'ratio') return `${value.toFixed(2)}x`;
  if (unit === 'pct') return `${value.toFixed(1)} %`;
  if (unit === 'ms') return `${value.toFixed(value < 10 ? 2 : 1)} ms`;
  if (unit === 'rows/cpu-s') return `${formatNumber(Math.round(value))} rows/CPU-s`;
  if (unit === 'rows/s encoded') return `${formatNumber(Math.round(value))} rows/s`;
  return `${formatNumber(Math.round(value))} ${unit}`;
}

/**
 * The markdown table.
 * @param {readonly Row[]} rows
 */
export function renderTable(rows) {
  const cell = (/** @type {string} */ s) => s.replaceAll('|', '\\|');
  const out = ['| benchmark | measured | target | ratio | status | note |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const ratio = r.ratio !== null ? r.ratio.toFixed(2) : r.status === 'met' ? 'inf' : '-';
    out.push(`| ${cell(r.benchmark)} | ${formatValue(r.measured, r.unit)} | ${r.direction} ${formatValue(r.threshold, r.unit)} | ${ratio} | ${r.status} | ${cell(r.note ?? '')} |`);
  }
  return out.join('\n');
}

/** @param {readonly Row[]} rows */
export function tally(rows) {
  return {
    met: rows.filter((r) => r.status === 'met').length,
    not_met: rows.filter((r) => r.status === 'not met').length,
    not_run: rows.filter((r) => r.status === 'not run').length,
    errors: rows.filter((r) => r.status === 'error').length,
  };
}

// ---------------------------------------------------------------------------------------------
// Running the jobs, or reading what a run recorded

/**
 * @typedef {{ smoke: boolean, from: string | null, jobs: string[] | null, list: boolean,
 *   out: string | null, json: boolean }} Options
 */

/**
 * @param {string[]} argv
 * @returns {Options | null}
 */
export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      smoke: { type: 'boolean', default: false },
      from: { type: 'string' },
      jobs: { type: 'string' },
      list: { type: 'boolean', default: false },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  const known = new Set(jobPlan({ smoke: false }).map((j) => j.id));
  const jobs = values.jobs === undefined ? null : values.jobs.split(',').map((s) => s.trim()).filter(Boolean);
  for (const id of jobs ?? []) if (!known.has(id)) throw new UsageError(`--jobs: no job ${id} (the jobs: ${[...known].join(', ')})`);
  if (values.from !== undefined && (values.jobs !== undefined || values.smoke)) throw new UsageError('--from reads a recorded run: it takes no --jobs or --smoke');
  return { smoke: Boolean(values.smoke), from: values.from ?? null, jobs, list: Boolean(values.list), out: values.out ?? null, json: Boolean(values.json) };
}

/**
 * The results recorded in a --out file: `{"job", "line"}` lines and `{"job", "status"}` lines.
 * @param {string} text
 * @returns {Results}
 */
export function resultsFromRecord(text) {
  /** @type {Results} */
  const results = new Map();
  const entry = (/** @type {string} */ id) => {
    let r = results.get(id);
    if (!r) results.set(id, (r = { lines: [], exitCode: null, error: null, seconds: 0, argv: null, notRun: null }));
    return r;
  };
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let record;
    try {
      record = JSON.parse(raw);
    } catch {
      throw new UsageError(`--from: line ${index + 1} is not JSON: ${raw.slice(0, 80)}`);
    }
    if (typeof record?.job !== 'string') throw new UsageError(`--from: line ${index + 1} names no job (expected the lines of targets.mjs --out)`);
    if (record.line !== undefined) entry(record.job).lines.push(record.line);
    if (record.status !== undefined) Object.assign(entry(record.job), record.status);
  }
  return results;
}

/**
 * Runs one process of a benchmark: its stdout JSON lines, its exit code, its stderr's tail.
 * @param {string} script
 * @param {string[]} argv
 * @param {(line: any) => void} onLine
 */
function runProcess(script, argv, onLine) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, script), ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    /** @type {string[]} */
    let stderrTail = [];
    /** @type {string[]} */
    const notJson = [];
    child.stdout.on('data', (chunk) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const text of parts) {
        if (text.trim() === '') continue;
        try {
          onLine(JSON.parse(text));
        } catch {
          notJson.push(text);
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      process.stderr.write(chunk);
      stderrTail = [...stderrTail, ...chunk.toString('utf8').split('\n').filter(Boolean)].slice(-5);
    });
    child.on('error', (err) => resolve({ exitCode: null, stderrTail: [String(err)], notJson }));
    child.on('exit', (code, signal) => {
      if (pending.trim() !== '') notJson.push(pending);
      resolve({ exitCode: code ?? (signal ? 128 : null), stderrTail, notJson });
    });
  });
}

/**
 * @param {Job} job
 * @param {Results} results
 * @param {SharedServer} shared
 * @param {(record: object) => void} record
 * @returns {Promise<JobResult>}
 */
async function runJob(job, results, shared, record) {
  const argv = job.argv(results, SHARED_SERVER_JOBS.has(job.id) ? shared : null);
  if (!Array.isArray(argv)) return { lines: [], exitCode: null, error: null, seconds: 0, argv: null, notRun: argv.notRun };
  /** @type {JobResult} */
  const result = { lines: [], exitCode: 0, error: null, seconds: 0, argv, notRun: null };
  const t0 = performance.now();
  for (let p = 1; p <= job.processes; p++) {
    // The shared server's token is a fresh random one, but a log is no place for any token.
    const shown = argv.map((a, i) => (argv[i - 1] === '--token' ? '***' : a));
    process.stderr.write(`targets: ${job.id}${job.processes > 1 ? ` (${p}/${job.processes})` : ''}: node ${job.script} ${shown.join(' ')}\n`);
    const ran = /** @type {{ exitCode: number | null, stderrTail: string[], notJson: string[] }} */ (
      await runProcess(job.script, argv, (line) => {
        result.lines.push(line);
        record({ job: job.id, line });
      })
    );
    if (ran.exitCode !== 0) {
      result.exitCode = ran.exitCode;
      result.error = `exited ${ran.exitCode}: ${ran.stderrTail.join(' / ').slice(0, 300)}`;
      break;
    }
    if (ran.notJson.length) process.stderr.write(`targets: ${job.id} printed ${ran.notJson.length} lines that are not JSON (ignored), first: ${ran.notJson[0]?.slice(0, 120)}\n`);
  }
  if (result.error === null && result.lines.length === 0) result.error = 'printed no JSON line';
  result.seconds = round((performance.now() - t0) / 1000, 1);
  return result;
}

/**
 * Runs the jobs of the plan (those `only` names, when given), in order; the smoke starts one server
 * for the jobs that can share it.
 * @param {Options} o
 * @param {(record: object) => void} record
 * @returns {Promise<Results>}
 */
async function runJobs(o, record) {
  const plan = jobPlan({ smoke: o.smoke });
  /** @type {Results} */
  const results = new Map();
  /** @type {Awaited<ReturnType<typeof spawnServer>> | null} */
  let server = null;
  const log = (/** @type {string} */ s) => process.stderr.write(`targets: ${s}\n`);
  try {
    const selected = plan.filter((j) => o.jobs === null || o.jobs.includes(j.id));
    if (o.smoke && selected.some((j) => SHARED_SERVER_JOBS.has(j.id))) {
      // The answer cache off, as the query benchmarks run it (select-one measures an uncached query).
      server = await spawnServer({ serverEntry: DEFAULT_SERVER_ENTRY, readyTimeout: 60, keepData: false, env: { ARC_QUERY_CACHE_ENABLED: 'false' } }, log);
    }
    const shared = server === null ? null : { url: server.url, token: server.token, pid: server.pid };
    for (const job of selected) {
      const result = await runJob(job, results, shared, record);
      results.set(job.id, result);
      record({ job: job.id, status: { exitCode: result.exitCode, error: result.error, seconds: result.seconds, argv: result.argv, notRun: result.notRun } });
      if (result.notRun) log(`${job.id}: not run: ${result.notRun}`);
      else log(`${job.id}: ${result.error === null ? 'done' : `BROKE: ${result.error}`} in ${result.seconds} s`);
      if (server?.exitedReason()) throw new Error(`the smoke's shared server exited: ${server.exitedReason()}`);
    }
  } finally {
    await server?.stop();
  }
  return results;
}

/** @param {string[]} argv */
export async function main(argv) {
  const parsed = parseCli(argv, parseOptions, USAGE);
  if (parsed.options === null) return parsed.exitCode;
  const o = parsed.options;
  try {
    if (o.list) {
      for (const job of jobPlan({ smoke: o.smoke })) {
        const measures = TARGETS.filter((t) => t.jobs.includes(job.id)).map((t) => t.id);
        process.stdout.write(`${job.id}: ${job.script}; targets: ${measures.join(', ') || '-'}\n`);
      }
      return 0;
    }
    const loadBefore = os.loadavg().map((x) => round(x, 2));
    let results;
    if (o.from !== null) {
      results = resultsFromRecord(fs.readFileSync(o.from, 'utf8'));
    } else {
      if (o.out) fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
      const out = o.out ? fs.openSync(o.out, 'w') : null;
      try {
        results = await runJobs(o, (record) => {
          if (out !== null) fs.writeSync(out, `${JSON.stringify(record)}\n`);
        });
      } finally {
        if (out !== null) fs.closeSync(out);
      }
    }
    const rows = evaluateTargets(results);
    const summary = {
      summary: 'targets',
      mode: o.from !== null ? 'recorded' : o.smoke ? 'smoke' : 'full',
      ...tally(rows),
      broken_jobs: [...results].filter(([, r]) => r.error !== null).map(([id]) => id),
      date: new Date().toISOString(),
      commit: gitCommit(),
      load_average: { before: loadBefore, after: os.loadavg().map((x) => round(x, 2)) },
      node: process.version,
      cpus: os.cpus().length,
    };
    if (o.json) {
      for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      process.stdout.write(`\n## Performance targets (${summary.mode}${o.smoke ? ': seconds-long runs, the figures mean nothing' : ''}; ${summary.date}, commit ${summary.commit}, load ${summary.load_average.before.join(' ')})\n\n`);
      process.stdout.write(`${renderTable(rows)}\n\n`);
      process.stdout.write(`${summary.met} met, ${summary.not_met} not met, ${summary.not_run} not run, ${summary.errors} errors${summary.broken_jobs.length ? ` (broken: ${summary.broken_jobs.join(', ')})` : ''}\n`);
    }
    return summary.broken_jobs.length > 0 ? 1 : 0;
  } catch (err) {
    process.stderr.write(`targets: ${describeError(err)}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
