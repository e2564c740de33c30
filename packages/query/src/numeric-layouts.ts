import {
  DuckDBBigIntType,
  DuckDBDoubleType,
  DuckDBFloatType,
  DuckDBIntegerType,
  DuckDBSmallIntType,
  DuckDBTimestampType,
  DuckDBTinyIntType,
  DuckDBUBigIntType,
  DuckDBUIntegerType,
  DuckDBUSmallIntType,
  DuckDBUTinyIntType,
} from '@duckdb/node-api';
import type { DuckDBType } from '@duckdb/node-api';

/**
 * The fixed-width numeric column types series windows read out of DuckDB vectors (the series
 * cache) and write into them (the answer): DuckDB's type and the typed array a vector of it is
 * laid out in. One table for both directions, so a type read is a type answered alike.
 */

/** A typed array over a vector's data. */
export type NumericArray = Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface NumericLayout {
  readonly type: DuckDBType;
  /** The typed array of its values, little-endian as DuckDB lays them out. */
  readonly array: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray; readonly BYTES_PER_ELEMENT: number };
  /** A 64-bit integer: its elements are BigInts. */
  readonly wide: boolean;
}

/** By DuckDB's type name (DESCRIBE's). TIMESTAMP is µs since the epoch, a 64-bit integer. */
export const NUMERIC_LAYOUTS: ReadonlyMap<string, NumericLayout> = new Map<string, NumericLayout>([
  ['DOUBLE', { type: DuckDBDoubleType.instance, array: Float64Array, wide: false }],
  ['FLOAT', { type: DuckDBFloatType.instance, array: Float32Array, wide: false }],
  ['BIGINT', { type: DuckDBBigIntType.instance, array: BigInt64Array, wide: true }],
  ['UBIGINT', { type: DuckDBUBigIntType.instance, array: BigUint64Array, wide: true }],
  ['INTEGER', { type: DuckDBIntegerType.instance, array: Int32Array, wide: false }],
  ['UINTEGER', { type: DuckDBUIntegerType.instance, array: Uint32Array, wide: false }],
  ['SMALLINT', { type: DuckDBSmallIntType.instance, array: Int16Array, wide: false }],
  ['USMALLINT', { type: DuckDBUSmallIntType.instance, array: Uint16Array, wide: false }],
  ['TINYINT', { type: DuckDBTinyIntType.instance, array: Int8Array, wide: false }],
  ['UTINYINT', { type: DuckDBUTinyIntType.instance, array: Uint8Array, wide: false }],
  ['TIMESTAMP', { type: DuckDBTimestampType.instance, array: BigInt64Array, wide: true }],
]);
