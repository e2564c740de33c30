// The zod schemas that describe hand-parsed inputs in the API description accept exactly what the
// hand parsers accept: each table of valid and near-miss inputs goes through both, and the two
// verdicts must agree (a parser change that the description misses fails here).
import { DEFAULT_DATABASE, validateDatabaseName } from '@arc/columnar';
import { ArcError } from '@arc/errors';
import { isEpochUnit } from '@arc/influxql';
import { HISTORY_LIST_LIMIT_DEFAULT, HISTORY_LIST_LIMIT_MAX, parseTriggerRequest } from '@arc/compaction';
import { QUERY_ROW_LIMIT_MAX } from '@arc/query';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { integerParameter, parseMeasurementQuery } from '../src/measurement-routes.js';
import { parseQueryBody, parseSqlBody, parseStreamBody } from '../src/query-routes.js';
import type { RequestInfo } from '../src/request-info.js';
import { WRITE_ENDPOINTS, databaseOf, requestOptions } from '../src/write-routes.js';
import {
  compactionHistoryParametersSchema,
  compactionScopeParametersSchema,
  databaseHeaderSchema,
  estimateQueryBodySchema,
  fixedFormatQueryBodySchema,
  influxQueryParametersSchema,
  lineProtocolV1ParametersSchema,
  lineProtocolV2ParametersSchema,
  measurementNameParameter,
  measurementQueryParametersSchema,
  sqlQueryBodySchema,
  streamQueryBodySchema,
} from '../src/openapi/request-schemas.js';

const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));

/** The pool's own check of `limit` (query-pool.ts checkLimit), which every query passes after the body parser. */
function poolAcceptsLimit(limit: unknown): boolean {
  return limit === undefined || limit === null || (Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= QUERY_ROW_LIMIT_MAX);
}

/** Each example's verdicts: [example, the parser accepts, the schema accepts]. */
function verdicts<T>(examples: readonly T[], parser: (example: T) => boolean, schema: z.ZodType, asInput: (example: T) => unknown = (example) => example): [T, boolean, boolean][] {
  return examples.map((example) => [example, parser(example), schema.safeParse(asInput(example)).success]);
}

function expectAgreement(rows: readonly (readonly [unknown, boolean, boolean])[]): void {
  expect(rows.filter(([, parsed, described]) => parsed !== described)).toEqual([]);
  // Both kinds of example are in each table, so agreement is not "both refuse everything".
  expect(rows.some(([, parsed]) => parsed)).toBe(true);
  expect(rows.some(([, parsed]) => !parsed)).toBe(true);
}

const SQL_BODIES: readonly unknown[] = [
  { sql: 'SELECT 1' },
  { sql: 'SELECT 1', format: 'json' },
  { sql: 'SELECT 1', format: 'csv', limit: 10 },
  { sql: 'SELECT 1', format: 'arrow', limit: null },
  { sql: 'SELECT 1', format: 'msgpack', extra: true },
  { sql: 'SELECT 1', format: 'ndjson' },
  { sql: 'SELECT 1', format: 'JSON' },
  { sql: 'SELECT 1', format: null },
  { sql: 'SELECT 1', format: 3 },
  { sql: 'SELECT 1', limit: 0 },
  { sql: 'SELECT 1', limit: 1.5 },
  { sql: 'SELECT 1', limit: QUERY_ROW_LIMIT_MAX },
  { sql: 'SELECT 1', limit: QUERY_ROW_LIMIT_MAX + 1 },
  { sql: 'SELECT 1', limit: '10' },
  { sql: '' },
  { sql: '   \n' },
  { sql: 42 },
  { sql: null },
  {},
  { query: 'SELECT 1' },
  [],
  ['SELECT 1'],
  'SELECT 1',
  null,
  7,
];

/** A body parser's verdict, with the pool's check of `limit` that every parsed query then passes. */
const acceptedByPool = (parsed: { readonly limit?: number } | ArcError): boolean => !(parsed instanceof ArcError) && poolAcceptsLimit(parsed.limit);

describe('query bodies', () => {
  const cases: readonly [string, (body: Uint8Array) => boolean, z.ZodType][] = [
    ['POST /query (parseQueryBody)', (body) => acceptedByPool(parseQueryBody(body)), sqlQueryBodySchema],
    ['POST /api/v1/query/arrow|msgpack (the format is not read)', (body) => acceptedByPool(parseQueryBody(body, 'arrow')), fixedFormatQueryBodySchema],
    ['POST /query/stream (parseStreamBody)', (body) => acceptedByPool(parseStreamBody(body)), streamQueryBodySchema],
    ['POST /query/estimate (parseSqlBody: `sql` alone)', (body) => !(parseSqlBody(body) instanceof ArcError), estimateQueryBodySchema],
  ];
  for (const [name, parser, schema] of cases) {
    it(`${name}: the schema accepts what the parser accepts`, () => {
      expectAgreement(verdicts(SQL_BODIES, (body) => parser(bytes(body)), schema));
    });
  }
});

const MEASUREMENT_QUERIES: readonly string[] = [
  '',
  'limit=1',
  `limit=${String(QUERY_ROW_LIMIT_MAX)}`,
  `limit=${String(QUERY_ROW_LIMIT_MAX + 1)}`,
  'limit=0',
  'limit=-1',
  'limit=',
  'limit=1.5',
  'limit=1e3',
  'limit= 5',
  'limit=abc',
  'offset=0',
  'offset=-1',
  'offset=1000000000',
  'offset=1000000001',
  'start_time=2025-10-16T16:00:00Z',
  'start_time=2025-10-16',
  'start_time=2025-10-16T16:00:00.123456%2B02:00',
  'start_time=2025-10-16 16:00',
  'start_time=2025-13-45T16:00:00Z',
  'start_time=1697472000000',
  'start_time=yesterday',
  'end_time=2025-10-16T16:00:00Z',
  'end_time=16:00',
  'end_time=',
  'columns=time,host',
  'columns=time,,host',
  'columns=time, ',
  'columns=',
  'order_by=time',
  'order_by=-time',
  'order_by=host%20asc',
  'order_by=host%20DESC',
  'order_by=host%20sideways',
  'order_by=',
  'order_by=a%20b%20c',
  'database=prod',
  'database=',
  'database=bad%20name',
  'database=1abc',
  'db=prod',
  'db=bad.name',
];

