import path from 'node:path';
import { BatchBuilder, ColumnBuilder, ColumnRole, type ColumnBatch } from '@arc/columnar';
import { isArcError } from '@arc/errors';
import { ParquetEncoder } from '../../src/parquet-encoder.js';

/** A batch of `db.<measurement>` with one float field `v`: row i holds values[i] at timeUs(i). */
export function floatBatch(measurement: string, values: readonly number[], timeUs: (index: number) => number): ColumnBatch {
  const builder = new BatchBuilder();
  builder.reset('db', measurement);
  values.forEach((value, index) => {
    const rowError = builder.beginRow(timeUs(index));
    if (rowError !== null) throw rowError;
    const column = builder.column('v', ColumnRole.field);
    if (!(column instanceof ColumnBuilder)) throw column;
    column.appendFloat64(value);
  });
  const batch = builder.pack();
  if (isArcError(batch)) throw batch;
  return batch;
}

/** A small real encoder (one DuckDB thread) spilling under `root`. */
export function openTestEncoder(root: string): Promise<ParquetEncoder> {
  return ParquetEncoder.create({ threads: 1, compression: 'snappy', rowGroupSize: 122_880, tempDirectory: path.join(root, 'duckdb-tmp'), memoryLimit: '256MB' });
}
