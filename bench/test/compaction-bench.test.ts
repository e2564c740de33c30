// Proves that bench/compaction's pure parts are right: the plot renders a PNG of the asked size
// whose pixels hold every curve's colour (and an empty panel's none), ticks are round numbers
// covering the data, the live-hour file counts read the right hour directories of a temp data
// dir, the steady schedule offers the rate with distinct timestamps, and the summaries compute
// what the docs report (checked against figures worked out by hand), and query.mjs --compact
// catches an answer that compaction changed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { glyph, hasGlyph } from '../compaction/font5x7.mjs';
import { measurementNames, parseOptions, samplesFromJsonLines, saturateSummary } from '../compaction/compaction.mjs';
import { jobTotals } from '../lib/compaction-api.mjs';
import { compactEnv, compactionSummary, logAnswer } from '../query/query.mjs';
import type { AnswerLog } from '../query/query.mjs';
import { COLORS, decodePng, niceTicks, panelRanges, renderPlot, tickLabel } from '../compaction/plot.mjs';
import type { Panel } from '../compaction/plot.mjs';
import {
  HOUR_MS,
  countAnomaly,
  fellBehind,
  hourPath,
  liveHourFiles,
  plotPanels,
  samplesTable,
  steadySchedule,
  summarizeSamples,
  windowRate,
} from '../compaction/sampling.mjs';

/** Pixels of `rgb` in an RGBA buffer. */
function pixelsOf(data: Buffer, rgb: readonly [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] === rgb[0] && data[i + 1] === rgb[1] && data[i + 2] === rgb[2]) n++;
  return n;
}

const RED = COLORS[0];
const BLUE = COLORS[1];

describe('plot', () => {
  const panel = (series: Panel['series']): Panel => ({ title: 'Files in the live hour', xLabel: 'minute', yLabel: 'files', series });

  it('renders a PNG of the asked size holding each curve colour', () => {
    const png = renderPlot(
      [
        panel([
          { name: 'compaction off', color: RED, points: [[1, 10], [2, 40], [3, 90]] },
          { name: 'compaction on', color: BLUE, points: [[1, 10], [2, 12], [3, 11]] },
        ]),
        panel([{ name: 'compaction on', color: BLUE, points: [[1, 5], [2, null], [3, 6]] }]),
      ],
      { width: 640, panelHeight: 300 },
    );
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const { width, height, data } = decodePng(png);
    expect([width, height]).toEqual([640, 600]);
    // Curves (2 px wide), markers and legend swatches: far more than a stray pixel of each.
    expect(pixelsOf(data, RED)).toBeGreaterThan(200);
    expect(pixelsOf(data, BLUE)).toBeGreaterThan(200);
    // The axes and text are black; the background white.
    expect(pixelsOf(data, [0, 0, 0])).toBeGreaterThan(1000);
    expect(pixelsOf(data, [255, 255, 255])).toBeGreaterThan((width * height) / 2);
  });

  it('draws the red curve in the half of the image where its points are', () => {
    // One panel, one series, rising: its pixels lie in the right half far more than in the left.
    const { width, data } = decodePng(renderPlot([panel([{ name: 'x', color: RED, points: [[0, 0], [10, 100]] }])], { width: 600, panelHeight: 300 }));
    let left = 0;
    let right = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== RED[0] || data[i + 1] !== RED[1] || data[i + 2] !== RED[2]) continue;
      if ((i / 4) % width < width / 2) left++;
      else right++;
    }
    expect(left + right).toBeGreaterThan(300);
    // The legend swatch sits top right; the line crosses both halves about equally otherwise.
    expect(right).toBeGreaterThan(left);
  });

  it('draws no curve colour for a series without points, and refuses a panel too small', () => {
    const { data } = decodePng(renderPlot([panel([{ name: 'empty', color: RED, points: [] }])], { width: 400, panelHeight: 200 }));
    // Only the legend swatch (24 x 5) is red.
    expect(pixelsOf(data, RED)).toBe(24 * 5);
    expect(() => renderPlot([], {})).toThrow('no panel');
    expect(() => renderPlot([panel([])], { width: 100, panelHeight: 100 })).toThrow('too small');
  });

  it('ticks at round steps covering the data, labelled with the decimals the step needs', () => {
    expect(niceTicks(0, 97)).toEqual({ step: 20, ticks: [0, 20, 40, 60, 80, 100] });
    expect(niceTicks(0, 10)).toEqual({ step: 2, ticks: [0, 2, 4, 6, 8, 10] });
    expect(niceTicks(0, 0.37).step).toBe(0.1);
    expect(niceTicks(5, 5).ticks).toEqual([5, 5.2, 5.4, 5.6, 5.8, 6]);
    expect(tickLabel(40, 20)).toBe('40');
    expect(tickLabel(0.30000000000000004, 0.1)).toBe('0.3');
    const r = panelRanges(panel([{ name: 'a', color: RED, points: [[0.5, 3], [10, 230], [4, null]] }]));
    expect(r.x.min).toBe(0);
    expect(r.x.max).toBe(10);
    expect(r.y.max).toBe(250);
  });

  it('has a glyph for every character the plot labels use, lower case drawn as capitals', () => {
    for (const ch of 'FILES IN THE LIVE HOUR (MAX) 0123456789 minute ms: count, sum/per-host % = + _ < >.') expect(hasGlyph(ch)).toBe(true);
    expect(glyph('a')).toEqual(glyph('A'));
    expect(hasGlyph('~')).toBe(false);
    for (const ch of '0123456789AZ') {
      expect(glyph(ch)).toHaveLength(7);
      for (const row of glyph(ch)) expect(row).toMatch(/^[# ]{5}$/);
    }
  });
});

