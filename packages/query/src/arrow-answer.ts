import type { EncodedAnswer } from './json-answer.js';
import { ColumnKind, ColumnView, INLINE_STRING_BYTES_MAX, VALUE_BYTES, fallbackValue, locateVarchar, planColumn, writeUnquotedValue } from './json-columns.js';
import type { ColumnPlan } from './json-columns.js';
import { JsonWriter } from './json-writer.js';
import { forEachChunk } from './result-chunks.js';
import type { AnswerChunk, AnswerRows } from './result-chunks.js';
import { ArrowTimeUnit, ArrowTypeTag, CONTINUATION, padded, recordBatchMetadata, schemaMetadata } from './arrow-ipc-writer.js';
import type { ArrowType, BatchColumnLayout } from './arrow-ipc-writer.js';

/**
 * Arrow type of each column kind. Fixed-width kinds share DuckDB's memory layout, so a chunk's
 * values are copied as one block. Timestamps are UTC instants in DuckDB's own unit (TIMESTAMP
 * and TIMESTAMPTZ, Arc's `time`, are microseconds). BLOB is Binary. Kinds without a type here
 * (HUGEINT, DECIMAL, TIME, INTERVAL, UUID, LIST...) become Utf8 holding the CSV answer's text
 * for the value.
 */
function arrowType(kind: ColumnKind): ArrowType {
  switch (kind) {
    case ColumnKind.boolean: return { tag: ArrowTypeTag.bool };
    case ColumnKind.int8: return { tag: ArrowTypeTag.int, bitWidth: 8, signed: true };
    case ColumnKind.int16: return { tag: ArrowTypeTag.int, bitWidth: 16, signed: true };
    case ColumnKind.int32: return { tag: ArrowTypeTag.int, bitWidth: 32, signed: true };
    case ColumnKind.uint8: return { tag: ArrowTypeTag.int, bitWidth: 8, signed: false };
    case ColumnKind.uint16: return { tag: ArrowTypeTag.int, bitWidth: 16, signed: false };
    case ColumnKind.uint32: return { tag: ArrowTypeTag.int, bitWidth: 32, signed: false };
    case ColumnKind.int64: return { tag: ArrowTypeTag.int, bitWidth: 64, signed: true };
    case ColumnKind.uint64: return { tag: ArrowTypeTag.int, bitWidth: 64, signed: false };
    case ColumnKind.float: return { tag: ArrowTypeTag.floatingPoint, precision: 1 };
    case ColumnKind.double: return { tag: ArrowTypeTag.floatingPoint, precision: 2 };
    case ColumnKind.date: return { tag: ArrowTypeTag.date };
    case ColumnKind.timestampMicros: return { tag: ArrowTypeTag.timestamp, unit: ArrowTimeUnit.microsecond, timezone: 'UTC' };
    case ColumnKind.timestampSeconds: return { tag: ArrowTypeTag.timestamp, unit: ArrowTimeUnit.second, timezone: 'UTC' };
    case ColumnKind.timestampMillis: return { tag: ArrowTypeTag.timestamp, unit: ArrowTimeUnit.millisecond, timezone: 'UTC' };
    case ColumnKind.timestampNanos: return { tag: ArrowTypeTag.timestamp, unit: ArrowTimeUnit.nanosecond, timezone: 'UTC' };
    case ColumnKind.blob: return { tag: ArrowTypeTag.binary };
    default: return { tag: ArrowTypeTag.utf8 };
  }
}

/**
 * The kinds whose Arrow values are DuckDB's value bytes as they are (VALUE_BYTES each); the rest
 * are not (booleans are packed to bits, the others written as Utf8 or Binary).
 */
const FIXED_WIDTH_KINDS: ReadonlySet<ColumnKind> = new Set<ColumnKind>([
  ColumnKind.int8, ColumnKind.int16, ColumnKind.int32, ColumnKind.uint8, ColumnKind.uint16, ColumnKind.uint32, ColumnKind.int64,
  ColumnKind.uint64, ColumnKind.float, ColumnKind.double, ColumnKind.date, ColumnKind.timestampMicros, ColumnKind.timestampSeconds,
  ColumnKind.timestampMillis, ColumnKind.timestampNanos,
]);

/** Set bits of each byte value, for NULL counts. */
const BIT_COUNTS = Uint8Array.from({ length: 256 }, (_, value) => {
  let count = 0;
  for (let rest = value; rest !== 0; rest >>>= 1) count += rest & 1;
  return count;
});

/**
 * Builds an Arrow IPC stream: the schema message, then one record batch per DuckDB chunk written
 * straight from the vectors into the answer (fixed-width values and DuckDB's validity mask,
 * which has Arrow's bit order, are copied as blocks; strings are gathered from their string_t
 * entries), then the end-of-stream marker. Metadata FlatBuffers are written by hand
 * (arrow-ipc-writer.ts); no apache-arrow objects are built.
 * At most `rowLimit` rows; null when cancelled between chunks.
 */
