import assert from 'node:assert/strict';
import { fdatasyncSync, fsyncSync } from 'node:fs';
import { type WalSyncMode } from '@arc/config';
import { SYNC_ERROR_BYTES_MAX, SYNC_THREAD_IDLE_WAIT_MS } from './limits.js';

/** How a finished sync went: its error message (null: synced) and how long it took. */
export interface SyncOutcome {
  readonly error: string | null;
  readonly milliseconds: number;
}

/**
 * Runs a WAL stream's syncs, one at a time. `start` begins one; `poll` answers null while it
 * runs; `wait` blocks until it is done. A stream never starts a sync while one runs.
 */
export interface SyncRunner {
  start(fd: number): void;
  poll(): SyncOutcome | null;
  wait(): SyncOutcome;
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

/** Syncs on the calling thread, within `start` (tests, tools, and the async mode). */
export class InlineSyncRunner implements SyncRunner {
  private readonly mode: WalSyncMode;
  private outcome: SyncOutcome | null = null;

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

  close(): void {
    // Nothing to stop: the syncs ran on the caller's thread.
  }
}

/**
 * The shared cells between a decoder (the stream's owner) and its sync thread.
 *
 *   Int32 cells                                                        then at byte 32
 *   0           1    2           3               4        5            32              40
 *   | requested | fd | completed | failed (0/1) | closed | error bytes | duration f64 | error utf8 ... |
 *
 * The owner writes fd, then bumps `requested` (and notifies); the sync thread syncs, writes the
 * outcome, then stores `completed` = `requested` (and notifies, and rings the owner's doorbell).
 */
const Cell = { requested: 0, fd: 1, completed: 2, failed: 3, closed: 4, errorBytes: 5 } as const;
const DURATION_OFFSET = 32;
const ERROR_OFFSET = 40;

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

  constructor(channel: SharedArrayBuffer) {
    this.cells = new Int32Array(channel, 0, 8);
    this.duration = new Float64Array(channel, DURATION_OFFSET, 1);
    this.errorText = new Uint8Array(channel, ERROR_OFFSET);
  }

  start(fd: number): void {
    assert.equal(Atomics.load(this.cells, Cell.completed), Atomics.load(this.cells, Cell.requested), 'one sync at a time');
    Atomics.store(this.cells, Cell.fd, fd);
    Atomics.add(this.cells, Cell.requested, 1);
    Atomics.notify(this.cells, Cell.requested);
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
    Atomics.notify(this.cells, Cell.requested);
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
 * `onDone` (the owner's doorbell); returns once the owner closed the channel.
 */
export function runSyncThread(channel: SharedArrayBuffer, mode: WalSyncMode, onDone: () => void): void {
  const cells = new Int32Array(channel, 0, 8);
  const duration = new Float64Array(channel, DURATION_OFFSET, 1);
  const errorText = new Uint8Array(channel, ERROR_OFFSET);
  for (;;) {
    const requested = Atomics.load(cells, Cell.requested);
    if (requested === Atomics.load(cells, Cell.completed)) {
      if (Atomics.load(cells, Cell.closed) === 1) return;
      Atomics.wait(cells, Cell.requested, requested, SYNC_THREAD_IDLE_WAIT_MS);
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
