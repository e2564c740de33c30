import { ColumnKind, writeDoubleAt, writeInt64At, writeTimestampMicrosAt, writeValue, writeVarchar } from './json-columns.js';
import type { ColumnPlan, ColumnView } from './json-columns.js';
import type { JsonWriter } from './json-writer.js';

const COMMA = 0x2c;

/**
 * The columns of an answer cut into runs of neighbours written the same way, three numbers a
 * run: the kind written (one of the kinds with a loop of their own below, or `other`), the
 * first column and the column after the last. Made once per answer.
 *
 * Why: a row loop that called each column's writer through one call site (an array of writer
 * functions) saw five targets there, and V8 neither inlines nor predicts such a call; a run's
 * loop calls one writer directly. TSBS's `cpu` row (a timestamp, 10 VARCHAR tags, 10 BIGINT
 * fields) is three runs.
 */
export function rowSegmentsOf(plans: readonly ColumnPlan[]): Int32Array {
  const segments: number[] = [];
  for (let column = 0; column < plans.length; column++) {
    const kind = segmentKindOf((plans[column] as ColumnPlan).kind);
    const last = segments.length - 3;
    if (last >= 0 && segments[last] === kind) segments[last + 2] = column + 1;
    else segments.push(kind, column, column + 1);
  }
  return Int32Array.from(segments);
}

function segmentKindOf(kind: ColumnKind): ColumnKind {
  switch (kind) {
    case ColumnKind.timestampMicros:
    case ColumnKind.double:
    case ColumnKind.varchar:
    case ColumnKind.int64:
      return kind;
    default:
      return ColumnKind.other;
  }
}

/**
 * Writes row `row` of the loaded `views` as the values of a JSON array, comma-separated, without
 * the brackets; `segments` from `rowSegmentsOf` of the same columns.
 */
export function writeRowValues(out: JsonWriter, views: readonly ColumnView[], segments: Int32Array, row: number): void {
  for (let index = 0; index < segments.length; index += 3) {
    const start = segments[index + 1] as number;
    const end = segments[index + 2] as number;
    switch (segments[index]) {
      case ColumnKind.timestampMicros:
        writeTimestamps(out, views, start, end, row);
        break;
      case ColumnKind.varchar:
        writeVarchars(out, views, start, end, row);
        break;
      case ColumnKind.int64:
        writeInt64s(out, views, start, end, row);
        break;
      case ColumnKind.double:
        writeDoubles(out, views, start, end, row);
        break;
      default:
        writeOthers(out, views, start, end, row);
    }
  }
}

// One loop per kind, each calling its writer directly (see rowSegmentsOf). Columns are below
// `views.length` by construction of the segments, hence `as ColumnView`.

function writeTimestamps(out: JsonWriter, views: readonly ColumnView[], start: number, end: number, row: number): void {
  for (let column = start; column < end; column++) {
    const view = views[column] as ColumnView;
    if (column > 0) out.byte(COMMA);
    if (isNullAt(view, row)) out.ascii('null');
    else writeTimestampMicrosAt(out, view, row);
  }
}

function writeVarchars(out: JsonWriter, views: readonly ColumnView[], start: number, end: number, row: number): void {
  for (let column = start; column < end; column++) {
    const view = views[column] as ColumnView;
    if (column > 0) out.byte(COMMA);
    if (isNullAt(view, row)) out.ascii('null');
    else writeVarchar(out, view, row);
  }
}

function writeInt64s(out: JsonWriter, views: readonly ColumnView[], start: number, end: number, row: number): void {
  for (let column = start; column < end; column++) {
    const view = views[column] as ColumnView;
    if (column > 0) out.byte(COMMA);
    if (isNullAt(view, row)) out.ascii('null');
    else writeInt64At(out, view, row);
  }
}

function writeDoubles(out: JsonWriter, views: readonly ColumnView[], start: number, end: number, row: number): void {
  for (let column = start; column < end; column++) {
    const view = views[column] as ColumnView;
    if (column > 0) out.byte(COMMA);
    if (isNullAt(view, row)) out.ascii('null');
    else writeDoubleAt(out, view, row);
  }
}

/** Every other kind, through `writeValue` (which writes NULL itself). */
function writeOthers(out: JsonWriter, views: readonly ColumnView[], start: number, end: number, row: number): void {
  for (let column = start; column < end; column++) {
    if (column > 0) out.byte(COMMA);
    writeValue(out, views[column] as ColumnView, row);
  }
}

function isNullAt(view: ColumnView, row: number): boolean {
  const validity = view.validity;
  return validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0;
}
