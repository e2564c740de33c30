// Proves that a flush failing for lack of disk space is told apart from other failures (Node errno
// codes, DuckDB's texts, wrapped causes) and that a writer then refuses new rows with 503
// ARC_STORAGE_FULL until a flush succeeds again, losing nothing, by driving a WriterCore whose
// encoder fails like a full disk and then recovers.
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ColumnBatch, SchemaColumn } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { LocalStorage } from '@arc/storage';
import { FLUSH_RETRY_DELAY_MS_MIN } from '../src/flush-policy.js';
import type { EncodedHourFile, ParquetEncoder } from '../src/parquet-encoder.js';
import { isStorageFull, storageFullError } from '../src/storage-full.js';
import { WriterCore } from '../src/writer-core.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
const RECOVERY_DEADLINE_MS = 5000;

function errnoError(code: string): Error {
  return Object.assign(new Error(`${code}: write failed`), { code });
}

describe('isStorageFull', () => {
  it.each([
    ['Node ENOSPC', errnoError('ENOSPC')],
    ['Node EDQUOT', errnoError('EDQUOT')],
    ['DuckDB IO error', new Error('IO Error: Could not write file "/d/tmp/x.tmp": No space left on device')],
    ['DuckDB quota', new Error('IO Error: Could not write file "/d/x.parquet": Disk quota exceeded')],
    ['DuckDB spill limit', new Error("Out of Memory Error: failed to offload data block of size 256.0 KiB (3.1 MiB/3.1 MiB used).\nThis limit was set by the 'max_temp_directory_size' setting.")],
    ['wrapped ENOSPC', new Error('flush failed', { cause: errnoError('ENOSPC') })],
    ['ArcError ARC_STORAGE_FULL', storageFullError('a flush', errnoError('ENOSPC'))],
  ])('%s is a full disk', (_name, error) => {
    expect(isStorageFull(error)).toBe(true);
  });

  it.each([
    ['Node ENOENT', errnoError('ENOENT')],
    ['Node EACCES', errnoError('EACCES')],
    ['DuckDB missing directory', new Error('IO Error: Cannot open file "/nonexistent/x.parquet": No such file or directory')],
    ['DuckDB out of memory', new Error('Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)')],
    ['other ArcError', new ArcError(ErrorKind.internal, 'ARC_PARQUET_WRITE_FAILED', 'No space left on device')],
    ['a string', 'No space left on device'],
    ['null', null],
    ['errno code not a string', Object.assign(new Error('x'), { code: 28 })],
  ])('%s is not', (_name, error) => {
    expect(isStorageFull(error)).toBe(false);
  });
});

/** An encoder that fails like a full disk while `full` is set, else encodes with the real one. */
class FillableEncoder {
  full = true;
  encodeCalls = 0;
  private readonly real: ParquetEncoder;

  constructor(real: ParquetEncoder) {
    this.real = real;
  }

  encode(batches: readonly ColumnBatch[], schema: readonly SchemaColumn[], pathForHour: (hourStartUs: number) => string): Promise<EncodedHourFile[]> {
    this.encodeCalls++;
    if (this.full) return Promise.reject(storageFullError('writing Parquet', new Error('IO Error: Could not write file "x": No space left on device')));
    return this.real.encode(batches, schema, pathForHour);
  }
}

const temp = useTempEncoder('arc-writer-full-');

function newCore(encoder: FillableEncoder, logs: string[]): WriterCore {
  return new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage: new LocalStorage(path.join(temp.root, 'data')),
    encoder: encoder as unknown as ParquetEncoder,
    onFlushed: () => undefined,
    log: (_level, message) => logs.push(message),
    nowMs: () => performance.now(),
  });
}

function batchOf(count: number, first: number): ColumnBatch {
  return floatBatch('cpu', Array.from({ length: count }, (_, index) => first + index), (index) => T0 + first + index);
}

describe('WriterCore on a full disk', () => {
  it('refuses new rows with ARC_STORAGE_FULL once a flush failed for lack of space, and takes them again after a flush succeeds', async () => {
    const encoder = new FillableEncoder(temp.encoder);
    const logs: string[] = [];
    const core = newCore(encoder, logs);
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf(10, 0)] })).toMatchObject({ error: null });
    const failed = await core.flushAll();
    expect(failed?.code).toBe('ARC_STORAGE_FULL');
    // The acknowledged rows stay buffered; a new request is refused before it is buffered.
    const refused = core.handle(0, { kind: 'append', txnId: 2, batches: [batchOf(5, 10)] });
    expect(refused).toMatchObject({ kind: 'verdict', txnId: 2, error: { kind: 'unavailable', code: 'ARC_STORAGE_FULL' } });
    expect(core.handle(0, { kind: 'prepare', txnId: 3, batches: [batchOf(5, 10)] })).toMatchObject({ error: { code: 'ARC_STORAGE_FULL' } });
    expect(core.stats()).toMatchObject({ rowsBuffered: 10, rowsFlushed: 0 });
    expect(logs.join('\n')).toMatch(/data disk is full: new writes are refused/);
    // Space comes back: the writer's own retry flushes the rows, and writes are accepted again.
    encoder.full = false;
    await waitUntil('the retry flushes the buffered rows', RECOVERY_DEADLINE_MS, () => core.stats().rowsFlushed === 10);
    expect(core.handle(0, { kind: 'append', txnId: 4, batches: [batchOf(5, 10)] })).toMatchObject({ error: null });
    expect(await core.flushAll()).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 15 });
  });

  it('another kind of flush failure does not refuse writes', async () => {
    const encoder = new FillableEncoder(temp.encoder);
    encoder.encode = () => Promise.reject(new ArcError(ErrorKind.internal, 'ARC_PARQUET_WRITE_FAILED', 'permission denied'));
    const core = newCore(encoder, []);
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf(3, 0)] })).toMatchObject({ error: null });
    expect((await core.flushAll())?.code).toBe('ARC_FLUSH_FAILED');
    expect(core.handle(0, { kind: 'append', txnId: 2, batches: [batchOf(3, 3)] })).toMatchObject({ error: null });
    await core.stop();
  });

  it('stop() ends the retries and keeps the unflushed rows counted', async () => {
    // The retry runs on setTimeout: faked, so "nothing happens after the retry was due" is shown
    // by moving the clock past it rather than by waiting.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const encoder = new FillableEncoder(temp.encoder);
      const core = newCore(encoder, []);
      expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf(7, 0)] })).toMatchObject({ error: null });
      expect((await core.flushAll())?.code).toBe('ARC_STORAGE_FULL');
      expect(vi.getTimerCount()).toBeGreaterThan(0);
      await core.stop();
      const callsAtStop = encoder.encodeCalls;
      encoder.full = false;
      // The first retry was due FLUSH_RETRY_DELAY_MS_MIN after the failure: well past it, no flush may have started.
      await vi.advanceTimersByTimeAsync(4 * FLUSH_RETRY_DELAY_MS_MIN);
      expect(encoder.encodeCalls).toBe(callsAtStop);
      expect(core.stats()).toMatchObject({ rowsBuffered: 7, rowsFlushed: 0 });
    } finally {
      vi.useRealTimers();
    }
  });
});
