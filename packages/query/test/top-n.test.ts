// Proves the top-N narrowing exact and real: statements ordered by a bucket of `time` with a
// LIMIT answer what the same SQL answers over every Parquet file (read by a plain DuckDB), also
// when the newest partition holds too few buckets, a bucket straddles the edge, HAVING drops
// buckets, with OFFSET and ASC; and over a copy of the data whose old partitions are garbage,
// a narrowed statement never opens them, while a statement the rewrite must refuse does; and the
// partition edges of the successive narrowed runs, from a file list.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import type { CatalogFile } from '@arc/storage';
import { partitionEdge } from '../src/top-n.js';
import { DataDir, answerOverEveryFile, query, queryError } from './fixtures.js';

const HOUR_US = 3_600_000_000;

function catalogFile(hour: number, span: 'hour' | 'day' = 'hour'): CatalogFile {
  const hourUs = hour * HOUR_US;
  const spanUs = span === 'day' ? 24 * HOUR_US : HOUR_US;
  return {
    key: `f${String(hour)}`,
    database: 'd',
    measurement: 'm',
    hourUs,
    span,
    rows: 1,
    bytes: 1,
    minTimeUs: hourUs,
    maxTimeUs: hourUs + spanUs - 1,
    nodeId: null,
    schemaId: null,
    order: null,
    columns: null,
  };
}

describe('partitionEdge', () => {
  // Partitions with a file at hours 0 (a day file), 30, 31, 32, 40 and 41 (two files in 41).
  const files = [catalogFile(0, 'day'), catalogFile(30), catalogFile(31), catalogFile(32), catalogFile(40), catalogFile(41), { ...catalogFile(41), key: 'g41' }];

  it('starts DESC at the newest partition, then at the 4th newest, then reads everything', () => {
    expect(partitionEdge(files, true, 0)).toBe(41 * HOUR_US);
    expect(partitionEdge(files, true, 1)).toBe(31 * HOUR_US);
    expect(partitionEdge(files, true, 2)).toBeNull();
  });

  it('ends ASC after the oldest partition (a whole day for a day file), then after the 4th oldest', () => {
    expect(partitionEdge(files, false, 0)).toBe(24 * HOUR_US);
    expect(partitionEdge(files, false, 1)).toBe(33 * HOUR_US);
    expect(partitionEdge(files, false, 2)).toBeNull();
  });

  it('reads everything when one partition is all there is', () => {
    expect(partitionEdge([catalogFile(5)], true, 0)).toBeNull();
    expect(partitionEdge([], false, 0)).toBeNull();
  });
});

/** Hours of 2025-10-16 with a row a minute per host; hour 15 has two minutes only; 2025-10-01 00 has two rows. */
const FULL_HOURS = [10, 11, 12, 13, 14];
const ROWS_OF_MINUTES = (start: string, minutes: number): string =>
  `SELECT TIMESTAMP '${start}' + to_minutes(i // 2) AS time, 'h' || (i % 2) AS host, ((epoch(TIMESTAMP '${start}')::BIGINT // 60 + i // 2) * 7 + (i % 2) * 3) % 50 AS v
   FROM range(${String(minutes * 2)}) t(i)`;

