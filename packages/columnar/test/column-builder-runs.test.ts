// Proves the run appends of ColumnBuilder (a decoder's runs of small integers, big-endian doubles
// and strings) give the batch the same rows as one append per value: validity after earlier nulls,
// widening, a dictionary outgrown mid-run, and a refused run that appends nothing.
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { AppendResult, BatchBuilder, ColumnRole, DICTIONARY_ENTRIES_MAX, valueAt, type ColumnBuilder } from '../src/index.js';

function builderWith(role: ColumnRole, rowCount: number): { builder: BatchBuilder; column: ColumnBuilder } {
  const builder = new BatchBuilder();
  builder.reset('db', 'm');
  const first = builder.beginRows(rowCount);
  if (first instanceof ArcError) throw first;
  for (let row = 0; row < rowCount; row++) builder.setTimeAt(row, row);
  const column = builder.column('c', role, 0);
  if (column instanceof ArcError) throw column;
  return { builder, column };
}

function values(builder: BatchBuilder): unknown[] {
  const batch = builder.pack();
  if (batch instanceof ArcError) throw batch;
  const layout = batch.columns[0];
  if (layout === undefined) throw new Error('no column');
  return Array.from({ length: batch.rowCount }, (_, row) => valueAt(batch, layout, row));
}

function bigEndianDoubles(numbers: number[]): DataView {
  const view = new DataView(new ArrayBuffer(numbers.length * 9));
  numbers.forEach((value, index) => {
    view.setUint8(index * 9, 0xcb);
    view.setFloat64(index * 9 + 1, value, false);
  });
  return view;
}

describe('ColumnBuilder runs', () => {
  it('appends small integers after nulls as valid int64 values, and as doubles into a float64 column', () => {
    const { builder, column } = builderWith(ColumnRole.field, 5);
    column.appendNull();
    column.appendNull();
    expect(column.appendSmallIntegers(Uint8Array.of(9, 0, 255, 7), 1, 3)).toBe(AppendResult.ok);
    expect(values(builder)).toEqual([null, null, 0n, 255n, 7n]);
    const floats = builderWith(ColumnRole.field, 3);
    floats.column.appendFloat64(0.5);
    expect(floats.column.appendSmallIntegers(Uint8Array.of(1, 2), 0, 2)).toBe(AppendResult.ok);
    expect(values(floats.builder)).toEqual([0.5, 1, 2]);
  });

  it('appends strided big-endian doubles, widening an int64 column first', () => {
    const { builder, column } = builderWith(ColumnRole.field, 4);
    column.appendInteger(3);
    column.appendNull();
    expect(column.appendFloat64Run(bigEndianDoubles([1.5, -0, 1e300]), 1, 9, 2)).toBe(AppendResult.ok);
    expect(values(builder)).toEqual([3, null, 1.5, -0]);
  });

  it('appends string ranges as dictionary codes, and as plain utf8 once the dictionary is outgrown mid-run', () => {
    const rowCount = DICTIONARY_ENTRIES_MAX + 10;
    const strings = Array.from({ length: rowCount }, (_, row) => (row === 0 ? 'Zürich' : `v${row}`));
    const source = Buffer.from(strings.join(''));
    const ranges = new Int32Array(rowCount * 2);
    let at = 0;
    strings.forEach((value, index) => {
      ranges[index * 2] = at;
      at += Buffer.byteLength(value);
      ranges[index * 2 + 1] = at;
    });
    const { builder, column } = builderWith(ColumnRole.tag, rowCount + 1);
    column.appendNull();
    expect(column.appendUtf8Ranges(source, ranges, rowCount)).toBe(AppendResult.ok);
    expect(column.isDictionaryEncoded()).toBe(false);
    expect(values(builder)).toEqual([null, ...strings]);
  });

  it('refuses a run of another type, appending nothing', () => {
    const { column } = builderWith(ColumnRole.tag, 3);
    column.appendString('a');
    expect(column.appendSmallIntegers(Uint8Array.of(1, 2), 0, 2)).toBe(AppendResult.typeConflict);
    expect(column.appendFloat64Run(bigEndianDoubles([1, 2]), 1, 9, 2)).toBe(AppendResult.typeConflict);
    expect(column.length).toBe(1);
    const ints = builderWith(ColumnRole.field, 3);
    ints.column.appendInteger(1);
    expect(ints.column.appendUtf8Ranges(Buffer.from('ab'), Int32Array.of(0, 1, 1, 2), 2)).toBe(AppendResult.typeConflict);
    expect(ints.column.length).toBe(1);
  });
});
