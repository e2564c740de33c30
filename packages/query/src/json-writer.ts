import assert from 'node:assert/strict';
import { ArcError, ErrorKind } from '@arc/errors';
import { answerBody, leaseAnswerBuffer, returnAnswerBuffer } from './answer-buffers.js';
import { QueryErrorCode } from './error-codes.js';
import { ANSWER_SCRATCH_BYTES_MAX, JSON_ANSWER_BYTES_INITIAL, JSON_ANSWER_BYTES_MAX } from './limits.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
/** Runs of bytes up to this length are copied by a loop; longer ones by one `set`. */
const COPY_LOOP_BYTES_MAX = 32;

/** Bytes of the longest integer `putInteger` writes: a sign and 16 digits (2^53). */
export const INTEGER_BYTES_MAX = 17;

/**
 * Size of one block of the worker's kept answer memory. An answer written from scratch fills
 * blocks one after the other (no copy when it outgrows one), and blocks are kept between answers
 * up to ANSWER_SCRATCH_BYTES_MAX: touching fresh pages costs ~4 ns a byte on the benchmark
 * machine (a 78 MB answer: 300 ms) against ~0.1 ns for memory already touched, so growing one
 * buffer by doubling (which copies into fresh pages every time) cost more than writing the JSON.
 */
const SCRATCH_BLOCK_BYTES = 1024 * 1024;

assert.ok(SCRATCH_BLOCK_BYTES <= ANSWER_SCRATCH_BYTES_MAX);

/**
 * Two ASCII digits for each of 0..99, so integers are written two digits per division. Read at
 * `2 * (0..99)` and the byte after, always in bounds, hence the unchecked `as number` reads.
 */
export const DIGIT_PAIRS: Uint8Array = (() => {
  const pairs = new Uint8Array(200);
  for (let value = 0; value < 100; value++) {
    pairs[value * 2] = 0x30 + Math.floor(value / 10);
    pairs[value * 2 + 1] = 0x30 + (value % 10);
  }
  return pairs;
})();

/** Integers below this are written from SMALL_INTEGER_WORDS. */
const SMALL_INTEGER_LIMIT = 1000;

/**
 * The ASCII digits of each of 0..999 as one little-endian word (unused high bytes zero), stored
 * with one four-byte write: time series fields are often small counts and percentages (TSBS's ten
 * cpu fields are 0..100), which the digit loop below wrote at about twice the cost. Read at
 * indexes below SMALL_INTEGER_LIMIT, hence the unchecked `as number` read.
 */
const SMALL_INTEGER_WORDS: Uint32Array = (() => {
  const words = new Uint32Array(SMALL_INTEGER_LIMIT);
  for (let value = 0; value < SMALL_INTEGER_LIMIT; value++) {
    const text = String(value);
    let word = 0;
    for (let index = text.length - 1; index >= 0; index--) word = word * 256 + text.charCodeAt(index);
    words[value] = word;
  }
  return words;
})();

/**
 * Escape sequence for each byte below 0x20 (JSON forbids them raw). Bytes >= 0x80 are UTF-8
 * continuation or lead bytes of valid text (DuckDB validates VARCHAR) and are copied as they are.
 */
const CONTROL_ESCAPES: readonly string[] = Array.from({ length: 0x20 }, (_, code) => {
  if (code === 0x08) return '\\b';
  if (code === 0x09) return '\\t';
  if (code === 0x0a) return '\\n';
  if (code === 0x0c) return '\\f';
  if (code === 0x0d) return '\\r';
  return `\\u00${HEX.charAt(code >> 4)}${HEX.charAt(code & 0xf)}`;
});

/** 1 for each byte that needs escaping in a JSON string (control bytes, quote, backslash). */
const NEEDS_ESCAPE: Uint8Array = (() => {
  const table = new Uint8Array(256);
  for (let code = 0; code < 0x20; code++) table[code] = 1;
  table[QUOTE] = 1;
  table[BACKSLASH] = 1;
  return table;
})();

