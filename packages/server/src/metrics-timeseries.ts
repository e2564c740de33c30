import assert from 'node:assert/strict';

/** One sample of a time series: when, and named values (counters as totals, gauges as read). */
export interface TimeseriesPoint {
  readonly time: string;
  readonly values: Readonly<Record<string, number>>;
}

/** What each type samples; the console draws rates from consecutive totals. */
export type TimeseriesReaders = Readonly<Record<string, () => Record<string, number>>>;

/**
 * Recent values for a console (GET /metrics/timeseries/{type}): every `intervalMs` each type's
 * reader is sampled into a ring of `pointsMax` points, the oldest dropped: memory is bounded by
 * types x points x values, whatever the uptime. The timer never keeps the process alive.
 */
export class RecentValues {
  readonly intervalMs: number;
  readonly #pointsMax: number;
  readonly #readers: TimeseriesReaders;
  readonly #rings = new Map<string, TimeseriesPoint[]>();
  readonly #timer: NodeJS.Timeout;

  constructor(readers: TimeseriesReaders, intervalMs: number, pointsMax: number) {
    assert.ok(intervalMs > 0, 'a positive interval');
    assert.ok(Number.isInteger(pointsMax) && pointsMax > 0, 'at least one point');
    this.intervalMs = intervalMs;
    this.#pointsMax = pointsMax;
    this.#readers = readers;
    for (const type of Object.keys(readers)) this.#rings.set(type, []);
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  get types(): string[] {
    return [...this.#rings.keys()];
  }

  /** The points of a type, oldest first; null for a type that does not exist. */
  points(type: string): readonly TimeseriesPoint[] | null {
    return this.#rings.get(type) ?? null;
  }

  sample(): void {
    const time = new Date().toISOString();
    for (const [type, ring] of this.#rings) {
      const read = this.#readers[type];
      assert.ok(read !== undefined, 'a reader per ring');
      ring.push({ time, values: read() });
      if (ring.length > this.#pointsMax) ring.shift();
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
