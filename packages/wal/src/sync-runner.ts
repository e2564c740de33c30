import assert from 'node:assert/strict';
import { fdatasyncSync, fsyncSync, writeSync } from 'node:fs';
import { type WalSyncMode } from '@arc/config';
import { PREALLOCATION_STEP_BYTES, SYNC_ERROR_BYTES_MAX, SYNC_THREAD_IDLE_WAIT_MS } from './limits.js';

/** How a finished sync went: its error message (null: synced) and how long it took. */
export interface SyncOutcome {
  readonly error: string | null;
  readonly milliseconds: number;
}

/**
 * Runs a WAL stream's syncs, one at a time. `start` begins one; `poll` answers null while it
 * runs; `wait` blocks until it is done. A stream never starts a sync while one runs.
 * Besides, it prepares the stream's spare segment (one at a time): zeros written over a byte range
 * of the spare's fd and synced, a step at a time, a waiting sync served between steps.
 */
export interface SyncRunner {
  start(fd: number): void;
  poll(): SyncOutcome | null;
  wait(): SyncOutcome;
  /** Starts zero-filling `fd` over [offsetStart, offsetEnd) and syncing it (the fd stays the caller's). */
  startPreallocation(fd: number, offsetStart: number, offsetEnd: number): void;
  /** Null while the preallocation runs, else whether every byte of it was written and synced. */
  preallocationDone(): boolean | null;
  /** Stops a running preallocation and returns once the runner no longer touches its fd. */
  cancelPreallocation(): void;
  /** No more syncs: a sync thread may exit. */
  close(): void;
}

/** The blocking sync of `fd` per the sync mode (async: nothing to do). */
function syncFd(fd: number, mode: WalSyncMode): SyncOutcome {
  const started = performance.now();
  try {
    if (mode === 'fsync') fsyncSync(fd);
    else if (mode === 'fdatasync') fdatasyncSync(fd);
  } catch (error) {
    return { error: (error as Error).message, milliseconds: performance.now() - started };
  }
  return { error: null, milliseconds: performance.now() - started };
}

/** Zeros written by a preallocation step, a slice at a time (a step is several slices). */
const ZERO_SLICE_BYTES = 1024 * 1024;
let zeroSlice: Uint8Array | null = null;

/**
 * One step of a preallocation: zeros over [offsetStart, offsetStart + PREALLOCATION_STEP_BYTES)
 * (cut at offsetEnd), then an fdatasync, which also makes the file's new size durable. Returns
 * where the next step starts; throws on a failed write or sync.
 */
function preallocationStep(fd: number, offsetStart: number, offsetEnd: number): number {
  zeroSlice ??= new Uint8Array(ZERO_SLICE_BYTES);
  const stepEnd = Math.min(offsetStart + PREALLOCATION_STEP_BYTES, offsetEnd);
  for (let offset = offsetStart; offset < stepEnd; ) {
    offset += writeSync(fd, zeroSlice, 0, Math.min(ZERO_SLICE_BYTES, stepEnd - offset), offset);
  }
  fdatasyncSync(fd);
  return stepEnd;
}

/** Syncs on the calling thread, within `start` (tests, tools, and the async mode). */
export class InlineSyncRunner implements SyncRunner {
  private readonly mode: WalSyncMode;
  private outcome: SyncOutcome | null = null;
  /** The last preallocation's outcome (null: none, or cancelled). */
  private preallocated: boolean | null = null;

  constructor(mode: WalSyncMode) {
    this.mode = mode;
  }

  start(fd: number): void {
    assert.equal(this.outcome, null, 'one sync at a time');
    this.outcome = syncFd(fd, this.mode);
  }

  poll(): SyncOutcome | null {
    return this.wait();
  }

  wait(): SyncOutcome {
    const outcome = this.outcome;
    assert.ok(outcome !== null, 'a sync was started');
    this.outcome = null;
    return outcome;
  }

  /** Every step at once, on the caller's thread. */
  startPreallocation(fd: number, offsetStart: number, offsetEnd: number): void {
    assert.ok(offsetStart <= offsetEnd, 'a preallocation covers a byte range');
    try {
      for (let offset = offsetStart; offset < offsetEnd; ) offset = preallocationStep(fd, offset, offsetEnd);
      this.preallocated = true;
    } catch {
      // The caller drops the spare; its stream creates its next segment without one.
      this.preallocated = false;
    }
  }

