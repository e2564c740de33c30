/**
 * The key (with its '=') last seen at each tag or field position of a line. Lines of one batch
 * mostly repeat the same keys in the same order (TSBS, Telegraf), so comparing the bytes at a
 * position with the key remembered for it replaces scanning for the '=', hashing the name and
 * looking up its column: on a match the decoder reuses what it resolved for that position.
 *
 * Identical bytes followed by the same '=' scan to the identical key, so a match is exact.
 */
export class KeySlots {
  private readonly keys: (Uint8Array | undefined)[] = [];
  private readonly flags: number[] = [];

  /** Forgets every key (at the start of a request, together with the decoder's columns). */
  clear(): void {
    this.keys.length = 0;
    this.flags.length = 0;
  }

  /** Index of the '=' ending the key at `start` when it equals the key of `slot`, else -1. */
  match(bytes: Uint8Array, start: number, end: number, slot: number): number {
    const key = this.keys[slot];
    if (key === undefined) return -1;
    const length = key.byteLength;
    if (start + length > end) return -1;
    for (let index = 0; index < length; index++) {
      if (bytes[start + index] !== key[index]) return -1;
    }
    return start + length - 1;
  }

  /** The scan flags stored with the key of `slot`; only called after match() found the slot filled. */
  flagsOf(slot: number): number {
    return this.flags[slot] as number; // store() sets keys[slot] and flags[slot] together
  }

  /** Remembers the key [start, equalsIndex] (the '=' included) and its scan flags for `slot`. */
  store(bytes: Uint8Array, start: number, equalsIndex: number, slot: number, flags: number): void {
    if (slot > this.keys.length) return; // slots fill in order; a gap would never match anyway
    this.keys[slot] = bytes.slice(start, equalsIndex + 1);
    this.flags[slot] = flags;
  }
}
