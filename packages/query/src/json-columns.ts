import assert from 'node:assert/strict';
import duckdb from '@duckdb/node-bindings';
import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBType, DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import type { JsonWriter } from './json-writer.js';
import { int128Value, writeDoubleWords, writeFloat, writeInt128, writeInt64, writeScaled, writeUint64 } from './json-numbers.js';
import { writeBase64, writeDuckDBValue } from './json-values.js';
import { MemoryChunk } from './result-chunks.js';
import type { AnswerChunk } from './result-chunks.js';
import { StringRuns } from './string-runs.js';
import { InstantCache, writeDateOrInfinity, writeMicros, writeSeconds, writeTimestampCount } from './time-format.js';

/** How a column's values are read from a DuckDB vector and written as JSON. */
export const ColumnKind = {
  boolean: 0,
  int8: 1,
  int16: 2,
  int32: 3,
  uint8: 4,
  uint16: 5,
  uint32: 6,
  int64: 7,
  uint64: 8,
  int128: 9,
  uint128: 10,
  float: 11,
  double: 12,
  varchar: 13,
  date: 14,
  timestampMicros: 15,
  timestampSeconds: 16,
  timestampMillis: 17,
  timestampNanos: 18,
  decimal16: 19,
  decimal32: 20,
  decimal64: 21,
  decimal128: 22,
  /** Everything else (TIME, INTERVAL, UUID, ENUM, BIT...): DuckDB's text for the value. */
  other: 23,
  /** BLOB: the bytes, base64 (RFC 4648, with padding). */
  blob: 24,
  /** LIST, ARRAY, STRUCT, MAP, UNION: JSON arrays and objects of their values (json-values.ts). */
  nested: 25,
} as const;
export type ColumnKind = (typeof ColumnKind)[keyof typeof ColumnKind];

/** Bytes per value in the vector's data buffer, by kind (0: not read as raw data); total over the kinds. */
export const VALUE_BYTES: Readonly<Record<ColumnKind, number>> = {
  [ColumnKind.boolean]: 1,
  [ColumnKind.int8]: 1,
  [ColumnKind.int16]: 2,
  [ColumnKind.int32]: 4,
  [ColumnKind.uint8]: 1,
  [ColumnKind.uint16]: 2,
  [ColumnKind.uint32]: 4,
  [ColumnKind.int64]: 8,
  [ColumnKind.uint64]: 8,
  [ColumnKind.int128]: 16,
  [ColumnKind.uint128]: 16,
  [ColumnKind.float]: 4,
  [ColumnKind.double]: 8,
  [ColumnKind.varchar]: 16,
  [ColumnKind.date]: 4,
  [ColumnKind.timestampMicros]: 8,
  [ColumnKind.timestampSeconds]: 8,
  [ColumnKind.timestampMillis]: 8,
  [ColumnKind.timestampNanos]: 8,
  [ColumnKind.decimal16]: 2,
  [ColumnKind.decimal32]: 4,
  [ColumnKind.decimal64]: 8,
  [ColumnKind.decimal128]: 16,
  [ColumnKind.other]: 0,
  [ColumnKind.blob]: 16,
  [ColumnKind.nested]: 0,
};

const WORD = 4_294_967_296;
const SAFE_HIGH_WORD = 0x20_0000;

/** The names and types of a result's columns (a DuckDBResult has them). */
export interface ResultColumns {
  readonly columnCount: number;
  columnName(index: number): string;
  columnType(index: number): DuckDBType;
}

export interface ColumnPlan {
  readonly kind: ColumnKind;
  /** Digits after the point for DECIMAL columns; 0 otherwise. */
  readonly scale: number;
  /** The column's DuckDB type (nested values are written by walking it). */
  readonly type: DuckDBType;
}

export function planColumn(type: DuckDBType): ColumnPlan {
  if (type.typeId === DuckDBTypeId.DECIMAL) {
    if (type.width <= 4) return { kind: ColumnKind.decimal16, scale: type.scale, type };
    if (type.width <= 9) return { kind: ColumnKind.decimal32, scale: type.scale, type };
    if (type.width <= 18) return { kind: ColumnKind.decimal64, scale: type.scale, type };
    return { kind: ColumnKind.decimal128, scale: type.scale, type };
  }
  // Types the map does not name are `other` (DuckDB's text for the value), by ColumnKind's definition.
  return { kind: KIND_BY_TYPE_ID.get(type.typeId) ?? ColumnKind.other, scale: 0, type };
}

