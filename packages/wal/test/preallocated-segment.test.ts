// Proves segments written into space zeroed ahead: a stream rotates into its spare (a file of the
// segment's size, header then zeros) and keeps writing after it by size, the stats count the
// entries' bytes and not the zeros, a crash leaves a zeroed tail that recovery reads as the clean
// end of the entries (nothing cut, nothing reported), while a torn entry before zeros, or bytes
// that are not zero after a zeroed stretch, are a torn tail cut off the file; the sync thread's
// side of the channel zeroes and syncs a spare between its syncs.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createSyncChannel,
  createWalStatsBuffer,
  encodeEntry,
  encodeFileHeader,
  FILE_HEADER_BYTES,
  InlineSyncRunner,
  parseLogBytes,
  prepareRecovery,
  readLogFileSync,
  requestRotation,
  runSyncThread,
  segmentFileName,
  summarizeWalStats,
  SyncMode,
  ThreadSyncRunner,
  walStatsCells,
  WalStream,
  type SyncOutcome,
  type SyncRunner,
} from '@arc/wal';
import { useTempDirectories } from './support/temp-directory.js';

const tempDirectory = useTempDirectories();

const SEGMENT_BYTES_MAX = 64 * 1024;
/** Entries of one size (indexes below 1000). */
const entryOf = (index: number): Uint8Array => encodeEntry(index, new TextEncoder().encode(`entry ${String(index).padStart(3, '0')} ${'p'.repeat(1000)}`));
const noReplay = (): Promise<void> => Promise.reject(new Error('nothing to roll forward'));

function newStream(directory: string, stats: SharedArrayBuffer): WalStream {
  return new WalStream({ directory, stream: 5, nextSeq: 1, syncMode: SyncMode.fdatasync, segmentBytesMax: SEGMENT_BYTES_MAX, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => Date.now() });
}

function appendSynced(stream: WalStream, indexes: readonly number[]): void {
  for (const index of indexes) stream.append(entryOf(index), ['db/cpu']);
  stream.syncPending();
}

/** Syncs inline; every preallocation fails, as on a disk that fills while the spare is zeroed. */
class FailingSpareRunner implements SyncRunner {
  private readonly syncs = new InlineSyncRunner(SyncMode.fdatasync);
  start(fd: number): void {
    this.syncs.start(fd);
  }
  poll(): SyncOutcome | null {
    return this.syncs.poll();
  }
  wait(): SyncOutcome {
    return this.syncs.wait();
  }
  startPreallocation(): void {
    // Fails: preallocationDone answers false.
  }
  preallocationDone(): boolean | null {
    return false;
  }
  cancelPreallocation(): void {
    // Nothing runs.
  }
  close(): void {
    this.syncs.close();
  }
}

const namesIn = (directory: string): string[] => readdirSync(directory).sort();

async function recover(directory: string): Promise<{ plan: Awaited<ReturnType<typeof prepareRecovery>>; warnings: string[] }> {
  const warnings: string[] = [];
  const plan = await prepareRecovery(directory, noReplay, (_level, message) => warnings.push(message));
  return { plan, warnings };
}