  preallocationDone(): boolean | null {
    return this.preallocated;
  }

  cancelPreallocation(): void {
    this.preallocated = null;
  }

  close(): void {
    // Nothing to stop: the syncs ran on the caller's thread.
  }
}

/**
 * The shared cells between a decoder (the stream's owner) and its sync thread.
 *
 *   Int32 cells, sync                                                  then preallocation
 *   0           1    2           3               4        5             6      7           8        9             10              11
 *   | requested | fd | completed | failed (0/1) | closed | error bytes | wake | requested | fd     | completed | failed (0/1) | cancel (0/1) |
 *   at byte 64      72                   80                 88
 *   | duration f64 | prealloc start f64 | prealloc end f64 | error utf8 ... |
 *
 * The owner writes fd, then bumps `requested` (and notifies); the sync thread syncs, writes the
 * outcome, then stores `completed` = `requested` (and notifies, and rings the owner's doorbell).
 * A preallocation is asked and answered the same way on its own cells. Every request (and close)
 * also bumps `wake`, the one cell the idle thread waits on.
 */
const Cell = {
  requested: 0,
  fd: 1,
  completed: 2,
  failed: 3,
  closed: 4,
  errorBytes: 5,
  wake: 6,
  preallocationRequested: 7,
  preallocationFd: 8,
  preallocationCompleted: 9,
  preallocationFailed: 10,
  preallocationCancel: 11,
} as const;
const INT32_CELLS = 16;
const DURATION_OFFSET = 64;
const PREALLOCATION_RANGE_OFFSET = 72;
const ERROR_OFFSET = 88;

