import { ColumnView, loadViews, planColumn, valueWriterFor } from './json-columns.js';
import type { ColumnPlan, ValueWriter } from './json-columns.js';
import { JsonWriter } from './json-writer.js';
import { forEachChunk, roundedMs } from './result-chunks.js';
import type { AnswerChunk, AnswerRows } from './result-chunks.js';

export interface EncodedAnswer {
  readonly body: Uint8Array;
  readonly rowCount: number;
}

/**
 * Builds the JSON answer
 *   {"success":true,"columns":[...],"data":[[...],...],"row_count":N,"execution_time_ms":X,"timestamp":"..."}
 * chunk by chunk from a streaming result, straight from the vectors: DuckDB computes the next
 * chunk while this one is written. At most `rowLimit` rows; null when cancelled between chunks.
 */
export async function encodeJsonAnswer(
  result: AnswerRows,
  startedAtMs: number,
  rowLimit: number,
  isCancelled: () => boolean,
): Promise<EncodedAnswer | null> {
  const out = JsonWriter.fromScratch();
  try {
    const plans = writeHeader(out, result);
    const views = plans.map(() => new ColumnView());
    const writers = plans.map((plan) => valueWriterFor(plan.kind));
    const rowCount = await forEachChunk(result, rowLimit, isCancelled, (chunk, rows, rowsBefore) => {
      writeChunk(out, chunk, rows, plans, views, writers, rowsBefore === 0);
    });
    if (rowCount === null) return null;
    writeFooter(out, rowCount, performance.now() - startedAtMs);
    return { body: out.release(), rowCount };
  } finally {
    // Gives back the blocks or lent buffer of an abandoned answer (nothing after release).
    out.recycle();
  }
}

function writeHeader(out: JsonWriter, result: AnswerRows): ColumnPlan[] {
  out.ascii('{"success":true,"columns":[');
  const plans: ColumnPlan[] = [];
  for (let column = 0; column < result.columnCount; column++) {
    if (column > 0) out.byte(0x2c);
    out.string(result.columnName(column));
    plans.push(planColumn(result.columnType(column)));
  }
  out.ascii('],"data":[');
  return plans;
}

/** Writes the chunk's first `rowCount` rows, row-major. */
function writeChunk(
  out: JsonWriter,
  chunk: AnswerChunk,
  rowCount: number,
  plans: readonly ColumnPlan[],
  views: readonly ColumnView[],
  writers: readonly ValueWriter[],
  first: boolean,
): void {
  loadViews(views, plans, chunk, rowCount);
  for (let row = 0; row < rowCount; row++) {
    out.reserve(2);
    if (!first || row > 0) out.putByte(0x2c);
    out.putByte(0x5b);
    for (let column = 0; column < views.length; column++) {
      const view = views[column];
      const write = writers[column];
      if (view === undefined || write === undefined) continue;
      if (column > 0) out.byte(0x2c);
      const validity = view.validity;
      if (validity !== null && (((validity[row >>> 3] as number) >>> (row & 7)) & 1) === 0) out.ascii('null');
      else write(out, view, row);
    }
    out.byte(0x5d);
  }
}

function writeFooter(out: JsonWriter, rowCount: number, elapsedMs: number): void {
  out.ascii('],"row_count":');
  out.integer(rowCount);
  out.ascii(',"execution_time_ms":');
  out.ascii(String(roundedMs(elapsedMs)));
  out.ascii(',"timestamp":');
  out.string(new Date().toISOString());
  out.byte(0x7d);
}