export function answerTooLarge(): ArcError {
  return new ArcError(
    ErrorKind.tooLarge,
    QueryErrorCode.resultTooLarge,
    `The answer exceeds ${String(JSON_ANSWER_BYTES_MAX)} bytes; add a LIMIT (or "limit") or use the streaming endpoint`,
    { bytes_max: JSON_ANSWER_BYTES_MAX },
  );
}

/**
 * The worker's kept answer blocks (see SCRATCH_BLOCK_BYTES), shared by every scratch writer:
 * writers take blocks as they fill them and give them back when released.
 */
const keptBlocks: Uint8Array[] = [];

function takeBlock(): Uint8Array {
  return keptBlocks.pop() ?? new Uint8Array(SCRATCH_BLOCK_BYTES);
}

/** Keeps a full-size block for the next writer, up to ANSWER_SCRATCH_BYTES_MAX in all. */
function giveBlock(block: Uint8Array): void {
  if (block.length !== SCRATCH_BLOCK_BYTES) return;
  if ((keptBlocks.length + 1) * SCRATCH_BLOCK_BYTES > ANSWER_SCRATCH_BYTES_MAX) return;
  keptBlocks.push(block);
}

/**
 * A byte buffer that JSON (and CSV) is written into directly as UTF-8, so an answer never exists
 * as one big JS string (no per-value strings for integers and timestamps, no TextEncoder pass).
 *
 * Methods named `put*` do not check capacity, so a value costs one `reserve` instead of one per
 * byte: callers reserve the value's maximum size first, and `reserve(n)` guarantees n contiguous
 * bytes at `bytes[length..]`. The other methods check for themselves.
 *
 * A writer made with `onKeptBlocks` (or `fromScratch` when no lent buffer is free) writes into a
 * chain of kept blocks: when a reserve does not fit, the block is sealed and writing goes on in
 * the next one, so `length` counts bytes in the current block only. Other writers grow one
 * contiguous buffer by doubling (`length` = total).
 */
export class JsonWriter {
  bytes: Uint8Array;
  /** The memory of `bytes`, for stores four bytes at a time (`putWords`); replaced with it. */
  data: DataView;
  length = 0;
  /** Blocks filled before the current one, each a view of exactly its written bytes. */
  private readonly sealed: Uint8Array[] = [];
  private sealedBytes = 0;
  /** True for a writer on kept blocks, false for a contiguous one. */
  private readonly chained: boolean;
  /** True while `bytes` is a lent answer buffer (see answer-buffers.ts). */
  private lent = false;

  constructor(bytes: Uint8Array = new Uint8Array(JSON_ANSWER_BYTES_INITIAL), chained = false) {
    this.bytes = bytes;
    this.data = dataViewOf(bytes);
    this.chained = chained;
  }

  /**
   * A writer for a whole answer: straight into a lent answer buffer when sharing is on and one is
   * free (the answer is then handed out without a copy), else on the worker's kept blocks. Hand
   * it back with `release`, or `recycle` when the answer is abandoned.
   */
  static fromScratch(): JsonWriter {
    const lent = leaseAnswerBuffer(SCRATCH_BLOCK_BYTES);
    if (lent === null) return JsonWriter.onKeptBlocks();
    const writer = new JsonWriter(lent, false);
    writer.lent = true;
    return writer;
  }

  /** A writer on the worker's kept blocks (for a piece of an answer joined later). */
  static onKeptBlocks(): JsonWriter {
    return new JsonWriter(takeBlock(), true);
  }

  /** Bytes written so far. */
  get totalLength(): number {
    return this.sealedBytes + this.length;
  }

  /**
   * The written bytes in a buffer of their own (safe to transfer), or in a lent shared buffer
   * (see answer-buffers.ts). A scratch writer's blocks are kept for the next answer; the writer
   * is empty afterwards.
   */
  release(): Uint8Array {
    if (this.lent) {
      // Already in the lent buffer: the answer is a view of its start.
      const body = this.bytes.subarray(0, this.length);
      this.lent = false;
      this.use(EMPTY_BYTES);
      this.length = 0;
      return body;
    }
    const body = answerBody(this.totalLength);
    this.copyTo(body, 0);
    this.recycle();
    return body;
  }

