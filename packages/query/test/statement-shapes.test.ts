// Proves that a statement's tree made from the tree of another text of the same shape (the text
// without its string literals) is exactly the tree DuckDB's parser gives the new text, that texts
// this shortcut cannot read exactly are parsed as before, and that through the query pool a
// shaped statement is checked again as a new one: its time bounds prune by the new literals, its
// functions and databases are refused as a parsed one's are.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { writeFileSync } from 'node:fs';
import { DuckDBPreparedStatement } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { StatementGuard } from '../src/statement-guard.js';
import { confirmsShape, maskLiterals, reshapedTree } from '../src/statement-shapes.js';
import type { SqlNode } from '../src/sql-tree.js';
import { sharedConnection } from './duckdb-connection.js';
import { DataDir, query, queryError } from './fixtures.js';

const connection = sharedConnection();

async function parsed(sql: string): Promise<SqlNode> {
  const reader = await connection().runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)::VARCHAR', [sql]);
  const text = reader.getRowsJS()[0]?.[0];
  if (typeof text !== 'string') throw new Error(`no tree for ${sql}`);
  const tree = JSON.parse(text) as { error: boolean; statements: { node: SqlNode }[] };
  expect(tree.error).toBe(false);
  const [first] = tree.statements;
  if (first === undefined) throw new Error(`no statement in ${sql}`);
  return first.node;
}

describe('maskLiterals', () => {
  it('gives texts that differ only in string literals one shape, with byte positions', () => {
    const first = maskLiterals("SELECT 'é' AS a FROM t WHERE h = 'x''y'");
    const second = maskLiterals("SELECT 'abc' AS a FROM t WHERE h = ''");
    expect(first?.shape).toBe(second?.shape);
    expect(first?.literals).toEqual([
      { byteStart: 7, byteEnd: 11, value: 'é' },
      { byteStart: 34, byteEnd: 40, value: "x'y" },
    ]);
    expect(maskLiterals("SELECT 'a' AS b")?.shape).not.toBe(maskLiterals("SELECT 'a' AS c")?.shape);
  });

  it('leaves literals inside comments and quoted names, and prefixed literals, in the shape', () => {
    for (const sql of ["SELECT \"it's\", E'x', X'ff', U&'d' FROM t -- 'no'\n", "SELECT /* 'no' */ 1"]) expect(maskLiterals(sql)).toBeNull();
    const masked = maskLiterals("SELECT \"it's\" FROM t /* 'no' */ WHERE a = 'yes' -- 'no'");
    expect(masked?.literals.map((literal) => literal.value)).toEqual(['yes']);
  });

  it.each([
    ['a backslash', "SELECT 'a\\' AS x"],
    ['a dollar', "SELECT $$a$$, 'b' AS x"],
    ['a NUL', "SELECT 'a\u0000' AS x"],
    ['a nested block comment', "SELECT /* /* */ */ 'a'"],
    ['an unterminated literal', "SELECT 'a"],
    ['a lone surrogate', "SELECT '\uD800' AS x"],
  ])('gives no shape to a text with %s', (_, sql) => {
    expect(maskLiterals(sql)).toBeNull();
  });
});

