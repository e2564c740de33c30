// Proves that only SQL reading no relation is kept prepared by a query thread (a table, CTE,
// subquery or table function anywhere makes it fresh each time), and that a kept statement is run
// anew each time: random() differs, now() moves, and the same text in another database answers
// with that database's schema; on a real DuckDB parser and a one-thread pool.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { StatementGuard } from '../src/statement-guard.js';
import { selectsNoRelation } from '../src/sql-tree.js';
import { DataDir, query } from './fixtures.js';
import { sharedConnection } from './duckdb-connection.js';

const connection = sharedConnection();

describe('selectsNoRelation', () => {
  const cases: readonly (readonly [string, boolean])[] = [
    ['SELECT 1 AS one', true],
    ['SELECT now() AS t, random() AS r', true],
    ["SELECT 'a' || 'b' AS s WHERE 1 = 1 ORDER BY 1 LIMIT 1", true],
    ['SELECT 1 FROM cpu', false],
    ['SELECT (SELECT 1) AS one', false],
    ['SELECT 1 WHERE EXISTS (SELECT * FROM cpu)', false],
    ['WITH c AS (SELECT 1 AS x) SELECT 1', false],
    ['SELECT * FROM range(3)', false],
    ['SELECT 1 ORDER BY (SELECT max(usage) FROM cpu)', false],
    ['SELECT 1 UNION ALL SELECT 2', false],
    ['DESCRIBE cpu', false],
  ];
  it.each(cases)('%s -> %s', async (sql, expected) => {
    const guard = await StatementGuard.create(connection());
    expect(selectsNoRelation((await guard.check(sql)).statement)).toBe(expected);
  });
});

describe('a kept statement', () => {
  let dir: DataDir;
  let pool: QueryPool;

  beforeAll(async () => {
    dir = await DataDir.create();
    await dir.writeParquet(dir.filePath('production', 'cpu', '2025/10/16/16', 'cpu_20251016_160000_a.parquet'), 'SELECT TIMESTAMP \'2025-10-16 16:00:00\' AS time, 1.0 AS usage');
    pool = dir.pool({ threads: 1 });
    await pool.ready();
  });

  afterAll(async () => {
    await pool.close();
    dir.remove();
  });

  it('runs anew each time it is sent', async () => {
    const draws = new Set<unknown>();
    for (let round = 0; round < 5; round++) draws.add((await query(pool, 'SELECT random() AS r')).data[0]?.[0]);
    expect(draws.size).toBe(5);
    // A query takes far more than the microsecond now() counts in.
    const first = String((await query(pool, 'SELECT epoch_us(now()) AS t')).data[0]?.[0]);
    const later = String((await query(pool, 'SELECT epoch_us(now()) AS t')).data[0]?.[0]);
    expect(BigInt(later)).toBeGreaterThan(BigInt(first));
  });

  it('answers the same text in each database with that database as its schema', async () => {
    expect((await query(pool, 'SELECT current_schema() AS s', 'production')).data).toEqual([['production']]);
    expect((await query(pool, 'SELECT current_schema() AS s', 'default')).data).toEqual([['main']]);
    expect((await query(pool, 'SELECT current_schema() AS s', 'production')).data).toEqual([['production']]);
  });
});
