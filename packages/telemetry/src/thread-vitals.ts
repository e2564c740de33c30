import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { VITALS_SAMPLE_MS } from './limits.js';
import type { GaugeCell } from './telemetry-block.js';

/** The gauges every thread with an event loop publishes; spread them into a layout's gauges. */
export const VITAL_GAUGES = ['eventLoopLagSeconds', 'heapUsedBytes'] as const;

const NANOSECONDS_PER_SECOND = 1e9;
/** Resolution of the event-loop delay sampler, in ms (Node's default is 10). */
const LAG_RESOLUTION_MS = 10;

/**
 * Samples this thread's vitals every VITALS_SAMPLE_MS: the event-loop delay (the longest delay of
 * the last interval, in seconds: what a request arriving then would have waited) and the V8 heap
 * in use (per thread: each worker has its own isolate). Returns the function that stops it; the
 * timer never keeps the thread alive.
 */
export function startThreadVitals(lagSeconds: GaugeCell, heapUsedBytes: GaugeCell): () => void {
  const delay = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  delay.enable();
  const sample = (): void => {
    // The sampler's own resolution is counted in every delay: what exceeds it is lag.
    lagSeconds.set(Math.max(0, delay.max / NANOSECONDS_PER_SECOND - LAG_RESOLUTION_MS / 1000));
    delay.reset();
    heapUsedBytes.set(getHeapStatistics().used_heap_size);
  };
  sample();
  const timer = setInterval(sample, VITALS_SAMPLE_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay.disable();
  };
}

/**
 * The vitals of a thread without an event loop (a decoder sleeping in Atomics.wait): its "lag" is
 * the longest stretch of the last VITALS_SAMPLE_MS between two looks at its queue, sleeps left
 * out, which is how long a request arriving then could have waited, like a busy event loop's delay.
 * The thread calls `looked()` each time it checks its queue and `woke()` after each sleep.
 */
export class PolledVitals {
  readonly #lagSeconds: GaugeCell;
  readonly #heapUsedBytes: GaugeCell;
  readonly #windowMs: number;
  #lastLookMs = performance.now();
  #windowStartMs = this.#lastLookMs;
  #longestMs = 0;

  /** `windowMs`: how often the gauges are published (tests shorten it). */
  constructor(lagSeconds: GaugeCell, heapUsedBytes: GaugeCell, windowMs = VITALS_SAMPLE_MS) {
    this.#lagSeconds = lagSeconds;
    this.#heapUsedBytes = heapUsedBytes;
    this.#windowMs = windowMs;
  }

  /** `nowMs`: the caller's reading of performance.now(), when it has one for this look already. */
  looked(nowMs: number = performance.now()): void {
    this.#longestMs = Math.max(this.#longestMs, nowMs - this.#lastLookMs);
    this.#lastLookMs = nowMs;
    if (nowMs - this.#windowStartMs < this.#windowMs) return;
    this.#lagSeconds.set(this.#longestMs / 1000);
    this.#heapUsedBytes.set(getHeapStatistics().used_heap_size);
    this.#longestMs = 0;
    this.#windowStartMs = nowMs;
  }

  woke(): void {
    this.#lastLookMs = performance.now();
  }
}