export async function encodeArrowAnswer(result: AnswerRows, rowLimit: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  const columns: ArrowColumn[] = [];
  for (let column = 0; column < result.columnCount; column++) {
    columns.push(new ArrowColumn(column, result.columnName(column), planColumn(result.columnType(column))));
  }
  const out = JsonWriter.fromScratch();
  try {
    writeMessage(out, schemaMetadata(columns.map((column) => ({ name: column.name, type: arrowType(column.plan.kind) }))));
    const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => {
      writeRecordBatch(out, chunk, rows, columns);
    });
    if (rowCount === null) return null;
    writeUint32(out, CONTINUATION);
    writeUint32(out, 0);
    return { body: out.release(), rowCount };
  } finally {
    out.recycle();
  }
}

function writeUint32(out: JsonWriter, value: number): void {
  out.reserve(4);
  out.putByte(value & 0xff);
  out.putByte((value >>> 8) & 0xff);
  out.putByte((value >>> 16) & 0xff);
  out.putByte((value >>> 24) & 0xff);
}

/** Zero bytes from `bytes` up to the next multiple of 8. */
function writePadding(out: JsonWriter, bytes: number): void {
  const count = padded(bytes) - bytes;
  out.reserve(count);
  for (let index = 0; index < count; index++) out.putByte(0);
}

/** Frames a message's metadata: continuation, padded length, the flatbuffer, zero padding. */
function writeMessage(out: JsonWriter, metadata: Uint8Array): void {
  writeUint32(out, CONTINUATION);
  writeUint32(out, padded(metadata.length));
  out.copy(metadata, 0, metadata.length);
  writePadding(out, metadata.length);
}

function writeRecordBatch(out: JsonWriter, chunk: AnswerChunk, rowCount: number, columns: readonly ArrowColumn[]): void {
  const layouts = columns.map((column) => column.load(chunk, rowCount));
  writeMessage(out, recordBatchMetadata(rowCount, layouts));
  for (const column of columns) column.writeBody(out, rowCount);
}

/** Copies `count` bytes of `source` from `start`, then pads to 8. */
function writeBuffer(out: JsonWriter, source: Uint8Array, start: number, count: number): void {
  out.copy(source, start, start + count);
  writePadding(out, count);
}

/**
 * One column of the answer: its chunk's view, and for string kinds the chunk's offsets and text.
 * The loops below read rows below the `rowCount` the view was loaded with (json-columns.ts asserts
 * at load that its vectors hold them), and offsets sized for that `rowCount` (ensureOffsets): the
 * indexed reads are in bounds, hence `as number`.
 */
class ArrowColumn {
  readonly index: number;
  readonly name: string;
  readonly plan: ColumnPlan;
  private readonly view = new ColumnView();
  private readonly valueBytes: number;
  private nullCount = 0;
  /** Utf8 / Binary offsets of the chunk (rows + 1), as bytes for the body. */
  private offsets = new Int32Array(0);
  private offsetBytes = new Uint8Array(0);
  /** Text of kinds written as Utf8 that are not VARCHAR (the chunk's values, concatenated). */
  private readonly text = new JsonWriter(new Uint8Array(1024));
  /** Booleans packed to bits. */
  private bits = new Uint8Array(0);

  constructor(index: number, name: string, plan: ColumnPlan) {
    this.index = index;
    this.name = name;
    this.plan = plan;
    this.valueBytes = FIXED_WIDTH_KINDS.has(plan.kind) ? VALUE_BYTES[plan.kind] : 0;
  }

  /** Points at the chunk's vector and returns the column's buffer lengths in this batch. */
  load(chunk: AnswerChunk, rowCount: number): BatchColumnLayout {
    const view = this.view;
    view.load(chunk, this.index, this.plan, rowCount);
    this.nullCount = countNulls(view.validity, rowCount);
    const validityBytes = this.nullCount === 0 ? 0 : Math.ceil(rowCount / 8);
    if (this.valueBytes > 0) return { nullCount: this.nullCount, bufferBytes: [validityBytes, rowCount * this.valueBytes] };
    if (this.plan.kind === ColumnKind.boolean) {
      this.packBooleans(rowCount);
      return { nullCount: this.nullCount, bufferBytes: [validityBytes, Math.ceil(rowCount / 8)] };
    }
    const textBytes = this.plan.kind === ColumnKind.varchar || this.plan.kind === ColumnKind.blob ? this.measureStrings(rowCount) : this.writeTexts(rowCount);
    return { nullCount: this.nullCount, bufferBytes: [validityBytes, (rowCount + 1) * 4, textBytes] };
  }

