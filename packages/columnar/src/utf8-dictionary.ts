import assert from 'node:assert/strict';
import { fnv1aOfBytes } from './fnv1a.js';

/**
 * Distinct UTF-8 byte strings, each stored once back to back, with an open-addressing hash table
 * (FNV-1a, linear probing, at most half full) from bytes to code. Two users: a batch's tag column
 * (tag values repeat, a host name per row, so a batch carries each once plus an int32 code per row
 * and the writer appends codes, a memcpy, instead of strings), and the Parquet encoder's ENUM
 * members across a flush. Adding allocates nothing per value; the table and buffers grow by
 * doubling up to the limits and are kept across resets.
 */
export const DICTIONARY_ENTRIES_MAX = 4096;
/**
 * Table slots at first: twice a batch dictionary's entries, so a tag column never rehashes. A
 * larger dictionary (the encoder's ENUM members) grows from here by doubling.
 */
const TABLE_SLOTS_INITIAL = 2 * DICTIONARY_ENTRIES_MAX;
const INITIAL_DATA_BYTES = 4096;

export class Utf8Dictionary {
  size = 0;
  /** Entries this dictionary was made for; `reset` may lower the bound, never raise it. */
  private readonly capacity: number;
  private entriesMax: number;
  private readonly bytesMax: number;
  private data = new Uint8Array(INITIAL_DATA_BYTES);
  private dataLength = 0;
  /** Entry i is data[offsets[i], offsets[i + 1]). */
  private offsets = new Int32Array(TABLE_SLOTS_INITIAL / 2 + 1);
  /** code + 1 per slot; 0 = empty. */
  private slots = new Int32Array(TABLE_SLOTS_INITIAL);
  /**
   * FNV-1a of each slot's entry, beside the slot: compared before the bytes without a second
   * indirection (this is the decoders' per-row path), and what a rehash places entries by.
   */
  private slotHashes = new Int32Array(TABLE_SLOTS_INITIAL);

  /** At most `entriesMax` entries and `bytesMax` bytes of them; `add` answers -1 beyond either. */
  constructor(entriesMax: number = DICTIONARY_ENTRIES_MAX, bytesMax: number = Number.MAX_SAFE_INTEGER) {
    assert.ok(Number.isInteger(entriesMax), 'dictionary entries bound must be an integer');
    assert.ok(entriesMax > 0, 'dictionary entries bound must be positive');
    assert.ok(bytesMax >= 0, 'dictionary bytes bound must not be negative');
    this.capacity = entriesMax;
    this.entriesMax = entriesMax;
    this.bytesMax = bytesMax;
  }

  /** Empties the dictionary for reuse, optionally with a lower entries bound until the next reset. */
  reset(entriesMax: number = this.capacity): void {
    assert.ok(entriesMax <= this.capacity, 'a reset cannot raise the entries bound');
    if (this.size > 0) this.slots.fill(0);
    this.size = 0;
    this.dataLength = 0;
    this.entriesMax = entriesMax;
  }

  /** The code of `source[start, end)`, added if new; -1 when new and the dictionary is full. */
  add(source: Uint8Array, start: number, end: number): number {
    const hash = fnv1aOfBytes(source, start, end);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const entry = this.slots[slot] as number; // slot = ... & mask < slots.length (a power of two)
      if (entry === 0) break;
      if (this.slotHashes[slot] === hash && this.equals(entry - 1, source, start, end)) return entry - 1;
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.entriesMax) return -1;
    if (this.dataLength + (end - start) > this.bytesMax) return -1;
    return this.insert(slot, hash, source, start, end);
  }

  /** Value bytes of `code` (a view, valid until the next add). */
  valueOf(code: number): Uint8Array {
    assert.ok(code >= 0, 'a code is not negative');
    assert.ok(code < this.size, 'a code of this dictionary');
    // offsets holds size + 1 entries (insert grows it first), so code + 1 <= size is inside it.
    const valueStart = this.offsets[code] as number;
    const valueEnd = this.offsets[code + 1] as number;
    return this.data.subarray(valueStart, valueEnd);
  }

  dataView(): Uint8Array {
    return this.data.subarray(0, this.dataLength);
  }

  offsetsView(): Int32Array {
    return this.offsets.subarray(0, this.size + 1);
  }

  /** `code` comes from a filled slot, so code < size and offsets[code + 1] exists. */
  private equals(code: number, source: Uint8Array, start: number, end: number): boolean {
    const valueStart = this.offsets[code] as number;
    const valueEnd = this.offsets[code + 1] as number;
    if (valueEnd - valueStart !== end - start) return false;
    for (let index = 0; index < end - start; index++) {
      if (this.data[valueStart + index] !== source[start + index]) return false;
    }
    return true;
  }

  private insert(slot: number, hash: number, source: Uint8Array, start: number, end: number): number {
    const code = this.size;
    this.append(source, start, end);
    if (code + 2 > this.offsets.length) this.offsets = grown(this.offsets, code + 2);
    this.offsets[code + 1] = this.dataLength;
    this.slots[slot] = code + 1;
    this.slotHashes[slot] = hash;
    this.size = code + 1;
    if (this.size * 2 > this.slots.length) this.rehash();
    return code;
  }

  private append(source: Uint8Array, start: number, end: number): void {
    const needed = this.dataLength + (end - start);
    if (needed > this.data.byteLength) this.data = grown(this.data, needed);
    this.data.set(source.subarray(start, end), this.dataLength);
    this.dataLength = needed;
  }

  /** Doubles the table (kept at most half full) and places every entry again by its hash. */
  private rehash(): void {
    const oldSlots = this.slots;
    const oldHashes = this.slotHashes;
    assert.equal(oldHashes.length, oldSlots.length, 'a hash beside every slot');
    this.slots = new Int32Array(oldSlots.length * 2);
    this.slotHashes = new Int32Array(oldSlots.length * 2);
    const mask = this.slots.length - 1;
    for (let oldSlot = 0; oldSlot < oldSlots.length; oldSlot++) {
      const entry = oldSlots[oldSlot] as number;
      if (entry === 0) continue;
      const hash = oldHashes[oldSlot] as number;
      let slot = hash & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask; // slot <= mask < slots.length
      this.slots[slot] = entry;
      this.slotHashes[slot] = hash;
    }
  }
}

/** A copy of `array` with room for at least `lengthMin` elements (capacity doubles). */
function grown<T extends Uint8Array | Int32Array>(array: T, lengthMin: number): T {
  let length = array.length * 2;
  while (length < lengthMin) length *= 2;
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}
