// Proves the cancel entry's format: it names the seq it cancels, read back from a parsed file,
// is never taken for a request (nor a request for a cancel), and a cut cancel is a torn tail
// (or, cut within the zero high bytes of its length, a zeroed end: no entry either way).
import { describe, expect, it } from 'vitest';
import { cancelledSeqOf, decodeRequestEnvelope, encodeCancelEntry, encodeFileHeader, encodeRequestEntry, ENTRY_HEADER_BYTES, parseLogBytes } from '../src/index.js';

function fileOf(...entries: Uint8Array[]): Uint8Array {
  return Buffer.concat([encodeFileHeader(), ...entries]);
}

describe('cancel entries', () => {
  it('reads back the cancelled seq, and only from a cancel', () => {
    const request = encodeRequestEntry(1_000, { database: 'db', format: 1, precision: 0, body: Uint8Array.of(1, 2, 3) });
    const cancel = encodeCancelEntry(2_000, 2 ** 40 + 7);
    const { entries, tail } = parseLogBytes(fileOf(request, cancel));
    expect(tail).toBeNull();
    const [first, second] = entries;
    expect(first && cancelledSeqOf(first.payload)).toBeNull();
    expect(second && cancelledSeqOf(second.payload)).toBe(2 ** 40 + 7);
    expect(second?.timestampUs).toBe(2_000);
    expect(second && decodeRequestEnvelope(second.payload)).toBe('unknown envelope version 2');
  });

  it('is a torn tail when cut at any byte', () => {
    const cancel = encodeCancelEntry(2_000, 5);
    for (let length = 1; length < cancel.byteLength; length++) {
      const cut = cancel.subarray(0, length);
      const { entries, tail, zeroedTailBytes } = parseLogBytes(fileOf(cut));
      expect(entries).toEqual([]);
      const zerosOnly = cut.every((byte) => byte === 0);
      expect(tail === null, `cut at ${length}`).toBe(zerosOnly);
      expect(zeroedTailBytes, `cut at ${length}`).toBe(zerosOnly ? length : 0);
    }
    expect(cancel.byteLength).toBe(ENTRY_HEADER_BYTES + 9);
  });

  it('refuses a seq that is not a positive integer', () => {
    expect(() => encodeCancelEntry(0, 0)).toThrow();
    expect(() => encodeCancelEntry(0, 1.5)).toThrow();
  });
});
