// @ts-check
// The pure parts of bench/compaction/compaction.mjs: where a measurement's hour of files lives,
// how many Parquet files the live (and previous) hour hold, the steady-rate schedule of the
// ingest, and the per-mode summary and table. No server, no timers: the tests drive these.
import fs from 'node:fs';
import path from 'node:path';
import { median, round } from '../lib/arc-server.mjs';

export const HOUR_MS = 3_600_000;
/** Arc's Parquet files sit under <data_dir>/arc/<database>/<measurement>/YYYY/MM/DD/HH/. */
export const PARQUET_SUBDIR = 'arc';
/** Below this share of the offered rate over a whole run, the ingest "fell behind badly". */
export const BEHIND_RATIO = 0.8;
/** The bar with compaction on: a live hour never holds more files than this. */
export const LIVE_FILES_BAR = 32;

/**
 * `YYYY/MM/DD/HH` (UTC) of the hour holding `ms`: the hour directory of a row stamped `ms`.
 * @param {number} ms
 */
export function hourPath(ms) {
  const d = new Date(ms);
  const p2 = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(d.getUTCHours())}`;
}

/**
 * `*.parquet` files directly in `dir` (0 when it does not exist yet). Staging and temp files of
 * the writer and of compaction do not end in `.parquet`, so they are not counted.
 * @param {string} dir
 */
export function countParquetIn(dir) {
  try {
    return fs.readdirSync(dir).filter((name) => name.endsWith('.parquet')).length;
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return 0;
    throw err;
  }
}

/**
 * Max and total of per-measurement counts.
 * @param {readonly number[]} counts
 */
export function maxAndTotal(counts) {
  return { max: counts.length ? Math.max(...counts) : 0, total: counts.reduce((a, b) => a + b, 0) };
}

/**
 * Files of each measurement in the hour of `nowMs` (the live hour) and, when the run started
 * in an earlier hour, in the hour before (`previous`; null otherwise): rows stamped just before
 * the hour turned are still being flushed and compacted there.
 * @param {{ parquetRoot: string, database: string, measurements: readonly string[], nowMs: number, runStartMs: number }} o
 */
export function liveHourFiles(o) {
  const live = hourPath(o.nowMs);
  const previousMs = o.nowMs - HOUR_MS;
  const straddles = hourPath(o.runStartMs) !== live;
  const previous = straddles ? hourPath(previousMs) : null;
  const at = (/** @type {string} */ m, /** @type {string} */ hour) => countParquetIn(path.join(o.parquetRoot, o.database, m, ...hour.split('/')));
  const liveCounts = o.measurements.map((m) => at(m, live));
  const previousCounts = previous === null ? null : o.measurements.map((m) => at(m, previous));
  return {
    hour: live,
    per_measurement: liveCounts,
    ...maxAndTotal(liveCounts),
    previous_hour: previous,
    previous: previousCounts === null ? null : maxAndTotal(previousCounts),
  };
}

/**
 * Rows due by `elapsedMs` at `rate` rows/s, shared out over `parts` measurements: part i's
 * count. Rows are never due twice: a caller sends `due(i, t) - sent[i]`.
 * @param {number} rate rows per second, all parts together
 * @param {number} parts
 */
export function steadySchedule(rate, parts) {
  const perPart = rate / parts;
  return {
    perPart,
    /**
     * @param {number} _part
     * @param {number} elapsedMs
     */
    due(_part, elapsedMs) {
      return Math.floor((perPart * Math.max(0, elapsedMs)) / 1000);
    },
    /**
     * The microsecond timestamp of a part's `index`-th row: its ideal send time, so every row of a
     * part has its own instant (distinct (tags, time) keys, nothing for dedup to merge) as long
     * as a part gets at most 1,000,000 rows/s.
     * @param {number} startUs
     * @param {number} index
     */
    timeUs(startUs, index) {
      return startUs + Math.floor((index * 1e6) / perPart);
    },
  };
}

/**
 * Rows/s acknowledged between two samples.
 * @param {{ atMs: number, rowsAcked: number }} prev
 * @param {{ atMs: number, rowsAcked: number }} cur
 */
export function windowRate(prev, cur) {
  const s = (cur.atMs - prev.atMs) / 1000;
  return s > 0 ? Math.round((cur.rowsAcked - prev.rowsAcked) / s) : null;
}

/**
 * A mode's closing figures from its samples: the highest file counts, the query times at the
 * first and last sample and their ratio (1 = flat), and whether the live-hour bar held.
 * @param {readonly any[]} samples each `{ files: { max, total }, query_ms: { count_sum, per_host }, ingest_rows_per_s, query_errors }`
 */
export function summarizeSamples(samples) {
  const countSum = samples.map((s) => s.query_ms.count_sum).filter((v) => typeof v === 'number');
  const perHost = samples.map((s) => s.query_ms.per_host).filter((v) => typeof v === 'number');
  const filesMax = samples.length ? Math.max(...samples.map((s) => s.files.max)) : null;
  const first = countSum[0] ?? null;
  const last = countSum.at(-1) ?? null;
  const med = median(samples.map((s) => s.ingest_rows_per_s));
  return {
    samples: samples.length,
    live_files_max: filesMax,
    live_files_total_max: samples.length ? Math.max(...samples.map((s) => s.files.total)) : null,
    live_files_at_most_bar: filesMax === null ? null : filesMax <= LIVE_FILES_BAR,
    count_sum_ms: { first, last, max: countSum.length ? Math.max(...countSum) : null, median: med2(median(countSum)) },
    per_host_ms: { first: perHost[0] ?? null, last: perHost.at(-1) ?? null, max: perHost.length ? Math.max(...perHost) : null, median: med2(median(perHost)) },
    // Last over first query time: how much the query over the live hour slowed down over the run.
    count_sum_growth: first && last ? round(last / first, 2) : null,
    ingest_rows_per_s_median: med === null ? null : Math.round(med),
    // A query that fails while files are merged is a defect, whatever its time.
    query_errors: samples.reduce((a, s) => a + (s.query_errors ?? 0), 0),
  };
}

/** @param {number | null} v */
function med2(v) {
  return v === null ? null : round(v, 2);
}

/**
 * What is impossible about a count(*) of one measurement's last hour during a run shorter than
 * an hour (rows are only added): fewer rows than the count before (rows missed) or more than
 * were acknowledged when it answered (rows counted twice). Null when neither.
 * @param {number | null} previous the count before, null for the first
 * @param {number} visible
 * @param {number} acked rows of the measurement acknowledged when the answer arrived
 */
export function countAnomaly(previous, visible, acked) {
  if (visible > acked) return `count ${visible} is above the ${acked} rows acknowledged (a row counted twice?)`;
  if (previous !== null && visible < previous) return `count ${visible} fell below the ${previous} counted before (rows missed?)`;
  return null;
}

/**
 * Whether a run's acknowledged rows fell badly behind what it offered.
 * @param {number} offeredRows
 * @param {number} ackedRows
 */
export function fellBehind(offeredRows, ackedRows) {
  return offeredRows > 0 && ackedRows < BEHIND_RATIO * offeredRows;
}

/**
 * The Markdown table of one mode's samples.
 * @param {string} mode
 * @param {readonly any[]} samples
 */
export function samplesTable(mode, samples) {
  /** @param {unknown} v */
  const cell = (v) => (v === null || v === undefined ? '-' : String(v));
  const out = [
    `compaction ${mode}:`,
    '| minute | live hour | files max / total | previous hour max / total | count+sum ms | per-host ms | ingest rows/s | server CPU-s |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of samples) {
    const prev = s.files.previous ? `${s.files.previous.max} / ${s.files.previous.total}` : '-';
    out.push(
      `| ${cell(s.minute)} | ${s.files.hour} | ${s.files.max} / ${s.files.total} | ${prev} | ${cell(s.query_ms.count_sum)} | ${cell(s.query_ms.per_host)} | ` +
        `${cell(s.ingest_rows_per_s)} | ${cell(s.server_cpu_seconds)} |`,
    );
  }
  return out.join('\n');
}

/**
 * The plot's panels from each mode's samples: files in the live hour (max over the
 * measurements) and the count+sum query's median ms, against minutes.
 * @param {Readonly<Record<string, readonly any[]>>} samplesByMode
 * @param {readonly (readonly [number, number, number])[]} colors
 * @returns {import('./plot.mjs').Panel[]}
 */
export function plotPanels(samplesByMode, colors) {
  const modes = Object.keys(samplesByMode);
  /**
   * @param {(s: any) => number | null} value
   * @returns {import('./plot.mjs').Series[]}
   */
  const series = (value) =>
    modes.map((mode, i) => ({
      name: `compaction ${mode}`,
      color: /** @type {readonly [number, number, number]} */ (colors[i % colors.length]),
      points: (samplesByMode[mode] ?? []).map((s) => /** @type {const} */ ([s.minute, value(s)])),
    }));
  return [
    { title: 'Files in the live hour (max over the measurements)', xLabel: 'minute', yLabel: 'files', series: series((s) => s.files.max) },
    { title: 'SELECT count, sum over the last hour: median ms', xLabel: 'minute', yLabel: 'ms', series: series((s) => s.query_ms.count_sum) },
    { title: 'Per-host aggregate over the last hour: median ms', xLabel: 'minute', yLabel: 'ms', series: series((s) => s.query_ms.per_host) },
  ];
}
