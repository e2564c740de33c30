import { answerBody } from './answer-buffers.js';
import type { EncodedAnswer } from './json-answer.js';
import { ColumnKind, ColumnView, fallbackValue, locateVarchar, planColumn, writeUnquotedValue } from './json-columns.js';
import type { ColumnPlan } from './json-columns.js';
import { JsonWriter, answerTooLarge } from './json-writer.js';
import { JSON_ANSWER_BYTES_MAX } from './limits.js';
import { forEachChunk, roundedMs } from './result-chunks.js';
import type { AnswerRows } from './result-chunks.js';

/** Arrow's names for the types the msgpack answer reports (pyarrow's spelling). */
const TYPE_NAME_BY_KIND: ReadonlyMap<ColumnKind, string> = new Map<ColumnKind, string>([
  [ColumnKind.boolean, 'bool'],
  [ColumnKind.int8, 'int8'],
  [ColumnKind.int16, 'int16'],
  [ColumnKind.int32, 'int32'],
  [ColumnKind.uint8, 'uint8'],
  [ColumnKind.uint16, 'uint16'],
  [ColumnKind.uint32, 'uint32'],
  [ColumnKind.int64, 'int64'],
  [ColumnKind.uint64, 'uint64'],
  [ColumnKind.float, 'float'],
  [ColumnKind.double, 'double'],
  [ColumnKind.varchar, 'string'],
  [ColumnKind.blob, 'binary'],
  [ColumnKind.date, 'date32[day]'],
  [ColumnKind.timestampMicros, 'timestamp[us, tz=UTC]'],
  [ColumnKind.timestampSeconds, 'timestamp[s, tz=UTC]'],
  [ColumnKind.timestampMillis, 'timestamp[ms, tz=UTC]'],
  [ColumnKind.timestampNanos, 'timestamp[ns, tz=UTC]'],
]);

/** The type of the kinds missing above: their values are sent as text (see encodeMsgpackAnswer). */
const TEXT_TYPE_NAME = 'string';

/** Kinds whose values are signed 64-bit integers: msgpack int64 beyond 32 bits. */
const WIDE_INTEGER_KINDS: ReadonlySet<ColumnKind> = new Set<ColumnKind>([
  ColumnKind.int64, ColumnKind.timestampMicros, ColumnKind.timestampSeconds, ColumnKind.timestampMillis, ColumnKind.timestampNanos,
]);

/** msgpack format bytes (https://github.com/msgpack/msgpack/blob/master/spec.md). */
const NIL = 0xc0;
const FALSE = 0xc2;
const TRUE = 0xc3;
const BIN8 = 0xc4;
const BIN32 = 0xc6;
const FLOAT32 = 0xca;
const FLOAT64 = 0xcb;
const UINT8 = 0xcc;
const UINT16 = 0xcd;
const UINT32 = 0xce;
const UINT64 = 0xcf;
const INT8 = 0xd0;
const INT16 = 0xd1;
const INT32 = 0xd2;
const INT64 = 0xd3;
const STR8 = 0xd9;
const STR32 = 0xdb;
const ARRAY32 = 0xdd;
const FIXSTR = 0xa0;
const FIXARRAY = 0x90;
const FIXMAP = 0x80;
/** Bytes of the longest single number written: a format byte and 8 bytes. */
const NUMBER_BYTES_MAX = 9;

/** The columnar msgpack answer (Arc Go's shape), as clients decode it. */
export interface MsgpackQueryAnswer {
  readonly success: boolean;
  readonly columns: string[];
  /** Arrow type names of the columns. */
  readonly types: string[];
  /** Column-major: data[i] holds the values of columns[i]. */
  readonly data: unknown[][];
  readonly row_count: number;
  readonly execution_time_ms: number;
  readonly timestamp: string;
}

