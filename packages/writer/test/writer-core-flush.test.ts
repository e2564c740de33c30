// Proves that a flush waits for requests the writer prepared: a decoder answers 204 right after
// posting a commit, and POST /write/flush reaches the writer on another port, so the flush may
// arrive first. The rows of a commit that lands while the flush waits are flushed by it; a
// prepare nobody decides on holds the flush for PREPARED_SETTLE_WAIT_MS_MAX only, not a moment
// less. Time is driven by fake timers, so the order of events never depends on the machine's speed.
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ColumnBatch } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';
import { PREPARED_SETTLE_WAIT_MS_MAX } from '../src/limits.js';
import { WriterCore } from '../src/writer-core.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;

function batchOf(measurement: string, count: number): ColumnBatch {
  return floatBatch(measurement, Array.from({ length: count }, (_, index) => index), (index) => T0 + index);
}

const temp = useTempEncoder('arc-writer-flush-');

function newCore(): WriterCore {
  return new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage: new LocalStorage(path.join(temp.root, 'data')),
    encoder: temp.encoder,
    onFlushed: () => undefined,
    log: () => undefined,
    nowMs: () => performance.now(),
  });
}

/** One turn of the event loop (a real one: only setTimeout is faked), for work that could run. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Whether `promise` has settled, without waiting for it. */
function settledFlag(promise: Promise<unknown>): () => boolean {
  let settled = false;
  void promise.finally(() => (settled = true));
  return () => settled;
}

describe('WriterCore.flushAll and prepared requests', () => {
  // The settle bound runs on setTimeout: faked, time passes only when a test says so, so no
  // machine is slow enough to reach the bound by accident and no test waits for it for real.
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes the rows of a commit that arrives after the flush request', async () => {
    const core = newCore();
    expect(core.handle(0, { kind: 'prepare', txnId: 1, batches: [batchOf('cpu', 3)] })).toMatchObject({ error: null });
    const flushing = core.flushAll();
    const flushed = settledFlag(flushing);
    await nextTurn();
    // The flush waits for the prepared request: nothing but its commit can end the wait now.
    expect(flushed()).toBe(false);
    // The commit overtaken by the flush request lands.
    core.handle(0, { kind: 'commit', txnId: 1 });
    expect(await flushing).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 3 });
  });

  it('gives up on an undecided prepared request after a bounded wait, and flushes it once committed', async () => {
    const core = newCore();
    expect(core.handle(1, { kind: 'prepare', txnId: 7, batches: [batchOf('mem', 2)] })).toMatchObject({ error: null });
    const flushing = core.flushAll();
    const flushed = settledFlag(flushing);
    await vi.advanceTimersByTimeAsync(PREPARED_SETTLE_WAIT_MS_MAX - 1);
    await nextTurn();
    expect(flushed()).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await flushing).toBeNull();
    // The undecided rows were never acknowledged: they stay prepared, not flushed, not lost.
    expect(core.stats()).toMatchObject({ rowsFlushed: 0 });
    core.handle(1, { kind: 'commit', txnId: 7 });
    expect(await core.flushAll()).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 2 });
  });
});
