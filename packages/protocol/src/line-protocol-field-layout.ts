import { ColumnRole, ColumnType, type BatchBuilder, type ColumnBuilder } from '@arc/columnar';
import { ArcError } from '@arc/errors';
import { BYTE_0, BYTE_9, BYTE_MINUS, TIMESTAMP_OUT_OF_RANGE, TIMESTAMP_WIDE, parseFloatText, parseTimestampMicros, type Int64Parts } from './line-protocol-numbers.js';
import type { LineProtocolPrecision } from './line-protocol-precision.js';
import { BYTE_COMMA, BYTE_SPACE, FieldKind } from './line-protocol-scanner.js';
import { RequestColumns } from './line-protocol-columns.js';

const BYTE_I = 0x69;
const BYTE_U = 0x75;
const BYTE_PLUS = 0x2b;
const BYTE_DOT = 0x2e;
/** Integers of at most this many digits are exact in a double (the scanner's bound too). */
const INTEGER_DIGITS_MAX = 15;

/**
 * The field keys of a line, in order (`usage_user=`, `usage_system=`, ...), as a template for
 * the lines after it: series repeat their field set, so a line's fields are read by comparing
 * each key's bytes and parsing its number in one pass, straight into `values`, then appended
 * to columns resolved once per request.
 *
 * Exactness: `scan` accepts only lines the general scanner reads the same way: keys equal
 * byte for byte (with their '=') to keys the scanner read before, `<digits>i` integers of at
 * most 15 digits and floats the general path would parse with the same function, single
 * separators, a timestamp filling the rest of the line. Anything else (strings, booleans,
 * `u` and wide integers, other or more or fewer keys, extra spaces, bad numbers) returns false
 * and the line takes the general path, which also produces every error. Layouts are only made
 * from lines appended without error whose keys are distinct and values numbers.
 */
export class FieldLayout {
  readonly keys: readonly Uint8Array[];
  private readonly keyWords: readonly Int32Array[];
  readonly names: readonly string[];
  /** The last scanned line's values and kinds (FieldKind.integer or .float) per field. */
  readonly values: Float64Array;
  readonly kinds: Uint8Array;
  /** The last scanned line's time in microseconds, NaN when it has none. */
  timeUs = Number.NaN;
  private readonly columns: RequestColumns;
  /** Where parseTimestampMicros puts a wide time (unused: such a line goes to the scanner). */
  private readonly wideTime: Int64Parts = { high: 0, low: 0 };

  constructor(keys: readonly Uint8Array[], names: readonly string[]) {
    this.keys = keys;
    this.names = names;
    this.keyWords = keys.map((key) => {
      // Whole words, then (for a length not a multiple of 4) the word ending at the key's end.
      const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
      const wholeWords = key.byteLength >>> 2;
      const tail = key.byteLength >= 4 && (key.byteLength & 3) !== 0;
      return Int32Array.from({ length: wholeWords + (tail ? 1 : 0) }, (_, word) => view.getInt32(word < wholeWords ? word * 4 : key.byteLength - 4, true));
    });
    this.columns = new RequestColumns(names, ColumnRole.field);
    this.values = new Float64Array(keys.length);
    this.kinds = new Uint8Array(keys.length);
  }

  /** True when the key bytes [keyStart, keyEnd] ('=' included) of field `field` equal this layout's. */
  keyEquals(field: number, bytes: Uint8Array, keyStart: number, equalsIndex: number): boolean {
    const key = this.keys[field];
    if (key?.byteLength !== equalsIndex + 1 - keyStart) return false;
    for (let index = 0; index < key.byteLength; index++) if (bytes[keyStart + index] !== key[index]) return false;
    return true;
  }