  /** Copies everything written to `target` from `at`; returns the position after it. */
  copyTo(target: Uint8Array, at: number): number {
    let position = at;
    for (const block of this.sealed) {
      target.set(block, position);
      position += block.length;
    }
    target.set(this.bytes.subarray(0, this.length), position);
    return position + this.length;
  }

  /** Gives a scratch writer's blocks back for the next answer; the writer is empty afterwards. */
  recycle(): void {
    if (this.lent) returnAnswerBuffer(this.bytes);
    this.lent = false;
    if (this.chained) {
      for (const block of this.sealed) giveBlock(new Uint8Array(block.buffer));
      giveBlock(this.bytes);
    }
    this.sealed.length = 0;
    this.sealedBytes = 0;
    this.use(EMPTY_BYTES);
    this.length = 0;
  }

  /** Writes into `bytes` from now on (and keeps `data` on the same memory). */
  private use(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.data = dataViewOf(bytes);
  }

  /** Forgets what was written; the buffers stay (for writers reused chunk after chunk). */
  clear(): void {
    assert.ok(!this.chained, 'only a contiguous writer is cleared');
    this.length = 0;
  }

  /** Makes room for `count` more contiguous bytes. Kept tiny so V8 inlines it into every writer. */
  reserve(count: number): void {
    if (this.length + count > this.bytes.length) this.grow(count);
  }

  private grow(count: number): void {
    if (this.totalLength + count > JSON_ANSWER_BYTES_MAX) throw answerTooLarge();
    if (!this.chained) {
      this.growContiguous(count);
      return;
    }
    this.growChained(count);
  }

  private growChained(count: number): void {
    this.sealed.push(this.bytes.subarray(0, this.length));
    this.sealedBytes += this.length;
    this.use(count <= SCRATCH_BLOCK_BYTES ? takeBlock() : new Uint8Array(count));
    this.length = 0;
  }

  /**
   * Doubles the buffer until `count` more bytes fit: into a larger lent buffer while this one is
   * lent and a larger one can be had, else into a buffer of its own.
   */
  private growContiguous(count: number): void {
    const needed = this.length + count;
    let size = Math.max(this.bytes.length * 2, SCRATCH_BLOCK_BYTES / 16);
    while (size < needed) size *= 2;
    size = Math.min(size, JSON_ANSWER_BYTES_MAX);
    const larger = this.lent ? leaseAnswerBuffer(size) : null;
    const grown = larger ?? new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    if (this.lent) returnAnswerBuffer(this.bytes);
    this.lent = larger !== null;
    this.use(grown);
  }

  putByte(value: number): void {
    this.bytes[this.length++] = value;
  }

  /**
   * Writes a non-negative integer below 2^53 without allocating a string, two digits at a time.
   * Below 1000 it stores four bytes (the digits and up to three zeros that later writes
   * overwrite): every caller reserved at least INTEGER_BYTES_MAX.
   */
  putUnsigned(value: number): void {
    if (value < SMALL_INTEGER_LIMIT) {
      this.data.setUint32(this.length, SMALL_INTEGER_WORDS[value] as number, true);
      this.length += value < 10 ? 1 : value < 100 ? 2 : 3;
      return;
    }
    const bytes = this.bytes;
    const end = this.length + digitCount(value);
    this.length = end;
    let at = end;
    let rest = value;
    while (rest >= 0x8000_0000) {
      const next = Math.floor(rest / 100);
      const pair = (rest - next * 100) * 2;
      bytes[--at] = DIGIT_PAIRS[pair + 1] as number;
      bytes[--at] = DIGIT_PAIRS[pair] as number;
      rest = next;
    }
    // Below 2^31: integer division by `| 0` instead of Math.floor on doubles.
    let small = rest | 0;
    while (small >= 100) {
      const next = (small / 100) | 0;
      const pair = (small - next * 100) * 2;
      bytes[--at] = DIGIT_PAIRS[pair + 1] as number;
      bytes[--at] = DIGIT_PAIRS[pair] as number;
      small = next;
    }
    // The leading one or two digits fill what is left before `at`.
    if (small >= 10) {
      bytes[at - 1] = DIGIT_PAIRS[small * 2 + 1] as number;
      bytes[at - 2] = DIGIT_PAIRS[small * 2] as number;
    } else {
      bytes[at - 1] = 0x30 + small;
    }
  }