const KIND_BY_TYPE_ID: ReadonlyMap<DuckDBTypeId, ColumnKind> = new Map<DuckDBTypeId, ColumnKind>([
  [DuckDBTypeId.BOOLEAN, ColumnKind.boolean],
  [DuckDBTypeId.TINYINT, ColumnKind.int8],
  [DuckDBTypeId.SMALLINT, ColumnKind.int16],
  [DuckDBTypeId.INTEGER, ColumnKind.int32],
  [DuckDBTypeId.UTINYINT, ColumnKind.uint8],
  [DuckDBTypeId.USMALLINT, ColumnKind.uint16],
  [DuckDBTypeId.UINTEGER, ColumnKind.uint32],
  [DuckDBTypeId.BIGINT, ColumnKind.int64],
  [DuckDBTypeId.UBIGINT, ColumnKind.uint64],
  [DuckDBTypeId.HUGEINT, ColumnKind.int128],
  [DuckDBTypeId.UHUGEINT, ColumnKind.uint128],
  [DuckDBTypeId.FLOAT, ColumnKind.float],
  [DuckDBTypeId.DOUBLE, ColumnKind.double],
  [DuckDBTypeId.VARCHAR, ColumnKind.varchar],
  [DuckDBTypeId.DATE, ColumnKind.date],
  [DuckDBTypeId.TIMESTAMP, ColumnKind.timestampMicros],
  [DuckDBTypeId.TIMESTAMP_TZ, ColumnKind.timestampMicros],
  [DuckDBTypeId.TIMESTAMP_S, ColumnKind.timestampSeconds],
  [DuckDBTypeId.TIMESTAMP_MS, ColumnKind.timestampMillis],
  [DuckDBTypeId.TIMESTAMP_NS, ColumnKind.timestampNanos],
  [DuckDBTypeId.BLOB, ColumnKind.blob],
  [DuckDBTypeId.LIST, ColumnKind.nested],
  [DuckDBTypeId.ARRAY, ColumnKind.nested],
  [DuckDBTypeId.STRUCT, ColumnKind.nested],
  [DuckDBTypeId.MAP, ColumnKind.nested],
  [DuckDBTypeId.UNION, ColumnKind.nested],
]);

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_ENTRIES = new DataView(new ArrayBuffer(0));
/** A view's arrays before its first load, shared: a load replaces them, nothing writes into them. */
const EMPTY_VIEWS = {
  int8: new Int8Array(0),
  int16: new Int16Array(0),
  int32: new Int32Array(0),
  uint16: new Uint16Array(0),
  uint32: new Uint32Array(0),
  float32: new Float32Array(0),
  float64: new Float64Array(0),
} as const;

/**
 * One column of one chunk: typed-array views straight onto DuckDB's vector memory (no copy, no
 * value objects). Every field exists on every instance so the row loop sees one object shape;
 * each `switch` case then reads one typed-array kind and stays monomorphic.
 */
export class ColumnView {
  kind: ColumnKind = ColumnKind.other;
  scale = 0;
  type: DuckDBType | null = null;
  /** The last whole second this column wrote, for timestamps (see InstantCache). */
  readonly instants = new InstantCache();
  validity: Uint8Array | null = null;
  bytes: Uint8Array = EMPTY_BYTES;
  int8: Int8Array = EMPTY_VIEWS.int8;
  int16: Int16Array = EMPTY_VIEWS.int16;
  int32: Int32Array = EMPTY_VIEWS.int32;
  uint16: Uint16Array = EMPTY_VIEWS.uint16;
  uint32: Uint32Array = EMPTY_VIEWS.uint32;
  float32: Float32Array = EMPTY_VIEWS.float32;
  float64: Float64Array = EMPTY_VIEWS.float64;
  fallback: DuckDBVector | null = null;
  /** The VARCHAR / BLOB string_t entries as a DataView, to copy inline values four bytes at a time. */
  entries: DataView = EMPTY_ENTRIES;
  /** Where the last VARCHAR value `locateVarchar` found lives: `text[textStart..textEnd)`. */
  text: Uint8Array = EMPTY_BYTES;
  textStart = 0;
  textEnd = 0;
  /** The chunk's long VARCHAR / BLOB values, read a run at a time (see string-runs.ts). */
  readonly longStrings = new StringRuns();

