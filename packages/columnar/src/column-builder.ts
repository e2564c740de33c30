import assert from 'node:assert/strict';
import { ColumnRole, ColumnType } from './types.js';
import { Utf8Dictionary } from './utf8-dictionary.js';
import { isBitSet } from './batch-view.js';

const INITIAL_ROWS_CAPACITY = 1024;
const INITIAL_UTF8_BYTES_CAPACITY = 16 * 1024;
const utf8Encoder = new TextEncoder();

/**
 * Copies short ranges with a loop (no subarray allocation), long ones with TypedArray.set. The
 * range lies inside `source` (the decoder scanned it) and the target has room (the caller grew it).
 */
function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): void {
  if (end - start <= 32) {
    for (let index = start; index < end; index++) target[at++] = source[index] as number;
  } else {
    target.set(source.subarray(start, end), at);
  }
}

/** Outcome of an append: a column has one type; a value of another type is a conflict. */
export const AppendResult = {
  ok: 0,
  typeConflict: 1,
} as const;
export type AppendResult = (typeof AppendResult)[keyof typeof AppendResult];

function growBytes(bytes: Uint8Array<ArrayBuffer>, bytesNeeded: number): Uint8Array<ArrayBuffer> {
  if (bytesNeeded <= bytes.byteLength) return bytes;
  let capacity = Math.max(bytes.byteLength, 64);
  while (capacity < bytesNeeded) capacity *= 2;
  const grown = new Uint8Array(capacity);
  grown.set(bytes);
  return grown;
}

/**
 * One column being built by a decoder, in Arrow layout. Builders are reused across requests
 * (`reset` keeps capacity), so steady-state decoding allocates nothing per row.
 *
 * Tag columns start dictionary-encoded (int32 codes into a Utf8Dictionary); when a batch brings
 * more distinct values than the dictionary holds, the column turns into plain utf8 on the spot.
 *
 * The type is fixed by the first non-null value. An int64 column that meets a float is widened
 * to float64 in place (numeric promotion, as JavaScript encoders write 95.0 as an integer); any
 * other mismatch is a conflict reported to the caller.
 *
 * Every buffer holds `capacityRows` rows (asserted in `grow`) and every row this class reads is
 * below `length <= capacityRows`, so its typed-array reads are in bounds and written `as number`.
 */
export class ColumnBuilder {
  /** Mutable only for the `<name>_value` rename of a field that collides with a tag. */
  name: string;
  readonly role: ColumnRole;
  type: ColumnType | null = null;
  length = 0;
  nullCount = 0;
  /** Rows the buffers can hold without growing. */
  private capacityRows = INITIAL_ROWS_CAPACITY;

  /** int64 (as lo/hi int32 pairs), float64, or the bool bitmap, depending on `type`. */
  private values = new Uint8Array(INITIAL_ROWS_CAPACITY * 8);
  private valuesI32 = new Int32Array(this.values.buffer);
  private valuesF64 = new Float64Array(this.values.buffer);
  private validity = new Uint8Array(INITIAL_ROWS_CAPACITY / 8);
  /** utf8 only. */
  private offsets = new Int32Array(INITIAL_ROWS_CAPACITY + 1);
  private utf8 = new Uint8Array(INITIAL_UTF8_BYTES_CAPACITY);
  private utf8Length = 0;
  /** Tags only; `dictionaryEncoded` says whether this batch's values are codes into it. */
  private readonly dictionary: Utf8Dictionary | null;
  private dictionaryEncoded: boolean;

  constructor(name: string, role: ColumnRole, dictionaryEncodeTags = true) {
    this.name = name;
    this.role = role;
    this.dictionary = role === ColumnRole.tag && dictionaryEncodeTags ? new Utf8Dictionary() : null;
    this.dictionaryEncoded = this.dictionary !== null;
  }

  reset(): void {
    this.type = null;
    this.offsets[0] = 0;
    this.length = 0;
    this.nullCount = 0;
    this.utf8Length = 0;
    this.dictionary?.reset();
    this.dictionaryEncoded = this.dictionary !== null;
  }

