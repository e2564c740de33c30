import { describe, expect, it } from 'vitest';
import { formatRfc3339Nano, isParseError, parseQuery, parseTimeLiteral, statementDatabases } from '@arc/influxql';

// Proves the parser refuses what Arc does not answer with InfluxDB's wording and the position,
// names the unsupported construct, and reads the accepted syntax (quoting, casts, time literals).

const SUPPORTED =
  'SELECT, SHOW DATABASES, SHOW MEASUREMENTS, SHOW SERIES, SHOW TAG KEYS, SHOW TAG VALUES, SHOW FIELD KEYS, SHOW RETENTION POLICIES, ' +
  'SHOW SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES [EXACT] CARDINALITY, CREATE DATABASE, CREATE|SHOW|DROP CONTINUOUS QUERY, DELETE, DROP MEASUREMENT, DROP SERIES';

const REFUSED: readonly (readonly [string, string])[] = [
  ['SELECT', 'error parsing query: found EOF, expected identifier, string, number, bool at line 1, char 7'],
  ['', 'error parsing query: found EOF, expected SELECT, SHOW or CREATE at line 1, char 1'],
  ['KILL QUERY 1', `unsupported InfluxQL: KILL statements (Arc answers ${SUPPORTED})`],
  ['ALTER RETENTION POLICY x ON y', `unsupported InfluxQL: ALTER statements (Arc answers ${SUPPORTED})`],
  ['SELECT * INTO other FROM cpu', 'unsupported InfluxQL: SELECT ... INTO'],
  ['SELECT * FROM cpu ORDER BY host', 'unsupported InfluxQL: ORDER BY host (only ORDER BY time is supported)'],
  ["SELECT * FROM cpu WHERE host = 'a", 'error parsing query: unterminated string at line 1, char 32'],
  ['SELECT * FROM cpu GROUP BY time(1m) fill(foo)', 'error parsing query: fill() takes null, none, previous, linear or a number; found foo at line 1, char 42'],
  ['SHOW USERS', `unsupported InfluxQL: SHOW USERS (Arc answers ${SUPPORTED})`],
  ['SELECT * FROM (SELECT * FROM (SELECT * FROM cpu))', 'unsupported InfluxQL: subqueries inside a subquery (Arc answers one level)'],
  ["SELECT * FROM cpu tz('Mars/Olympus')", 'error parsing query: unable to find time zone Mars/Olympus at line 1, char 22'],
  ['SELECT mean(v) FROM cpu GROUP BY time(0s)', 'error parsing query: GROUP BY time() interval must be positive at line 1, char 39'],
  ['SELECT mean(v) FROM cpu GROUP BY time(10)', 'error parsing query: found 10, expected time interval at line 1, char 39'],
  ['SELECT * FROM cpu LIMIT x', 'error parsing query: found x, expected LIMIT count at line 1, char 25'],
  ['CREATE DATABASE x WITH DURATION 1d', 'unsupported InfluxQL: CREATE DATABASE ... WITH (retention policies are set through /api/v1/retention)'],
  ['CREATE USER x', 'unsupported InfluxQL: CREATE USER (Arc answers CREATE DATABASE only)'],
  ["SELECT * FROM cpu WHERE host = 'a' extra", 'error parsing query: found extra, expected ; at line 1, char 36'],
  ['SELECT * FROM cpu GROUP BY /reg/', 'unsupported InfluxQL: regular expressions in GROUP BY (name the tags)'],
  ['SELECT DISTINCT(host) FROM cpu', 'unsupported InfluxQL: DISTINCT'],
  ['SELECT v::bogus FROM cpu', 'error parsing query: unsupported cast ::bogus at line 1, char 11'],
  ['SELECT v FROM cpu WHERE host =~ /unterminated', 'error parsing query: unterminated regular expression at line 1, char 33'],
  ['SELECT v FROM cpu WHERE v > 1 # comment', 'error parsing query: found "#", which is not part of InfluxQL at line 1, char 31'],
  ['SHOW TAG VALUES FROM cpu', 'error parsing query: found EOF, expected WITH at line 1, char 25'],
  ['SHOW MEASUREMENTS FROM cpu', 'unsupported InfluxQL: SHOW MEASUREMENTS FROM (use WITH MEASUREMENT = name)'],
  ['SELECT v FROM cpu;\nSELECT FROM', 'error parsing query: found FROM, expected identifier, string, number, bool at line 2, char 8'],
];

