// Proves the writer's last-value cache keeps, per key, the newest `count` rows by time: rows
// arriving out of order never replace newer ones, a row of the same key and time replaces the one
// cached, seeded rows merge newest-wins, new columns are answered (null where a row lacks them),
// rows past the TTL leave answers, and the version changes whenever the answer may (an unchanged
// cache answers the same packed rows again, a change new ones).
import { describe, expect, it } from 'vitest';
import { BatchBuilder, ColumnBuilder, ColumnRole, packLastValueRows, unpackLastValueRows, type ColumnBatch } from '@arc/columnar';
import { isArcError } from '@arc/errors';
import { LastValueCaches, type LastCacheDefinition } from '../src/last-value-cache.js';
import { appendValue, type Value } from './support/test-values.js';

const T0 = 1_700_000_000_000_000;

/** A cpu batch of rows `[timeOffsetUs, host, usage, extra?]`. */
function batchOf(rows: readonly (readonly [number, string, number, Value?])[], withExtra = false): ColumnBatch {
  const builder = new BatchBuilder();
  builder.reset('db', 'cpu');
  for (const [offset, host, usage, extra] of rows) {
    const rowError = builder.beginRow(T0 + offset);
    if (rowError !== null) throw rowError;
    const columns: [string, ColumnRole, Value][] = [['host', ColumnRole.tag, host], ['usage', ColumnRole.field, usage]];
    if (withExtra) columns.push(['extra', ColumnRole.field, extra ?? null]);
    for (const [name, role, value] of columns) {
      const column = builder.column(name, role);
      if (!(column instanceof ColumnBuilder)) throw column;
      appendValue(column, value);
    }
  }
  const batch = builder.pack();
  if (isArcError(batch)) throw batch;
  return batch;
}

const DEFINITION: LastCacheDefinition = { database: 'db', measurement: 'cpu', name: 'last', keyColumns: ['host'], valueColumns: null, count: 1, ttlSeconds: 60 };

function answer(caches: LastValueCaches, nowMs = 0): { columns: string[]; rows: unknown[][]; version: number } {
  const [table] = caches.tables('db', 'cpu', ['last'], nowMs);
  if (table === undefined) throw new Error('no table');
  const rows = unpackLastValueRows(table.rowsPacked).sort((left, right) => String(left[0]).localeCompare(String(right[0])));
  return { columns: table.columns.map((column) => column.name), rows, version: table.version };
}

describe('LastValueCaches', () => {
  it('keeps the newest row per key whatever the arrival order; the same time replaces', () => {
    const caches = new LastValueCaches();
    caches.define(DEFINITION, [batchOf([[10, 'a', 1], [30, 'a', 3], [20, 'a', 2]])], 0);
    caches.observe(batchOf([[5, 'a', 0.5], [7, 'b', 7]]), 0);
    expect(answer(caches)).toMatchObject({ columns: ['host', 'usage', 'time'], rows: [['a', 3, T0 + 30], ['b', 7, T0 + 7]] });
    caches.observe(batchOf([[30, 'a', 33], [8, 'b', 8]]), 0);
    expect(answer(caches).rows).toEqual([['a', 33, T0 + 30], ['b', 8, T0 + 8]]);
    const version = answer(caches).version;
    expect(answer(caches).version).toBe(version);
    const [packed] = caches.tables('db', 'cpu', ['last'], 0);
    expect(caches.tables('db', 'cpu', ['last'], 0)[0]?.rowsPacked).toBe(packed?.rowsPacked);
    caches.observe(batchOf([[1, 'b', 1]]), 0);
    expect(answer(caches).version).not.toBe(version);
    expect(caches.tables('db', 'cpu', ['last'], 0)[0]?.rowsPacked).not.toBe(packed?.rowsPacked);
    caches.observe(batchOf([[40, 'b', 40]]), 0);
    expect(answer(caches).rows).toEqual([['a', 33, T0 + 30], ['b', 40, T0 + 40]]);
  });

  it('keeps count rows per key, newest first, and merges seeded rows newest-wins', () => {
    const caches = new LastValueCaches();
    caches.define({ ...DEFINITION, count: 2 }, [], 0);
    caches.observe(batchOf([[1, 'a', 1], [3, 'a', 3], [2, 'a', 2]]), 0);
    caches.seed({ database: 'db', measurement: 'cpu', name: 'last', version: 0, columns: [{ name: 'host', type: 'VARCHAR' }, { name: 'usage', type: 'DOUBLE' }, { name: 'time', type: 'TIMESTAMP' }], rowsPacked: packLastValueRows([['a', 4, T0 + 4], ['a', 0, T0], ['c', 9, T0 + 9]]) }, 0);
    const [table] = caches.tables('db', 'cpu', ['last'], 0);
    expect(table === undefined ? null : unpackLastValueRows(table.rowsPacked)).toEqual([['a', 4, T0 + 4], ['a', 3, T0 + 3], ['c', 9, T0 + 9]]);
  });

  it('keeps a field of doubles DOUBLE when a batch of it holds only whole numbers (BIGINT)', () => {
    const caches = new LastValueCaches();
    caches.define(DEFINITION, [batchOf([[1, 'a', 1.5]])], 0);
    const whole = new BatchBuilder();
    whole.reset('db', 'cpu');
    expect(whole.beginRow(T0 + 2)).toBeNull();
    const host = whole.column('host', ColumnRole.tag);
    const usage = whole.column('usage', ColumnRole.field);
    if (!(host instanceof ColumnBuilder) || !(usage instanceof ColumnBuilder)) throw new Error('no column');
    appendValue(host, 'b');
    appendValue(usage, 2n);
    const batch = whole.pack();
    if (isArcError(batch)) throw batch;
    caches.observe(batch, 0);
    const [table] = caches.tables('db', 'cpu', ['last'], 0);
    expect(table?.columns).toEqual([{ name: 'host', type: 'VARCHAR' }, { name: 'usage', type: 'DOUBLE' }, { name: 'time', type: 'TIMESTAMP' }]);
    expect(answer(caches).rows).toEqual([['a', 1.5, T0 + 1], ['b', 2n, T0 + 2]]);
  });

  it('answers columns that appear later (null in older rows), drops rows past the TTL, and empties on clear', () => {
    const caches = new LastValueCaches();
    caches.define(DEFINITION, [batchOf([[1, 'a', 1]])], 0);
    caches.observe(batchOf([[2, 'b', 2, 'x']], true), 30_000);
    expect(answer(caches, 30_000)).toMatchObject({ columns: ['host', 'usage', 'extra', 'time'], rows: [['a', 1, null, T0 + 1], ['b', 2, 'x', T0 + 2]] });
    const before = answer(caches, 30_000).version;
    expect(answer(caches, 61_000).rows).toEqual([['b', 2, 'x', T0 + 2]]);
    expect(answer(caches, 61_000).version).not.toBe(before);
    caches.clear('db', 'cpu');
    expect(answer(caches, 61_000).rows).toEqual([]);
  });
});