  /** True when the values are int32 codes into `dictionaryValues()`. */
  isDictionaryEncoded(): boolean {
    return this.type === ColumnType.utf8 && this.dictionaryEncoded;
  }

  dictionaryValues(): Utf8Dictionary {
    assert.ok(this.dictionary !== null && this.isDictionaryEncoded(), 'column is dictionary-encoded');
    return this.dictionary;
  }

  appendNull(): void {
    this.reserveRow();
    this.setValid(this.length, false);
    this.nullCount++;
    if (this.isDictionaryEncoded()) this.valuesI32[this.length] = 0;
    else if (this.type === ColumnType.utf8) this.offsets[this.length + 1] = this.utf8Length;
    else this.zeroSlot(this.length);
    this.length++;
  }

  /** Appends nulls until the column has `rowCount` rows (a column first seen at a later row). */
  padNullsTo(rowCount: number): void {
    while (this.length < rowCount) this.appendNull();
  }

  appendFloat64(value: number): AppendResult {
    if (this.type !== ColumnType.float64) {
      if (this.type === ColumnType.int64) this.widenInt64ToFloat64();
      else if (!this.adoptType(ColumnType.float64)) return AppendResult.typeConflict;
    }
    this.reserveRow();
    this.valuesF64[this.length] = value;
    this.setValid(this.length, true);
    this.length++;
    return AppendResult.ok;
  }

  /** A 64-bit integer as (high 32 bits signed, low 32 bits as unsigned or signed bits). */
  appendInt64Parts(high: number, low: number): AppendResult {
    if (this.type === ColumnType.float64) return this.appendFloat64(high * 4294967296 + (low >>> 0));
    if (this.type !== ColumnType.int64 && !this.adoptType(ColumnType.int64)) return AppendResult.typeConflict;
    return this.pushInt64Bits(high, low);
  }

  /**
   * An unsigned 64-bit integer as (high 32 bits, low 32 bits), both read as unsigned. A uint64
   * column takes nothing else, and nothing else takes it: a signed or float value meeting an
   * unsigned one is a conflict (InfluxDB's rule), never a silent conversion.
   */
  appendUint64Parts(high: number, low: number): AppendResult {
    if (this.type !== ColumnType.uint64 && !this.adoptType(ColumnType.uint64)) return AppendResult.typeConflict;
    return this.pushInt64Bits(high, low);
  }

  /** Appends 64 bits (int64 and uint64 share the layout: low word first, little-endian). */
  private pushInt64Bits(high: number, low: number): AppendResult {
    this.reserveRow();
    this.valuesI32[this.length * 2] = low | 0;
    this.valuesI32[this.length * 2 + 1] = high | 0;
    this.setValid(this.length, true);
    this.length++;
    return AppendResult.ok;
  }

  /** A safe integer held in a double (|value| <= 2^53). */
  appendInteger(value: number): AppendResult {
    if (this.type === ColumnType.int64 && value >= 0 && value <= 0x7fffffff) {
      this.reserveRow();
      const slot = this.length * 2;
      this.valuesI32[slot] = value;
      this.valuesI32[slot + 1] = 0;
      if (this.nullCount !== 0) this.setValid(this.length, true);
      this.length++;
      return AppendResult.ok;
    }
    return this.appendInt64Parts(Math.floor(value / 4294967296), value >>> 0);
  }

  appendBool(value: boolean): AppendResult {
    if (this.type !== ColumnType.bool && !this.adoptType(ColumnType.bool)) return AppendResult.typeConflict;
    this.reserveRow();
    const byte = this.length >>> 3;
    const bit = 1 << (this.length & 7);
    const current = this.values[byte] as number; // reserveRow made room for this row
    this.values[byte] = value ? current | bit : current & ~bit;
    this.setValid(this.length, true);
    this.length++;
    return AppendResult.ok;
  }

