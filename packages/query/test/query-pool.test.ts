// Proves that SQL through QueryPool reads the Parquet files a writer leaves on disk, per database
// and across databases, sees new files and measurements when the storage catalog changes (a
// listing, a delete) and only then (no directory scan per query), never reads
// `.tmp` files, and refuses everything but one SELECT with the right code.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { DataDir, query, queryError } from './fixtures.js';

const HOUR_16 = '2025/10/16/16';
const HOUR_17 = '2025/10/16/17';

/** Rows i = 0..count-1 of a cpu measurement, one per second from `start`. */
function cpuRows(start: string, count: number, hostPrefix: string): string {
  return `SELECT TIMESTAMP '${start}' + to_seconds(i) AS time, '${hostPrefix}' || (i % 2 + 1) AS host,
    (90 + i)::DOUBLE AS usage_idle, i::BIGINT AS n FROM range(${String(count)}) t(i)`;
}

let dir: DataDir;
let pool: QueryPool;

beforeAll(async () => {
  dir = await DataDir.create();
  await dir.writeParquet(dir.filePath('default', 'cpu', HOUR_16, 'cpu_20251016_160000_a.parquet'), cpuRows('2025-10-16 16:00:00', 4, 'server0'));
  await dir.writeParquet(dir.filePath('default', 'cpu', HOUR_17, 'cpu_20251016_170000_a.parquet'), cpuRows('2025-10-16 17:00:00', 2, 'server0'));
  await dir.writeParquet(dir.filePath('production', 'cpu', HOUR_16, 'cpu_20251016_160000_a.parquet'), cpuRows('2025-10-16 16:00:00', 3, 'server0'));
  await dir.writeParquet(dir.filePath('production', 'onlyprod', HOUR_16, 'onlyprod_20251016_160000_a.parquet'), 'SELECT 1 AS x');
  // A file still being written: valid Parquet, but its name ends in .tmp, so it must stay unseen.
  await dir.writeParquet(dir.filePath('default', 'cpu', HOUR_16, 'cpu_20251016_163000_b.parquet.tmp'), cpuRows('2025-10-16 16:30:00', 100, 'tmp'));
  await dir.writeParquet(dir.filePath('default', 'partial', HOUR_16, 'partial_20251016_160000_a.parquet.tmp'), 'SELECT 1 AS x');
  // Directories that are not valid measurement names are ignored.
  await dir.writeParquet(dir.filePath('default', '_hidden', HOUR_16, 'x.parquet'), 'SELECT 1 AS x');
  pool = dir.pool();
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('startup', () => {
  it('rejects ready() with DuckDB\'s message when a setting is refused', async () => {
    const broken = dir.pool({ threads: 1, memoryLimit: 'plenty' });
    await expect(broken.ready()).rejects.toMatchObject({ kind: 'internal', code: 'ARC_QUERY_ENGINE' });
    await expect(broken.run({ sql: 'SELECT 1', database: 'default', format: 'json' })).rejects.toMatchObject({ code: 'ARC_QUERY_ENGINE' });
    await broken.close();
  });
});

describe('reading Parquet through views', () => {
  it('answers a SELECT with WHERE and GROUP BY over both hour partitions', async () => {
    const answer = await query(pool, 'SELECT host, count(*) AS rows, max(usage_idle) AS top FROM cpu WHERE n >= 0 GROUP BY host ORDER BY host');
    expect(answer.columns).toEqual(['host', 'rows', 'top']);
    expect(answer.data).toEqual([
      ['server01', 3, 92],
      ['server02', 3, 93],
    ]);
    expect(answer.row_count).toBe(2);
  });

  it('reads another database through a qualified name, and through its own default', async () => {
    expect((await query(pool, 'SELECT count(*) AS c FROM production.cpu')).data).toEqual([[3]]);
    expect((await query(pool, 'SELECT count(*) AS c FROM cpu', 'production')).data).toEqual([[3]]);
    expect((await query(pool, 'SELECT count(*) AS c FROM "default".cpu', 'production')).data).toEqual([[6]]);
  });

  it('joins across databases', async () => {
    const answer = await query(
      pool,
      `SELECT d.host, count(*) AS pairs FROM cpu d JOIN production.cpu p ON d.host = p.host AND d.time = p.time
       GROUP BY d.host ORDER BY d.host`,
    );
    expect(answer.data).toEqual([
      ['server01', 2],
      ['server02', 1],
    ]);
  });

  it('returns time as RFC 3339 UTC', async () => {
    const answer = await query(pool, 'SELECT time FROM cpu ORDER BY time LIMIT 2');
    expect(answer.data).toEqual([['2025-10-16T16:00:00Z'], ['2025-10-16T16:00:01Z']]);
  });

  it('never reads .tmp files, and a measurement with only a .tmp file does not exist', async () => {
    expect((await query(pool, "SELECT count(*) FROM cpu WHERE host LIKE 'tmp%'")).data).toEqual([[0]]);
    const error = await queryError(pool, 'SELECT * FROM partial');
    expect(error.code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    expect(error.message).toBe("Table 'partial' does not exist in database 'default'");
  });

  it('names an unknown table in a 400, also one that exists only in another database', async () => {
    const unknown = await queryError(pool, 'SELECT * FROM nosuch');
    expect(unknown.kind).toBe('bad_request');
    expect(unknown.message).toBe("Table 'nosuch' does not exist in database 'default'");
    const elsewhere = await queryError(pool, 'SELECT * FROM onlyprod');
    expect(elsewhere.message).toBe("Table 'onlyprod' does not exist in database 'default'");
    const noData = await queryError(pool, 'SELECT * FROM cpu', 'emptydb');
    expect(noData.message).toBe("Table 'cpu' does not exist in database 'emptydb'");
    expect((await queryError(pool, 'SELECT * FROM _hidden')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    const noDatabase = await queryError(pool, 'SELECT * FROM nodb.cpu');
    expect(noDatabase).toMatchObject({ kind: 'bad_request', code: 'ARC_QUERY_UNKNOWN_DATABASE' });
    expect(noDatabase.message).toBe("Database 'nodb' does not exist (no data has been written to it)");
    // A subquery, a CTE body and a join are resolved the same way.
    expect((await queryError(pool, 'SELECT * FROM cpu WHERE n IN (SELECT x FROM nosuch)')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    expect((await queryError(pool, 'WITH a AS (SELECT * FROM production.nosuch) SELECT * FROM a')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
  });

  it('refuses an invalid default database name', async () => {
    expect((await queryError(pool, 'SELECT 1', '../etc')).code).toBe('ARC_BAD_DATABASE_NAME');
  });
});

describe('answer buffers', () => {
  it('writes answers into lent buffers while callers hand them back, and into own buffers when they do not', async () => {
    const single = dir.pool({ threads: 1 });
    try {
      await single.ready();
      const ask = () => single.run({ sql: 'SELECT * FROM cpu ORDER BY time', database: 'default', format: 'json' });
      for (let round = 0; round < 5; round++) {
        const answer = await ask();
        expect(answer.shared).toBe(true);
        expect(JSON.parse(Buffer.from(answer.body).toString('utf8'))).toMatchObject({ row_count: 6 });
        answer.release();
      }
      // Kept (never released): two lent buffers at most, then answers come in buffers of their own.
      const kept = [await ask(), await ask(), await ask()];
      expect(kept.map((answer) => answer.shared)).toEqual([true, true, false]);
      for (const answer of kept) expect(JSON.parse(Buffer.from(answer.body).toString('utf8'))).toMatchObject({ row_count: 6 });
      for (const answer of kept) answer.release();
      expect((await ask()).shared).toBe(true);
    } finally {
      await single.close();
    }
  });
});

describe('catalog refresh', () => {
  it('shows new files, measurements and databases after the store is listed again', async () => {
    expect((await queryError(pool, 'SELECT * FROM mem')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    await dir.writeParquet(dir.filePath('default', 'cpu', HOUR_17, 'cpu_20251016_170500_b.parquet'), cpuRows('2025-10-16 17:05:00', 4, 'server0'));
    await dir.writeParquet(dir.filePath('default', 'mem', HOUR_17, 'mem_20251016_170000_a.parquet'), 'SELECT 1.5::DOUBLE AS used');
    await dir.writeParquet(dir.filePath('staging', 'cpu', HOUR_17, 'cpu_20251016_170000_a.parquet'), cpuRows('2025-10-16 17:00:00', 1, 'stage'));
    await pool.storage.reload();
    // Both workers must have refreshed: run the checks more often than there are workers.
    for (let round = 0; round < 4; round++) {
      expect((await query(pool, 'SELECT count(*) FROM cpu')).data).toEqual([[10]]);
      expect((await query(pool, 'SELECT used FROM mem')).data).toEqual([[1.5]]);
      expect((await query(pool, 'SELECT host FROM staging.cpu')).data).toEqual([['stage1']]);
    }
  });

  it('answers from the catalog, not the disk: files appear and vanish with catalog changes only', async () => {
    await dir.writeParquet(dir.filePath('default', 'grown', HOUR_16, 'grown_20251016_160000_a.parquet'), 'SELECT 7 AS x');
    // Not in the catalog yet: no directory scan per query finds it.
    expect((await queryError(pool, 'SELECT x FROM grown')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    rmSync(dir.filePath('production', 'onlyprod', HOUR_16, 'onlyprod_20251016_160000_a.parquet'));
    await pool.storage.reload();
    for (let round = 0; round < 4; round++) expect((await query(pool, 'SELECT x FROM grown')).data).toEqual([[7]]);
    await pool.storage.deleteMeasurement('default', 'grown');
    for (let round = 0; round < 4; round++) {
      expect((await queryError(pool, 'SELECT x FROM grown')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
      expect((await queryError(pool, 'SELECT * FROM onlyprod', 'production')).code).toBe('ARC_QUERY_UNKNOWN_TABLE');
    }
  });

  it('picks up a column that only newer files have', async () => {
    await dir.writeParquet(
      dir.filePath('default', 'mem', HOUR_17, 'mem_20251016_171000_b.parquet'),
      "SELECT 2.5::DOUBLE AS used, 'eu' AS region",
    );
    await pool.storage.reload();
    const answer = await query(pool, 'SELECT used, region FROM mem ORDER BY used');
    expect(answer.data).toEqual([
      [1.5, null],
      [2.5, 'eu'],
    ]);
  });
});

describe('statement guard', () => {
  const forbidden = [
    ['INSERT INTO cpu VALUES (1)', undefined],
    ['CREATE TABLE t (a INTEGER)', 'CREATE'],
    ['CREATE TABLE t AS SELECT 1', 'CREATE'],
    ["ATTACH '/tmp/x.db' AS x", 'ATTACH'],
    ["COPY (SELECT 1) TO '/tmp/arc-query-out.csv'", undefined],
    ['PRAGMA database_list', undefined],
    ['PRAGMA threads=4', 'SET'],
    ["SET schema = 'production'", 'SET'],
    ['USE production', 'SET'],
    ['INSTALL httpfs', 'LOAD'],
    ['LOAD httpfs', 'LOAD'],
    ['DROP VIEW cpu', 'DROP'],
    ['UPDATE cpu SET n = 0', undefined],
    ['DELETE FROM cpu', undefined],
    ['CALL pragma_version()', 'CALL'],
    ['EXPLAIN INSERT INTO cpu VALUES (1)', 'EXPLAIN of a statement that is not SELECT'],
    ["EXPORT DATABASE '/tmp/arc-query-export'", undefined],
  ] as const;

  it.each(forbidden)('refuses %s as forbidden', async (sql, typeName) => {
    const error = await queryError(pool, sql);
    expect(error.kind).toBe('bad_request');
    expect(error.code).toBe('ARC_SQL_FORBIDDEN');
    expect(error.message).toContain('Only read statements are allowed; got ');
    if (typeName !== undefined) expect(error.message).toContain(`got ${typeName}`);
  });

  it('refuses several statements, also when one of them is not a SELECT', async () => {
    expect((await queryError(pool, 'SELECT 1; SELECT 2')).code).toBe('ARC_SQL_MULTIPLE_STATEMENTS');
    expect((await queryError(pool, 'SELECT 1; DROP VIEW cpu')).code).toBe('ARC_SQL_MULTIPLE_STATEMENTS');
    expect((await query(pool, 'SELECT count(*) FROM cpu')).row_count).toBe(1);
  });

  it('answers a syntax error with DuckDB\'s message', async () => {
    const error = await queryError(pool, 'SELEC 1');
    expect(error.kind).toBe('bad_request');
    expect(error.code).toBe('ARC_SQL_ERROR');
    expect(error.message).toContain('syntax error at or near "SELEC"');
  });

  it('refuses empty SQL', async () => {
    expect((await queryError(pool, '  ;  ')).code).toBe('ARC_SQL_EMPTY');
  });

  it('accepts what DuckDB parses as SELECT: WITH, FROM-first, VALUES, DESCRIBE, SUMMARIZE', async () => {
    expect((await query(pool, 'WITH x AS (SELECT 1 AS a) SELECT a FROM x')).data).toEqual([[1]]);
    expect((await query(pool, 'FROM cpu SELECT count(*)')).data).toEqual([[10]]);
    expect((await query(pool, 'VALUES (1, 2)')).data).toEqual([[1, 2]]);
    expect((await query(pool, 'DESCRIBE cpu')).data.map((row) => row[0])).toEqual(['time', 'host', 'usage_idle', 'n']);
    expect((await query(pool, 'SUMMARIZE cpu')).row_count).toBe(4);
  });

  it('answers EXPLAIN and EXPLAIN ANALYZE of a SELECT with the plan', async () => {
    const plan = await query(pool, "EXPLAIN SELECT max(usage_idle) FROM cpu WHERE host = 'server01'");
    expect(plan.columns).toEqual(['explain_key', 'explain_value']);
    expect(String(plan.data[0]?.[1])).toContain('READ_PARQUET');
    const analyzed = await query(pool, 'EXPLAIN ANALYZE SELECT count(*) FROM cpu');
    expect(String(analyzed.data[0]?.[1])).toContain('Total Time');
    // The explained statement goes through the same checks as any query.
    expect((await queryError(pool, "EXPLAIN SELECT * FROM read_csv('/etc/passwd')")).code).toBe('ARC_SQL_FORBIDDEN');
  });
});

describe('lockdown seen through the pool', () => {
  it('refuses every table function that reaches a file, naming it', async () => {
    for (const [sql, name] of [
      ["SELECT * FROM read_csv('/etc/passwd')", 'read_csv'],
      ["SELECT * FROM read_csv_auto('/etc/passwd')", 'read_csv_auto'],
      ["SELECT * FROM read_parquet('/etc/hostname')", 'read_parquet'],
      [`SELECT * FROM read_parquet('${dir.dataRoot}/production/cpu/*/*/*/*/*.parquet')`, 'read_parquet'],
      ["SELECT * FROM parquet_scan('/etc/hostname')", 'parquet_scan'],
      ["SELECT * FROM parquet_metadata('/etc/hostname')", 'parquet_metadata'],
      ["SELECT * FROM read_json('/etc/passwd')", 'read_json'],
      ["SELECT * FROM read_text('/etc/passwd')", 'read_text'],
      ["SELECT * FROM read_blob('/etc/passwd')", 'read_blob'],
      ["SELECT * FROM glob('/etc/*')", 'glob'],
      ["SELECT * FROM query('SELECT 1')", 'query'],
      ['SELECT * FROM duckdb_tables()', 'duckdb_tables'],
      ["SELECT * FROM cpu WHERE host IN (SELECT * FROM read_csv('/etc/passwd'))", 'read_csv'],
    ] as const) {
      const error = await queryError(pool, sql);
      expect(error.code, sql).toBe('ARC_SQL_FORBIDDEN');
      expect(error.message, sql).toContain(`Table function '${name}' is not allowed`);
    }
  });

  it('treats a quoted path as a table name, never as a file', async () => {
    for (const sql of ["SELECT * FROM '/etc/passwd'", `SELECT * FROM '${dir.dataRoot}/production/cpu/${HOUR_16}/cpu_20251016_160000_a.parquet'`]) {
      expect((await queryError(pool, sql)).code, sql).toBe('ARC_QUERY_UNKNOWN_TABLE');
    }
  });

  it('refuses catalog-qualified names and DuckDB metadata when the caller is limited to some databases', async () => {
    expect((await queryError(pool, 'SELECT * FROM memory.main.x')).code).toBe('ARC_SQL_FORBIDDEN');
    const limited = { database: 'default', format: 'json', readableDatabases: ['default'] } as const;
    await expect(pool.run({ ...limited, sql: 'SELECT * FROM information_schema.tables' })).rejects.toMatchObject({ kind: 'forbidden' });
  });

  it('keeps the engine usable after refused statements', async () => {
    writeFileSync(`${dir.root}/outside.parquet`, 'not parquet');
    await queryError(pool, "SET schema = 'production'");
    expect((await query(pool, 'SELECT count(*) FROM cpu')).data).toEqual([[10]]);
  });
});
