// Proves the appending side and the flush watermarks: a group of appended entries is written
// whole with consecutive seqs, segments rotate by size and on request, a closed segment is
// deleted only once every measurement it touched is covered up to its last seq, and flush
// journals keep their coverage across reopen, torn tails and compaction.
import { closeSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  coverageKey,
  createWalStatsBuffer,
  encodeEntry,
  FlushJournal,
  journalFileName,
  prepareRecovery,
  readJournalsSync,
  readLogFileSync,
  requestRotation,
  summarizeWalStats,
  SyncMode,
  walStatsCells,
  WalStream,
  createSyncChannel,
  runSyncThread,
  ThreadSyncRunner,
  type SyncOutcome,
  type SyncRunner,
} from '@arc/wal';
import { useTempDirectories } from './support/temp-directory.js';

const tempDirectory = useTempDirectories();

function newStream(directory: string, stats: SharedArrayBuffer, segmentBytesMax = 1 << 20): WalStream {
  return new WalStream({ directory, stream: 3, nextSeq: 10, syncMode: SyncMode.fdatasync, segmentBytesMax, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => Date.now() });
}
const entryOf = (index: number): Uint8Array => encodeEntry(index, new TextEncoder().encode(`entry ${index} ${'p'.repeat(100)}`));
/** A sync runner whose syncs end when the test says, and how: a group syncs while the next is written. */
class HeldSyncRunner implements SyncRunner {
  started = 0;
  outcome: SyncOutcome | null = null;
  start(): void {
    this.started++;
  }
  poll(): SyncOutcome | null {
    const outcome = this.outcome;
    this.outcome = null;
    return outcome;
  }
  wait(): SyncOutcome {
    return this.poll() ?? { error: null, milliseconds: 0 };
  }
  /** Never prepares a spare: every segment is created empty, as before preallocation. */
  startPreallocation(): void {
    // Nothing to prepare: preallocationDone answers false, and the stream drops its spare.
  }
  preallocationDone(): boolean | null {
    return false;
  }
  cancelPreallocation(): void {
    // Nothing runs.
  }
  close(): void {
    this.outcome = null;
  }
}
const segmentsIn = (directory: string): string[] => readdirSync(directory).filter((name) => name.endsWith('.wal')).sort();

