// Proves that random and mutated requests on every query endpoint (SQL as JSON on /query and its
// aliases, Arrow and MessagePack answers, /query/stream, /query/estimate, InfluxQL by GET and by
// form POST, GET /query/{measurement} and /measurements) never get a 5xx, a hang over 10 s or a
// crash, over a small known data set. Requests come from fast-check with a fixed seed
// (ARC_FAULT_SEED overrides it); the data set is counted again at the end, so no query changed it.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { msgpack } from '../support/arc-client.js';
import { AUTH_HEADER, NoAnswer, countRows, exchange, expectAlive, printFigures, useFaultArc } from './support/fault-kit.js';
import { mutatedBytes, mutatedText, utf8 } from './support/mutations.js';

const SEED = Number(process.env.ARC_FAULT_SEED ?? '20261205');
/** Requests per family; seven families, so 2,800 requests (~15 s). */
const RUNS_PER_FAMILY = 400;
const DATABASE = 'q';
const ROWS = 2000;
// Two query threads and a short timeout: a request that would run long is bounded by the server
// (and would show up as a 504 finding), not by the test's deadline.
const fault = useFaultArc({ ARC_QUERY_THREADS: '2', ARC_QUERY_TIMEOUT_SECONDS: '8', ARC_WRITER_FLUSH_AGE_MS: '600000' });

const SQL_SEEDS = [
  'SELECT count(*) FROM cpu',
  "SELECT * FROM cpu WHERE time >= '2026-01-01' ORDER BY time DESC LIMIT 10",
  'SELECT host, avg(v), max(n), min(s) FROM cpu GROUP BY host ORDER BY host',
  "SELECT time_bucket(INTERVAL '1 minute', time) AS t, count(*) FROM cpu GROUP BY t ORDER BY t",
  "SELECT s, length(s), upper(host) FROM q.cpu WHERE s LIKE 'x%' LIMIT 5",
  'WITH a AS (SELECT host, v FROM cpu) SELECT host, sum(v) FROM a GROUP BY host',
  'SHOW TABLES',
  'SHOW DATABASES',
  'DESCRIBE cpu',
  'EXPLAIN SELECT * FROM cpu',
  "SELECT 1 + 1, 'text', NULL, 1.5::DOUBLE, now(), [1, 2], {'a': 1}",
];
/** Tokens that break quoting, reach outside Arc's data, or push types and numbers to their edges. */
const SQL_TOKENS = [
  "'", '"', ';', '--', '/*', '*/', '(', ')', ',', '*', '\u0000', '\\', '$1', '?', '::', 'NULL', ' UNION ALL SELECT 1 ', ' ORDER BY 99 ',
  " read_csv('/etc/passwd') ", " ATTACH ':memory:' AS x; ", " COPY cpu TO '/tmp/arc-fault.csv'; ", ' INSTALL httpfs; ', ' PRAGMA database_list; ',
  " SET memory_limit='64GB'; ", ' CALL pragma_version(); ', ' system.', ' information_schema.tables ', ' duckdb_settings() ', " getenv('HOME') ",
  ' CREATE TABLE t(a INT); ', ' DROP TABLE cpu; ', ' DELETE FROM cpu; ', 'é', '😀', '\uD800', '1e308', '-9223372036854775808', '::BLOB', '::TIMESTAMP',
];
const INFLUXQL_SEEDS = [
  'SELECT mean(v) FROM cpu WHERE time > now() - 2h GROUP BY time(10m), host',
  'SELECT * FROM cpu LIMIT 5',
  'SELECT count(v), sum(n) FROM cpu',
  'SHOW MEASUREMENTS',
  'SHOW TAG KEYS FROM cpu',
  'SHOW TAG VALUES FROM cpu WITH KEY = host',
  'SHOW FIELD KEYS',
  'SHOW DATABASES',
  "SELECT max(n), min(n) FROM cpu WHERE host = 'a' AND time > now() - 1h",
  'SELECT last(v) FROM q.autogen.cpu GROUP BY *',
];
const INFLUXQL_TOKENS = ["'", '"', ';', '(', ')', ',', '/', '=~', '/.*/', ' GROUP BY time(1u) ', ' fill(0) ', ' LIMIT 0 ', ' SLIMIT 1 ', ' OFFSET -1 ', 'now()', '-', '1h', '0s', 'é', '\u0000', '*', 'INTO x '];
const FORMATS = ['json', 'csv', 'arrow', 'msgpack', 'ndjson', 'xml', '', 'JSON'];

