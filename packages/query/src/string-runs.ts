import assert from 'node:assert/strict';
import duckdb from '@duckdb/node-bindings';

/**
 * The bytes of a chunk's long VARCHAR / BLOB values, read with a few native calls instead of one
 * per value.
 *
 * A value of more than 12 bytes is not inline in its 16-byte string_t: the entry holds a pointer
 * to its bytes, and the bindings' only way to read them is `get_data_from_pointer`, which copies
 * one range into a new buffer (~1 µs a call: a 28-byte host name in every row cut the JSON answer
 * from ~3M to ~0.7M rows per CPU second). The values of a chunk lie close together in DuckDB's
 * string heap, so they are sorted by address and gathered into runs, each read with one call.
 *
 * Safety: the copy reads every byte of a run, so a run must not cross memory that is not mapped.
 * A run only grows by a value that starts less than a page (4 KiB) after the run's end: then
 * every page in the run holds a byte of some value, and the pages of live values are mapped.
 */
const PAGE_BYTES = 4096;
/**
 * Largest run read with one call. A chunk's values measured 0.4-1.2 MB apart in all for ~60 KB
 * of text (the heap interleaves other data), so a run copies more than the values; the cap
 * bounds that waste per call, and a fresh run starts after it.
 */
const RUN_BYTES_MAX = 2 * 1024 * 1024;
/** Below this many long values in a chunk, one call per value is as cheap as sorting. */
const VALUES_FOR_RUNS_MIN = 16;
const WORD = 4_294_967_296;

/**
 * Indexes stay in bounds by construction, so the loops read with `as number`: rows are below the
 * `rowCount` the per-row arrays were sized for, value indexes below the `count` collected into the
 * per-value arrays (a sort key's index is `key % scale`, below `count`), and `runStarts` and
 * `runEnds` grow together.
 */
export class StringRuns {
  /** Per row: index of the run holding its bytes (-1: inline or not gathered), and its offset in it. */
  private runOfRow = new Int32Array(0);
  private offsetOfRow = new Int32Array(0);
  private readonly runs: Uint8Array[] = [];
  /** Each run's memory as a DataView, to read its text four bytes at a time. */
  private readonly runWords: DataView[] = [];
  /** The long values in row order: address, length and row of each. */
  private addresses = new Float64Array(0);
  private lengths = new Int32Array(0);
  private rows = new Int32Array(0);
  /** Sort keys: (address - lowest address) x keyScale + index into the arrays above. */
  private keys = new Float64Array(0);
  private readonly runStarts: number[] = [];
  private readonly runEnds: number[] = [];
  private readonly pointerCell = new ArrayBuffer(8);
  private readonly pointerWords = new Uint32Array(this.pointerCell);
  /** The chunk's string_t entries (4 words each), validity and rows, kept until its first long value is read. */
  private words: Uint32Array = new Uint32Array(0);
  private validity: Uint8Array | null = null;
  private rowCount = 0;
  /** Whether this chunk's long values were looked for yet (see `prepare`). */
  private gathered = true;
  /** Whether this chunk's long values were gathered into runs. */
  private active = false;

  /**
   * Takes the chunk's `rowCount` string_t entries (`words`: 4 per entry) and their validity; their
   * long values are gathered when the first of them is read (`runOf`). Columns of tags mostly have
   * no long value at all, and then no pass over the chunk's rows is made for them.
   */
  prepare(words: Uint32Array, validity: Uint8Array | null, rowCount: number): void {
    assert.ok(words.length >= rowCount * 4, 'a string_t entry for every row');
    this.words = words;
    this.validity = validity;
    this.rowCount = rowCount;
    this.gathered = false;
    this.active = false;
  }

