import assert from 'node:assert/strict';
import type { BufferRange, ColumnBatch, ColumnLayout, SchemaColumn } from './types.js';

/** Read-side helpers over a packed `ColumnBatch` (writer threads, tests). No copies. */
export function bytesOf(batch: ColumnBatch, range: BufferRange): Uint8Array {
  return new Uint8Array(batch.buffer, range.byteOffset, range.byteLength);
}

/** Time values as int32 (low, high) pairs: read without BigInt allocation. */
export function timePairsOf(batch: ColumnBatch): Int32Array {
  return new Int32Array(batch.buffer, batch.time.byteOffset, batch.rowCount * 2);
}

/**
 * The time of `row` in microseconds from its (low, high) pair. The caller's loop keeps
 * row < pairs.length / 2 (a row of the batch); this runs per row, so it does not assert that again.
 */
export function timeMicrosAt(pairs: Int32Array, row: number): number {
  return (pairs[row * 2 + 1] as number) * 4294967296 + ((pairs[row * 2] as number) >>> 0);
}

/** Bit `index` of a validity or bool bitmap; the caller keeps index < 8 * bitmap.length (a row of the batch). */
export function isBitSet(bitmap: Uint8Array, index: number): boolean {
  return (((bitmap[index >>> 3] as number) >>> (index & 7)) & 1) === 1;
}

/** The value of one row as a JavaScript value (tests and diagnostics; not for hot paths). */
export function valueAt(batch: ColumnBatch, column: ColumnLayout, row: number): number | bigint | string | boolean | null {
  assert.ok(row >= 0, 'a row is not negative');
  assert.ok(row < batch.rowCount, 'a row of the batch');
  if (column.validity !== null && !isBitSet(bytesOf(batch, column.validity), row)) return null;
  switch (column.type) {
    case 'int64':
      return new BigInt64Array(batch.buffer, column.values.byteOffset, batch.rowCount)[row] as bigint;
    case 'uint64':
      return new BigUint64Array(batch.buffer, column.values.byteOffset, batch.rowCount)[row] as bigint;
    case 'float64':
      return new Float64Array(batch.buffer, column.values.byteOffset, batch.rowCount)[row] as number;
    case 'bool':
      return isBitSet(bytesOf(batch, column.values), row);
    case 'utf8': {
      if (column.dictionary !== null) {
        const code = new Int32Array(batch.buffer, column.values.byteOffset, batch.rowCount)[row] as number;
        return utf8At(batch, column.dictionary.offsets, column.dictionary.data, code, column.dictionary.size);
      }
      if (column.offsets === null) return null;
      return utf8At(batch, column.offsets, column.values, row, batch.rowCount);
    }
  }
}

/**
 * Every row as `{time (us), ...columns}` (tests and diagnostics; allocates per value); a time
 * beyond ±2^53 µs, not exact as a number, is a bigint.
 */
export function rowObjects(batch: ColumnBatch): Record<string, unknown>[] {
  const pairs = timePairsOf(batch);
  const times = new BigInt64Array(batch.buffer, batch.time.byteOffset, batch.rowCount);
  return Array.from({ length: batch.rowCount }, (_, row) => {
    const micros = timeMicrosAt(pairs, row);
    const out: Record<string, unknown> = { time: Number.isSafeInteger(micros) ? micros : times[row] };
    for (const column of batch.columns) out[column.name] = valueAt(batch, column, row);
    return out;
  });
}

export function schemaOf(batch: ColumnBatch): SchemaColumn[] {
  return batch.columns.map(({ name, role, type }) => ({ name, role, type }));
}

/** True when every value of the column is null: its type carries no information. */
export function isAllNull(batch: ColumnBatch, column: ColumnLayout): boolean {
  return column.nullCount === batch.rowCount;
}

/** Value `index` of `count` utf8 values; offsets holds count + 1 entries (one past the end). */
function utf8At(batch: ColumnBatch, offsetsRange: BufferRange, dataRange: BufferRange, index: number, count: number): string {
  assert.ok(index >= 0, 'a value index is not negative');
  assert.ok(index < count, 'a value of the column (a row, or a code of its dictionary)');
  const offsets = new Int32Array(batch.buffer, offsetsRange.byteOffset, count + 1);
  const start = offsets[index] as number;
  const end = offsets[index + 1] as number;
  return Buffer.from(batch.buffer, dataRange.byteOffset + start, end - start).toString('utf8');
}
