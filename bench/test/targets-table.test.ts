// Proves bench/targets.mjs's table: the ratio points the way of each target (>= 1 means met),
// ingest figures are medians of the run lines (not of the median line), a target whose benchmark
// did not run or broke says so instead of showing a value, the jobs chain (half of the measured
// peak as the open loop's rate), and the CLI prints the table of a recorded run (--from).
import { runScript, type ScriptRun } from './run-script.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { TARGETS, evaluateTargets, jobPlan, renderTable, resultsFromRecord, targetRatio } from '../targets.mjs';
import { QUERY_NAMES } from '../query/tsbs-queries.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const TARGETS_CLI = path.join(REPO_ROOT, 'bench', 'targets.mjs');

type Results = Parameters<typeof evaluateTargets>[0];
type JobResult = Results extends Map<string, infer R> ? R : never;
const done = (lines: object[]): JobResult => ({ lines, exitCode: 0, error: null, seconds: 1, argv: [], notRun: null });
const ingestRuns = (...rowsPerS: number[]) => [
  ...rowsPerS.map((r, i) => ({ run: i + 1, rows_per_s: r, rows_per_server_cpu_s: r * 2, latency_ms: { p99: r / 1000 } })),
  { summary: 'median', rows_per_s: 1 }, // must not count as a run
];
const row = (rows: ReturnType<typeof evaluateTargets>, id: string) => rows.find((r) => r.target === id)!;

describe('targetRatio', () => {
  it('is measured over target for ">=" and target over measured for "<="', () => {
    expect(targetRatio('>=', 1_200_000, 1_000_000)).toBeCloseTo(1.2);
    expect(targetRatio('>=', 500_000, 1_000_000)).toBeCloseTo(0.5);
    expect(targetRatio('<=', 5, 10)).toBeCloseTo(2);
    expect(targetRatio('<=', 20, 10)).toBeCloseTo(0.5);
    expect(targetRatio('<=', 0, 10)).toBeNull();
    expect(targetRatio('<=', -3, 10)).toBeNull();
  });
});

