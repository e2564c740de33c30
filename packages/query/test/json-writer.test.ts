// Proves the JSON writer's word-at-a-time paths agree with the byte-at-a-time rules they replace:
// the four-byte escape test against a check of each byte (every combination of boundary bytes and
// random words), strings copied by words against JSON.stringify, and small integers against String.
import { describe, expect, it } from 'vitest';
import { JsonWriter, wordNeedsEscape } from '../src/json-writer.js';

/** The bytes below 0x20, the quote and the backslash are escaped in JSON; nothing else is. */
function byteNeedsEscape(code: number): boolean {
  return code < 0x20 || code === 0x22 || code === 0x5c;
}

const BOUNDARY_BYTES = [0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0x9f, 0xa2, 0xdc, 0xe2, 0xff];

function written(write: (out: JsonWriter) => void): string {
  const out = new JsonWriter(new Uint8Array(16));
  write(out);
  return Buffer.from(out.bytes.subarray(0, out.length)).toString('utf8');
}

describe('wordNeedsEscape', () => {
  it('says whether any of four bytes needs an escape, for every combination of boundary bytes', () => {
    for (const a of BOUNDARY_BYTES) {
      for (const b of BOUNDARY_BYTES) {
        for (const c of BOUNDARY_BYTES) {
          for (const d of BOUNDARY_BYTES) {
            const word = (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
            const expected = [a, b, c, d].some(byteNeedsEscape);
            if (wordNeedsEscape(word) !== expected) expect.fail(`word 0x${word.toString(16)}: expected ${String(expected)}`);
          }
        }
      }
    }
  });

  it('agrees with the byte check on random words', () => {
    let seed = 12345;
    for (let index = 0; index < 200_000; index++) {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      const word = seed;
      const expected = [word & 0xff, (word >>> 8) & 0xff, (word >>> 16) & 0xff, word >>> 24].some(byteNeedsEscape);
      if (wordNeedsEscape(word) !== expected) expect.fail(`word 0x${word.toString(16)}: expected ${String(expected)}`);
    }
  });
});

describe('utf8StringByWords', () => {
  it('writes what JSON.stringify writes for texts of 0-40 bytes with an escape or non-ASCII at each position', () => {
    const specials = ['"', '\\', '\u0000', '\u0001', '\b', '\t', '\n', '\f', '\r', '\u001f', ' ', '\u007f', 'é', '🚀', '日'];
    for (let length = 0; length <= 40; length++) {
      for (const special of specials) {
        for (let at = 0; at <= length; at++) {
          const text = 'a'.repeat(at) + special + 'b'.repeat(length - at);
          const bytes = Buffer.from(`xyz${text}`, 'utf8');
          const words = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          // The source ends where the text ends: no word may be read past it.
          const got = written((out) => {
            out.utf8StringByWords(bytes, words, 3, bytes.length);
          });
          if (got !== JSON.stringify(text)) expect.fail(`${JSON.stringify(text)}: wrote ${got}`);
        }
      }
    }
  });
});

describe('putUnsigned and integer', () => {
  it('writes 0..1200 and their negatives as String does, next to the bytes around them', () => {
    for (let value = -1200; value <= 1200; value++) {
      expect(written((out) => {
        out.byte(0x5b);
        out.integer(value);
        out.byte(0x5d);
      })).toBe(`[${String(value)}]`);
    }
  });

  it('writes large integers up to 2^53 as String does', () => {
    for (const value of [1000, 9999, 10_000, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 7, 2 ** 53, -(2 ** 53)]) {
      expect(written((out) => { out.integer(value); })).toBe(String(value));
    }
  });
});