/** A query body: structured (sql, format, limit with hostile values) or a mutated valid body. */
function sqlBodies(formats: readonly string[]): fc.Arbitrary<Uint8Array> {
  const limit = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.integer({ min: -5, max: 100 }), fc.constantFrom(0, 1e12, 2 ** 53, 1.5, Number.NaN), fc.string({ maxLength: 5 }), fc.constant(null));
  const structured = fc
    .record({
      sql: fc.oneof({ weight: 4, arbitrary: mutatedText(SQL_SEEDS, SQL_TOKENS, 2) }, { weight: 2, arbitrary: fc.constantFrom(...SQL_SEEDS) }, fc.string({ maxLength: 40 }), fc.jsonValue({ maxDepth: 1 })),
      format: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...formats) }, fc.constant(undefined), fc.jsonValue({ maxDepth: 1 })),
      limit,
    })
    .map((body) => utf8(JSON.stringify(body)));
  const seeds = SQL_SEEDS.map((sql) => utf8(JSON.stringify({ sql, format: 'json', limit: 10 })));
  return fc.oneof({ weight: 3, arbitrary: structured }, { weight: 2, arbitrary: mutatedBytes(seeds, SQL_TOKENS.map(utf8)) }, fc.uint8Array({ maxLength: 200 }));
}

interface QueryRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly contentType?: string;
  readonly body?: Uint8Array;
}

const post = (paths: readonly string[], bodies: fc.Arbitrary<Uint8Array>): fc.Arbitrary<QueryRequest> =>
  fc.tuple(fc.constantFrom(...paths), bodies).map(([path, body]) => ({ method: 'POST', path, contentType: 'application/json', body }));