describe('query-string parameters', () => {
  it('GET /query/{measurement}: the schema accepts what parseMeasurementQuery and the default database rule accept', () => {
    const parser = (query: string): boolean => {
      const parameters = new URLSearchParams(query);
      const database = parameters.get('database') ?? parameters.get('db') ?? DEFAULT_DATABASE;
      // query-routes.ts continueQuery validates the default database of every query route.
      return !(parseMeasurementQuery('cpu', parameters) instanceof ArcError) && validateDatabaseName(database) === null;
    };
    expectAgreement(verdicts(MEASUREMENT_QUERIES, parser, measurementQueryParametersSchema, (query) => Object.fromEntries(new URLSearchParams(query))));
  });

  it('the measurement in the path', () => {
    const names = ['cpu', 'cpu_total', 'c-1', '1cpu', '', 'cpu.total', 'x'.repeat(128), 'x'.repeat(129), 'ünï'];
    expectAgreement(verdicts(names, (name) => !(parseMeasurementQuery(name, new URLSearchParams()) instanceof ArcError), measurementNameParameter));
  });

  const WRITE_QUERIES: readonly string[] = ['', 'db=prod', 'db=', 'db=bad%20name', 'db=_x', 'bucket=prod', 'bucket=b.c', 'precision=ns', 'precision=us', 'precision=ms', 'precision=s', 'precision=n', 'precision=u', 'precision=m', 'precision=h', 'precision=', 'precision=NS', 'precision=sec', 'precision=µs'];

  for (const [path, schema] of [
    ['/write', lineProtocolV1ParametersSchema],
    ['/api/v2/write', lineProtocolV2ParametersSchema],
  ] as const) {
    it(`POST ${path}: the schema accepts what the write route's database and precision rules accept`, () => {
      const endpoint = WRITE_ENDPOINTS.find((candidate) => candidate.path === path);
      expect(endpoint).toBeDefined();
      if (endpoint === undefined) return;
      const parser = (query: string): boolean => {
        const request = { database: '', query: new URLSearchParams(query), receivedAtUs: 0 } as RequestInfo;
        return !(requestOptions(endpoint, request, databaseOf(endpoint, request)) instanceof ArcError);
      };
      expectAgreement(verdicts(WRITE_QUERIES, parser, schema, (query) => Object.fromEntries(new URLSearchParams(query))));
    });
  }

  it('the x-arc-database header', () => {
    const endpoint = WRITE_ENDPOINTS[0];
    expect(endpoint).toBeDefined();
    if (endpoint === undefined) return;
    const headers = ['prod', '', 'Prod-2', 'bad name', '2x', 'x'.repeat(64), 'x'.repeat(65)];
    const parser = (database: string): boolean => {
      const request = { database, query: new URLSearchParams(), receivedAtUs: 0 } as RequestInfo;
      return !(requestOptions(endpoint, request, databaseOf(endpoint, request)) instanceof ArcError);
    };
    expectAgreement(verdicts(headers, parser, databaseHeaderSchema, (database) => ({ 'x-arc-database': database })));
  });

  it('InfluxQL: `epoch` as isEpochUnit reads it, empty meaning absent', () => {
    const epochs = ['', 'ns', 'n', 'u', 'µ', 'us', 'ms', 's', 'm', 'h', 'NS', 'sec', 'd', ' ms'];
    const parser = (epoch: string): boolean => epoch === '' || isEpochUnit(epoch);
    expectAgreement(verdicts(epochs, parser, influxQueryParametersSchema, (epoch) => ({ epoch })));
  });

  it('compaction scope: the schema accepts what parseTriggerRequest accepts', () => {
    const queries = ['', 'database=prod', 'database=', 'database=bad%20name', 'measurement=cpu', 'measurement=1cpu', 'tier=hourly', 'tier=daily', 'tier=weekly', 'tier=', 'tier=HOURLY'];
    const parser = (query: string): boolean => {
      const parameters = new URLSearchParams(query);
      const value = (name: string): string | undefined => (parameters.get(name) === '' ? undefined : (parameters.get(name) ?? undefined));
      return !(parseTriggerRequest({ database: value('database'), measurement: value('measurement'), tier: value('tier') }) instanceof ArcError);
    };
    expectAgreement(verdicts(queries, parser, compactionScopeParametersSchema, (query) => Object.fromEntries(new URLSearchParams(query))));
  });

  it('compaction history: `limit` as integerParameter reads it', () => {
    const limits = ['', '1', String(HISTORY_LIST_LIMIT_MAX), String(HISTORY_LIST_LIMIT_MAX + 1), '0', '-3', '2.5', 'ten', '1e2'];
    const parser = (limit: string): boolean => !(integerParameter(new URLSearchParams({ limit }), 'limit', HISTORY_LIST_LIMIT_DEFAULT, 1, HISTORY_LIST_LIMIT_MAX) instanceof ArcError);
    expectAgreement(verdicts(limits, parser, compactionHistoryParametersSchema, (limit) => ({ limit })));
  });
});
