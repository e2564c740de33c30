import assert from 'node:assert/strict';
import { HistogramCell, type HistogramSnapshot } from '@arc/telemetry';

/** Label values of one series, in the order of its family's label names. */
export type LabelValues = readonly string[];

/** One sample as prom-client's registry renders it (text, OpenMetrics, JSON). */
export interface Sample {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  /** `<name>_bucket`, `_sum`, `_count` for histograms; absent: the family's name. */
  readonly metricName?: string;
}

export type SeriesType = 'counter' | 'gauge' | 'histogram';

/**
 * A counter with labels kept on the main thread (the acceptor): a series is a number in a Map,
 * looked up once per label set by the caller (`series()` returns a cell it keeps), so counting a
 * request is one property add. Label values come from bounded sets (routes, statuses, folded
 * database names) chosen by the caller.
 */
export class CounterFamily {
  readonly labelNames: readonly string[];
  readonly #series = new Map<string, { readonly labels: LabelValues; value: number }>();

  constructor(labelNames: readonly string[]) {
    this.labelNames = labelNames;
  }

  series(labels: LabelValues): { value: number } {
    assert.equal(labels.length, this.labelNames.length, 'one value per label name');
    const key = labels.join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) this.#series.set(key, (series = { labels, value: 0 }));
    return series;
  }

  add(labels: LabelValues, amount = 1): void {
    this.series(labels).value += amount;
  }

  samples(): Sample[] {
    return [...this.#series.values()].map((series) => ({ value: series.value, labels: labelObject(this.labelNames, series.labels) }));
  }

  /** Every series added up. */
  total(): number {
    let total = 0;
    for (const series of this.#series.values()) total += series.value;
    return total;
  }
}

/** A histogram with labels on the main thread: each series is a HistogramCell over a Float64Array of its own. */
export class HistogramFamily {
  readonly labelNames: readonly string[];
  readonly bounds: readonly number[];
  readonly #series = new Map<string, { readonly labels: LabelValues; readonly slots: Float64Array; readonly cell: HistogramCell }>();

  constructor(labelNames: readonly string[], bounds: readonly number[]) {
    this.labelNames = labelNames;
    this.bounds = bounds;
  }

  series(labels: LabelValues): HistogramCell {
    assert.equal(labels.length, this.labelNames.length, 'one value per label name');
    const key = labels.join('\u0000');
    let series = this.#series.get(key);
    if (series === undefined) {
      const slots = new Float64Array(this.bounds.length + 2);
      series = { labels, slots, cell: new HistogramCell(slots, 0, this.bounds) };
      this.#series.set(key, series);
    }
    return series.cell;
  }

  /** One series as read; null when it has not been created. */
  snapshot(labels: LabelValues): HistogramSnapshot | null {
    const series = this.#series.get(labels.join('\u0000'));
    return series === undefined ? null : snapshotOf(this.bounds, series.slots);
  }

  /** Each series as read: cumulative bucket counts, sum, count (what histogramSamples renders). */
  snapshots(): { readonly labels: LabelValues; readonly snapshot: HistogramSnapshot }[] {
    return [...this.#series.values()].map(({ labels, slots }) => ({ labels, snapshot: snapshotOf(this.bounds, slots) }));
  }

  samples(name: string): Sample[] {
    return this.snapshots().flatMap(({ labels, snapshot }) => histogramSamples(name, snapshot, labelObject(this.labelNames, labels)));
  }
}

function snapshotOf(bounds: readonly number[], slots: Float64Array): HistogramSnapshot {
  const cumulative: number[] = [];
  let running = 0;
  for (let bucket = 0; bucket <= bounds.length; bucket++) {
    running += slots[bucket] as number;
    cumulative.push(running);
  }
  return { bounds, cumulative, sum: slots[bounds.length + 1] as number, count: running };
}

export function labelObject(names: readonly string[], values: LabelValues): Record<string, string> {
  const labels: Record<string, string> = {};
  names.forEach((name, index) => (labels[name] = values[index] as string));
  return labels;
}

/** A histogram's samples in Prometheus' shape: a `_bucket` per bound (`le`, +Inf last), `_sum`, `_count`. */
export function histogramSamples(name: string, snapshot: HistogramSnapshot, labels: Readonly<Record<string, string>> = {}): Sample[] {
  const samples: Sample[] = snapshot.cumulative.map((count, bucket) => ({
    value: count,
    labels: { ...labels, le: bucket < snapshot.bounds.length ? (snapshot.bounds[bucket] as number) : '+Inf' },
    metricName: `${name}_bucket`,
  }));
  samples.push({ value: snapshot.sum, labels, metricName: `${name}_sum` }, { value: snapshot.count, labels, metricName: `${name}_count` });
  return samples;
}

/**
 * Estimates a quantile from cumulative histogram buckets by linear interpolation inside the bucket
 * that holds it (what Prometheus' histogram_quantile does); null with no observation. A quantile
 * in the +Inf bucket answers the last finite bound.
 */
export function histogramQuantile(quantile: number, snapshot: HistogramSnapshot): number | null {
  if (snapshot.count === 0) return null;
  const rank = quantile * snapshot.count;
  let previousCount = 0;
  for (let bucket = 0; bucket < snapshot.bounds.length; bucket++) {
    const count = snapshot.cumulative[bucket] as number;
    if (count >= rank) {
      const lower = bucket === 0 ? 0 : (snapshot.bounds[bucket - 1] as number);
      const upper = snapshot.bounds[bucket] as number;
      const inBucket = count - previousCount;
      return inBucket === 0 ? upper : lower + ((upper - lower) * (rank - previousCount)) / inBucket;
    }
    previousCount = count;
  }
  return snapshot.bounds.at(-1) ?? null;
}

/**
 * One Arc series family as prom-client's Registry sees a metric: a name, help, type and a `get()`
 * that reads the values at scrape time (from the main thread's families, the threads' telemetry
 * blocks, or a component's stats). The Registry renders it as Prometheus text, OpenMetrics or JSON.
 * `name` is a field the Registry may rewrite (OpenMetrics drops a counter's `_total` and puts it
 * back on each sample), so each registry gets objects of its own.
 */
export class ExposedSeries {
  name: string;
  readonly help: string;
  readonly type: SeriesType;
  readonly aggregator = 'sum';
  readonly #read: (name: string) => Sample[];

  constructor(name: string, type: SeriesType, help: string, read: (name: string) => Sample[]) {
    assert.ok(type !== 'counter' || name.endsWith('_total'), 'counters end in _total');
    this.name = name;
    this.type = type;
    this.help = help;
    this.#read = read;
  }

  get(): { name: string; help: string; type: SeriesType; aggregator: string; values: Sample[] } {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#read(this.name) };
  }
}
