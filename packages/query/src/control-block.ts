import assert from 'node:assert/strict';

/**
 * State shared by the pool (main thread) and its workers, one SharedArrayBuffer of int32 cells:
 *
 *   cell 0          catalog generation: the storage catalog's generation, stored by the pool after
 *                   it broadcast the delta that made it; a worker brings its catalog replica up
 *                   to it before each query (one atomic load when nothing changed)
 *   cell 1          closing: 0, then 1 once the pool closes (workers start no DuckDB work of
 *                   their own any more)
 *   cell 2          background DuckDB reads in flight in the workers (their memory samples)
 *   cell 3 + slot   state of task slot `slot` (one per task in flight, queued or running):
 *                   idle -> pending (pool takes it) -> running (worker starts it), pending/running
 *                   -> cancelled (pool), and back to idle once the worker handed the task back
 *
 * A slot belongs to one task from run() until the worker's answer arrives, also after a timeout
 * already answered the caller, so a slot is never reused while a worker may still look at it.
 *
 * Cells 1 and 2 are the closing handshake. A worker thread ended while a DuckDB call of its own is
 * in flight aborts the whole process (the call's completion throws into a torn-down thread), and
 * the pool ends its workers when it closes: so a worker counts its background reads in cell 2 and
 * starts none once cell 1 is set, and the pool sets cell 1, then waits for cell 2 to reach zero.
 * (A worker increments before it reads the flag and the pool sets the flag before it reads the
 * count, both sequentially consistent: a read is either seen by the pool or never started.)
 */
// idle is 0 so that a fresh (zeroed) block has every slot idle.
export const SlotState = { idle: 0, pending: 1, running: 2, cancelled: 3 } as const;

/** Slots by state, counted in one pass (what GET /metrics/query-pool reports). */
export interface SlotCounts {
  pending: number;
  running: number;
  cancelled: number;
}

const GENERATION_CELL = 0;
const CLOSING_CELL = 1;
const BACKGROUND_READS_CELL = 2;
const FIRST_SLOT_CELL = 3;
/** How often a closing pool looks whether the workers' background reads ended (each takes ~1 ms). */
const BACKGROUND_READ_POLL_MS = 2;

export class ControlBlock {
  readonly shared: SharedArrayBuffer;
  readonly slotCount: number;
  private readonly cells: Int32Array;

  static create(slotCount: number): ControlBlock {
    assert.ok(Number.isInteger(slotCount), 'slot count must be an integer');
    assert.ok(slotCount > 0, 'slot count must be positive');
    return new ControlBlock(new SharedArrayBuffer((FIRST_SLOT_CELL + slotCount) * Int32Array.BYTES_PER_ELEMENT));
  }

  constructor(shared: SharedArrayBuffer) {
    this.shared = shared;
    this.cells = new Int32Array(shared);
    this.slotCount = this.cells.length - FIRST_SLOT_CELL;
    assert.ok(this.slotCount > 0, 'control block has no task slots');
  }

  generation(): number {
    return Atomics.load(this.cells, GENERATION_CELL);
  }

  /** Pool: the catalog is at `generation` (its delta already broadcast). */
  setGeneration(generation: number): void {
    assert.ok(Number.isInteger(generation) && generation >= 0 && generation <= 0x7fffffff, 'a catalog generation fits an int32 cell');
    Atomics.store(this.cells, GENERATION_CELL, generation);
  }

  /** Pool: a fresh task takes the slot. */
  arm(slot: number): void {
    Atomics.store(this.cells, this.cell(slot), SlotState.pending);
  }

  /** Pool: the worker handed the task back; the slot is free for the next task. */
  release(slot: number): void {
    Atomics.store(this.cells, this.cell(slot), SlotState.idle);
  }

  /** Pool: the caller gave up (timeout, client gone); the worker interrupts or skips the task. */
  cancel(slot: number): void {
    Atomics.store(this.cells, this.cell(slot), SlotState.cancelled);
  }

  /** Worker: marks the task running; false when it was cancelled while queued. */
  start(slot: number): boolean {
    return Atomics.compareExchange(this.cells, this.cell(slot), SlotState.pending, SlotState.running) === SlotState.pending;
  }

  /** Slots by state; a snapshot, each cell read once (tasks may move on meanwhile). */
  slotCounts(): SlotCounts {
    const counts = { pending: 0, running: 0, cancelled: 0 };
    for (let cell = FIRST_SLOT_CELL; cell < this.cells.length; cell++) {
      const state = Atomics.load(this.cells, cell);
      if (state === SlotState.pending) counts.pending++;
      else if (state === SlotState.running) counts.running++;
      else if (state === SlotState.cancelled) counts.cancelled++;
    }
    return counts;
  }

  /** Worker: a DuckDB read outside any task may start (true: end it with endBackgroundRead). */
  beginBackgroundRead(): boolean {
    Atomics.add(this.cells, BACKGROUND_READS_CELL, 1);
    if (Atomics.load(this.cells, CLOSING_CELL) === 0) return true;
    this.endBackgroundRead();
    return false;
  }

  endBackgroundRead(): void {
    const before = Atomics.sub(this.cells, BACKGROUND_READS_CELL, 1);
    assert.ok(before > 0, 'a background read ends after it began');
  }

  /**
   * Pool: no worker starts a background read from now on; resolves once those in flight ended,
   * true, or false when `timeoutMs` passed first.
   */
  async closeBackgroundReads(timeoutMs: number): Promise<boolean> {
    Atomics.store(this.cells, CLOSING_CELL, 1);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const inFlight = Atomics.load(this.cells, BACKGROUND_READS_CELL);
      if (inFlight === 0) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // A timer, not Atomics.waitAsync: a pending waitAsync holds no handle, so a process with
      // nothing else to do would exit during the wait and end the workers mid-read after all.
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, BACKGROUND_READ_POLL_MS)));
    }
  }

  isCancelled(slot: number): boolean {
    return Atomics.load(this.cells, this.cell(slot)) === SlotState.cancelled;
  }

  private cell(slot: number): number {
    assert.ok(Number.isInteger(slot), 'task slot must be an integer');
    assert.ok(slot >= 0, 'task slot must not be negative');
    assert.ok(slot < this.slotCount, 'task slot beyond the control block');
    return FIRST_SLOT_CELL + slot;
  }
}
