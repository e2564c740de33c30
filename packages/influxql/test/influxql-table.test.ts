import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeStatements, isParseError, parseQuery, serializeResults, type EpochUnit } from '@arc/influxql';
import { openTestDatabase, type TestDatabase } from './support/duckdb-runner.js';

// Proves InfluxQL answers end to end below HTTP: each query is parsed, translated to SQL, run on a
// real DuckDB holding a known dataset shaped like Arc's views, and the InfluxDB JSON text compared.

const T0 = 1_700_000_000;
const at = (offsetSeconds: number): string => `make_timestamp(${String((T0 + offsetSeconds) * 1_000_000)}::BIGINT)`;
/** Fixed now(): 2023-11-14T23:13:20Z, one hour after T0. */
const NOW_NANOS = BigInt(T0 + 3600) * 1_000_000_000n;

const SETUP = [
  'CREATE SCHEMA telegraf',
  'CREATE TABLE telegraf.cpu ("time" TIMESTAMP, host VARCHAR, region VARCHAR, usage DOUBLE, count BIGINT, ok BOOLEAN)',
  `INSERT INTO telegraf.cpu VALUES
     (${at(0)}, 'a', 'us', 1.5, 3, true),
     (${at(10)}, 'b', 'eu', 2.5, 4, false),
     (${at(20)}, 'a', 'us', 3.5, 5, true),
     (${at(40)}, 'b', 'eu', 4.5, NULL, NULL),
     (${at(50)}, 'a', 'us', NULL, 7, true)`,
  'CREATE TABLE telegraf.mem ("time" TIMESTAMP, host VARCHAR, used BIGINT)',
  `INSERT INTO telegraf.mem VALUES (${at(0)}, 'a', 9007199254740993), (${at(10)}, 'a', 200)`,
];

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase(SETUP);
});
afterAll(() => database.close());

async function answer(query: string, epoch: EpochUnit | null = 's'): Promise<string> {
  const statements = parseQuery(query);
  if (isParseError(statements)) throw new Error(`unexpected parse error: ${statements.message}`);
  const results = await executeStatements(statements, { run: database.run, database: 'telegraf', nowNanos: NOW_NANOS, canRead: () => true });
  return serializeResults(results, epoch);
}

const t = (offsetSeconds: number): number => T0 + offsetSeconds;
const one = (series: unknown[]): unknown => ({ results: [{ statement_id: 0, series }] });
const empty = { results: [{ statement_id: 0 }] };
const cpu = (columns: string[], values: unknown[][], tags?: Record<string, string>): unknown =>
  tags === undefined ? { name: 'cpu', columns, values } : { name: 'cpu', tags, columns, values };
const statementError = (error: string): unknown => ({ results: [{ statement_id: 0, error }] });

interface Case {
  readonly name: string;
  readonly q: string;
  readonly expected: unknown;
  readonly epoch?: EpochUnit | null;
}

