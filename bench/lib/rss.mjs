// @ts-check
// The server's resident memory over a run (for "server RSS under sustained peak load for 10
// minutes: flat after warm-up, <= 2 GiB", docs/benchmarks.md): samples taken every second, and
// what they say: the peak, and the growth after the warm-up as a least-squares line (a single
// sample's garbage-collection sawtooth moves the line little; a leak moves it every minute).
import { round, treeRssBytes } from './arc-server.mjs';

/** Milliseconds between two samples of the server's RSS. */
export const RSS_SAMPLE_INTERVAL_MS = 1000;
/**
 * The warm-up (pools filled, JIT done, caches sized, connections open) is the run's first quarter,
 * at most this long. Left out of the RSS growth and of the latency percentiles "after warm-up".
 */
export const WARMUP_MAX_S = 60;

/** @typedef {{ atS: number, bytes: number }} RssSample seconds since the start of the run */

/**
 * Warm-up seconds of a run of `seconds`.
 * @param {number} seconds
 */
export function warmupSeconds(seconds) {
  return Math.min(WARMUP_MAX_S, seconds / 4);
}

/**
 * Samples `pid`'s tree RSS every RSS_SAMPLE_INTERVAL_MS until `stop()`, which returns the samples.
 * @param {number} pid
 */
export function startRssSampler(pid) {
  const t0 = performance.now();
  /** @type {RssSample[]} */
  const samples = [];
  const take = () => {
    const bytes = treeRssBytes(pid);
    if (bytes !== null) samples.push({ atS: (performance.now() - t0) / 1000, bytes });
  };
  take();
  const timer = setInterval(take, RSS_SAMPLE_INTERVAL_MS);
  return {
    stop() {
      clearInterval(timer);
      take();
      return samples;
    },
  };
}

/**
 * The JSON line's `server_rss`: the peak over the whole run, and the least-squares line through
 * the samples after the warm-up: its slope, and its rise from the end of the warm-up to the last
 * sample as a percentage of its value at the end of the warm-up (`growth_after_warmup_pct`; a
 * flat RSS is ~0, a shrinking one negative). Null figures when too few samples follow the warm-up.
 * @param {readonly RssSample[]} samples
 * @param {number} warmupS
 */
export function rssSummary(samples, warmupS) {
  const after = samples.filter((s) => s.atS >= warmupS);
  const line = leastSquares(after);
  const lastS = after.at(-1)?.atS ?? null;
  const atWarmupEnd = line === null ? null : line.intercept + line.slope * warmupS;
  const atEnd = line === null || lastS === null ? null : line.intercept + line.slope * lastS;
  return {
    interval_s: RSS_SAMPLE_INTERVAL_MS / 1000,
    samples: samples.length,
    max_bytes: samples.length ? Math.max(...samples.map((s) => s.bytes)) : null,
    warmup_s: round(warmupS, 2),
    samples_after_warmup: after.length,
    slope_bytes_per_s: line === null ? null : Math.round(line.slope),
    after_warmup_start_bytes: atWarmupEnd === null ? null : Math.round(atWarmupEnd),
    after_warmup_end_bytes: atEnd === null ? null : Math.round(atEnd),
    growth_after_warmup_pct: atWarmupEnd !== null && atEnd !== null && atWarmupEnd > 0 ? round(((atEnd - atWarmupEnd) / atWarmupEnd) * 100, 2) : null,
  };
}

/**
 * The least-squares line bytes = intercept + slope * atS, or null for fewer than 2 distinct times.
 * @param {readonly RssSample[]} samples
 */
function leastSquares(samples) {
  const n = samples.length;
  if (n < 2) return null;
  const meanT = samples.reduce((a, s) => a + s.atS, 0) / n;
  const meanB = samples.reduce((a, s) => a + s.bytes, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const s of samples) {
    covariance += (s.atS - meanT) * (s.bytes - meanB);
    variance += (s.atS - meanT) ** 2;
  }
  if (variance === 0) return null;
  const slope = covariance / variance;
  return { slope, intercept: meanB - slope * meanT };
}
