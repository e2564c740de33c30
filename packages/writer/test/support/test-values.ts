import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ColumnBuilder } from '@arc/columnar';

/** A uint64 test value (a bigint alone is an int64). */
export interface Unsigned {
  readonly uint64: bigint;
}

/** A test value: int64 as bigint, uint64 as {uint64}, float64 as number, utf8, bool, or null. */
export type Value = bigint | Unsigned | number | string | boolean | null;

/** Appends `value` with the builder call for its type. */
export function appendValue(column: ColumnBuilder, value: Value): void {
  if (value === null) column.appendNull();
  else if (typeof value === 'bigint') column.appendInt64Parts(Number(value >> 32n), Number(value & 0xffffffffn));
  else if (typeof value === 'number') column.appendFloat64(value);
  else if (typeof value === 'string') column.appendString(value);
  else if (typeof value === 'object') column.appendUint64Parts(Number(value.uint64 >> 32n), Number(value.uint64 & 0xffffffffn));
  else column.appendBool(value);
}

/** A separate DuckDB instance that reads back what the encoder wrote, in UTC. */
export interface ParquetReader {
  readonly connection: DuckDBConnection;
  close(): void;
}

export async function openParquetReader(): Promise<ParquetReader> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
