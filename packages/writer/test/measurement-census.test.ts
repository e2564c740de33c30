// Proves ingest.max_measurements_per_database holds across writer threads: two WriterCores sharing
// one MeasurementCensus count a database's measurements together (those already on disk included),
// refuse a request that would pass the bound with a 400-kind error naming the database, the count
// and the bound, take back what an aborted request counted, and never refuse a WAL replay.
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnBatch } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { MeasurementCensus } from '../src/measurement-census.js';
import { WriterCore } from '../src/writer-core.js';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
const COUNT_MAX = 5;

function batchOf(measurement: string): ColumnBatch {
  return floatBatch(measurement, [1], () => T0);
}

const temp = useTempEncoder('arc-census-');

function newCore(dataRoot: string, census: MeasurementCensus): WriterCore {
  return new WriterCore({
    writerIndex: 0,
    policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
    bytesBufferedMax: 1 << 30,
    storage: new LocalStorage(dataRoot),
    encoder: temp.encoder,
    onFlushed: () => undefined,
    log: () => undefined,
    nowMs: () => performance.now(),
    census,
    measurementsPerDatabaseMax: COUNT_MAX,
  });
}

async function twoWriters(name: string, onDisk: readonly string[]): Promise<{ left: WriterCore; right: WriterCore; census: MeasurementCensus }> {
  const dataRoot = path.join(temp.root, name);
  for (const measurement of onDisk) await mkdir(path.join(dataRoot, 'db', measurement), { recursive: true });
  const census = MeasurementCensus.create(dataRoot);
  // The second writer attaches to the same shared memory, as a writer thread does.
  return { left: newCore(dataRoot, census), right: newCore(dataRoot, new MeasurementCensus(census.shared, dataRoot)), census };
}

describe('measurements per database', () => {
  it('counts the database as a whole across writers, disk included, and refuses past the bound', async () => {
    const { left, right } = await twoWriters('whole', ['old1', 'old2']);
    expect(left.handle(0, { kind: 'append', txnId: 1, batches: [batchOf('a'), batchOf('old1')] })).toMatchObject({ error: null });
    expect(right.handle(0, { kind: 'append', txnId: 2, batches: [batchOf('b'), batchOf('old2')] })).toMatchObject({ error: null });
    // old1, old2, a, b: one more fits, two do not, and the refusal writes nothing.
    const refused = right.handle(0, { kind: 'append', txnId: 3, batches: [batchOf('c'), batchOf('d')] });
    expect(refused?.error).toMatchObject({
      kind: 'bad_request',
      code: 'ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE',
      details: { database: 'db', measurements: 4, measurements_max: COUNT_MAX },
    });
    expect(refused?.error?.message).toMatch(/^max-measurements-per-database limit exceeded: .*'db'.*ingest\.max_measurements_per_database/);
    expect(right.stats()).toMatchObject({ rowsBuffered: 2, buffers: 2 });
    // Known measurements are always accepted; one new one still fits. (Each writer gets only its
    // hash share of the measurements, as the decoders route them.)
    expect(left.handle(0, { kind: 'append', txnId: 4, batches: [batchOf('a'), batchOf('old1'), batchOf('c')] })).toMatchObject({ error: null });
    expect(left.handle(0, { kind: 'append', txnId: 5, batches: [batchOf('e')] })?.error?.code).toBe('ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE');
  });

  it('takes back what an aborted request counted, and never refuses a replay', async () => {
    const { left, right } = await twoWriters('abort', []);
    const five = ['m1', 'm2', 'm3', 'm4', 'm5'].map(batchOf);
    expect(left.handle(0, { kind: 'prepare', txnId: 1, batches: five })).toMatchObject({ error: null });
    left.handle(0, { kind: 'abort', txnId: 1 });
    expect(right.handle(0, { kind: 'append', txnId: 2, batches: ['n1', 'n2', 'n3', 'n4', 'n5'].map(batchOf) })).toMatchObject({ error: null });
    expect(left.handle(0, { kind: 'append', txnId: 3, batches: [batchOf('m1')] })?.error?.code).toBe('ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE');
    expect(left.handle(0, { kind: 'append', txnId: 4, batches: [batchOf('m1')], replayed: true })).toMatchObject({ error: null });
  });

  it('counts a deleted database afresh', async () => {
    const { left, census } = await twoWriters('forget', []);
    expect(left.handle(0, { kind: 'append', txnId: 1, batches: ['m1', 'm2', 'm3', 'm4', 'm5'].map(batchOf) })).toMatchObject({ error: null });
    expect(left.handle(0, { kind: 'append', txnId: 2, batches: [batchOf('m6')] })?.error?.code).toBe('ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE');
    // As a real delete does: the database's files and directories go, then the census forgets it.
    await rm(path.join(temp.root, 'forget', 'db'), { recursive: true, force: true });
    census.forget('db');
    expect(left.handle(0, { kind: 'append', txnId: 3, batches: [batchOf('m6')] })).toMatchObject({ error: null });
  });
});
