/**
 * The rows of a last-value cache as they travel between threads (writer -> main -> query thread):
 * plain values that survive a structured clone. `time` is microseconds since the epoch (a number,
 * or a bigint beyond ±2^53 µs); BIGINT and UBIGINT values are bigints; DOUBLE numbers; VARCHAR
 * strings; BOOLEAN booleans; a missing value is null.
 */
export type LastValue = string | number | bigint | boolean | null;

export interface LastValueTable {
  readonly database: string;
  readonly measurement: string;
  /** The cache's name (unique per measurement). */
  readonly name: string;
  /**
   * Changes whenever the cache's rows or columns change (unique within its writer thread's life):
   * a query thread that loaded this version already need not load the rows again.
   */
  readonly version: number;
  /** Key columns first, then value columns, `time` last; type is DuckDB's SQL type name. */
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  /** One array per cached row, values in `columns` order. */
  readonly rows: readonly (readonly LastValue[])[];
}
