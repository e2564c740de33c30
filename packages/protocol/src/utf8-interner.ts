import { fnv1aOfBytes } from '@arc/columnar';

/**
 * Turns repeated UTF-8 byte strings (tag and field names) into JavaScript strings once: a small
 * open-addressing table keyed by an FNV-1a hash, verified byte for byte. Decoding a name costs a
 * hash and a compare instead of a TextDecoder call and a fresh string per row.
 */
const TABLE_SLOTS = 4096;
const NAME_BYTES_CACHED_MAX = 64;
const decoder = new TextDecoder('utf-8', { fatal: false });

export class Utf8Interner {
  private readonly keys: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(TABLE_SLOTS);
  private readonly values: (string | undefined)[] = new Array<string | undefined>(TABLE_SLOTS);

  intern(bytes: Uint8Array, start: number, end: number): string {
    const byteLength = end - start;
    if (byteLength > NAME_BYTES_CACHED_MAX) return decoder.decode(bytes.subarray(start, end));
    const slot = fnv1aOfBytes(bytes, start, end) & (TABLE_SLOTS - 1);
    const cached = this.keys[slot];
    if (cached?.byteLength === byteLength) {
      let same = true;
      for (let index = 0; index < byteLength; index++) {
        if (cached[index] !== bytes[start + index]) {
          same = false;
          break;
        }
      }
      if (same) return this.values[slot] as string; // set together with keys[slot] below
    }
    const value = decoder.decode(bytes.subarray(start, end));
    this.keys[slot] = bytes.slice(start, end);
    this.values[slot] = value;
    return value;
  }
}
