// Proves time-range pruning: a WHERE that bounds `time` (>=, <, BETWEEN, =, now() - INTERVAL,
// Grafana's $__timeFilter output) makes the query open only the files of the hours in range.
// The proof is a file outside the range replaced by garbage: a query over every hour fails on
// it, the bounded query never opens it and answers right.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { filesHaveColumns, prunedRelationSql, sameColumnsRelationSql } from '../src/time-pruning.js';
import { clockMicros, clockPlusInterval, constantTimestampMicros } from '../src/constant-time.js';
import { DataDir, query, queryError } from './fixtures.js';

const micros = (iso: string): bigint => BigInt(Date.parse(iso)) * 1000n;

describe('prunedRelationSql', () => {
  it('builds a relation with every known column, also over no file', () => {
    const columns = [
      { name: 'time', type: 'TIMESTAMP' },
      { name: 'a"b', type: 'DOUBLE' },
    ];
    expect(prunedRelationSql(columns, [])).toBe('(SELECT NULL::TIMESTAMP AS "time", NULL::DOUBLE AS "a""b" WHERE false)');
    expect(prunedRelationSql(columns, ["/d/it's.parquet"])).toContain("read_parquet(['/d/it''s.parquet'], union_by_name = true)");
  });
});

describe('filesHaveColumns', () => {
  const columns = [
    { name: 'time', type: 'TIMESTAMP' },
    { name: 'v', type: 'BIGINT' },
  ];
  const exact = (): boolean => false;

  it('holds when every file has exactly the columns, in order', () => {
    expect(filesHaveColumns([{ columns: [...columns] }, { columns }], columns, exact)).toBe(true);
    expect(sameColumnsRelationSql(["/d/it's.parquet"])).toBe("(SELECT * FROM read_parquet(['/d/it''s.parquet']))");
  });

  it('fails on a file with unknown, fewer, reordered, retyped or stand-in columns', () => {
    const [time, v] = columns;
    expect(filesHaveColumns([{ columns }, { columns: null }], columns, exact)).toBe(false);
    expect(filesHaveColumns([{ columns: [time!] }], columns, exact)).toBe(false);
    expect(filesHaveColumns([{ columns: [v!, time!] }], columns, exact)).toBe(false);
    expect(filesHaveColumns([{ columns: [time!, { name: 'v', type: 'DOUBLE' }] }], columns, exact)).toBe(false);
    const standIn = [...columns];
    expect(filesHaveColumns([{ columns: standIn }], columns, (list) => list === standIn)).toBe(false);
  });
});

