// Proves the HTTP JSON driver against a real local HTTP server answering paginated JSON in each
// pagination style (page numbers, offsets, cursor tokens, next links, one page): every record
// becomes exactly one row, reopening at every chunk's cursor yields exactly the rows after it, the
// mapping types values as it says, rows outside the range are dropped, and bad answers and records
// fail with errors naming the step, record and field.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArcError } from '@arc/errors';
import { errorOf } from './support/arc-error-of.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HTTP_JSON_DRIVER, rowOf } from '../src/http-json-driver.js';
import { parseMapping } from '../src/http-json-settings.js';
import { driverFor } from '../src/drivers.js';
import { timeNsOf, timeText } from '../src/http-json-values.js';
import { HTTP_JSON_PAGE_BYTES_MAX } from '../src/limits.js';
import type { ReadOptions, SourceChunk, SourceConnection } from '../src/source.js';

const RECORD_COUNT = 23;
const PAGE_SIZE = 5;
const BASE_MS = 1_700_000_000_000;
const SECRET = 's3cret';

/** Records in an order that is not time order (i * 7 mod 23 visits every index once). */
const RECORDS = Array.from({ length: RECORD_COUNT }, (_, index) => {
  const minute = (index * 7) % RECORD_COUNT;
  return { ts: BASE_MS + minute * 60_000, host: index % 2 === 0 ? 'a' : 'b', value: minute + 0.5, count: minute, ok: minute % 3 === 0 };
});

interface Seen {
  readonly url: URL;
  readonly authorization: string | undefined;
  readonly apiKey: string | undefined;
}

let server: Server;
let origin = '';
const seen: Seen[] = [];

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', server: 'test-api/1.0' });
  res.end(text);
}

/** The test API: one route per pagination style, and routes that misbehave. */
function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', origin);
  seen.push({ url, authorization: req.headers.authorization, apiKey: req.headers['x-api-key'] as string | undefined });
  const number = (name: string, fallback: number): number => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case '/v1/page': {
      const page = number('page', 1);
      const size = number('per_page', 10);
      return send(res, 200, { data: RECORDS.slice((page - 1) * size, page * size), page });
    }
    case '/v1/offset':
      return send(res, 200, { result: { items: RECORDS.slice(number('offset', 0), number('offset', 0) + number('limit', 10)) } });
    case '/v1/cursor': {
      const start = url.searchParams.has('after') ? Number((url.searchParams.get('after') ?? '').slice(1)) : 0;
      const end = start + PAGE_SIZE;
      return send(res, 200, { data: RECORDS.slice(start, end), next_cursor: end < RECORD_COUNT ? `c${end}` : null });
    }
    case '/v1/link': {
      const start = number('start', 0);
      const end = start + PAGE_SIZE;
      return send(res, 200, { data: RECORDS.slice(start, end), links: { next: end < RECORD_COUNT ? `/v1/link?start=${end}` : null } });
    }
    case '/v1/all':
      return send(res, 200, RECORDS);
    case '/v1/secure':
      if (req.headers.authorization !== `Bearer ${SECRET}`) return send(res, 401, { message: 'bad token' });
      return send(res, 200, { data: RECORDS.slice(0, 2) });
    case '/v1/keyed':
      if (req.headers['x-api-key'] !== SECRET) return send(res, 403, { message: 'no key' });
      return send(res, 200, { data: RECORDS.slice(0, 2) });
    case '/v1/broken':
      return send(res, 500, 'upstream exploded');
    case '/v1/html':
      return send(res, 200, '<html>not json</html>');
    case '/v1/huge':
      return send(res, 200, { data: [{ ts: BASE_MS, blob: 'x'.repeat(HTTP_JSON_PAGE_BYTES_MAX) }] });
    case '/v1/elsewhere':
      return send(res, 200, { data: RECORDS.slice(0, 1), links: { next: 'http://example.invalid/steal' } });
    case '/v1/odd':
      return send(res, 200, { data: [{ ts: BASE_MS, nested: { a: 1 }, text: 'abc', big: '9007199254740993', flag: 'true', list: [1] }, { host: 'x', value: 1 }] });
    case '/v1/times':
      return send(res, 200, {
        data: [
          { t: '2024-01-02T03:04:05.123456789Z', v: 1 },
          { t: '2024-01-02T04:04:05+01:00', v: 2 },
          { t: 1_704_164_645, v: 3 },
          { t: '1704164645000', v: 4 },
          { t: 1_704_164_645_000_000, v: 5 },
          { t: '2024-01-02', v: 6 },
        ],
      });
    default:
      return send(res, 404, { message: `no route ${url.pathname}` });
  }
}

