// Proves the one byte-string dictionary (tag columns, the encoder's ENUM members) keeps every code
// across growth past its first table, refuses a new value past its entries or bytes bound with -1
// while still finding known ones, and starts empty after a reset with a lower bound.
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
});
