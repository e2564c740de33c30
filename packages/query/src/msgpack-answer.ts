import { Packr } from 'msgpackr';
import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import type { EncodedAnswer } from './json-answer.js';
import { ColumnKind, ColumnView, locateVarchar, planColumn, writeUnquotedValue } from './json-columns.js';
import type { ColumnPlan } from './json-columns.js';
import { JsonWriter } from './json-writer.js';
import { forEachChunk, roundedMs } from './result-chunks.js';

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
  [ColumnKind.date, 'date32[day]'],
  [ColumnKind.timestampMicros, 'timestamp[us, tz=UTC]'],
  [ColumnKind.timestampSeconds, 'timestamp[s, tz=UTC]'],
  [ColumnKind.timestampMillis, 'timestamp[ms, tz=UTC]'],
  [ColumnKind.timestampNanos, 'timestamp[ns, tz=UTC]'],
]);

/** Kinds whose values are 64-bit integers: sent as msgpack int64 / uint64 beyond 32 bits. */
const WIDE_INTEGER_KINDS: ReadonlySet<ColumnKind> = new Set<ColumnKind>([
  ColumnKind.int64, ColumnKind.timestampMicros, ColumnKind.timestampSeconds, ColumnKind.timestampMillis, ColumnKind.timestampNanos,
]);

const INT32_MIN = -0x8000_0000;

const packr = new Packr({ useRecords: false });

type Cell = number | bigint | string | boolean | null;

/**
 * Builds Arc Go's columnar msgpack answer
 *   {success, columns, types, data: [[values of column 0], ...], row_count, execution_time_ms, timestamp}
 * with msgpackr. `types` are Arrow type names and values are Arrow's physical values, so
 * nothing is parsed on the client:
 * - timestamps are integers counted in the type's unit since 1970-01-01 UTC (µs for Arc's
 *   `time`), DATE an integer count of days; both msgpack integers, never floats;
 * - BIGINT / UBIGINT are msgpack integers: within 32 bits as small ints, beyond as int64 / uint64
 *   (msgpackr reads those back as BigInt unless told `int64AsType: 'number'`);
 * - DOUBLE keeps NaN and ±Infinity (msgpack float64 has them); NULL is nil;
 * - kinds Arrow names no type for here (HUGEINT, DECIMAL, TIME, UUID, ...) are the JSON answer's
 *   text for the value, typed `string`.
 * At most `rowLimit` rows; null when cancelled between chunks.
 */
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

export async function encodeMsgpackAnswer(result: DuckDBResult, startedAtMs: number, rowLimit: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  const columns: string[] = [];
  const types: string[] = [];
  const plans: ColumnPlan[] = [];
  for (let column = 0; column < result.columnCount; column++) {
    const plan = planColumn(result.columnType(column));
    plans.push(plan);
    columns.push(result.columnName(column));
    types.push(TYPE_NAME_BY_KIND.get(plan.kind) ?? 'string');
  }
  const data: Cell[][] = plans.map(() => []);
  const views = plans.map(() => new ColumnView());
  const text = new JsonWriter();
  const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => {
    for (let column = 0; column < plans.length; column++) readColumn(chunk, column, plans[column], views[column], data[column], rows, text);
  });
  if (rowCount === null) return null;
  const answer: MsgpackQueryAnswer = {
    success: true,
    columns,
    types,
    data,
    row_count: rowCount,
    execution_time_ms: roundedMs(performance.now() - startedAtMs),
    timestamp: new Date().toISOString(),
  };
  // msgpackr hands out a view on the buffer it packs into and reuses; the answer's buffer is
  // transferred to the main thread, so it gets one of its own.
  return { body: new Uint8Array(packr.pack(answer)), rowCount };
}

function readColumn(
  chunk: DuckDBDataChunk,
  column: number,
  plan: ColumnPlan | undefined,
  view: ColumnView | undefined,
  values: Cell[] | undefined,
  rowCount: number,
  text: JsonWriter,
): void {
  if (plan === undefined || view === undefined || values === undefined) return;
  view.load(chunk, column, plan, rowCount);
  if (WIDE_INTEGER_KINDS.has(plan.kind)) readInt64(view, values, rowCount);
  else if (plan.kind === ColumnKind.uint64) readUint64(view, values, rowCount);
  else if (plan.kind === ColumnKind.double) readNumbers(view, view.float64, values, rowCount);
  else if (plan.kind === ColumnKind.varchar || plan.kind === ColumnKind.other || !TYPE_NAME_BY_KIND.has(plan.kind)) readText(view, values, rowCount, text);
  else readSmall(view, values, rowCount);
}

