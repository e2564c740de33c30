// Proves series windows (series-window.ts) answer exactly what DuckDB answers: two pools over the
// same Parquet files, one with the series cache and one without (`seriesCacheBytes: 0`), give
// the same bytes for every statement of the shape (TSBS's single-groupby and cpu-max-all, other
// buckets and bounds, NULLs, NaN, infinities, a file without a field, a file without the tag,
// times before the epoch and before the bucket origin), and that the series path really answered
// them (its counter), while statements just outside the shape run in DuckDB (the counter stays).
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import type { DuckDBConnection } from '@duckdb/node-api';
import { dataFileKey } from '@arc/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnswerFormat, QueryPool } from '../src/index.js';
import { DataDir } from './fixtures.js';

const HOUR_US = 3_600_000_000;
const SCHEMA_ID = '0123456789abcdef';

/**
 * Rows of one hour file: `rows` rows at pseudo-random µs of the hour (some times repeat), hosts
 * h0-h4 (every 11th NULL when `nullHosts`), regions by host, usage_user with NULLs, NaN, -0.0
 * and infinities among the values, usage_system unless `withoutSystem`.
 */
function hourRows(hourStart: string, rows: number, seed: number, options: { withoutSystem?: boolean; nullHosts?: boolean; withoutTag?: boolean } = {}): string {
  const host = options.nullHosts === true ? `CASE WHEN i % 11 = 0 THEN NULL ELSE 'h' || ((i * 7 + ${String(seed)}) % 5) END` : `'h' || ((i * 7 + ${String(seed)}) % 5)`;
  const usage = `CASE WHEN i % 13 = 0 THEN NULL WHEN i % 97 = 0 THEN 'NaN'::DOUBLE WHEN i % 89 = 0 THEN '-0.0'::DOUBLE WHEN i % 83 = 0 THEN 'Infinity'::DOUBLE WHEN i % 79 = 0 THEN '-Infinity'::DOUBLE ELSE ((i * 37 + ${String(seed)}) % 1000) / 10.0 END`;
  const columns = [
    `TIMESTAMP '${hourStart}' + to_microseconds(((i * 1200007 + ${String(seed)} * 7919) % 3600000000) // (CASE WHEN i % 17 = 0 THEN 1000000 ELSE 1 END) * (CASE WHEN i % 17 = 0 THEN 1000000 ELSE 1 END)) AS time`,
    ...(options.withoutTag === true ? [] : [`${host} AS hostname`]),
    `CASE WHEN (i * 7 + ${String(seed)}) % 5 < 2 THEN 'eu' ELSE 'us' END AS region`,
    `(${usage})::DOUBLE AS usage_user`,
    ...(options.withoutSystem === true ? [] : [`((i * 53 + ${String(seed)}) % 500)::DOUBLE / 7 AS usage_system`]),
    `CASE WHEN i % 19 = 0 THEN NULL ELSE ((i * 7919 + ${String(seed)}) % 100000) - 50000 END::BIGINT AS counter`,
    `((i * 31 + ${String(seed)}) % 1000)::UBIGINT AS ucount`,
    `((i * 17) % 100 - 50)::INTEGER AS small`,
    `((i * 13) % 100)::FLOAT / 8 AS ratio`,
  ];
  return `SELECT ${columns.join(', ')} FROM range(${String(rows)}) t(i)`;
}