  /** Appends UTF-8 bytes copied from `source[start, end)`; validity of the encoding is checked at pack time. */
  appendUtf8Bytes(source: Uint8Array, start: number, end: number): AppendResult {
    if (this.type !== ColumnType.utf8 && !this.adoptType(ColumnType.utf8)) return AppendResult.typeConflict;
    this.reserveRow();
    const dictionary = this.dictionary;
    // Per row: the dictionary field read directly, not through dictionaryValues()' assert.
    if (dictionary !== null && this.dictionaryEncoded) {
      const code = dictionary.add(source, start, end);
      if (code >= 0) {
        this.valuesI32[this.length] = code;
        this.setValid(this.length, true);
        this.length++;
        return AppendResult.ok;
      }
      this.convertDictionaryToPlain();
    }
    const byteLength = end - start;
    if (this.utf8Length + byteLength > this.utf8.byteLength) this.utf8 = growBytes(this.utf8, this.utf8Length + byteLength);
    copyBytes(source, start, end, this.utf8, this.utf8Length);
    this.utf8Length += byteLength;
    this.offsets[this.length + 1] = this.utf8Length;
    this.setValid(this.length, true);
    this.length++;
    return AppendResult.ok;
  }

  /**
   * Appends `count` integers held one per byte in `source[start, start + count)` (0..255 each):
   * a decoder's run of small integers (TSBS fields: msgpack positive fixints) in one call and one
   * tight loop instead of a call, a type test and a capacity test per value. An int64 column (or an
   * untyped one) takes them as int64, a float64 column as doubles; any other type is a conflict,
   * reported before anything is appended.
   */
  appendSmallIntegers(source: Uint8Array, start: number, count: number): AppendResult {
    assert.ok(start >= 0 && start + count <= source.byteLength, 'the run lies inside its source');
    if (this.type === ColumnType.float64) {
      for (let index = start; index < start + count; index++) this.appendFloat64(source[index] as number);
      return AppendResult.ok;
    }
    if (this.type !== ColumnType.int64 && !this.adoptType(ColumnType.int64)) return AppendResult.typeConflict;
    this.reserveRows(count);
    const values = this.valuesI32;
    const firstRow = this.length;
    // Two int32 words per row, low then high; reserveRows made room for every row of the run.
    let slot = firstRow * 2;
    for (let index = start; index < start + count; index++) {
      values[slot] = source[index] as number;
      values[slot + 1] = 0;
      slot += 2;
    }
    this.markValid(firstRow, count);
    this.length = firstRow + count;
    return AppendResult.ok;
  }

  /**
   * Appends `count` big-endian IEEE 754 doubles read from `view` at `byteOffset`, `byteOffset +
   * strideBytes`, ... (a decoder's run of msgpack float64 values, each behind its one-byte head).
   * An int64 column is widened first, as `appendFloat64` does; any type other than float64, int64
   * or none is a conflict, reported before anything is appended.
   */
  appendFloat64Run(view: DataView, byteOffset: number, strideBytes: number, count: number): AppendResult {
    assert.ok(count === 0 || byteOffset + (count - 1) * strideBytes + 8 <= view.byteLength, 'the run lies inside its view');
    if (this.type !== ColumnType.float64) {
      if (this.type === ColumnType.int64) this.widenInt64ToFloat64();
      else if (!this.adoptType(ColumnType.float64)) return AppendResult.typeConflict;
    }
    this.reserveRows(count);
    const values = this.valuesF64;
    const firstRow = this.length;
    let at = byteOffset;
    for (let row = firstRow; row < firstRow + count; row++) {
      values[row] = view.getFloat64(at, false);
      at += strideBytes;
    }
    this.markValid(firstRow, count);
    this.length = firstRow + count;
    return AppendResult.ok;
  }