describe('top-N statements over the newest files', () => {
  let dir: DataDir;
  let pool: QueryPool;
  let plain: DuckDBConnection;

  const writeMeasurement = async (measurement: string): Promise<void> => {
    for (const hour of FULL_HOURS) {
      await dir.writeParquet(dir.filePath('default', measurement, `2025/10/16/${String(hour)}`, 'a.parquet'), ROWS_OF_MINUTES(`2025-10-16 ${String(hour)}:00:00`, 60));
    }
    await dir.writeParquet(dir.filePath('default', measurement, '2025/10/16/15', 'a.parquet'), ROWS_OF_MINUTES('2025-10-16 15:00:00', 2));
    await dir.writeParquet(dir.filePath('default', measurement, '2025/10/01/00', 'a.parquet'), ROWS_OF_MINUTES('2025-10-01 00:00:00', 1));
  };

  /** The statement's answer over every file of `cpu`. */
  const unpruned = (sql: string): Promise<unknown[][]> => answerOverEveryFile(plain, dir, sql, 'cpu');

  beforeAll(async () => {
    dir = await DataDir.create();
    await writeMeasurement('cpu');
    await writeMeasurement('cpug');
    plain = await (await DuckDBInstance.create(':memory:')).connect();
    // One worker: cpug's columns are described once, before its old partitions become garbage.
    pool = dir.pool({ threads: 1 });
    await pool.ready();
    // A bounded read describes the view's columns (a plain count(*) would not).
    expect((await query(pool, "SELECT count(*) FROM cpug WHERE time >= '2025-10-01'")).data).toEqual([[2 * (5 * 60 + 2 + 1)]]);
    writeFileSync(dir.filePath('default', 'cpug', '2025/10/01/00', 'a.parquet'), 'this is not a parquet file');
    writeFileSync(dir.filePath('default', 'cpug', '2025/10/16/10', 'a.parquet'), 'this is not a parquet file');
  });

  afterAll(async () => {
    await pool.close();
    plain.closeSync();
    dir.remove();
  });

  const TSBS = "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) AS max_v FROM cpu WHERE time < TIMESTAMP '2025-10-16 15:00:00' GROUP BY minute ORDER BY minute DESC LIMIT 5";

  it.each([
    ['the TSBS groupby-orderby-limit shape', TSBS],
    ['too few buckets in the newest partition (widens)', 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) FROM cpu GROUP BY minute ORDER BY minute DESC LIMIT 5'],
    ['a bucket straddling the edge', "SELECT time_bucket(INTERVAL 7 minutes, time) AS b, count(*), sum(v) FROM cpu WHERE time < '2025-10-16 15:00:00' GROUP BY b ORDER BY b DESC LIMIT 3"],
    ['a bucket wider than the partitions', 'SELECT date_trunc(\'day\', time) AS d, count(*) FROM cpu GROUP BY d ORDER BY d DESC LIMIT 1'],
    ['only old, sparse data below the bound', "SELECT time_bucket(INTERVAL 1 minute, time) AS m, max(v) FROM cpu WHERE time < '2025-10-10' GROUP BY m ORDER BY m DESC LIMIT 5"],
    ['an upper bound in the gap', "SELECT time_bucket(INTERVAL 1 hour, time) AS h, count(*) FROM cpu WHERE time < '2025-10-16 11:00:00' GROUP BY h ORDER BY h DESC LIMIT 2"],
    ['OFFSET', 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) FROM cpu GROUP BY minute ORDER BY minute DESC LIMIT 3 OFFSET 4'],
    ['HAVING that drops buckets', 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) AS top FROM cpu GROUP BY minute HAVING max(v) >= 45 ORDER BY minute DESC LIMIT 6'],
    ['grouped by the bucket and a tag', 'SELECT date_trunc(\'minute\', time) AS minute, host, max(v) FROM cpu GROUP BY minute, host ORDER BY minute DESC, host LIMIT 5'],
    ['the bucket written out in ORDER BY', 'SELECT time_bucket(INTERVAL 5 minutes, time) AS b, avg(v) FROM cpu GROUP BY b ORDER BY time_bucket(INTERVAL 5 minutes, time) DESC LIMIT 4'],
    ['plain rows by time DESC, ties broken by host', 'SELECT * FROM cpu ORDER BY time DESC, host LIMIT 7'],
    ['plain rows with a WHERE on a tag', "SELECT time, v FROM cpu WHERE host = 'h1' AND v > 40 ORDER BY time DESC LIMIT 9"],
    ['a lower bound of its own past the edge', "SELECT * FROM cpu WHERE time >= '2025-10-16 14:30:00' ORDER BY time DESC, host LIMIT 100"],
    ['plain rows ASC', "SELECT * FROM cpu WHERE time >= '2025-10-16' ORDER BY time, host LIMIT 5"],
    ['grouped ASC past the oldest partition', 'SELECT time_bucket(INTERVAL 1 minute, time) AS m, count(*) FROM cpu GROUP BY m ORDER BY m LIMIT 4'],
    ['a LIMIT beyond every bucket (the last run reads the view)', 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, count(*) FROM cpu GROUP BY minute ORDER BY minute DESC LIMIT 400'],
    ['fewer rows than the LIMIT in all', "SELECT * FROM cpu WHERE time < '2025-10-02' ORDER BY time DESC LIMIT 50"],
  ])('%s: the answer over every file', async (_, sql) => {
    const answer = await query(pool, sql);
    expect(answer.data).toEqual(await unpruned(sql));
  });

  it.each([
    ['the TSBS shape', TSBS],
    // Two minutes in hour 15: the second run reads the newest four partitions (12 to 15).
    ['a widened run', 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) FROM cpu GROUP BY minute ORDER BY minute DESC LIMIT 5'],
    ['plain rows', 'SELECT * FROM cpu ORDER BY time DESC, host LIMIT 7'],
    ['plain rows ASC from hour 11 on', "SELECT * FROM cpu WHERE time >= '2025-10-16 11:00:00' ORDER BY time, host LIMIT 7"],
  ])('reads only the partitions that hold the answer: %s', async (_, sql) => {
    expect((await query(pool, sql.replace('FROM cpu', 'FROM cpug'))).data).toEqual(await unpruned(sql));
  });

  it('reads every file when the answer needs it (the garbage is really there)', async () => {
    const error = await queryError(pool, 'SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(v) FROM cpug GROUP BY minute ORDER BY minute DESC LIMIT 400');
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it.each([
    ['an aggregate without GROUP BY', 'SELECT count(*) AS n, max(time) AS time FROM cpug ORDER BY time DESC LIMIT 1'],
    ['an alias named time that is not the column', 'SELECT v AS time FROM cpug ORDER BY time DESC LIMIT 1'],
    ['an alias named time beside the bucket', 'SELECT host AS time, time_bucket(INTERVAL 1 minute, time) AS m FROM cpug ORDER BY time_bucket(INTERVAL 1 minute, time) DESC LIMIT 1'],
    ['a first key that is not the bucket', 'SELECT time, v FROM cpug ORDER BY v DESC, time DESC LIMIT 1'],
    ['grouped by a tag only', 'SELECT host, max(time) AS t FROM cpug GROUP BY host ORDER BY t DESC LIMIT 1'],
    ['a window function', 'SELECT time, count(*) OVER () AS n FROM cpug ORDER BY time DESC LIMIT 1'],
    ['DISTINCT', 'SELECT DISTINCT host, time FROM cpug ORDER BY time DESC LIMIT 1'],
    ['NULLS FIRST', 'SELECT time FROM cpug ORDER BY time DESC NULLS FIRST LIMIT 1'],
    ['a bucket with an origin', "SELECT time_bucket(INTERVAL 1 minute, time, TIMESTAMP '2000-01-01 00:00:30') AS m, max(v) FROM cpug GROUP BY m ORDER BY m DESC LIMIT 1"],
    ['a subquery in FROM', 'SELECT time FROM (SELECT * FROM cpug) ORDER BY time DESC LIMIT 1'],
    ['a CTE', 'WITH c AS (SELECT * FROM cpug) SELECT time FROM c ORDER BY time DESC LIMIT 1'],
    ['a subquery in WHERE', 'SELECT time FROM cpug WHERE v > (SELECT 1) ORDER BY time DESC LIMIT 1'],
    ['GROUP BY ROLLUP', 'SELECT time_bucket(INTERVAL 1 minute, time) AS m, count(*) FROM cpug GROUP BY ROLLUP (m) ORDER BY m DESC LIMIT 1'],
    ['a join', 'SELECT a.time FROM cpug a JOIN cpug b ON a.time = b.time ORDER BY a.time DESC LIMIT 1'],
    ['no LIMIT', 'SELECT time FROM cpug ORDER BY time DESC'],
    ['time replaced in the star', 'SELECT * REPLACE (host AS time) FROM cpug ORDER BY time DESC LIMIT 1'],
    ['a column renamed to time in the star', 'SELECT * EXCLUDE (time) RENAME (host AS time) FROM cpug ORDER BY time DESC LIMIT 1'],
    ['columns renamed by the table alias', 'SELECT * FROM cpug AS c(t, time) ORDER BY time DESC LIMIT 1'],
  ])('runs as written, over every file: %s', async (_, sql) => {
    const error = await queryError(pool, sql);
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it('runs EXPLAIN as written', async () => {
    const error = await queryError(pool, 'EXPLAIN ANALYZE SELECT * FROM cpug ORDER BY time DESC LIMIT 1');
    expect(error.message).toMatch(/parquet|magic/i);
  });
});