  /** Points the view at column `column` of `chunk`, which has `rowCount` rows. */
  load(chunk: AnswerChunk, column: number, plan: ColumnPlan, rowCount: number): void {
    this.kind = plan.kind;
    this.scale = plan.scale;
    this.type = plan.type;
    this.fallback = null;
    const valueBytes = VALUE_BYTES[plan.kind];
    if (chunk instanceof MemoryChunk) {
      // A memory chunk holds fixed-width kinds only (series-answer.ts), in the vectors' layout.
      assert.ok(valueBytes > 0 && plan.kind !== ColumnKind.varchar && plan.kind !== ColumnKind.blob, 'a memory chunk column is fixed-width');
      this.validity = chunk.columnValidity[column] ?? null;
      const bytes = chunk.columnBytes[column];
      assert.ok(bytes !== undefined && bytes.length >= rowCount * valueBytes, 'the memory chunk holds every row');
      this.bytes = bytes.subarray(0, rowCount * valueBytes);
      this.makeViews(valueBytes, rowCount);
      return;
    }
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
    // The validity mask is an array of uint64 words, bit i = row i; null means "all valid".
    const validity = duckdb.vector_get_validity(vector, Math.ceil(rowCount / 64) * 8) as Uint8Array | null;
    this.validity = validity;
    assert.ok(validity === null || validity.length * 8 >= rowCount, 'a validity bit for every row');
    if (valueBytes === 0) {
      this.fallback = chunk.getColumnVector(column);
      return;
    }
    this.bytes = rowCount === 0 ? EMPTY_BYTES : duckdb.vector_get_data(vector, rowCount * valueBytes);
    assert.equal(this.bytes.length, rowCount * valueBytes, 'the data vector holds every row');
    this.makeViews(valueBytes, rowCount);
    if (plan.kind === ColumnKind.varchar || plan.kind === ColumnKind.blob) this.longStrings.prepare(this.uint32, validity, rowCount);
  }