  /** Writes an integer with |value| <= 2^53 (at most INTEGER_BYTES_MAX bytes). */
  putInteger(value: number): void {
    if (value < 0) {
      this.bytes[this.length++] = 0x2d;
      this.putUnsigned(-value);
      return;
    }
    this.putUnsigned(value);
  }

  /** Writes 0..99 as two digits: months, days, hours, minutes, seconds. */
  putTwoDigits(value: number): void {
    this.bytes[this.length++] = DIGIT_PAIRS[value * 2] as number;
    this.bytes[this.length++] = DIGIT_PAIRS[value * 2 + 1] as number;
  }

  /** Writes `value` as exactly `width` digits (leading zeros), for years and fractions. */
  putPadded(value: number, width: number): void {
    const bytes = this.bytes;
    let at = this.length + width;
    this.length = at;
    let rest = value;
    for (let index = 0; index < width; index++) {
      const next = Math.floor(rest / 10);
      bytes[--at] = 0x30 + (rest - next * 10);
      rest = next;
    }
  }

  /**
   * Copies bytes `source[start..end)` without a capacity check (the caller reserved them). Like
   * every range method here, it takes a range inside `source` (views of a loaded chunk, whose
   * sizes json-columns.ts asserts, or the writers' own buffers) and reads it without a check per
   * byte: this is the answers' innermost loop.
   */
  putBytes(source: Uint8Array, start: number, end: number): void {
    const bytes = this.bytes;
    let at = this.length;
    for (let index = start; index < end; index++) bytes[at++] = source[index] as number;
    this.length = at;
  }

  /**
   * Copies `count` bytes of `source` from `start`, four at a time, without a capacity check: it
   * stores up to 3 bytes past them (the caller reserved `count + 3`; later writes overwrite them,
   * and `length` ends after the `count` bytes) and reads up to 3 bytes past `start + count`
   * (the caller's source has them). For short texts kept in caches (timestamps, numbers), where
   * a loop over single bytes costs about three times as much.
   */
  putWords(source: DataView, start: number, count: number): void {
    const data = this.data;
    let at = this.length;
    this.length = at + count;
    const end = start + count;
    for (let index = start; index < end; index += 4) {
      data.setUint32(at, source.getUint32(index, true), true);
      at += 4;
    }
  }

  /** Stores the four bytes of `word` (little-endian) at `length`; the caller reserved them. */
  putWord(word: number): void {
    this.data.setUint32(this.length, word, true);
    this.length += 4;
  }

