// Proves the merge's SQL building blocks on their own: the `arc:tags` parser refuses near-misses,
// the tag union keeps first-seen order, output splits cover every row once in order, and the
// merge SELECT quotes any column name and path (run against a real DuckDB on odd names).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { copyToSql, mergeSelectSql, outputCount, parseTags, shadowedVirtualColumn, splitRows, unionTags } from '../src/merge-sql.js';

const column = (name: string, type = 'DOUBLE'): { name: string; type: string } => ({ name, type });

describe('parseTags', () => {
  it('reads a JSON array of names', () => {
    expect(parseTags('["host","region"]')).toEqual(['host', 'region']);
    expect(parseTags('[]')).toEqual([]);
  });

  it.each(['', '["host"', 'null', '{}', '"host"', '["host", 1]', '[null]', '[["host"]]', "['host']"])('refuses %j', (text) => {
    expect(parseTags(text)).toBeNull();
  });
});

describe('unionTags', () => {
  it('keeps first-seen order across inputs, once each, only columns the inputs have, never time', () => {
    const columns = [column('time', 'TIMESTAMP'), column('host', 'VARCHAR'), column('region', 'VARCHAR'), column('dc', 'VARCHAR')];
    expect(unionTags([['region'], ['host', 'region', 'gone'], ['dc', 'time', 'host']], columns)).toEqual(['region', 'host', 'dc']);
    expect(unionTags([[], []], columns)).toEqual([]);
  });
});

describe('shadowedVirtualColumn', () => {
  it('finds a column named like a virtual column the merge reads, in any case', () => {
    expect(shadowedVirtualColumn([column('host'), column('FILE_ROW_NUMBER')])).toBe('FILE_ROW_NUMBER');
    expect(shadowedVirtualColumn([column('file_index')])).toBe('file_index');
    expect(shadowedVirtualColumn([column('filename'), column('file_row')])).toBeNull();
  });
});

describe('outputCount and splitRows', () => {
  it('asks for as many outputs as the target size needs, at least one, at most the paths given', () => {
    expect(outputCount(0, 100, 4)).toBe(1);
    expect(outputCount(100, 100, 4)).toBe(1);
    expect(outputCount(101, 100, 4)).toBe(2);
    expect(outputCount(350, 100, 4)).toBe(4);
    expect(outputCount(10_000, 100, 4)).toBe(4);
  });

  it('splits rows into contiguous ranges covering each row once, sizes within one of each other', () => {
    for (const [rows, parts] of [[1, 1], [10, 3], [7, 7], [1_000_003, 4], [2 ** 40, 9]] as const) {
      const ranges = splitRows(rows, parts);
      expect(ranges).toHaveLength(parts);
      expect(ranges[0]?.rowStart).toBe(0);
      expect(ranges.at(-1)?.rowEnd).toBe(rows);
      for (let index = 1; index < ranges.length; index++) expect(ranges[index]?.rowStart).toBe(ranges[index - 1]?.rowEnd);
      const sizes = ranges.map((range) => range.rowEnd - range.rowStart);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });
});

describe('mergeSelectSql on odd names', () => {
  let root = '';
  let instance: DuckDBInstance;
  let db: DuckDBConnection;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "arc-merge-sql-it's "));
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    db = await instance.connect();
  });

  afterAll(async () => {
    db.closeSync();
    instance.closeSync();
    await rm(root, { recursive: true, force: true });
  });

  it('quotes column names and paths holding quotes, spaces and SQL, deduplicating a string field', async () => {
    const tag = `ho"st 'x'`;
    const field = `v); DROP TABLE t; --`;
    const input = path.join(root, `in "put" 'one'.parquet`);
    const output = path.join(root, `out 'put'.parquet.tmp`);
    const rows = `SELECT make_timestamp(1000000::BIGINT * (i // 2)) AS time, 'a' AS "${tag.replaceAll('"', '""')}", 'value ' || i AS "${field}" FROM range(4) r(i)`;
    await db.run(`COPY (${rows}) TO ${quoteLiteral(input)} (FORMAT parquet)`);
    const columns = [column('time', 'TIMESTAMP'), column(tag, 'VARCHAR'), column(field, 'VARCHAR')];
    const select = mergeSelectSql({ inputs: [input], columns, tags: [tag], dedup: true });
    await db.run(copyToSql(select, output, { compressionLevel: 3, rowGroupSize: 2048, tags: [tag] }));
    const merged = (await db.runAndReadAll(`SELECT * EXCLUDE (time) FROM read_parquet(${quoteLiteral(output)})`)).getRowObjectsJS();
    expect(merged).toEqual([
      { [tag]: 'a', [field]: 'value 1' },
      { [tag]: 'a', [field]: 'value 3' },
    ]);
    const kv = (await db.runAndReadAll(`SELECT decode(value) AS value FROM parquet_kv_metadata(${quoteLiteral(output)})`)).getRowObjectsJS();
    expect(kv).toEqual([{ value: JSON.stringify([tag]) }]);
  });
});
