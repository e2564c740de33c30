// Proves that the encoder's spill limit is the one it sets, not 90% of the disk's free space
// computed at the first spill (which a full disk froze at ~100 KiB for good): a flush whose sort
// is larger than a small memory limit and a 1 MiB spill limit fails naming that 1 MiB, as
// ARC_STORAGE_FULL. And that a flush in time order needs no such memory: its rows stream from the
// batches into the file, so the same rows in order are written under the same limits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '@arc/storage';
import { ParquetEncoder } from '../src/parquet-encoder.js';
import { schemaOfBatches } from '../src/measurement-buffer.js';
import { floatBatch } from './support/float-batch.js';

const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
/** 16 bytes a row (time, v): ~64 MB to sort, four times the memory limit, so DuckDB must spill. */
const ROW_COUNT = 4_000_000;

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'arc-encoder-spill-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('ParquetEncoder temp directory limit', () => {
  it('applies its own max_temp_directory_size, and a spill past it is ARC_STORAGE_FULL', async () => {
    const encoder = await ParquetEncoder.create({
      staged: new LocalStorage(root),
      threads: 1,
      compression: 'snappy',
      rowGroupSize: 122_880,
      tempDirectory: path.join(root, 'spill'),
      memoryLimit: '16MB',
      tempDirectorySizeMax: '1MiB',
    });
    try {
      // Descending times: the rows must be sorted.
      const values = Array.from({ length: ROW_COUNT }, (_, index) => index);
      const reversed = floatBatch('cpu', values, (index) => T0 + ROW_COUNT - index);
      const encoding = encoder.encode([reversed], schemaOfBatches([reversed]), () => path.join(root, 'cpu-reversed.parquet.tmp'));
      await expect(encoding).rejects.toMatchObject({ code: 'ARC_STORAGE_FULL', message: expect.stringMatching(/\/1\.0 MiB used\)/) });
      const inOrder = floatBatch('cpu', values, (index) => T0 + index);
      const files = await encoder.encode([inOrder], schemaOfBatches([inOrder]), () => path.join(root, 'cpu-in-order.parquet.tmp'));
      expect(files.map((file) => file.rowCount)).toEqual([ROW_COUNT]);
    } finally {
      encoder.close();
    }
  }, 120_000);
});
