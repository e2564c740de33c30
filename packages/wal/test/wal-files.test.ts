// Proves the WAL file format and its recovery rules: entries read back byte for byte, a file cut
// at every byte offset of its last entry (or with a flipped byte) keeps exactly the complete
// entries before it, and recovery cuts the torn tail off the file and reports it. Zeros after the
// last entry (a segment written into space zeroed ahead) end the entries cleanly; a torn entry
// before zeros, or bytes that are not zero after a zero length, are a torn tail.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  decodeRequestEnvelope,
  encodeEntry,
  encodeFileHeader,
  encodeRequestEntry,
  requestEntryParts,
  ENTRY_HEADER_BYTES,
  FILE_HEADER_BYTES,
  parseLogBytes,
  prepareRecovery,
  segmentFileName,
} from '@arc/wal';
import { useTempDirectories } from './support/temp-directory.js';

const tempDirectory = useTempDirectories();

const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text);
function fileOf(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat([encodeFileHeader(), ...parts]));
}

describe('WAL file format', () => {
  it('starts with ARCW, version 1, checksum type 1', () => {
    expect([...encodeFileHeader()]).toEqual([0x41, 0x52, 0x43, 0x57, 0, 1, 1]);
  });

  it('lays out an entry big-endian: length, timestamp, CRC32 of the payload, payload', () => {
    const entry = encodeEntry(1_700_000_000_123_456, bytesOf('hello'));
    const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
    expect(view.getUint32(0, false)).toBe(5);
    expect(view.getBigUint64(4, false)).toBe(1_700_000_000_123_456n);
    expect(view.getUint32(12, false)).toBe(0x3610a686); // crc32("hello")
    expect(new TextDecoder().decode(entry.subarray(ENTRY_HEADER_BYTES))).toBe('hello');
  });

  it('round-trips a request envelope (database, format, precision, body as received)', () => {
    const body = Uint8Array.of(0x1f, 0x8b, 0, 255, 7);
    const entry = encodeRequestEntry(42, { database: 'prod-1', format: 2, precision: 3, body });
    const parsed = parseLogBytes(fileOf([entry]));
    expect(parsed.tail).toBeNull();
    expect(parsed.entries).toHaveLength(1);
    expect(parsed.entries[0]?.timestampUs).toBe(42);
    const envelope = decodeRequestEnvelope(parsed.entries[0]?.payload ?? new Uint8Array());
    expect(envelope).toEqual({ database: 'prod-1', format: 2, precision: 3, body });
    expect(parsed.entries[0]?.payload[0]).toBe(0x01);
  });

  it('writes a request entry in two parts (header with envelope, then the body) byte for byte as one buffer', () => {
    const body = bytesOf('columnar body '.repeat(50));
    const envelope = { database: 'prod-1', format: 2, precision: 3, body };
    const [head, bodyPart] = requestEntryParts(77, envelope);
    expect(bodyPart).toBe(body); // the caller's bytes, not a copy
    expect(Buffer.concat([head, bodyPart])).toEqual(Buffer.from(encodeRequestEntry(77, envelope)));
    const parsed = parseLogBytes(fileOf([head, bodyPart]));
    expect(parsed.tail).toBeNull();
    expect(decodeRequestEnvelope(parsed.entries[0]?.payload ?? new Uint8Array())).toEqual(envelope);
  });

  it('names what is wrong with a bad envelope', () => {
    expect(decodeRequestEnvelope(Uint8Array.of(1, 0))).toMatch(/shorter than an envelope/);
    expect(decodeRequestEnvelope(Uint8Array.of(2, 0, 0, 1, 0))).toBe('unknown envelope version 2');
    expect(decodeRequestEnvelope(Uint8Array.of(1, 0, 9, 1, 0))).toMatch(/database length 9 runs past/);
  });

  it('keeps every complete entry when the file is cut at each byte offset of its last entry', () => {
    const entries = [0, 1, 2].map((index) => encodeRequestEntry(1000 + index, { database: 'db', format: 1, precision: 0, body: bytesOf(`body-${index}-${'x'.repeat(index * 7)}`) }));
    const whole = fileOf(entries);
    const lastStart = whole.byteLength - (entries[2]?.byteLength ?? 0);
    for (let cut = lastStart; cut < whole.byteLength; cut++) {
      const parsed = parseLogBytes(whole.subarray(0, cut));
      expect(parsed.entries.map((entry) => entry.timestampUs), `cut at ${cut}`).toEqual([1000, 1001]);
      expect(parsed.validBytes, `cut at ${cut}`).toBe(lastStart);
      // Cut within the zero high bytes of the length: only zeros follow the entries, a clean end.
      const zerosOnly = whole.subarray(lastStart, cut).every((byte) => byte === 0);
      expect(parsed.tail === null, `cut at ${cut}`).toBe(zerosOnly);
    }
    expect(parseLogBytes(whole).entries).toHaveLength(3);
  });

  it('stops at an entry whose bytes changed (checksum mismatch) and trusts nothing after it', () => {
    const entries = [0, 1, 2].map((index) => encodeEntry(index, bytesOf(`payload ${index}`)));
    const whole = fileOf(entries);
    const secondStart = FILE_HEADER_BYTES + (entries[0]?.byteLength ?? 0);
    const flipped = secondStart + ENTRY_HEADER_BYTES + 2;
    whole[flipped] = (whole[flipped] ?? 0) ^ 0x01;
    const parsed = parseLogBytes(whole);
    expect(parsed.entries.map((entry) => entry.timestampUs)).toEqual([0]);
    expect(parsed.tail).toEqual({ offset: secondStart, reason: 'entry checksum mismatch' });
  });

  it('reports a missing or foreign header instead of reading entries', () => {
    expect(parseLogBytes(Uint8Array.of(0x41, 0x52)).headerProblem).toMatch(/shorter than its 7-byte header/);
    expect(parseLogBytes(bytesOf('PAR1xxxxxx')).headerProblem).toBe('no ARCW magic at byte 0');
  });
});

