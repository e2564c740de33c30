import type { EncodedAnswer } from './json-answer.js';
import { ColumnKind, ColumnView, fallbackValue, loadViews, locateVarchar, planColumn, writeUnquotedTimestampMicros, writeUnquotedValue } from './json-columns.js';
import type { ColumnPlan, ResultColumns } from './json-columns.js';
import { writeDouble, writeFloat } from './json-numbers.js';
import { putBase64 } from './json-values.js';
import { JsonWriter } from './json-writer.js';
import { forEachChunk } from './result-chunks.js';
import type { AnswerChunk, AnswerRows } from './result-chunks.js';

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Builds a CSV answer (RFC 4180) chunk by chunk, straight from DuckDB's vectors into one byte
 * buffer (the JSON answer's writer: same growth and the same size cap). The rules:
 * - a header row of column names, then one record per row; every record ends in CRLF;
 * - a field containing `,`, `"`, CR or LF is quoted and its quotes doubled; others are bare;
 * - NULL is an empty field; an empty string is `""`, so the two stay apart;
 * - DOUBLE/FLOAT NaN and infinities are `NaN`, `Infinity`, `-Infinity` (CSV has no null token to
 *   fold them into, and these spellings read back in Python, pandas and JavaScript's Number);
 * - BLOB is base64; nested and other DuckDB types are DuckDB's text for the value;
 * - everything else is written as in the JSON answer, minus JSON's string quotes: timestamps
 *   RFC 3339 in UTC with `Z`, integers beyond 2^53 with all their digits, booleans true/false
 *   (docs/query-types.md has the table).
 * At most `rowLimit` rows; null when cancelled between chunks.
 */
export async function encodeCsvAnswer(result: AnswerRows, rowLimit: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  const out = JsonWriter.fromScratch();
  try {
    const plans = writeCsvHeader(out, result);
    const views = plans.map(() => new ColumnView());
    const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows) => {
      writeCsvRecords(out, chunk, rows, plans, views);
    });
    if (rowCount === null) return null;
    return { body: out.release(), rowCount };
  } finally {
    out.recycle();
  }
}

/** Writes the header record (the column names) and returns how each column is read. */
export function writeCsvHeader(out: JsonWriter, columns: ResultColumns): ColumnPlan[] {
  const plans: ColumnPlan[] = [];
  for (let column = 0; column < columns.columnCount; column++) {
    if (column > 0) out.byte(COMMA);
    writeCsvText(out, columns.columnName(column));
    plans.push(planColumn(columns.columnType(column)));
  }
  endRecord(out);
  return plans;
}

/** Writes one record for each of the chunk's first `rowCount` rows. */
export function writeCsvRecords(out: JsonWriter, chunk: AnswerChunk, rowCount: number, plans: readonly ColumnPlan[], views: readonly ColumnView[]): void {
  loadViews(views, plans, chunk, rowCount);
  for (let row = 0; row < rowCount; row++) {
    for (let column = 0; column < views.length; column++) {
      const view = views[column];
      if (view === undefined) continue;
      if (column > 0) out.byte(COMMA);
      writeCsvValue(out, view, row);
    }
    endRecord(out);
  }
}

function endRecord(out: JsonWriter): void {
  out.reserve(2);
  out.putByte(CR);
  out.putByte(LF);
}

/** Reads `row` below the `rowCount` the view was loaded with: in bounds (see json-columns.ts). */
function writeCsvValue(out: JsonWriter, view: ColumnView, row: number): void {
  if (view.isNull(row)) return;
  switch (view.kind) {
    case ColumnKind.varchar:
      locateVarchar(view, row);
      writeCsvBytes(out, view.text, view.textStart, view.textEnd);
      return;
    case ColumnKind.timestampMicros:
      writeUnquotedTimestampMicros(out, view, row);
      return;
    case ColumnKind.double:
      writeCsvDouble(out, view.float64[row] as number, false);
      return;
    case ColumnKind.float:
      writeCsvDouble(out, view.float32[row] as number, true);
      return;
    case ColumnKind.other:
    case ColumnKind.nested:
      // DuckDB's own text for the value (its cast to VARCHAR).
      writeCsvText(out, fallbackText(view, row));
      return;
    case ColumnKind.blob:
      // Base64 never holds a comma, quote or line break.
      locateVarchar(view, row);
      putBase64(out, view.text, view.textStart, view.textEnd);
      return;
    default:
      // Numbers, dates, timestamps: their text never holds a comma, quote or line break.
      writeUnquotedValue(out, view, row);
  }
}

/** DuckDB's text for a value of kind `other` or nested; an empty field, CSV's NULL, for NULL. */
function fallbackText(view: ColumnView, row: number): string {
  const value = fallbackValue(view, row);
  return value === null ? '' : String(value);
}

function writeCsvDouble(out: JsonWriter, value: number, single: boolean): void {
  if (Number.isNaN(value)) out.ascii('NaN');
  else if (value === Number.POSITIVE_INFINITY) out.ascii('Infinity');
  else if (value === Number.NEGATIVE_INFINITY) out.ascii('-Infinity');
  else if (single) writeFloat(out, value);
  else writeDouble(out, value);
}

function writeCsvText(out: JsonWriter, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  writeCsvBytes(out, bytes, 0, bytes.length);
}

/**
 * Writes UTF-8 bytes `source[start..end)` as one CSV field, quoted only when it must be. The range
 * lies inside `source` (see JsonWriter.putBytes), so bytes are read without a check per byte.
 */
export function writeCsvBytes(out: JsonWriter, source: Uint8Array, start: number, end: number): void {
  let quoteCount = 0;
  let needsQuotes = start === end;
  for (let index = start; index < end; index++) {
    const code = source[index] as number;
    if (code === QUOTE) quoteCount++;
    else if (code === COMMA || code === CR || code === LF) needsQuotes = true;
  }
  const length = end - start;
  if (!needsQuotes && quoteCount === 0) {
    out.copy(source, start, end);
    return;
  }
  out.reserve(length + quoteCount + 2);
  const bytes = out.bytes;
  let at = out.length;
  bytes[at++] = QUOTE;
  for (let index = start; index < end; index++) {
    const code = source[index] as number;
    bytes[at++] = code;
    if (code === QUOTE) bytes[at++] = QUOTE;
  }
  bytes[at++] = QUOTE;
  out.length = at;
}
