// Proves the latest-rows plans' plain reads (one step under LAST_POINT_FILES_MIN files: both
// references read every file as a plain list, not the view; step 1 of two over more: its subquery
// does) exact and real: `(keys, time) IN (SELECT keys, max(time) ...)` statements answer what the
// same SQL answers over every Parquet file read by a plain DuckDB, with NULL hosts, NULL times, a
// host whose every time is NULL, rows tied at a host's max time, extra conditions, a time bound on
// one reference, `*`'s columns in order; over files whose columns differ (where a plain list would
// lose a column) what DuckDB answers over them unioned by name; and over a file the catalog
// describes with fewer columns than it has, the catalog's columns (the plain list), where the view
// would add the file's extra column.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage, dataFileKey, encodeSchema, schemaIdOf, schemaKey } from '@arc/storage';
import type { ColumnSpec } from '@arc/storage';
import type { QueryPool } from '../src/index.js';
import { DataDir, answerOverEveryFile, query } from './fixtures.js';

const BASE: readonly ColumnSpec[] = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'hostname', type: 'VARCHAR' },
  { name: 'v', type: 'BIGINT' },
];
const WIDER: readonly ColumnSpec[] = [...BASE, { name: 'w', type: 'BIGINT' }];
const hourUs = (hour: number): number => Date.UTC(2025, 9, 16, hour) * 1000;
const MINUTE_US = 60_000_000;
/** Hours of `cpumany`: more files than LAST_POINT_FILES_MIN. */
const MANY_HOURS = 36;

/** A row a minute per host h0..h3 and one with a NULL host, in `hour` (60 minutes; hours from 2025-10-16 00:00, negative before). */
const ROWS = (hour: number): string =>
  `SELECT TIMESTAMP '2025-10-16 00:00:00' + to_hours(${String(hour)}) + to_minutes(i // 5) AS time,
          CASE WHEN i % 5 = 4 THEN NULL ELSE 'h' || (i % 5) END AS hostname,
          (i * 7) % 50 AS v
   FROM range(300) t(i)`;
/**
 * Beside hour 12's rows: h1 again at its max time (a tie), h2 before its max, h0 and the NULL host
 * with NULL times, and host hn whose every time is NULL; the columns' types as ROWS has them.
 */
const EXTRA_ROWS = `SELECT * FROM (VALUES
  (TIMESTAMP '2025-10-16 12:59:00', 'h1', 1000::BIGINT),
  (TIMESTAMP '2025-10-16 12:30:30', 'h2', 1001::BIGINT),
  (NULL::TIMESTAMP, 'h0', 1002::BIGINT),
  (NULL::TIMESTAMP, NULL::VARCHAR, 1003::BIGINT),
  (NULL::TIMESTAMP, 'hn', 1004::BIGINT),
  (NULL::TIMESTAMP, 'hn', 1005::BIGINT)) t(time, hostname, v)`;

let dir: DataDir;
let pool: QueryPool;
let plain: DuckDBConnection;

/** One file of `hour`, named and described as a writer does (`columns`: what its name says it has). */
async function writeFile(measurement: string, hour: number, unique: string, columns: readonly ColumnSpec[], select: string, rows: number): Promise<void> {
  const key = dataFileKey({ database: 'default', measurement, hourUs: hourUs(hour), nodeId: 'n1', unique, rows, bytes: 1, minTimeUs: hourUs(hour), maxTimeUs: hourUs(hour) + 59 * MINUTE_US, writtenAtMs: 0, schemaId: schemaIdOf(columns) });
  await dir.writeParquet(join(dir.dataRoot, key), select);
}

/** `select` with a column `w` (twice v) after its own. */
const withW = (select: string): string => `SELECT *, v * 2 AS w FROM (${select})`;

beforeAll(async () => {
  dir = await DataDir.create();
  const seed = await Storage.open({ root: dir.dataRoot });
  for (const [measurement, columns] of [['cpu', BASE], ['cpumixed', BASE], ['cpumixed', WIDER], ['cpulisted', BASE], ['cpumany', BASE]] as const) {
    await seed.backend.put(schemaKey('default', measurement, schemaIdOf(columns)), encodeSchema(columns));
  }
  for (const hour of [10, 11, 12]) await writeFile('cpu', hour, `a${String(hour)}`, BASE, ROWS(hour), 300);
  await writeFile('cpu', 12, 'b12', BASE, EXTRA_ROWS, 6);
  // The same rows, but hour 12's files have a column more: the files differ from the measurement's columns.
  for (const hour of [10, 11]) await writeFile('cpumixed', hour, `a${String(hour)}`, BASE, ROWS(hour), 300);
  await writeFile('cpumixed', 12, 'a12', WIDER, withW(ROWS(12)), 300);
  await writeFile('cpumixed', 12, 'b12', WIDER, withW(EXTRA_ROWS), 6);
  // Hour 12's file has w, but its name says it has the measurement's columns only.
  for (const hour of [10, 11]) await writeFile('cpulisted', hour, `a${String(hour)}`, BASE, ROWS(hour), 300);
  await writeFile('cpulisted', 12, 'a12', BASE, withW(ROWS(12)), 300);
  // More files than LAST_POINT_FILES_MIN (two steps): 36 hours from 2025-10-15 00:00, the last with the extra rows.
  for (let index = 0; index < MANY_HOURS; index++) await writeFile('cpumany', index - 34, `a${String(index)}`, BASE, ROWS(index - 34), 300);
  await writeFile('cpumany', 1, 'b1', BASE, EXTRA_ROWS.replaceAll('2025-10-16 12:', '2025-10-16 01:'), 6);
  plain = await (await DuckDBInstance.create(':memory:')).connect();
  // Without the series cache: with it, a lastpoint over files of known row counts runs in two steps
  // whatever their number (its step 1 from the cache, series-window.test.ts), and the one-step
  // plain reads below would not be what answers.
  pool = dir.pool({ threads: 1, storage: await Storage.open({ root: dir.dataRoot }), seriesCacheBytes: 0 });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  plain.closeSync();
  dir.remove();
});

