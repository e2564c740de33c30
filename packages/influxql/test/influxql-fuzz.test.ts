import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcError, ErrorKind } from '@arc/errors';
import { executeStatements, isParseError, parseQuery, serializeResults } from '@arc/influxql';
import { openTestDatabase, type TestDatabase } from './support/duckdb-runner.js';
import { influxqlQuery } from './support/influxql-arbitraries.js';

// Proves the parser and translator never crash: random text, and random InfluxQL built from
// odd pieces, either fail to parse with a message, or run on a real DuckDB to results whose SQL always parses
// (a "Parser Error" from DuckDB would mean Arc generated broken SQL) and serialize to valid JSON.

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
      fc.asyncProperty(influxqlQuery, async (query) => {
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
