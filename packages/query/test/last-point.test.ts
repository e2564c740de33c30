// Proves the two-step latest-rows plan exact and real: `(keys, time) IN (SELECT keys, max(time)
// ...)` statements answer what the same SQL answers over every Parquet file (read by a plain
// DuckDB, over more files than the two steps need), with a host whose latest row is in an old file, equal max times, NULL keys, a subquery
// that matches nothing, extra conditions in either WHERE and nanosecond times; and over a copy of
// the data with a garbage file in a partition no latest row is in, the two steps never open it,
// while a shape the rewrite must refuse does.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { timestampLiteral } from '../src/last-point.js';
import { DataDir, answerOverEveryFile, query, queryError } from './fixtures.js';

/** A row a minute per host h0..h3 and one with a NULL host, from `start`; `hosts` 2 keeps h0 and h1. */
const ROWS = (start: string, minutes: number, hosts = 5): string =>
  `SELECT TIMESTAMP '${start}' + to_minutes(i // ${String(hosts)}) AS time,
          CASE WHEN i % ${String(hosts)} = 4 THEN NULL ELSE 'h' || (i % ${String(hosts)}) END AS hostname,
          (i * 7) % 50 AS v
   FROM range(${String(minutes * hosts)}) t(i)`;
/** Host h9's three rows, in a partition long before the others. */
const OLD_ROWS = "SELECT TIMESTAMP '2025-10-01 00:00:00' + to_minutes(i) AS time, 'h9' AS hostname, i AS v FROM range(3) t(i)";

describe('timestampLiteral', () => {
  it('writes µs exactly, before and after the epoch, and leaves far years to make_timestamp', () => {
    expect(timestampLiteral(1_760_626_800_000_001n)).toBe("TIMESTAMP '2025-10-16 15:00:00.000001'");
    expect(timestampLiteral(-1n)).toBe("TIMESTAMP '1969-12-31 23:59:59.999999'");
    expect(timestampLiteral(-62_000_000_000_000_000n)).toBe('make_timestamp(-62000000000000000::BIGINT)');
  });
});