describe('WalStream', () => {
  it('writes a group with consecutive seqs into a segment named after its first seq', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats);
    expect([0, 1, 2].map((index) => stream.append(entryOf(index), ['db/cpu']))).toEqual([10, 11, 12]);
    expect(stream.pendingCount).toBe(3);
    stream.syncPending();
    expect(stream.pendingCount).toBe(0);
    expect(segmentsIn(directory)).toEqual(['wal-003-0000000000000010.wal']);
    const contents = readLogFileSync(path.join(directory, 'wal-003-0000000000000010.wal'));
    expect(contents.tail).toBeNull();
    expect(contents.entries.map((entry) => entry.timestampUs)).toEqual([0, 1, 2]);
    const summary = summarizeWalStats([stats]);
    expect(summary.entries).toBe(3);
    expect(summary.syncs).toBe(1);
    expect(summary.syncHistogram.reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(summary.oldestUnflushedAtMs).toBeGreaterThan(0);
    stream.close();
  });

  it('deletes a rotated segment only when every measurement it touched is covered to its last seq', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats, 200);
    stream.append(entryOf(0), ['db/cpu']); // seq 10
    stream.append(entryOf(1), ['db/cpu', 'db/mem']); // seq 11
    stream.syncPending(); // past 200 bytes: rotated
    stream.append(entryOf(2), ['db/cpu']); // seq 12, second segment
    stream.syncPending();
    expect(segmentsIn(directory)).toEqual(['wal-003-0000000000000010.wal', 'wal-003-0000000000000012.wal']);
    stream.onCovered('db/cpu', 11);
    expect(segmentsIn(directory)).toHaveLength(2); // db/mem not covered yet
    stream.onCovered('db/mem', 10);
    expect(segmentsIn(directory)).toHaveLength(2); // db/mem covered below its seq 11
    stream.onCovered('db/mem', 11);
    expect(segmentsIn(directory)).toEqual(['wal-003-0000000000000012.wal']);
    // The open segment is never deleted, even when covered; a requested rotation closes it.
    stream.onCovered('db/cpu', 12);
    expect(segmentsIn(directory)).toEqual(['wal-003-0000000000000012.wal']);
    requestRotation([stats]);
    stream.maybeRotate();
    expect(segmentsIn(directory)).toEqual([]);
    expect(summarizeWalStats([stats]).segmentsDeleted).toBe(2);
    expect(summarizeWalStats([stats]).oldestUnflushedAtMs).toBe(0);
  });

  it('writes an entry at append, in parts back to back, and rotates only once its sync is done', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats);
    const entry = entryOf(0);
    expect(stream.append([entry.subarray(0, 20), entry.subarray(20)], ['db/cpu'])).toBe(10);
    const segmentPath = path.join(directory, 'wal-003-0000000000000010.wal');
    expect(readLogFileSync(segmentPath).entries.map((written) => written.timestampUs)).toEqual([0]); // in the file before its sync
    requestRotation([stats]);
    stream.maybeRotate();
    expect(summarizeWalStats([stats]).rotations).toBe(0); // its entry still waits for the sync
    expect(summarizeWalStats([stats]).syncs).toBe(0);
    stream.syncPending();
    expect(summarizeWalStats([stats]).syncs).toBe(1);
    expect(summarizeWalStats([stats]).rotations).toBe(1);
    stream.close();
  });

  it('appends the next group while a sync runs, and a failed sync cuts both groups and gives their seqs back', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const runner = new HeldSyncRunner();
    const stream = new WalStream({ directory, stream: 2, nextSeq: 1, syncMode: SyncMode.fdatasync, segmentBytesMax: 1 << 20, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => Date.now(), syncRunner: runner });
    const segmentPath = path.join(directory, 'wal-002-0000000000000001.wal');
    stream.append(entryOf(0), ['db/cpu']); // seq 1
    stream.syncPending(); // synced: the file's durable part ends here
    const syncedSize = statSync(segmentPath).size;
    stream.append(entryOf(1), ['db/cpu']); // seq 2
    expect(stream.startSync()).toBe(true);
    expect(stream.startSync()).toBe(false); // one sync at a time
    expect(stream.finishSync()).toBeNull(); // still running
    expect(stream.append(entryOf(2), ['db/cpu'])).toBe(3); // the next group is written meanwhile
    runner.outcome = { error: null, milliseconds: 1 };
    expect(stream.finishSync()).toBe(1); // seq 2 durable; seq 3 waits for the next sync
    expect(stream.startSync()).toBe(true);
    stream.append(entryOf(3), ['db/cpu']); // seq 4
    runner.outcome = { error: 'EIO: i/o error, fdatasync', milliseconds: 1 };
    expect(() => stream.finishSync()).toThrow(/Write-ahead log append failed.*EIO/);
    expect(stream.nextSeq).toBe(3); // seqs 3 and 4 given back
    expect(statSync(segmentPath).size).toBeGreaterThan(syncedSize);
    expect(readLogFileSync(segmentPath).entries.map((entry) => entry.timestampUs)).toEqual([0, 1]);
    expect(summarizeWalStats([stats]).writeErrors).toBe(1);
    expect(summarizeWalStats([stats]).entries).toBe(2);
    stream.close();
  });

  it('syncs on the sync thread side of a channel and reports a failed sync with its message', () => {
    const directory = tempDirectory();
    const fd = openSync(path.join(directory, 'file'), 'w');
    const channel = createSyncChannel();
    const runner = new ThreadSyncRunner(channel);
    let rung = 0;
    runner.start(fd);
    expect(runner.poll()).toBeNull();
    runner.close(); // the thread's loop ends once no request is left
    runSyncThread(channel, 'fdatasync', () => rung++);
    expect(runner.poll()).toMatchObject({ error: null });
    closeSync(fd);
    runner.start(fd); // closed: EBADF
    runSyncThread(channel, 'fdatasync', () => rung++);
    expect(runner.wait().error).toMatch(/EBADF/);
    expect(rung).toBe(2);
  });

  it('closes a segment once it is max_age old, also while idle', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    let nowMs = 1_000_000;
    const stream = new WalStream({ directory, stream: 1, nextSeq: 1, syncMode: SyncMode.async, segmentBytesMax: 1 << 20, segmentAgeMsMax: 60_000, stats: walStatsCells(stats), nowMs: () => nowMs });
    stream.append(entryOf(0), ['db/cpu']);
    stream.syncPending();
    nowMs += 59_999;
    stream.maybeRotate();
    expect(summarizeWalStats([stats]).rotations).toBe(0);
    nowMs += 1;
    stream.maybeRotate();
    expect(summarizeWalStats([stats]).rotations).toBe(1);
    stream.append(entryOf(1), ['db/cpu']);
    stream.syncPending();
    expect(segmentsIn(directory)).toEqual(['wal-001-0000000000000001.wal', 'wal-001-0000000000000002.wal']);
    expect(summarizeWalStats([stats]).syncs).toBe(0); // async: written, never synced
    stream.close();
  });

  it('reports the age of the oldest entry not yet in Parquet, not of its segment', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    let nowMs = 5_000_000;
    const stream = new WalStream({ directory, stream: 0, nextSeq: 1, syncMode: SyncMode.fdatasync, segmentBytesMax: 1 << 20, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => nowMs });
    stream.append(entryOf(0), ['db/cpu']); // seq 1 at 5,000,000
    stream.syncPending();
    nowMs += 10_000;
    stream.append(entryOf(1), ['db/mem']); // seq 2 at 5,010,000
    stream.syncPending();
    nowMs += 10_000;
    stream.append(entryOf(2), ['db/cpu']); // seq 3 at 5,020,000
    stream.syncPending();
    expect(summarizeWalStats([stats]).oldestUnflushedAtMs).toBe(5_000_000);
    stream.onCovered('db/cpu', 1);
    expect(summarizeWalStats([stats]).oldestUnflushedAtMs).toBe(5_010_000);
    stream.onCovered('db/cpu', 3);
    expect(summarizeWalStats([stats]).oldestUnflushedAtMs).toBe(5_010_000); // db/mem still waits
    stream.onCovered('db/mem', 2);
    expect(summarizeWalStats([stats]).oldestUnflushedAtMs).toBe(0);
    expect(segmentsIn(directory)).toHaveLength(1); // the open segment stays
    stream.close();
  });

  it('gives the seqs back and leaves the file unchanged when a write fails', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats);
    stream.append(entryOf(0), ['db/cpu']);
    stream.syncPending();
    const segmentPath = path.join(directory, segmentsIn(directory)[0] ?? '');
    const sizeBefore = statSync(segmentPath).size;
    const failing = new WalStream({ directory: path.join(directory, 'missing'), stream: 4, nextSeq: 1, syncMode: SyncMode.fsync, segmentBytesMax: 1 << 20, segmentAgeMsMax: 1000, stats: walStatsCells(stats), nowMs: () => Date.now() });
    expect(() => failing.append(entryOf(1), ['db/cpu'])).toThrow(/Write-ahead log append failed/);
    expect(failing.nextSeq).toBe(1);
    expect(summarizeWalStats([stats]).writeErrors).toBe(1);
    expect(statSync(segmentPath).size).toBe(sizeBefore);
    stream.close();
  });
});

