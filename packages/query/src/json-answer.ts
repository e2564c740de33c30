import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import { ColumnView, planColumn, writeValue } from './json-columns.js';
import type { ColumnPlan } from './json-columns.js';
import { JsonWriter } from './json-writer.js';

export const JSON_CONTENT_TYPE = 'application/json';

export interface EncodedAnswer {
  readonly body: Uint8Array;
  readonly rowCount: number;
}

/**
 * Builds the JSON answer
 *   {"success":true,"columns":[...],"data":[[...],...],"row_count":N,"execution_time_ms":X,"timestamp":"..."}
 * chunk by chunk from a streaming result, straight from the vectors: DuckDB computes the next
 * chunk while this one is written. `isCancelled` is checked between chunks so a timeout also
 * stops a long encode; the answer is null then.
 */
export async function encodeJsonAnswer(
  result: DuckDBResult,
  startedAtMs: number,
  isCancelled: () => boolean,
): Promise<EncodedAnswer | null> {
  const out = new JsonWriter();
  const plans = writeHeader(out, result);
  const views = plans.map(() => new ColumnView());
  let rowCount = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (isCancelled()) return null;
    if (chunk === null || chunk.rowCount === 0) break;
    rowCount += writeChunk(out, chunk, plans, views, rowCount === 0);
  }
  writeFooter(out, rowCount, performance.now() - startedAtMs);
  return { body: out.view(), rowCount };
}

function writeHeader(out: JsonWriter, result: DuckDBResult): ColumnPlan[] {
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

/** Writes the chunk's rows, row-major; returns how many. */
function writeChunk(out: JsonWriter, chunk: DuckDBDataChunk, plans: readonly ColumnPlan[], views: readonly ColumnView[], first: boolean): number {
  const rowCount = chunk.rowCount;
  for (let column = 0; column < views.length; column++) {
    const plan = plans[column];
    const view = views[column];
    if (plan === undefined || view === undefined) continue;
    view.load(chunk, column, plan, rowCount);
  }
  for (let row = 0; row < rowCount; row++) {
    out.reserve(2);
    if (!first || row > 0) out.putByte(0x2c);
    out.putByte(0x5b);
    for (let column = 0; column < views.length; column++) {
      const view = views[column];
      if (view === undefined) continue;
      if (column > 0) out.byte(0x2c);
      writeValue(out, view, row);
    }
    out.byte(0x5d);
  }
  return rowCount;
}

function writeFooter(out: JsonWriter, rowCount: number, elapsedMs: number): void {
  out.ascii('],"row_count":');
  out.integer(rowCount);
  out.ascii(',"execution_time_ms":');
  // Three decimals: sub-millisecond queries are common and a bare 0 would hide them.
  out.ascii(String(Math.round(elapsedMs * 1000) / 1000));
  out.ascii(',"timestamp":');
  out.string(new Date().toISOString());
  out.byte(0x7d);
}