beforeAll(async () => {
  server = createServer(route);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** A port nothing listens on: one a server just closed. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

function connection(settings: Record<string, unknown> = {}, secret: string | null = null): SourceConnection {
  return { type: 'http-json', settings: { url: `${origin}/v1`, ...settings }, secret };
}

const MAPPING = { records: '$.data[*]', time: '$.ts', measurement: 'cpu', tags: { host: '$.host' }, fields: { value: '$.value', count: { path: '$.count', type: 'integer' }, ok: '$.ok' } };

function options(chunkRowsMax: number, range: Partial<Pick<ReadOptions, 'startNs' | 'endNs'>> = {}): ReadOptions {
  return { startNs: null, endNs: null, chunkBytesMax: 1024 * 1024, chunkRowsMax, signal: new AbortController().signal, ...range };
}

async function readAll(conn: SourceConnection, source: Record<string, unknown>, cursor: string | null, readOptions: ReadOptions): Promise<SourceChunk[]> {
  const reader = await HTTP_JSON_DRIVER.open(conn, source, cursor, readOptions);
  const chunks: SourceChunk[] = [];
  try {
    for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) chunks.push(chunk);
  } finally {
    await reader.close();
  }
  return chunks;
}

function lines(chunks: readonly SourceChunk[]): string[] {
  return chunks.flatMap((chunk) => new TextDecoder().decode(chunk.body).split('\n').filter((line) => line !== ''));
}

function expectedLine(record: (typeof RECORDS)[number]): string {
  return `cpu,host=${record.host} value=${record.value},count=${record.count}i,ok=${record.ok ? 't' : 'f'} ${BigInt(record.ts) * 1_000_000n}`;
}

const ALL_LINES = RECORDS.map(expectedLine).sort();

const STYLES: [string, Record<string, unknown>][] = [
  ['page numbers', { path: 'page', pagination: { type: 'page', param: 'page', start: 1, size_param: 'per_page', size: PAGE_SIZE }, mapping: MAPPING }],
  ['offsets', { path: '/offset', pagination: { type: 'offset', param: 'offset', limit_param: 'limit', limit: PAGE_SIZE }, mapping: { ...MAPPING, records: '$.result.items' } }],
  ['cursor tokens', { path: 'cursor', pagination: { type: 'cursor', next: '$.next_cursor', param: 'after' }, mapping: MAPPING }],
  ['next links', { path: 'link', pagination: { type: 'link', next: '$.links.next' }, mapping: MAPPING }],
  ['one page', { path: 'all', mapping: { ...MAPPING, records: '$[*]' } }],
];

describe('pagination', () => {
  for (const [name, source] of STYLES) {
    for (const chunkRowsMax of [3, 7, 100]) {
      it(`${name}, ${chunkRowsMax} rows per chunk: every record once, each chunk in time order; reopened at every cursor, exactly the rest`, async () => {
        const chunks = await readAll(connection(), source, null, options(chunkRowsMax));
        expect(lines(chunks).sort()).toEqual(ALL_LINES);
        for (const chunk of chunks) {
          expect(chunk.rowCount).toBeLessThanOrEqual(chunkRowsMax);
          const times = lines([chunk]).map((line) => BigInt(line.split(' ')[2] ?? ''));
          expect(times).toEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
          expect(chunk.minTimeNs).toBe(times[0]);
          expect(chunk.maxTimeNs).toBe(times[times.length - 1]);
          expect(chunk.measurements).toEqual(['cpu']);
        }
        for (const [index, chunk] of chunks.entries()) {
          const before = lines(chunks.slice(0, index + 1));
          const after = lines(await readAll(connection(), source, chunk.cursor, options(chunkRowsMax)));
          expect([...before, ...after].sort()).toEqual(ALL_LINES);
        }
      });
    }
  }

  it('page pagination without a size ends at the first empty page', async () => {
    const chunks = await readAll(connection(), { path: 'page', pagination: { type: 'page', param: 'page' }, mapping: MAPPING }, null, options(100));
    expect(lines(chunks).sort()).toEqual(ALL_LINES);
  });

  it("the job source's pagination wins over the connection's", async () => {
    const conn = connection({ pagination: { type: 'cursor', next: '$.nothing', param: 'x' } });
    const chunks = await readAll(conn, STYLES[0]?.[1] ?? {}, null, options(100));
    expect(lines(chunks)).toHaveLength(RECORD_COUNT);
  });

  it('an API that ignores the page parameter is refused, not read forever', async () => {
    const error = await readAll(connection(), { path: 'all', pagination: { type: 'page', param: 'nope' }, mapping: { ...MAPPING, records: '$[*]' } }, null, options(100)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArcError);
    expect((error as ArcError).message).toMatch(/page 2 answered exactly what page 1 did/);
  });

  it('a next link to another origin is refused (the secret would go with it)', async () => {
    const error = await readAll(connection(), { path: 'elsewhere', pagination: { type: 'link', next: '$.links.next' }, mapping: MAPPING }, null, options(100)).catch((caught: unknown) => caught);
    expect((error as ArcError).code).toBe('ARC_IMPORT_BAD_ANSWER');
    expect((error as ArcError).message).toContain('http://example.invalid');
  });
});

describe('range', () => {
  it('rows outside [start, end) are dropped; time_param asks the API for the range', async () => {
    const startNs = BigInt(BASE_MS + 5 * 60_000) * 1_000_000n;
    const endNs = BigInt(BASE_MS + 10 * 60_000) * 1_000_000n;
    seen.length = 0;
    const source = { ...STYLES[2]?.[1], time_param: { start: 'from', end: 'to', format: 'epoch_ms' } };
    const chunks = await readAll(connection(), source, null, options(100, { startNs, endNs }));
    const expected = RECORDS.filter((record) => record.ts >= BASE_MS + 5 * 60_000 && record.ts < BASE_MS + 10 * 60_000).map(expectedLine).sort();
    expect(lines(chunks).sort()).toEqual(expected);
    expect(expected).toHaveLength(5);
    expect(seen[0]?.url.searchParams.get('from')).toBe(String(BASE_MS + 5 * 60_000));
    expect(seen[0]?.url.searchParams.get('to')).toBe(String(BASE_MS + 10 * 60_000));
    // Later pages keep them with the cursor.
    expect(seen[1]?.url.searchParams.get('from')).toBe(String(BASE_MS + 5 * 60_000));
    expect(seen[1]?.url.searchParams.get('after')).toBe('c5');
  });
});

describe('values', () => {
  it('times: RFC 3339 with nanoseconds and offsets, dates, epoch numbers and numeric text by magnitude', async () => {
    const chunks = await readAll(connection(), { path: 'times', mapping: { records: '$.data', time: '$.t', measurement: 'm', fields: { v: '$.v' } } }, null, options(100));
    const byValue = new Map(lines(chunks).map((line) => [line.split(' ')[1], line.split(' ')[2]]));
    expect(byValue.get('v=1.0')).toBe('1704164645123456789');
    expect(byValue.get('v=2.0')).toBe('1704164645000000000');
    expect(byValue.get('v=3.0')).toBe('1704164645000000000');
    expect(byValue.get('v=4.0')).toBe('1704164645000000000');
    expect(byValue.get('v=5.0')).toBe('1704164645000000000');
    expect(byValue.get('v=6.0')).toBe('1704153600000000000');
  });

  it('a time that is no time is named: no February 30th, no hour 24, no free text, no boolean; every format spelled', () => {
    expect(timeNsOf('2024-02-30T00:00:00Z', null)).toBe("'2024-02-30T00:00:00Z' is not an RFC 3339 time");
    expect(timeNsOf('2024-01-01T24:00:00Z', null)).toBe("'2024-01-01T24:00:00Z' is not an RFC 3339 time");
    expect(timeNsOf('2024-01-01 noon', null)).toBe("'2024-01-01 noon' is not an RFC 3339 time");
    expect(timeNsOf(true, null)).toBe('true is not a time');
    expect(timeNsOf(undefined, null)).toBe('is missing');
    expect(timeNsOf('12.5', 'epoch_s')).toBe(12_500_000_000n);
    expect(timeNsOf('abc', 'epoch_ms')).toBe("'abc' is not a number of ms");
    expect(timeNsOf(1_700_000_000_123, 'epoch_ms')).toBe(1_700_000_000_123_000_000n);
    expect(timeNsOf(1_700_000_000_123_456, 'epoch_us')).toBe(1_700_000_000_123_456_000n);
    expect(timeNsOf('1700000000123456789', 'epoch_ns')).toBe(1_700_000_000_123_456_789n);
    expect(timeNsOf('1700000000123456789', null)).toBe(1_700_000_000_123_456_789n);
    expect(timeNsOf('2024-02-29T23:59:59.5+00:00', 'rfc3339')).toBe(1_709_251_199_500_000_000n);
    expect(timeText(1_709_251_199_500_000_001n, 'rfc3339')).toBe('2024-02-29T23:59:59.500000001Z');
    expect(timeText(1_709_251_199_500_000_001n, 'epoch_s')).toBe('1709251199');
  });

  it('a stated time_format is kept: epoch_s text is not read by magnitude, rfc3339 refuses numbers', async () => {
    const source = { path: 'times', mapping: { records: '$.data', time: '$.t', time_format: 'rfc3339', measurement: 'm', fields: { v: '$.v' } } };
    const error = await readAll(connection(), source, null, options(100)).catch((caught: unknown) => caught);
    expect((error as ArcError).message).toMatch(/record 2 of the answer: mapping.time '\$.t' 1704164645 is a number, not an RFC 3339 text/);
  });

  it('a record without a time fails the read naming the record', async () => {
    const error = await readAll(connection(), { path: 'odd', mapping: { records: '$.data', time: '$.ts', measurement: 'm', fields: { text: '$.text' } } }, null, options(100)).catch((caught: unknown) => caught);
    expect((error as ArcError).message).toBe("record 1 of the answer: mapping.time '$.ts' is missing");
    expect((error as ArcError).details).toEqual({ field: "mapping.time '$.ts'" });
  });

  it('records found by a descendant path', async () => {
    const chunks = await readAll(connection(), { path: 'odd', mapping: { records: '$..nested', time: '$.a', measurement: 'm', fields: { a: { path: '$.a', type: 'integer' } } } }, null, options(100));
    expect(lines(chunks)).toEqual(['m a=1i 1000000000']);
  });

  it('mapped types on one record: integer from text, boolean from text, string from a number', async () => {
    // Only the first record has a time: a chunk of one row is that record.
    const source = {
      path: 'odd',
      mapping: { records: '$.data', time: '$.ts', measurement: 'm', fields: { big: { path: '$.big', type: 'integer' }, flag: { path: '$.flag', type: 'boolean' }, text: '$.text', stamp: { path: '$.ts', type: 'string' } } },
    };
    const reader = await HTTP_JSON_DRIVER.open(connection(), source, null, options(1));
    const chunk = await reader.next();
    expect(lines(chunk === null ? [] : [chunk])).toEqual([`m big=9007199254740993i,flag=t,text="abc",stamp="${BASE_MS}" ${BigInt(BASE_MS) * 1_000_000n}`]);
  });

  it('a nested object or array at a field, or a value of the wrong type, fails naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ nested: '$.nested' }, "record 0 of the answer: field 'nested' ('$.nested') is a JSON object, not a value: map a path to one of its members"],
      [{ list: '$.list' }, "record 0 of the answer: field 'list' ('$.list') is a JSON array, not a value: map a path to one of its members"],
      [{ text: { path: '$.text', type: 'float' } }, `record 0 of the answer: field 'text' ('$.text') "abc" is not a float`],
      [{ text: { path: '$.text', type: 'integer' } }, `record 0 of the answer: field 'text' ('$.text') "abc" is not an integer`],
      [{ text: { path: '$.text', type: 'boolean' } }, `record 0 of the answer: field 'text' ('$.text') "abc" is not a boolean`],
    ];
    for (const [fields, message] of cases) {
      const reader = await HTTP_JSON_DRIVER.open(connection(), { path: 'odd', mapping: { records: '$.data', time: '$.ts', measurement: 'm', fields } }, null, options(1));
      const error = await reader.next().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ArcError);
      expect((error as ArcError).code).toBe('ARC_IMPORT_BAD_RECORD');
      expect((error as ArcError).message).toBe(message);
    }
  });

  it('the measurement from a path; absent tags and fields are left out', async () => {
    const source = { path: 'odd', mapping: { records: '$.data[*]', time: '$.ts', measurement: { path: '$.text' }, tags: { missing: '$.nope' }, fields: { text: '$.text', gone: '$.nope' } } };
    const reader = await HTTP_JSON_DRIVER.open(connection(), source, null, options(1));
    const chunk = await reader.next();
    expect(lines(chunk === null ? [] : [chunk])).toEqual([`abc text="abc" ${BigInt(BASE_MS) * 1_000_000n}`]);
  });
});

