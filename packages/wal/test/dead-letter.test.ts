// Proves replay never drops an entry: a refused or unreadable entry is written to
// <wal dir>/dead-letter/ byte for byte (checked by CRC on read) with its reason, the segments can
// then go while the dead letter stays, a replay meeting the same entry again leaves it a dead
// letter, new seqs never take a dead letter's name, and a damaged or removed one reads as such.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  deadLetterId,
  deadLetterTotalsSync,
  deleteReplayedSegments,
  encodeFileHeader,
  encodeRequestEntry,
  ENTRY_HEADER_BYTES,
  listDeadLettersSync,
  listSegmentsSync,
  parseDeadLetterId,
  prepareRecovery,
  readDeadLetterSync,
  removeDeadLetterSync,
  replaySegments,
  segmentFileName,
  writeDeadLetterSync,
  encodeEntry,
  type ReplayEntry,
} from '@arc/wal';
import { useTempDirectories } from './support/temp-directory.js';

const tempDirectory = useTempDirectories();
const noPublish = (): Promise<void> => Promise.reject(new Error('nothing to roll forward'));
const body = (text: string): Uint8Array => new TextEncoder().encode(text);

/** A segment of stream `stream` from `firstSeq` holding these entries (whole encoded entries). */
function writeSegment(directory: string, stream: number, firstSeq: number, entries: readonly Uint8Array[]): string {
  const segmentPath = path.join(directory, segmentFileName(stream, firstSeq));
  writeFileSync(segmentPath, Buffer.concat([encodeFileHeader(), ...entries]));
  return segmentPath;
}

const request = (text: string, timestampUs: number): Uint8Array => encodeRequestEntry(timestampUs, { database: 'db', format: 2, precision: 0, body: body(text) });

