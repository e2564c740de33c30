import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRegexes,
  chunkStyleOf,
  executeStatements,
  isParseError,
  parseQuery,
  serializeChunks,
  serializeResults,
  type SqlRunner,
  type Statement,
} from '@arc/influxql';
import { openTestDatabase, type TestDatabase } from './support/duckdb-runner.js';

// Proves, below HTTP over a real DuckDB, that InfluxQL regexes are read and matched with RE2
// semantics (flags, Perl classes; bad ones refused in InfluxDB's words and place), that names are
// case-sensitive, that FROM /re/ and the CARDINALITY statements answer, and that chunked answers
// are split as influxd 1.6 splits them (texts below copied from its answers).

const T0 = 1_700_000_000;
const at = (offsetSeconds: number): string => `make_timestamp(${String((T0 + offsetSeconds) * 1_000_000)}::BIGINT)`;
const NOW_NANOS = BigInt(T0 + 3600) * 1_000_000_000n;

const SETUP = [
  'CREATE SCHEMA d',
  'CREATE TABLE d.cpu ("time" TIMESTAMP, host VARCHAR, region VARCHAR, usage DOUBLE)',
  `INSERT INTO d.cpu VALUES (${at(0)}, 'a', 'us', 1), (${at(10)}, 'b', 'eu', 2)`,
  'CREATE TABLE d."Cpu_Load" ("time" TIMESTAMP, "Host" VARCHAR, usage DOUBLE)',
  `INSERT INTO d."Cpu_Load" VALUES (${at(0)}, 'A', 3)`,
  'CREATE TABLE d.disk2 ("time" TIMESTAMP, host VARCHAR, reads DOUBLE, n UBIGINT)',
  `INSERT INTO d.disk2 VALUES (${at(0)}, 'a', 1, 18446744073709551615)`,
];

/** Enough long measurement names that one VALUES list or UNION ALL over them all exceeds the pool's 100 KiB of SQL. */
const WIDE_COUNT = 600;
const wideName = (index: number): string => `measurement_with_a_long_name_${'x'.repeat(180)}_${String(index).padStart(4, '0')}`;
const WIDE_SETUP = [
  'CREATE SCHEMA wide',
  ...Array.from({ length: WIDE_COUNT }, (_, index) => `CREATE TABLE wide."${wideName(index)}" AS SELECT ${at(0)} AS "time", 'a' AS host, 1.0 AS v`),
];

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase([...SETUP, ...WIDE_SETUP]);
});
afterAll(() => database.close());

function parsed(query: string): readonly Statement[] {
  const statements = parseQuery(query);
  if (isParseError(statements)) throw new Error(`unexpected parse error: ${statements.message}`);
  return statements;
}

async function results(query: string): Promise<ReturnType<typeof executeStatements>> {
  return executeStatements(parsed(query), { run: database.run, database: 'd', nowNanos: NOW_NANOS, canRead: () => true });
}

async function answer(query: string): Promise<unknown> {
  return JSON.parse(serializeResults(await results(query), null)) as unknown;
}

const names = (series: readonly object[]): unknown => ({ results: [{ statement_id: 0, series }] });

