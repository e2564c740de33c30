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
/**
 * Slots of the recent-values cache in front of the hash table (a power of two): 256 int32 (1 KiB
 * per dictionary, cleared on every reset) hold a tag column's distinct values of a typical batch
 * (TSBS: 100 hosts) with few collisions; a collision only costs the hash lookup it would have made.
 */
const RECENT_SLOTS_BITS = 8;
const RECENT_SLOTS = 1 << RECENT_SLOTS_BITS;
/** Odd 32-bit multiplier (2^32 / golden ratio) that spreads a recent-values key into its top bits. */
const RECENT_KEY_MULTIPLIER = 0x9e3779b1 | 0;

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
  /**
   * code + 1 of a recently added or found value per slot (0 = empty), direct-mapped by the value's
   * length and its first and last two bytes. A tag column repeats few values once per row; a hit
   * costs one byte comparison with the entry instead of hashing the value, probing and comparing.
   */
  private readonly recentCodes = new Int32Array(RECENT_SLOTS);

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
    if (this.size > 0) {
      this.slots.fill(0);
      this.recentCodes.fill(0);
    }
    this.size = 0;
    this.dataLength = 0;
    this.entriesMax = entriesMax;
  }

  /** The code of `source[start, end)`, added if new; -1 when new and the dictionary is full. */
  add(source: Uint8Array, start: number, end: number): number {
    const recentSlot = recentSlotOf(source, start, end);
    const recent = this.recentCodes[recentSlot] as number; // recentSlot < RECENT_SLOTS
    if (recent !== 0 && this.equals(recent - 1, source, start, end)) return recent - 1;
    const hash = fnv1aOfBytes(source, start, end);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const entry = this.slots[slot] as number; // slot = ... & mask < slots.length (a power of two)
      if (entry === 0) break;
      if (this.slotHashes[slot] === hash && this.equals(entry - 1, source, start, end)) {
        this.recentCodes[recentSlot] = entry;
        return entry - 1;
      }
      slot = (slot + 1) & mask;
    }
    if (this.size >= this.entriesMax) return -1;
    if (this.dataLength + (end - start) > this.bytesMax) return -1;
    const code = this.insert(slot, hash, source, start, end);
    this.recentCodes[recentSlot] = code + 1;
    return code;
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
    const data = this.data;
    const shift = valueStart - start;
    for (let index = start; index < end; index++) {
      if (data[index + shift] !== source[index]) return false;
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

/**
 * Recent-values slot of `source[start, end)`: its length with its first and last two bytes (what
 * tells most tag values apart: `host_7` from `host_42`, `eu-west-1` from `us-west-2`), spread by
 * one multiply. Equal values land in the same slot; an empty value reads no byte.
 */
function recentSlotOf(source: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (length === 0) return 0;
  // start < end here, so start, end - 1 and max(start, end - 2) lie inside the range.
  const first = source[start] as number;
  const last = source[end - 1] as number;
  const beforeLast = source[Math.max(start, end - 2)] as number;
  const key = length ^ (first << 8) ^ (beforeLast << 16) ^ (last << 24);
  return Math.imul(key, RECENT_KEY_MULTIPLIER) >>> (32 - RECENT_SLOTS_BITS);
}

/** A copy of `array` with room for at least `lengthMin` elements (capacity doubles). */
function grown<T extends Uint8Array | Int32Array>(array: T, lengthMin: number): T {
  let length = array.length * 2;
  while (length < lengthMin) length *= 2;
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}