/**
 * Builds Arc Go's columnar msgpack answer
 *   {success, columns, types, data: [[values of column 0], ...], row_count, execution_time_ms, timestamp}
 * written byte by byte from the vectors: each column's values go into a writer of their own (the
 * answer is column-major, the result arrives row chunks), and the pieces are joined at the end.
 * `types` are Arrow type names and values are Arrow's physical values, so nothing is parsed:
 * - timestamps are integers counted in the type's unit since 1970-01-01 UTC (µs for Arc's
 *   `time`), DATE an integer count of days; msgpack integers, never floats;
 * - BIGINT / UBIGINT and timestamps: within 32 bits the smallest msgpack integer, beyond it
 *   int64 / uint64 (msgpackr reads those back as BigInt unless told `int64AsType: 'number'`);
 * - DOUBLE is float64 and keeps NaN and ±Infinity; FLOAT is float32; NULL is nil;
 * - VARCHAR is str (the UTF-8 bytes as DuckDB holds them), BLOB is bin (type `binary`);
 * - kinds Arrow names no type for here (HUGEINT, DECIMAL, TIME, UUID, LIST, ...) are the CSV
 *   answer's text for the value, typed `string`.
 * At most `rowLimit` rows; null when cancelled between chunks.
 */
export async function encodeMsgpackAnswer(result: AnswerRows, startedAtMs: number, rowLimit: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  const columns: MsgpackColumn[] = [];
  for (let column = 0; column < result.columnCount; column++) columns.push(new MsgpackColumn(column, planColumn(result.columnType(column))));
  try {
    const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => {
      for (const column of columns) {
        column.view.load(chunk, column.index, column.plan, rows);
        column.append(rows);
      }
    });
    if (rowCount === null) return null;
    const head = new JsonWriter(new Uint8Array(4096));
    writeHead(head, result, columns);
    const tail = new JsonWriter(new Uint8Array(256));
    writeTail(tail, rowCount, performance.now() - startedAtMs);
    return { body: join(head, columns, rowCount, tail), rowCount };
  } finally {
    for (const column of columns) column.values.recycle();
  }
}

/** `{"success": true, "columns": [...], "types": [...], "data": [` up to the first column's array. */
function writeHead(out: JsonWriter, result: AnswerRows, columns: readonly MsgpackColumn[]): void {
  out.byte(FIXMAP | 7);
  writeString(out, 'success');
  out.byte(TRUE);
  writeString(out, 'columns');
  writeArrayHeader(out, columns.length);
  for (const column of columns) writeString(out, result.columnName(column.index));
  writeString(out, 'types');
  writeArrayHeader(out, columns.length);
  for (const column of columns) writeString(out, TYPE_NAME_BY_KIND.get(column.plan.kind) ?? TEXT_TYPE_NAME);
  writeString(out, 'data');
  writeArrayHeader(out, columns.length);
}

function writeTail(out: JsonWriter, rowCount: number, elapsedMs: number): void {
  writeString(out, 'row_count');
  putInteger(out, rowCount);
  writeString(out, 'execution_time_ms');
  putFloat64(out, roundedMs(elapsedMs));
  writeString(out, 'timestamp');
  writeString(out, new Date().toISOString());
}

/** The answer in one buffer: head, each column as an array32 of its values, tail. */
function join(head: JsonWriter, columns: readonly MsgpackColumn[], rowCount: number, tail: JsonWriter): Uint8Array {
  let total = head.length + tail.length;
  for (const column of columns) total += 5 + column.values.totalLength;
  if (total > JSON_ANSWER_BYTES_MAX) throw answerTooLarge();
  const body = answerBody(total);
  let at = head.copyTo(body, 0);
  for (const column of columns) {
    body[at] = ARRAY32;
    new DataView(body.buffer, body.byteOffset + at + 1, 4).setUint32(0, rowCount);
    at = column.values.copyTo(body, at + 5);
  }
  tail.copyTo(body, at);
  return body;
}