  writeBody(out: JsonWriter, rowCount: number): void {
    const view = this.view;
    if (this.nullCount > 0 && view.validity !== null) writeBuffer(out, view.validity, 0, Math.ceil(rowCount / 8));
    if (this.valueBytes > 0) {
      writeBuffer(out, view.bytes, 0, rowCount * this.valueBytes);
    } else if (this.plan.kind === ColumnKind.boolean) {
      writeBuffer(out, this.bits, 0, Math.ceil(rowCount / 8));
    } else {
      writeBuffer(out, this.offsetBytes, 0, (rowCount + 1) * 4);
      if (this.plan.kind === ColumnKind.varchar || this.plan.kind === ColumnKind.blob) this.writeStrings(out, rowCount);
      else writeBuffer(out, this.text.bytes, 0, this.text.length);
    }
  }

  private ensureOffsets(rowCount: number): Int32Array {
    if (this.offsets.length < rowCount + 1) {
      this.offsets = new Int32Array(rowCount + 1);
      this.offsetBytes = new Uint8Array(this.offsets.buffer);
    }
    return this.offsets;
  }

  /** Offsets of VARCHAR / BLOB values from their string_t lengths (NULL rows are empty). */
  private measureStrings(rowCount: number): number {
    const offsets = this.ensureOffsets(rowCount);
    const view = this.view;
    const words = view.uint32;
    const validity = view.validity;
    let total = 0;
    offsets[0] = 0;
    for (let row = 0; row < rowCount; row++) {
      const valid = validity === null || (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 1;
      if (valid) total += words[row * 4] as number;
      offsets[row + 1] = total;
    }
    return total;
  }

  /**
   * The bytes of every valid VARCHAR / BLOB value, in row order, then padding. One reserve for
   * them all: an inline value is copied as the whole words of its string_t room (up to
   * INLINE_STRING_BYTES_MAX bytes, the next value overwriting what passed its end).
   */
  private writeStrings(out: JsonWriter, rowCount: number): void {
    const view = this.view;
    const validity = view.validity;
    const words = view.uint32;
    const entries = view.entries;
    const total = this.offsets[rowCount] as number;
    out.reserve(total + INLINE_STRING_BYTES_MAX);
    for (let row = 0; row < rowCount; row++) {
      if (validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0) continue;
      const length = words[row * 4] as number;
      if (length <= INLINE_STRING_BYTES_MAX) {
        out.putWords(entries, row * 16 + 4, length);
      } else {
        locateVarchar(view, row);
        out.copy(view.text, view.textStart, view.textEnd);
      }
    }
    writePadding(out, total);
  }

  /** The text of other kinds (the CSV answer's text) into `text`, with offsets. */
  private writeTexts(rowCount: number): number {
    const offsets = this.ensureOffsets(rowCount);
    const view = this.view;
    const text = this.text;
    text.clear();
    offsets[0] = 0;
    for (let row = 0; row < rowCount; row++) {
      if (!view.isNull(row)) writeText(text, view, row);
      offsets[row + 1] = text.length;
    }
    return text.length;
  }

  private packBooleans(rowCount: number): void {
    const byteCount = Math.ceil(rowCount / 8);
    if (this.bits.length < byteCount) this.bits = new Uint8Array(byteCount);
    const bits = this.bits;
    const values = this.view.bytes;
    for (let index = 0; index < byteCount; index++) {
      let packed = 0;
      const first = index * 8;
      const last = Math.min(first + 8, rowCount);
      for (let row = first; row < last; row++) if ((values[row] as number) !== 0) packed |= 1 << (row - first);
      bits[index] = packed;
    }
  }
}

/** NULLs among the first `rowCount` rows of a validity mask (null: all valid; BIT_COUNTS has an entry per byte value). */
function countNulls(validity: Uint8Array | null, rowCount: number): number {
  if (validity === null) return 0;
  let valid = 0;
  const wholeBytes = rowCount >>> 3;
  for (let index = 0; index < wholeBytes; index++) valid += BIT_COUNTS[validity[index] as number] as number;
  for (let row = wholeBytes * 8; row < rowCount; row++) valid += ((validity[row >>> 3] as number) >>> (row & 7)) & 1;
  return rowCount - valid;
}

/** The text Arrow gets for a kind it has no type for here: DuckDB's text for `other` and nested kinds. */
function writeText(out: JsonWriter, view: ColumnView, row: number): void {
  if (view.kind === ColumnKind.other || view.kind === ColumnKind.nested) {
    // A NULL never gets here (writeTexts checks the validity first; its row is an empty value).
    const value = fallbackValue(view, row);
    const bytes = Buffer.from(value === null ? '' : String(value), 'utf8');
    out.copy(bytes, 0, bytes.length);
    return;
  }
  if (view.kind === ColumnKind.varchar) {
    locateVarchar(view, row);
    out.copy(view.text, view.textStart, view.textEnd);
    return;
  }
  writeUnquotedValue(out, view, row);
}
