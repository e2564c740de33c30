// Proves the one FNV-1a hash gives the published 32-bit FNV-1a values for bytes and for strings
// alike, and that the dictionary built on it stores an empty value once (its hash is the offset
// basis itself, which must compare equal to the stored int32).
import { describe, expect, it } from 'vitest';
import { FNV1A_OFFSET_BASIS, Utf8Dictionary, fnv1aOfBytes, fnv1aOfString } from '../src/index.js';

const utf8 = new TextEncoder();

describe('fnv1a', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('hashes %j to the reference value', (text, expected) => {
    const bytes = utf8.encode(text);
    expect(fnv1aOfBytes(bytes, 0, bytes.length) >>> 0).toBe(expected);
    expect(fnv1aOfString(text) >>> 0).toBe(expected);
  });

  it('hashes a range of a larger buffer, and another basis gives another hash', () => {
    const bytes = utf8.encode('xxfoobarxx');
    expect(fnv1aOfBytes(bytes, 2, 8) >>> 0).toBe(0xbf9cf968);
    expect(fnv1aOfString('foobar', 0x050c5d1f)).not.toBe(fnv1aOfString('foobar', FNV1A_OFFSET_BASIS));
  });
});

describe('Utf8Dictionary on fnv1a', () => {
  it('stores an empty value once', () => {
    const dictionary = new Utf8Dictionary();
    const empty = new Uint8Array(0);
    expect(dictionary.add(empty, 0, 0)).toBe(0);
    expect(dictionary.add(empty, 0, 0)).toBe(0);
    expect(dictionary.size).toBe(1);
  });
});