describe('regular expressions', () => {
  it('reads /.../ as InfluxDB does: \\/ is a slash, other pairs stay for the engine, \\\\ does not escape the closing slash', () => {
    const regexOf = (query: string): unknown => {
      const [statement] = parsed(query);
      return statement?.kind === 'select' && statement.where?.kind === 'binary' ? statement.where.right : null;
    };
    expect(regexOf('SELECT v FROM cpu WHERE host =~ /a\\/b/')).toEqual({ kind: 'regex', pattern: 'a/b', offset: 32 });
    expect(regexOf('SELECT v FROM cpu WHERE host =~ /\\d+\\.x/')).toMatchObject({ pattern: '\\d+\\.x' });
    expect(regexOf('SELECT v FROM cpu WHERE host =~ /a\\\\/')).toMatchObject({ pattern: 'a\\\\' });
  });

  it('reads FROM /re/ alone and after a database and retention policy', () => {
    const sourcesOf = (query: string): unknown => {
      const [statement] = parsed(query);
      return statement?.kind === 'select' ? statement.sources : null;
    };
    expect(sourcesOf('SELECT v FROM /^c/, mem')).toEqual([
      { database: null, measurement: '', regex: { pattern: '^c', offset: 14 } },
      { database: null, measurement: 'mem' },
    ]);
    expect(sourcesOf('SELECT v FROM db.autogen./^c/')).toMatchObject([{ database: 'db', regex: { pattern: '^c' } }]);
    expect(sourcesOf('SELECT v FROM "db"../^c/')).toMatchObject([{ database: 'db', regex: { pattern: '^c' } }]);
  });

  it('checks regexes with the engine (RE2): flags and Perl classes pass, errors use Go\'s words at InfluxDB\'s position', async () => {
    const check = async (query: string): Promise<unknown> => checkRegexes(query, parsed(query), database.run, 'd');
    expect(await check('SELECT v FROM cpu WHERE host =~ /(?i)^a\\d+[[:alpha:]]$/ AND region !~ /(?s:.)/')).toBeNull();
    expect(await check('SHOW MEASUREMENTS WITH MEASUREMENT =~ /(/')).toEqual({
      message: 'error parsing query: error parsing regexp: missing closing ): `(` at line 1, char 38',
      line: 1,
      char: 38,
    });
    expect(await check('SELECT v FROM cpu WHERE host =~ /a**/')).toMatchObject({ message: 'error parsing query: error parsing regexp: invalid nested repetition operator: `**` at line 1, char 32' });
    expect(await check('SELECT v FROM /\\C/')).toMatchObject({ message: 'error parsing query: error parsing regexp: invalid escape sequence: `\\C` at line 1, char 14' });
    expect(await check('SHOW TAG VALUES WITH KEY =~ /[z-a]/')).toMatchObject({ message: expect.stringContaining('invalid character class range: `z-a`') });
  });

  it('matches names with RE2 semantics, case-sensitively unless (?i) says otherwise', async () => {
    expect(await answer('SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)^cpu/')).toEqual(names([{ name: 'measurements', columns: ['name'], values: [['Cpu_Load'], ['cpu']] }]));
    expect(await answer('SHOW MEASUREMENTS WITH MEASUREMENT =~ /^cpu/')).toEqual(names([{ name: 'measurements', columns: ['name'], values: [['cpu']] }]));
    expect(await answer('SHOW MEASUREMENTS WITH MEASUREMENT =~ /\\d$/')).toEqual(names([{ name: 'measurements', columns: ['name'], values: [['disk2']] }]));
    expect(await answer('SHOW TAG VALUES WITH KEY =~ /(?i)^host$/')).toEqual(
      names([
        { name: 'Cpu_Load', columns: ['key', 'value'], values: [['Host', 'A']] },
        { name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b']] },
        { name: 'disk2', columns: ['key', 'value'], values: [['host', 'a']] },
      ]),
    );
  });

  it('answers SELECT ... FROM /re/ with every matching measurement, sorted', async () => {
    expect(await answer('SELECT usage FROM /(?i)^cpu/')).toEqual(
      names([
        { name: 'Cpu_Load', columns: ['time', 'usage'], values: [['2023-11-14T22:13:20Z', 3]] },
        { name: 'cpu', columns: ['time', 'usage'], values: [['2023-11-14T22:13:20Z', 1], ['2023-11-14T22:13:30Z', 2]] },
      ]),
    );
  });
});

describe('names are case-sensitive', () => {
  it.each(['SELECT usage FROM CPU', 'SELECT usage FROM cpu_load', 'SHOW TAG KEYS FROM CPU', 'SHOW FIELD KEYS FROM Cpu', 'SHOW SERIES FROM CPU'])('%s finds nothing', async (query) => {
    expect(await answer(query)).toEqual({ results: [{ statement_id: 0 }] });
  });
});

describe('SHOW cardinality and field types', () => {
  it.each([
    ['SHOW SERIES CARDINALITY', { columns: ['cardinality estimation'], values: [[4]] }],
    ['SHOW MEASUREMENT CARDINALITY', { columns: ['cardinality estimation'], values: [[3]] }],
    ["SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'a'", { columns: ['count'], values: [[2]] }],
    ['SHOW SERIES EXACT CARDINALITY FROM cpu', { name: 'cpu', columns: ['count'], values: [[2]] }],
    ['SHOW FIELD KEYS FROM disk2', { name: 'disk2', columns: ['fieldKey', 'fieldType'], values: [['n', 'unsigned'], ['reads', 'float']] }],
  ])('%s', async (query, series) => {
    expect(await answer(query)).toEqual({ results: [{ statement_id: 0, series: [series] }] });
  });

  it('refuses time in SHOW SERIES CARDINALITY WHERE, as InfluxDB does', async () => {
    expect(await answer('SHOW SERIES CARDINALITY WHERE time > 0')).toEqual({ results: [{ statement_id: 0, error: "SHOW SERIES EXACT CARDINALITY doesn't support time in WHERE clause" }] });
  });
});

describe('chunked answers', () => {
  const chunked = async (query: string, size: number): Promise<string> => serializeChunks(await results(query), parsed(query).map(chunkStyleOf), null, size);

  it('splits SELECT rows per series, flagging the continued series and every chunk but the last (influxd 1.6)', async () => {
    expect(await chunked('SELECT usage FROM cpu', 1)).toBe(
      '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2023-11-14T22:13:20Z",1]],"partial":true}],"partial":true}]}\n' +
        '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2023-11-14T22:13:30Z",2]]}]}]}\n',
    );
    expect(await chunked('SELECT usage FROM cpu GROUP BY host', 3)).toBe(
      '{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[["2023-11-14T22:13:20Z",1]]}],"partial":true}]}\n' +
        '{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"b"},"columns":["time","usage"],"values":[["2023-11-14T22:13:30Z",2]]}]}]}\n',
    );
  });

  it('sends SHOW TAG VALUES one series per chunk without partial, SHOW MEASUREMENTS whole', async () => {
    expect(await chunked('SHOW TAG VALUES FROM cpu WITH KEY = host; SHOW MEASUREMENTS', 1)).toBe(
      '{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["key","value"],"values":[["host","a"],["host","b"]]}]}]}\n' +
        '{"results":[{"statement_id":1,"series":[{"name":"measurements","columns":["name"],"values":[["Cpu_Load"],["cpu"],["disk2"]]}]}]}\n',
    );
  });
});

describe('statements over many measurements', () => {
  /** The query pool's limit on SQL text (packages/query limits), which the test runner does not have. */
  const SQL_BYTES_MAX = 100 * 1024;
  const limited: SqlRunner = (sql, name, rowsMax) =>
    Buffer.byteLength(sql) > SQL_BYTES_MAX ? Promise.reject(new Error(`SQL longer than ${String(SQL_BYTES_MAX)} bytes`)) : database.run(sql, name, rowsMax);
  const wide = async (query: string): Promise<unknown> =>
    JSON.parse(serializeResults(await executeStatements(parsed(query), { run: limited, database: 'wide', nowNanos: NOW_NANOS, canRead: () => true }), null)) as unknown;

  it('splits the SQL it builds so each statement stays under the pool\'s limit', async () => {
    expect(await wide('SHOW SERIES CARDINALITY')).toEqual({ results: [{ statement_id: 0, series: [{ columns: ['cardinality estimation'], values: [[WIDE_COUNT]] }] }] });
    expect(await wide('SHOW MEASUREMENTS WITH MEASUREMENT =~ /_059[0-9]$/')).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'measurements', columns: ['name'], values: Array.from({ length: 10 }, (_, index) => [wideName(590 + index)]) }] }],
    });
    expect(await wide("SHOW MEASUREMENT EXACT CARDINALITY WHERE host = 'a'")).toEqual({ results: [{ statement_id: 0, series: [{ columns: ['count'], values: [[WIDE_COUNT]] }] }] });
  }, 60_000);
});