const CASES: readonly Case[] = [
  { name: 'SHOW DATABASES', q: 'SHOW DATABASES', expected: one([{ name: 'databases', columns: ['name'], values: [['telegraf']] }]) },
  { name: 'SHOW MEASUREMENTS', q: 'SHOW MEASUREMENTS', expected: one([{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }]) },
  { name: 'SHOW MEASUREMENTS with a regex', q: 'SHOW MEASUREMENTS WITH MEASUREMENT =~ /^c/', expected: one([{ name: 'measurements', columns: ['name'], values: [['cpu']] }]) },
  { name: 'SHOW MEASUREMENTS LIMIT OFFSET', q: 'SHOW MEASUREMENTS LIMIT 1 OFFSET 1', expected: one([{ name: 'measurements', columns: ['name'], values: [['mem']] }]) },
  { name: 'SHOW MEASUREMENTS ON another database', q: 'SHOW MEASUREMENTS ON "nosuchdb"', expected: empty },
  { name: 'SHOW MEASUREMENTS WHERE tag', q: "SHOW MEASUREMENTS WHERE region = 'eu'", expected: one([{ name: 'measurements', columns: ['name'], values: [['cpu']] }]) },
  { name: 'SHOW TAG KEYS FROM', q: 'SHOW TAG KEYS FROM cpu', expected: one([{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }]) },
  {
    name: 'SHOW TAG KEYS of every measurement',
    q: 'SHOW TAG KEYS',
    expected: one([
      { name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] },
      { name: 'mem', columns: ['tagKey'], values: [['host']] },
    ]),
  },
  {
    name: 'SHOW FIELD KEYS types',
    q: 'SHOW FIELD KEYS FROM "cpu"',
    expected: one([{ name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['count', 'integer'], ['ok', 'boolean'], ['usage', 'float']] }]),
  },
  { name: 'SHOW TAG VALUES WITH KEY =', q: 'SHOW TAG VALUES FROM cpu WITH KEY = "host"', expected: one([{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b']] }]) },
  {
    name: 'SHOW TAG VALUES WITH KEY IN and WHERE',
    q: "SHOW TAG VALUES FROM cpu WITH KEY IN (\"host\", 'region') WHERE region = 'eu'",
    expected: one([{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'b'], ['region', 'eu']] }]),
  },
  { name: 'SHOW TAG VALUES WITH KEY =~ over all measurements', q: 'SHOW TAG VALUES WITH KEY =~ /reg/', expected: one([{ name: 'cpu', columns: ['key', 'value'], values: [['region', 'eu'], ['region', 'us']] }]) },
  {
    name: 'SHOW SERIES lists tag sets as series keys',
    q: 'SHOW SERIES',
    expected: one([{ columns: ['key'], values: [['cpu,host=a,region=us'], ['cpu,host=b,region=eu'], ['mem,host=a']] }]),
  },
  { name: 'SHOW SERIES FROM WHERE', q: "SHOW SERIES FROM cpu WHERE region = 'eu'", expected: one([{ columns: ['key'], values: [['cpu,host=b,region=eu']] }]) },
  {
    name: 'SHOW RETENTION POLICIES',
    q: 'SHOW RETENTION POLICIES ON telegraf',
    expected: one([{ columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '0s', '168h0m0s', 1, true]] }]),
  },
  { name: 'CREATE DATABASE answers an empty result', q: 'CREATE DATABASE "newdb"', expected: empty },
  { name: 'CREATE DATABASE with a bad name', q: 'CREATE DATABASE "9bad"', expected: statementError("Invalid database name '9bad': must match ^[A-Za-z][A-Za-z0-9_-]{0,63}$") },
  { name: 'raw field skips points where it is null', q: 'SELECT usage FROM cpu', expected: one([cpu(['time', 'usage'], [[t(0), 1.5], [t(10), 2.5], [t(20), 3.5], [t(40), 4.5]])]) },
  {
    name: 'SELECT * has every column sorted by name',
    q: "SELECT * FROM cpu WHERE host = 'a'",
    expected: one([cpu(['time', 'count', 'host', 'ok', 'region', 'usage'], [[t(0), 3, 'a', true, 'us', 1.5], [t(20), 5, 'a', true, 'us', 3.5], [t(50), 7, 'a', true, 'us', null]])]),
  },
  { name: 'regex match and a numeric comparison', q: 'SELECT usage FROM cpu WHERE host =~ /^b/ AND usage > 3', expected: one([cpu(['time', 'usage'], [[t(40), 4.5]])]) },
  { name: 'regex non-match', q: 'SELECT usage FROM cpu WHERE host !~ /a/', expected: one([cpu(['time', 'usage'], [[t(10), 2.5], [t(40), 4.5]])]) },
  { name: 'OR and parentheses', q: "SELECT usage FROM cpu WHERE (host = 'b' OR usage < 2) AND time >= 0", expected: one([cpu(['time', 'usage'], [[t(0), 1.5], [t(10), 2.5], [t(40), 4.5]])]) },
  { name: 'ORDER BY time DESC LIMIT', q: 'SELECT usage FROM cpu ORDER BY time DESC LIMIT 2', expected: one([cpu(['time', 'usage'], [[t(40), 4.5], [t(20), 3.5]])]) },
  { name: 'LIMIT 0 is no limit', q: 'SELECT usage FROM cpu LIMIT 0 OFFSET 3', expected: one([cpu(['time', 'usage'], [[t(40), 4.5]])]) },
  { name: 'LIMIT OFFSET', q: 'SELECT usage FROM cpu LIMIT 2 OFFSET 1', expected: one([cpu(['time', 'usage'], [[t(10), 2.5], [t(20), 3.5]])]) },
  {
    name: 'raw GROUP BY tag makes a series per tag value',
    q: 'SELECT usage FROM cpu GROUP BY host',
    expected: one([cpu(['time', 'usage'], [[t(0), 1.5], [t(20), 3.5]], { host: 'a' }), cpu(['time', 'usage'], [[t(10), 2.5], [t(40), 4.5]], { host: 'b' })]),
  },
  {
    name: 'LIMIT counts points per series',
    q: 'SELECT usage FROM cpu GROUP BY host LIMIT 1',
    expected: one([cpu(['time', 'usage'], [[t(0), 1.5]], { host: 'a' }), cpu(['time', 'usage'], [[t(10), 2.5]], { host: 'b' })]),
  },
  { name: 'SLIMIT SOFFSET', q: 'SELECT usage FROM cpu GROUP BY host SLIMIT 1 SOFFSET 1', expected: one([cpu(['time', 'usage'], [[t(10), 2.5], [t(40), 4.5]], { host: 'b' })]) },
  { name: 'mean without a time range is at time 0', q: 'SELECT mean(usage) FROM cpu', expected: one([cpu(['time', 'mean'], [[0, 3]])]) },
  {
    name: 'count, sum of integers, min, max, median, spread',
    q: 'SELECT count(usage), sum(count), min(usage), max(count), median(usage), spread(usage) FROM cpu',
    expected: one([cpu(['time', 'count', 'sum', 'min', 'max', 'median', 'spread'], [[0, 4, 19, 1.5, 7, 3, 3]])]),
  },
  { name: 'a lone selector answers its point time', q: 'SELECT max(usage) FROM cpu', expected: one([cpu(['time', 'max'], [[t(40), 4.5]])]) },
  { name: 'a selector with names beside it answers them at its point', q: 'SELECT max(usage), host, count FROM cpu', expected: one([cpu(['time', 'max', 'host', 'count'], [[t(40), 4.5, 'b', null]])]) },
  { name: 'last() with a tag beside it', q: 'SELECT last(count), host FROM cpu', expected: one([cpu(['time', 'last', 'host'], [[t(50), 7, 'a']])]) },
  {
    name: 'a selector with a tag beside it per bucket',
    q: 'SELECT max(usage), host FROM cpu WHERE time >= 1700000000s AND time < 1700000040s GROUP BY time(20s)',
    expected: one([cpu(['time', 'max', 'host'], [[t(0), 2.5, 'b'], [t(20), 3.5, 'a']])]),
  },
  { name: 'an aggregate with a name beside it', q: 'SELECT mean(usage), host FROM cpu', expected: statementError('mixing aggregate and non-aggregate queries is not supported') },
  { name: 'last() of an integer field', q: 'SELECT last(count) FROM cpu', expected: one([cpu(['time', 'last'], [[t(50), 7]])]) },
  { name: 'first and last together are at the range start', q: 'SELECT first(usage), last(usage) FROM cpu', expected: one([cpu(['time', 'first', 'last'], [[0, 1.5, 4.5]])]) },
  // percentile is a selector: it answers its point's time.
  { name: 'percentile 50 is the nearest rank', q: 'SELECT percentile(usage, 50) FROM cpu', expected: one([cpu(['time', 'percentile'], [[t(10), 2.5]])]) },
  {
    name: 'derivative over raw points, per series, per second',
    q: 'SELECT derivative(usage) FROM cpu GROUP BY host',
    expected: one([cpu(['time', 'derivative'], [[t(20), 0.1]], { host: 'a' }), cpu(['time', 'derivative'], [[t(40), 2 / 30]], { host: 'b' })]),
  },
  { name: 'difference over buckets', q: 'SELECT difference(max(count)) FROM cpu GROUP BY time(20s)', expected: one([cpu(['time', 'difference'], [[t(20), 1], [t(40), 2]])]) },
  { name: 'a transformation over * is refused', q: 'SELECT derivative(mean(*)) FROM cpu GROUP BY time(10s)', expected: statementError('derivative() over * is not supported (name the field)') },
  { name: 'cumulative_sum skips NULL', q: 'SELECT cumulative_sum(count) FROM cpu', expected: one([cpu(['time', 'cumulative_sum'], [[t(0), 3], [t(10), 7], [t(20), 12], [t(50), 19]])]) },
  { name: 'top answers the points, oldest first', q: 'SELECT top(usage, 2) FROM cpu', expected: one([cpu(['time', 'top'], [[t(20), 3.5], [t(40), 4.5]])]) },
  { name: 'mode without a repeat is the smallest value', q: 'SELECT mode(count) FROM cpu', expected: one([cpu(['time', 'mode'], [[0, 3]])]) },
  {
    name: 'tz() prints times with the offset',
    q: "SELECT usage FROM cpu WHERE host = 'a' LIMIT 1 tz('Asia/Kolkata')",
    epoch: null,
    expected: one([cpu(['time', 'usage'], [['2023-11-15T03:43:20+05:30', 1.5]])]),
  },
  { name: 'a subquery is the outer measurement', q: 'SELECT sum(m) FROM (SELECT max(count) AS m FROM cpu GROUP BY host)', expected: one([cpu(['time', 'sum'], [[0, 11]])]) },
  { name: 'percentile 100 is the maximum', q: 'SELECT percentile(usage, 100) FROM cpu', expected: one([cpu(['time', 'percentile'], [[t(40), 4.5]])]) },
  {
    name: 'aggregate GROUP BY tag',
    q: 'SELECT mean(usage) FROM cpu GROUP BY host',
    expected: one([cpu(['time', 'mean'], [[0, 2.5]], { host: 'a' }), cpu(['time', 'mean'], [[0, 3.5]], { host: 'b' })]),
  },
  {
    name: 'GROUP BY * groups by every tag',
    q: 'SELECT mean(usage) FROM cpu GROUP BY *',
    expected: one([cpu(['time', 'mean'], [[0, 2.5]], { host: 'a', region: 'us' }), cpu(['time', 'mean'], [[0, 3.5]], { host: 'b', region: 'eu' })]),
  },
  {
    name: 'aggregate with a time range is at the range start',
    q: 'SELECT count(usage) FROM cpu WHERE time >= 1700000010s',
    expected: one([cpu(['time', 'count'], [[t(10), 3]])]),
  },
  {
    name: 'GROUP BY time within bounds',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(20s)',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5], [t(40), 4.5]])]),
  },
  {
    name: 'fill(null) is the default',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time <= 1700000080s GROUP BY time(20s)',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5], [t(40), 4.5], [t(60), null], [t(80), null]])]),
  },
  {
    name: 'fill(none)',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time <= 1700000080s GROUP BY time(20s) fill(none)',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5], [t(40), 4.5]])]),
  },
  {
    name: 'fill(0)',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time <= 1700000080s GROUP BY time(20s) fill(0)',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5], [t(40), 4.5], [t(60), 0], [t(80), 0]])]),
  },
  {
    name: 'fill(previous)',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time <= 1700000080s GROUP BY time(20s) fill(previous)',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5], [t(40), 4.5], [t(60), 4.5], [t(80), 4.5]])]),
  },
  {
    name: 'fill(linear)',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(10s) fill(linear)',
    expected: one([cpu(['time', 'mean'], [[t(0), 1.5], [t(10), 2.5], [t(20), 3.5], [t(30), 4], [t(40), 4.5], [t(50), null]])]),
  },
  {
    name: 'count fills empty buckets with 0, per tag',
    q: 'SELECT count(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(20s), host',
    expected: one([
      cpu(['time', 'count'], [[t(0), 1], [t(20), 1], [t(40), 0]], { host: 'a' }),
      cpu(['time', 'count'], [[t(0), 1], [t(20), 0], [t(40), 1]], { host: 'b' }),
    ]),
  },
  {
    name: 'GROUP BY time with an offset',
    q: 'SELECT count(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(30s, 10s) fill(none)',
    expected: one([cpu(['time', 'count'], [[t(-10), 2], [t(20), 2]])]),
  },
  {
    name: 'GROUP BY time ORDER BY time DESC',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(20s) ORDER BY time DESC',
    expected: one([cpu(['time', 'mean'], [[t(40), 4.5], [t(20), 3.5], [t(0), 2]])]),
  },
  {
    name: 'GROUP BY time LIMIT applies to buckets',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1700000000s AND time < 1700000060s GROUP BY time(20s) LIMIT 2',
    expected: one([cpu(['time', 'mean'], [[t(0), 2], [t(20), 3.5]])]),
  },
  { name: 'arithmetic on an aggregate with an alias', q: 'SELECT mean(usage) * 2 AS double_mean FROM cpu', expected: one([cpu(['time', 'double_mean'], [[0, 6]])]) },
  { name: 'arithmetic on a raw field', q: "SELECT usage * 10 FROM cpu WHERE host = 'b'", expected: one([cpu(['time', 'usage'], [[t(10), 25], [t(40), 45]])]) },
  { name: 'boolean field comparison', q: "SELECT usage FROM cpu WHERE ok = true AND host = 'a'", expected: one([cpu(['time', 'usage'], [[t(0), 1.5], [t(20), 3.5]])]) },
  { name: 'RFC 3339 time bound is exclusive with >', q: "SELECT usage FROM cpu WHERE time > '2023-11-14T22:13:30Z'", expected: one([cpu(['time', 'usage'], [[t(20), 3.5], [t(40), 4.5]])]) },
  {
    name: 'epoch ms and bare ns time literals',
    q: 'SELECT usage FROM cpu WHERE time >= 1700000010000ms AND time <= 1700000020000000000',
    expected: one([cpu(['time', 'usage'], [[t(10), 2.5], [t(20), 3.5]])]),
  },
  { name: 'now() - 10m excludes older data', q: 'SELECT usage FROM cpu WHERE time > now() - 10m', expected: empty },
  { name: 'now() - 2h includes it', q: 'SELECT count(usage) FROM cpu WHERE time > now() - 2h', expected: one([cpu(['time', 'count'], [[t(-3600), 4]])]) },
  {
    name: "Grafana's query shape (rp-qualified, quoted names, lowercase and, ms bounds, epoch=ms)",
    q: 'SELECT mean("usage") FROM "autogen"."cpu" WHERE ("host" =~ /^a$/) AND time >= 1700000000000ms and time <= 1700000059999ms GROUP BY time(20s), "host" fill(null)',
    epoch: 'ms',
    expected: one([cpu(['time', 'mean'], [[T0 * 1000, 1.5], [(T0 + 20) * 1000, 3.5], [(T0 + 40) * 1000, null]], { host: 'a' })]),
  },
  { name: 'count(*) counts each field', q: 'SELECT count(*) FROM cpu', expected: one([cpu(['time', 'count_count', 'count_ok', 'count_usage'], [[0, 4, 4, 4]])]) },
  { name: 'mean(*) covers the numeric fields', q: 'SELECT mean(*) FROM cpu', expected: one([cpu(['time', 'mean_count', 'mean_usage'], [[0, 4.75, 3]])]) },
  { name: 'a tag compared with a number matches nothing', q: 'SELECT usage FROM cpu WHERE host = 5', expected: empty },
  { name: 'unknown measurement', q: 'SELECT usage FROM nosuch', expected: empty },
  { name: 'unknown field', q: 'SELECT nosuch FROM cpu', expected: empty },
  { name: "tag = '' matches points without the tag", q: "SELECT usage FROM cpu WHERE host = ''", expected: empty },
  { name: 'database-qualified measurement', q: 'SELECT count(usage) FROM "telegraf".."cpu"', expected: one([cpu(['time', 'count'], [[0, 4]])]) },
  {
    name: 'several statements give several results',
    q: 'SELECT mean(usage) FROM cpu; SHOW MEASUREMENTS WITH MEASUREMENT = mem',
    expected: {
      results: [
        { statement_id: 0, series: [cpu(['time', 'mean'], [[0, 3]])] },
        { statement_id: 1, series: [{ name: 'measurements', columns: ['name'], values: [['mem']] }] },
      ],
    },
  },
  { name: 'RFC 3339 answer times without epoch', q: 'SELECT usage FROM cpu LIMIT 1', epoch: null, expected: one([cpu(['time', 'usage'], [['2023-11-14T22:13:20Z', 1.5]])]) },
  { name: 'epoch=ms', q: 'SELECT usage FROM cpu LIMIT 1', epoch: 'ms', expected: one([cpu(['time', 'usage'], [[T0 * 1000, 1.5]])]) },
  { name: 'epoch=h truncates', q: 'SELECT usage FROM cpu LIMIT 1', epoch: 'h', expected: one([cpu(['time', 'usage'], [[Math.floor(T0 / 3600), 1.5]])]) },
  { name: 'a numeric function over a tag', q: 'SELECT mean(host) FROM cpu', expected: statementError('mean() takes a numeric field; host is a tag') },
  {
    name: 'an unsupported function',
    q: 'SELECT integral(usage) FROM cpu',
    expected: statementError(
      'unsupported function: integral() (Arc supports mean, median, mode, sum, count, max, min, first, last, percentile, spread, stddev, top, bottom, derivative, non_negative_derivative, difference, non_negative_difference, moving_average, cumulative_sum, elapsed)',
    ),
  },
  { name: 'mixing raw fields and aggregates', q: 'SELECT usage, mean(usage) FROM cpu', expected: statementError('mixing aggregate and non-aggregate queries is not supported') },
  { name: 'GROUP BY time without an aggregate', q: 'SELECT usage FROM cpu GROUP BY time(10s)', expected: statementError('GROUP BY requires at least one aggregate function') },
  {
    name: 'a bad time literal',
    q: "SELECT mean(usage) FROM cpu WHERE time > 'yesterday'",
    expected: statementError("invalid time literal 'yesterday' (expected RFC 3339, e.g. 2024-01-01T00:00:00Z)"),
  },
  {
    name: 'statements after a failed one are not executed',
    q: 'SELECT mean(usage) FROM cpu; SELECT mean(host) FROM cpu; SHOW DATABASES',
    expected: {
      results: [
        { statement_id: 0, series: [cpu(['time', 'mean'], [[0, 3]])] },
        { statement_id: 1, error: 'mean() takes a numeric field; host is a tag' },
        { statement_id: 2, error: 'not executed' },
      ],
    },
  },
  {
    name: 'too many buckets',
    q: 'SELECT mean(usage) FROM cpu WHERE time >= 1690000000s AND time < 1700000060s GROUP BY time(1s)',
    expected: statementError('max-select-buckets limit exceeded: (10000060/100000)'),
  },
];

