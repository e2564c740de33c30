import {
  Bool,
  DateDay,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Field,
  Struct,
  Table,
  TimeUnit,
  Timestamp,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  makeData,
  tableToIPC,
} from 'apache-arrow';
import type { Data, DataType } from 'apache-arrow';
import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import type { EncodedAnswer } from './json-answer.js';
import { ColumnKind, ColumnView, locateVarchar, planColumn, writeUnquotedValue } from './json-columns.js';
import type { ColumnPlan } from './json-columns.js';
import { JsonWriter } from './json-writer.js';
import { forEachChunk } from './result-chunks.js';

/**
 * Arrow type of each column kind. Fixed-width kinds share DuckDB's memory layout, so a chunk's
 * values are copied as one block. Timestamps are UTC instants in DuckDB's own unit (TIMESTAMP
 * and TIMESTAMPTZ, Arc's `time`, are microseconds). Kinds without a type here (HUGEINT, DECIMAL,
 * TIME, INTERVAL, UUID, LIST...) become Utf8 holding the JSON answer's text for the value.
 */
function arrowType(kind: ColumnKind): DataType {
  switch (kind) {
    case ColumnKind.boolean: return new Bool();
    case ColumnKind.int8: return new Int8();
    case ColumnKind.int16: return new Int16();
    case ColumnKind.int32: return new Int32();
    case ColumnKind.uint8: return new Uint8();
    case ColumnKind.uint16: return new Uint16();
    case ColumnKind.uint32: return new Uint32();
    case ColumnKind.int64: return new Int64();
    case ColumnKind.uint64: return new Uint64();
    case ColumnKind.float: return new Float32();
    case ColumnKind.double: return new Float64();
    case ColumnKind.date: return new DateDay();
    case ColumnKind.timestampMicros: return new Timestamp(TimeUnit.MICROSECOND, 'UTC');
    case ColumnKind.timestampSeconds: return new Timestamp(TimeUnit.SECOND, 'UTC');
    case ColumnKind.timestampMillis: return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    case ColumnKind.timestampNanos: return new Timestamp(TimeUnit.NANOSECOND, 'UTC');
    default: return new Utf8();
  }
}

/** Kinds whose Arrow values are DuckDB's value bytes as they are. */
const FIXED_WIDTH_KINDS: ReadonlySet<ColumnKind> = new Set<ColumnKind>([
  ColumnKind.int8, ColumnKind.int16, ColumnKind.int32, ColumnKind.uint8, ColumnKind.uint16, ColumnKind.uint32,
  ColumnKind.int64, ColumnKind.uint64, ColumnKind.float, ColumnKind.double, ColumnKind.date,
  ColumnKind.timestampMicros, ColumnKind.timestampSeconds, ColumnKind.timestampMillis, ColumnKind.timestampNanos,
]);

/**
 * Rows per Arrow record batch. DuckDB hands out chunks of 2,048 rows; gathering 32 of them per
 * batch cuts the IPC stream's per-batch metadata and the pieces its writer joins (one batch per
 * chunk measured 3.2M rows/s, most of it spent joining ~20k small buffers per 1M rows), and it
 * is what readers prefer. Costs BATCH_ROWS_MAX x 16 bytes per column of buffers in the worker.
 */
const BATCH_ROWS_MAX = 65_536;

/**
 * Builds an Arrow IPC stream: the schema, then record batches of up to BATCH_ROWS_MAX rows, each
 * column made with `makeData` from typed arrays filled straight from the chunks' vectors (DuckDB's
 * validity mask has Arrow's bit order; fixed-width values share its layout and are copied as one
 * block per chunk). No value objects, no `vectorFromArray`.
 * At most `rowLimit` rows; null when cancelled between chunks.
 */
export async function encodeArrowAnswer(result: DuckDBResult, rowLimit: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  const plans: ColumnPlan[] = [];
  const fields: Field[] = [];
  for (let column = 0; column < result.columnCount; column++) {
    const plan = planColumn(result.columnType(column));
    plans.push(plan);
    fields.push(new Field(result.columnName(column), arrowType(plan.kind), true));
  }
  const schema = new Schema(fields);
  const out = JsonWriter.fromScratch();
  const stream = new StreamBytes(schema, out);
  const batcher = new Batcher(schema, plans, (batch) => stream.append(batch));
  const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => batcher.append(chunk, rows));
  if (rowCount === null) return null;
  batcher.flush();
  stream.end();
  return { body: out.release(), rowCount };
}