const parameter = (values: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> => fc.oneof(fc.constant(undefined), values);
const query = (parameters: Record<string, string | undefined>): string =>
  new URLSearchParams(Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();

const influxRequests: fc.Arbitrary<QueryRequest> = fc
  .record({
    q: parameter(fc.oneof({ weight: 4, arbitrary: mutatedText(INFLUXQL_SEEDS, INFLUXQL_TOKENS, 2) }, { weight: 2, arbitrary: fc.constantFrom(...INFLUXQL_SEEDS) }, fc.string({ maxLength: 30 }))),
    db: parameter(fc.oneof({ weight: 3, arbitrary: fc.constant(DATABASE) }, fc.string({ maxLength: 10 }))),
    epoch: parameter(fc.oneof(fc.constantFrom('ns', 'u', 'ms', 's', 'm', 'h'), fc.string({ maxLength: 3 }))),
    viaForm: fc.boolean(),
  })
  .map(({ viaForm, ...parameters }) =>
    viaForm
      ? { method: 'POST', path: `/query?${query({ db: parameters.db })}`, contentType: 'application/x-www-form-urlencoded', body: utf8(query({ q: parameters.q, epoch: parameters.epoch })) }
      : { method: 'GET', path: `/query?${query(parameters)}` },
  );

const TIME_TEXT = fc.oneof(fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-01', '1767225600000', '2026-13-45T99:99:99Z', '-1'), fc.string({ maxLength: 25 }));
const measurementRequests: fc.Arbitrary<QueryRequest> = fc
  .record({
    prefix: fc.constantFrom('', '/api/v1'),
    measurement: fc.oneof({ weight: 3, arbitrary: fc.constant('cpu') }, fc.string({ maxLength: 20 })),
    csv: fc.boolean(),
    list: fc.boolean(),
    parameters: fc.record({
      database: parameter(fc.oneof(fc.constant(DATABASE), fc.string({ maxLength: 10 }))),
      limit: parameter(fc.oneof(fc.integer({ min: -2, max: 50 }).map(String), fc.string({ maxLength: 12 }))),
      offset: parameter(fc.oneof(fc.integer({ min: -2, max: 3000 }).map(String), fc.constant('1e400'))),
      start_time: parameter(TIME_TEXT),
      end_time: parameter(TIME_TEXT),
      columns: parameter(fc.oneof(fc.constantFrom('time,v', 'host', 'nope', ',', 'time,"v'), fc.string({ maxLength: 12 }))),
      order_by: parameter(fc.oneof(fc.constantFrom('time DESC', '-v', 'host asc', 'nope', '"; DROP'), fc.string({ maxLength: 12 }))),
    }),
  })
  .map(({ prefix, measurement, csv, list, parameters }) => ({
    method: 'GET',
    path: list ? `${prefix}/measurements?${query({ database: parameters.database })}` : `${prefix}/query/${encodeURIComponent(measurement)}${csv ? '/csv' : ''}?${query(parameters)}`,
  }));

const FAMILIES: readonly { readonly name: string; readonly requests: fc.Arbitrary<QueryRequest> }[] = [
  { name: 'sql', requests: post(['/query', '/api/v1/query'], sqlBodies(FORMATS)) },
  { name: 'sql-arrow-msgpack', requests: post(['/api/v1/query/arrow', '/api/v1/query/msgpack'], sqlBodies(FORMATS)) },
  { name: 'stream', requests: post(['/query/stream', '/api/v1/query/stream'], sqlBodies(['csv', 'ndjson', 'json', 'arrow', ''])) },
  { name: 'estimate', requests: post(['/query/estimate', '/api/v1/query/estimate'], sqlBodies(FORMATS)) },
  { name: 'influxql', requests: influxRequests },
  { name: 'measurement-read', requests: measurementRequests },
  { name: 'random-bytes', requests: post(['/query', '/api/v1/query/arrow', '/query/stream', '/query/estimate'], fc.uint8Array({ maxLength: 400 })) },
];

const describeRequest = (request: QueryRequest, status: string): string =>
  `${status} for ${request.method} ${request.path.slice(0, 300)} ${request.body === undefined ? '' : JSON.stringify(Buffer.from(request.body.subarray(0, 300)).toString('utf8'))}`;

beforeAll(async () => {
  const time = Array.from({ length: ROWS }, (_, index) => Date.now() - 3_600_000 + index * 1000);
  const body = msgpack({
    m: 'cpu',
    columns: { time, host: time.map((_, index) => ['a', 'b', 'c'][index % 3]), v: time.map((_, index) => index / 4), n: time.map((_, index) => index), s: time.map((_, index) => `x${String(index % 10)}`) },
  });
  expect((await fault.client.write(body, { database: DATABASE })).status).toBe(204);
  expect((await fault.client.flush()).status).toBe(200);
  expect(await countRows(fault.client, DATABASE, 'cpu')).toBe(ROWS);
});

describe('hostile requests on every query endpoint', () => {
  it('answers every random or mutated query with 2xx or 4xx within 10 s, and changes no data', { timeout: 300_000 }, async () => {
    const { arc, client } = fault;
    const statuses: Record<string, number> = {};
    const findings: string[] = [];
    let requests = 0;
    let slowestMs = 0;
    const startedAt = Date.now();
    for (const [familyIndex, family] of FAMILIES.entries()) {
      for (const request of fc.sample(family.requests, { numRuns: RUNS_PER_FAMILY, seed: SEED + familyIndex })) {
        const headers = { ...AUTH_HEADER, 'x-arc-database': DATABASE, ...(request.contentType === undefined ? {} : { 'Content-Type': request.contentType }) };
        let status: string;
        try {
          const answer = await exchange(arc.url, { method: request.method, path: request.path, headers, ...(request.body === undefined ? {} : { body: request.body }) });
          slowestMs = Math.max(slowestMs, answer.ms);
          status = String(answer.status);
          if (answer.status >= 500) findings.push(`${family.name}: ${describeRequest(request, status)} -> ${answer.text().slice(0, 300)}`);
        } catch (error) {
          if (!(error instanceof NoAnswer)) throw error;
          status = error.reason;
          findings.push(`${family.name}: ${describeRequest(request, status)}`);
        }
        requests += 1;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (arc.child.exitCode !== null) throw new Error(`the server exited after ${family.name}: ${describeRequest(request, status)}\n${arc.output().slice(-2000)}`);
      }
    }
    printFigures('hostile-queries', { seed: SEED, requests, statuses, slowest_ms: slowestMs, seconds: Math.round((Date.now() - startedAt) / 1000) });
    expect(findings, findings.slice(0, 5).join('\n')).toEqual([]);
    expect(await countRows(client, DATABASE, 'cpu')).toBe(ROWS);
    await expectAlive(arc);
  });
});
