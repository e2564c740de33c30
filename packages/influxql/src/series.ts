import assert from 'node:assert/strict';

/** A value of an answer: as Arc's columnar msgpack answer decodes (int64 beyond 2^53 as bigint). */
export type Cell = number | bigint | string | boolean | null;

/** One series of a statement's answer, in InfluxDB's shape. */
export interface Series {
  /** Absent for SHOW RETENTION POLICIES, as in InfluxDB. */
  readonly name: string | null;
  /** Present (possibly with empty values) when the statement groups by tags. */
  readonly tags: Readonly<Record<string, string>> | null;
  readonly columns: readonly string[];
  /**
   * Rows. When `timeColumn` is true, each row's first cell is the time in nanoseconds (bigint),
   * formatted by the serializer after the request's `epoch`. Each row holds a cell per column.
   */
  readonly values: readonly (readonly Cell[])[];
  readonly timeColumn: boolean;
  /** tz('...') of the statement: times are printed with this zone's offset (absent: UTC). */
  readonly timeZone?: string;
}

export type StatementResult = { readonly series: readonly Series[] } | { readonly error: string };

/** Arc's columnar query answer (the msgpack format): `data[i]` holds the values of `columns[i]`. */
export interface ColumnarResult {
  readonly columns: readonly string[];
  readonly data: readonly (readonly Cell[])[];
}

/** Rows of a columnar result: each column holds a value per row; a result without columns has none. */
export function rowCountOf(result: ColumnarResult): number {
  const [first] = result.data;
  return first === undefined ? 0 : first.length;
}

/** Rows of a columnar result, row-major. */
export function rowsOf(result: ColumnarResult): Cell[][] {
  const rowCount = rowCountOf(result);
  for (const column of result.data) assert.equal(column.length, rowCount, 'every column holds a value per row');
  const rows: Cell[][] = [];
  for (let row = 0; row < rowCount; row++) rows.push(result.data.map((column) => column[row] as Cell));
  return rows;
}

/** Applies `OFFSET` then `LIMIT` to a list (values of a series, or the series of a statement). */
export function sliceLimit<T>(items: readonly T[], limit: number | null, offset: number): readonly T[] {
  if (limit === null && offset === 0) return items;
  // The parser turns InfluxDB's LIMIT 0 ("no limit") into null.
  return limit === null ? items.slice(offset) : items.slice(offset, offset + limit);
}
