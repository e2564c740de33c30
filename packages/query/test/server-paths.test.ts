// Proves no query shows the server's paths: current_setting of a path setting (or of a name that
// is not a constant), the metadata views holding view definitions and settings, and settings /
// database table functions are refused with ARC_SQL_FORBIDDEN, EXPLAIN [ANALYZE] answers name no
// file path, while harmless settings and the other metadata views answer; checked through the
// pool, as a query reader sends them.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { DataDir, query, queryError } from './fixtures.js';

let dir: DataDir;
let pool: QueryPool;

beforeAll(async () => {
  dir = await DataDir.create();
  await dir.writeParquet(dir.filePath('default', 'cpu', '2025/10/16/16', 'cpu_20251016_160000_a.parquet'), "SELECT TIMESTAMP '2025-10-16 16:00:00' AS time, 1 AS x");
  pool = dir.pool({ threads: 1, duckdbThreads: 1 });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('server paths', () => {
  it.each([
    "SELECT current_setting('allowed_directories')",
    "SELECT current_setting('temp_directory')",
    "SELECT current_setting('home_directory')",
    "SELECT current_setting('extension_directory')",
    "SELECT current_setting('secret_directory')",
    "SELECT current_setting('TEMP_DIRECTORY')",
    "SELECT current_setting(lower('TEMP_DIRECTORY'))",
    "SELECT current_setting(name) FROM (SELECT 'temp_directory' AS name)",
    "SELECT system.main.current_setting('TimeZone')",
    'SELECT * FROM information_schema.views',
    'SELECT view_definition FROM INFORMATION_SCHEMA.VIEWS',
    'SELECT * FROM pg_catalog.pg_views',
    'SELECT * FROM pg_catalog.pg_settings',
    'SELECT * FROM duckdb_settings()',
    'SELECT * FROM duckdb_databases()',
    'SELECT * FROM duckdb_views()',
    'PRAGMA database_list',
  ])('refuses %s', async (sql) => {
    const error = await queryError(pool, sql);
    expect(error.code).toBe('ARC_SQL_FORBIDDEN');
    expect(error.message).not.toContain(dir.root);
  });

  it('answers EXPLAIN and EXPLAIN ANALYZE without the paths of the files read', async () => {
    for (const sql of ['SELECT * FROM cpu', "SELECT * FROM cpu WHERE time >= '2025-10-16T16:00:00Z'"]) {
      for (const prefix of ['EXPLAIN ', 'EXPLAIN ANALYZE ']) {
        const plan = JSON.stringify((await query(pool, prefix + sql)).data);
        expect(plan).toContain(prefix === 'EXPLAIN ' ? 'READ_PARQUET' : 'Total Time');
        expect(plan).not.toContain(dir.root);
      }
    }
  });

  it('answers SHOW TABLES with storage paths relative to the store, not the server paths', async () => {
    const tables = await query(pool, 'SHOW TABLES', 'default');
    expect(tables.data.map((row) => row[2])).toEqual(['default/cpu']);
    expect(JSON.stringify(tables.data)).not.toContain(dir.root);
  });

  it('answers harmless settings and the other metadata views', async () => {
    expect((await query(pool, "SELECT current_setting('TimeZone'), current_setting('threads')")).data).toEqual([['UTC', 1]]);
    const tables = await query(pool, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default'");
    expect(tables.data).toEqual([['cpu']]);
  });
});