describe('live hour files', () => {
  let dir = '';
  const start = Date.UTC(2026, 11, 5, 9, 58, 0);
  const names = ['m0', 'm1', 'm2'];

  function put(m: string, ms: number, files: string[]): void {
    const d = path.join(dir, 'db', m, ...hourPath(ms).split('/'));
    fs.mkdirSync(d, { recursive: true });
    for (const f of files) fs.writeFileSync(path.join(d, f), '');
  }

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compaction-bench-'));
    put('m0', start, ['a.parquet', 'b.parquet', 'c.parquet', 'd.parquet.tmp', 'e.tmp']);
    put('m1', start, ['a.parquet']);
    put('m0', start + HOUR_MS, ['x.parquet']);
    put('m2', start + HOUR_MS, ['x.parquet', 'y.parquet']);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('names the UTC hour directory of a time', () => {
    expect(hourPath(start)).toBe('2026/12/05/09');
    expect(hourPath(Date.UTC(2027, 0, 1, 0, 0, 0) - 1)).toBe('2026/12/31/23');
  });

  it('counts the *.parquet files of the live hour, max and total over the measurements', () => {
    const r = liveHourFiles({ parquetRoot: dir, database: 'db', measurements: names, nowMs: start + 60_000, runStartMs: start });
    expect(r).toMatchObject({ hour: '2026/12/05/09', per_measurement: [3, 1, 0], max: 3, total: 4, previous_hour: null, previous: null });
  });

  it('adds the previous hour once the run straddles an hour boundary', () => {
    const r = liveHourFiles({ parquetRoot: dir, database: 'db', measurements: names, nowMs: start + 5 * 60_000, runStartMs: start });
    expect(r).toMatchObject({ hour: '2026/12/05/10', per_measurement: [1, 0, 2], max: 2, total: 3, previous_hour: '2026/12/05/09', previous: { max: 3, total: 4 } });
  });
});

