// Proves that a writer publishes the files of one flush several at a time, never more than
// PUBLISH_CONCURRENCY_MAX, and still lands every row: a storage whose publish waits at a gate
// counts the publishes in flight while a flush spanning several hours is held there. A flush's
// batches go to onBatchesPublished only once its files are published, and nothing reads them
// after: their buffers, detached there as a transfer does, break no later flush.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnBatch } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';
import { PUBLISH_CONCURRENCY_MAX } from '../src/limits.js';
import { WriterCore, type WriterCoreOptions } from '../src/writer-core.js';
import { waitUntil } from '../../../test/support/poll-until.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
const HOUR_US = 3_600_000_000;
/** How long the test waits for publishes to gather at the gate before it judges. */
const GATHER_WAIT_MS = 5_000;

/** Local disk whose publishes of data files wait until `open()`; counts how many wait at once. */
class GatedStorage extends LocalStorage {
  inFlight = 0;
  maxInFlight = 0;
  private opened = false;
  private readonly waiting: (() => void)[] = [];

  override async publish(stagingPath: string, key: string): Promise<void> {
    // Local disk publishes small objects (the flush's schema object) the same way: not gated.
    if (!key.endsWith('.parquet')) return super.publish(stagingPath, key);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (!this.opened) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight--;
    await super.publish(stagingPath, key);
  }

  open(): void {
    this.opened = true;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

const temp = useTempEncoder('arc-writer-publish-');

/** A writer over `storage` whose buffers flush only when asked (flushAll). */
function flushOnlyWhenAsked(storage: GatedStorage, hooks: Pick<WriterCoreOptions, 'onFlushed' | 'onBatchesPublished'>): WriterCore {
  return new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage,
    encoder: temp.encoder,
    ...hooks,
    log: () => undefined,
    nowMs: () => performance.now(),
  });
}

/** Flushes one row in each of `hours` hours and reports the publishes that were in flight together. */
async function flushAcrossHours(hours: number): Promise<{ maxInFlight: number; rowsFlushed: number; files: number }> {
  const storage = new GatedStorage(path.join(temp.root, `data-${hours}`));
  const flushed: string[] = [];
  const core = flushOnlyWhenAsked(storage, { onFlushed: (_database, _measurement, files) => flushed.push(...files.map((file) => file.key)) });
  const values = Array.from({ length: hours }, (_, index) => index);
  expect(core.handle(0, { kind: 'append', txnId: 1, batches: [floatBatch('cpu', values, (index) => T0 + index * HOUR_US)] })).toMatchObject({ error: null });
  const flushing = core.flushAll();
  const expected = Math.min(hours, PUBLISH_CONCURRENCY_MAX);
  try {
    await waitUntil(`${String(expected)} publishes at the gate`, GATHER_WAIT_MS, () => storage.inFlight >= expected, 10);
  } finally {
    storage.open();
  }
  expect(await flushing).toBeNull();
  return { maxInFlight: storage.maxInFlight, rowsFlushed: core.stats().rowsFlushed, files: flushed.length };
}

describe('WriterCore publishes a flush’s files in parallel', () => {
  it('starts the uploads of a flush spanning three hours together', async () => {
    expect(await flushAcrossHours(3)).toEqual({ maxInFlight: Math.min(3, PUBLISH_CONCURRENCY_MAX), rowsFlushed: 3, files: 3 });
  });

  it('never has more than PUBLISH_CONCURRENCY_MAX in flight', async () => {
    const hours = PUBLISH_CONCURRENCY_MAX + 3;
    expect(await flushAcrossHours(hours)).toEqual({ maxInFlight: PUBLISH_CONCURRENCY_MAX, rowsFlushed: hours, files: hours });
  });
});

describe('WriterCore hands published batches back', () => {
  it('gives a flush’s batches to onBatchesPublished once its files are published, and reads them no more', async () => {
    const storage = new GatedStorage(path.join(temp.root, 'data-returned'));
    const returned: ColumnBatch[][] = [];
    const flushed: number[] = [];
    const core = flushOnlyWhenAsked(storage, {
      onFlushed: (_database, _measurement, files) => flushed.push(...files.map((file) => file.rowCount)),
      onBatchesPublished: (batches) => {
        returned.push([...batches]);
        // What the worker does: transfer the buffers away (they are detached here).
        structuredClone(null, { transfer: batches.map((batch) => batch.buffer) });
      },
    });
    const first = [floatBatch('cpu', [1, 2], (index) => T0 + index), floatBatch('cpu', [3], (index) => T0 + HOUR_US + index)];
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: first })).toMatchObject({ error: null });
    const flushing = core.flushAll();
    try {
      await waitUntil('both hours at the gate', GATHER_WAIT_MS, () => storage.inFlight >= 2, 10);
      // Encoded and committed, not published: the batches are still the writer's.
      expect(returned).toEqual([]);
    } finally {
      storage.open();
    }
    expect(await flushing).toBeNull();
    expect(returned).toHaveLength(1);
    expect(returned[0]).toHaveLength(2);
    expect(returned[0]?.[0]).toBe(first[0]);
    expect(returned[0]?.[1]).toBe(first[1]);
    expect(first.map((batch) => batch.buffer.byteLength)).toEqual([0, 0]);
    // The next flush of the same measurement reads only its own batches.
    const second = floatBatch('cpu', [4, 5, 6], (index) => T0 + 2 * HOUR_US + index);
    expect(core.handle(0, { kind: 'append', txnId: 2, batches: [second] })).toMatchObject({ error: null });
    expect(await core.flushAll()).toBeNull();
    expect(returned).toHaveLength(2);
    expect(returned[1]?.[0]).toBe(second);
    expect(flushed.sort()).toEqual([1, 2, 3]);
    expect(core.stats()).toMatchObject({ rowsFlushed: 6, rowsBuffered: 0 });
  });
});