export function createSyncChannel(): SharedArrayBuffer {
  return new SharedArrayBuffer(ERROR_OFFSET + SYNC_ERROR_BYTES_MAX);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The owner's side: syncs run on the stream's sync thread while the owner decodes on. */
export class ThreadSyncRunner implements SyncRunner {
  private readonly cells: Int32Array;
  private readonly duration: Float64Array;
  private readonly errorText: Uint8Array;

  private readonly preallocationRange: Float64Array;

  constructor(channel: SharedArrayBuffer) {
    this.cells = new Int32Array(channel, 0, INT32_CELLS);
    this.duration = new Float64Array(channel, DURATION_OFFSET, 1);
    this.preallocationRange = new Float64Array(channel, PREALLOCATION_RANGE_OFFSET, 2);
    this.errorText = new Uint8Array(channel, ERROR_OFFSET);
  }

  start(fd: number): void {
    assert.equal(Atomics.load(this.cells, Cell.completed), Atomics.load(this.cells, Cell.requested), 'one sync at a time');
    Atomics.store(this.cells, Cell.fd, fd);
    Atomics.add(this.cells, Cell.requested, 1);
    this.wakeThread();
  }

  startPreallocation(fd: number, offsetStart: number, offsetEnd: number): void {
    assert.ok(offsetStart <= offsetEnd, 'a preallocation covers a byte range');
    assert.notEqual(this.preallocationDone(), null, 'one preallocation at a time');
    Atomics.store(this.cells, Cell.preallocationFd, fd);
    this.preallocationRange[0] = offsetStart;
    this.preallocationRange[1] = offsetEnd;
    Atomics.store(this.cells, Cell.preallocationCancel, 0);
    Atomics.add(this.cells, Cell.preallocationRequested, 1);
    this.wakeThread();
  }

  preallocationDone(): boolean | null {
    if (Atomics.load(this.cells, Cell.preallocationCompleted) !== Atomics.load(this.cells, Cell.preallocationRequested)) return null;
    return Atomics.load(this.cells, Cell.preallocationFailed) === 0;
  }

  cancelPreallocation(): void {
    Atomics.store(this.cells, Cell.preallocationCancel, 1);
    this.wakeThread();
    const requested = Atomics.load(this.cells, Cell.preallocationRequested);
    for (let completed = Atomics.load(this.cells, Cell.preallocationCompleted); completed !== requested; completed = Atomics.load(this.cells, Cell.preallocationCompleted)) {
      Atomics.wait(this.cells, Cell.preallocationCompleted, completed, SYNC_THREAD_IDLE_WAIT_MS);
    }
  }

  private wakeThread(): void {
    Atomics.add(this.cells, Cell.wake, 1);
    Atomics.notify(this.cells, Cell.wake);
  }

  poll(): SyncOutcome | null {
    if (Atomics.load(this.cells, Cell.completed) !== Atomics.load(this.cells, Cell.requested)) return null;
    return this.outcome();
  }

  wait(): SyncOutcome {
    const requested = Atomics.load(this.cells, Cell.requested);
    for (let completed = Atomics.load(this.cells, Cell.completed); completed !== requested; completed = Atomics.load(this.cells, Cell.completed)) {
      Atomics.wait(this.cells, Cell.completed, completed, SYNC_THREAD_IDLE_WAIT_MS);
    }
    return this.outcome();
  }

  close(): void {
    Atomics.store(this.cells, Cell.closed, 1);
    this.wakeThread();
  }

  private outcome(): SyncOutcome {
    const milliseconds = this.duration[0] ?? 0;
    if (Atomics.load(this.cells, Cell.failed) === 0) return { error: null, milliseconds };
    const errorBytes = Atomics.load(this.cells, Cell.errorBytes);
    return { error: utf8Decoder.decode(this.errorText.slice(0, errorBytes)), milliseconds };
  }
}

/**
 * The sync thread's loop: waits for a request, syncs its fd, publishes the outcome and calls
 * `onDone` (the owner's doorbell); returns once the owner closed the channel. While no sync
 * waits, it runs the pending preallocation one step at a time.
 */
export function runSyncThread(channel: SharedArrayBuffer, mode: WalSyncMode, onDone: () => void): void {
  const cells = new Int32Array(channel, 0, INT32_CELLS);
  const duration = new Float64Array(channel, DURATION_OFFSET, 1);
  const errorText = new Uint8Array(channel, ERROR_OFFSET);
  const preallocation = new PreallocationSteps(channel);
  for (;;) {
    const wake = Atomics.load(cells, Cell.wake);
    const requested = Atomics.load(cells, Cell.requested);
    if (requested === Atomics.load(cells, Cell.completed)) {
      if (preallocation.step()) continue;
      if (Atomics.load(cells, Cell.closed) === 1) return;
      Atomics.wait(cells, Cell.wake, wake, SYNC_THREAD_IDLE_WAIT_MS);
      continue;
    }
    const outcome = syncFd(Atomics.load(cells, Cell.fd), mode);
    duration[0] = outcome.milliseconds;
    if (outcome.error === null) Atomics.store(cells, Cell.failed, 0);
    else {
      const written = utf8Encoder.encodeInto(outcome.error, errorText).written;
      Atomics.store(cells, Cell.errorBytes, written);
      Atomics.store(cells, Cell.failed, 1);
    }
    Atomics.store(cells, Cell.completed, requested);
    Atomics.notify(cells, Cell.completed);
    onDone();
  }
}

/** The sync thread's side of a preallocation: where the next step starts, how it ends. */
class PreallocationSteps {
  private readonly cells: Int32Array;
  private readonly range: Float64Array;
  /** The request being worked on, and where its next step starts. */
  private request = 0;
  private offsetNext = 0;

  constructor(channel: SharedArrayBuffer) {
    this.cells = new Int32Array(channel, 0, INT32_CELLS);
    this.range = new Float64Array(channel, PREALLOCATION_RANGE_OFFSET, 2);
  }

  /** Runs one step of the pending preallocation (or ends it); false when none is pending. */
  step(): boolean {
    const cells = this.cells;
    const requested = Atomics.load(cells, Cell.preallocationRequested);
    if (requested === Atomics.load(cells, Cell.preallocationCompleted)) return false;
    if (this.request !== requested) {
      this.request = requested;
      this.offsetNext = this.range[0] ?? 0;
    }
    const offsetEnd = this.range[1] ?? 0;
    // A closing owner cancels before it closes the channel (WalStream.close), so a close waits for nothing.
    if (Atomics.load(cells, Cell.preallocationCancel) === 1) {
      this.finish(false);
      return true;
    }
    try {
      this.offsetNext = preallocationStep(Atomics.load(cells, Cell.preallocationFd), this.offsetNext, offsetEnd);
    } catch {
      // The owner drops the spare; its next segment is created without one.
      this.finish(false);
      return true;
    }
    if (this.offsetNext >= offsetEnd) this.finish(true);
    return true;
  }

  private finish(done: boolean): void {
    Atomics.store(this.cells, Cell.preallocationFailed, done ? 0 : 1);
    Atomics.store(this.cells, Cell.preallocationCompleted, this.request);
    Atomics.notify(this.cells, Cell.preallocationCompleted);
  }
}
