// Proves the merge's deduplication keeps one row per point (tag values, NULL equal to NULL, and
// time) whose every field is the latest write that set it, "later" being a later input file or a
// later row of one file: input Parquet files are written with known rows, merged by a real
// MergeRunner, and the output read back in file order.
import { describe, expect, it } from 'vitest';
import type { MergeResult } from '../src/merge-runner.js';
import { T0_US, SECOND_US, readSql, rowsSql, useMergeFixture } from './merge-fixtures.js';

const fixture = useMergeFixture('arc-merge-dedup-');

const CPU = [
  ['host', 'VARCHAR'],
  ['usage_idle', 'DOUBLE'],
  ['usage_user', 'DOUBLE'],
] as const;

/** The outputs' rows in output order, `time` as seconds after T0. */
async function mergedRows(result: MergeResult): Promise<Record<string, unknown>[]> {
  const paths = result.outputs.map((output) => output.path);
  return fixture.rows(
    `SELECT ((epoch_us(time) - ${String(T0_US)}) // ${String(SECOND_US)})::INTEGER AS s, * EXCLUDE (time) ` +
      `FROM ${readSql(paths)} ORDER BY file_index, file_row_number`,
  );
}

describe('merge with dedup', () => {
  it('keeps, field by field, the latest write that set a value, across three files', async () => {
    const oldest = await fixture.writeInput('three-1.parquet', rowsSql(CPU, [[0, 'a', 90, 1], [1, 'a', 80, 2], [0, 'b', 70, 3]]), ['host']);
    // Sets only usage_user of (a, 0): usage_idle 90 stays.
    const middle = await fixture.writeInput('three-2.parquet', rowsSql(CPU, [[0, 'a', null, 10]]), ['host']);
    // Sets only usage_idle of (a, 0), and nothing of (b, 0).
    const newest = await fixture.writeInput('three-3.parquet', rowsSql(CPU, [[0, 'a', 95, null], [0, 'b', null, null]]), ['host']);
    const result = await fixture.runner.run(fixture.task([oldest, middle, newest]));
    expect(await mergedRows(result)).toEqual([
      { s: 0, host: 'a', usage_idle: 95, usage_user: 10 },
      { s: 1, host: 'a', usage_idle: 80, usage_user: 2 },
      { s: 0, host: 'b', usage_idle: 70, usage_user: 3 },
    ]);
    expect(result).toMatchObject({ inputRows: 6, outputRows: 3, tags: ['host'] });
  });

  it('takes the later input as the later write: the inputs in the other order give the other value', async () => {
    const first = await fixture.writeInput('order-1.parquet', rowsSql(CPU, [[5, 'a', 1, 1]]), ['host']);
    const second = await fixture.writeInput('order-2.parquet', rowsSql(CPU, [[5, 'a', 2, null]]), ['host']);
    expect(await mergedRows(await fixture.runner.run(fixture.task([first, second])))).toEqual([{ s: 5, host: 'a', usage_idle: 2, usage_user: 1 }]);
    expect(await mergedRows(await fixture.runner.run(fixture.task([second, first])))).toEqual([{ s: 5, host: 'a', usage_idle: 1, usage_user: 1 }]);
  });

  it('takes a later row of one file as the later write', async () => {
    const rows: [number, string, number | null, number | null][] = [
      [0, 'a', 1, 1],
      [0, 'a', 2, null],
      [0, 'a', null, 3],
      [0, 'b', 7, 7],
      [0, 'a', 4, null],
    ];
    const file = await fixture.writeInput('one-file.parquet', rowsSql(CPU, rows), ['host']);
    expect(await mergedRows(await fixture.runner.run(fixture.task([file])))).toEqual([
      { s: 0, host: 'a', usage_idle: 4, usage_user: 3 },
      { s: 0, host: 'b', usage_idle: 7, usage_user: 7 },
    ]);
  });

  it('groups NULL tags together, keeps a NULL tag apart from every value, and never erases a value with NULL', async () => {
    const columns = [['host', 'VARCHAR'], ['region', 'VARCHAR'], ['v', 'DOUBLE'], ['w', 'DOUBLE']] as const;
    const older = await fixture.writeInput('nulls-1.parquet', rowsSql(columns, [[0, null, 'eu', 1, 1], [0, 'a', null, 2, 2], [0, null, null, 3, 3]]), ['host', 'region']);
    const newer = await fixture.writeInput('nulls-2.parquet', rowsSql(columns, [[0, null, 'eu', null, 10], [0, 'a', null, 20, null], [0, null, null, null, null]]), ['host', 'region']);
    const result = await fixture.runner.run(fixture.task([older, newer]));
    expect(await mergedRows(result)).toEqual([
      { s: 0, host: 'a', region: null, v: 20, w: 2 },
      { s: 0, host: null, region: 'eu', v: 1, w: 10 },
      { s: 0, host: null, region: null, v: 3, w: 3 },
    ]);
  });

  it('keeps rows of tag sets that differ by a tag added later apart (NULL in the older file)', async () => {
    const older = await fixture.writeInput('added-tag-1.parquet', rowsSql([['host', 'VARCHAR'], ['v', 'DOUBLE']], [[0, 'a', 1]]), ['host']);
    const newer = await fixture.writeInput(
      'added-tag-2.parquet',
      rowsSql([['host', 'VARCHAR'], ['region', 'VARCHAR'], ['v', 'DOUBLE']], [[0, 'a', 'eu', 2], [0, 'a', null, 3]]),
      ['host', 'region'],
    );
    const result = await fixture.runner.run(fixture.task([older, newer]));
    expect(result.tags).toEqual(['host', 'region']);
    expect(await mergedRows(result)).toEqual([
      { s: 0, host: 'a', v: 2, region: 'eu' },
      { s: 0, host: 'a', v: 3, region: null },
    ]);
  });

  it('widens a field written as BIGINT in one file and DOUBLE in another to DOUBLE, latest write winning', async () => {
    const ints = [['host', 'VARCHAR'], ['v', 'BIGINT'], ['n', 'BIGINT']] as const;
    const doubles = [['host', 'VARCHAR'], ['v', 'DOUBLE']] as const;
    const older = await fixture.writeInput('widen-1.parquet', rowsSql(ints, [[0, 'a', 1, 5], [1, 'a', 2, 6]]), ['host']);
    const newer = await fixture.writeInput('widen-2.parquet', rowsSql(doubles, [[0, 'a', 1.5], [2, 'a', 2.5]]), ['host']);
    const result = await fixture.runner.run(fixture.task([older, newer]));
    expect(result.columns).toEqual([
      { name: 'time', type: 'TIMESTAMP' },
      { name: 'host', type: 'VARCHAR' },
      { name: 'v', type: 'DOUBLE' },
      { name: 'n', type: 'BIGINT' },
    ]);
    expect(await mergedRows(result)).toEqual([
      { s: 0, host: 'a', v: 1.5, n: 5n },
      { s: 1, host: 'a', v: 2, n: 6n },
      { s: 2, host: 'a', v: 2.5, n: null },
    ]);
    // The newer file first: its DOUBLE still wins the type, the older BIGINT the value.
    expect(await mergedRows(await fixture.runner.run(fixture.task([newer, older])))).toEqual([
      { s: 0, host: 'a', v: 1, n: 5n },
      { s: 1, host: 'a', v: 2, n: 6n },
      { s: 2, host: 'a', v: 2.5, n: null },
    ]);
  });

  it('takes the latest write of every field type the writer produces', async () => {
    const columns = [['host', 'VARCHAR'], ['i', 'BIGINT'], ['u', 'UBIGINT'], ['d', 'DOUBLE'], ['text', 'VARCHAR'], ['flag', 'BOOLEAN']] as const;
    const older = await fixture.writeInput('types-1.parquet', rowsSql(columns, [[0, 'a', -1, 1, 1.5, 'old', 'true'], [0, 'a', null, null, null, 'older row 2', null]]), ['host']);
    const newer = await fixture.writeInput('types-2.parquet', rowsSql(columns, [[0, 'a', null, '18446744073709551615', null, 'new', 'false'], [0, 'a', null, null, 2.5, null, null]]), ['host']);
    expect(await mergedRows(await fixture.runner.run(fixture.task([older, newer])))).toEqual([
      { s: 0, host: 'a', i: -1n, u: 18446744073709551615n, d: 2.5, text: 'new', flag: false },
    ]);
  });

  it('keeps every row without dedup, rows of one point in write order', async () => {
    const older = await fixture.writeInput('keep-1.parquet', rowsSql(CPU, [[0, 'a', 1, 1], [0, 'a', 2, 2]]), ['host']);
    const newer = await fixture.writeInput('keep-2.parquet', rowsSql(CPU, [[0, 'a', 3, null], [0, 'b', 4, 4]]), ['host']);
    const result = await fixture.runner.run(fixture.task([older, newer], { dedup: false }));
    expect(result).toMatchObject({ inputRows: 4, outputRows: 4 });
    expect(await mergedRows(result)).toEqual([
      { s: 0, host: 'a', usage_idle: 1, usage_user: 1 },
      { s: 0, host: 'a', usage_idle: 2, usage_user: 2 },
      { s: 0, host: 'a', usage_idle: 3, usage_user: null },
      { s: 0, host: 'b', usage_idle: 4, usage_user: 4 },
    ]);
  });
});
