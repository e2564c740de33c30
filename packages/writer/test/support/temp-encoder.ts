import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { LocalStorage } from '@arc/storage';
import { ParquetEncoder } from '../../src/parquet-encoder.js';

/** A real encoder for a test file, and the temporary directory its tests write under. */
export interface TempEncoder {
  /** A fresh directory, removed after the file's last test. */
  readonly root: string;
  /** A small real encoder (one DuckDB thread) spilling under `root`, closed after the last test. */
  readonly encoder: ParquetEncoder;
}

/** A small real encoder (one DuckDB thread) spilling under `root`. */
export function openTestEncoder(root: string): Promise<ParquetEncoder> {
  return ParquetEncoder.create({ staged: new LocalStorage(root), threads: 1, compression: 'snappy', rowGroupSize: 122_880, tempDirectory: path.join(root, 'duckdb-tmp'), memoryLimit: '256MB' });
}

/**
 * Opens the directory and the encoder before the test file's first test and removes both after its
 * last one. Read `.root` / `.encoder` inside tests and hooks, not at module load.
 */
export function useTempEncoder(prefix: string): TempEncoder {
  let root: string | null = null;
  let encoder: ParquetEncoder | null = null;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), prefix));
    encoder = await openTestEncoder(root);
  });
  afterAll(async () => {
    encoder?.close();
    if (root !== null) await rm(root, { recursive: true, force: true });
  });
  return {
    get root(): string {
      if (root === null) throw new Error('the temporary directory is not made yet');
      return root;
    },
    get encoder(): ParquetEncoder {
      if (encoder === null) throw new Error('the test encoder is not open yet');
      return encoder;
    },
  };
}
