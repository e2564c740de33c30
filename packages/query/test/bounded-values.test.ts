// Proves a query cannot build one huge value outside DuckDB's memory limit: repeat / lpad / rpad /
// printf widths / bitstring and list-building range / generate_series / list_resize past their
// limit answer 400 ARC_SQL_VALUE_TOO_LARGE at once (constant or column arguments, nested calls),
// the worker's memory stays near where it was, and the same functions within the limit, and
// FROM range(n), answer as before. One worker thread, so a stuck worker fails the next query.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { FUNCTION_LIST_ELEMENTS_MAX, FUNCTION_VALUE_BYTES_MAX } from '../src/limits.js';
import { DataDir, query, queryError } from './fixtures.js';

let dir: DataDir;
let pool: QueryPool;

beforeAll(async () => {
  dir = await DataDir.create();
  pool = dir.pool({ threads: 1, duckdbThreads: 1, timeoutMs: 30_000, memoryLimit: '256MB' });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('values built by one function call', () => {
  it.each([
    ["SELECT length(repeat('x', 2000000000))", 'repeat'],
    ["SELECT length(repeat(repeat('x', 16000), 16000))", 'repeat'],
    ["SELECT length(repeat('x', i)) FROM range(100000, 100003) t(i)", 'repeat'],
    ["SELECT length(lpad('x', 16385, 'y'))", 'lpad'],
    ['SELECT len(range(4097))', 'range'],
    ["SELECT length(repeat([1, 2, 3], 1000000000))", 'repeat'],
    ["SELECT length(lpad('x', 2000000000, 'y'))", 'lpad'],
    ["SELECT length(rpad('x', n, 'y')) FROM (SELECT 300000000 AS n)", 'rpad'],
    ["SELECT bit_length(bitstring('1', 800000000))", 'bitstring'],
    ['SELECT len(range(100000000))', 'range'],
    ['SELECT len(range(0, 100000000, 2))', 'range'],
    ["SELECT len(generate_series(TIMESTAMP '2000-01-01', TIMESTAMP '2030-01-01', INTERVAL 1 MINUTE))", 'generate_series'],
    ['SELECT len(list_resize([1], 100000000))', 'list_resize'],
    ["SELECT length(printf('%100000000d', 1))", 'printf'],
    ["SELECT length(format('{:>100000000}', 'x'))", 'format'],
    ["SELECT length(printf('%*d', 100000000, 1))", 'printf'],
  ])('refuses %s', async (sql, name) => {
    const rssBefore = process.memoryUsage().rss;
    const error = await queryError(pool, sql);
    expect(error).toMatchObject({ kind: 'bad_request', code: 'ARC_SQL_VALUE_TOO_LARGE' });
    expect(error.message).toContain(`${name}()`);
    // Workers are threads of this process: a built value would show here (hundreds of MB and up).
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses a schema-qualified call, which would reach the unbounded built-in', async () => {
    const error = await queryError(pool, "SELECT length(system.main.repeat('x', 2000000000))");
    expect(error).toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
    expect(error.message).toContain('Schema-qualified function names are not allowed');
  });

  it('refuses printf / format with a format string that is not a constant', async () => {
    expect(await queryError(pool, "SELECT printf(f, 1) FROM (SELECT '%9d' AS f)")).toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
  });

  it('answers the same functions within the limit, and NULL sizes with NULL', async () => {
    const bytes = FUNCTION_VALUE_BYTES_MAX;
    const answer = await query(
      pool,
      `SELECT length(repeat('x', ${String(bytes)})), length(lpad('x', 5, '.')), rpad('ab', 4, '-'), repeat('ab', 3), repeat([1], 2),
              len(range(${String(FUNCTION_LIST_ELEMENTS_MAX)})), range(1, 4), range(10, 1, -3), len(list_resize([1], 3)),
              len(generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2024-01-08', INTERVAL 1 HOUR)), printf('%5d|%-3s|', 42, 'a'),
              format('{:>4}', 'x'), repeat('x', NULL), range(NULL), current_setting('TimeZone')`,
    );
    expect(answer.data).toEqual([[bytes, 5, 'ab--', 'ababab', [1, 1], FUNCTION_LIST_ELEMENTS_MAX, [1, 2, 3], [10, 7, 4], 3, 169, '   42|a  |', '   x', null, null, 'UTC']]);
    expect((await query(pool, 'SELECT count(*) FROM range(10000000)')).data).toEqual([[10_000_000]]);
  });
});
