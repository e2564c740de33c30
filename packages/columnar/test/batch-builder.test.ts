// Proves the batch builders produce the documented Arrow layout: tags dictionary-encoded until
// they exceed the dictionary, then plain; nulls, padding, widening and reuse keep every row's value.
import { describe, expect, it } from 'vitest';
import { BatchBuilder, ColumnRole, DICTIONARY_ENTRIES_MAX, valueAt, timePairsOf, timeMicrosAt, type ColumnBatch } from '../src/index.js';
import { ArcError } from '@arc/errors';

function packed(builder: BatchBuilder): ColumnBatch {
  const batch = builder.pack();
  if (batch instanceof ArcError) throw batch;
  return batch;
}

function column(batch: ColumnBatch, name: string): unknown[] {
  const layout = batch.columns.find((c) => c.name === name);
  if (layout === undefined) throw new Error(`no column ${name}`);
  return Array.from({ length: batch.rowCount }, (_, row) => valueAt(batch, layout, row));
}

function tagBuilder(values: (string | null)[]): BatchBuilder {
  const builder = new BatchBuilder({ dictionaryEncodeTags: true });
  builder.reset('db', 'm');
  values.forEach((value, row) => {
    expect(builder.beginRow(row)).toBeNull();
    if (value === null) return;
    const tag = builder.column('host', ColumnRole.tag);
    if (tag instanceof ArcError) throw tag;
    tag.appendString(value);
  });
  return builder;
}

describe('BatchBuilder', () => {
  it('dictionary-encodes tags: codes per row, each distinct value once', () => {
    const batch = packed(tagBuilder(['a', 'b', 'a', null, 'b', 'Zürich']));
    const host = batch.columns[0];
    expect(host?.dictionary?.size).toBe(3);
    expect(host?.offsets).toBeNull();
    expect(Array.from(new Int32Array(batch.buffer, host?.values.byteOffset, 6))).toEqual([0, 1, 0, 0, 1, 2]);
    expect(column(batch, 'host')).toEqual(['a', 'b', 'a', null, 'b', 'Zürich']);
  });

  it('turns a tag plain when it has more distinct values than the dictionary holds', () => {
    const values = Array.from({ length: DICTIONARY_ENTRIES_MAX * 2 }, (_, index) => (index % 3 === 0 ? null : `host-${index}`));
    values.push('host-1');
    const batch = packed(tagBuilder(values));
    expect(batch.columns[0]?.dictionary).toBeNull();
    expect(batch.columns[0]?.offsets).not.toBeNull();
    expect(column(batch, 'host')).toEqual(values);
  });

  it('turns a tag without nulls plain and keeps every value', () => {
    const values = Array.from({ length: DICTIONARY_ENTRIES_MAX + 1 }, (_, index) => `host-${index}`);
    const batch = packed(tagBuilder(values));
    expect(batch.columns[0]?.dictionary).toBeNull();
    expect(column(batch, 'host')).toEqual(values);
  });

  it('appends a tag value again by its dictionary code; refuses once the column is plain', () => {
    const builder = tagBuilder(['a', null, 'b']);
    const host = builder.column('host', ColumnRole.tag);
    if (host instanceof ArcError) throw host;
    expect([0, 1, 2].map((row) => host.dictionaryCodeOf(row))).toEqual([0, -1, 1]);
    builder.beginRow(3);
    expect(host.appendDictionaryCode(1)).toBe(true);
    builder.beginRow(4);
    expect(host.appendDictionaryCode(0)).toBe(true);
    expect(() => host.appendDictionaryCode(2)).toThrow();
    for (let row = 5; row < 5 + DICTIONARY_ENTRIES_MAX; row++) {
      builder.beginRow(row);
      host.appendString(`host-${row}`);
    }
    builder.beginRow(5 + DICTIONARY_ENTRIES_MAX);
    expect(host.dictionaryCodeOf(0)).toBe(-1);
    expect(host.appendDictionaryCode(0)).toBe(false);
    host.appendString('a');
    const values = column(packed(builder), 'host');
    expect(values.slice(0, 5)).toEqual(['a', null, 'b', 'b', 'a']);
    expect(values.slice(-2)).toEqual([`host-${4 + DICTIONARY_ENTRIES_MAX}`, 'a']);
  });

  it('pads columns first seen at a later row with nulls, and missing values with nulls', () => {
    const builder = new BatchBuilder();
    builder.reset('db', 'm');
    for (let row = 0; row < 20; row++) {
      builder.beginRow(1000 + row);
      if (row >= 10) {
        const late = builder.column('late', ColumnRole.field);
        if (late instanceof ArcError) throw late;
        late.appendInteger(row);
      }
      if (row % 2 === 0) {
        const even = builder.column('even', ColumnRole.field);
        if (even instanceof ArcError) throw even;
        even.appendBool(row % 4 === 0);
      }
    }
    const batch = packed(builder);
    expect(column(batch, 'late')).toEqual([...Array<null>(10).fill(null), ...Array.from({ length: 10 }, (_, i) => BigInt(10 + i))]);
    expect(column(batch, 'even')).toEqual(Array.from({ length: 20 }, (_, row) => (row % 2 === 0 ? row % 4 === 0 : null)));
    const pairs = timePairsOf(batch);
    expect(timeMicrosAt(pairs, 19)).toBe(1019);
    expect([batch.timeMinUs, batch.timeMaxUs]).toEqual([1000, 1019]);
  });

  it('widens int64 to float64 and reports other type conflicts', () => {
    const builder = new BatchBuilder();
    builder.reset('db', 'm');
    const values = builder.column('v', ColumnRole.field);
    if (values instanceof ArcError) throw values;
    builder.beginRow(1);
    values.appendInteger(2 ** 40);
    builder.beginRow(2);
    expect(values.appendFloat64(0.5)).toBe(0);
    builder.beginRow(3);
    expect(values.appendString('x')).toBe(1);
  });

  it('keeps no rows or columns of a previous batch after reset', () => {
    const builder = tagBuilder(['a', 'b']);
    packed(builder);
    builder.reset('db', 'other');
    builder.beginRow(5);
    const field = builder.column('f', ColumnRole.field);
    if (field instanceof ArcError) throw field;
    field.appendFloat64(1.5);
    const batch = packed(builder);
    expect(batch.measurement).toBe('other');
    expect(batch.columns.map((c) => c.name)).toEqual(['f']);
    expect(column(batch, 'f')).toEqual([1.5]);
  });

  it('refuses names that collide by case and the reserved name time', () => {
    const builder = new BatchBuilder();
    builder.reset('db', 'm');
    builder.beginRow(1);
    expect(builder.column('Host', ColumnRole.tag)).not.toBeInstanceOf(ArcError);
    expect((builder.column('host', ColumnRole.field) as ArcError).code).toBe('ARC_COLUMN_NAME_CLASH');
    expect((builder.column('TIME', ColumnRole.field) as ArcError).code).toBe('ARC_BAD_COLUMN_NAME');
  });
});
