import assert from 'node:assert/strict';
import { THREAD_BLOCKS_MAX } from './limits.js';
import type { TelemetryLayout } from './telemetry-layout.js';

const CLAIM_FREE = 0;
const CLAIM_TAKEN = 1;

/**
 * The metrics of several threads of one kind in one SharedArrayBuffer, allocated by the main
 * thread and handed to the threads in their start data:
 *
 *   +--------------------------------+------------------------+-----+------------------------+
 *   | Int32 claim cell per thread,   | thread 0's block:      | ... | thread N-1's block     |
 *   | padded to 8 bytes (0 free,     | slotsPerThread Float64 |     |                        |
 *   | 1 taken)                       | (TelemetryLayout)      |     |                        |
 *   +--------------------------------+------------------------+-----+------------------------+
 *
 * Each block has one writer, its thread (ThreadMeter): plain Float64 stores, no lock, no message.
 * The reader (the main thread at scrape time) sums counters and histograms over the blocks and
 * lists gauges per thread. A store of an aligned Float64 element is one 8-byte store on the
 * 64-bit targets Node runs on, so a reader sees the old or the new value of a slot, never a mix
 * (the language promises that only for integer arrays; V8 keeps it for Float64 too).
 */
export class TelemetryBlock<C extends string, G extends string, H extends string> {
  readonly layout: TelemetryLayout<C, G, H>;
  readonly shared: SharedArrayBuffer;
  readonly threadCount: number;
  readonly #claims: Int32Array;
  readonly #slots: Float64Array;

  constructor(layout: TelemetryLayout<C, G, H>, shared: SharedArrayBuffer) {
    const threadCount = threadCountOf(layout, shared.byteLength);
    this.layout = layout;
    this.shared = shared;
    this.threadCount = threadCount;
    this.#claims = new Int32Array(shared, 0, threadCount);
    this.#slots = new Float64Array(shared, claimBytes(threadCount), threadCount * layout.slotsPerThread);
  }

  /** A zeroed buffer for `threadCount` threads of `layout` (main thread, before starting them). */
  static create<C extends string, G extends string, H extends string>(layout: TelemetryLayout<C, G, H>, threadCount: number): TelemetryBlock<C, G, H> {
    assert.ok(Number.isInteger(threadCount) && threadCount > 0, 'a block has at least one thread');
    assert.ok(threadCount <= THREAD_BLOCKS_MAX, 'at most THREAD_BLOCKS_MAX threads per buffer');
    const bytes = claimBytes(threadCount) + threadCount * layout.slotsPerThread * Float64Array.BYTES_PER_ELEMENT;
    return new TelemetryBlock(layout, new SharedArrayBuffer(bytes));
  }