describe('queries open only the hours in range', () => {
  let dir: DataDir;
  let pool: QueryPool;
  const nowHour = new Date();
  nowHour.setUTCMinutes(0, 0, 0);
  const nowHourPath = nowHour.toISOString().slice(0, 13).replace(/[-T]/g, '/');

  beforeAll(async () => {
    dir = await DataDir.create();
    // Hours 16, 17 and 18 of a day, 10 rows each; hour 16 alone has the column `early`.
    for (const hour of [16, 17, 18]) {
      await dir.writeParquet(
        dir.filePath('default', 'cpu', `2025/10/16/${String(hour)}`, 'cpu_a.parquet'),
        `SELECT TIMESTAMP '2025-10-16 ${String(hour)}:00:00' + to_minutes(i * 5) AS time, 'h' || (i % 2) AS host, i::BIGINT AS v
         ${hour === 16 ? ", 'x' AS early" : ''} FROM range(10) t(i)`,
      );
    }
    await dir.writeParquet(dir.filePath('default', 'recent', nowHourPath, 'recent_a.parquet'), 'SELECT now()::TIMESTAMP AS time, 1::BIGINT AS v');
    await dir.writeParquet(dir.filePath('default', 'recent', '2020/01/01/00', 'recent_a.parquet'), "SELECT TIMESTAMP '2020-01-01 00:00:00' AS time, 2::BIGINT AS v");
    // One worker: the view's columns are described once (before the garbage lands), as in a
    // running server whose catalog is warm.
    pool = dir.pool({ threads: 1 });
    await pool.ready();
    expect((await query(pool, "SELECT count(*) FROM cpu WHERE time >= '2025-10-16 17:00:00'")).data).toEqual([[20]]);
    expect((await query(pool, "SELECT count(*) FROM recent WHERE time >= now() - INTERVAL 1 DAY")).data).toEqual([[1]]);
    writeFileSync(dir.filePath('default', 'cpu', '2025/10/16/16', 'cpu_a.parquet'), 'this is not a parquet file');
    writeFileSync(dir.filePath('default', 'recent', '2020/01/01/00', 'recent_a.parquet'), 'this is not a parquet file');
  });

  afterAll(async () => {
    await pool.close();
    dir.remove();
  });

  it('fails on the garbage file when the query has no time bound (so the file is really read then)', async () => {
    const error = await queryError(pool, 'SELECT count(*) FROM cpu');
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it.each([
    ['>= and <', "time >= '2025-10-16 17:00:00' AND time < '2025-10-16 18:00:00'", 10],
    ['>', "time > '2025-10-16 17:30:00'", 13],
    ['flipped sides', "'2025-10-16 18:00:00' <= time", 10],
    ['BETWEEN', "time BETWEEN '2025-10-16 17:00:00' AND '2025-10-16 17:59:59'", 10],
    ['= one instant', "time = TIMESTAMP '2025-10-16 18:05:00'", 1],
    ['RFC 3339 with Z (Grafana $__timeFilter)', "time >= '2025-10-16T17:00:00Z' AND time <= '2025-10-16T18:59:59Z'", 20],
    ['epoch_ms() from Grafana macros', 'time >= epoch_ms(1760634000000) AND time <= epoch_ms(1760641199000)', 20],
    ['a function of constants', "time >= TIMESTAMP '2025-10-16 16:00:00' + INTERVAL 90 MINUTE", 14],
    ['a qualified column', "cpu.time >= '2025-10-16 17:00:00'", 20],
    ['other conditions beside', "host = 'h1' AND time >= '2025-10-16 17:00:00' AND v > 2", 8],
  ])('%s', async (_, where, count) => {
    expect((await query(pool, `SELECT count(*) FROM cpu WHERE ${where}`)).data).toEqual([[count]]);
  });

  it('prunes an aliased table, a joined one, one in a subquery and one in a CTE', async () => {
    expect((await query(pool, "SELECT count(*) FROM cpu c WHERE c.time >= '2025-10-16 18:00:00'")).data).toEqual([[10]]);
    expect(
      (await query(pool, "SELECT count(*) FROM cpu a JOIN cpu b ON a.time = b.time WHERE a.time >= '2025-10-16 18:00:00' AND b.time >= '2025-10-16 17:00:00'")).data,
    ).toEqual([[10]]);
    expect((await query(pool, "SELECT count(*) FROM (SELECT * FROM \"default\".cpu AS x WHERE time >= '2025-10-16 18:00:00')")).data).toEqual([[10]]);
    expect((await query(pool, "WITH last AS (SELECT v FROM cpu WHERE time >= '2025-10-16 18:00:00') SELECT sum(v) FROM last")).data).toEqual([[45]]);
  });

  it('leaves out the hour an exclusive upper bound starts, not the one an inclusive bound reaches', async () => {
    // recent's 2020-01-01 00h file is garbage.
    expect((await query(pool, "SELECT count(*) FROM recent WHERE time < '2020-01-01 00:00:00'")).data).toEqual([[0]]);
    expect((await queryError(pool, "SELECT count(*) FROM recent WHERE time <= '2020-01-01 00:00:00'")).message).toMatch(/parquet|magic/i);
  });

  it('does not prune by a column the table alias renamed to time', async () => {
    // `time` is the host column here: every row's host sorts after the text, so every file is read (and hour 16 is garbage).
    const error = await queryError(pool, "SELECT count(*) FROM cpu AS c(t, time) WHERE time >= '2025-10-16 17:00:00'");
    expect(error.message).toMatch(/parquet|magic/i);
  });

  it('prunes relative to now()', async () => {
    expect((await query(pool, 'SELECT v FROM recent WHERE time >= now() - INTERVAL 1 DAY')).data).toEqual([[1]]);
  });

  it('keeps the columns of files out of range, as NULL, and answers an empty range with every column', async () => {
    const answer = await query(pool, "SELECT host, early FROM cpu WHERE time >= '2025-10-16 18:00:00' LIMIT 1");
    expect(answer.data).toEqual([['h0', null]]);
    const empty = await query(pool, "SELECT * FROM cpu WHERE time >= '2026-01-01'");
    expect(empty.columns).toEqual(['time', 'host', 'v', 'early']);
    expect(empty.row_count).toBe(0);
  });

  it('does not prune (and so reads every file) when the bound is under an OR', async () => {
    const error = await queryError(pool, "SELECT count(*) FROM cpu WHERE time >= '2025-10-16 18:00:00' OR v = 1");
    expect(error.message).toMatch(/parquet|magic/i);
  });
});

describe('constantTimestampMicros', () => {
  const varchar = (value: string) => ({ class: 'CONSTANT', type: 'VALUE_CONSTANT', value: { type: { id: 'VARCHAR', type_info: null }, is_null: false, value } });
  const cast = (value: string, id: string) => ({ class: 'CAST', type: 'OPERATOR_CAST', child: varchar(value), cast_type: { id, type_info: null }, try_cast: false });

  it('reads UTC literals and TIMESTAMP casts of them', () => {
    expect(constantTimestampMicros(varchar('2025-10-16T17:00:00Z'))).toBe(micros('2025-10-16T17:00:00Z'));
    expect(constantTimestampMicros(varchar('2025-10-16 17:00:00.123456'))).toBe(micros('2025-10-16T17:00:00.123Z') + 456n);
    expect(constantTimestampMicros(varchar('2025-10-16'))).toBe(micros('2025-10-16T00:00:00Z'));
    expect(constantTimestampMicros(cast('2025-10-16 18:05:00', 'TIMESTAMP'))).toBe(micros('2025-10-16T18:05:00Z'));
  });

  it('leaves everything else to DuckDB', () => {
    for (const node of [
      varchar('2025-10-16T17:00:00+02:00'),
      varchar('2025-02-30 00:00:00'),
      varchar('yesterday'),
      varchar('2025-10-16T17'),
      cast('2025-10-16 18:05:00', 'TIMESTAMP WITH TIME ZONE'),
      { class: 'FUNCTION', type: 'FUNCTION', function_name: 'now', children: [] },
    ]) {
      expect(constantTimestampMicros(node)).toBeUndefined();
    }
  });
});

describe('clockPlusInterval and clockMicros', () => {
  const call = (name: string, children: object[] = [], operator = false) => ({
    class: 'FUNCTION',
    type: 'FUNCTION',
    function_name: name,
    schema: '',
    catalog: '',
    children,
    filter: null,
    distinct: false,
    is_operator: operator,
  });
  const interval = { class: 'CAST', type: 'OPERATOR_CAST', child: { class: 'CONSTANT', type: 'VALUE_CONSTANT' }, cast_type: { id: 'INTERVAL', type_info: null }, try_cast: false };

  it('reads now() alone, minus an interval, plus one on either side', () => {
    expect(clockPlusInterval(call('now'))).toEqual({ sign: 1, interval: null });
    expect(clockPlusInterval(call('get_current_timestamp'))).toEqual({ sign: 1, interval: null });
    expect(clockPlusInterval(call('-', [call('NOW'), interval], true))).toEqual({ sign: -1, interval });
    expect(clockPlusInterval(call('+', [call('now'), interval], true))).toEqual({ sign: 1, interval });
    expect(clockPlusInterval(call('+', [interval, call('transaction_timestamp')], true))).toEqual({ sign: 1, interval });
  });

  it('leaves everything else to DuckDB', () => {
    for (const node of [
      call('-', [interval, call('now')], true),
      call('now', [interval]),
      { ...call('now'), schema: 'main' },
      { ...call('now'), filter: {} },
      call('*', [call('now'), interval], true),
      call('date_trunc', [interval, call('now')]),
      call('current_date'),
      { class: 'COLUMN_REF', type: 'COLUMN_REF', column_names: ['current_timestamp'] },
    ]) {
      expect(clockPlusInterval(node)).toBeUndefined();
    }
  });

  it('adds days of 24 hours and microseconds to the clock', () => {
    const nowMs = Date.parse('2026-03-29T00:30:00Z');
    expect(clockMicros(nowMs, -1, 0, 3_600_000_000n)).toBe(micros('2026-03-28T23:30:00Z'));
    expect(clockMicros(nowMs, 1, 2, 1n)).toBe(micros('2026-03-31T00:30:00Z') + 1n);
    expect(clockMicros(nowMs, 1, 0, 0n)).toBe(micros('2026-03-29T00:30:00Z'));
  });
});
