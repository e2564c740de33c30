// Proves the one byte-string dictionary (tag columns, the encoder's ENUM members) keeps every code
// across growth past its first table, refuses a new value past its entries or bytes bound with -1
// while still finding known ones, and starts empty after a reset with a lower bound. The
// recent-values cache in front of the hash table must not change any answer: codes are the
// first-seen order of distinct byte strings, whatever the values share (length, first or last
// bytes), for empty and multi-byte values, and past the bounds.
import { describe, expect, it } from 'vitest';
import { DICTIONARY_ENTRIES_MAX, Utf8Dictionary } from '../src/index.js';

const utf8 = new TextEncoder();
const textDecoder = new TextDecoder();

function add(dictionary: Utf8Dictionary, text: string): number {
  const bytes = utf8.encode(`<${text}>`);
  return dictionary.add(bytes, 1, bytes.length - 1);
}

describe('Utf8Dictionary', () => {
  it('keeps codes and values across growth past its first table', () => {
    const count = 4 * DICTIONARY_ENTRIES_MAX;
    const dictionary = new Utf8Dictionary(count);
    for (let index = 0; index < count; index++) expect(add(dictionary, `host-${index}`)).toBe(index);
    expect(dictionary.size).toBe(count);
    for (let index = 0; index < count; index += 97) {
      expect(add(dictionary, `host-${index}`)).toBe(index);
      expect(textDecoder.decode(dictionary.valueOf(index))).toBe(`host-${index}`);
    }
    expect(dictionary.offsetsView().length).toBe(count + 1);
  });

  it('answers -1 for a new value past the entries bound, and still finds known ones', () => {
    const dictionary = new Utf8Dictionary(2);
    expect(add(dictionary, 'a')).toBe(0);
    expect(add(dictionary, 'b')).toBe(1);
    expect(add(dictionary, 'c')).toBe(-1);
    expect(add(dictionary, 'a')).toBe(0);
    expect(dictionary.size).toBe(2);
  });

  it('answers -1 for a new value past the bytes bound', () => {
    const dictionary = new Utf8Dictionary(100, 5);
    expect(add(dictionary, 'abc')).toBe(0);
    expect(add(dictionary, 'def')).toBe(-1);
    expect(add(dictionary, 'de')).toBe(1);
    expect(dictionary.dataView().byteLength).toBe(5);
  });

  it('starts empty after a reset, with a lower entries bound until the next one', () => {
    const dictionary = new Utf8Dictionary(10);
    add(dictionary, 'x');
    add(dictionary, 'y');
    dictionary.reset(1);
    expect(dictionary.size).toBe(0);
    expect(add(dictionary, 'y')).toBe(0);
    expect(add(dictionary, 'x')).toBe(-1);
    dictionary.reset();
    expect(add(dictionary, 'x')).toBe(0);
    expect(add(dictionary, 'y')).toBe(1);
    expect(() => dictionary.reset(11)).toThrow();
  });

  it('gives every repeat of a value its first code, as a first-seen-order map does', () => {
    // 300 distinct values (more than the recent-values slots) in runs and interleaved, many
    // sharing length and ends: host-1x7 for every x, so only a middle byte tells them apart.
    const values: string[] = [];
    for (let index = 0; index < 300; index++) values.push(index < 10 ? `host-1${index}7` : `host_${index}`);
    const sequence: string[] = [];
    for (let round = 0; round < 5; round++) {
      for (const value of values) sequence.push(value, value);
      for (let index = values.length - 1; index >= 0; index -= 7) sequence.push(values[index] as string);
    }
    const dictionary = new Utf8Dictionary(1000);
    const expected = new Map<string, number>();
    for (const value of sequence) {
      if (!expected.has(value)) expected.set(value, expected.size);
      expect(add(dictionary, value)).toBe(expected.get(value));
    }
    expect(dictionary.size).toBe(values.length);
    for (const [value, code] of expected) expect(textDecoder.decode(dictionary.valueOf(code))).toBe(value);
  });

  it('tells apart values of equal length and ends that differ in the middle', () => {
    const dictionary = new Utf8Dictionary();
    expect(add(dictionary, 'ab-X-yz')).toBe(0);
    expect(add(dictionary, 'ab-Q-yz')).toBe(1);
    expect(add(dictionary, 'ab-X-yz')).toBe(0);
    expect(add(dictionary, 'ab-Q-yz')).toBe(1);
    expect(add(dictionary, 'ab-Q-yz')).toBe(1);
    expect(add(dictionary, 'ab-X-yz')).toBe(0);
    expect(textDecoder.decode(dictionary.valueOf(1))).toBe('ab-Q-yz');
  });

  it('keeps the empty value apart from one-byte values', () => {
    const dictionary = new Utf8Dictionary();
    expect(add(dictionary, '')).toBe(0);
    expect(add(dictionary, 'a')).toBe(1);
    expect(add(dictionary, '')).toBe(0);
    expect(add(dictionary, 'a')).toBe(1);
    expect(dictionary.valueOf(0).byteLength).toBe(0);
    expect(dictionary.dataView().byteLength).toBe(1);
  });

  it('compares multi-byte UTF-8 values byte for byte', () => {
    const dictionary = new Utf8Dictionary();
    // ü and ö share their lead byte (0xc3): same length, first byte and last byte 'b'.
    const values = ['aüb', 'aöb', 'Zürich', 'Zörich', '東京', '京都', 'aüb', '東京'];
    const expected = [0, 1, 2, 3, 4, 5, 0, 4];
    expect(values.map((value) => add(dictionary, value))).toEqual(expected);
    for (let code = 0; code < 6; code++) expect(textDecoder.decode(dictionary.valueOf(code))).toBe(values[code]);
  });

  it('answers -1 for a new value past the bound even after cached hits, and caches no refusal', () => {
    const dictionary = new Utf8Dictionary(2);
    for (let round = 0; round < 3; round++) {
      expect(add(dictionary, 'host_1')).toBe(0);
      expect(add(dictionary, 'host_2')).toBe(1);
      expect(add(dictionary, 'host_3')).toBe(-1);
    }
    expect(dictionary.size).toBe(2);
  });

  it('forgets cached codes on reset', () => {
    const dictionary = new Utf8Dictionary(10);
    expect(add(dictionary, 'x')).toBe(0);
    expect(add(dictionary, 'y')).toBe(1);
    dictionary.reset();
    // A stale cached code 1 for 'y' would point past the empty dictionary.
    expect(add(dictionary, 'y')).toBe(0);
    expect(add(dictionary, 'z')).toBe(1);
    expect(add(dictionary, 'y')).toBe(0);
    expect(textDecoder.decode(dictionary.valueOf(1))).toBe('z');
  });
});