  /**
   * Gathers the long values of the prepared entries whose rows are valid. Leaves `active` false
   * when there are too few to be worth it.
   */
  private gather(): void {
    this.gathered = true;
    this.runs.length = 0;
    this.runWords.length = 0;
    this.runStarts.length = 0;
    this.runEnds.length = 0;
    const count = this.collect(this.words, this.validity, this.rowCount);
    if (count < VALUES_FOR_RUNS_MIN) return;
    if (this.inAddressOrder(count)) {
      for (let index = 0; index < count; index++) this.place(index);
    } else {
      const keys = this.sortedKeys(count);
      if (keys === null) return;
      const scale = this.keyScale(count);
      for (let index = 0; index < count; index++) this.place((keys[index] as number) % scale);
    }
    for (let run = 0; run < this.runStarts.length; run++) {
      const runStart = this.runStarts[run] as number;
      const bytes = this.read(runStart, (this.runEnds[run] as number) - runStart);
      this.runs.push(bytes);
      this.runWords.push(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }
    this.active = true;
  }

  /**
   * The run holding the bytes of row `row` (a valid row of a long value of the prepared chunk);
   * undefined when its bytes were not gathered (too few long values: read it on its own).
   */
  runOf(row: number): Uint8Array | undefined {
    if (!this.gathered) this.gather();
    if (!this.active) return undefined;
    return this.runs[this.runOfRow[row] as number];
  }

  /** The memory of `runOf(row)` as a DataView (only after `runOf(row)` returned a run). */
  runWordsOf(row: number): DataView {
    return this.runWords[this.runOfRow[row] as number] as DataView;
  }

  offsetOf(row: number): number {
    return this.offsetOfRow[row] as number;
  }

  /** The long values, in row order, into the arrays; returns how many. */
  private collect(words: Uint32Array, validity: Uint8Array | null, rowCount: number): number {
    if (this.runOfRow.length < rowCount) {
      this.runOfRow = new Int32Array(rowCount);
      this.offsetOfRow = new Int32Array(rowCount);
      this.addresses = new Float64Array(rowCount);
      this.lengths = new Int32Array(rowCount);
      this.rows = new Int32Array(rowCount);
      this.keys = new Float64Array(rowCount);
    }
    let count = 0;
    for (let row = 0; row < rowCount; row++) {
      this.runOfRow[row] = -1;
      const length = words[row * 4] as number;
      if (length <= 12) continue;
      if (validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0) continue;
      this.addresses[count] = (words[row * 4 + 3] as number) * WORD + (words[row * 4 + 2] as number);
      this.lengths[count] = length;
      this.rows[count] = row;
      count++;
    }
    return count;
  }

  /** DuckDB often allocates a chunk's strings one after the other: then no sort is needed. */
  private inAddressOrder(count: number): boolean {
    for (let index = 1; index < count; index++) if ((this.addresses[index] as number) < (this.addresses[index - 1] as number)) return false;
    return true;
  }

  /** A power of two above every index, so a key's index is `key % scale`. */
  private keyScale(count: number): number {
    return 2 ** Math.ceil(Math.log2(count + 1));
  }

  /** Keys sorted by address (a native sort of doubles); null when they would not be exact. */
  private sortedKeys(count: number): Float64Array | null {
    const addresses = this.addresses;
    let lowest = Infinity;
    let highest = 0;
    for (let index = 0; index < count; index++) {
      const address = addresses[index] as number;
      if (address < lowest) lowest = address;
      if (address > highest) highest = address;
    }
    const scale = this.keyScale(count);
    if ((highest - lowest + 1) * scale > Number.MAX_SAFE_INTEGER) return null;
    const keys = this.keys.subarray(0, count);
    for (let index = 0; index < count; index++) keys[index] = ((addresses[index] as number) - lowest) * scale + index;
    return keys.sort();
  }

  /** Adds the value at `index` (taken in address order) to the last run, or starts a run with it. */
  private place(index: number): void {
    const start = this.addresses[index] as number;
    const end = start + (this.lengths[index] as number);
    const run = this.runFor(start, end);
    const row = this.rows[index] as number;
    this.runOfRow[row] = run;
    this.offsetOfRow[row] = start - (this.runStarts[run] as number);
  }

  /** The run that takes bytes `[start, end)`: the last run, grown to hold them, or a new one. */
  private runFor(start: number, end: number): number {
    const last = this.runStarts.length - 1;
    if (last >= 0) {
      const runStart = this.runStarts[last] as number;
      const runEnd = this.runEnds[last] as number;
      const grownEnd = Math.max(runEnd, end);
      if (start < runEnd + PAGE_BYTES && grownEnd - runStart <= RUN_BYTES_MAX) {
        this.runEnds[last] = grownEnd;
        return last;
      }
    }
    this.runStarts.push(start);
    this.runEnds.push(end);
    return last + 1;
  }

  /** Copies `byteCount` bytes from `address` with one call into the bindings. */
  private read(address: number, byteCount: number): Uint8Array {
    this.pointerWords[0] = address % WORD;
    this.pointerWords[1] = Math.floor(address / WORD);
    return duckdb.get_data_from_pointer(this.pointerCell, 0, byteCount);
  }
}
