// Proves the HTTP JSON routes on the built server against a real local JSON API: a one-shot
// export reads every page (cursor pagination, bearer secret) and its rows are read back by SQL
// (count, sums, column types); a range drops rows outside; rows ingest refuses are counted by their
// row and the rest imported; a third export at once is refused; schema discovery lists the records and
// suggests a mapping; a bad mapping, a bad record and an export past its page bound answer 400
// naming what was wrong, with nothing written; a token without admin is refused.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';
import { createToken } from './support/token-helpers.js';

const shared = useSharedArc();
const SECRET = 'api-secret-token';
const RECORD_COUNT = 250;
const PAGE_SIZE = 50;
const BASE_S = Date.UTC(2025, 2, 1) / 1000;

/** Readings one minute apart, in an order that is not time order. */
const READINGS = Array.from({ length: RECORD_COUNT }, (_, index) => {
  const minute = (index * 7) % RECORD_COUNT;
  return { ts: new Date((BASE_S + minute * 60) * 1000).toISOString(), host: `h${minute % 3}`, usage: minute + 0.5, n: minute, up: minute % 2 === 0 };
});

let api: Server;
let apiUrl = '';
/** Answers of `/held` not sent yet, and a promise kept when two are held. */
const held: ServerResponse[] = [];
let twoHeld: () => void = () => undefined;

function route(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', apiUrl);
  const send = (status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.headers.authorization !== `Bearer ${SECRET}`) return send(401, { message: 'no token' });
  if (url.pathname === '/readings') {
    const start = Number(url.searchParams.get('cursor') ?? '0');
    const end = start + PAGE_SIZE;
    return send(200, { data: READINGS.slice(start, end), next_cursor: end < RECORD_COUNT ? String(end) : null });
  }
  if (url.pathname === '/tiny-pages') {
    const page = Number(url.searchParams.get('page') ?? '1');
    return send(200, { data: READINGS.slice(page - 1, page) });
  }
  if (url.pathname === '/held') {
    held.push(res);
    if (held.length === 2) twoHeld();
    return;
  }
  if (url.pathname === '/mixed') return send(200, { data: READINGS.slice(0, 4).map((reading, index) => ({ ...reading, kind: index === 2 ? 'bad"name' : 'mixed' })) });
  if (url.pathname === '/odd') return send(200, { data: [READINGS[0], { ...READINGS[1], usage: { value: 1 } }] });
  return send(404, { message: 'no such route' });
}

beforeAll(async () => {
  api = createServer(route);
  api.listen(0, '127.0.0.1');
  await once(api, 'listening');
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
});

afterAll(async () => {
  api.close();
  await once(api, 'close');
});

const MAPPING = { records: '$.data[*]', time: '$.ts', measurement: 'readings', tags: { host: '$.host' }, fields: { usage: '$.usage', n: { path: '$.n', type: 'integer' }, up: '$.up' } };
const CURSOR = { type: 'cursor', next: '$.next_cursor', param: 'cursor' };