  isNull(row: number): boolean {
    const validity = this.validity;
    if (validity === null) return false;
    return (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0;
  }

  private makeViews(valueBytes: number, rowCount: number): void {
    const { buffer, byteOffset } = this.bytes;
    const words = (rowCount * valueBytes) / 4;
    switch (this.kind) {
      case ColumnKind.int8:
        this.int8 = new Int8Array(buffer, byteOffset, rowCount);
        return;
      case ColumnKind.int16:
      case ColumnKind.decimal16:
        this.int16 = new Int16Array(buffer, byteOffset, rowCount);
        return;
      case ColumnKind.uint16:
        this.uint16 = new Uint16Array(buffer, byteOffset, rowCount);
        return;
      case ColumnKind.int32:
      case ColumnKind.date:
      case ColumnKind.decimal32:
        this.int32 = new Int32Array(buffer, byteOffset, rowCount);
        return;
      case ColumnKind.float:
        this.float32 = new Float32Array(buffer, byteOffset, rowCount);
        return;
      case ColumnKind.double:
        // The words too: the text cache of doubles is keyed by their bits.
        this.float64 = new Float64Array(buffer, byteOffset, rowCount);
        this.uint32 = new Uint32Array(buffer, byteOffset, rowCount * 2);
        return;
      case ColumnKind.varchar:
      case ColumnKind.blob:
        this.uint32 = new Uint32Array(buffer, byteOffset, words);
        this.entries = new DataView(buffer, byteOffset, words * 4);
        return;
      default:
        // 32-bit unsigned words serve uint32, every 64- and 128-bit kind and the VARCHAR lengths.
        if (valueBytes >= 4) this.uint32 = new Uint32Array(buffer, byteOffset, words);
    }
  }
}

/** Points each view at its column of `chunk` (first `rowCount` rows). */
export function loadViews(views: readonly ColumnView[], plans: readonly ColumnPlan[], chunk: AnswerChunk, rowCount: number): void {
  for (let column = 0; column < views.length; column++) {
    const plan = plans[column];
    const view = views[column];
    if (plan === undefined || view === undefined) continue;
    view.load(chunk, column, plan, rowCount);
  }
}

// The readers below take a `row` below the `rowCount` the view was loaded with (every caller loops
// `row < rowCount` right after `loadViews`), and `load` asserts that the vectors hold that many
// values and validity bits: their indexed reads are in bounds, hence `as number`, with no check per
// value on this hot path.

/** Writes the value of `view` at `row` as JSON. */
export function writeValue(out: JsonWriter, view: ColumnView, row: number): void {
  const validity = view.validity;
  if (validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0) {
    out.ascii('null');
    return;
  }
  switch (view.kind) {
    // The common kinds of time series first, each a small function V8 can inline on its own.
    case ColumnKind.timestampMicros:
      writeTimestampMicrosAt(out, view, row);
      return;
    case ColumnKind.double:
      writeDoubleWords(out, view.float64[row] as number, view.uint32[row * 2] as number, view.uint32[row * 2 + 1] as number);
      return;
    case ColumnKind.varchar:
      writeVarchar(out, view, row);
      return;
    case ColumnKind.int64:
      writeInt64At(out, view, row);
      return;
    case ColumnKind.boolean:
      out.ascii((view.bytes[row] as number) === 0 ? 'false' : 'true');
      return;
    case ColumnKind.int8:
      out.integer(view.int8[row] as number);
      return;
    case ColumnKind.int16:
      out.integer(view.int16[row] as number);
      return;
    case ColumnKind.int32:
      out.integer(view.int32[row] as number);
      return;
    case ColumnKind.uint8:
      out.integer(view.bytes[row] as number);
      return;
    case ColumnKind.uint16:
      out.integer(view.uint16[row] as number);
      return;
    case ColumnKind.uint32:
      out.integer(view.uint32[row] as number);
      return;
    default:
      writeWideValue(out, view, row);
  }
}

/** Writes the value of `view` at `row` as JSON; the JSON answer calls it for valid rows only. */
export type ValueWriter = (out: JsonWriter, view: ColumnView, row: number) => void;

/** Writes a DOUBLE value of `view` at `row` (a valid row) as JSON. */
function writeDoubleAt(out: JsonWriter, view: ColumnView, row: number): void {
  writeDoubleWords(out, view.float64[row] as number, view.uint32[row * 2] as number, view.uint32[row * 2 + 1] as number);
}

/**
 * The writer of a column's values, chosen once per answer: a function of its own for each kind
 * common in time series, so V8 optimizes (and inlines into) each on its own. Called through one
 * `writeValue` for every column, the kinds' paths shared one function's inlining budget and
 * feedback: a row of six mixed columns cost ~1.7x the sum of the columns written alone.
 */
export function valueWriterFor(kind: ColumnKind): ValueWriter {
  switch (kind) {
    case ColumnKind.timestampMicros: return writeTimestampMicrosAt;
    case ColumnKind.double: return writeDoubleAt;
    case ColumnKind.varchar: return writeVarchar;
    case ColumnKind.int64: return writeInt64At;
    default: return writeValue;
  }
}

/** Writes a TIMESTAMP / TIMESTAMPTZ value of `view` at `row` (a valid row) as JSON. */
function writeTimestampMicrosAt(out: JsonWriter, view: ColumnView, row: number): void {
  const high = (view.uint32[row * 2 + 1] as number) | 0;
  if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) view.instants.writeMicros(out, high * WORD + (view.uint32[row * 2] as number));
  else writeTimeOrDecimal(out, view, row);
}

/** A TIMESTAMP / TIMESTAMPTZ value without JSON's quotes (CSV), with no quote to strip afterwards. */
export function writeUnquotedTimestampMicros(out: JsonWriter, view: ColumnView, row: number): void {
  const high = (view.uint32[row * 2 + 1] as number) | 0;
  if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) view.instants.writeMicros(out, high * WORD + (view.uint32[row * 2] as number), false);
  else writeUnquotedValue(out, view, row);
}

/** Writes a BIGINT value of `view` at `row` (a valid row) as JSON. */
function writeInt64At(out: JsonWriter, view: ColumnView, row: number): void {
  const high = (view.uint32[row * 2 + 1] as number) | 0;
  const low = view.uint32[row * 2] as number;
  // Non-negative values below 2^32 first: the low word alone, no arithmetic on doubles.
  if (high === 0) out.integer(low);
  else if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) out.integer(high * WORD + low);
  else writeInt64(out, low, high);
}

/** Room reserved before an unquoted value: every kind `writeUnquotedValue` takes fits (a 128-bit decimal is 42 bytes). */
const UNQUOTED_VALUE_BYTES_MAX = 64;

/**
 * The JSON form of a value without the quotes JSON puts around timestamps, dates, big integers
 * and decimals (for CSV fields and Arrow / msgpack text). Not for VARCHAR, BLOB, nested or
 * `other` kinds: their JSON form is escaped.
 */
