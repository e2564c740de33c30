import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcError, ErrorKind } from '@arc/config';
import { executeStatements, isParseError, parseQuery, serializeResults } from '@arc/influxql';
import { openTestDatabase, type TestDatabase } from './support/duckdb-runner.js';

// Proves the parser and translator never crash: random text, and random InfluxQL built from
// odd pieces, either fail to parse with a message, or run on a real DuckDB to results whose SQL always parses
// (a "Parser Error" from DuckDB would mean Arc generated broken SQL) and serialize to valid JSON.

/** Pieces of SELECT statements, combined at random: most combinations parse, many are odd. */
const FIELD = fc.constantFrom('usage', '"usage"', 'count', 'host', 'nosuch', '*', 'usage * 2', '-count', 'usage::field AS u', 'count + usage');
const AGGREGATE = fc.constantFrom(
  'mean(usage)', 'max(count)', 'min(usage)', 'sum(count)', 'count(*)', 'first(usage)', 'last(host)', 'median(count)',
  'percentile(usage, 90)', 'spread(usage)', 'stddev(count)', 'mean(host)', 'mean(nosuch)', 'mean(usage) * 100', 'derivative(usage)',
);
const OPERAND = fc.constantFrom('host', 'usage', 'count', 'nosuch', "'a'", "''", '5', '2.5', 'true', '"host"');
const COMPARISON = fc
  .tuple(OPERAND, fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='), OPERAND)
  .map(([left, operator, right]) => `${left} ${operator} ${right}`);
const REGEX = fc.tuple(fc.constantFrom('host', 'usage', 'nosuch'), fc.constantFrom('=~', '!~'), fc.constantFrom('/^a/', '/b|c/', '/(?i)A/', '/x\\/y/')).map((parts) => parts.join(' '));
const TIME_BOUND = fc
  .tuple(fc.constantFrom('>', '>=', '<', '<=', '='), fc.constantFrom('now() - 1h', "'2023-11-14T22:13:20Z'", '1700000000s', '1700000010000000001', '0', 'now()', "'2023-11-14'"))
  .map(([operator, value]) => `time ${operator} ${value}`);
const { condition: CONDITION } = fc.letrec<{ condition: string }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    COMPARISON,
    REGEX,
    TIME_BOUND,
    fc.tuple(tie('condition'), fc.constantFrom('AND', 'OR'), tie('condition')).map(([left, operator, right]) => `(${left} ${operator} ${right})`),
  ),
}));
const GROUP_BY = fc.constantFrom('', 'GROUP BY host', 'GROUP BY *', 'GROUP BY time(10s)', 'GROUP BY time(1m, 10s), host', 'GROUP BY time(1h), nosuch');
const TAIL = fc.constantFrom('', 'fill(none)', 'fill(null)', 'fill(previous)', 'fill(linear)', 'fill(-1)', 'ORDER BY time DESC', 'LIMIT 1', 'LIMIT 2 OFFSET 1', 'SLIMIT 1 SOFFSET 1');
const SELECT = fc
  .tuple(fc.oneof(fc.array(FIELD, { minLength: 1, maxLength: 3 }), fc.array(AGGREGATE, { minLength: 1, maxLength: 3 })), fc.constantFrom('cpu', '"telegraf".."cpu"', 'nosuch', 'cpu, cpu'), fc.option(CONDITION), GROUP_BY, TAIL)
  .map(([fields, source, where, groupBy, tail]) => `SELECT ${fields.join(', ')} FROM ${source}${where === null ? '' : ` WHERE ${where}`} ${groupBy} ${tail}`);
const SHOW = fc.constantFrom(
  'SHOW DATABASES', 'SHOW MEASUREMENTS', 'SHOW TAG KEYS', 'SHOW FIELD KEYS FROM cpu', 'SHOW TAG VALUES WITH KEY = host', "SHOW TAG VALUES WITH KEY =~ /h/ WHERE usage > 1",
  "SHOW MEASUREMENTS WHERE host = 'a'", 'CREATE DATABASE x',
);
const QUERY = fc.array(fc.oneof(SELECT, SELECT, SHOW), { minLength: 1, maxLength: 3 }).map((statements) => statements.join('; '));

const SETUP = [
  'CREATE SCHEMA telegraf',
  'CREATE TABLE telegraf.cpu ("time" TIMESTAMP, host VARCHAR, usage DOUBLE, count BIGINT)',
  "INSERT INTO telegraf.cpu VALUES (make_timestamp(1700000000000000), 'a', 1.5, 3), (make_timestamp(1700000010000000), 'b', NULL, 4)",
];

let database: TestDatabase;
beforeAll(async () => {
  database = await openTestDatabase(SETUP);
});
afterAll(() => database.close());

/** Errors of the SQL a query produced become ArcErrors, as the query pool reports them. */
async function runAsPool(sql: string, name: string, rowsMax: number): ReturnType<TestDatabase['run']> {
  try {
    return await database.run(sql, name, rowsMax);
  } catch (error) {
    if (error instanceof ArcError) throw error;
    const message = (error as Error).message;
    expect(message, `generated SQL does not parse: ${sql}`).not.toMatch(/Parser Error/);
    throw new ArcError(ErrorKind.badRequest, 'ARC_SQL_ERROR', message);
  }
}

describe('InfluxQL fuzz', () => {
  it('parses any text to statements or an error, never throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const parsed = parseQuery(text);
        if (isParseError(parsed)) expect(parsed.message.length).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('runs any generated query that parses without crashing, and answers valid JSON', async () => {
    let parsedCount = 0;
    await fc.assert(
      fc.asyncProperty(QUERY, async (query) => {
        const parsed = parseQuery(query);
        if (isParseError(parsed)) return;
        parsedCount += 1;
        const results = await executeStatements(parsed, { run: runAsPool, database: 'telegraf', nowNanos: 1_700_003_600_000_000_000n, canRead: () => true });
        expect(results).toHaveLength(parsed.length);
        expect(() => JSON.parse(serializeResults(results, null))).not.toThrow();
      }),
      { numRuns: 400 },
    );
    // The generator is meant to reach the executor: most generated queries must parse.
    expect(parsedCount).toBeGreaterThan(300);
  });
});