/** The end-of-stream marker: continuation token 0xFFFFFFFF, then a zero metadata length. */
const END_OF_STREAM_BYTES = 8;

/**
 * Writes the IPC stream into the worker's kept buffer (see ANSWER_SCRATCH_BYTES_MAX) one batch at
 * a time, so the batch's column buffers can be reused for the next: apache-arrow serializes each
 * batch as a whole stream (schema, batch, end marker), and the schema message, the same bytes
 * every time, is written once. Touching fresh memory dominated the cost (one write of the answer
 * into fresh pages is the floor; building every batch in fresh buffers doubled it).
 */
class StreamBytes {
  private readonly schema: Schema;
  private readonly out: JsonWriter;
  private readonly head: Uint8Array;

  constructor(schema: Schema, out: JsonWriter) {
    this.schema = schema;
    this.out = out;
    // A stream of no batches: the schema message, then the end marker.
    this.head = tableToIPC(new Table(schema), 'stream');
    out.copy(this.head, 0, this.schemaBytes());
  }

  append(batch: RecordBatch): void {
    const bytes = tableToIPC(new Table(this.schema, [batch]), 'stream');
    this.out.copy(bytes, this.schemaBytes(), bytes.length - END_OF_STREAM_BYTES);
  }

  end(): void {
    this.out.copy(this.head, this.schemaBytes(), this.head.length);
  }

  private schemaBytes(): number {
    return this.head.length - END_OF_STREAM_BYTES;
  }
}

/** Gathers chunks into record batches and hands each to `emit`, which must be done with it on return. */
class Batcher {
  private readonly emit: (batch: RecordBatch) => void;
  private readonly schema: Schema;
  private readonly structType: Struct;
  private readonly columns: ColumnBuilder[];
  private readonly views: ColumnView[];
  private readonly plans: readonly ColumnPlan[];
  private rowCount = 0;

  constructor(schema: Schema, plans: readonly ColumnPlan[], emit: (batch: RecordBatch) => void) {
    this.emit = emit;
    this.schema = schema;
    this.structType = new Struct(schema.fields);
    this.plans = plans;
    this.columns = schema.fields.map((field, column) => new ColumnBuilder(field.type as DataType, plans[column]?.kind ?? ColumnKind.other));
    this.views = plans.map(() => new ColumnView());
  }

  append(chunk: DuckDBDataChunk, rows: number): void {
    if (this.rowCount + rows > BATCH_ROWS_MAX) this.flush();
    for (let column = 0; column < this.columns.length; column++) {
      const view = this.views[column];
      const plan = this.plans[column];
      const builder = this.columns[column];
      if (view === undefined || plan === undefined || builder === undefined) continue;
      view.load(chunk, column, plan, rows);
      builder.append(view, this.rowCount, rows);
    }
    this.rowCount += rows;
    // Validity bitmaps are appended whole bytes at a time: a batch ends after a chunk whose rows
    // do not fill their last byte (DuckDB's chunks are 2,048 rows but for the last).
    if (this.rowCount % 8 !== 0) this.flush();
  }

  flush(): void {
    if (this.rowCount === 0) return;
    const children = this.columns.map((builder) => builder.finish(this.rowCount));
    this.emit(new RecordBatch(this.schema, makeData({ type: this.structType, length: this.rowCount, nullCount: 0, children })));
    for (const builder of this.columns) builder.reset();
    this.rowCount = 0;
  }
}

interface TypedArrayType {
  readonly BYTES_PER_ELEMENT: number;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): DataType['TArray'];
}

/** One column of the batch being built: value bytes, validity bits, and for Utf8 offsets + text. */
class ColumnBuilder {
  private readonly type: DataType;
  private readonly kind: ColumnKind;
  private readonly fixedWidth: boolean;
  /** The typed array of a fixed-width type, and its bytes per value (DuckDB's too). */
  private readonly ArrayType: TypedArrayType;
  private readonly valueBytes: number;
  private values: Uint8Array = new Uint8Array(0);
  private validity: Uint8Array = new Uint8Array(0);
  private nullCount = 0;
  private valueOffsets: Int32Array = new Int32Array(0);
  private readonly text = new JsonWriter();

