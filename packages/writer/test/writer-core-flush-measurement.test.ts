// Proves that WriterCore.flushMeasurement flushes one (database, measurement) and nothing else:
// its rows land in files (onFlushed names it alone) while another measurement stays buffered,
// its WAL entries are reported covered and no other's, a commit it overtook is flushed by it, and
// a failed flush of it is answered as an error (the rows stay buffered and are flushed later).
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnBatch, SchemaColumn } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import type { EncodedHourFile, ParquetEncoder } from '../src/parquet-encoder.js';
import { WriterCore } from '../src/writer-core.js';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;

function batchOf(measurement: string, count: number): ColumnBatch {
  return floatBatch(measurement, Array.from({ length: count }, (_, index) => index), (index) => T0 + index);
}

/** The real encoder, failing the flushes of `failing` while it is set. */
class FailingEncoder {
  failing: string | null = null;
  private readonly real: ParquetEncoder;

  constructor(real: ParquetEncoder) {
    this.real = real;
  }

  encode(batches: readonly ColumnBatch[], schema: readonly SchemaColumn[], pathForHour: (hourStartUs: number) => string): Promise<EncodedHourFile[]> {
    if (batches[0]?.measurement === this.failing) return Promise.reject(new Error(`encoding ${this.failing} failed`));
    return this.real.encode(batches, schema, pathForHour);
  }
}

const temp = useTempEncoder('arc-writer-flush-measurement-');

interface Observed {
  readonly core: WriterCore;
  readonly encoder: FailingEncoder;
  /** "measurement:rows" per flush, in order. */
  readonly flushed: string[];
  /** "measurement:stream:seqMax" per WAL coverage notice. */
  readonly covered: string[];
}

function newCore(name: string): Observed {
  const flushed: string[] = [];
  const covered: string[] = [];
  const encoder = new FailingEncoder(temp.encoder);
  const core = new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage: new LocalStorage(path.join(temp.root, name)),
    encoder: encoder as unknown as ParquetEncoder,
    onFlushed: (_database, measurement, files) => flushed.push(`${measurement}:${String(files.reduce((rows, file) => rows + file.rowCount, 0))}`),
    onWalCovered: (stream, _database, measurement, seqMax) => covered.push(`${measurement}:${String(stream)}:${String(seqMax)}`),
    log: () => undefined,
    nowMs: () => performance.now(),
  });
  return { core, encoder, flushed, covered };
}

describe('WriterCore.flushMeasurement', () => {
  it('flushes the one measurement and leaves the others buffered', async () => {
    const { core, flushed, covered } = newCore('one');
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf('cpu', 3)], wal: { stream: 0, seq: 1 } })).toMatchObject({ error: null });
    expect(core.handle(0, { kind: 'append', txnId: 2, batches: [batchOf('mem', 5)], wal: { stream: 0, seq: 2 } })).toMatchObject({ error: null });
    expect(core.handle(1, { kind: 'append', txnId: 3, batches: [batchOf('cpu', 2)], wal: { stream: 1, seq: 1 } })).toMatchObject({ error: null });

    expect(await core.flushMeasurement('db', 'cpu')).toBeNull();
    expect(flushed).toEqual(['cpu:5']);
    expect(covered.sort()).toEqual(['cpu:0:1', 'cpu:1:1']);
    expect(core.stats()).toMatchObject({ rowsBuffered: 5, rowsFlushed: 5, buffers: 2 });

    expect(await core.flushAll()).toBeNull();
    expect(flushed).toEqual(['cpu:5', 'mem:5']);
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 10 });
  });

  it('answers at once for a measurement with nothing buffered, flushing nothing', async () => {
    const { core, flushed } = newCore('none');
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf('mem', 4)] })).toMatchObject({ error: null });
    expect(await core.flushMeasurement('db', 'cpu')).toBeNull();
    expect(await core.flushMeasurement('other', 'mem')).toBeNull();
    expect(flushed).toEqual([]);
    expect(core.stats()).toMatchObject({ rowsBuffered: 4 });
  });

  it('flushes the rows of a commit it overtook, with a flush of it already asked for', async () => {
    const { core, flushed } = newCore('prepared');
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf('cpu', 2)] })).toMatchObject({ error: null });
    const earlier = core.flushMeasurement('db', 'cpu');
    expect(core.handle(0, { kind: 'append', txnId: 2, batches: [batchOf('cpu', 3)] })).toMatchObject({ error: null });
    expect(core.handle(0, { kind: 'prepare', txnId: 3, batches: [batchOf('cpu', 4), batchOf('mem', 1)] })).toMatchObject({ error: null });
    const later = core.flushMeasurement('db', 'cpu');
    core.handle(0, { kind: 'commit', txnId: 3 });
    expect(await earlier).toBeNull();
    expect(await later).toBeNull();
    expect(flushed.reduce((rows, entry) => rows + (entry.startsWith('cpu:') ? Number(entry.slice(4)) : 0), 0)).toBe(9);
    expect(flushed.every((entry) => entry.startsWith('cpu:'))).toBe(true);
    expect(core.stats()).toMatchObject({ rowsBuffered: 1 });
  });

  it('answers a failed flush of the measurement with an error and keeps its rows; a failure of another is not its own', async () => {
    const { core, encoder, flushed } = newCore('failing');
    expect(core.handle(0, { kind: 'append', txnId: 1, batches: [batchOf('cpu', 3), batchOf('mem', 2)] })).toMatchObject({ error: null });
    encoder.failing = 'cpu';
    const failed = await core.flushMeasurement('db', 'cpu');
    expect(failed?.code).toBe('ARC_FLUSH_FAILED');
    expect(failed?.message).toContain('encoding cpu failed');
    expect(core.stats()).toMatchObject({ rowsBuffered: 5, rowsFlushed: 0 });
    expect(await core.flushMeasurement('db', 'mem')).toBeNull();
    expect(flushed).toEqual(['mem:2']);

    encoder.failing = null;
    expect(await core.flushMeasurement('db', 'cpu')).toBeNull();
    expect(flushed).toEqual(['mem:2', 'cpu:3']);
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 5 });
    await core.stop();
  });
});