describe('answers and connection test', () => {
  async function firstError(settings: Record<string, unknown>, path: string, secret: string | null = null, records = '$.data[*]'): Promise<ArcError> {
    const error = await readAll(connection(settings, secret), { path, mapping: { ...MAPPING, records } }, null, options(100)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArcError);
    return error as ArcError;
  }

  it('the secret goes as a bearer token, or in the header auth_header names', async () => {
    expect(lines(await readAll(connection({}, SECRET), { path: 'secure', mapping: MAPPING }, null, options(100)))).toHaveLength(2);
    expect(lines(await readAll(connection({ auth_header: 'X-API-Key' }, SECRET), { path: 'keyed', mapping: MAPPING }, null, options(100)))).toHaveLength(2);
    const refused = await firstError({}, 'secure', 'wrong');
    expect(refused.code).toBe('ARC_IMPORT_SOURCE_REFUSED');
    expect(refused.kind).toBe('bad_request');
    expect(refused.message).toMatch(/^authenticate: http:\/\/127\.0\.0\.1:\d+\/v1\/secure answered 401: \{"message":"bad token"\}$/);
  });

  it('a 5xx is unavailable, non-JSON and oversized answers are bad answers, a records path on no array is named', async () => {
    const broken = await firstError({}, 'broken');
    expect([broken.code, broken.kind, broken.details?.status]).toEqual(['ARC_IMPORT_SOURCE_UNAVAILABLE', 'unavailable', 500]);
    const html = await firstError({}, 'html');
    expect(html.message).toMatch(/^json: the answer of .*\/v1\/html is not JSON/);
    const huge = await firstError({}, 'huge');
    expect(huge.message).toMatch(/over 8388608 bytes/);
    const notArray = await firstError({}, 'page', null, '$.page');
    expect(notArray.message).toMatch(/^records: mapping.records '\$.page' selects a JSON number, not an array in the answer of the answer$/);
    const port = await closedPort();
    const unreachable = await readAll({ type: 'http-json', settings: { url: `http://127.0.0.1:${port}/` }, secret: null }, { mapping: MAPPING }, null, options(100)).catch((caught: unknown) => caught);
    expect((unreachable as ArcError).message).toBe(`connect: http://127.0.0.1:${port} cannot be reached (ECONNREFUSED)`);
    expect((unreachable as ArcError).kind).toBe('unavailable');
  });

  it('test(): ok with the record arrays found, or the failing step', async () => {
    const signal = new AbortController().signal;
    const ok = await driverFor('http-json').test(connection({ url: `${origin}/v1/cursor` }), signal);
    expect(ok).toEqual({ ok: true, version: 'test-api/1.0', detail: expect.stringContaining('record arrays: $.data[*] (5 records)') as unknown });
    const denied = await HTTP_JSON_DRIVER.test(connection({ url: `${origin}/v1/secure` }), signal);
    expect(denied.ok).toBe(false);
    expect(denied.detail).toMatch(/^authenticate: /);
    const noRecords = await HTTP_JSON_DRIVER.test(connection({ url: `${origin}/v1/missing` }), signal);
    expect(noRecords.detail).toMatch(/^status: .* answered 404/);
    const down = await HTTP_JSON_DRIVER.test({ type: 'http-json', settings: { url: `http://127.0.0.1:${await closedPort()}/` }, secret: null }, signal);
    expect(down.detail).toMatch(/^connect: /);
  });
});