describe('recovery of a segment cut at every byte offset of its last entry', () => {
  it('cuts the file back to its complete entries, logs it, and plans them for replay', async () => {
    const entries = [0, 1].map((index) => encodeRequestEntry(5000 + index, { database: 'db', format: 1, precision: 0, body: bytesOf(`request ${index}`) }));
    const whole = fileOf(entries);
    const lastStart = whole.byteLength - (entries[1]?.byteLength ?? 0);
    for (let cut = lastStart + 1; cut < whole.byteLength; cut++) {
      const directory = tempDirectory();
      const segmentPath = path.join(directory, segmentFileName(0, 7));
      writeFileSync(segmentPath, whole.subarray(0, cut));
      const warnings: string[] = [];
      const plan = await prepareRecovery(directory, () => Promise.reject(new Error('nothing to roll forward')), (_level, message) => warnings.push(message));
      expect(plan.segments, `cut at ${cut}`).toEqual([{ stream: 0, firstSeq: 7, path: segmentPath, entryCount: 1, bytes: lastStart }]);
      if (whole.subarray(lastStart, cut).every((byte) => byte === 0)) {
        // Only zeros after the entry (the high bytes of the next length): a clean end, left as is.
        expect(statSync(segmentPath).size).toBe(cut);
        expect(plan.truncated).toEqual([]);
        continue;
      }
      expect(statSync(segmentPath).size).toBe(lastStart);
      expect(plan.truncated[0]?.bytesDropped).toBe(cut - lastStart);
      expect(warnings.join('\n')).toMatch(/torn tail at byte/);
      expect(plan.nextSeqByStream.get(0)).toBe(8);
      expect(readFileSync(segmentPath)).toEqual(Buffer.from(whole.subarray(0, lastStart)));
    }
  });
});

describe('recovery of a segment that holds only its header', () => {
  it('plans no entry from it and starts new seqs past its name', async () => {
    const directory = tempDirectory();
    writeFileSync(path.join(directory, segmentFileName(2, 40)), encodeFileHeader());
    const plan = await prepareRecovery(directory, () => Promise.reject(new Error('nothing to roll forward')), () => undefined);
    expect(plan.entryCount).toBe(0);
    expect(plan.segments.map((segment) => segment.entryCount)).toEqual([0]);
    expect(plan.nextSeqByStream.get(2)).toBe(41);
  });
});
