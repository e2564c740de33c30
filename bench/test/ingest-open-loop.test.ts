// Proves ingest.mjs's newer options: --shape and --rate are parsed and refused as documented; the
// open loop sends on its schedule and counts latency from when each request was due (against a
// fake Arc that answers slowly, the latency grows with the backlog, as a closed loop would hide);
// the RSS summary finds the growth after the warm-up; and, against the real built server, JSON
// rows, the Arc-Go shape and the open loop write rows that are all read back, with RSS figures.
import { runScript, type ScriptRun } from './run-script.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyAfterWarmup, parseOptions } from '../ingest/ingest.mjs';
import { DEFAULT_SERVER_ENTRY, spawnServer } from '../lib/arc-server.mjs';
import { rssSummary, warmupSeconds } from '../lib/rss.mjs';
import { startFakeArc } from './fake-arc-server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const INGEST = path.join(REPO_ROOT, 'bench', 'ingest', 'ingest.mjs');

function runCli(args: string[]): Promise<ScriptRun> {
  return runScript(INGEST, args);
}

describe('ingest --shape, --format json and --rate options', () => {
  it('defaults to the TSBS shape, closed loop; takes json and arc-go', () => {
    expect(parseOptions([])).toMatchObject({ format: 'columnar', shape: 'tsbs', rate: null, path: '/write/v2/msgpack' });
    expect(parseOptions(['--format', 'json'])).toMatchObject({ format: 'json', path: '/write/json' });
    expect(parseOptions(['--shape', 'arc-go', '--rate', '250000'])).toMatchObject({ shape: 'arc-go', rate: 250000 });
  });

  it('refuses an unknown shape, arc-go in another format, and a rate below 1', () => {
    expect(() => parseOptions(['--shape', 'wide'])).toThrow('--shape must be one of tsbs, arc-go, got wide');
    expect(() => parseOptions(['--shape', 'arc-go', '--format', 'lp'])).toThrow('--shape arc-go is columnar msgpack: it needs --format columnar, got lp');
    expect(() => parseOptions(['--rate', '0'])).toThrow('--rate must be a number >= 1, got 0');
  });
});

describe('the open loop against a fake Arc', () => {
  let slow: Awaited<ReturnType<typeof startFakeArc>>;
  let fast: Awaited<ReturnType<typeof startFakeArc>>;
  beforeAll(async () => {
    slow = await startFakeArc({ token: 'tok', delayMs: 100 });
    fast = await startFakeArc({ token: 'tok' });
  });
  afterAll(async () => {
    await slow.close();
    await fast.close();
  });

  it('counts latency from the due time: a server slower than the rate builds a backlog', async () => {
    // 20 requests a second on one connection that takes 100 ms each: request i is due at 50i ms and
    // answered near 100(i+1) ms, so its latency grows by 50 ms per request; a closed loop would say 100 ms.
    const { code, stdout, stderr } = await runCli([
      '--url', slow.url, '--token', 'tok', '--database', 'slow', '--batch', '100', '--rate', '2000',
      '--connections', '1', '--threads', '1', '--seconds', '2', '--pool-rows', '1000', '--json',
    ]);
    expect(code, stderr).toBe(0);
    const line = JSON.parse(stdout.trim());
    expect(line.rows_acked).toBe(slow.stats.rowsByDb.get('slow'));
    expect(line.read_back_ok).toBe(true);
    expect(line.open_loop.rate_rows_per_s).toBe(2000);
    expect(line.open_loop.requests_scheduled).toBeGreaterThanOrEqual(38);
    expect(line.open_loop.requests_scheduled).toBeLessThanOrEqual(41);
    expect(line.open_loop.requests_unsent).toBeGreaterThan(5);
    expect(line.open_loop.achieved_over_offered).toBeLessThan(0.8);
    expect(line.latency_ms.p50).toBeGreaterThan(250);
    expect(line.latency_ms.p99).toBeGreaterThan(600);
  });

  it('keeps to the rate when the server keeps up', async () => {
    const { code, stdout, stderr } = await runCli([
      '--url', fast.url, '--token', 'tok', '--database', 'fast', '--batch', '100', '--rate', '4000',
      '--connections', '2', '--threads', '2', '--seconds', '1.5', '--pool-rows', '1000', '--json',
    ]);
    expect(code, stderr).toBe(0);
    const line = JSON.parse(stdout.trim());
    expect(line.rows_acked).toBe(fast.stats.rowsByDb.get('fast'));
    // 40 requests a second, 20 per thread, for 1.5 s.
    expect(line.open_loop.requests_scheduled).toBeGreaterThanOrEqual(58);
    expect(line.open_loop.requests_scheduled).toBeLessThanOrEqual(62);
    expect(line.open_loop.requests_unsent).toBe(0);
    expect(line.rows_acked).toBe(line.open_loop.requests_scheduled * 100);
  });
});

