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

interface Validity {
  readonly nullBitmap: Uint8Array | undefined;
  readonly nullCount: number;
}

const ALL_VALID: Validity = { nullBitmap: undefined, nullCount: 0 };

/**
 * Builds an Arrow IPC stream: the schema, then one record batch per DuckDB chunk, each column
 * made with `makeData` from typed arrays copied out of the chunk's vectors (DuckDB's validity
 * mask already has Arrow's bit order). No value objects, no `vectorFromArray`.
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
  const structType = new Struct(fields);
  const views = plans.map(() => new ColumnView());
  const text = new JsonWriter();
  const batches: RecordBatch[] = [];
  const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => {
    const children = plans.map((plan, column) => columnData(chunk, column, plan, fields[column]?.type, views[column], rows, text));
    batches.push(new RecordBatch(schema, makeData({ type: structType, length: rows, nullCount: 0, children })));
  });
  if (rowCount === null) return null;
  const body = tableToIPC(new Table(schema, batches), 'stream');
  return { body: ownedBytes(body), rowCount };
}

/** The answer's buffer is transferred to the main thread: it must not share memory with anything. */
export function ownedBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !Buffer.isBuffer(bytes)) return bytes;
  return new Uint8Array(bytes);
}

function columnData(
  chunk: DuckDBDataChunk,
  column: number,
  plan: ColumnPlan,
  type: DataType | undefined,
  view: ColumnView | undefined,
  rowCount: number,
  text: JsonWriter,
): Data {
  if (type === undefined || view === undefined) throw new Error('column without a type or view');
  view.load(chunk, column, plan, rowCount);
  const { nullBitmap, nullCount } = copyValidity(view, rowCount);
  const base = { type, length: rowCount, nullCount, ...(nullBitmap === undefined ? {} : { nullBitmap }) };
  if (FIXED_WIDTH_KINDS.has(plan.kind)) {
    // A copy: the vector's memory belongs to DuckDB and is reused for the next chunk.
    const ArrayType = type.ArrayType as new (buffer: ArrayBuffer) => DataType['TArray'];
    return makeData({ ...base, data: new ArrayType(view.bytes.slice().buffer) } as never);
  }
  if (plan.kind === ColumnKind.boolean) return makeData({ ...base, data: packBooleans(view.bytes, rowCount) } as never);
  return makeData({ ...base, ...utf8Buffers(view, rowCount, text) } as never);
}

function copyValidity(view: ColumnView, rowCount: number): Validity {
  const validity = view.validity;
  if (validity === null) return ALL_VALID;
  const bitmap = validity.slice(0, Math.ceil(rowCount / 8));
  let validCount = 0;
  for (let row = 0; row < rowCount; row++) validCount += ((bitmap[row >>> 3] ?? 0) >>> (row & 7)) & 1;
  if (validCount === rowCount) return ALL_VALID;
  return { nullBitmap: bitmap, nullCount: rowCount - validCount };
}

/** DuckDB keeps one byte per BOOLEAN; Arrow one bit. */
function packBooleans(bytes: Uint8Array, rowCount: number): Uint8Array {
  const bits = new Uint8Array(Math.ceil(rowCount / 8));
  for (let row = 0; row < rowCount; row++) {
    if ((bytes[row] ?? 0) !== 0) bits[row >>> 3] = (bits[row >>> 3] ?? 0) | (1 << (row & 7));
  }
  return bits;
}

/** Utf8 offsets and bytes of a VARCHAR column, or of the text form of a kind Arrow gets as text. */
function utf8Buffers(view: ColumnView, rowCount: number, text: JsonWriter): { valueOffsets: Int32Array; data: Uint8Array } {
  const valueOffsets = new Int32Array(rowCount + 1);
  text.length = 0;
  for (let row = 0; row < rowCount; row++) {
    if (!view.isNull(row)) writeText(text, view, row);
    valueOffsets[row + 1] = text.length;
  }
  return { valueOffsets, data: text.bytes.slice(0, text.length) };
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
