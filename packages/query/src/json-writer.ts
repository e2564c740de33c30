import { ArcError, ErrorKind } from '@arc/config';
import { QueryErrorCode } from './errors.js';
import { ANSWER_SCRATCH_BYTES_MAX, JSON_ANSWER_BYTES_INITIAL, JSON_ANSWER_BYTES_MAX } from './limits.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';
/** Runs of string bytes up to this length are copied by a loop; longer ones by one `set`. */
const COPY_LOOP_BYTES_MAX = 32;

/** Bytes of the longest integer `putInteger` writes: a sign and 16 digits (2^53). */
export const INTEGER_BYTES_MAX = 17;

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
  return `\\u00${HEX[code >> 4] ?? '0'}${HEX[code & 0xf] ?? '0'}`;
});

function tooLarge(): ArcError {
  return new ArcError(
    ErrorKind.tooLarge,
    QueryErrorCode.resultTooLarge,
    `The answer exceeds ${String(JSON_ANSWER_BYTES_MAX)} bytes; add a LIMIT (or "limit") or use the streaming endpoint`,
    { bytes_max: JSON_ANSWER_BYTES_MAX },
  );
}

/** The buffer answers are written into, kept between queries; null while a writer has it. */
let scratch: Uint8Array | null = null;

/**
 * A growable byte buffer that JSON is written into directly as UTF-8, so an answer never exists as
 * one big JS string (no per-value strings for integers and timestamps, no final TextEncoder pass).
 *
 * Methods named `put*` do not check capacity, so a value costs one `reserve` instead of one per
 * byte: callers reserve the value's maximum size first. The other methods check for themselves.
 */
export class JsonWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(bytes: Uint8Array = new Uint8Array(JSON_ANSWER_BYTES_INITIAL)) {
    this.bytes = bytes;
  }

  /**
   * A writer on the worker's kept buffer (see ANSWER_SCRATCH_BYTES_MAX). Hand it back with
   * `release`, which returns the written bytes as a copy of their own.
   */
  static fromScratch(): JsonWriter {
    const bytes = scratch ?? new Uint8Array(JSON_ANSWER_BYTES_INITIAL);
    scratch = null;
    return new JsonWriter(bytes);
  }

  /** The written bytes in a buffer of their own (safe to transfer); the buffer is kept for the next answer. */
  release(): Uint8Array {
    const body = this.bytes.slice(0, this.length);
    if (this.bytes.length <= ANSWER_SCRATCH_BYTES_MAX) scratch = this.bytes;
    this.bytes = new Uint8Array(0);
    this.length = 0;
    return body;
  }

  /** Makes room for `count` more bytes. Kept tiny so V8 inlines it into every writer. */
  reserve(count: number): void {
    if (this.length + count > this.bytes.length) this.grow(count);
  }

  /** Doubles the buffer until `count` more bytes fit; refuses beyond JSON_ANSWER_BYTES_MAX. */
  private grow(count: number): void {
    const needed = this.length + count;
    if (needed > JSON_ANSWER_BYTES_MAX) throw tooLarge();
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(Math.min(size, JSON_ANSWER_BYTES_MAX));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  putByte(value: number): void {
    this.bytes[this.length++] = value;
  }

  /** Writes a non-negative integer below 2^53 without allocating a string. */
  putUnsigned(value: number): void {
    const bytes = this.bytes;
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    let rest = value;
    do {
      const next = Math.floor(rest / 10);
      bytes[--at] = 0x30 + (rest - next * 10);
      rest = next;
    } while (rest > 0);
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
    const tens = (value / 10) | 0;
    this.bytes[this.length++] = 0x30 + tens;
    this.bytes[this.length++] = 0x30 + value - tens * 10;
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
    // Room for the plain case; escapes reserve their own extra bytes.
    this.reserve(end - start + 2);
    this.bytes[this.length++] = QUOTE;
    let runStart = start;
    for (let index = start; index < end; index++) {
      const code = source[index] ?? 0;
      if (code >= 0x20 && code !== QUOTE && code !== BACKSLASH) continue;
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

  /** The written bytes, a view on the buffer (no copy). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  /** Copies bytes `source[start..end)` as they are. */
  copy(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    if (count <= 0) return;
    this.reserve(count);
    const bytes = this.bytes;
    let at = this.length;
    if (count <= COPY_LOOP_BYTES_MAX) {
      // Short runs: a loop beats creating a subarray view (a Buffer subarray allocates an object).
      for (let index = start; index < end; index++) bytes[at++] = source[index] ?? 0;
    } else {
      bytes.set(source.subarray(start, end), at);
      at += count;
    }
    this.length = at;
  }

  private escapeByte(code: number): void {
    if (code === QUOTE || code === BACKSLASH) {
      this.reserve(2);
      this.bytes[this.length++] = BACKSLASH;
      this.bytes[this.length++] = code;
      return;
    }
    this.ascii(CONTROL_ESCAPES[code] ?? '');
  }
}
