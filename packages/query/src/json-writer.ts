import { ArcError, ErrorKind } from '@arc/config';
import { QueryErrorCode } from './errors.js';
import { JSON_ANSWER_BYTES_INITIAL, JSON_ANSWER_BYTES_MAX } from './limits.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = '0123456789abcdef';

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

/**
 * A growable byte buffer that JSON is written into directly as UTF-8, so an answer never exists as
 * one big JS string (no per-value strings for integers and timestamps, no final TextEncoder pass).
 */
export class JsonWriter {
  bytes: Uint8Array;
  length = 0;

  constructor() {
    this.bytes = new Uint8Array(JSON_ANSWER_BYTES_INITIAL);
  }

  /** Makes room for `count` more bytes, doubling; refuses beyond JSON_ANSWER_BYTES_MAX. */
  reserve(count: number): void {
    const needed = this.length + count;
    if (needed <= this.bytes.length) return;
    if (needed > JSON_ANSWER_BYTES_MAX) {
      throw new ArcError(
        ErrorKind.tooLarge,
        QueryErrorCode.resultTooLarge,
        `The JSON answer exceeds ${String(JSON_ANSWER_BYTES_MAX)} bytes; add a LIMIT or use the Arrow or streaming endpoint`,
        { bytes_max: JSON_ANSWER_BYTES_MAX },
      );
    }
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(Math.min(size, JSON_ANSWER_BYTES_MAX));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.bytes[this.length++] = value;
  }

  /** Writes a string known to be ASCII (numbers, keys, fixed punctuation). */
  ascii(text: string): void {
    this.reserve(text.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let index = 0; index < text.length; index++) bytes[at++] = text.charCodeAt(index);
    this.length = at;
  }

  /** Writes a non-negative integer below 2^53 without allocating a string. */
  unsigned(value: number): void {
    this.reserve(16);
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

  /** Writes an integer with |value| <= 2^53. */
  integer(value: number): void {
    if (value < 0) {
      this.byte(0x2d);
      this.unsigned(-value);
      return;
    }
    this.unsigned(value);
  }

  /** Writes `value` as exactly `width` digits (leading zeros), for dates and fractions. */
  padded(value: number, width: number): void {
    this.reserve(width);
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
   * Writes UTF-8 bytes `source[start..end)` as a JSON string literal, escaping quotes, backslashes
   * and control bytes. Takes a range so inline strings are read in place, without a subarray.
   */
  utf8String(source: Uint8Array, start: number, end: number): void {
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

  private copy(source: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    this.reserve(end - start);
    this.bytes.set(source.subarray(start, end), this.length);
    this.length += end - start;
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
