// Proves that a flush waits for requests the writer prepared: a decoder answers 204 right after
// posting a commit, and POST /write/flush reaches the writer on another port, so the flush may
// arrive first. The rows of a commit that lands while the flush waits are flushed by it; a
// prepare nobody decides on holds the flush for a bounded time only.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnBatch } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import type { ParquetEncoder } from '../src/parquet-encoder.js';
import { floatBatch, openTestEncoder } from './support/float-batch.js';
import { WriterCore } from '../src/writer-core.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;

function batchOf(measurement: string, count: number): ColumnBatch {
  return floatBatch(measurement, Array.from({ length: count }, (_, index) => index), (index) => T0 + index);
}

let root = '';
let encoder: ParquetEncoder;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'arc-writer-flush-'));
  encoder = await openTestEncoder(root);
});
afterAll(async () => {
  encoder.close();
  await rm(root, { recursive: true, force: true });
});

function newCore(): WriterCore {
  return new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage: new LocalStorage(path.join(root, 'data')),
    encoder,
    onFlushed: () => undefined,
    log: () => undefined,
    nowMs: () => performance.now(),
  });
}

describe('WriterCore.flushAll and prepared requests', () => {
  it('flushes the rows of a commit that arrives after the flush request', async () => {
    const core = newCore();
    expect(core.handle(0, { kind: 'prepare', txnId: 1, batches: [batchOf('cpu', 3)] })).toMatchObject({ error: null });
    const flushing = core.flushAll();
    // The commit overtaken by the flush request lands a moment later.
    setTimeout(() => core.handle(0, { kind: 'commit', txnId: 1 }), 20);
    expect(await flushing).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 3 });
  });

  it('gives up on an undecided prepared request after a bounded wait, and flushes it once committed', async () => {
    const core = newCore();
    expect(core.handle(1, { kind: 'prepare', txnId: 7, batches: [batchOf('mem', 2)] })).toMatchObject({ error: null });
    const startedAt = performance.now();
    expect(await core.flushAll()).toBeNull();
    const waitedMs = performance.now() - startedAt;
    expect(waitedMs).toBeGreaterThanOrEqual(900);
    // The undecided rows were never acknowledged: they stay prepared, not flushed, not lost.
    expect(core.stats()).toMatchObject({ rowsFlushed: 0 });
    core.handle(1, { kind: 'commit', txnId: 7 });
    expect(await core.flushAll()).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 2 });
  });
});