async function post(path: string, body: unknown, token = TEST_TOKEN): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${shared.arc.url}${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

function settings(): Record<string, unknown> {
  return { url: apiUrl };
}

/** The status of a query of the table: not 200 when no row was ever written to it. */
async function tableStatus(database: string, table: string): Promise<number> {
  return (await shared.client.query(`SELECT count(*) FROM ${table}`, database)).status;
}

describe('POST /api/http-json/export', () => {
  it('imports every page and the rows read back by SQL with their types', async () => {
    const answer = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { path: 'readings', mapping: MAPPING, pagination: CURSOR }, database: 'httpjson' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ database: 'httpjson', rows: RECORD_COUNT, rows_rejected: 0, pages: RECORD_COUNT / PAGE_SIZE, errors: [] });
    const sumMinutes = (RECORD_COUNT * (RECORD_COUNT - 1)) / 2;
    expect(await shared.client.rows('SELECT count(*), sum(usage), sum(n), count(DISTINCT host), count(*) FILTER (WHERE up) FROM readings', 'httpjson')).toEqual([[RECORD_COUNT, sumMinutes + RECORD_COUNT / 2, sumMinutes, 3, RECORD_COUNT / 2]]);
    expect(await shared.client.rows("SELECT typeof(usage), typeof(n), typeof(up), typeof(host), min(time) = TIMESTAMP '2025-03-01 00:00:00' FROM readings GROUP BY ALL", 'httpjson')).toEqual([['DOUBLE', 'BIGINT', 'BOOLEAN', 'VARCHAR', true]]);
  });

  it('drops rows outside the range', async () => {
    const range = { start: new Date((BASE_S + 10 * 60) * 1000).toISOString(), end: String(BigInt(BASE_S + 20 * 60) * 1_000_000_000n) };
    const answer = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { path: 'readings', mapping: MAPPING, pagination: CURSOR }, database: 'httpjsonrange', range });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ rows: 10, pages: 5 });
    expect(await shared.client.rows('SELECT min(n), max(n) FROM readings', 'httpjsonrange')).toEqual([[10, 19]]);
  });

  it('a bad mapping, a bad record, a refused secret and too many pages answer 400 naming it; nothing is written', async () => {
    const badPath = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { mapping: { ...MAPPING, records: '$.data[?@.n]' } }, database: 'httpjsonbad' });
    expect(badPath.status).toBe(400);
    expect(badPath.json).toMatchObject({ code: 'ARC_IMPORT_BAD_JSON_PATH', field: 'mapping.records', position: 7 });

    const badRecord = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { path: 'odd', mapping: MAPPING }, database: 'httpjsonbad' });
    expect(badRecord.status).toBe(400);
    expect(badRecord.json).toMatchObject({ code: 'ARC_IMPORT_BAD_RECORD', error: "record 1 of the answer: field 'usage' ('$.usage') is a JSON object, not a value: map a path to one of its members" });

    const refused = await post('/api/http-json/export', { settings: settings(), secret: 'wrong', source: { path: 'readings', mapping: MAPPING }, database: 'httpjsonbad' });
    expect(refused.status).toBe(400);
    expect(refused.json).toMatchObject({ code: 'ARC_IMPORT_SOURCE_REFUSED', step: 'authenticate', status: 401 });

    const tooMany = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { path: 'tiny-pages', mapping: MAPPING, pagination: { type: 'page', param: 'page' } }, database: 'httpjsonbad' });
    expect(tooMany.status).toBe(400);
    expect(tooMany.json).toMatchObject({ code: 'ARC_IMPORT_EXPORT_TOO_LARGE', limit_pages: 100 });
    expect(tooMany.json.error).toContain('import job');
    expect(await tableStatus('httpjsonbad', 'readings')).toBeGreaterThanOrEqual(400);

    const both = await post('/api/http-json/export', { connection_id: 1, settings: settings(), source: { mapping: MAPPING }, database: 'httpjsonbad' });
    expect(both.json).toMatchObject({ code: 'ARC_BAD_REQUEST_BODY', field: 'settings' });
    const badRange = await post('/api/http-json/export', { settings: settings(), source: { mapping: MAPPING }, database: 'httpjsonbad', range: { start: 'yesterday' } });
    expect(badRange.json).toMatchObject({ code: 'ARC_BAD_REQUEST_BODY', field: 'range.start' });
  });

  it('counts the rows ingest refuses and imports the rest', async () => {
    const answer = await post('/api/http-json/export', { settings: settings(), secret: SECRET, source: { path: 'mixed', mapping: { ...MAPPING, measurement: { path: '$.kind' } } }, database: 'httpjsonmixed' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    expect(answer.json).toMatchObject({ rows: 3, rows_rejected: 1, pages: 1 });
    expect((answer.json.errors as { line: number }[]).map((error) => error.line)).toEqual([3]);
    expect(await shared.client.rows('SELECT count(*) FROM mixed', 'httpjsonmixed')).toEqual([[3]]);
  });

  it('runs at most 2 exports at a time: a third is refused with 503 while they wait on the API', async () => {
    const bothHeld = new Promise<void>((resolve) => (twoHeld = resolve));
    const body = { settings: settings(), secret: SECRET, source: { path: 'held', mapping: MAPPING }, database: 'httpjsonheld' };
    const first = post('/api/http-json/export', body);
    const second = post('/api/http-json/export', body);
    await bothHeld;
    const third = await post('/api/http-json/export', body);
    expect(third.status).toBe(503);
    expect(third.json).toMatchObject({ code: 'ARC_IMPORT_EXPORT_BUSY', limit: 2 });
    for (const res of held.splice(0)) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: READINGS.slice(0, 3) }));
    }
    expect((await first).json).toMatchObject({ rows: 3 });
    expect((await second).json).toMatchObject({ rows: 3 });
  });

  it('refuses a token without admin', async () => {
    const writer = await createToken(shared.arc.url, { name: 'http-json-writer', permissions: ['read', 'write'] });
    const answer = await post('/api/http-json/export', { settings: settings(), source: { mapping: MAPPING }, database: 'httpjson' }, writer.token);
    expect(answer.status).toBe(403);
  });
});

describe('POST /api/http-json/discover-schema', () => {
  it('lists the record arrays of the first page and suggests a mapping', async () => {
    const answer = await post('/api/http-json/discover-schema', { settings: settings(), secret: SECRET, path: 'readings' });
    expect(answer.status, JSON.stringify(answer.json)).toBe(200);
    const [candidate] = answer.json.candidates as { records: string; record_count: number; suggested_mapping: Record<string, unknown> }[];
    expect(candidate?.records).toBe('$.data[*]');
    expect(candidate?.record_count).toBe(PAGE_SIZE);
    expect(candidate?.suggested_mapping).toEqual({ records: '$.data[*]', time: '$.ts', measurement: 'data', tags: { host: '$.host' }, fields: { usage: '$.usage', n: '$.n', up: '$.up' } });
  });

  it('answers the failing step of an unreachable or refusing API, and 404 for a connection it does not know', async () => {
    const refused = await post('/api/http-json/discover-schema', { settings: settings(), path: 'readings' });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatch(/^authenticate: .* answered 401/);
    const badSettings = await post('/api/http-json/discover-schema', { settings: { url: 'ftp://x' } });
    expect(badSettings.json).toMatchObject({ code: 'ARC_IMPORT_BAD_SETTINGS', field: 'settings.url' });
    const unknown = await post('/api/http-json/connections/999/discover-schema', {});
    expect(unknown.status).toBe(404);
  });
});