  constructor(type: DataType, kind: ColumnKind) {
    this.type = type;
    this.kind = kind;
    this.fixedWidth = FIXED_WIDTH_KINDS.has(kind);
    this.ArrayType = type.ArrayType as TypedArrayType;
    this.valueBytes = this.fixedWidth ? this.ArrayType.BYTES_PER_ELEMENT : 0;
    this.validity = new Uint8Array(BATCH_ROWS_MAX / 8);
    if (this.fixedWidth) this.values = new Uint8Array(BATCH_ROWS_MAX * this.valueBytes);
    else if (this.kind === ColumnKind.boolean) this.values = new Uint8Array(BATCH_ROWS_MAX / 8);
    else this.valueOffsets = new Int32Array(BATCH_ROWS_MAX + 1);
  }

  /** Appends `rows` rows of `view` at row `at` of the batch (`at` is a multiple of 8). */
  append(view: ColumnView, at: number, rows: number): void {
    this.appendValidity(view, at, rows);
    if (this.fixedWidth) {
      // A copy: the vector's memory belongs to DuckDB and is reused for the next chunk.
      this.values.set(view.bytes, at * this.valueBytes);
    } else if (this.kind === ColumnKind.boolean) {
      packBooleans(view.bytes, rows, this.values, at);
    } else {
      appendText(view, rows, this.text, this.valueOffsets, at);
    }
  }

  finish(rowCount: number): Data {
    const nullCount = this.nullCount;
    const base = { type: this.type, length: rowCount, nullCount, ...(nullCount === 0 ? {} : { nullBitmap: this.validity.subarray(0, Math.ceil(rowCount / 8)) }) };
    let data: Data;
    if (this.fixedWidth) {
      data = makeData({ ...base, data: new this.ArrayType(this.values.buffer as ArrayBuffer, 0, rowCount) } as never);
    } else if (this.kind === ColumnKind.boolean) {
      data = makeData({ ...base, data: this.values.subarray(0, Math.ceil(rowCount / 8)) } as never);
    } else {
      const valueOffsets = this.valueOffsets.subarray(0, rowCount + 1);
      data = makeData({ ...base, valueOffsets, data: this.text.bytes.subarray(0, this.text.length) } as never);
    }
    return data;
  }

  /** Makes the buffers ready for the next batch, once the finished one has been serialized. */
  reset(): void {
    this.nullCount = 0;
    // Bits are OR-ed in (booleans) or copied whole bytes at a time (validity): start from zero.
    this.validity.fill(0);
    if (this.kind === ColumnKind.boolean) this.values.fill(0);
    this.text.length = 0;
  }

  private appendValidity(view: ColumnView, at: number, rows: number): void {
    const byteStart = at >>> 3;
    const byteCount = Math.ceil(rows / 8);
    const source = view.validity;
    if (source === null) {
      this.validity.fill(0xff, byteStart, byteStart + byteCount);
      return;
    }
    this.validity.set(source.subarray(0, byteCount), byteStart);
    let validCount = 0;
    for (let row = 0; row < rows; row++) validCount += ((source[row >>> 3] ?? 0) >>> (row & 7)) & 1;
    this.nullCount += rows - validCount;
  }
}

/** DuckDB keeps one byte per BOOLEAN; Arrow one bit. Writes bits from bit `at` (a multiple of 8). */
function packBooleans(bytes: Uint8Array, rowCount: number, bits: Uint8Array, at: number): void {
  const byteStart = at >>> 3;
  for (let row = 0; row < rowCount; row++) {
    if ((bytes[row] ?? 0) !== 0) bits[byteStart + (row >>> 3)] = (bits[byteStart + (row >>> 3)] ?? 0) | (1 << (row & 7));
  }
}

/** Appends Utf8 offsets and bytes of a VARCHAR column, or of the text form of a kind Arrow gets as text. */
function appendText(view: ColumnView, rowCount: number, text: JsonWriter, valueOffsets: Int32Array, at: number): void {
  for (let row = 0; row < rowCount; row++) {
    if (!view.isNull(row)) writeText(text, view, row);
    valueOffsets[at + row + 1] = text.length;
  }
}

function writeText(out: JsonWriter, view: ColumnView, row: number): void {
  if (view.kind === ColumnKind.varchar) {
    locateVarchar(view, row);
    out.copy(view.text, view.textStart, view.textEnd);
    return;
  }
  if (view.kind === ColumnKind.other) {
    const bytes = Buffer.from(String(view.fallback?.getItem(row) ?? ''), 'utf8');
    out.copy(bytes, 0, bytes.length);
    return;
  }
  writeUnquotedValue(out, view, row);
}
