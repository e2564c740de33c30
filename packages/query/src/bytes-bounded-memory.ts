/**
 * Entries by key, least recently used first, whose counted bytes stay within a bound: past it the
 * oldest are forgotten. An entry larger than the bound on its own is not kept.
 */
export class BytesBoundedMemory<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly bytes: number }>();
  private bytes = 0;
  private readonly bytesMax: number;

  constructor(bytesMax: number) {
    this.bytesMax = bytesMax;
  }

  /** The entry of `key`, now the most recently used; undefined when none. */
  get(key: string): V | undefined {
    const known = this.entries.get(key);
    if (known === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, known);
    return known.value;
  }

  set(key: string, value: V, bytes: number): void {
    if (bytes > this.bytesMax) return;
    const replaced = this.entries.get(key);
    if (replaced !== undefined) {
      this.entries.delete(key);
      this.bytes -= replaced.bytes;
    }
    for (const [oldest, entry] of this.entries) {
      if (this.bytes + bytes <= this.bytesMax) break;
      this.entries.delete(oldest);
      this.bytes -= entry.bytes;
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
  }
}