export function writeUnquotedValue(out: JsonWriter, view: ColumnView, row: number): void {
  // One reserve first, so the value cannot straddle two blocks of a scratch writer.
  out.reserve(UNQUOTED_VALUE_BYTES_MAX);
  const start = out.length;
  writeValue(out, view, row);
  const bytes = out.bytes;
  if (bytes[start] !== 0x22) return;
  bytes.copyWithin(start, start + 1, out.length - 1);
  out.length -= 2;
}

/** 64- and 128-bit kinds, strings, times and decimals (split off to keep functions short). */
function writeWideValue(out: JsonWriter, view: ColumnView, row: number): void {
  const words = view.uint32;
  switch (view.kind) {
    case ColumnKind.uint64:
      writeUint64(out, words[row * 2] as number, words[row * 2 + 1] as number);
      return;
    case ColumnKind.int128:
    case ColumnKind.uint128:
      writeInt128(out, words[row * 4] as number, words[row * 4 + 1] as number, words[row * 4 + 2] as number, words[row * 4 + 3] as number, view.kind === ColumnKind.int128);
      return;
    case ColumnKind.float:
      writeFloat(out, view.float32[row] as number);
      return;
    case ColumnKind.blob:
      locateVarchar(view, row);
      writeBase64(out, view.text, view.textStart, view.textEnd);
      return;
    case ColumnKind.date:
      writeDateOrInfinity(out, view.int32[row] as number);
      return;
    default:
      writeTimeOrDecimal(out, view, row);
  }
}

function writeTimeOrDecimal(out: JsonWriter, view: ColumnView, row: number): void {
  const low = view.uint32[row * 2] as number;
  const high = (view.uint32[row * 2 + 1] as number) | 0;
  switch (view.kind) {
    case ColumnKind.timestampMicros:
      if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) writeMicros(out, high * WORD + low);
      else writeBigTimestampWords(out, low, high, 1_000_000n, 6);
      return;
    case ColumnKind.timestampSeconds:
      if (high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD) writeSeconds(out, high * WORD + low, 0, 0);
      else writeBigTimestampWords(out, low, high, 1n, 0);
      return;
    case ColumnKind.timestampMillis:
      writeBigTimestampWords(out, low, high, 1_000n, 3);
      return;
    case ColumnKind.timestampNanos:
      writeBigTimestampWords(out, low, high, 1_000_000_000n, 9);
      return;
    case ColumnKind.decimal16:
      writeScaled(out, view.int16[row] as number, view.scale);
      return;
    case ColumnKind.decimal32:
      writeScaled(out, view.int32[row] as number, view.scale);
      return;
    default:
      writeDecimalOrOther(out, view, row, low, high);
  }
}

function writeDecimalOrOther(out: JsonWriter, view: ColumnView, row: number, low: number, high: number): void {
  if (view.kind === ColumnKind.decimal64) {
    const small = high >= -SAFE_HIGH_WORD && high < SAFE_HIGH_WORD;
    writeScaled(out, small ? high * WORD + low : (BigInt(high) << 32n) | BigInt(low), view.scale);
    return;
  }
  if (view.kind === ColumnKind.decimal128) {
    const words = view.uint32;
    const value = int128Value(words[row * 4] as number, words[row * 4 + 1] as number, words[row * 4 + 2] as number, words[row * 4 + 3] as number, true);
    writeScaled(out, value, view.scale);
    return;
  }
  const value = fallbackValue(view, row);
  if (value === null) out.ascii('null');
  else if (view.kind === ColumnKind.nested && view.type !== null) writeDuckDBValue(out, view.type, value);
  else out.string(String(value));
}

/** The value of a column read through DuckDB's value objects (kinds `other` and `nested`); null when NULL. */
export function fallbackValue(view: ColumnView, row: number): DuckDBValue {
  assert.ok(view.fallback !== null, 'kinds without raw data are read through their vector');
  return view.fallback.getItem(row);
}

/**
 * VARCHAR values are 16-byte `string_t`: a uint32 length, then up to 12 bytes inline, or for
 * longer strings a 4-byte prefix and a pointer to the bytes at offset 8.
 *
 *   0        4                 16
 *   | length | inline bytes... |          length <= 12
 *   | length | prefix | pointer |          length > 12
 *
 * Points the view's `text` fields at the value's UTF-8 bytes (in place when inline).
 */