describe('series windows', () => {
  let dir: DataDir;
  let series: QueryPool;
  let plain: QueryPool;
  let facts: DuckDBConnection;
  let unique = 0;

  /** Writes `select` as an hour file of `measurement` named as Arc names them (rows, size, time bounds). */
  const writeArcFile = async (measurement: string, select: string): Promise<void> => {
    const staged = join(dir.root, `staged-${String(unique)}.parquet`);
    await dir.writeParquet(staged, select);
    const reader = await facts.runAndReadAll(`SELECT count(*), epoch_us(min(time)), epoch_us(max(time)) FROM read_parquet('${staged}')`);
    const [rows, minTimeUs, maxTimeUs] = (reader.getRows()[0] ?? []).map(Number) as [number, number, number];
    const hourUs = Math.floor(minTimeUs / HOUR_US) * HOUR_US;
    const key = dataFileKey({ database: 'default', measurement, hourUs, nodeId: 'node1', unique: `u${String(unique++)}`, rows, bytes: statSync(staged).size, minTimeUs, maxTimeUs, writtenAtMs: 1_760_000_000_000, schemaId: SCHEMA_ID });
    const path = join(dir.dataRoot, key);
    mkdirSync(dirname(path), { recursive: true });
    renameSync(staged, path);
  };

  beforeAll(async () => {
    dir = await DataDir.create();
    facts = await (await DuckDBInstance.create(':memory:')).connect();
    for (const [index, hour] of ['10', '11', '12'].entries()) {
      await writeArcFile('cpu', hourRows(`2025-10-16 ${hour}:00:00`, 3000, index * 2 + 1));
      await writeArcFile('cpu', hourRows(`2025-10-16 ${hour}:00:00`, 1200, index * 2 + 2, { nullHosts: true }));
    }
    // Hour 13: a file written before usage_system existed, and one without the hostname tag.
    await writeArcFile('cpu', hourRows('2025-10-16 13:00:00', 2000, 9, { withoutSystem: true }));
    await writeArcFile('cpu', hourRows('2025-10-16 13:00:00', 500, 10, { withoutTag: true }));
    // Before the epoch, and before time_bucket's origin (2000-01-03).
    await writeArcFile('old', hourRows('1969-12-31 23:00:00', 800, 3));
    await writeArcFile('old', hourRows('1999-12-31 22:00:00', 800, 4));
    await writeArcFile('old', hourRows('2000-01-03 00:00:00', 800, 5));
    // usage_user a BIGINT in one file: the view casts it, so DuckDB answers.
    await writeArcFile('mixed', hourRows('2025-10-16 10:00:00', 500, 1));
    await writeArcFile('mixed', `SELECT * REPLACE (7::BIGINT AS usage_user) FROM (${hourRows('2025-10-16 11:00:00', 500, 2)})`);
    // A UBIGINT beyond 2^53 in one file: a double would not hold it, so DuckDB answers.
    await writeArcFile('huge', hourRows('2025-10-16 10:00:00', 500, 1));
    await writeArcFile('huge', `SELECT * REPLACE (CASE WHEN ucount = 7 THEN 18446744073709551615 ELSE ucount END::UBIGINT AS ucount) FROM (${hourRows('2025-10-16 11:00:00', 500, 2)})`);
    // Rows without a time (in no window, no max) beside rows without a host, tied latest rows.
    await writeArcFile('nulls', `SELECT * FROM (VALUES
      (TIMESTAMP '2025-10-16 12:59:00', 'h1', 1.5), (TIMESTAMP '2025-10-16 12:59:00', 'h1', 2.5), (TIMESTAMP '2025-10-16 12:30:30', 'h2', 3.5),
      (NULL::TIMESTAMP, 'h0', 4.5), (NULL::TIMESTAMP, NULL::VARCHAR, 5.5), (TIMESTAMP '2025-10-16 12:40:00', NULL::VARCHAR, 6.5),
      (NULL::TIMESTAMP, 'hn', 7.5), (TIMESTAMP '2025-10-16 12:10:00', 'h0', NULL::DOUBLE),
      (TIMESTAMP '2025-10-16 12:20:00', '', 8.5), (TIMESTAMP '2025-10-16 12:21:00', 'H1', 9.5), (TIMESTAMP '2025-10-16 12:22:00', 'h1 ', 10.5)) t(time, hostname, usage_user)`);
    // Four BIGINTs of 2^52: their sum passes 2^53, so DuckDB answers it.
    await writeArcFile('big', "SELECT TIMESTAMP '2025-10-16 10:00:00' + to_microseconds(i) AS time, 'h1' AS hostname, 4503599627370496::BIGINT + i AS counter FROM range(4) t(i)");
    // More tag values than the cache codes itself (4,096): DuckDB sorts this file for it. Some times NULL.
    await writeArcFile('wide', "SELECT CASE WHEN i % 997 = 0 THEN NULL ELSE TIMESTAMP '2025-10-16 10:00:00' + to_microseconds((i * 7919) % 3600000000) END AS time, CASE WHEN i % 1999 = 0 THEN NULL ELSE 'w' || (i % 5000) END AS hostname, (i % 101)::DOUBLE AS usage_user FROM range(12000) t(i)");
    series = dir.pool({ threads: 1 });
    plain = dir.pool({ threads: 1, seriesCacheBytes: 0 });
    await Promise.all([series.ready(), plain.ready()]);
  });

  afterAll(async () => {
    await Promise.all([series.close(), plain.close()]);
    facts.closeSync();
    dir.remove();
  });

  /** The answer's bytes, up to the JSON or MessagePack answer's timing and timestamp (its last entries). */
  const body = async (pool: QueryPool, sql: string, format: AnswerFormat = 'json'): Promise<string> => {
    const answer = await pool.run({ sql, database: 'default', format });
    const bytes = Buffer.from(answer.body);
    const timing = format === 'json' || format === 'msgpack' ? bytes.indexOf('execution_time_ms') : -1;
    return bytes.subarray(0, timing === -1 ? bytes.length : timing).toString('base64');
  };
  /**
   * An Arrow answer's schema and values, decoded: Arrow leaves the bytes under a NULL unspecified,
   * and DuckDB's vectors hold whatever its aggregates left there (the series answer holds zeros).
   */
  const arrowAnswer = async (pool: QueryPool, sql: string): Promise<string> => {
    const table = tableFromIPC((await pool.run({ sql, database: 'default', format: 'arrow' })).body);
    const fields = table.schema.fields.map((field) => `${field.name}: ${String(field.type)}`);
    const rows = table.toArray().map((row: { toJSON(): unknown }) => row.toJSON());
    return JSON.stringify({ fields, rows }, (_, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
  };
  const seriesAnswers = (): number => series.telemetry.counterTotal('seriesWindows');

  const WINDOW = "time >= TIMESTAMP '2025-10-16 10:17:03' AND time < TIMESTAMP '2025-10-16 11:17:03'";
  it.each([
    ['TSBS single-groupby-1-1-1', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['TSBS cpu-max-all over hours, IN', "SELECT time_bucket(INTERVAL 1 hour, time) AS hour, max(usage_user) AS a, max(usage_system) AS b FROM cpu WHERE hostname IN ('h0', 'h3', 'h9') AND time >= TIMESTAMP '2025-10-16 10:00:00' AND time < TIMESTAMP '2025-10-16 14:00:00' GROUP BY hour ORDER BY hour"],
    ['min, count(*) and count(f) across a file without the field and one without the tag', "SELECT date_trunc('minute', time) AS m, min(usage_user) AS lo, count(*) AS n, count(usage_system) AS ns, count(usage_user) AS nu FROM cpu WHERE hostname = 'h2' AND time >= '2025-10-16 12:30:00' AND time <= '2025-10-16 13:59:59.999999' GROUP BY m ORDER BY m"],
    ['the other tag, IN, DESC with a LIMIT, GROUP BY position', "SELECT date_trunc('hour', time) AS h, max(usage_user) AS top FROM cpu WHERE region IN ('eu') AND time BETWEEN '2025-10-16 10:00:00' AND '2025-10-16 12:30:00' GROUP BY 1 ORDER BY 1 DESC LIMIT 2"],
    ['exclusive and flipped bounds, a 7-minute bucket, ORDER BY the expression', "SELECT time_bucket(INTERVAL 7 minutes, time) AS b, max(usage_user) AS mx, min(usage_user) AS mn FROM cpu WHERE 'h4' = hostname AND time > '2025-10-16 10:00:00.5' AND TIMESTAMP '2025-10-16 12:00:00' >= time GROUP BY b ORDER BY time_bucket(INTERVAL 7 minutes, time)"],
    ['a 90-second bucket from text, grouped by the expression', "SELECT time_bucket(INTERVAL '90 seconds', time) AS b, count(*) AS n FROM cpu WHERE hostname = 'h0' AND time >= '2025-10-16 11:00:00' AND time < '2025-10-16 11:30:00' GROUP BY time_bucket(INTERVAL '90 seconds', time) ORDER BY b"],
    ['a table alias and qualified columns', "SELECT time_bucket(INTERVAL 5 minutes, c.time) AS b, max(c.usage_user) AS m FROM cpu AS c WHERE c.hostname = 'h3' AND c.time >= '2025-10-16 10:00:00' AND c.time < '2025-10-16 10:40:00' GROUP BY b ORDER BY b"],
    ['a bound DuckDB evaluates (TIMESTAMPTZ)', "SELECT time_bucket(INTERVAL 1 hour, time) AS h, count(*) AS n FROM cpu WHERE hostname = 'h1' AND time >= TIMESTAMPTZ '2025-10-16 12:00:00+02' AND time < now() GROUP BY h ORDER BY h"],
    ['a host with no rows', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS m FROM cpu WHERE hostname = 'nobody' AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['before the epoch and the origin, 3-day buckets', "SELECT time_bucket(INTERVAL 3 days, time) AS b, max(usage_user) AS m, count(*) AS n FROM old WHERE hostname = 'h1' AND time >= '1969-01-01' AND time < '2001-01-01' GROUP BY b ORDER BY b"],
    ['weeks before the epoch', "SELECT date_trunc('week', time) AS w, min(usage_user) AS m FROM old WHERE hostname IN ('h0', 'h2') AND time >= '1960-01-01' AND time < '2001-01-01' GROUP BY w ORDER BY w"],
    ['integer fields of every width Arc stores, with NULLs', `SELECT time_bucket(INTERVAL 10 minutes, time) AS b, max(counter) AS hi, min(counter) AS lo, count(counter) AS n, max(ucount) AS u, min(small) AS s, max(ratio) AS r FROM cpu WHERE hostname IN ('h1', 'h2') AND ${WINDOW} GROUP BY b ORDER BY b`],
    ['every series: no tag predicate, rows without the tag, a file without the tag column', "SELECT date_trunc('minute', time) AS m, count(*) AS n, max(usage_user) AS mx, count(usage_system) AS ns FROM cpu WHERE time >= '2025-10-16 12:50:00' AND time < '2025-10-16 13:20:00' GROUP BY m ORDER BY m"],
    ['TSBS groupby-orderby-limit: every series, only an upper bound, the newest 5 minutes', "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE time < TIMESTAMP '2025-10-16 12:34:56' GROUP BY minute ORDER BY minute DESC LIMIT 5"],
    ['ASC with a LIMIT from a lower bound', "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, min(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND time >= '2025-10-16 11:00:00.5' GROUP BY minute ORDER BY minute LIMIT 7"],
    ['a LIMIT past every bucket of the window', "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, count(*) AS n FROM cpu WHERE hostname = 'h2' AND time >= '2025-10-16 10:05:00' AND time < '2025-10-16 10:15:00' GROUP BY minute ORDER BY minute DESC LIMIT 100"],
    ['sparse rows: a LIMIT that reads wider and wider', "SELECT time_bucket(INTERVAL 1 second, time) AS b, max(usage_user) AS m FROM old WHERE hostname = 'h1' AND time < '2000-01-04' GROUP BY b ORDER BY b DESC LIMIT 30"],
    ['rows without a time or a host, every series', "SELECT time_bucket(INTERVAL 10 minutes, time) AS b, count(*) AS n, max(usage_user) AS m FROM nulls WHERE time >= '2025-10-16 12:00:00' AND time < '2025-10-16 13:00:00' GROUP BY b ORDER BY b"],
    ['an empty tag value and values that differ by case or a space', "SELECT time_bucket(INTERVAL 1 minute, time) AS b, max(usage_user) AS m FROM nulls WHERE hostname IN ('', 'H1', 'h1 ') AND time >= '2025-10-16 12:00:00' GROUP BY b ORDER BY b"],
    ['a file of more tag values than the cache codes (sorted by DuckDB)', "SELECT time_bucket(INTERVAL 1 minute, time) AS b, max(usage_user) AS m, count(*) AS n FROM wide WHERE hostname IN ('w1', 'w4999', 'w2500') AND time >= '2025-10-16 10:00:00' AND time < '2025-10-16 11:00:00' GROUP BY b ORDER BY b"],
    ['every series of that file, the newest buckets', "SELECT time_bucket(INTERVAL 1 minute, time) AS b, count(*) AS n FROM wide WHERE time < '2025-10-16 10:30:00' GROUP BY b ORDER BY b DESC LIMIT 4"],
    ['LIMIT 0', "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, count(*) AS n FROM cpu WHERE time < '2025-10-16 12:00:00' GROUP BY minute ORDER BY minute DESC LIMIT 0"],
    ['17-minute buckets before the origin', "SELECT time_bucket(INTERVAL 17 minutes, time) AS b, max(usage_system) AS m FROM old WHERE hostname = 'h4' AND time >= '1999-12-31' AND time < '2000-01-04' GROUP BY b ORDER BY b DESC"],
    ['sums (HUGEINT of integers, DOUBLE of a FLOAT) and avg per bucket, mean', `SELECT time_bucket(INTERVAL 10 minutes, time) AS b, sum(counter) AS sc, sum(ucount) AS su, sum(small) AS ss, sum(ratio) AS sr, avg(ratio) AS ar, mean(ratio) AS mr FROM cpu WHERE hostname IN ('h1', 'h3') AND ${WINDOW} GROUP BY b ORDER BY b`],
    ['the whole window: no bucket, one row', `SELECT count(*) AS n, count(usage_user) AS nu, max(counter) AS hi, min(small) AS lo, max(usage_user) AS mx, sum(counter) AS sc, sum(small) AS ss, sum(ratio) AS sr, avg(ratio) AS ar FROM cpu WHERE hostname = 'h1' AND ${WINDOW}`],
    ['the whole window of every series, a bound DuckDB evaluates', "SELECT count(*) AS n, sum(ucount) AS total, min(usage_user) AS lo FROM cpu WHERE time > TIMESTAMP '2025-10-16 13:30:00' - INTERVAL 1 HOUR"],
    ['the whole window relative to now(): days and an hour from the clock, months by DuckDB', "SELECT count(*) AS n, sum(counter) AS s, max(ratio) AS r FROM cpu WHERE time > now() - INTERVAL 36500 DAYS AND time < now() + INTERVAL '1 hour' AND time >= now() - INTERVAL 1200 MONTHS"],
    ['the whole window without a row in it: count 0, the rest NULL', `SELECT count(*) AS n, count(counter) AS nc, sum(counter) AS s, avg(ratio) AS a, max(usage_user) AS m FROM cpu WHERE hostname = 'nobody' AND ${WINDOW}`],
    ['the whole window over rows without a time or a host', "SELECT count(*) AS n, sum(usage_user) AS s, max(usage_user) AS m FROM nulls WHERE time >= '2025-10-16 12:00:00'"],
    ['the whole window over the DuckDB-sorted file', "SELECT count(*) AS n, sum(usage_user) AS s FROM wide WHERE hostname IN ('w1', 'w2') AND time < '2025-10-16 11:00:00'"],
  ])('%s: the same answer, from the series cache', async (_, sql) => {
    const before = seriesAnswers();
    const expected = await body(plain, sql);
    expect(await body(series, sql)).toBe(expected);
    expect(seriesAnswers()).toBe(before + 1);
    // Again, from what the cache holds now.
    expect(await body(series, sql)).toBe(expected);
    expect(seriesAnswers()).toBe(before + 2);
  });

  it.each([
    ['TSBS lastpoint', 'SELECT * FROM cpu WHERE (hostname, time) IN (SELECT hostname, max(time) FROM cpu GROUP BY hostname) ORDER BY hostname, usage_user'],
    ['by another tag, grouped by position, the latest rows of regions', 'SELECT region, time, usage_user FROM cpu WHERE (region, time) IN (SELECT region, max(time) FROM cpu GROUP BY 1) ORDER BY region, usage_user'],
    ['rows without a time or a host', 'SELECT * FROM nulls WHERE (hostname, time) IN (SELECT hostname, max(time) FROM nulls GROUP BY hostname) ORDER BY hostname, usage_user'],
    ['many tag values', 'SELECT hostname, time, usage_user FROM wide WHERE (hostname, time) IN (SELECT hostname, max(time) FROM wide GROUP BY hostname) ORDER BY hostname, usage_user'],
    ['before the epoch', 'SELECT hostname, time FROM old WHERE (hostname, time) IN (SELECT hostname, max(time) FROM old GROUP BY hostname) ORDER BY hostname, time'],
  ])('%s: the latest rows, their max times from the series cache', async (_, sql) => {
    const before = seriesAnswers();
    expect(await body(series, sql)).toBe(await body(plain, sql));
    expect(seriesAnswers()).toBe(before + 1);
  });

  it('adds floating-point values as DuckDB does, up to the order of the additions', async () => {
    const sql = `SELECT time_bucket(INTERVAL 5 minutes, time) AS b, sum(usage_user) AS s, avg(usage_system) AS a, sum(usage_system) AS t FROM cpu WHERE hostname IN ('h0', 'h2') AND ${WINDOW} GROUP BY b ORDER BY b`;
    const whole = "SELECT sum(usage_system) AS t, avg(usage_user) AS a FROM cpu WHERE time >= '2025-10-16 10:00:00' AND time < '2025-10-16 14:00:00'";
    const rows = async (pool: QueryPool, text: string): Promise<unknown[][]> => (JSON.parse(Buffer.from((await pool.run({ sql: text, database: 'default', format: 'json' })).body).toString('utf8')) as { data: unknown[][] }).data;
    const before = seriesAnswers();
    for (const text of [sql, whole]) {
      const answered = await rows(series, text);
      const expected = await rows(plain, text);
      expect(answered.length).toBe(expected.length);
      expect(answered.length).toBeGreaterThan(0);
      for (const [index, row] of answered.entries()) {
        const other = expected[index] ?? [];
        expect(row.length).toBe(other.length);
        for (const [column, value] of row.entries()) {
          const want = other[column];
          // NaN and the infinities are JSON text or null alike; numbers within 1e-12 of each other.
          if (typeof value === 'number' && typeof want === 'number') expect(Math.abs(value - want)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(want)));
          else expect(value).toEqual(want);
        }
      }
    }
    expect(seriesAnswers()).toBe(before + 2);
  });

  it('answers a statement without ORDER BY with the same rows (in bucket order; DuckDB fixes none)', async () => {
    const sql = `SELECT time_bucket(INTERVAL 5 minutes, time) AS b, max(usage_user) AS m FROM cpu WHERE hostname IN ('h1', 'h4') AND ${WINDOW} GROUP BY b`;
    const rows = async (pool: QueryPool): Promise<unknown[][]> => (JSON.parse(Buffer.from((await pool.run({ sql, database: 'default', format: 'json' })).body).toString('utf8')) as { data: unknown[][] }).data;
    const before = seriesAnswers();
    const answered = await rows(series);
    expect(seriesAnswers()).toBe(before + 1);
    const byBucket = (left: unknown[], right: unknown[]): number => String(left[0]).localeCompare(String(right[0]));
    expect(answered).toEqual([...answered].sort(byBucket));
    expect(answered).toEqual((await rows(plain)).sort(byBucket));
    expect(answered.length).toBe(13);
  });

  // The answer reaches the encoders in memory chunks (result-chunks.ts): every format, NULLs, every integer width and HUGEINT sums.
  const FORMAT_CASES = [
    `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS m, count(*) AS n FROM cpu WHERE hostname = 'h2' AND ${WINDOW} GROUP BY minute ORDER BY minute`,
    `SELECT time_bucket(INTERVAL 10 minutes, time) AS b, max(counter) AS hi, min(small) AS lo, max(ucount) AS u, max(ratio) AS r, sum(counter) AS sc, sum(ratio) AS sr, count(counter) AS n FROM cpu WHERE hostname IN ('h1', 'h2') AND ${WINDOW} GROUP BY b ORDER BY b`,
    `SELECT count(*) AS n, sum(counter) AS s, avg(ratio) AS a, max(usage_user) AS m FROM cpu WHERE hostname = 'nobody' AND ${WINDOW}`,
  ];
  it.each((['csv', 'arrow', 'msgpack'] as const).flatMap((format) => FORMAT_CASES.map((sql, index) => [format, index, sql] as const)))('answers in %s as DuckDB does (case %i)', async (format, _, sql) => {
    const before = seriesAnswers();
    if (format === 'arrow') expect(await arrowAnswer(series, sql)).toBe(await arrowAnswer(plain, sql));
    else expect(await body(series, sql, format)).toBe(await body(plain, sql, format));
    expect(seriesAnswers()).toBe(before + 1);
  });

  it.each([
    ['another aggregate (stddev)', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, stddev(counter) AS s FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['avg of an integer (DuckDB divides a HUGEINT in long double)', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, avg(counter) AS a FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['a sum of integers that could pass 2^53', "SELECT sum(counter) AS s, count(*) AS n FROM big WHERE time >= '2025-10-16 10:00:00'"],
    ['the whole window with a LIMIT', `SELECT count(*) AS n FROM cpu WHERE ${WINDOW} LIMIT 1`],
    ['the whole window, an unaliased aggregate', `SELECT count(*) FROM cpu WHERE ${WINDOW}`],
    ['the whole window, max of a tag', `SELECT count(*) AS n, max(hostname) AS h FROM cpu WHERE ${WINDOW}`],
    ['grouped by the bucket and the tag', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, hostname, max(usage_user) AS m FROM cpu WHERE hostname IN ('h1', 'h2') AND ${WINDOW} GROUP BY minute, hostname ORDER BY minute, hostname`],
    ['an unaliased aggregate', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['HAVING', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY minute HAVING max(usage_user) > 50 ORDER BY minute`],
    ['a predicate on a field', `SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND usage_user > 10 AND ${WINDOW} GROUP BY minute ORDER BY minute`],
    ['a month bucket', "SELECT time_bucket(INTERVAL 1 month, time) AS b, max(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND time >= '2025-10-01' GROUP BY b ORDER BY b"],
    ['a month trunc', "SELECT date_trunc('month', time) AS b, max(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND time >= '2025-10-01' GROUP BY b ORDER BY b"],
    ['a bound finer than a microsecond', "SELECT date_trunc('minute', time) AS b, count(*) AS n FROM cpu WHERE hostname = 'h1' AND time >= '2025-10-16 10:00:00.0000005' AND time < '2025-10-16 10:10:00' GROUP BY b ORDER BY b"],
    // GROUP BY time binds the column: groups of one instant, not of the bucket named `time`.
    ['the bucket named like a column, grouped by that name', `SELECT time_bucket(INTERVAL 1 hour, time) AS time, max(usage_user) AS m FROM cpu WHERE hostname = 'h1' AND ${WINDOW} GROUP BY time ORDER BY 1, 2`],
    ['a field the view casts (BIGINT in one file)', "SELECT time_bucket(INTERVAL 1 hour, time) AS h, max(usage_user) AS m FROM mixed WHERE hostname = 'h1' AND time >= '2025-10-16 10:00:00' GROUP BY h ORDER BY h"],
    ['a LIMIT without ORDER BY (any rows would do)', "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, count(*) AS n FROM cpu WHERE hostname = 'h2' AND time >= '2025-10-16 10:05:00' GROUP BY minute LIMIT 3"],
    ['a UBIGINT beyond 2^53', "SELECT time_bucket(INTERVAL 1 hour, time) AS h, max(ucount) AS m FROM huge WHERE hostname IN ('h0', 'h1', 'h2', 'h3', 'h4') AND time >= '2025-10-16 10:00:00' GROUP BY h ORDER BY h"],
  ])('%s: DuckDB answers', async (_, sql) => {
    const before = seriesAnswers();
    expect(await body(series, sql)).toBe(await body(plain, sql));
    expect(seriesAnswers()).toBe(before);
  });

  it('keeps what it decoded within its bound and says how much', () => {
    const [bytes] = series.telemetry.gaugeByThread('seriesCacheBytes').filter((value) => value > 0);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(128 * 1024 * 1024);
    expect(plain.telemetry.gaugeByThread('seriesCacheBytes').every((value) => value === 0)).toBe(true);
  });
});
