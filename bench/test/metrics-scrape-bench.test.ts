// Proves bench/metrics/scrape.mjs's pure parts are right: options (--smoke shrinks the runs, bad
// values are refused), an exposition answer's series and named databases are counted as written,
// the scrape and ingest summaries' medians, target verdict and scrape-vs-none ratios match figures
// worked out by hand, and a main thread's CPU ticks are read from /proc.
import { describe, expect, it } from 'vitest';
import { describeAnswer, ingestSummary, mainThreadTicks, parseOptions, scrapeSummary } from '../metrics/scrape.mjs';
import { UsageError } from '../lib/cli.mjs';

describe('bench/metrics/scrape.mjs', () => {
  it('reads its options, --smoke shrinking the runs and explicit values winning', () => {
    expect(parseOptions([])).toMatchObject({ parts: ['scrape', 'ingest'], databases: 100, scrapes: 200, seconds: 20, runs: 3, intervalMs: 1000 });
    expect(parseOptions(['--smoke'])).toMatchObject({ smoke: true, databases: 100, scrapes: 20, seconds: 3, runs: 1 });
    expect(parseOptions(['--smoke', '--scrapes', '7', '--part', 'scrape'])).toMatchObject({ parts: ['scrape'], scrapes: 7 });
    expect(parseOptions(['--help'])).toBeNull();
    expect(() => parseOptions(['--part', 'both'])).toThrow(UsageError);
    expect(() => parseOptions(['--databases', '0'])).toThrow(UsageError);
    expect(() => parseOptions(['--interval-ms', '1.5'])).toThrow(UsageError);
  });

  it('counts the series of an answer and the databases arc_ingest_rows_total names', () => {
    const text = [
      '# HELP arc_ingest_rows_total Rows ingested.',
      '# TYPE arc_ingest_rows_total counter',
      'arc_ingest_rows_total{protocol="msgpack",database="a"} 10',
      'arc_ingest_rows_total{protocol="line_protocol",database="a"} 5',
      'arc_ingest_rows_total{protocol="msgpack",database="b\\"q"} 1',
      'arc_ingest_bytes_total{protocol="msgpack",database="c"} 100',
      'arc_uptime_seconds 12.5',
      '',
    ].join('\n');
    expect(describeAnswer(text)).toEqual({ series: 5, databases: 2 });
  });

  it('summarises pairs: each mode\'s median and scrape over none', () => {
    const run = (pair: number, mode: string, rows: number, perCpu: number) => ({ pair, mode, rows_per_s: rows, rows_per_server_cpu_s: perCpu, read_back_ok: true });
    const summary = ingestSummary([
      run(1, 'none', 1000, 500),
      run(1, 'scrape', 950, 480),
      run(2, 'scrape', 1100, 520),
      run(2, 'none', 1000, 510),
      run(3, 'none', 800, 400),
      run(3, 'scrape', 820, 390),
    ]);
    expect(summary.modes).toEqual({ none: { runs: 3, rows_per_s: 1000, rows_per_server_cpu_s: 500 }, scrape: { runs: 3, rows_per_s: 950, rows_per_server_cpu_s: 480 } });
    expect(summary.scrape_vs_none).toEqual({ rows_per_s: 0.95, pair_ratios: [0.95, 1.1, 1.025], pair_ratio_median: 1.025 });
    expect(summary.read_back_ok).toBe(true);
    expect(ingestSummary([{ ...run(1, 'none', 1, 1), read_back_ok: false }]).read_back_ok).toBe(false);
  });

  it('summarises scrape rounds: the median of each probe over the rounds, and the target verdict', () => {
    const probe = (median: number, p99: number, cpu: number) => ({ median, p99, max: p99, main_thread_cpu_ms: cpu });
    const round = (text: number, open: number, health: number) => ({ databases: 100, databases_labelled: 100, series: 800, answer_bytes: 60_000, scrapes: 200, scrape_ms: { text: probe(text, text * 3, 2), openmetrics: probe(open, open * 3, 3), health: probe(health, health * 2, 0.5) } });
    const summary = scrapeSummary([round(4, 6, 1), round(3, 5, 2), round(9, 9, 1)]);
    expect(summary.scrape_ms).toEqual({ text: { median: 4, p99: 12, main_thread_cpu_ms: 2 }, openmetrics: { median: 6, p99: 18, main_thread_cpu_ms: 3 }, health: { median: 1, p99: 2, main_thread_cpu_ms: 0.5 } });
    expect(summary).toMatchObject({ rounds: 3, databases_labelled: 100, target_ms: 5, target_met: true });
    expect(scrapeSummary([round(5, 5, 1)]).target_met).toBe(false);
  });

  it('reads a live process\'s main-thread CPU ticks, and null for no process', () => {
    const spent = Date.now() + 30;
    while (Date.now() < spent) Math.sqrt(Math.random());
    expect(mainThreadTicks(process.pid)).toBeGreaterThan(0);
    expect(mainThreadTicks(2 ** 22 + 12_345)).toBeNull();
  });
});
