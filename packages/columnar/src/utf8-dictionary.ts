import assert from 'node:assert/strict';
import { fnv1aOfBytes } from './fnv1a.js';

/**
 * Distinct UTF-8 values of one column, each stored once, with an open-addressing hash table from
 * bytes to code. Tag values repeat (a host name per row), so a batch carries each once plus an
 * int32 code per row, and the writer appends codes (a memcpy) instead of strings.
 */
export const DICTIONARY_ENTRIES_MAX = 4096;
/** Twice the entries, a power of two: the table stays at most half full. */
const TABLE_SLOTS = 8192;
const INITIAL_DATA_BYTES = 4096;

export class Utf8Dictionary {
  size = 0;
  private data = new Uint8Array(INITIAL_DATA_BYTES);
  private dataLength = 0;
  private readonly offsets = new Int32Array(DICTIONARY_ENTRIES_MAX + 1);
  /** code + 1 per slot; 0 = empty. */
  private readonly slots = new Int32Array(TABLE_SLOTS);
  private readonly slotHashes = new Int32Array(TABLE_SLOTS);

  reset(): void {
    if (this.size > 0) this.slots.fill(0);
    this.size = 0;
    this.dataLength = 0;
  }

  /** The code of `source[start, end)`, added if new; -1 when the dictionary is full. */
  add(source: Uint8Array, start: number, end: number): number {
    const hash = fnv1aOfBytes(source, start, end);
    let slot = hash & (TABLE_SLOTS - 1);
    for (;;) {
      const entry = this.slots[slot] ?? 0;
      if (entry === 0) break;
      if (this.slotHashes[slot] === hash && this.equals(entry - 1, source, start, end)) return entry - 1;
      slot = (slot + 1) & (TABLE_SLOTS - 1);
    }
    if (this.size === DICTIONARY_ENTRIES_MAX) return -1;
    const code = this.size++;
    this.append(source, start, end);
    this.offsets[code + 1] = this.dataLength;
    this.slots[slot] = code + 1;
    this.slotHashes[slot] = hash;
    return code;
  }

  /** Value bytes of `code` (a view, valid until the next add). */
  valueOf(code: number): Uint8Array {
    assert.ok(code >= 0 && code < this.size);
    return this.data.subarray(this.offsets[code] ?? 0, this.offsets[code + 1] ?? 0);
  }

  dataView(): Uint8Array {
    return this.data.subarray(0, this.dataLength);
  }

  offsetsView(): Int32Array {
    return this.offsets.subarray(0, this.size + 1);
  }

  private equals(code: number, source: Uint8Array, start: number, end: number): boolean {
    const valueStart = this.offsets[code] ?? 0;
    const valueEnd = this.offsets[code + 1] ?? 0;
    if (valueEnd - valueStart !== end - start) return false;
    for (let index = 0; index < end - start; index++) {
      if (this.data[valueStart + index] !== source[start + index]) return false;
    }
    return true;
  }

  private append(source: Uint8Array, start: number, end: number): void {
    const needed = this.dataLength + (end - start);
    if (needed > this.data.byteLength) {
      let capacity = this.data.byteLength * 2;
      while (capacity < needed) capacity *= 2;
      const grown = new Uint8Array(capacity);
      grown.set(this.data.subarray(0, this.dataLength));
      this.data = grown;
    }
    this.data.set(source.subarray(start, end), this.dataLength);
    this.dataLength = needed;
  }
}