  /**
   * Appends `count` UTF-8 values `source[ranges[2i], ranges[2i + 1])` (a decoder's run of short
   * strings, each located once by its scan): one call per run instead of one per value, the
   * dictionary probed in a loop. Validity of the encoding is checked at pack time, as for
   * `appendUtf8Bytes`. A column of another type is a conflict, reported before anything is appended.
   */
  appendUtf8Ranges(source: Uint8Array, ranges: Int32Array, count: number): AppendResult {
    assert.ok(ranges.length >= count * 2, 'a start and an end per value');
    if (this.type !== ColumnType.utf8 && !this.adoptType(ColumnType.utf8)) return AppendResult.typeConflict;
    this.reserveRows(count);
    const dictionary = this.dictionary;
    let index = 0;
    if (dictionary !== null && this.dictionaryEncoded) {
      const codes = this.valuesI32;
      const firstRow = this.length;
      for (; index < count; index++) {
        const code = dictionary.add(source, ranges[index * 2] as number, ranges[index * 2 + 1] as number);
        if (code < 0) break;
        codes[firstRow + index] = code; // reserveRows made room for every row of the run
      }
      this.markValid(firstRow, index);
      this.length = firstRow + index;
      if (index === count) return AppendResult.ok;
      this.convertDictionaryToPlain();
    }
    for (; index < count; index++) this.appendUtf8Bytes(source, ranges[index * 2] as number, ranges[index * 2 + 1] as number);
    return AppendResult.ok;
  }

  /** The dictionary code of the value in `row` (a row holding a value), or -1 if the column is plain utf8. */
  dictionaryCodeOf(row: number): number {
    if (!this.isDictionaryEncoded() || row >= this.length) return -1;
    if (this.nullCount > 0 && !isBitSet(this.validity, row)) return -1;
    return this.valuesI32[row] as number; // row < length
  }

  /**
   * Appends the value of `code` (a `dictionaryCodeOf` of this batch) without hashing its bytes
   * again, for decoders that cache a series' tags. False, appending nothing, once the column has
   * turned into plain utf8 (the caller then appends the bytes).
   */
  appendDictionaryCode(code: number): boolean {
    const dictionary = this.dictionary;
    // A column without a dictionary is never dictionary-encoded; the null test is for the type checker.
    if (dictionary === null || !this.isDictionaryEncoded()) return false;
    assert.ok(code >= 0 && code < dictionary.size, 'a code of this batch');
    this.reserveRow();
    this.valuesI32[this.length] = code;
    this.setValid(this.length, true);
    this.length++;
    return true;
  }

  appendString(value: string): AppendResult {
    if (this.type !== ColumnType.utf8 && !this.adoptType(ColumnType.utf8)) return AppendResult.typeConflict;
    if (this.isDictionaryEncoded()) {
      const bytes = utf8Encoder.encode(value);
      return this.appendUtf8Bytes(bytes, 0, bytes.byteLength);
    }
    this.reserveRow();
    // A UTF-16 code unit becomes at most 3 UTF-8 bytes.
    this.utf8 = growBytes(this.utf8, this.utf8Length + value.length * 3);
    const { written } = utf8Encoder.encodeInto(value, this.utf8.subarray(this.utf8Length));
    this.utf8Length += written;
    this.offsets[this.length + 1] = this.utf8Length;
    this.setValid(this.length, true);
    this.length++;
    return AppendResult.ok;
  }

  /** Bytes of each Arrow buffer this column packs into. */
  valuesByteLength(): number {
    if (this.isDictionaryEncoded()) return this.length * 4;
    switch (this.type ?? ColumnType.utf8) {
      case ColumnType.int64:
      case ColumnType.uint64:
      case ColumnType.float64:
        return this.length * 8;
      case ColumnType.bool:
        return (this.length + 7) >>> 3;
      case ColumnType.utf8:
        return this.utf8Length;
    }
  }

  /** Views over the built buffers (valid until the next append or reset). */
  valuesView(): Uint8Array {
    if (this.isDictionaryEncoded()) return this.values.subarray(0, this.length * 4);
    return this.type === ColumnType.utf8 || this.type === null
      ? this.utf8.subarray(0, this.utf8Length)
      : this.values.subarray(0, this.valuesByteLength());
  }

  offsetsView(): Int32Array {
    return this.offsets.subarray(0, this.length + 1);
  }

  validityView(): Uint8Array {
    return this.validity.subarray(0, (this.length + 7) >>> 3);
  }

