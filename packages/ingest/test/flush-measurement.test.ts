// Proves IngestPipeline.flushMeasurement on the real threads (two writers, from dist/: build
// first): the measurement's buffered rows land in Parquet files and the writers announce them,
// while every other measurement, on either writer, stays buffered with no file of its own.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { loadConfig } from '@arc/config';
import { writerIndexFor, type MeasurementEvent } from '@arc/writer';
import { PayloadFormat, type Completion } from '../src/frames.js';
import { IngestPipeline } from '../src/ingest-pipeline.js';
import type { Logger } from '../src/logger.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** Enough measurements that, by their hash, both writers own some. */
const MEASUREMENTS = ['cpu', 'mem', 'disk', 'net', 'swap', 'load'];
const ROWS_PER_MEASUREMENT = 7;

let directory = '';
beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'arc-flush-measurement-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function submit(pipeline: IngestPipeline, rows: readonly object[]): Promise<Completion> {
  return new Promise((resolve, reject) => {
    const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database: 'default', nowUs: Date.now() * 1000, precision: 'ns' }, new Packr({ useRecords: false }).pack(rows), resolve);
    if (outcome === 'busy') reject(new Error('busy'));
  });
}

/** The Parquet files under the database's directory, as "measurement/..." paths. */
async function parquetFiles(root: string): Promise<string[]> {
  const entries = await readdir(path.join(root, 'default'), { recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.endsWith('.parquet')).map((entry) => entry.split(path.sep).join('/'));
}

describe('IngestPipeline.flushMeasurement', () => {
  it('flushes one measurement into files and leaves the others buffered', async () => {
    const config = loadConfig({
      cwd: directory,
      env: { ARC_DATA_DIR: directory, ARC_WAL_ENABLED: 'false', ARC_INGEST_DECODERS: '2', ARC_WRITER_THREADS: '2', ARC_WRITER_FLUSH_AGE_MS: '3600000', ARC_WRITER_FLUSH_ROWS: '1000000' },
    });
    expect(new Set(MEASUREMENTS.map((m) => writerIndexFor('default', m, 2))).size).toBe(2);
    const pipeline = await IngestPipeline.start(config, quiet, null, await Storage.open({ root: config.storage.parquetRoot }));
    const events: MeasurementEvent[] = [];
    pipeline.onMeasurementEvents((batch) => events.push(...batch));
    try {
      const rows = MEASUREMENTS.flatMap((m) => Array.from({ length: ROWS_PER_MEASUREMENT }, (_, index) => ({ m, t: 1_700_000_000_000 + index, fields: { v: index } })));
      expect((await submit(pipeline, rows)).error).toBeNull();

      expect(await pipeline.flushMeasurement('default', 'cpu')).toBeNull();
      const files = await parquetFiles(config.storage.parquetRoot);
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((file) => file.startsWith('cpu/'))).toBe(true);
      expect(events.filter((event) => event.kind === 'flushed').map((event) => event.measurement)).toEqual(['cpu']);
      const buffered = (await pipeline.writerStats()).reduce((sum, stats) => sum + stats.rowsBuffered, 0);
      expect(buffered).toBe((MEASUREMENTS.length - 1) * ROWS_PER_MEASUREMENT);
      // Nothing of it is left to flush: a second call writes no file.
      expect(await pipeline.flushMeasurement('default', 'cpu')).toBeNull();
      expect(await parquetFiles(config.storage.parquetRoot)).toEqual(files);
    } finally {
      expect(await pipeline.shutdown()).toEqual({ flushError: null, rowsUnflushed: 0, writersUnreported: 0 });
    }
  });
});
