// Proves the writer's side of the WAL's exactly-once rule with the real encoder and local disk:
// a flush records its WAL coverage in the flush journal before its files are renamed into place
// (spanning hours: several files, one record), tells the stream's owner what is covered, and when
// the journal cannot be written the staged files go, the rows stay buffered, and the retry writes
// them once.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ColumnBatch } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { coverageKey, FlushJournal, readJournalsSync } from '@arc/wal';
import { floatBatch } from './support/float-batch.js';
import { useTempEncoder } from './support/temp-encoder.js';
import { WriterCore } from '../src/writer-core.js';
import type { FlushedFile } from '../src/writer-messages.js';

/** 2026-11-24T10:00:00Z in microseconds; rows 40 minutes apart span several UTC hours. */
const T0 = Date.UTC(2026, 10, 24, 10) * 1000;
const ROW_SPACING_US = 40 * 60_000_000;

function batchOf(values: readonly number[]): ColumnBatch {
  return floatBatch('cpu', values, (index) => T0 + index * ROW_SPACING_US);
}

const temp = useTempEncoder('arc-writer-wal-');

async function parquetFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true });
  return entries.filter((name) => name.endsWith('.parquet') || name.endsWith('.tmp')).sort();
}

describe('WriterCore with a flush journal', () => {
  it('journals the coverage of a multi-hour flush, then publishes and reports it; a failed journal write keeps the rows', async () => {
    const walDir = path.join(temp.root, 'wal');
    const dataDir = path.join(temp.root, 'data');
    await mkdir(walDir, { recursive: true });
    await mkdir(dataDir, { recursive: true });
    const journal = FlushJournal.openSync(walDir, 0);
    const covered: string[] = [];
    const flushed: FlushedFile[] = [];
    const core = new WriterCore({
      writerIndex: 0,
      policy: { flushRows: 1_000_000, flushBytesMax: 1 << 30, flushAgeMs: 3_600_000 },
      bytesBufferedMax: 1 << 30,
      storage: new LocalStorage(dataDir),
      encoder: temp.encoder,
      onFlushed: (_database, _measurement, files) => flushed.push(...files),
      log: () => undefined,
      nowMs: () => performance.now(),
      journal,
      onWalCovered: (stream, database, measurement, seqMax) => covered.push(`${stream}:${database}/${measurement}<=${seqMax}`),
    });
    const prepareAndCommit = (decoder: number, txnId: number, values: number[], stream: number, seq: number): void => {
      expect(core.handle(decoder, { kind: 'prepare', txnId, batches: [batchOf(values)] })).toEqual({ kind: 'verdict', txnId, error: null });
      expect(core.handle(decoder, { kind: 'commit', txnId, wal: { stream, seq } })).toBeNull();
    };
    prepareAndCommit(0, 1, [1, 2, 3], 0, 5);
    prepareAndCommit(1, 1, [10, 20], 1, 3);

    // The journal fails (disk full): nothing is published, nothing is left staged, rows stay.
    const recordSync = journal.recordSync.bind(journal);
    journal.recordSync = () => {
      throw new Error('ENOSPC: no space left on device');
    };
    const failure = await core.flushAll();
    expect(failure?.code).toBe('ARC_FLUSH_FAILED');
    expect(failure?.message).toMatch(/flush journal write failed: ENOSPC/);
    expect(await parquetFiles(dataDir)).toEqual([]);
    expect(core.stats().rowsBuffered).toBe(5);
    expect(covered).toEqual([]);

    journal.recordSync = recordSync;
    expect(await core.flushAll()).toBeNull();
    expect(core.stats()).toMatchObject({ rowsBuffered: 0, rowsFlushed: 5 });
    expect(flushed.length).toBeGreaterThanOrEqual(2); // rows 40 minutes apart: one file per hour
    expect((await parquetFiles(dataDir)).every((name) => name.endsWith('.parquet'))).toBe(true);
    expect(covered.sort()).toEqual(['0:db/cpu<=5', '1:db/cpu<=3']);
    journal.close();
    const state = readJournalsSync(walDir);
    expect(state.coverage).toEqual(new Map([[coverageKey(0, 'db', 'cpu'), 5], [coverageKey(1, 'db', 'cpu'), 3]]));
    expect(state.files.map((file) => file.key).sort()).toEqual(flushed.map((file) => file.key).sort());
  });
});
