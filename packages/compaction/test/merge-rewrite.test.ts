// Proves the rewrite primitive (a merge task with a remove predicate) keeps exactly the rows the
// predicate does not match, NULLs included, writes no output when it keeps none, and refuses a
// predicate that is more than a plain expression over the rows (another table, a subquery, a
// second statement, a volatile function) with ARC_COMPACTION_BAD_PREDICATE before touching a
// file; real MergeRunner on the built worker, outputs read back by a separate DuckDB instance.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isArcError } from '@arc/errors';
import { CompactionErrorCode } from '../src/error-codes.js';
import type { MergeResult } from '../src/merge-runner.js';
import { SECOND_US, T0_US, readSql, rowsSql, useMergeFixture } from './merge-fixtures.js';

const fixture = useMergeFixture('arc-merge-rewrite-');

const COLUMNS = [['host', 'VARCHAR'], ['v', 'DOUBLE']] as const;

async function twoInputs(): Promise<string[]> {
  const older = await fixture.writeInput(`older-${String(Math.random()).slice(2)}.parquet`, rowsSql(COLUMNS, [[0, 'a', 1], [1, 'b', 2], [2, null, 3], [3, 'a', 4]]), ['host']);
  const newer = await fixture.writeInput(`newer-${String(Math.random()).slice(2)}.parquet`, rowsSql(COLUMNS, [[4, 'a', 5], [5, 'c', 6], [6, 'b', null]]), ['host']);
  return [older, newer];
}

async function rowsOf(result: MergeResult): Promise<Record<string, unknown>[]> {
  const paths = result.outputs.map((output) => output.path);
  return fixture.rows(`SELECT ((epoch_us(time) - ${String(T0_US)}) // ${String(SECOND_US)})::INTEGER AS s, host, v FROM ${readSql(paths)} ORDER BY s`);
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  const error: unknown = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  return isArcError(error) ? { code: error.code, status: error.kind } : error;
}

describe('MergeRunner rewrite (removeWhere)', () => {
  it('keeps exactly the rows the predicate does not match (NULL is not a match), with exact facts', async () => {
    const inputs = await twoInputs();
    const result = await fixture.runner.run(fixture.task(inputs, { dedup: false, removeWhere: "host = 'a' OR v >= 6" }));
    expect(await rowsOf(result)).toEqual([
      { s: 1, host: 'b', v: 2 },
      { s: 2, host: null, v: 3 },
      { s: 6, host: 'b', v: null },
    ]);
    expect({ inputRows: result.inputRows, outputRows: result.outputRows, files: result.outputs.length }).toEqual({ inputRows: 7, outputRows: 3, files: 1 });
    expect(result.outputs[0]).toMatchObject({ rows: 3, minTimeUs: T0_US + SECOND_US, maxTimeUs: T0_US + 6 * SECOND_US });
  });

  it('a time cut-off keeps the rows at or after it (retention of a straddling file), deduplicating too', async () => {
    const inputs = await twoInputs();
    const cutOff = `make_timestamp(${String(T0_US + 3 * SECOND_US)}::BIGINT)`;
    const result = await fixture.runner.run(fixture.task(inputs, { dedup: true, removeWhere: `time < ${cutOff}` }));
    expect(await rowsOf(result)).toEqual([
      { s: 3, host: 'a', v: 4 },
      { s: 4, host: 'a', v: 5 },
      { s: 5, host: 'c', v: 6 },
      { s: 6, host: 'b', v: null },
    ]);
  });

  it('keeps no row: no output file, every staged path left untouched', async () => {
    const inputs = await twoInputs();
    const task = fixture.task(inputs, { dedup: false, removeWhere: 'true' });
    const result = await fixture.runner.run(task);
    expect(result).toMatchObject({ outputs: [], inputRows: 7, outputRows: 0 });
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([]);
  });

  it.each([
    ['a subquery', "host IN (SELECT host FROM read_parquet('/etc/x.parquet'))"],
    ['a scalar subquery', '(SELECT 1) = 1'],
    ['a second statement', "host = 'a'; DROP TABLE t"],
    ['a parenthesis closed early', "host = 'a') OR (true"],
    ['an environment read', "getenv('HOME') = host"],
    ['a setting read', "current_setting('temp_directory') = host"],
    ['a volatile function', 'random() < 0.5'],
    ['a window', 'row_number() OVER () = 1'],
    ['a parameter', 'host = $1'],
    ['not SQL', 'host = AND'],
    ['an empty text', '  '],
    ['an unclosed comment', "host = 'a' /*"],
  ])('refuses %s (400 ARC_COMPACTION_BAD_PREDICATE) and writes nothing', async (_name, removeWhere) => {
    const inputs = await twoInputs();
    const task = fixture.task(inputs, { dedup: false, removeWhere });
    const expected = { code: CompactionErrorCode.badPredicate, status: 'bad_request' };
    expect(await refusal(fixture.runner.checkPredicate(removeWhere))).toEqual(expected);
    expect(await refusal(fixture.runner.run(task))).toEqual(expected);
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([]);
  });

  it('takes a predicate ending in a line comment and runs on after refusals', async () => {
    const inputs = await twoInputs();
    await fixture.runner.checkPredicate("host = 'a' -- the bad sensor");
    const result = await fixture.runner.run(fixture.task(inputs, { dedup: false, removeWhere: "host = 'a' -- the bad sensor" }));
    expect(result.outputRows).toBe(4);
  });
});