describe('InfluxQL answers over a known dataset', () => {
  it.each(CASES)('$name', async ({ q, expected, epoch }) => {
    expect(JSON.parse(await answer(q, epoch === undefined ? 's' : epoch))).toEqual(expected);
  });

  it('keeps int64 values and nanosecond times exact beyond 2^53', async () => {
    expect(await answer('SELECT used FROM mem LIMIT 1', 'ns')).toBe(
      '{"results":[{"statement_id":0,"series":[{"name":"mem","columns":["time","used"],"values":[[1700000000000000000,9007199254740993]]}]}]}',
    );
  });

  it('translates time bounds into constant comparisons on the time column (what hour pruning needs)', async () => {
    database.sqlSeen.length = 0;
    await answer("SELECT mean(usage) FROM cpu WHERE host = 'a' AND time >= '2023-11-14T22:13:20Z' AND time < now() GROUP BY time(1m)");
    expect(database.sqlSeen.at(-1)).toBe(
      'SELECT (epoch_us("time") - (((epoch_us("time") - 0) % 60000000) + 60000000) % 60000000) AS "time", avg("usage") AS c0 FROM "telegraf"."cpu" ' +
        `WHERE ((coalesce("host", '') = 'a' AND "time" >= make_timestamp(1700000000000000::BIGINT)) AND "time" < make_timestamp(${String((T0 + 3600) * 1_000_000)}::BIGINT)) ` +
        'AND ("usage" IS NOT NULL) GROUP BY 1 ORDER BY 1',
    );
  });

  it('compares a time bound given in nanoseconds exactly against microsecond storage', async () => {
    // 1700000010000000001 ns is 1 ns after the point at T0 + 10 s: > excludes it, >= the µs floor would not.
    expect(JSON.parse(await answer('SELECT usage FROM cpu WHERE time > 1700000010000000001 AND time < 1700000030s'))).toEqual(
      one([cpu(['time', 'usage'], [[t(20), 3.5]])]),
    );
    expect(JSON.parse(await answer('SELECT usage FROM cpu WHERE time = 1700000010000000001'))).toEqual(empty);
  });
});