function writeArrayHeader(out: JsonWriter, count: number): void {
  if (count < 16) {
    out.byte(FIXARRAY | count);
    return;
  }
  out.reserve(5);
  out.putByte(ARRAY32);
  putUint32(out, count);
}

function writeString(out: JsonWriter, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  writeStringBytes(out, bytes, 0, bytes.length);
}

/** A msgpack str (or, with `binary`, bin) of `source[start..end)`. */
function writeStringBytes(out: JsonWriter, source: Uint8Array, start: number, end: number, binary = false): void {
  const length = end - start;
  out.reserve(length + 5);
  if (binary) {
    if (length < 256) {
      out.putByte(BIN8);
      out.putByte(length);
    } else {
      out.putByte(BIN32);
      putUint32(out, length);
    }
  } else if (length < 32) {
    out.putByte(FIXSTR | length);
  } else if (length < 256) {
    out.putByte(STR8);
    out.putByte(length);
  } else {
    out.putByte(STR32);
    putUint32(out, length);
  }
  if (length > 64) {
    out.bytes.set(source.subarray(start, end), out.length);
    out.length += length;
  } else {
    out.putBytes(source, start, end);
  }
}

/** Big-endian uint32 without a capacity check. */
function putUint32(out: JsonWriter, value: number): void {
  out.putByte((value >>> 24) & 0xff);
  out.putByte((value >>> 16) & 0xff);
  out.putByte((value >>> 8) & 0xff);
  out.putByte(value & 0xff);
}

/** The smallest msgpack integer for a value within ±2^32 (what msgpackr writes for it). */
function putInteger(out: JsonWriter, value: number): void {
  out.reserve(NUMBER_BYTES_MAX);
  if (value >= 0) {
    if (value < 128) out.putByte(value);
    else if (value < 256) {
      out.putByte(UINT8);
      out.putByte(value);
    } else if (value < 65_536) {
      out.putByte(UINT16);
      out.putByte(value >>> 8);
      out.putByte(value & 0xff);
    } else {
      out.putByte(UINT32);
      putUint32(out, value);
    }
    return;
  }
  if (value >= -32) out.putByte(value & 0xff);
  else if (value >= -128) {
    out.putByte(INT8);
    out.putByte(value & 0xff);
  } else if (value >= -32_768) {
    out.putByte(INT16);
    out.putByte((value >>> 8) & 0xff);
    out.putByte(value & 0xff);
  } else {
    out.putByte(INT32);
    putUint32(out, value >>> 0);
  }
}

const float64 = new Float64Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const float32 = new Float32Array(1);
const float32Bytes = new Uint8Array(float32.buffer);

// The scratch bytes below hold one float64 (8 bytes) and one float32 (4 bytes): the loops' indexes
// stay inside them, so the reads are `as number`.

/** A msgpack float64 (big-endian; the machine is little-endian, as DuckDB's vectors assume). */
function putFloat64(out: JsonWriter, value: number): void {
  float64[0] = value;
  out.reserve(NUMBER_BYTES_MAX);
  out.putByte(FLOAT64);
  for (let index = 7; index >= 0; index--) out.putByte(float64Bytes[index] as number);
}

function putFloat32(out: JsonWriter, value: number): void {
  float32[0] = value;
  out.reserve(5);
  out.putByte(FLOAT32);
  for (let index = 3; index >= 0; index--) out.putByte(float32Bytes[index] as number);
}

/** A msgpack int64 / uint64 from little-endian words, written big-endian. */
function putWide(out: JsonWriter, format: number, low: number, high: number): void {
  out.reserve(NUMBER_BYTES_MAX);
  out.putByte(format);
  putUint32(out, high >>> 0);
  putUint32(out, low >>> 0);
}

/** One column: its chunk view and the msgpack bytes of its values so far. */
class MsgpackColumn {
  readonly index: number;
  readonly plan: ColumnPlan;
  readonly view = new ColumnView();
  readonly values = JsonWriter.onKeptBlocks();
  private readonly text = new JsonWriter(new Uint8Array(256));