describe('FlushJournal', () => {
  it('keeps coverage per (stream, database, measurement) across reopen, and cuts a torn record', async () => {
    const directory = tempDirectory();
    const journal = FlushJournal.openSync(directory, 0);
    journal.recordSync({ database: 'db', measurement: 'cpu', covers: [[0, 5], [1, 9]], files: [{ staging: path.join(directory, 'a.parquet.tmp'), key: 'db/cpu/a.parquet' }] });
    journal.recordSync({ database: 'db', measurement: 'cpu', covers: [[0, 7]], files: [] });
    journal.close();
    const journalPath = path.join(directory, journalFileName(0));
    const size = statSync(journalPath).size;
    writeFileSync(journalPath, Buffer.from([0, 0, 0, 99, 1, 2, 3]), { flag: 'a' });
    const state = readJournalsSync(directory);
    expect(state.coverage).toEqual(new Map([[coverageKey(0, 'db', 'cpu'), 7], [coverageKey(1, 'db', 'cpu'), 9]]));
    expect(state.truncated).toHaveLength(1);
    expect(statSync(journalPath).size).toBe(size);
    // A committed flush whose staged file still exists is renamed into place by recovery.
    writeFileSync(path.join(directory, 'a.parquet.tmp'), 'parquet');
    const published: string[] = [];
    const plan = await prepareRecovery(
      directory,
      (file) => {
        published.push(file.key);
        return Promise.resolve();
      },
      () => undefined,
    );
    expect(published).toEqual(['db/cpu/a.parquet']);
    expect(plan.filesRolledForward).toBe(1);
    expect(plan.nextSeqByStream).toEqual(new Map([[0, 8], [1, 10]]));
  });

  it('compacts into one snapshot with the same coverage', () => {
    const directory = tempDirectory();
    const journal = FlushJournal.openSync(directory, 2);
    const files = Array.from({ length: 40 }, (_, index) => ({ staging: `/nowhere/${'f'.repeat(200)}-${index}.parquet.tmp`, key: `db/m/${index}.parquet` }));
    for (let seq = 1; seq <= 150; seq++) {
      journal.recordSync({ database: 'db', measurement: `m${seq % 3}`, covers: [[seq % 2, seq]], files });
      journal.compactIfDue();
    }
    journal.close();
    const journalPath = path.join(directory, journalFileName(2));
    expect(statSync(journalPath).size).toBeLessThan(1024 * 1024);
    const state = readJournalsSync(directory);
    expect(state.coverage.get(coverageKey(0, 'db', 'm0'))).toBe(150);
    expect(state.coverage.get(coverageKey(1, 'db', 'm1'))).toBe(145);
    expect(state.coverage.get(coverageKey(1, 'db', 'm2'))).toBe(149);
    expect(readLogFileSync(journalPath).entries.length).toBeLessThan(150);
  });

  it('keeps the records of flushes still publishing through a compaction, so recovery rolls their files forward', () => {
    const directory = tempDirectory();
    const journal = FlushJournal.openSync(directory, 3);
    const padding = Array.from({ length: 40 }, (_, index) => ({ staging: `/nowhere/${'p'.repeat(200)}-${index}.parquet.tmp`, key: `db/m/p${index}.parquet` }));
    const inFlight = { database: 'db', measurement: 'cpu', covers: [[0, 500]] as const, files: [{ staging: '/nowhere/in-flight.parquet.tmp', key: 'db/cpu/in-flight.parquet' }] };
    journal.recordSync(inFlight);
    // Later flushes publish first and compact the journal while the first one still uploads.
    for (let seq = 1; seq <= 150; seq++) {
      journal.recordSync({ database: 'db', measurement: 'mem', covers: [[1, seq]], files: padding });
      journal.compactIfDue([inFlight]);
    }
    journal.close();
    expect(readLogFileSync(path.join(directory, journalFileName(3))).entries.length).toBeLessThan(150);
    const state = readJournalsSync(directory);
    expect(state.files.map((file) => file.key)).toContain('db/cpu/in-flight.parquet');
    expect(state.coverage.get(coverageKey(0, 'db', 'cpu'))).toBe(500);
  });
});