describe('a stream with syncs writes into a spare zeroed ahead', () => {
  it('rotates into the spare, counts entry bytes only, and leaves a zeroed tail that recovery reads as a clean end', async () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats);
    appendSynced(stream, [0, 1]);
    // The first segment is created empty (no spare was ready); its spare is prepared meanwhile.
    const first = segmentFileName(5, 1);
    expect(namesIn(directory)).toEqual([first, 'wal-005.spare']);
    expect(statSync(path.join(directory, 'wal-005.spare')).size).toBe(SEGMENT_BYTES_MAX);
    expect(statSync(path.join(directory, first)).size).toBe(FILE_HEADER_BYTES + 2 * entryOf(0).byteLength);

    requestRotation([stats]);
    stream.maybeRotate();
    appendSynced(stream, [2, 3, 4]);
    const second = segmentFileName(5, 3);
    const secondPath = path.join(directory, second);
    // The spare became the second segment (its size did not change) and a new spare is prepared.
    expect(namesIn(directory)).toEqual([first, second, 'wal-005.spare']);
    expect(statSync(secondPath).size).toBe(SEGMENT_BYTES_MAX);
    const entriesBytes = 5 * entryOf(0).byteLength;
    expect(summarizeWalStats([stats])).toMatchObject({ entries: 5, bytes: entriesBytes, bytesLive: 2 * FILE_HEADER_BYTES + entriesBytes, segmentsLive: 2 });
    const contents = readLogFileSync(secondPath);
    expect(contents.entries.map((entry) => entry.timestampUs)).toEqual([2, 3, 4]);
    expect(contents.tail).toBeNull();
    expect(contents.zeroedTailBytes).toBe(SEGMENT_BYTES_MAX - FILE_HEADER_BYTES - 3 * entryOf(0).byteLength);

    // A crash here (no close): the zeroed tail is no torn tail; the spare is removed.
    const { plan, warnings } = await recover(directory);
    expect(plan.truncated).toEqual([]);
    expect(warnings).toEqual([]);
    expect(plan.segments.map((segment) => [segment.firstSeq, segment.entryCount, segment.bytes])).toEqual([
      [1, 2, FILE_HEADER_BYTES + 2 * entryOf(0).byteLength],
      [3, 3, FILE_HEADER_BYTES + 3 * entryOf(0).byteLength],
    ]);
    expect(plan.nextSeqByStream.get(5)).toBe(6);
    expect(namesIn(directory)).toEqual([first, second]);
  });

  it('rotates by size past the preallocated end, and a closed segment gives its unused zeros back', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = newStream(directory, stats);
    appendSynced(stream, [0]);
    requestRotation([stats]);
    stream.maybeRotate();
    // Seq 2 on goes into the spare; enough entries to pass the segment size, one group.
    const perSegment = Math.ceil((SEGMENT_BYTES_MAX - FILE_HEADER_BYTES) / entryOf(0).byteLength);
    const indexes = Array.from({ length: perSegment }, (_, index) => 1 + index);
    appendSynced(stream, indexes);
    const second = path.join(directory, segmentFileName(5, 2));
    const secondBytes = FILE_HEADER_BYTES + perSegment * entryOf(0).byteLength;
    // The last entry ran past the zeroed space: the file grew to the end of it, no zeros after.
    expect(secondBytes).toBeGreaterThan(SEGMENT_BYTES_MAX);
    expect(statSync(second).size).toBe(secondBytes);
    expect(summarizeWalStats([stats]).rotations).toBe(2);

    appendSynced(stream, [100, 101]);
    const third = path.join(directory, segmentFileName(5, 2 + perSegment));
    expect(statSync(third).size).toBe(SEGMENT_BYTES_MAX); // the next spare, prepared at the last rotation
    expect(readLogFileSync(second).entries.map((entry) => entry.timestampUs)).toEqual(indexes);
    expect(readLogFileSync(third).entries.map((entry) => entry.timestampUs)).toEqual([100, 101]);

    stream.close();
    // Closed: the zeros after the last entry are cut, and the unused spare is removed.
    expect(statSync(third).size).toBe(FILE_HEADER_BYTES + 2 * entryOf(0).byteLength);
    expect(existsSync(path.join(directory, 'wal-005.spare'))).toBe(false);
    expect(summarizeWalStats([stats]).bytesLive).toBe(FILE_HEADER_BYTES + entryOf(0).byteLength + secondBytes + statSync(third).size);
  });

  it('removes a spare whose preparation failed at once, and creates the next segment empty', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = new WalStream({ directory, stream: 2, nextSeq: 1, syncMode: SyncMode.fdatasync, segmentBytesMax: SEGMENT_BYTES_MAX, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => Date.now(), syncRunner: new FailingSpareRunner() });
    stream.append(entryOf(0), ['db/cpu']);
    expect(namesIn(directory)).toEqual([segmentFileName(2, 1), 'wal-002.spare']);
    stream.syncPending(); // its rotation check finds the failed spare
    expect(namesIn(directory)).toEqual([segmentFileName(2, 1)]);
    requestRotation([stats]);
    stream.maybeRotate();
    appendSynced(stream, [1]);
    expect(statSync(path.join(directory, segmentFileName(2, 2))).size).toBe(FILE_HEADER_BYTES + entryOf(1).byteLength);
    stream.close();
  });

  it('prepares no spare in the async mode (it never syncs)', () => {
    const directory = tempDirectory();
    const stats = createWalStatsBuffer();
    const stream = new WalStream({ directory, stream: 1, nextSeq: 1, syncMode: SyncMode.async, segmentBytesMax: SEGMENT_BYTES_MAX, segmentAgeMsMax: 3_600_000, stats: walStatsCells(stats), nowMs: () => Date.now() });
    appendSynced(stream, [0]);
    expect(namesIn(directory)).toEqual([segmentFileName(1, 1)]);
    stream.close();
  });
});