export function locateVarchar(view: ColumnView, row: number): void {
  const length = view.uint32[row * 4] as number;
  const offset = row * 16;
  if (length <= 12) {
    view.text = view.bytes;
    view.textStart = offset + 4;
    view.textEnd = offset + 4 + length;
    return;
  }
  const run = view.longStrings.runOf(row);
  if (run !== undefined) {
    view.text = run;
    view.textStart = view.longStrings.offsetOf(row);
    view.textEnd = view.textStart + length;
    return;
  }
  view.text = duckdb.get_data_from_pointer(view.bytes.buffer as ArrayBuffer, view.bytes.byteOffset + offset + 8, length);
  view.textStart = 0;
  view.textEnd = length;
}

/** Longest VARCHAR kept inline in its string_t. */
export const INLINE_STRING_BYTES_MAX = 12;

/** Writes a VARCHAR value of `view` at `row` (a valid row) as a JSON string. */
function writeVarchar(out: JsonWriter, view: ColumnView, row: number): void {
  const words = view.uint32;
  const length = words[row * 4] as number;
  if (length > INLINE_STRING_BYTES_MAX) {
    writeLongVarchar(out, view, row, length);
    return;
  }
  const first = words[row * 4 + 1] as number;
  const second = words[row * 4 + 2] as number;
  const third = words[row * 4 + 3] as number;
  const slot = inlineTextSlot(length, first, second, third);
  const start = row * 16 + 4;
  if (inlineTexts[slot] === length && inlineTexts[slot + 1] === first && inlineTexts[slot + 2] === second && inlineTexts[slot + 3] === third) {
    // A string_t seen before with no byte to escape: the quotes and its three inline words as they
    // are (the bytes after a shorter text are overwritten by the closing quote and what follows).
    out.reserve(INLINE_STRING_BYTES_MAX + 2);
    const at = out.length;
    out.putByte(0x22);
    out.putWord(first);
    out.putWord(second);
    out.putWord(third);
    out.length = at + 1 + length;
    out.putByte(0x22);
    return;
  }
  const before = out.totalLength;
  out.utf8String(view.bytes, start, start + length);
  // No byte was escaped when the text is the bytes and two quotes.
  if (out.totalLength - before !== length + 2) return;
  inlineTexts[slot] = length;
  inlineTexts[slot + 1] = first;
  inlineTexts[slot + 2] = second;
  inlineTexts[slot + 3] = third;
}

/** A VARCHAR value of more than 12 bytes: from its chunk's runs four bytes at a time when gathered. */
function writeLongVarchar(out: JsonWriter, view: ColumnView, row: number, length: number): void {
  const runs = view.longStrings;
  const run = runs.runOf(row);
  if (run === undefined) {
    locateVarchar(view, row);
    out.utf8String(view.text, view.textStart, view.textEnd);
    return;
  }
  const start = runs.offsetOf(row);
  out.utf8StringByWords(run, runs.runWordsOf(row), start, start + length);
}

/**
 * Inline VARCHAR values (the 16 bytes of their string_t: length and bytes) known to need no JSON
 * escape, direct-mapped by a hash of their words: tags repeat a few values, which are then copied
 * four bytes at a time without looking at each byte. Keyed by the whole entry, so a hit is the
 * same length and bytes (whatever DuckDB leaves after a short string only makes it miss).
 * 4,096 entries of 4 words: 64 KiB.
 */
const INLINE_TEXT_ENTRIES = 4096;
const INLINE_TEXT_SHIFT = 32 - Math.log2(INLINE_TEXT_ENTRIES);
const inlineTexts = new Uint32Array(INLINE_TEXT_ENTRIES * 4);
// An empty entry (all zero) is the empty string, which needs no escape: it is a correct entry.

/** The first word of the entry for a string_t's words; below `inlineTexts.length - 3`. */
function inlineTextSlot(length: number, first: number, second: number, third: number): number {
  return ((Math.imul(first ^ length, 0x9e37_79b1) ^ Math.imul(second ^ third, 0x85eb_ca6b)) >>> INLINE_TEXT_SHIFT) * 4;
}

function writeBigTimestampWords(out: JsonWriter, low: number, high: number, unitsPerSecond: bigint, digits: number): void {
  writeTimestampCount(out, (BigInt(high) << 32n) | BigInt(low), unitsPerSecond, digits);
}