describe('WAL dead letters', () => {
  it('keeps refused and unreadable entries byte for byte, applies the rest, and survives segment deletion', async () => {
    const directory = tempDirectory();
    const refusedEntry = request('cpu v="refused"', 2_000);
    const unreadableEntry = encodeEntry(3_000, Uint8Array.of(0x7f, 0, 0, 0, 0)); // envelope version 0x7f
    writeSegment(directory, 4, 10, [request('cpu v=1i', 1_000), refusedEntry, unreadableEntry, request('cpu v=2i', 4_000)]);
    const plan = await prepareRecovery(directory, noPublish, () => undefined);
    const submitted: ReplayEntry[] = [];
    const errors: string[] = [];
    const outcome = await replaySegments(
      plan,
      (entry) => {
        submitted.push(entry);
        return Promise.resolve(new TextDecoder().decode(entry.envelope.body).includes('refused') ? { code: 'ARC_SCHEMA_CONFLICT', message: "Column 'v' is VARCHAR here" } : null);
      },
      (level, message) => {
        if (level === 'error') errors.push(message);
      },
    );
    expect(submitted.map((entry) => entry.seq)).toEqual([10, 11, 13]);
    expect(outcome).toEqual({ entriesReplayed: 2, entriesUnreadable: 1, entriesDeadLettered: 2, deadLetterWriteFailures: 0 });
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/WAL stream 4 seq 11 could not be replayed \(ARC_SCHEMA_CONFLICT: .*\); kept as dead letter 004-0000000000000011/);

    deleteReplayedSegments(plan);
    expect(listSegmentsSync(directory)).toEqual([]);
    const letters = listDeadLettersSync(directory);
    expect(letters.map((letter) => [letter.id, letter.stream, letter.seq, letter.database, letter.reason.code])).toEqual([
      ['004-0000000000000011', 4, 11, 'db', 'ARC_SCHEMA_CONFLICT'],
      ['004-0000000000000012', 4, 12, null, 'ARC_WAL_ENTRY_UNREADABLE'],
    ]);
    expect(letters[0]).toMatchObject({ timestampUs: 2_000, format: 2, precision: 0, bodyBytes: body('cpu v="refused"').byteLength });
    // The .entry file is the WAL file header followed by the entry exactly as it was in the segment.
    const kept = readFileSync(path.join(directory, 'dead-letter', '004-0000000000000011.entry'));
    expect(Buffer.compare(kept, Buffer.concat([encodeFileHeader(), refusedEntry]))).toBe(0);
    const read = readDeadLetterSync(directory, '004-0000000000000011');
    expect(typeof read === 'object' && read !== null && Buffer.from(read.payload).equals(Buffer.from(refusedEntry.subarray(ENTRY_HEADER_BYTES)))).toBe(true);
    expect(deadLetterTotalsSync(directory)).toEqual({ entries: 2, bytes: kept.byteLength + encodeFileHeader().byteLength + unreadableEntry.byteLength });
  });

  it('leaves an entry met again a dead letter, and raises next seqs above dead letters', async () => {
    const directory = tempDirectory();
    writeSegment(directory, 1, 5, [request('cpu v=1i', 1_000), request('cpu v=2i', 2_000)]);
    expect(writeDeadLetterSync(directory, { stream: 1, seq: 6, timestampUs: 2_000, payload: request('cpu v=2i', 2_000).subarray(ENTRY_HEADER_BYTES) }, { code: 'X', message: 'y' })).toBe(true);
    // Written twice: the first stays.
    expect(writeDeadLetterSync(directory, { stream: 1, seq: 6, timestampUs: 9, payload: body('other') }, { code: 'Z', message: 'z' })).toBe(false);
    expect(writeDeadLetterSync(directory, { stream: 7, seq: 900, timestampUs: 1, payload: body('x') }, { code: 'X', message: 'y' })).toBe(true);
    const plan = await prepareRecovery(directory, noPublish, () => undefined);
    expect(plan.deadLettersBefore).toBe(2);
    expect(plan.nextSeqByStream.get(1)).toBe(7);
    expect(plan.nextSeqByStream.get(7)).toBe(901);
    const submitted: number[] = [];
    const outcome = await replaySegments(
      plan,
      (entry) => {
        submitted.push(entry.seq);
        return Promise.resolve(null);
      },
      () => undefined,
    );
    expect(submitted).toEqual([5]);
    expect(outcome).toMatchObject({ entriesReplayed: 1, entriesDeadLettered: 1 });
    expect(listDeadLettersSync(directory).map((letter) => [letter.id, letter.reason.code])).toEqual([
      ['001-0000000000000006', 'X'],
      ['007-0000000000000900', 'X'],
    ]);
  });

  it('reads a damaged dead letter as damaged, a removed one as gone, and accepts only well-formed ids', () => {
    const directory = tempDirectory();
    writeDeadLetterSync(directory, { stream: 0, seq: 1, timestampUs: 1, payload: body('abc') }, { code: 'X', message: 'y' });
    const entryPath = path.join(directory, 'dead-letter', '000-0000000000000001.entry');
    const bytes = readFileSync(entryPath);
    bytes[bytes.byteLength - 1] = (bytes[bytes.byteLength - 1] ?? 0) ^ 0xff;
    writeFileSync(entryPath, bytes);
    expect(readDeadLetterSync(directory, '000-0000000000000001')).toMatch(/damaged \(entry checksum mismatch\)/);
    removeDeadLetterSync(directory, '000-0000000000000001');
    expect(readDeadLetterSync(directory, '000-0000000000000001')).toBeNull();
    expect(listDeadLettersSync(directory)).toEqual([]);
    expect(deadLetterId(12, 34)).toBe('012-0000000000000034');
    expect(parseDeadLetterId('012-0000000000000034')).toEqual({ stream: 12, seq: 34 });
    for (const bad of ['../x', '12-34', '012-0000000000000000', '012-0000000000000034.entry', '']) expect(parseDeadLetterId(bad)).toBeNull();
  });
});