describe('evaluateTargets', () => {
  it('takes the median of the run lines and marks met and not met', () => {
    const results: Results = new Map<string, JobResult>([
      ['ingest-columnar', done(ingestRuns(900_000, 1_300_000, 1_100_000))],
      ['ingest-wal', done(ingestRuns(800_000, 700_000, 1_000_000))],
      ['ingest-peak-1000', done(ingestRuns(600_000))],
      ['ingest-half-peak-1000', done([{ run: 1, rows_per_s: 300_000, latency_ms: { p99: 12.5 }, open_loop: { rate_rows_per_s: 300_000 } }])],
    ]);
    const rows = evaluateTargets(results);
    expect(row(rows, 'columnar')).toMatchObject({ measured: 1_100_000, ratio: 1.1, status: 'met', note: 'median of 3' });
    // WAL on over off: 800,000 / 1,100,000 = 0.727, under 0.85.
    expect(row(rows, 'wal-fdatasync')).toMatchObject({ measured: 0.727, status: 'not met' });
    expect(row(rows, 'wal-fdatasync').ratio).toBeCloseTo(0.86, 2);
    // "<=": 10 / 12.5 = 0.8.
    expect(row(rows, 'p99-half-peak')).toMatchObject({ measured: 12.5, ratio: 0.8, status: 'not met' });
    expect(row(rows, 'p99-half-peak').note).toContain('offered 300,000 rows/s');
    expect(row(rows, 'p99-half-peak').note).toContain('whole run');
  });

  it('takes the p99 after the warm-up when the runs have it, the whole run in the note', () => {
    const half = (p99: number, steady: number) => ({ run: 1, rows_per_s: 300_000, latency_ms: { p99 }, latency_after_warmup_ms: { p99: steady }, open_loop: { rate_rows_per_s: 300_000 } });
    const results: Results = new Map<string, JobResult>([
      ['ingest-peak-1000', done(ingestRuns(600_000))],
      ['ingest-half-peak-1000', done([half(40, 8), half(30, 9), half(50, 12)])],
    ]);
    const rows = evaluateTargets(results);
    expect(row(rows, 'p99-half-peak')).toMatchObject({ measured: 9, status: 'met' });
    expect(row(rows, 'p99-half-peak').note).toContain('after warm-up (whole run: 40 ms)');
  });

  it('meets a "<=" target by any margin when the value is 0 or below', () => {
    const results: Results = new Map<string, JobResult>([['ingest-rss', done([{ run: 1, seconds: 600, server_rss: { samples: 600, warmup_s: 60, max_bytes: 3 * 1024 ** 3, growth_after_warmup_pct: -1.5 } }])]]);
    const rows = evaluateTargets(results);
    expect(row(rows, 'rss-flat')).toMatchObject({ measured: -1.5, ratio: null, status: 'met' });
    expect(row(rows, 'rss-max')).toMatchObject({ status: 'not met', ratio: 0.67 });
    expect(renderTable([row(rows, 'rss-flat')])).toContain('| -1.5 % | <= 10.0 % | inf | met |');
  });

  it('says "not run" with the reason, or "error" with what broke, never a value', () => {
    const results: Results = new Map<string, JobResult>([
      ['ingest-s3', { lines: [], exitCode: null, error: null, seconds: 0, argv: null, notRun: 'no test S3 server' }],
      ['ingest-columnar', done(ingestRuns(1_000_000))],
      ['ingest-rows', { lines: [], exitCode: 3, error: 'exited 3: server not ready', seconds: 60, argv: [], notRun: null }],
      ['catalog', done([{ files: 10, show_tables_ms: 2 }])],
    ]);
    const rows = evaluateTargets(results);
    expect(row(rows, 's3-ingest')).toMatchObject({ status: 'not run', measured: null, ratio: null, note: 'no test S3 server' });
    expect(row(rows, 'rows')).toMatchObject({ status: 'error', measured: null, note: 'ingest-rows: exited 3: server not ready' });
    expect(row(rows, 'lastpoint')).toMatchObject({ status: 'not run', note: 'query was not run' });
    expect(row(rows, 'show-tables')).toMatchObject({ status: 'error', note: 'catalog printed no show_tables_ms for two sizes' });
  });

  it("measures every row of docs/benchmarks.md's Targets table", () => {
    const docs = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'benchmarks.md'), 'utf8');
    const section = docs.slice(docs.indexOf('\n## Targets\n'), docs.indexOf('\n## ', docs.indexOf('\n## Targets\n') + 1));
    const docsRows = section
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| benchmark |'))
      .map((line) => line.slice(2, line.indexOf(' | ')));
    expect(docsRows.length).toBeGreaterThanOrEqual(16);
    expect(docsRows.filter((name) => !TARGETS.some((t) => t.docsRow === name))).toEqual([]);
    expect(TARGETS.filter((t) => !docsRows.includes(t.docsRow)).map((t) => t.id)).toEqual([]);
  });

  it('has one row per target, each in the table', () => {
    const rows = evaluateTargets(new Map());
    expect(rows).toHaveLength(TARGETS.length);
    const table = renderTable(rows).split('\n');
    expect(table).toHaveLength(TARGETS.length + 2);
    expect(table[0]).toBe('| benchmark | measured | target | ratio | status | note |');
    for (const t of TARGETS) expect(table.some((line) => line.startsWith(`| ${t.benchmark} |`))).toBe(true);
  });

  it('reads the TSBS, compaction, catalog and encoding lines', () => {
    const queries = ['single-groupby-1-1-1', 'lastpoint'].map((query, i) => ({ query, median_ms: 4 + i, runs: 20 }));
    const results: Results = new Map<string, JobResult>([
      ['query', done([{ query: 'select-1', median_ms: 1 }, ...queries, { query: 'lastpoint-cache', median_ms: 3, runs: 20 }, { query: 'lastpoint', phase: 'after-compaction', median_ms: 99 },
        { summary: 'tsbs-queries', hosts: 100, hours: 12, queries: 9, median_ms: Object.fromEntries([...QUERY_NAMES, 'lastpoint-cache'].map((q) => [q, 1])), slower_than_influxdb_1_6_7: ['lastpoint'], slower_than_clickhouse_18_16: ['a', 'b', 'c'], at_most_clickhouse_18_16: 5 }])],
      ['query-s3', done(queries.map((q) => ({ ...q, median_ms: q.median_ms * 1.25 })))],
      ['compaction', done([{ summary: 'compaction-mode', mode: 'off', live_files_max: 110 }, { summary: 'compaction-mode', mode: 'on', live_files_max: 25, count_sum_growth: 1.2, samples: 10, seconds: 600 }])],
      ['catalog', done([{ files: 10, show_tables_ms: 2, one_hour_query_ms: 4 }, { files: 10_000, show_tables_ms: 2.5, one_hour_query_ms: 8 }])],
      ['query-encode', done([{ format: 'json', answers: 'own', rows_per_s: 1 }, { format: 'json', answers: 'shared', rows_per_s: 3_300_000, runs: 5, rows: 1_000_000 }])],
    ]);
    const rows = evaluateTargets(results);
    // lastpoint is measured by the last-value cache (lastpoint-cache); the SQL lastpoint's 5 ms is in the note.
    expect(row(rows, 'lastpoint')).toMatchObject({ measured: 3, status: 'met' });
    expect(row(rows, 'lastpoint').note).toContain('the SQL lastpoint: 5 ms');
    expect(row(rows, 'tsbs-vs-influxdb')).toMatchObject({ measured: 7, status: 'not met', note: 'of 8; not: lastpoint' });
    expect(row(rows, 'tsbs-vs-clickhouse')).toMatchObject({ measured: 5, status: 'not met' });
    expect(row(rows, 's3-query')).toMatchObject({ measured: 1.25, status: 'not met' });
    expect(row(rows, 'live-hour-files')).toMatchObject({ measured: 25, status: 'met' });
    expect(row(rows, 'live-hour-query-flat')).toMatchObject({ measured: 1.2, status: 'met' });
    expect(row(rows, 'show-tables')).toMatchObject({ measured: 1.25, status: 'met' });
    expect(row(rows, 'planning')).toMatchObject({ measured: 2, status: 'not met', ratio: 0.75 });
    expect(row(rows, 'json-encoding')).toMatchObject({ measured: 3_300_000, status: 'met', ratio: 1.1 });
  });
});