describe('rssSummary', () => {
  const at = (values: number[], stepS = 1) => values.map((bytes, i) => ({ atS: i * stepS, bytes }));

  it('leaves the warm-up out of the line and reports the peak over the whole run', () => {
    const samples = at([100, 400, 900, 1000, 1000, 1000, 1000, 1000, 1000]);
    const summary = rssSummary(samples, 3);
    expect(summary.max_bytes).toBe(1000);
    expect(summary.samples_after_warmup).toBe(6);
    expect(summary.slope_bytes_per_s).toBe(0);
    expect(summary.growth_after_warmup_pct).toBe(0);
  });

  it('measures a steady growth after the warm-up', () => {
    // 1,000 bytes at the end of the warm-up (t = 2), +10 bytes a second until t = 12: +10 %.
    const samples = at([500, 800, 1000, 1010, 1020, 1030, 1040, 1050, 1060, 1070, 1080, 1090, 1100]);
    const summary = rssSummary(samples, 2);
    expect(summary.slope_bytes_per_s).toBe(10);
    expect(summary.after_warmup_start_bytes).toBe(1000);
    expect(summary.after_warmup_end_bytes).toBe(1100);
    expect(summary.growth_after_warmup_pct).toBe(10);
  });

  it('takes latency percentiles over the requests after the warm-up only', () => {
    expect(latencyAfterWarmup([3, 1, 2, 400], 7.5)).toEqual({ p50: 2, p95: 400, p99: 400, warmup_s: 7.5, requests: 4 });
    expect(latencyAfterWarmup([], 1)).toEqual({ p50: null, p95: null, p99: null, warmup_s: 1, requests: 0 });
  });

  it('has no line with fewer than 2 samples after the warm-up', () => {
    expect(rssSummary(at([5, 6]), 1)).toMatchObject({ max_bytes: 6, slope_bytes_per_s: null, growth_after_warmup_pct: null });
    expect(warmupSeconds(600)).toBe(60);
    expect(warmupSeconds(8)).toBe(2);
  });
});

describe('against the real server', () => {
  let server: Awaited<ReturnType<typeof spawnServer>>;
  beforeAll(async () => {
    // The server's start line is kept here, not printed among the test's output.
    const startLog: string[] = [];
    server = await spawnServer({ serverEntry: DEFAULT_SERVER_ENTRY, readyTimeout: 60, keepData: false }, (line) => startLog.push(line));
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each([
    ['json', ['--format', 'json']],
    ['arc_go', ['--shape', 'arc-go']],
    ['open_loop', ['--rate', '20000']],
  ])('%s: every acknowledged row is read back, with the RSS figures', async (database, options) => {
    const { code, stdout, stderr } = await runCli([
      '--url', server.url, '--token', server.token, '--server-pid', String(server.pid), '--database', database,
      '--batch', '1000', '--connections', '2', '--seconds', '1.5', '--pool-rows', '10000', '--json', ...options,
    ]);
    expect(code, stderr).toBe(0);
    const line = JSON.parse(stdout.trim());
    expect(line.rows_acked).toBeGreaterThan(0);
    expect(line.errors_by_status).toEqual({});
    expect(line).toMatchObject({ read_back_ok: true, rows_read_back: line.rows_acked });
    expect(line.server_rss.samples).toBeGreaterThanOrEqual(2);
    expect(line.server_rss.max_bytes).toBeGreaterThan(10 * 1024 * 1024);
    if (database === 'open_loop') expect(line.open_loop.requests_scheduled).toBeGreaterThanOrEqual(29);
    // Warm-up: the first quarter of the 1.5 s run; the requests after it are a part of all of them.
    expect(line.latency_after_warmup_ms.warmup_s).toBe(0.375);
    expect(line.latency_after_warmup_ms.requests).toBeGreaterThan(0);
    expect(line.latency_after_warmup_ms.requests).toBeLessThan(line.rows_acked / 1000);
    expect(line.latency_after_warmup_ms.p99).toBeGreaterThan(0);
  });
});
