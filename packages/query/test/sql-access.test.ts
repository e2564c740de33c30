// Proves the query path's access rules, decided on DuckDB's parse tree: a caller limited to some
// databases reads only those, through any construct (join, subquery, CTE, set operation, DESCRIBE),
// gets the same 403 for a foreign database whether it exists or not, and sees only its databases
// in SHOW DATABASES / SHOW TABLES, which answer in Arc's shapes.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { DataDir, query } from './fixtures.js';
import type { JsonAnswer } from './fixtures.js';

let dir: DataDir;
let pool: QueryPool;

const HOUR = '2025/10/16/16';

beforeAll(async () => {
  dir = await DataDir.create();
  for (const [database, measurement, rows] of [
    ['tenant_a', 'cpu', 3],
    ['tenant_a', 'mem', 2],
    ['tenant_b', 'cpu', 5],
    ['default', 'disk', 1],
  ] as const) {
    await dir.writeParquet(
      dir.filePath(database, measurement, HOUR, `${measurement}_a.parquet`),
      `SELECT TIMESTAMP '2025-10-16 16:00:00' + to_seconds(i) AS time, 'h' || i AS host, i::BIGINT AS v FROM range(${String(rows)}) t(i)`,
    );
  }
  pool = dir.pool();
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

async function limitedQuery(sql: string, readable: readonly string[], database = 'tenant_a'): Promise<JsonAnswer> {
  const answer = await pool.run({ sql, database, format: 'json', readableDatabases: readable });
  return JSON.parse(Buffer.from(answer.body).toString('utf8')) as JsonAnswer;
}

async function limitedError(sql: string, readable: readonly string[], database = 'tenant_a'): Promise<{ kind: string; code: string; message: string }> {
  try {
    await pool.run({ sql, database, format: 'json', readableDatabases: readable });
  } catch (error) {
    return error as { kind: string; code: string; message: string };
  }
  throw new Error(`expected ${sql} to be refused`);
}

describe('databases a query touches', () => {
  const onlyA = ['tenant_a'];

  it('lets a limited caller read its own databases, qualified or not', async () => {
    expect((await limitedQuery('SELECT count(*) FROM cpu', onlyA)).data).toEqual([[3]]);
    expect((await limitedQuery('SELECT count(*) FROM tenant_a.cpu JOIN tenant_a.mem USING (host)', onlyA)).data).toEqual([[2]]);
    expect((await limitedQuery('SELECT count(*) FROM TENANT_A.CPU', onlyA)).data).toEqual([[3]]);
  });

  it.each([
    ['a qualified name', 'SELECT * FROM tenant_b.cpu'],
    ['a join', 'SELECT * FROM cpu a JOIN tenant_b.cpu b ON a.host = b.host'],
    ['a subquery in WHERE', 'SELECT * FROM cpu WHERE host IN (SELECT host FROM tenant_b.cpu)'],
    ['a scalar subquery', 'SELECT (SELECT max(v) FROM tenant_b.cpu) AS m'],
    ['a CTE', 'WITH x AS (SELECT * FROM tenant_b.cpu) SELECT * FROM x'],
    ['a UNION', 'SELECT host FROM cpu UNION ALL SELECT host FROM tenant_b.cpu'],
    ['DESCRIBE', 'DESCRIBE tenant_b.cpu'],
    ['SUMMARIZE', 'SUMMARIZE tenant_b.cpu'],
    ['EXPLAIN', 'EXPLAIN SELECT * FROM tenant_b.cpu'],
    ['SHOW TABLES FROM', 'SHOW TABLES FROM tenant_b'],
    ['different case', 'SELECT * FROM Tenant_B.cpu'],
  ])('refuses a foreign database reached through %s with 403 naming it', async (_, sql) => {
    const error = await limitedError(sql, onlyA);
    expect(error.kind).toBe('forbidden');
    expect(error.code).toBe('ARC_AUTH_DATABASE_DENIED');
    expect(error.message.toLowerCase()).toBe("permission denied: no access to database 'tenant_b'");
  });

  it('answers a foreign database that does not exist exactly like one that does', async () => {
    const existing = await limitedError('SELECT * FROM tenant_b.cpu', onlyA);
    const missing = await limitedError('SELECT * FROM tenant_zz.cpu', onlyA);
    expect(missing.kind).toBe(existing.kind);
    expect(missing.code).toBe(existing.code);
    expect(missing.message).toBe(existing.message.replace('tenant_b', 'tenant_zz'));
  });

  it('refuses an unqualified name when the default database is foreign', async () => {
    expect((await limitedError('SELECT * FROM cpu', onlyA, 'tenant_b')).code).toBe('ARC_AUTH_DATABASE_DENIED');
  });

  it('refuses DuckDB metadata (it lists every database) to a limited caller, not to an unlimited one', async () => {
    expect((await limitedError('SELECT schema_name FROM information_schema.schemata', onlyA)).kind).toBe('forbidden');
    const all = await query(pool, 'SELECT count(*) > 0 FROM information_schema.schemata');
    expect(all.data).toEqual([[true]]);
  });
});

describe('SHOW statements', () => {
  it('answers SHOW DATABASES with one column `database`, only readable ones', async () => {
    const all = await query(pool, 'SHOW DATABASES');
    expect(all.columns).toEqual(['database']);
    expect(all.data).toEqual([['default'], ['tenant_a'], ['tenant_b']]);
    expect((await limitedQuery('SHOW DATABASES', ['tenant_a'])).data).toEqual([['tenant_a']]);
    const none = await limitedQuery('SHOW DATABASES', ['tenant_zz']);
    expect(none).toMatchObject({ columns: ['database'], data: [], row_count: 0 });
  });

  it('answers SHOW TABLES with database, table_name, storage_path, file_count, total_size_mb, first_hour, last_hour', async () => {
    const tables = await query(pool, 'SHOW TABLES', 'tenant_a');
    expect(tables.columns).toEqual(['database', 'table_name', 'storage_path', 'file_count', 'total_size_mb', 'first_hour', 'last_hour']);
    expect(tables.data.map((row) => row.slice(0, 4))).toEqual([
      ['tenant_a', 'cpu', 'tenant_a/cpu', 1],
      ['tenant_a', 'mem', 'tenant_a/mem', 1],
    ]);
    const size = tables.data[0]?.[4];
    expect(typeof size === 'number' && size > 0 && size < 1).toBe(true);
    expect((await query(pool, 'SHOW TABLES FROM tenant_b')).data.map((row) => row[1])).toEqual(['cpu']);
    expect((await query(pool, 'SHOW MEASUREMENTS', 'tenant_a')).data.map((row) => row[1])).toEqual(['cpu', 'mem']);
  });

  it('lists every readable database with SHOW ALL TABLES, and nothing for a database without data', async () => {
    expect((await limitedQuery('SHOW ALL TABLES', ['tenant_a', 'default'])).data.map((row) => `${String(row[0])}.${String(row[1])}`)).toEqual([
      'default.disk',
      'tenant_a.cpu',
      'tenant_a.mem',
    ]);
    expect((await query(pool, 'SHOW TABLES FROM nothing_here')).row_count).toBe(0);
  });

  it('refuses SHOW TABLES inside another statement', async () => {
    await expect(pool.run({ sql: 'SELECT * FROM (SHOW TABLES)', database: 'default', format: 'json' })).rejects.toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
  });
});

describe('measurements with rows but no file yet', () => {
  it('answer their columns and no rows, checked for access like any measurement', async () => {
    pool.setPendingMeasurement('tenant_a', 'fresh', [
      { name: 'time', type: 'TIMESTAMP' },
      { name: 'host', type: 'VARCHAR' },
      { name: 'v', type: 'DOUBLE' },
    ]);
    const answer = await query(pool, 'SELECT * FROM fresh', 'tenant_a');
    expect(answer).toMatchObject({ columns: ['time', 'host', 'v'], data: [], row_count: 0 });
    expect((await query(pool, 'SELECT count(*) FROM tenant_a.fresh f JOIN cpu c USING (host)', 'tenant_a')).data).toEqual([[0]]);
    expect((await query(pool, 'DESCRIBE fresh', 'tenant_a')).data.map((row) => row[0])).toEqual(['time', 'host', 'v']);
    expect((await query(pool, 'SUMMARIZE tenant_a.fresh', 'tenant_a')).row_count).toBe(3);
    expect((await limitedError('SELECT * FROM tenant_a.fresh', ['tenant_b'])).code).toBe('ARC_AUTH_DATABASE_DENIED');
    pool.clearPendingMeasurement('tenant_a', 'fresh');
    await expect(pool.run({ sql: 'SELECT * FROM fresh', database: 'tenant_a', format: 'json' })).rejects.toMatchObject({ code: 'ARC_QUERY_UNKNOWN_TABLE' });
  });
});