describe('steady schedule and summaries', () => {
  it('offers the rate shared over the parts, each row at its own microsecond', () => {
    const s = steadySchedule(20_000, 20);
    expect(s.perPart).toBe(1000);
    expect(s.due(0, 0)).toBe(0);
    expect(s.due(3, 1500)).toBe(1500);
    expect(s.due(3, 600_000)).toBe(600_000);
    const times = Array.from({ length: 2000 }, (_, i) => s.timeUs(1_000_000, i));
    expect(new Set(times).size).toBe(2000);
    expect(times[1000]).toBe(2_000_000); // the 1000th row of a 1000 rows/s part: 1 s later
    expect(windowRate({ atMs: 0, rowsAcked: 0 }, { atMs: 2000, rowsAcked: 30_000 })).toBe(15_000);
    expect(windowRate({ atMs: 5, rowsAcked: 0 }, { atMs: 5, rowsAcked: 3 })).toBeNull();
    expect(fellBehind(1000, 799)).toBe(true);
    expect(fellBehind(1000, 800)).toBe(false);
    expect(fellBehind(0, 0)).toBe(false);
  });

  it('flags a count over the live hour that fell or passed the rows acknowledged', () => {
    expect(countAnomaly(null, 100, 100)).toBeNull();
    expect(countAnomaly(100, 100, 150)).toBeNull();
    expect(countAnomaly(100, 99, 150)).toMatch(/fell below the 100/);
    expect(countAnomaly(100, 151, 150)).toMatch(/above the 150 rows acknowledged/);
  });

  const sample = (minute: number, max: number, total: number, countSum: number | null, perHost: number, rate: number) => ({
    minute,
    files: { hour: '2026/12/05/09', max, total, previous_hour: null, previous: null },
    query_ms: { count_sum: countSum, per_host: perHost },
    ingest_rows_per_s: rate,
    server_cpu_seconds: 1.5,
  });

  it('summarizes a mode: highest file counts, first/last/median query times, growth, the 32-file bar', () => {
    const samples = [sample(1, 12, 240, 10, 20, 19_000), { ...sample(2, 24, 480, null, 30, 20_000), query_errors: 2 }, sample(3, 36, 720, 25, 40, 21_000)];
    expect(summarizeSamples(samples)).toEqual({
      samples: 3,
      live_files_max: 36,
      live_files_total_max: 720,
      live_files_at_most_bar: false,
      count_sum_ms: { first: 10, last: 25, max: 25, median: 17.5 },
      per_host_ms: { first: 20, last: 40, max: 40, median: 30 },
      count_sum_growth: 2.5,
      ingest_rows_per_s_median: 20_000,
      query_errors: 2,
    });
    expect(summarizeSamples([sample(1, 16, 300, 9, 9, 1)]).live_files_at_most_bar).toBe(true);
    const table = samplesTable('off', samples);
    expect(table.split('\n')).toHaveLength(3 + 3);
    expect(table).toContain('| 2 | 2026/12/05/09 | 24 / 480 | - | - | 30 | 20000 | 1.5 |');
    const panels = plotPanels({ off: samples, on: [sample(1, 10, 200, 8, 9, 20_000)] }, COLORS);
    expect(panels).toHaveLength(3);
    expect(panels[0]?.series.map((s) => s.name)).toEqual(['compaction off', 'compaction on']);
    expect(panels[0]?.series[0]?.points).toEqual([[1, 12], [2, 24], [3, 36]]);
    expect(panels[1]?.series[0]?.points).toEqual([[1, 10], [2, null], [3, 25]]);
  });

  it('takes the median of each mode in --saturate and the on/off ratio', () => {
    const run = (rate: number, perCpu: number) => ({ rows_per_s: rate, rows_per_server_cpu_s: perCpu, read_back_ok: true });
    const jobs = (succeeded: number) => ({ compaction_jobs: { succeeded, unfinished: 1 } });
    const s = saturateSummary({
      off: [run(500_000, 300_000), run(600_000, 310_000), run(550_000, 290_000)],
      on: [{ ...run(450_000, 250_000), ...jobs(4) }, { ...run(520_000, 280_000), ...jobs(5) }, run(480_000, 270_000)],
    });
    expect(s.modes).toEqual({
      off: { runs: 3, rows_per_s: 550_000, rows_per_server_cpu_s: 300_000, read_back_ok: true, compaction_jobs_succeeded: null, compaction_jobs_unfinished: null },
      on: { runs: 3, rows_per_s: 480_000, rows_per_server_cpu_s: 270_000, read_back_ok: true, compaction_jobs_succeeded: 9, compaction_jobs_unfinished: 2 },
    });
    expect(s.on_vs_off).toEqual({ rows_per_s: 0.873, rows_per_server_cpu_s: 0.9 });
    expect(saturateSummary({ off: [run(1, 1)] }).on_vs_off).toEqual({ rows_per_s: null, rows_per_server_cpu_s: null });
  });

  it('reads the samples of earlier runs back from their JSON lines (--replot), by mode and in order', () => {
    const lines = [
      JSON.stringify({ bench: 'compaction', mode: 'off', minute: 1 }),
      JSON.stringify({ summary: 'compaction-mode', mode: 'off' }),
      JSON.stringify({ bench: 'compaction', mode: 'off', minute: 2 }),
      '',
      JSON.stringify({ bench: 'compaction', mode: 'on', minute: 1 }),
    ].join('\n');
    const byMode = samplesFromJsonLines(lines);
    expect(Object.keys(byMode)).toEqual(['off', 'on']);
    expect(byMode.off?.map((s) => s.minute)).toEqual([1, 2]);
    expect(() => parseOptions(['--replot', 'a.jsonl'])).toThrow('--replot needs --plot');
  });

  it('parses its options (smoke scale, modes, bad values)', () => {
    expect(parseOptions(['--smoke'])).toMatchObject({ modes: ['off', 'on'], seconds: 20, sampleSeconds: 5, rate: 5000, measurements: 20 });
    expect(parseOptions(['--mode', 'on', '--minutes', '10'])).toMatchObject({ modes: ['on'], seconds: 600, sampleSeconds: 60, rate: 20_000 });
    expect(() => parseOptions(['--mode', 'maybe'])).toThrow('--mode');
    expect(() => parseOptions(['--minutes', '0.5', '--sample-seconds', '60'])).toThrow('longer than the run');
    expect(() => parseOptions(['--rate', '30000000', '--measurements', '20'])).toThrow('1,000,000');
    expect(measurementNames(20)[0]).toBe('m00');
    expect(measurementNames(20)[19]).toBe('m19');
    expect(measurementNames(3)).toEqual(['m0', 'm1', 'm2']);
  });
});