describe('settings and job source checks', () => {
  const badSettings: [unknown, string][] = [
    [{}, 'settings.url: must be a non-empty string'],
    [{ url: 'ftp://x' }, "settings.url: must be an http:// or https:// URL, got 'ftp:'"],
    [{ url: 'http://u:p@x' }, 'settings.url: must not carry credentials: give the token as the secret'],
    [{ url: 'http://x', method: 'PUT' }, "settings.method: must be 'GET' or 'POST'"],
    [{ url: 'http://x', body: {} }, "settings.body: is sent with method 'POST' only"],
    [{ url: 'http://x', timeout_ms: 0 }, 'settings.timeout_ms: must be a whole number from 1 to 300000'],
    [{ url: 'http://x', headers: { a: {} } }, 'settings.headers.a: must be a string, number or boolean'],
    [{ url: 'http://x', pagination: { type: 'pages' } }, "settings.pagination.type: must be 'page', 'offset', 'cursor', 'link' or 'none'"],
    [{ url: 'http://x', pagination: { type: 'cursor', next: '$.a[*]', param: 'c' } }, "settings.pagination.next: '$.a[*]' must select one value per record: names and indexes only (no '*', no '..')"],
    [{ url: 'http://x', extra: 1 }, 'settings.extra: unknown field (known: url, headers, method, body, timeout_ms, auth_header, pagination)'],
  ];
  for (const [settings, message] of badSettings) {
    it(`settings ${JSON.stringify(settings)}`, () => {
      expect(() => HTTP_JSON_DRIVER.checkSettings(settings)).toThrow(message);
    });
  }
  const badSources: [unknown, string][] = [
    [{}, 'mapping: must be a JSON object'],
    [{ mapping: { ...MAPPING, records: 'data' } }, "mapping.records: JSONPath 'data' at position 0: a path starts with '$'"],
    [{ mapping: { ...MAPPING, time: '$..ts' } }, "mapping.time: '$..ts' must select one value per record"],
    [{ mapping: { ...MAPPING, measurement: 'bad name' } }, 'mapping.measurement: Invalid measurement name'],
    [{ mapping: { ...MAPPING, fields: {} } }, 'mapping.fields: needs at least one field'],
    [{ mapping: { ...MAPPING, fields: { v: { path: '$.v', type: 'int' } } } }, 'mapping.fields.v.type: must be one of float, integer, string, boolean'],
    [{ mapping: { ...MAPPING, fields: { host: '$.host' } } }, 'mapping.fields.host: is also a tag'],
    [{ mapping: { ...MAPPING, time_format: 'epoch' } }, 'mapping.time_format: must be one of epoch_s, epoch_ms, epoch_us, epoch_ns, rfc3339'],
    [{ mapping: MAPPING, time_param: {} }, 'time_param: names the start or end query parameter'],
    [{ mapping: { ...MAPPING, fields: { '': '$.v' } } }, 'mapping.fields.: a field needs a name without line breaks'],
    [{ mapping: { ...MAPPING, tags: { '': '$.v' } } }, 'mapping.tags.: a tag needs a name without line breaks'],
  ];
  for (const [source, message] of badSources) {
    it(`job source ${JSON.stringify(source).slice(0, 80)}`, () => {
      const caught = errorOf(() => HTTP_JSON_DRIVER.checkJobSource(source));
      expect(caught).toBeInstanceOf(ArcError);
      expect(caught.kind).toBe('bad_request');
      expect(caught.message).toContain(message);
    });
  }
  it('a good source is given back as sent', () => {
    expect(HTTP_JSON_DRIVER.checkJobSource(STYLES[0]?.[1])).toEqual(STYLES[0]?.[1]);
  });
});