describe('reshapedTree', () => {
  const tsbs = (host: string, from: string, to: string): string =>
    `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE hostname = '${host}' AND time >= TIMESTAMP '${from}' AND time < TIMESTAMP '${to}' GROUP BY minute ORDER BY minute`;

  it.each([
    ['TSBS single-groupby', tsbs('host_3', '2016-01-01 02:00:00', '2016-01-01 03:00:00'), tsbs('host_97', '2016-01-01 11:59:59', '2016-01-01 12:59:59')],
    ['longer and shorter literals, doubled quotes, non-ASCII', "SELECT 'a' AS x, 'it''s' AS y, v FROM t WHERE h = 'b'", "SELECT 'ééé' AS x, '' AS y, v FROM t WHERE h = 'q''''r'"],
    ['INTERVAL with a unit, casts, LIKE', "SELECT INTERVAL '1' HOUR, '2025-01-01'::DATE, h LIKE 'a%' FROM t", "SELECT INTERVAL '25' HOUR, '1999-12-31'::DATE, h LIKE '%zz%' FROM t"],
    ['IN, BETWEEN, CASE', "SELECT CASE WHEN h IN ('a', 'b') THEN 'y' END FROM t WHERE time BETWEEN '2025-01-01' AND '2025-01-02'", "SELECT CASE WHEN h IN ('aaaa', '') THEN 'yes' END FROM t WHERE time BETWEEN '2024-01-01 00:00:00' AND '2026'"],
    ['comments and quoted names', "SELECT \"it's\" FROM t /* 'c' */ WHERE a = 'x' -- 'd'\n AND b = 'y'", "SELECT \"it's\" FROM t /* 'c' */ WHERE a = 'xx' -- 'd'\n AND b = ''"],
    ['a COLUMNS pattern, struct_extract, a map key', "SELECT COLUMNS('v.*'), struct_extract(s, 'f'), m['z'] FROM t", "SELECT COLUMNS('w+'), struct_extract(s, 'ff'), m['é'] FROM t"],
    ['a subquery and a join', "SELECT * FROM a JOIN b ON a.k = b.k WHERE a.h = 'p' AND b.k IN (SELECT k FROM c WHERE n = 'q')", "SELECT * FROM a JOIN b ON a.k = b.k WHERE a.h = 'ppp' AND b.k IN (SELECT k FROM c WHERE n = '')"],
  ])('gives the parser\'s own tree: %s', async (_, first, second) => {
    const firstMask = maskLiterals(first);
    const secondMask = maskLiterals(second);
    expect(firstMask).not.toBeNull();
    expect(secondMask?.shape).toBe(firstMask?.shape);
    const firstTree = await parsed(first);
    expect(confirmsShape(firstTree, firstMask!)).toBe(true);
    expect(reshapedTree(firstTree, firstMask!, secondMask!)).toEqual(await parsed(second));
  });

  it('gives the parser\'s own tree for random literal contents in many positions (seeded)', async () => {
    const templates = [
      "SELECT INTERVAL '?' HOUR, DATE '?', TIMESTAMPTZ '?', '?'::INTERVAL FROM t WHERE h = '?'",
      "SELECT strptime(s, '?'), s LIKE '?' ESCAPE '?', s SIMILAR TO '?', s COLLATE nocase = '?' FROM t",
      "SELECT time AT TIME ZONE '?', '?'::INTEGER[], coalesce(s, '?') AS c FROM t WHERE s IN ('?', '?') OR s BETWEEN '?' AND '?'",
      "WITH w AS (SELECT '?' AS k) SELECT * FROM w, t WHERE t.k = w.k AND t.v > '?' ORDER BY '?' LIMIT 1",
    ];
    const alphabet = ["a", "Z", "0", "9", " ", "''", "%", "_", "-", ":", ".", "\n", "é", "日", "😀", "*/", "/*", "--", '"', "?"];
    let state = 7;
    const random = (): number => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const content = (): string => Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (const template of templates) {
      const fill = (): string => template.replaceAll("'?'", () => `'${content()}'`);
      const first = fill();
      const firstMask = maskLiterals(first);
      expect(firstMask).not.toBeNull();
      const firstTree = await parsed(first);
      expect(confirmsShape(firstTree, firstMask!)).toBe(true);
      for (let round = 0; round < 25; round++) {
        const next = fill();
        const nextMask = maskLiterals(next);
        expect(nextMask?.shape).toBe(firstMask!.shape);
        expect(reshapedTree(firstTree, firstMask!, nextMask!)).toEqual(await parsed(next));
      }
    }
  });

  it.each([
    ['a string alias', "SELECT 'a' AS 'x'"],
    ['two literals joined across a line', "SELECT 'a'\n'b' AS x"],
    ['a string as a table name', "SELECT * FROM 'f.parquet' WHERE x = 'a'"],
    ['a struct key', "SELECT { 'k': 1} FROM t WHERE x = 'a'"],
  ])('is not used when the first tree does not confirm the shape: %s', async (_, sql) => {
    const masked = maskLiterals(sql);
    expect(masked).not.toBeNull();
    expect(confirmsShape(await parsed(sql), masked!)).toBe(false);
  });
});

describe('StatementGuard by shape', () => {
  it('answers a text of a known shape without a parse, with the tree the parse would give', async () => {
    const guard = await StatementGuard.create(connection());
    await guard.check("SELECT v FROM t WHERE h = 'a' AND time >= '2025-01-01'");
    const runs = vi.spyOn(DuckDBPreparedStatement.prototype, 'runAndReadAll');
    try {
      const sql = "SELECT v FROM t WHERE h = 'bé' AND time >= '2025-01-01 00:00:00'";
      const checked = await guard.check(sql);
      expect(runs).not.toHaveBeenCalled();
      expect(checked.sql).toBe(sql);
      expect(checked.explainPrefix).toBe('');
      expect(Object.isFrozen(checked.statement)).toBe(true);
      expect(checked.statement).toEqual(await parsed(sql));
    } finally {
      runs.mockRestore();
    }
  });

  it('still refuses what is not one SELECT, and parses a text that names `default` bare', async () => {
    const guard = await StatementGuard.create(connection());
    await guard.check("SELECT 'a' AS x");
    await expect(guard.check("SELECT 'a' AS x; SELECT 'b' AS x")).rejects.toMatchObject({ code: 'ARC_SQL_MULTIPLE_STATEMENTS' });
    await expect(guard.check("COPY (SELECT 'a' AS x) TO 'f.csv'")).rejects.toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
    await guard.check("SELECT * FROM default.cpu WHERE h = 'a'");
    const other = await guard.check("SELECT * FROM default.cpu WHERE h = 'b'");
    expect(other.sql).toBe('SELECT * FROM "default".cpu WHERE h = \'b\'');
  });
});