  /** Writes a string known to be ASCII (numbers, keys, fixed punctuation). */
  ascii(text: string): void {
    this.reserve(text.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let index = 0; index < text.length; index++) bytes[at++] = text.charCodeAt(index);
    this.length = at;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  integer(value: number): void {
    this.reserve(INTEGER_BYTES_MAX);
    this.putInteger(value);
  }

  /**
   * Writes UTF-8 bytes `source[start..end)` as a JSON string literal, escaping quotes, backslashes
   * and control bytes. Takes a range so inline strings are read in place, without a subarray.
   */
  utf8String(source: Uint8Array, start: number, end: number): void {
    this.reserve(end - start + 2);
    this.bytes[this.length] = QUOTE;
    this.stringRest(source, start, end, this.length + 1);
  }

  /**
   * The bytes `source[start..end)` of a string whose opening quote is written, from `at`, and the
   * closing quote; the caller reserved them. Bytes are copied while they are checked, and an
   * escape backs up to redo the rest.
   */
  private stringRest(source: Uint8Array, start: number, end: number, at: number): void {
    const bytes = this.bytes;
    let position = at;
    for (let index = start; index < end; index++) {
      const code = source[index] as number;
      if (NEEDS_ESCAPE[code] === 1) {
        this.length = position;
        this.escapedTail(source, index, end);
        return;
      }
      bytes[position++] = code;
    }
    bytes[position++] = QUOTE;
    this.length = position;
  }

  /**
   * `utf8String` for a source also seen as a DataView (`words`, the same memory as `source`):
   * copies four bytes at a time while none of them needs an escape, then goes on byte by byte.
   * Reads no byte past `end` (a run of long strings ends with its last value).
   */
  utf8StringByWords(source: Uint8Array, words: DataView, start: number, end: number): void {
    this.reserve(end - start + 2);
    const data = this.data;
    let at = this.length;
    this.bytes[at++] = QUOTE;
    let index = start;
    for (; index + 4 <= end; index += 4) {
      const word = words.getUint32(index, true);
      if (wordNeedsEscape(word)) break;
      data.setUint32(at, word, true);
      at += 4;
    }
    this.stringRest(source, index, end, at);
  }

  /** The rest of a string from its first byte that needs an escape (rare, so kept out of line). */
  private escapedTail(source: Uint8Array, start: number, end: number): void {
    let runStart = start;
    for (let index = start; index < end; index++) {
      const code = source[index] as number;
      if (NEEDS_ESCAPE[code] !== 1) continue;
      this.copy(source, runStart, index);
      this.escapeByte(code);
      runStart = index + 1;
    }
    this.copy(source, runStart, end);
    this.byte(QUOTE);
  }

  /** Writes a JS string as a JSON string literal (column names, fallback string forms). */
  string(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.utf8String(bytes, 0, bytes.length);
  }

  /** Copies bytes `source[start..end)` as they are. */
  copy(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    this.reserve(count);
    if (count <= COPY_LOOP_BYTES_MAX) {
      // Short runs: a loop beats creating a subarray view (a Buffer subarray allocates an object).
      this.putBytes(source, start, end);
      return;
    }
    // A whole buffer (Arrow's column buffers) is copied without making a view of it first.
    this.bytes.set(count === source.length ? source : source.subarray(start, end), this.length);
    this.length += count;
  }

  private escapeByte(code: number): void {
    if (code === QUOTE || code === BACKSLASH) {
      this.reserve(2);
      this.bytes[this.length++] = BACKSLASH;
      this.bytes[this.length++] = code;
      return;
    }
    // NEEDS_ESCAPE marks only the quote, the backslash and the bytes below 0x20, which have an entry.
    this.ascii(CONTROL_ESCAPES[code] as string);
  }
}

const EMPTY_BYTES = new Uint8Array(0);

/**
 * Whether any of the four bytes of `word` needs a JSON escape (below 0x20, a quote or a
 * backslash), without looking at each: the classic "has a byte less than n" and "has a zero
 * byte" tests (bytes XORed with the quote or backslash are zero where they match). Both are exact
 * about whether such a byte exists. Bytes >= 0x80 (UTF-8 beyond ASCII) never match.
 */
export function wordNeedsEscape(word: number): boolean {
  const control = (word - 0x2020_2020) & ~word;
  const quote = word ^ 0x2222_2222;
  const backslash = word ^ 0x5c5c_5c5c;
  const matches = control | ((quote - 0x0101_0101) & ~quote) | ((backslash - 0x0101_0101) & ~backslash);
  return (matches & 0x8080_8080) !== 0;
}

function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Decimal digits of a non-negative integer below 2^53. */
function digitCount(value: number): number {
  if (value < 100_000) {
    if (value < 100) return value < 10 ? 1 : 2;
    if (value < 10_000) return value < 1000 ? 3 : 4;
    return 5;
  }
  let count = 6;
  for (let bound = 1_000_000; value >= bound && count < 16; bound *= 10) count++;
  return count;
}