describe('jobPlan', () => {
  it('offers half of the median peak to the open loop, and nothing without a peak', () => {
    const halfPeak = jobPlan({ smoke: false }).find((j) => j.id === 'ingest-half-peak-1000')!;
    const withPeak: Results = new Map<string, JobResult>([['ingest-peak-1000', done(ingestRuns(500_000, 700_000, 640_000))]]);
    const argv = halfPeak.argv(withPeak, null) as string[];
    expect(argv.slice(argv.indexOf('--rate'), argv.indexOf('--rate') + 2)).toEqual(['--rate', '320000']);
    expect(argv).toEqual(expect.arrayContaining(['--spawn', '--runs', '3', '--batch', '1000']));
    expect(halfPeak.argv(new Map(), null)).toEqual({ notRun: 'needs the peak of ingest-peak-1000, which has no figure' });
  });

  it('runs the S3 jobs only with a test S3 server, and the smoke against the shared server', () => {
    const noS3 = jobPlan({ smoke: true, env: {} });
    expect(noS3.find((j) => j.id === 'ingest-s3')!.argv(new Map(), null)).toEqual({ notRun: expect.stringContaining('no test S3 server') });
    const withS3 = jobPlan({ smoke: true, env: { ARC_TEST_S3_ENDPOINT: 'http://127.0.0.1:7480' } });
    expect(withS3.find((j) => j.id === 'ingest-s3')!.argv(new Map(), null)).toEqual(expect.arrayContaining(['--spawn', '--storage', 's3']));
    const shared = { url: 'http://127.0.0.1:1', token: 't', pid: 42 };
    expect(withS3.find((j) => j.id === 'ingest-lp')!.argv(new Map(), shared)).toEqual(expect.arrayContaining(['--url', 'http://127.0.0.1:1', '--server-pid', '42', '--seconds', '2']));
  });
});

describe('targets.mjs --from', () => {
  function runCli(args: string[]): Promise<ScriptRun> {
    return runScript(TARGETS_CLI, args);
  }
  // bench/ is a project of its own (bench/tsconfig.json), outside test/support's reach: its
  // directories are removed here.
  const made: string[] = [];
  afterAll(() => {
    for (const directory of made.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
  });
  const record = (records: object[]): string => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-targets-test-'));
    made.push(directory);
    const file = path.join(directory, 'record.jsonl');
    fs.writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n'));
    return file;
  };

  it('prints the table, or one JSON line per target and a summary; exit 0', async () => {
    const file = record([
      { job: 'select-one', line: { median_ms: 1.2 } },
      { job: 'select-one', status: { exitCode: 0, error: null, seconds: 3, argv: [], notRun: null } },
      { job: 'ingest-s3', status: { exitCode: null, error: null, seconds: 0, argv: null, notRun: 'no test S3 server' } },
    ]);
    expect(resultsFromRecord(fs.readFileSync(file, 'utf8')).get('select-one')?.lines).toEqual([{ median_ms: 1.2 }]);
    const table = await runCli(['--from', file]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('| `SELECT 1` over HTTP | 1.20 ms | <= 1.50 ms | 1.25 | met |');
    expect(table.stdout).toContain('| not run | no test S3 server |');
    const json = await runCli(['--from', file, '--json']);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(TARGETS.length + 1);
    expect(lines.at(-1)).toMatchObject({ summary: 'targets', mode: 'recorded', met: 1, not_met: 0, not_run: TARGETS.length - 1, errors: 0, broken_jobs: [] });
  });

  it('exits 1 when a recorded benchmark broke, 2 for a file that is not a record', async () => {
    const broken = record([{ job: 'catalog', status: { exitCode: 1, error: 'exited 1: ENOSPC', seconds: 2, argv: [], notRun: null } }]);
    const run = await runCli(['--from', broken]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('| error | catalog: exited 1: ENOSPC |');
    const notRecord = record([{ rows_per_s: 5 }]);
    const bad = await runCli(['--from', notRecord]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--from: line 1 names no job');
  });
});