describe('parseQuery', () => {
  it.each(REFUSED)('refuses %j', (query, message) => {
    const parsed = parseQuery(query);
    expect(isParseError(parsed) ? parsed.message : 'parsed').toBe(message);
  });

  it('reads quoted names, casts, comments, and several statements', () => {
    const parsed = parseQuery('SELECT "my field"::float AS "x", mean("v") FROM "my db"."autogen"."cpu load" -- note\n WHERE "a b" = \'it\\\'s\'; SHOW DATABASES;');
    expect(isParseError(parsed)).toBe(false);
    if (isParseError(parsed)) return;
    expect(parsed.map((statement) => statement.kind)).toEqual(['select', 'showDatabases']);
    const select = parsed[0];
    if (select?.kind !== 'select') throw new Error('expected a SELECT');
    expect(select.sources).toEqual([{ database: 'my db', retentionPolicy: 'autogen', measurement: 'cpu load' }]);
    expect(select.fields[0]).toEqual({ expr: { kind: 'identifier', name: 'my field', offset: 7 }, alias: 'x' });
    expect(select.where).toMatchObject({ kind: 'binary', operator: '=', left: { name: 'a b' }, right: { kind: 'string', value: "it's" } });
  });

  it('reads every GROUP BY and paging clause', () => {
    const parsed = parseQuery('select max(v) from cpu group by time(1h, -15m), host, * fill(-1.5) order by time desc limit 10 offset 2 slimit 3 soffset 1');
    if (isParseError(parsed)) throw new Error(parsed.message);
    expect(parsed[0]).toMatchObject({
      groupByTime: { intervalNanos: 3_600_000_000_000n, offsetNanos: -900_000_000_000n },
      groupByTags: ['host'],
      groupByAllTags: true,
      fill: { kind: 'value', value: -1.5 },
      descending: true,
      limit: 10,
      offset: 2,
      seriesLimit: 3,
      seriesOffset: 1,
    });
  });
});

describe('ORDER BY without a field', () => {
  it.each([
    ['select mean(v) from cpu group by time(1m) order by asc', false],
    ['select mean(v) from cpu group by time(1m) order by desc', true],
  ])('%s', (q, descending) => {
    const parsed = parseQuery(q);
    if (isParseError(parsed)) throw new Error(parsed.message);
    expect(parsed[0]).toMatchObject({ descending });
  });

  it('names the databases a subquery reads, so the route checks the token may read them', () => {
    const parsed = parseQuery('select max(m) from (select mean(v) as m from "secret"."autogen"."cpu" group by time(1m))');
    if (isParseError(parsed)) throw new Error(parsed.message);
    const [statement] = parsed;
    if (statement === undefined) throw new Error('no statement');
    expect(statementDatabases(statement, 'default')).toEqual(['secret']);
  });

  it('reads tz() and a subquery', () => {
    const parsed = parseQuery("select max(m) from (select mean(v) as m from cpu group by time(1m)) tz('Europe/Paris')");
    if (isParseError(parsed)) throw new Error(parsed.message);
    expect(parsed[0]).toMatchObject({ timeZone: 'Europe/Paris', sources: [{ measurement: '', subquery: { fields: [{ alias: 'm' }] } }] });
  });
});

describe('time literals', () => {
  it.each([
    ['2024-01-01T00:00:00Z', 1_704_067_200_000_000_000n],
    ['2024-01-01', 1_704_067_200_000_000_000n],
    ['2024-01-01 00:00:00', 1_704_067_200_000_000_000n],
    ['2024-01-01T00:00:00.000000001Z', 1_704_067_200_000_000_001n],
    ['2024-01-01T02:00:00+02:00', 1_704_067_200_000_000_000n],
    ['1969-12-31T23:59:59.5Z', -500_000_000n],
  ])('reads %s', (text, nanos) => {
    expect(parseTimeLiteral(text)).toBe(nanos);
  });

  it.each(['2024-02-30T00:00:00Z', '2024-01-01T25:00:00Z', 'yesterday', '2024-1-1'])('refuses %s', (text) => {
    expect(parseTimeLiteral(text)).toBeNull();
  });

  it.each([
    [1_704_067_200_000_000_000n, '2024-01-01T00:00:00Z'],
    [1_704_067_200_120_000_000n, '2024-01-01T00:00:00.12Z'],
    [1_704_067_200_000_000_001n, '2024-01-01T00:00:00.000000001Z'],
    [-500_000_000n, '1969-12-31T23:59:59.5Z'],
  ])('formats %s as %s', (nanos, text) => {
    expect(formatRfc3339Nano(nanos)).toBe(text);
  });
});