  constructor(index: number, plan: ColumnPlan) {
    this.index = index;
    this.plan = plan;
  }

  /**
   * Appends the values of the loaded chunk's first `rowCount` rows: the view was loaded with that
   * many rows, so the reads by row are in bounds (json-columns.ts asserts it at load).
   */
  append(rowCount: number): void {
    const view = this.view;
    const out = this.values;
    const validity = view.validity;
    for (let row = 0; row < rowCount; row++) {
      if (validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0) {
        out.byte(NIL);
        continue;
      }
      this.appendValue(out, view, row);
    }
  }

  private appendValue(out: JsonWriter, view: ColumnView, row: number): void {
    const kind = view.kind;
    if (kind === ColumnKind.double) putFloat64(out, view.float64[row] as number);
    else if (WIDE_INTEGER_KINDS.has(kind)) appendInt64(out, view.uint32[row * 2] as number, view.uint32[row * 2 + 1] as number);
    else if (kind === ColumnKind.varchar || kind === ColumnKind.blob) appendString(out, view, row, kind === ColumnKind.blob);
    else if (kind === ColumnKind.uint64) appendUint64(out, view.uint32[row * 2] as number, view.uint32[row * 2 + 1] as number);
    else if (TYPE_NAME_BY_KIND.has(kind)) appendSmall(out, view, row);
    else this.appendText(out, view, row);
  }

  /** Kinds sent as their text: DuckDB's for `other` and nested kinds, the CSV answer's for the rest. */
  private appendText(out: JsonWriter, view: ColumnView, row: number): void {
    if (view.kind === ColumnKind.other || view.kind === ColumnKind.nested) {
      // A NULL never gets here (append checks the validity first); nil keeps it a NULL if it did.
      const value = fallbackValue(view, row);
      if (value === null) out.byte(NIL);
      else writeString(out, String(value));
      return;
    }
    const text = this.text;
    text.clear();
    writeUnquotedValue(text, view, row);
    writeStringBytes(out, text.bytes, 0, text.length);
  }
}

function appendInt64(out: JsonWriter, low: number, high: number): void {
  if (high === 0 && low <= 0x7fff_ffff) putInteger(out, low);
  else if (high === 0xffff_ffff && low >= 0x8000_0000) putInteger(out, low - WORD);
  else putWide(out, INT64, low, high);
}

function appendUint64(out: JsonWriter, low: number, high: number): void {
  if (high === 0) putInteger(out, low);
  else putWide(out, UINT64, low, high);
}

const WORD = 4_294_967_296;

function appendString(out: JsonWriter, view: ColumnView, row: number, binary: boolean): void {
  const length = view.uint32[row * 4] as number;
  if (length <= 12) {
    writeStringBytes(out, view.bytes, row * 16 + 4, row * 16 + 4 + length, binary);
    return;
  }
  locateVarchar(view, row);
  writeStringBytes(out, view.text, view.textStart, view.textEnd, binary);
}

/** Booleans, small integers, FLOAT and DATE. */
function appendSmall(out: JsonWriter, view: ColumnView, row: number): void {
  switch (view.kind) {
    case ColumnKind.boolean: out.byte((view.bytes[row] as number) === 0 ? FALSE : TRUE); return;
    case ColumnKind.int8: putInteger(out, view.int8[row] as number); return;
    case ColumnKind.int16: putInteger(out, view.int16[row] as number); return;
    case ColumnKind.uint8: putInteger(out, view.bytes[row] as number); return;
    case ColumnKind.uint16: putInteger(out, view.uint16[row] as number); return;
    case ColumnKind.uint32: putInteger(out, view.uint32[row] as number); return;
    case ColumnKind.float: putFloat32(out, view.float32[row] as number); return;
    default: putInteger(out, view.int32[row] as number);
  }
}
