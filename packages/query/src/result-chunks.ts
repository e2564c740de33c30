import assert from 'node:assert/strict';
import { DuckDBMaterializedResult } from '@duckdb/node-api';
import type { DuckDBDataChunk, DuckDBType } from '@duckdb/node-api';

/**
 * Rows a query thread computed itself (series-answer.ts), laid out as a DuckDB vector holds them:
 * per column, its values in its type's layout and a validity mask of 64-bit words (bit i = row i;
 * null when every row is valid). The encoders read it as they read a DuckDB chunk (json-columns.ts),
 * without making one: a DuckDB chunk of rows already in memory cost native calls to create, fill
 * and read back on every series window (docs/benchmarks.md, "The fixed cost of a series window").
 */
export class MemoryChunk {
  readonly rowCount: number;
  readonly columnBytes: readonly Uint8Array[];
  readonly columnValidity: readonly (Uint8Array | null)[];

  constructor(rowCount: number, columnBytes: readonly Uint8Array[], columnValidity: readonly (Uint8Array | null)[]) {
    assert.equal(columnBytes.length, columnValidity.length, 'a validity entry for every column');
    assert.ok(columnValidity.every((validity) => validity === null || validity.length * 8 >= rowCount), 'a validity bit for every row');
    this.rowCount = rowCount;
    this.columnBytes = columnBytes;
    this.columnValidity = columnValidity;
  }
}

/** One chunk of an answer's rows, as the encoders read it. */
export type AnswerChunk = DuckDBDataChunk | MemoryChunk;

/**
 * What the encoders read of an answer: a DuckDB result, or an answer a query thread computed
 * itself (series-answer.ts), handed over in memory chunks.
 */
export interface AnswerRows {
  readonly columnCount: number;
  columnName(index: number): string;
  columnType(index: number): DuckDBType;
  fetchChunk(): Promise<AnswerChunk | null>;
}

/**
 * Reads a streaming result chunk by chunk and hands each to `visit` with the number of its rows
 * to use: all of them, or fewer once `rowLimit` rows have been handed out, after which no more
 * chunks are fetched (the request's `limit` caps the answer without touching the user's SQL).
 * `isCancelled` is checked after every fetch so a timeout also stops a long encode. Resolves with
 * the rows handed out, or null when cancelled. A materialized result knows its row count, so its
 * last rows end the loop without one more fetch to learn there are none: each fetch is a trip
 * through DuckDB's thread pool (0.04-0.07 ms), half the fetches of a one-chunk answer.
 *
 * The next chunk is fetched while `visit` writes this one: a fetch runs on a thread of the pool
 * (copying a materialized result's rows into a new chunk costs ~0.35 ms of CPU for 2,048 rows of
 * TSBS's 21 columns; a streaming result computes its next rows), and a fetched chunk stays valid
 * while later ones are fetched. A fetch still running when the loop ends early (cancelled, or
 * `visit` threw) is waited for, so the result is never closed under it.
 */
export async function forEachChunk(
  result: AnswerRows,
  rowLimit: number,
  isCancelled: () => boolean,
  visit: (chunk: AnswerChunk, rowCount: number, rowsBefore: number) => void,
): Promise<number | null> {
  let rowCount = 0;
  const rowsWanted = result instanceof DuckDBMaterializedResult ? Math.min(rowLimit, result.rowCount) : rowLimit;
  let next: Promise<AnswerChunk | null> | null = rowsWanted > 0 ? result.fetchChunk() : null;
  try {
    while (next !== null) {
      const chunk = await next;
      next = null;
      if (isCancelled()) return null;
      if (chunk === null || chunk.rowCount === 0) break;
      const rowsUsed = Math.min(chunk.rowCount, rowsWanted - rowCount);
      if (rowCount + rowsUsed < rowsWanted) next = result.fetchChunk();
      visit(chunk, rowsUsed, rowCount);
      rowCount += rowsUsed;
    }
    return rowCount;
  } finally {
    if (next !== null) await next.catch(() => null);
  }
}

/** Milliseconds with three decimals: sub-millisecond queries are common and a bare 0 hides them. */
export function roundedMs(elapsedMs: number): number {
  return Math.round(elapsedMs * 1000) / 1000;
}