describe('latest rows in two steps', () => {
  let dir: DataDir;
  let pool: QueryPool;
  let plain: DuckDBConnection;

  const writeMeasurement = async (measurement: string): Promise<void> => {
    // More files than LAST_POINT_FILES_MIN: the day before, and the day up to 14:59.
    for (const [day, hours] of [['15', 24], ['16', 15]] as const) {
      for (let hour = 0; hour < hours; hour++) {
        const hh = String(hour).padStart(2, '0');
        await dir.writeParquet(dir.filePath('default', measurement, `2025/10/${day}/${hh}`, 'a.parquet'), ROWS(`2025-10-${day} ${hh}:00:00`, 60));
      }
    }
    // h0 and h1 go on into hour 15; h2, h3 and the NULL host end together at 14:59.
    await dir.writeParquet(dir.filePath('default', measurement, '2025/10/16/15', 'a.parquet'), ROWS('2025-10-16 15:00:00', 2, 2));
    await dir.writeParquet(dir.filePath('default', measurement, '2025/10/01/00', 'a.parquet'), OLD_ROWS);
  };

  /** The statement's answer over every file of `measurement`. */
  const unpruned = (sql: string, measurement = 'cpu'): Promise<unknown[][]> => answerOverEveryFile(plain, dir, sql, measurement);

  beforeAll(async () => {
    dir = await DataDir.create();
    await writeMeasurement('cpu');
    await writeMeasurement('cpug');
    // Nanosecond times over 36 hours: each row 1 ns past its minute, h0's last row (11:59) 999 ns past.
    for (let index = 0; index < 36; index++) {
      const day = index < 24 ? '15' : '16';
      const hh = String(index % 24).padStart(2, '0');
      const rows = ROWS(`2025-10-${day} ${hh}:00:00`, 60);
      const lastOfH0 = "hostname = 'h0' AND time = TIMESTAMP '2025-10-16 11:59:00'";
      const sql = `SELECT make_timestamp_ns(epoch_ns(time) + CASE WHEN ${lastOfH0} THEN 999 ELSE 1 END) AS time, hostname, v FROM (${rows})`;
      await dir.writeParquet(dir.filePath('default', 'cpuns', `2025/10/${day}/${hh}`, 'a.parquet'), sql);
    }
    // Fewer files than LAST_POINT_FILES_MIN (hour 11 becomes garbage below): it runs as written, and reads it.
    for (const hour of [10, 11, 12, 13, 14]) await dir.writeParquet(dir.filePath('default', 'cpufew', `2025/10/16/${String(hour)}`, 'a.parquet'), ROWS(`2025-10-16 ${String(hour)}:00:00`, 60));
    plain = await (await DuckDBInstance.create(':memory:')).connect();
    pool = dir.pool({ threads: 1 });
    await pool.ready();
    // A bounded read describes the view's columns, before a partition of cpug becomes garbage.
    expect((await query(pool, "SELECT count(*) FROM cpug WHERE time >= '2025-10-01'")).data).toEqual([[39 * 60 * 5 + 2 * 2 + 3]]);
    expect((await query(pool, "SELECT count(*) FROM cpufew WHERE time >= '2025-10-01'")).data).toEqual([[5 * 60 * 5]]);
    writeFileSync(dir.filePath('default', 'cpug', '2025/10/16/11', 'a.parquet'), 'this is not a parquet file');
    writeFileSync(dir.filePath('default', 'cpufew', '2025/10/16/11', 'a.parquet'), 'this is not a parquet file');
  });

  afterAll(async () => {
    await pool.close();
    plain.closeSync();
    dir.remove();
  });

  const TSBS = 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname';

  it.each([
    ['the TSBS lastpoint shape (h9 in an old file, equal max times, a NULL host)', TSBS],
    ['the newest time only', 'SELECT * FROM cpu WHERE time IN (SELECT max(time) FROM cpu) ORDER BY hostname'],
    ['the newest time of a WHERE', "SELECT hostname, v FROM cpu WHERE time IN (SELECT max(time) FROM cpu WHERE hostname = 'h2') ORDER BY hostname NULLS FIRST"],
    ['keys in another order, aliases', 'SELECT c.hostname, c.v FROM cpu c WHERE (c.time, c.hostname) IN (SELECT max(x.time), x.hostname FROM cpu x GROUP BY x.hostname) ORDER BY 1'],
    ['extra conditions in both WHEREs', "SELECT * FROM cpu WHERE v > 3 AND (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE v < 40 AND hostname <> 'h1' GROUP BY hostname) AND hostname IS NOT NULL ORDER BY hostname"],
    ['a time bound in the subquery', "SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE time < '2025-10-16 12:00:00' GROUP BY hostname) ORDER BY hostname"],
    ['a time bound of the outer statement', "SELECT * FROM cpu WHERE time >= '2025-10-16 15:00:00' AND (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname"],
    ['a subquery that matches nothing', "SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE hostname = 'nobody' GROUP BY hostname) ORDER BY hostname"],
    ['grouped by the key and an expression of it', 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname, upper(hostname)) ORDER BY hostname'],
    ['aggregates of the answer', 'SELECT count(*), sum(v), max(time) FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname)'],
    ['a refused shape: min(time)', 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, min(time) FROM cpu GROUP BY hostname) ORDER BY hostname'],
    ['a refused shape: IN under OR', "SELECT * FROM cpu WHERE hostname = 'h9' OR (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname, time"],
  ])('%s: the answer over every file', async (_, sql) => {
    const answer = await query(pool, sql);
    expect(answer.data).toEqual(await unpruned(sql));
  });

  // The NULL host's latest row is not among them: (NULL, t) IN (...) is never true.
  it('keeps nanoseconds: the latest row of each host, 1 ns and 999 ns past the minute', async () => {
    const sql = 'SELECT hostname, epoch_ns(time)::VARCHAR AS ns FROM cpuns WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpuns GROUP BY hostname) ORDER BY hostname';
    const answer = await query(pool, sql);
    const expected = await unpruned(sql, 'cpuns');
    expect(answer.data).toEqual(expected);
    expect(expected.map(([, ns]) => String(ns).slice(-3))).toEqual(['999', '001', '001', '001']);
  });

  it.each([
    // The latest rows are in hour 15 and at 14:59: neither step opens hour 11.
    ['a subquery from hour 12 on', "SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE time >= '2025-10-16 12:00:00' GROUP BY hostname) ORDER BY hostname"],
    // h9's latest row is in the old partition: step 2 reads it, and hour 10, never 11.
    ['a host whose latest row is in an old partition', "SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu WHERE time < '2025-10-16 10:30:00' GROUP BY hostname) ORDER BY hostname"],
  ])('reads only the files that can hold the latest rows: %s', async (_, sql) => {
    const answer = await query(pool, sql.replaceAll('FROM cpu', 'FROM cpug'));
    expect(answer.data).toEqual(await unpruned(sql));
  });

  it('reads the garbage when the latest rows are there', async () => {
    const error = await queryError(pool, "SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug WHERE time < '2025-10-16 11:30:00' GROUP BY hostname)");
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it('runs as written over fewer files than two steps pay off for', async () => {
    const error = await queryError(pool, "SELECT * FROM cpufew WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpufew WHERE time >= '2025-10-16 12:00:00' GROUP BY hostname)");
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it.each([
    ['min(time)', 'SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, min(time) FROM cpug GROUP BY hostname)'],
    ['another aggregate in the subquery', 'SELECT * FROM cpug WHERE (hostname, v, time) IN (SELECT hostname, max(v), max(time) FROM cpug GROUP BY hostname)'],
    ['time at another place in the row', 'SELECT * FROM cpug WHERE (time, hostname) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname)'],
    ['the IN under OR', "SELECT * FROM cpug WHERE v = 1000 OR (hostname, time) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname)"],
    ['NOT IN', 'SELECT * FROM cpug WHERE (hostname, time) NOT IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname)'],
    ['HAVING', 'SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname HAVING count(*) > 1)'],
    ['LIMIT in the subquery', 'SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname LIMIT 2)'],
    ['now() in the statement', 'SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug WHERE time < now() GROUP BY hostname)'],
    ['an outer name in the subquery', 'SELECT * FROM cpug c WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug x WHERE x.v >= c.v GROUP BY hostname)'],
    ['a sampled FROM', 'SELECT * FROM cpug TABLESAMPLE 50% (bernoulli, 1) WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname)'],
    ['a CTE', 'WITH m AS (SELECT 1) SELECT * FROM cpug WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpug GROUP BY hostname)'],
  ])('runs as written, over every file: %s', async (_, sql) => {
    const error = await queryError(pool, sql);
    expect(error.message).toMatch(/parquet|magic/i);
  });
});
