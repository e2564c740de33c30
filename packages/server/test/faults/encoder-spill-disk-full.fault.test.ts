// Proves that a writer's DuckDB recovers from spilling on a full disk: on a tmpfs this test
// mounts, a flush larger than the encoder's memory fails as ARC_STORAGE_FULL while the disk is
// full, and the same encoder flushes it once space is freed (DuckDB's default spill limit, 90% of
// the free space at the first spill, would have stayed at ~100 KiB for good).
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchBuilder, ColumnBuilder, ColumnRole, ColumnType, type ColumnBatch } from '@arc/columnar';
import { isArcError } from '@arc/errors';
import { LocalStorage } from '@arc/storage';
import { ParquetEncoder } from '@arc/writer/parquet-encoder';
import { mountTmpfs, tmpfsUnavailable, type Tmpfs } from './support/tmpfs.js';

const TMPFS_MB = 64;
const GROWN_MB = 256;
/**
 * 16 bytes a row (time, v): ~64 MB to sort against a 16 MB memory limit, so DuckDB spills. The
 * rows come in descending time: a flush in time order streams into its file and never spills.
 */
const ROW_COUNT = 4_000_000;
const MEMORY_LIMIT = '16MB';
const T0_US = Date.UTC(2026, 10, 24, 10) * 1000;

const unavailable = tmpfsUnavailable();
if (unavailable !== null) console.warn(`encoder spill fault test skipped: ${unavailable}`);

function floatRows(count: number): ColumnBatch {
  const builder = new BatchBuilder();
  builder.reset('db', 'spilled');
  for (let row = 0; row < count; row++) {
    const rowError = builder.beginRow(T0_US + count - row);
    if (rowError !== null) throw rowError;
    const column = builder.column('v', ColumnRole.field);
    if (!(column instanceof ColumnBuilder)) throw column;
    column.appendFloat64(row);
  }
  const batch = builder.pack();
  if (isArcError(batch)) throw batch;
  return batch;
}

describe.skipIf(unavailable !== null)(`the Parquet encoder spilling on a full disk${unavailable === null ? '' : ` [skipped: ${unavailable}]`}`, () => {
  let disk: Tmpfs | null = null;
  let encoder: ParquetEncoder | null = null;
  afterAll(() => {
    encoder?.close();
    disk?.unmount();
  });

  it('fails as ARC_STORAGE_FULL while the disk is full, and flushes once space is freed', async () => {
    disk = mountTmpfs(TMPFS_MB);
    const output = path.join(disk.directory, 'out');
    await mkdir(output);
    encoder = await ParquetEncoder.create({ staged: new LocalStorage(output), threads: 1, compression: 'snappy', rowGroupSize: 122_880, tempDirectory: path.join(disk.directory, 'spill'), memoryLimit: MEMORY_LIMIT });
    const batch = floatRows(ROW_COUNT);
    const schema = [{ name: 'v', role: ColumnRole.field, type: ColumnType.float64 }];
    await disk.fill();
    // The first spill of this DuckDB instance happens now, on the full disk.
    await expect(encoder.encode([batch], schema, () => path.join(output, 'first.parquet.tmp'))).rejects.toMatchObject({ code: 'ARC_STORAGE_FULL' });
    // As in the field: the filler goes and the filesystem grows (room for spill and output).
    await disk.free();
    disk.grow(GROWN_MB);
    const files = await encoder.encode([batch], schema, () => path.join(output, 'second.parquet.tmp'));
    expect(files.map((file) => file.rowCount)).toEqual([ROW_COUNT]);
    expect(await readdir(output)).toEqual(['second.parquet.tmp']);
  }, 120_000);
});