describe('any record', () => {
  const mapping = parseMapping({
    records: '$[*]',
    time: '$.t',
    measurement: { path: '$.m' },
    tags: { a: '$.a' },
    fields: { f: '$.f', i: { path: '$.i', type: 'integer' }, b: { path: '$.b', type: 'boolean' }, s: { path: '$.s', type: 'string' }, x: { path: '$.x', type: 'float' } },
  });
  const value = fc.oneof(fc.jsonValue(), fc.string(), fc.integer(), fc.constantFrom('true', 'false', '12', '1.5e3', '2024-01-01T00:00:00Z', 'a\nb'));
  it('maps to one line, to nothing, or to ARC_IMPORT_BAD_RECORD; never another error', () => {
    fc.assert(
      fc.property(fc.record({ t: value, m: value, a: value, f: value, i: value, b: value, s: value, x: value }, { requiredKeys: [] }), (record) => {
        let row: ReturnType<typeof rowOf>;
        try {
          row = rowOf(mapping, record, { startNs: null, endNs: null }, 'r');
        } catch (error) {
          return error instanceof ArcError && error.code === 'ARC_IMPORT_BAD_RECORD';
        }
        if (row === null) return true;
        // One row is one line: a line break only inside a quoted string field value. Quotes are
        // string delimiters only after the measurement and tags (a tag value may hold a bare '"').
        const fieldsStart = row.line.search(/(?<!\\) /);
        const outsideQuotes = row.line.slice(0, fieldsStart) + row.line.slice(fieldsStart).replace(/"(?:[^"\\]|\\.)*"/g, '""');
        return !outsideQuotes.includes('\n') && row.line.endsWith(` ${row.timeNs.toString()}`);
      }),
      { numRuns: 3000 },
    );
  });
});