  /**
   * Reads the fields and timestamp of [start, end) (start: right after the series' space) into
   * `values`, `kinds` and `timeUs`; false when the line is not of this layout's simple form.
   */
  scan(bytes: Uint8Array, view: DataView, start: number, end: number, precision: LineProtocolPrecision): boolean {
    const count = this.keys.length;
    let index = start;
    for (let field = 0; field < count; field++) {
      const key = this.keys[field] as Uint8Array; // field < count
      const words = this.keyWords[field] as Int32Array;
      const keyLength = key.byteLength;
      if (index + keyLength >= end) return false; // the key and at least one value byte
      if (keyLength >= 4) {
        const wholeWords = keyLength >>> 2;
        for (let word = 0; word < wholeWords; word++) {
          if (view.getInt32(index + word * 4, true) !== words[word]) return false;
        }
        if (wholeWords < words.length && view.getInt32(index + keyLength - 4, true) !== words[wholeWords]) return false;
      } else {
        for (let offset = 0; offset < keyLength; offset++) {
          if (bytes[index + offset] !== key[offset]) return false;
        }
      }
      const valueStart = index + keyLength;
      index = this.scanNumber(bytes, valueStart, end, field);
      if (index < 0) return false;
      if (field < count - 1) {
        if (index >= end || bytes[index] !== BYTE_COMMA) return false;
        index++;
      } else if (index < end && bytes[index] !== BYTE_SPACE) {
        return false;
      }
    }
    if (index >= end) {
      this.timeUs = Number.NaN;
      return true;
    }
    const timeUs = parseTimestampMicros(bytes, index + 1, end, precision, this.wideTime);
    // A time beyond ±2^53 µs (or a bad one) is left to the scanner, which holds its parts.
    if (Number.isNaN(timeUs) || timeUs === TIMESTAMP_OUT_OF_RANGE || timeUs === TIMESTAMP_WIDE) return false;
    this.timeUs = timeUs;
    return true;
  }

  /** `-`? digits `i` (at most 15 digits) or a float; returns the index after it, or -1. */
  private scanNumber(bytes: Uint8Array, start: number, end: number, field: number): number {
    const negative = bytes[start] === BYTE_MINUS;
    const digitsStart = negative ? start + 1 : start;
    let index = digitsStart;
    let value = 0;
    while (index < end) {
      const byte = bytes[index] as number; // index < end <= bytes.length
      if (byte < BYTE_0 || byte > BYTE_9) break;
      value = value * 10 + (byte - BYTE_0);
      index++;
    }
    const digitCount = index - digitsStart;
    if (index < end && bytes[index] === BYTE_I) {
      if (digitCount === 0 || digitCount > INTEGER_DIGITS_MAX) return -1;
      this.values[field] = negative && value !== 0 ? -value : value;
      this.kinds[field] = FieldKind.integer;
      return index + 1;
    }
    const first = bytes[start] as number; // start < end (scan checked)
    if (!((first >= BYTE_0 && first <= BYTE_9) || first === BYTE_MINUS || first === BYTE_PLUS || first === BYTE_DOT)) return -1;
    while (index < end && bytes[index] !== BYTE_COMMA && bytes[index] !== BYTE_SPACE) index++;
    const suffix = bytes[index - 1];
    if (suffix === BYTE_I || suffix === BYTE_U) return -1;
    const float = parseFloatText(bytes, start, index);
    if (Number.isNaN(float)) return -1;
    this.values[field] = float;
    this.kinds[field] = FieldKind.float;
    return index;
  }

  /** The field columns in `builder` for request `request` (RequestColumns). */
  columnsIn(builder: BatchBuilder, request: number): readonly ColumnBuilder[] | ArcError {
    return this.columns.in(builder, request);
  }

  /**
   * Appends the scanned values to the current row of `columns` (from columnsIn). False, with
   * nothing appended, when a value's type differs from its column's (the general path then
   * reports the conflict).
   */
  append(columns: readonly ColumnBuilder[]): boolean {
    const count = this.keys.length;
    for (let field = 0; field < count; field++) {
      const type = (columns[field] as ColumnBuilder).type; // one column per field (columnsIn)
      if (type === null) continue;
      if (type !== (this.kinds[field] === FieldKind.integer ? ColumnType.int64 : ColumnType.float64)) return false;
    }
    for (let field = 0; field < count; field++) {
      const column = columns[field] as ColumnBuilder;
      const value = this.values[field] as number; // field < count
      if (this.kinds[field] === FieldKind.integer) column.appendInteger(value);
      else column.appendFloat64(value);
    }
    return true;
  }
}