describe('shaped statements through the pool', () => {
  let dir: DataDir;
  let pool: QueryPool;
  const window = (hour: number): string => `time >= '2025-10-16 ${String(hour)}:00:00' AND time < '2025-10-16 ${String(hour + 1)}:00:00'`;

  beforeAll(async () => {
    dir = await DataDir.create();
    for (const hour of [16, 17, 18]) {
      await dir.writeParquet(
        dir.filePath('default', 'cpu', `2025/10/16/${String(hour)}`, 'cpu_a.parquet'),
        `SELECT TIMESTAMP '2025-10-16 ${String(hour)}:00:00' + to_minutes(i * 5) AS time, 'h' || (i % 2) AS host, (${String(hour)} * 100 + i)::BIGINT AS v FROM range(12) t(i)`,
      );
    }
    await dir.writeParquet(dir.filePath('other', 'mem', '2025/10/16/16', 'mem_a.parquet'), "SELECT TIMESTAMP '2025-10-16 16:00:00' AS time, 'h0' AS host, 1::BIGINT AS v");
    // One thread: every statement below meets the shapes the ones before it left.
    pool = dir.pool({ threads: 1 });
    await pool.ready();
    expect((await query(pool, `SELECT count(*) FROM cpu WHERE ${window(16)}`)).data).toEqual([[12]]);
  });

  afterAll(async () => {
    await pool.close();
    dir.remove();
  });

  it('prunes by the new literals: another window reads other files, and a garbage file in it fails the query', async () => {
    const sql = (tag: string, host: string, hour: number): string => `SELECT '${tag}' AS tag, min(v), count(*) FROM cpu WHERE host = '${host}' AND ${window(hour)}`;
    expect((await query(pool, sql('a', 'h1', 17))).data).toEqual([['a', 1701, 6]]);
    expect((await query(pool, sql('a longer tag, é', 'h0', 18))).data).toEqual([['a longer tag, é', 1800, 6]]);
    writeFileSync(dir.filePath('default', 'cpu', '2025/10/16/16', 'cpu_a.parquet'), 'this is not a parquet file');
    expect((await query(pool, sql('', 'h1', 17))).data).toEqual([['', 1701, 6]]);
    expect((await queryError(pool, sql('b', 'h1', 16))).message).toMatch(/parquet|magic/i);
  });

  it('splices a zoned bound at its moved position', async () => {
    const sql = (tag: string, hour: number): string => `SELECT '${tag}' AS tag, count(*) FROM cpu WHERE time >= '2025-10-16 ${String(hour)}:00:00+00'::TIMESTAMPTZ`;
    expect((await query(pool, sql('x', 18))).data).toEqual([['x', 12]]);
    expect((await query(pool, sql('a much longer tag', 17))).data).toEqual([['a much longer tag', 24]]);
  });

  it('checks functions again: a setting of the same shape that shows a server path is refused', async () => {
    expect((await query(pool, "SELECT current_setting('TimeZone') AS s")).data).toEqual([['UTC']]);
    const error = await queryError(pool, "SELECT current_setting('temp_directory') AS s");
    expect(error.code).toBe('ARC_SQL_FORBIDDEN');
  });

  it("checks databases again against the caller's", async () => {
    const sql = (host: string): string => `SELECT count(*) FROM other.mem WHERE host = '${host}'`;
    const answer = await pool.run({ sql: sql('h0'), database: 'default', format: 'json', readableDatabases: ['other'] });
    expect((JSON.parse(Buffer.from(answer.body).toString('utf8')) as { data: unknown }).data).toEqual([[1]]);
    await expect(pool.run({ sql: sql('h1'), database: 'default', format: 'json', readableDatabases: ['default'] })).rejects.toMatchObject({
      code: 'ARC_AUTH_DATABASE_DENIED',
    });
  });
});
