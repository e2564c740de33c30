import assert from 'node:assert/strict';
import { HISTOGRAM_BOUNDS_MAX, LAYOUT_SLOTS_MAX } from './limits.js';

/**
 * The metrics one kind of thread publishes: counter, gauge and histogram names, and each
 * histogram's upper bucket bounds (ascending; a last `+Inf` bucket is implied). Defined once in
 * code, imported by the thread that writes and by the thread that reads, so only the buffer
 * travels between them.
 */
export interface TelemetrySpec<C extends string, G extends string, H extends string> {
  readonly counters: readonly C[];
  readonly gauges: readonly G[];
  readonly histograms: Readonly<Record<H, readonly number[]>>;
}

/**
 * Where each metric lives in one thread's block of Float64 slots:
 *
 *   slot 0 .. C-1         counters (one slot each)
 *   slot C .. C+G-1       gauges (one slot each)
 *   then per histogram    bound count + 1 bucket counts (not cumulative; the last is +Inf), then the sum
 *
 * Every thread of a kind has a block of `slotsPerThread` slots, one after the other.
 */
export class TelemetryLayout<C extends string, G extends string, H extends string> {
  readonly spec: TelemetrySpec<C, G, H>;
  readonly slotsPerThread: number;
  readonly #counterSlots = new Map<string, number>();
  readonly #gaugeSlots = new Map<string, number>();
  readonly #histogramSlots = new Map<string, number>();

  constructor(spec: TelemetrySpec<C, G, H>) {
    this.spec = spec;
    let slot = 0;
    for (const name of spec.counters) slot = this.#place(this.#counterSlots, name, slot, 1);
    for (const name of spec.gauges) slot = this.#place(this.#gaugeSlots, name, slot, 1);
    for (const name of this.histogramNames) {
      const bounds = this.boundsOf(name);
      checkBounds(bounds);
      slot = this.#place(this.#histogramSlots, name, slot, bounds.length + 2);
    }
    assert.ok(slot <= LAYOUT_SLOTS_MAX, 'a layout fits LAYOUT_SLOTS_MAX slots');
    this.slotsPerThread = slot;
  }

  get histogramNames(): readonly H[] {
    return Object.keys(this.spec.histograms) as H[];
  }

  boundsOf(name: H): readonly number[] {
    assert.ok(Object.hasOwn(this.spec.histograms, name), 'a histogram of the layout');
    return this.spec.histograms[name];
  }

  counterSlot(name: C): number {
    return slotOf(this.#counterSlots, name);
  }

  gaugeSlot(name: G): number {
    return slotOf(this.#gaugeSlots, name);
  }

  /** The first bucket's slot; the sum follows the last (+Inf) bucket. */
  histogramSlot(name: H): number {
    return slotOf(this.#histogramSlots, name);
  }

  #place(slots: Map<string, number>, name: string, slot: number, width: number): number {
    assert.ok(!this.#counterSlots.has(name) && !this.#gaugeSlots.has(name) && !this.#histogramSlots.has(name), 'metric names are unique in a layout');
    slots.set(name, slot);
    return slot + width;
  }
}

function slotOf(slots: ReadonlyMap<string, number>, name: string): number {
  const slot = slots.get(name);
  assert.ok(slot !== undefined, 'a metric of the layout');
  return slot;
}

function checkBounds(bounds: readonly number[]): void {
  assert.ok(bounds.length > 0, 'a histogram has at least one bound');
  assert.ok(bounds.length <= HISTOGRAM_BOUNDS_MAX, 'a histogram has at most HISTOGRAM_BOUNDS_MAX bounds');
  for (let index = 1; index < bounds.length; index++) {
    assert.ok((bounds[index] as number) > (bounds[index - 1] as number), 'histogram bounds ascend strictly');
  }
}

/** A layout from its spec; `as const` arrays keep the names typed. */
export function defineTelemetry<const C extends string, const G extends string, const H extends string = never>(spec: {
  readonly counters: readonly C[];
  readonly gauges: readonly G[];
  readonly histograms?: Readonly<Record<H, readonly number[]>>;
}): TelemetryLayout<C, G, H> {
  return new TelemetryLayout<C, G, H>({ counters: spec.counters, gauges: spec.gauges, histograms: spec.histograms ?? ({} as Record<H, readonly number[]>) });
}