  /** Takes block `threadIndex` for the calling thread (a thread whose index the main thread chose). */
  claim(threadIndex: number): ThreadMeter<C, G, H> {
    assert.ok(Number.isInteger(threadIndex) && threadIndex >= 0 && threadIndex < this.threadCount, 'a thread index inside the buffer');
    const previous = Atomics.compareExchange(this.#claims, threadIndex, CLAIM_FREE, CLAIM_TAKEN);
    assert.equal(previous, CLAIM_FREE, 'one thread per block');
    return new ThreadMeter(this.layout, this.#slots, threadIndex);
  }

  /**
   * Takes the first free block (threads of a pool, which know no index of their own), or null
   * when every block is taken (a pool that replaced more dead threads than the spare blocks:
   * that thread then publishes nothing). A dead thread's block stays taken: its counts still add up.
   */
  claimAny(): ThreadMeter<C, G, H> | null {
    for (let threadIndex = 0; threadIndex < this.threadCount; threadIndex++) {
      if (Atomics.compareExchange(this.#claims, threadIndex, CLAIM_FREE, CLAIM_TAKEN) === CLAIM_FREE) return new ThreadMeter(this.layout, this.#slots, threadIndex);
    }
    return null;
  }

  /** The indexes of the blocks some thread has taken (gauges of the others mean nothing). */
  claimedThreads(): number[] {
    const claimed: number[] = [];
    for (let threadIndex = 0; threadIndex < this.threadCount; threadIndex++) {
      if (Atomics.load(this.#claims, threadIndex) === CLAIM_TAKEN) claimed.push(threadIndex);
    }
    return claimed;
  }

  /** A counter summed over every thread. */
  counterTotal(name: C): number {
    return this.#sumSlot(this.layout.counterSlot(name));
  }

  /** One counter's value per thread (index = thread index). */
  counterByThread(name: C): number[] {
    return this.#perThread(this.layout.counterSlot(name));
  }

  /** A gauge's value per thread (index = thread index; check claimedThreads for the live ones). */
  gaugeByThread(name: G): number[] {
    return this.#perThread(this.layout.gaugeSlot(name));
  }

  /** A histogram summed over every thread: cumulative counts per bound (+Inf last), sum, count. */
  histogram(name: H): HistogramSnapshot {
    const bounds = this.layout.boundsOf(name);
    const first = this.layout.histogramSlot(name);
    const cumulative: number[] = [];
    let running = 0;
    for (let bucket = 0; bucket <= bounds.length; bucket++) {
      running += this.#sumSlot(first + bucket);
      cumulative.push(running);
    }
    return { bounds, cumulative, sum: this.#sumSlot(first + bounds.length + 1), count: running };
  }

  #sumSlot(slot: number): number {
    const stride = this.layout.slotsPerThread;
    let total = 0;
    for (let threadIndex = 0; threadIndex < this.threadCount; threadIndex++) total += this.#slots[threadIndex * stride + slot] as number;
    return total;
  }

  #perThread(slot: number): number[] {
    const stride = this.layout.slotsPerThread;
    return Array.from({ length: this.threadCount }, (_, threadIndex) => this.#slots[threadIndex * stride + slot] as number);
  }
}

/** A histogram as read: `cumulative[i]` counts observations <= bounds[i]; the last entry is +Inf (= count). */
export interface HistogramSnapshot {
  readonly bounds: readonly number[];
  readonly cumulative: readonly number[];
  readonly sum: number;
  readonly count: number;
}

/** The claim cells take 4 bytes per thread, rounded up so the Float64 slots stay 8-byte aligned. */
function claimBytes(threadCount: number): number {
  return Math.ceil((threadCount * Int32Array.BYTES_PER_ELEMENT) / Float64Array.BYTES_PER_ELEMENT) * Float64Array.BYTES_PER_ELEMENT;
}

function threadCountOf(layout: TelemetryLayout<string, string, string>, byteLength: number): number {
  // Each thread costs its block plus at most 8 bytes of claim cell: solve for the count that fits exactly.
  for (let threadCount = 1; threadCount <= THREAD_BLOCKS_MAX; threadCount++) {
    const bytes = claimBytes(threadCount) + threadCount * layout.slotsPerThread * Float64Array.BYTES_PER_ELEMENT;
    if (bytes === byteLength) return threadCount;
    if (bytes > byteLength) break;
  }
  assert.fail('a buffer made by TelemetryBlock.create for this layout');
}

/**
 * One thread's writing end: handles to its own slots, resolved once (at the thread's start) so the
 * hot path is an array store. Only the thread that claimed the block writes through it.
 */
export class ThreadMeter<C extends string, G extends string, H extends string> {
  readonly threadIndex: number;
  readonly #layout: TelemetryLayout<C, G, H>;
  readonly #slots: Float64Array;
  readonly #base: number;

  constructor(layout: TelemetryLayout<C, G, H>, slots: Float64Array, threadIndex: number) {
    this.#layout = layout;
    this.#slots = slots;
    this.threadIndex = threadIndex;
    this.#base = threadIndex * layout.slotsPerThread;
  }

  counter(name: C): CounterCell {
    return new CounterCell(this.#slots, this.#base + this.#layout.counterSlot(name));
  }

  gauge(name: G): GaugeCell {
    return new GaugeCell(this.#slots, this.#base + this.#layout.gaugeSlot(name));
  }

  histogram(name: H): HistogramCell {
    return new HistogramCell(this.#slots, this.#base + this.#layout.histogramSlot(name), this.#layout.boundsOf(name));
  }
}

export class CounterCell {
  readonly #slots: Float64Array;
  readonly #slot: number;

  constructor(slots: Float64Array, slot: number) {
    this.#slots = slots;
    this.#slot = slot;
  }

  /** Adds a non-negative amount (a counter never goes down). */
  add(amount = 1): void {
    assert.ok(amount >= 0, 'a counter only grows');
    this.#slots[this.#slot] = (this.#slots[this.#slot] as number) + amount;
  }
}

export class GaugeCell {
  readonly #slots: Float64Array;
  readonly #slot: number;

  constructor(slots: Float64Array, slot: number) {
    this.#slots = slots;
    this.#slot = slot;
  }

  set(value: number): void {
    this.#slots[this.#slot] = value;
  }
}

export class HistogramCell {
  readonly #slots: Float64Array;
  readonly #first: number;
  readonly #bounds: readonly number[];

  constructor(slots: Float64Array, first: number, bounds: readonly number[]) {
    this.#slots = slots;
    this.#first = first;
    this.#bounds = bounds;
  }

  /** Counts `value` in the first bucket whose bound is >= it (Prometheus' `le`), and adds it to the sum. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > (bounds[bucket] as number)) bucket++;
    const slots = this.#slots;
    slots[this.#first + bucket] = (slots[this.#first + bucket] as number) + 1;
    const sumSlot = this.#first + bounds.length + 1;
    slots[sumSlot] = (slots[sumSlot] as number) + value;
  }
}

/** The meter type of a layout (`MeterOf<typeof WRITER_TELEMETRY>`). */
export type MeterOf<L> = L extends TelemetryLayout<infer C, infer G, infer H> ? ThreadMeter<C, G, H> : never;
/** The block type of a layout. */
export type BlockOf<L> = L extends TelemetryLayout<infer C, infer G, infer H> ? TelemetryBlock<C, G, H> : never;