describe('recovery of a segment with zeros after its entries', () => {
  const entries = [0, 1, 2].map(entryOf);
  const whole = Buffer.concat([encodeFileHeader(), ...entries]);
  const lastStart = whole.byteLength - (entries[2]?.byteLength ?? 0);

  it('cuts a torn entry followed by zeros, and nothing before it', async () => {
    // The last entry's header and half its payload reached the disk; the rest of its space stayed zero.
    const half = lastStart + Math.floor((entries[2]?.byteLength ?? 0) / 2);
    const bytes = Buffer.concat([whole.subarray(0, half), Buffer.alloc(SEGMENT_BYTES_MAX - half)]);
    expect(parseLogBytes(bytes).tail).toEqual({ offset: lastStart, reason: 'entry checksum mismatch' });
    const directory = tempDirectory();
    const segmentPath = path.join(directory, segmentFileName(0, 1));
    writeFileSync(segmentPath, bytes);
    const { plan, warnings } = await recover(directory);
    expect(plan.segments.map((segment) => [segment.entryCount, segment.bytes])).toEqual([[2, lastStart]]);
    expect(plan.truncated).toEqual([{ path: segmentPath, offset: lastStart, bytesDropped: SEGMENT_BYTES_MAX - lastStart, reason: 'entry checksum mismatch' }]);
    expect(warnings.join('\n')).toMatch(/torn tail at byte/);
    expect(readFileSync(segmentPath)).toEqual(whole.subarray(0, lastStart));
  });

  it('cuts a tail zeroed only in part (old bytes after the zeros), and keeps an entry header that is all zeros out', async () => {
    const bytes = Buffer.concat([whole, Buffer.alloc(4096), Buffer.from('stale bytes that are not zero')]);
    expect(parseLogBytes(bytes).tail).toEqual({ offset: whole.byteLength, reason: 'entry length 0 (no entry is empty) before bytes that are not zero' });
    const directory = tempDirectory();
    const segmentPath = path.join(directory, segmentFileName(0, 1));
    writeFileSync(segmentPath, bytes);
    const { plan } = await recover(directory);
    expect(plan.segments.map((segment) => [segment.entryCount, segment.bytes])).toEqual([[3, whole.byteLength]]);
    expect(plan.truncated).toHaveLength(1);
    expect(statSync(segmentPath).size).toBe(whole.byteLength);
  });

  it('reads zeros of any length up to the end of the file as the clean end of the entries', () => {
    for (const zeros of [1, 5, 15, 16, 17, 4096]) {
      const parsed = parseLogBytes(Buffer.concat([whole, Buffer.alloc(zeros)]));
      expect(parsed.entries.map((entry) => entry.timestampUs), `${zeros} zeros`).toEqual([0, 1, 2]);
      expect(parsed.tail, `${zeros} zeros`).toBeNull();
      expect(parsed.validBytes, `${zeros} zeros`).toBe(whole.byteLength);
      expect(parsed.zeroedTailBytes, `${zeros} zeros`).toBe(zeros);
    }
    // A header of zeros only, where an entry would start: no entry (the CRC32 of nothing is 0).
    expect(parseLogBytes(Buffer.concat([encodeFileHeader(), Buffer.alloc(16)])).entries).toEqual([]);
  });

  it('refuses to write an empty entry (its length would read as the zeroed end)', () => {
    expect(() => encodeEntry(1, new Uint8Array())).toThrow(/no entry is empty/);
  });
});

describe('the sync thread side of a preallocation', () => {
  it('zeroes and syncs the range step by step, and answers done', () => {
    const directory = tempDirectory();
    const sparePath = path.join(directory, 'wal-000.spare');
    const fd = openSync(sparePath, 'w');
    const channel = createSyncChannel();
    const runner = new ThreadSyncRunner(channel);
    const rangeEnd = 20 * 1024 * 1024 + 3; // several steps, the last one short
    runner.startPreallocation(fd, FILE_HEADER_BYTES, rangeEnd);
    expect(runner.preallocationDone()).toBeNull();
    runner.close(); // the loop finishes the preallocation, then ends
    runSyncThread(channel, 'fdatasync', () => undefined);
    expect(runner.preallocationDone()).toBe(true);
    expect(statSync(sparePath).size).toBe(rangeEnd);
    closeSync(fd);
  });

  it('answers a failed preallocation (an fd open read-only) as not done', () => {
    const directory = tempDirectory();
    writeFileSync(path.join(directory, 'wal-000.spare'), encodeFileHeader());
    const fd = openSync(path.join(directory, 'wal-000.spare'), 'r');
    const channel = createSyncChannel();
    const runner = new ThreadSyncRunner(channel);
    runner.startPreallocation(fd, FILE_HEADER_BYTES, 1024);
    runner.close();
    runSyncThread(channel, 'fdatasync', () => undefined);
    expect(runner.preallocationDone()).toBe(false);
    closeSync(fd);
  });
});