describe('latest rows in one step, over few files', () => {
  const TSBS = 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname, v';

  it('answers the TSBS lastpoint shape: ties kept, NULL hosts and NULL times never match, `*` in order', async () => {
    const answer = await query(pool, TSBS);
    const expected = await answerOverEveryFile(plain, dir, TSBS, 'cpu');
    expect(answer.data).toEqual(expected);
    expect(answer.columns).toEqual(['time', 'hostname', 'v']);
    // h1 twice (tied at 12:59), h0, h2, h3: no NULL host, no hn.
    expect(expected.map(([, host]) => host)).toEqual(['h0', 'h1', 'h1', 'h2', 'h3']);
  });

  it.each([
    ['the newest time only', 'SELECT * FROM cpu WHERE time IN (SELECT max(time) FROM cpu) ORDER BY hostname NULLS FIRST, v'],
    ['extra conditions in both WHEREs', "SELECT * FROM cpu WHERE v > 3 AND (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE v < 1003 AND hostname <> 'h3' GROUP BY hostname) AND hostname IS NOT NULL ORDER BY hostname, v"],
    ['a time bound in the subquery', "SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE time < '2025-10-16 11:30:00' GROUP BY hostname) ORDER BY hostname, v"],
    ['a time bound of the outer statement', "SELECT * FROM cpu WHERE time >= '2025-10-16 12:00:00' AND (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname, v"],
    ['keys in another order, aliases', 'SELECT c.v, c.hostname FROM cpu c WHERE (c.time, c.hostname) IN (SELECT max(x.time), x.hostname FROM cpu AS x GROUP BY x.hostname) ORDER BY 2, 1'],
    ['grouped by nothing but NULL hosts', 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE hostname IS NULL OR hostname = \'hn\' GROUP BY hostname) ORDER BY v'],
    ['aggregates of the answer', 'SELECT count(*), sum(v), max(time) FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname)'],
    ['a refused shape, as written: min(time)', 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, min(time) FROM cpu GROUP BY hostname) ORDER BY hostname, v'],
  ])('%s: the answer over every file', async (_, sql) => {
    const answer = await query(pool, sql);
    expect(answer.data).toEqual(await answerOverEveryFile(plain, dir, sql, 'cpu'));
  });

  it('reads files whose columns differ from the measurement the way the view does (unioned by name)', async () => {
    const sql = TSBS.replaceAll('FROM cpu', 'FROM cpumixed');
    const answer = await query(pool, sql);
    const files = `read_parquet('${join(dir.dataRoot, 'default', 'cpumixed', '**', '*.parquet')}', union_by_name = true)`;
    const reader = await plain.runAndReadAll(`SELECT hostname, v, w FROM (${sql.replaceAll('FROM cpumixed', `FROM ${files}`)})`);
    expect(answer.columns).toEqual(['time', 'hostname', 'v', 'w']);
    expect(answer.data.map(([, hostname, v, w]) => [hostname, v, w])).toEqual(reader.getRows().map((row) => row.map((value) => (typeof value === 'bigint' ? Number(value) : value))));
    // Every latest row is in hour 12, which has w.
    expect(answer.data.every(([, , v, w]) => w === 2 * Number(v))).toBe(true);
  });

  it('reads the files as the catalog lists them, not through the view', async () => {
    const answer = await query(pool, TSBS.replaceAll('FROM cpu', 'FROM cpulisted'));
    // The view would union in hour 12's w; the plain list reads the columns the catalog says.
    expect(answer.columns).toEqual(['time', 'hostname', 'v']);
    expect(answer.data.map(([, hostname]) => hostname)).toEqual(['h0', 'h1', 'h2', 'h3']);
    expect((await query(pool, 'SELECT * FROM cpulisted LIMIT 1')).columns).toEqual(['time', 'hostname', 'v', 'w']);
  });
});

describe('latest rows in two steps, the first over a plain list', () => {
  it.each([
    ['the TSBS lastpoint shape', 'SELECT * FROM cpumany WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpumany GROUP BY hostname) ORDER BY hostname, v'],
    ['the newest time only', 'SELECT * FROM cpumany WHERE time IN (SELECT max(time) FROM cpumany) ORDER BY hostname NULLS FIRST, v'],
    ['extra conditions in both WHEREs', "SELECT * FROM cpumany WHERE v > 3 AND (hostname, time) IN (SELECT hostname, max(time) FROM cpumany WHERE v < 40 AND hostname <> 'h3' GROUP BY hostname) ORDER BY hostname, v"],
    ['a time bound in the subquery', "SELECT * FROM cpumany WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpumany WHERE time < '2025-10-15 12:30:00' GROUP BY hostname) ORDER BY hostname, v"],
  ])('%s: the answer over every file', async (_, sql) => {
    const answer = await query(pool, sql);
    const expected = await answerOverEveryFile(plain, dir, sql, 'cpumany');
    expect(answer.data).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });
});
