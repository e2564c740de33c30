import { deserialize, serialize } from 'node:v8';

/**
 * The rows of a last-value cache as they travel between threads (writer -> main -> query thread):
 * plain values that survive a structured clone. `time` is microseconds since the epoch (a number,
 * or a bigint beyond ±2^53 µs); BIGINT and UBIGINT values are bigints; DOUBLE numbers; VARCHAR
 * strings; BOOLEAN booleans; a missing value is null.
 */
export type LastValue = string | number | bigint | boolean | null;

/** One array per cached row, values in the table's `columns` order. */
export type LastValueRows = readonly (readonly LastValue[])[];

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
  /**
   * The rows, packed by packLastValueRows: one buffer, copied as a whole by each postMessage. A
   * query of the cache crosses two threads (writer -> main -> query thread); cloning 100 rows of
   * 21 values value by value took ~0.4 ms per hop, copying their 20 KB ~15 µs. The writer packs
   * once per version and the query thread unpacks only a version it has not loaded.
   */
  readonly rowsPacked: Uint8Array;
}

/** The rows as one buffer (the structured-clone wire format: every LastValue kind round-trips). */
export function packLastValueRows(rows: LastValueRows): Uint8Array {
  // A buffer of its own, exactly this long: postMessage copies a view's whole ArrayBuffer.
  return new Uint8Array(serialize(rows));
}

/** The rows packLastValueRows packed. */
export function unpackLastValueRows(packed: Uint8Array): LastValue[][] {
  return deserialize(packed) as LastValue[][];
}