function readNumbers(view: ColumnView, numbers: Float64Array | Float32Array, values: Cell[], rowCount: number): void {
  for (let row = 0; row < rowCount; row++) values.push(view.isNull(row) ? null : (numbers[row] ?? 0));
}

/** Signed 64-bit words: a plain number when the value fits 32 bits, else a BigInt (msgpack int64). */
function readInt64(view: ColumnView, values: Cell[], rowCount: number): void {
  const words = view.uint32;
  let wide: BigInt64Array | null = null;
  for (let row = 0; row < rowCount; row++) {
    if (view.isNull(row)) {
      values.push(null);
      continue;
    }
    const low = words[row * 2] ?? 0;
    const high = words[row * 2 + 1] ?? 0;
    if ((high === 0 && low <= 0x7fff_ffff) || (high === 0xffff_ffff && low >= 0x8000_0000)) {
      values.push(high === 0 ? low : INT32_MIN + (low - 0x8000_0000));
      continue;
    }
    wide ??= new BigInt64Array(view.bytes.slice().buffer);
    values.push(wide[row] ?? 0n);
  }
}

function readUint64(view: ColumnView, values: Cell[], rowCount: number): void {
  const words = view.uint32;
  let wide: BigUint64Array | null = null;
  for (let row = 0; row < rowCount; row++) {
    if (view.isNull(row)) {
      values.push(null);
      continue;
    }
    if ((words[row * 2 + 1] ?? 0) === 0) {
      values.push(words[row * 2] ?? 0);
      continue;
    }
    wide ??= new BigUint64Array(view.bytes.slice().buffer);
    values.push(wide[row] ?? 0n);
  }
}

/** Booleans, small integers, FLOAT and DATE: one JS value each, read by the JSON value rules' views. */
function readSmall(view: ColumnView, values: Cell[], rowCount: number): void {
  for (let row = 0; row < rowCount; row++) {
    if (view.isNull(row)) values.push(null);
    else values.push(smallValue(view, row));
  }
}

function smallValue(view: ColumnView, row: number): Cell {
  switch (view.kind) {
    case ColumnKind.boolean: return (view.bytes[row] ?? 0) !== 0;
    case ColumnKind.int8: return view.int8[row] ?? 0;
    case ColumnKind.int16: return view.int16[row] ?? 0;
    case ColumnKind.uint8: return view.bytes[row] ?? 0;
    case ColumnKind.uint16: return view.uint16[row] ?? 0;
    case ColumnKind.uint32: return view.uint32[row] ?? 0;
    case ColumnKind.float: return view.float32[row] ?? 0;
    default: return view.int32[row] ?? 0;
  }
}

const decoder = new TextDecoder('utf-8');

function readText(view: ColumnView, values: Cell[], rowCount: number, text: JsonWriter): void {
  for (let row = 0; row < rowCount; row++) {
    if (view.isNull(row)) {
      values.push(null);
      continue;
    }
    if (view.kind === ColumnKind.varchar) {
      locateVarchar(view, row);
      values.push(utf8Text(view.text, view.textStart, view.textEnd));
    } else if (view.kind === ColumnKind.other || view.kind === ColumnKind.nested) {
      values.push(String(view.fallback?.getItem(row) ?? ''));
    } else {
      text.length = 0;
      writeUnquotedValue(text, view, row);
      values.push(utf8Text(text.bytes, 0, text.length));
    }
  }
}

/** Short ASCII strings (tag values, hosts) skip the decoder, whose call costs more than the loop. */
function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let ascii = '';
    for (let index = start; index < end; index++) {
      const code = bytes[index] ?? 0;
      if (code >= 0x80) return decoder.decode(bytes.subarray(start, end));
      ascii += String.fromCharCode(code);
    }
    return ascii;
  }
  return decoder.decode(bytes.subarray(start, end));
}