describe('query.mjs --compact: answers before and after', () => {
  const q = { sql: 'SELECT hostname, max(usage_user) FROM cpu GROUP BY hostname', ordered: false };
  const body = (rows: unknown[][]) => ({ columns: ['hostname', 'm'], data: rows });

  it('accepts the same rows in another order where the SQL fixes none, and floats within 1e-9', () => {
    const log: AnswerLog = { mode: 'record', bySql: new Map() };
    expect(logAnswer(log, q, body([['host_0', 1.5], ['host_1', 2]]), ['text', 'float'])).toBeNull();
    log.mode = 'check';
    expect(logAnswer(log, q, body([['host_1', 2], ['host_0', 1.5 * (1 + 1e-12)]]), ['text', 'float'])).toBeNull();
  });

  it('names a changed value, a lost row, an order change where ORDER BY fixes one, and an SQL never seen', () => {
    const log: AnswerLog = { mode: 'record', bySql: new Map() };
    const ordered = { sql: 'SELECT 1 ORDER BY 1', ordered: true };
    logAnswer(log, q, body([['host_0', 1], ['host_1', 2]]), ['text', 'integer']);
    logAnswer(log, ordered, body([['a', 1], ['b', 2]]), ['text', 'integer']);
    log.mode = 'check';
    expect(logAnswer(log, q, body([['host_0', 1], ['host_1', 3]]), null)).toMatch(/row 1 column m: expected "2", got "3"/);
    expect(logAnswer(log, q, body([['host_0', 1]]), null)).toBe('row count differs: expected 2, got 1');
    expect(logAnswer(log, ordered, body([['b', 2], ['a', 1]]), null)).toMatch(/row 0 column hostname/);
    expect(logAnswer(log, { sql: 'SELECT 2', ordered: true }, body([]), null)).toBe('no answer before compaction to compare with');
  });

  it('adds up the jobs of a history: by state and tier, files and rows in and out', () => {
    const job = (tier: string, state: string, inputFiles: number, inputRows: number | null) => ({ tier, state, inputFiles, outputFiles: 1, inputRows, outputRows: inputRows, durationMs: 10 });
    expect(jobTotals([job('live', 'succeeded', 17, 1000), job('live', 'failed', 20, null), job('daily', 'succeeded', 20, 432_000), job('live', 'running', 3, null)])).toEqual({
      by_tier: { live: 3, daily: 1 },
      succeeded: 2,
      failed: 1,
      unfinished: 1,
      input_files: 60,
      output_files: 4,
      input_rows: 433_000,
      output_rows: 433_000,
      duration_ms: 40,
    });
  });

  it('moves the scheduled tiers to once a day, 12 hours from the start', () => {
    expect(compactEnv(Date.UTC(2026, 11, 5, 9, 47, 30))).toEqual({ ARC_COMPACTION_HOURLY_SCHEDULE: '47 21 * * *', ARC_COMPACTION_DAILY_SCHEDULE: '47 21 * * *' });
    expect(compactEnv(Date.UTC(2026, 11, 31, 20, 5, 0)).ARC_COMPACTION_HOURLY_SCHEDULE).toBe('5 8 * * *');
  });

  it('sums up each query before and after with their ratio and whether the answers held', () => {
    const s = compactionSummary(
      [
        { query: 'lastpoint', median_ms: 40 },
        { query: 'high-cpu-all', median_ms: 200 },
      ],
      [
        { query: 'lastpoint', median_ms: 10, same_as_before: true },
        { query: 'high-cpu-all', median_ms: 150, same_as_before: false },
      ],
      { rounds: 2 },
    );
    expect(s.queries).toEqual([
      { query: 'lastpoint', before_ms: 40, after_ms: 10, after_over_before: 0.25, same_answers: true },
      { query: 'high-cpu-all', before_ms: 200, after_ms: 150, after_over_before: 0.75, same_answers: false },
    ]);
    expect(s.same_answers).toBe(false);
    expect(s.compaction).toEqual({ rounds: 2 });
  });
});
