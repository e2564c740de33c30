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

export class StringRuns {
  /** Per row: index of the run holding its bytes (-1: inline or not gathered), and its offset in it. */
  private runOfRow = new Int32Array(0);
  private offsetOfRow = new Int32Array(0);
  private readonly runs: Uint8Array[] = [];
  private addresses = new Float64Array(0);
  private readonly pointerCell = new ArrayBuffer(8);
  private readonly pointerWords = new Uint32Array(this.pointerCell);
  /** Length of the value at each address (sorting loses the row; values may share an address). */
  private readonly lengthByAddress = new Map<number, number>();
  /** Whether this chunk's long values were gathered into runs. */
  active = false;

  /**
   * Gathers the long values of `rowCount` string_t entries (`words`: 4 per entry) whose rows are
   * valid. Leaves `active` false when there are too few to be worth it.
   */
  gather(words: Uint32Array, validity: Uint8Array | null, rowCount: number): void {
    this.active = false;
    this.runs.length = 0;
    const count = this.collectAddresses(words, validity, rowCount);
    if (count < VALUES_FOR_RUNS_MIN) return;
    const sorted = this.addresses.subarray(0, count).sort();
    const runStarts: number[] = [];
    const runEnds: number[] = [];
    for (let index = 0; index < count; index++) {
      const start = sorted[index] ?? 0;
      const end = start + (this.lengthByAddress.get(start) ?? 0);
      const last = runStarts.length - 1;
      const runEnd = runEnds[last] ?? -Infinity;
      if (last >= 0 && start < runEnd + PAGE_BYTES && Math.max(runEnd, end) - (runStarts[last] ?? 0) <= RUN_BYTES_MAX) {
        runEnds[last] = Math.max(runEnd, end);
      } else {
        runStarts.push(start);
        runEnds.push(end);
      }
    }
    for (let run = 0; run < runStarts.length; run++) this.runs.push(this.read(runStarts[run] ?? 0, (runEnds[run] ?? 0) - (runStarts[run] ?? 0)));
    this.placeRows(words, validity, rowCount, runStarts);
    this.active = true;
  }

  /** The run holding row `row`'s bytes (call only for a long value of a gathered chunk). */
  runOf(row: number): Uint8Array | undefined {
    return this.runs[this.runOfRow[row] ?? -1];
  }

  offsetOf(row: number): number {
    return this.offsetOfRow[row] ?? 0;
  }

  /** Addresses of the long values, in row order, into `addresses`; returns how many. */
  private collectAddresses(words: Uint32Array, validity: Uint8Array | null, rowCount: number): number {
    if (this.addresses.length < rowCount) {
      this.addresses = new Float64Array(rowCount);
      this.runOfRow = new Int32Array(rowCount);
      this.offsetOfRow = new Int32Array(rowCount);
    }
    this.lengthByAddress.clear();
    let count = 0;
    for (let row = 0; row < rowCount; row++) {
      this.runOfRow[row] = -1;
      const length = words[row * 4] ?? 0;
      if (length <= 12) continue;
      if (validity !== null && (((validity[row >>> 3] ?? 0) >>> (row & 7)) & 1) === 0) continue;
      const address = (words[row * 4 + 3] ?? 0) * WORD + (words[row * 4 + 2] ?? 0);
      const known = this.lengthByAddress.get(address);
      if (known === undefined || known < length) this.lengthByAddress.set(address, length);
      this.addresses[count++] = address;
    }
    return count;
  }

  /** Which run and where in it each long value's bytes are. */
  private placeRows(words: Uint32Array, validity: Uint8Array | null, rowCount: number, runStarts: readonly number[]): void {
    for (let row = 0; row < rowCount; row++) {
      const length = words[row * 4] ?? 0;
      if (length <= 12) continue;
      if (validity !== null && (((validity[row >>> 3] ?? 0) >>> (row & 7)) & 1) === 0) continue;
      const address = (words[row * 4 + 3] ?? 0) * WORD + (words[row * 4 + 2] ?? 0);
      // The last run starting at or before the address (runs are few: a short scan).
      let run = runStarts.length - 1;
      while (run > 0 && (runStarts[run] ?? 0) > address) run--;
      this.runOfRow[row] = run;
      this.offsetOfRow[row] = address - (runStarts[run] ?? 0);
    }
  }

  /** Copies `byteCount` bytes from `address` with one call into the bindings. */
  private read(address: number, byteCount: number): Uint8Array {
    this.pointerWords[0] = address % WORD;
    this.pointerWords[1] = Math.floor(address / WORD);
    return duckdb.get_data_from_pointer(this.pointerCell, 0, byteCount);
  }
}
