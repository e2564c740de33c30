// Proves that only SQL reading no relation is kept prepared by a query thread (a table, CTE,
// subquery or table function anywhere makes it fresh each time), and that a kept statement is run
// anew each time: random() differs, now() moves, and the same text in another database answers
// with that database's schema; on a real DuckDB parser and a one-thread pool. A statement over
// last_cache() tables alone is kept too, and answers each new version of the cache's rows (a new
// minimum of a BIGINT column, new columns), the same version again as it was.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { StatementGuard } from '../src/statement-guard.js';
import { selectsNoRelation } from '../src/sql-tree.js';
import { packLastValueRows, type LastValueRows, type LastValueTable } from '@arc/columnar';
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

  it('answers each version of a last_cache() table through the statement it keeps over it', async () => {
    const columns = [{ name: 'host', type: 'VARCHAR' }, { name: 'n', type: 'BIGINT' }, { name: 'time', type: 'TIMESTAMP' }];
    const table = (version: number, rows: LastValueRows, extra: readonly { name: string; type: string }[] = []): LastValueTable => ({
      database: 'production',
      measurement: 'cpu',
      name: 'last',
      version,
      columns: [...columns.slice(0, 2), ...extra, columns[2] ?? { name: 'time', type: 'TIMESTAMP' }],
      rowsPacked: packLastValueRows(rows),
    });
    const fromCache = async (sql: string, cache: LastValueTable): Promise<unknown[][]> => {
      const answer = await pool.run({ sql, database: 'production', format: 'json', lastCaches: [cache] });
      return (JSON.parse(Buffer.from(answer.body).toString('utf8')) as { data: unknown[][] }).data;
    };
    const sql = "SELECT host, n FROM last_cache('cpu') ORDER BY host";
    const first = table(1, [['b', 262n, 0], ['a', 261n, 0]]);
    expect(await fromCache(sql, first)).toEqual([['a', 261], ['b', 262]]);
    expect(await fromCache(sql, first)).toEqual([['a', 261], ['b', 262]]);
    // New rows whose BIGINT minimum is far below the plan's first rows.
    expect(await fromCache(sql, table(2, [['a', 5n, 1], ['c', 7n, 1]]))).toEqual([['a', 5], ['c', 7]]);
    const wider = table(3, [['a', 6n, 'x', 2]], [{ name: 'extra', type: 'VARCHAR' }]);
    expect(await fromCache("SELECT * EXCLUDE (time) FROM last_cache('cpu') ORDER BY host", wider)).toEqual([['a', 6, 'x']]);
    expect(await fromCache(sql, wider)).toEqual([['a', 6]]);
  });
});