  private adoptType(type: ColumnType): boolean {
    if (this.type !== null) return false;
    // Rows appended before the first typed value were nulls: rewrite their slots for the new type.
    this.type = type;
    if (type === ColumnType.utf8) {
      this.offsets.fill(0, 0, this.length + 1);
      this.utf8Length = 0;
      this.valuesI32.fill(0, 0, this.length);
    } else {
      for (let row = 0; row < this.length; row++) this.zeroSlot(row);
    }
    return true;
  }

  /** Too many distinct values for a dictionary: rewrite the rows so far as plain utf8. */
  private convertDictionaryToPlain(): void {
    const dictionary = this.dictionaryValues();
    this.dictionaryEncoded = false;
    this.utf8Length = 0;
    this.offsets[0] = 0;
    for (let row = 0; row < this.length; row++) {
      // Without nulls the bitmap is not kept (setValid): every row holds a value.
      if (this.nullCount === 0 || isBitSet(this.validity, row)) {
        const value = dictionary.valueOf(this.valuesI32[row] as number); // row < length
        this.utf8 = growBytes(this.utf8, this.utf8Length + value.byteLength);
        this.utf8.set(value, this.utf8Length);
        this.utf8Length += value.byteLength;
      }
      this.offsets[row + 1] = this.utf8Length;
    }
  }

  private widenInt64ToFloat64(): void {
    for (let row = 0; row < this.length; row++) {
      const low = this.valuesI32[row * 2] as number; // row < length: two words per row
      const high = this.valuesI32[row * 2 + 1] as number;
      this.valuesF64[row] = high * 4294967296 + (low >>> 0);
    }
    this.type = ColumnType.float64;
  }

  private zeroSlot(row: number): void {
    if (this.type === ColumnType.bool) {
      const byte = row >>> 3;
      this.values[byte] = (this.values[byte] as number) & ~(1 << (row & 7)); // row < capacityRows
    } else if (this.type !== ColumnType.utf8) {
      this.valuesF64[row] = 0;
    }
  }

  /**
   * The validity bitmap is only kept once the column has a null: until then every row is valid
   * and appends skip the bitmap. The first null marks all earlier rows valid in one fill.
   */
  private setValid(row: number, valid: boolean): void {
    if (valid && this.nullCount === 0) return;
    if (!valid && this.nullCount === 0) this.validity.fill(0xff, 0, (row + 8) >>> 3);
    const byte = row >>> 3;
    const bit = 1 << (row & 7);
    const current = this.validity[byte] as number; // row < capacityRows
    this.validity[byte] = valid ? current | bit : current & ~bit;
  }

  /** Marks `count` rows from `firstRow` valid (a bitmap exists only once the column has a null). */
  private markValid(firstRow: number, count: number): void {
    if (this.nullCount === 0) return;
    for (let row = firstRow; row < firstRow + count; row++) this.setValid(row, true);
  }

  private reserveRow(): void {
    if (this.length < this.capacityRows) return;
    this.grow(this.capacityRows * 2);
  }

  /** Makes room for `rowCount` more rows at once (columnar input knows its length). */
  reserveRows(rowCount: number): void {
    const rowsNeeded = this.length + rowCount;
    if (rowsNeeded <= this.capacityRows) return;
    let capacity = this.capacityRows;
    while (capacity < rowsNeeded) capacity *= 2;
    this.grow(capacity);
  }

  private grow(capacityRows: number): void {
    this.values = growBytes(this.values, capacityRows * 8);
    this.valuesI32 = new Int32Array(this.values.buffer);
    this.valuesF64 = new Float64Array(this.values.buffer);
    this.validity = growBytes(this.validity, (capacityRows + 7) >>> 3);
    if (capacityRows + 1 > this.offsets.length) {
      const grown = new Int32Array(capacityRows + 1);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    // What the reads `as number` above rely on: room for every row below capacityRows.
    assert.ok(this.valuesF64.length >= capacityRows, 'eight value bytes per row');
    assert.ok(this.validity.length * 8 >= capacityRows, 'a validity bit per row');
    assert.ok(this.offsets.length > capacityRows, 'one offset per row and one past the end');
    this.capacityRows = capacityRows;
  }
}
