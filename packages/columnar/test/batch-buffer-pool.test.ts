// Proves the decoders' pool of given-back batch buffers: buffers come in size classes at most 1/8
// above the need, a given-back buffer is handed out again zeroed, the pool keeps no more than its
// bound, and a batch packed into a dirty reused buffer reads exactly like one packed into a new one.
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { BatchBufferPool, BatchBuilder, ColumnRole, batchBufferSizeClass, bytesOf, timeMicrosAt, timePairsOf, valueAt, type ColumnBatch } from '../src/index.js';

function buildRows(count: number, offset: number): BatchBuilder {
  const builder = new BatchBuilder({ dictionaryEncodeTags: true });
  builder.reset('db', 'cpu');
  for (let row = 0; row < count; row++) {
    expect(builder.beginRow(1_700_000_000_000_000 + (offset + row) * 1_000_000)).toBeNull();
    const host = builder.column('host', ColumnRole.tag);
    const usage = builder.column('usage', ColumnRole.field);
    const note = builder.column('note', ColumnRole.field);
    const up = builder.column('up', ColumnRole.field);
    if (host instanceof ArcError || usage instanceof ArcError || note instanceof ArcError || up instanceof ArcError) throw new Error('column refused');
    host.appendString(`host_${(offset + row) % 7}`);
    // Every third row leaves the fields null: validity bitmaps in the batch.
    if (row % 3 === 0) continue;
    usage.appendFloat64((offset + row) / 8);
    note.appendString(`n${offset + row}`);
    up.appendBool(row % 2 === 0);
  }
  return builder;
}

function packed(builder: BatchBuilder, pool?: BatchBufferPool): ColumnBatch {
  const batch = builder.pack(pool);
  if (batch instanceof ArcError) throw batch;
  return batch;
}

/** Every row of a batch as plain values, times first. */
function rowsOf(batch: ColumnBatch): unknown[][] {
  const pairs = timePairsOf(batch);
  return Array.from({ length: batch.rowCount }, (_, row) => [timeMicrosAt(pairs, row), ...batch.columns.map((layout) => valueAt(batch, layout, row))]);
}

describe('batchBufferSizeClass', () => {
  it('rounds small sizes up to 256 bytes and larger ones at most 1/8 up', () => {
    expect(batchBufferSizeClass(0)).toBe(256);
    expect(batchBufferSizeClass(1)).toBe(256);
    expect(batchBufferSizeClass(256)).toBe(256);
    expect(batchBufferSizeClass(257)).toBe(512);
    expect(batchBufferSizeClass(2048)).toBe(2048);
    expect(batchBufferSizeClass(2049)).toBe(2304);
    expect(batchBufferSizeClass(100_000)).toBe(106_496);
    for (const size of [300, 1_000, 4_097, 65_537, 1_000_000, 7_777_777]) {
      const sizeClass = batchBufferSizeClass(size);
      expect(sizeClass).toBeGreaterThanOrEqual(size);
      expect(sizeClass - size).toBeLessThanOrEqual(Math.max(256, size / 8));
      // A class is its own class: a buffer of it can be given back.
      expect(batchBufferSizeClass(sizeClass)).toBe(sizeClass);
    }
  });
});

describe('BatchBufferPool', () => {
  it('hands a given-back buffer out again, zeroed, for a need of the same class', () => {
    const pool = new BatchBufferPool();
    const first = pool.take(100_000);
    expect(first.byteLength).toBe(106_496);
    new Uint8Array(first).fill(0xff);
    pool.give(first);
    expect(pool.pooledBytes).toBe(106_496);
    const again = pool.take(99_000);
    expect(again).toBe(first);
    expect(new Uint8Array(again).every((byte) => byte === 0)).toBe(true);
    expect(pool.reuses).toBe(1);
    expect(pool.pooledBytes).toBe(0);
    // Nothing pooled of another class: a new buffer.
    pool.give(again);
    expect(pool.take(200_000)).not.toBe(first);
    expect(pool.reuses).toBe(1);
  });

  it('keeps at most its bound and ignores detached buffers and buffers of no class', () => {
    const pool = new BatchBufferPool(300_000);
    const buffers = [pool.take(100_000), pool.take(100_000), pool.take(100_000)];
    for (const buffer of buffers) pool.give(buffer);
    expect(pool.pooledBytes).toBe(2 * 106_496);
    const detached = pool.take(1_000);
    structuredClone(detached, { transfer: [detached] });
    expect(detached.byteLength).toBe(0);
    pool.give(detached);
    pool.give(new ArrayBuffer(1_000));
    expect(pool.pooledBytes).toBe(2 * 106_496);
    expect(pool.take(1_000).byteLength).toBe(1_024);
    expect(pool.reuses).toBe(0);
  });

  it('trims half of what stayed unused through a whole interval, down to nothing when quiet', () => {
    const pool = new BatchBufferPool(100 * 106_496, 1_000);
    const buffers = Array.from({ length: 8 }, () => pool.take(100_000));
    pool.trim(0); // starts the clock: nothing is trimmed yet
    for (const buffer of buffers) pool.give(buffer);
    expect(pool.pooledBytes).toBe(8 * 106_496);
    pool.trim(999);
    expect(pool.pooledBytes).toBe(8 * 106_496); // the interval is not over
    // The first interval began with an empty pool: nothing stayed unused through all of it.
    pool.trim(1_000);
    expect(pool.pooledBytes).toBe(8 * 106_496);
    // Then 2 taken and given back within the next interval: 6 stayed unused, 3 of them go.
    const taken = [pool.take(100_000), pool.take(100_000)];
    for (const buffer of taken) pool.give(buffer);
    pool.trim(2_000);
    expect(pool.pooledBytes).toBe(5 * 106_496);
    // A quiet pool gives up half of its buffers (rounded up) each interval, down to none.
    const left: number[] = [];
    for (let at = 3_000; at <= 6_000; at += 1_000) {
      pool.trim(at);
      left.push(pool.pooledBytes / 106_496);
    }
    expect(left).toEqual([2, 1, 0, 0]);
    expect(pool.reuses).toBe(2);
    pool.take(100_000);
    expect(pool.reuses).toBe(2);
  });

  it('packs a batch into a dirty reused buffer that reads exactly like a new one', () => {
    const expected = packed(buildRows(1_000, 0));
    const pool = new BatchBufferPool();
    const dirty = pool.take(expected.buffer.byteLength);
    new Uint8Array(dirty).fill(0xa5);
    pool.give(dirty);
    const reused = packed(buildRows(1_000, 0), pool);
    expect(reused.buffer).toBe(dirty);
    expect(pool.reuses).toBe(1);
    expect(reused.buffer.byteLength).toBe(batchBufferSizeClass(expected.buffer.byteLength));
    expect(rowsOf(reused)).toEqual(rowsOf(expected));
    expect(reused.columns).toEqual(expected.columns);
    // The packed bytes are the same; the rest of the class is zero.
    expect(bytesOf(reused, { byteOffset: 0, byteLength: expected.buffer.byteLength })).toEqual(new Uint8Array(expected.buffer));
    expect(new Uint8Array(reused.buffer, expected.buffer.byteLength).every((byte) => byte === 0)).toBe(true);
    // A second request of other rows into the same buffer after it came back again.
    pool.give(reused.buffer);
    const next = packed(buildRows(1_000, 5_000), pool);
    expect(next.buffer).toBe(dirty);
    expect(rowsOf(next)).toEqual(rowsOf(packed(buildRows(1_000, 5_000))));
  });
});
