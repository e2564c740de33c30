// The InfluxDB 2.x driver against a local HTTP server that answers as InfluxDB 2.x documents
// (/health, /api/v2/buckets, Flux queries answered in annotated CSV), because no InfluxDB 2.x server
// can be installed here: the requests' shape is checked, every row comes out once as the expected
// line (64-bit integers, unsigned, ns times, escapes), a reader reopened at any chunk's cursor goes
// on exactly after it, and the connection test names the step that fails.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverFor, SourceType, type SourceChunk, type SourceConnection } from '@arc/importer';
import { freePort } from '../../server/test/support/arc-process.js';

const driver = driverFor(SourceType.influx2);
const TOKEN = 'good-token';
const T0 = 1_700_000_000_000_000_000n;

type Typed = readonly ['double', number] | readonly ['long' | 'unsignedLong', bigint] | readonly ['string', string] | readonly ['boolean', boolean];
interface Point {
  readonly measurement: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly fields: Readonly<Record<string, Typed>>;
  readonly timeNs: bigint;
}

const HOSTS = ['a', 'b', 'c'];
const CPU: Point[] = Array.from({ length: 10 }, (_, timeIndex) =>
  HOSTS.map((host, hostIndex) => ({
    measurement: 'cpu',
    tags: { host, region: hostIndex === 0 ? 'us' : 'eu' },
    fields: { usage_user: ['double', timeIndex + hostIndex / 4] as const, usage_idle: ['double', 100 - timeIndex] as const },
    timeNs: T0 + BigInt(timeIndex) * 1_000_000_001n,
  })),
).flat();
const EDGE: Point[] = [
  { measurement: 'edge', tags: {}, fields: { max: ['long', 9223372036854775807n], min: ['long', -9223372036854775808n], u: ['unsignedLong', 18446744073709551615n] }, timeNs: T0 + 1n },
  { measurement: 'edge', tags: { 'pl ace': 'a b,c=d' }, fields: { text: ['string', 'say "hi", \\ and\nbreak'], ok: ['boolean', true] }, timeNs: T0 + 2n },
];
/** Points days to a year apart: the pages' time windows grow to reach them. */
const SPARSE_OFFSETS_NS = [0n, 86_400_000_000_000n, 30n * 86_400_000_000_000n, 365n * 86_400_000_000_000n];
const SPARSE: Point[] = SPARSE_OFFSETS_NS.map((offset, index) => ({ measurement: 'sparse', tags: {}, fields: { v: ['long', BigInt(index)] }, timeNs: T0 + offset }));
const POINTS = [...CPU, ...EDGE, ...SPARSE];
const EXPECTED = [
  ...CPU.map((point) => `cpu,host=${point.tags.host ?? ''},region=${point.tags.region ?? ''} usage_idle=${spellFloat(point.fields.usage_idle?.[1] as number)},usage_user=${spellFloat(point.fields.usage_user?.[1] as number)} ${point.timeNs.toString()}`),
  `edge max=9223372036854775807i,min=-9223372036854775808i,u=18446744073709551615u ${(T0 + 1n).toString()}`,
  `edge,pl\\ ace=a\\ b\\,c\\=d ok=t,text="say \\"hi\\", \\\\ and\nbreak" ${(T0 + 2n).toString()}`,
  ...SPARSE.map((point, index) => `sparse v=${String(index)}i ${point.timeNs.toString()}`),
];
const END_NS = T0 + 400n * 86_400_000_000_000n;

function spellFloat(value: number): string {
  return Number.isInteger(value) ? `${String(value)}.0` : String(value);
}

/** ns as RFC3339Nano (trailing fraction zeros left out), as InfluxDB writes `_time`. */
function rfc3339Nano(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function csvTable(columns: readonly (readonly [string, string])[], rows: readonly (readonly string[])[]): string {
  const lines = [
    `#group,${columns.map(() => 'false').join(',')}`,
    `#datatype,${columns.map(([, type]) => type).join(',')}`,
    `#default,_result${',' .repeat(columns.length - 1)}`,
    `,${columns.map(([name]) => name).join(',')}`,
    ...rows.map((row) => `,${row.map(csvCell).join(',')}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function valuesTable(values: readonly string[]): string {
  return csvTable([['result', 'string'], ['table', 'long'], ['_value', 'string']], values.map((value) => ['', '0', value]));
}

/** A page as `range |> filter |> pivot |> group |> sort |> limit` answers it, from the query's own numbers. */
function pageAnswer(query: string): string {
  const [start, stop] = [...query.matchAll(/time\(v: (-?\d+)\)/g)].map((match) => BigInt(match[1] as string));
  const measurement = JSON.parse(/r\._measurement == ("(?:[^"\\]|\\.)*")/.exec(query)?.[1] ?? '""') as string;
  const limit = /limit\(n: (\d+), offset: (\d+)\)/.exec(query);
  if (start === undefined || stop === undefined || limit === null) throw new Error(`unexpected query ${query}`);
  const points = POINTS.filter((point) => point.measurement === measurement && point.timeNs >= start && point.timeNs < stop)
    .sort((a, b) => (a.timeNs === b.timeNs ? JSON.stringify(a.tags).localeCompare(JSON.stringify(b.tags)) : a.timeNs < b.timeNs ? -1 : 1))
    .slice(Number(limit[2]), Number(limit[2]) + Number(limit[1]));
  const tagKeys = [...new Set(points.flatMap((point) => Object.keys(point.tags)))].sort();
  const fieldTypes = new Map(points.flatMap((point) => Object.entries(point.fields).map(([key, [type]]) => [key, type] as const)));
  const fieldKeys = [...fieldTypes.keys()].sort();
  const columns: [string, string][] = [['result', 'string'], ['table', 'long'], ['_start', 'dateTime:RFC3339'], ['_stop', 'dateTime:RFC3339'], ['_time', 'dateTime:RFC3339Nano'], ['_measurement', 'string']];
  columns.push(...tagKeys.map((key) => [key, 'string'] as [string, string]), ...fieldKeys.map((key) => [key, fieldTypes.get(key) ?? 'string'] as [string, string]));
  const rows = points.map((point) => [
    '',
    '0',
    rfc3339Nano(start < 0n ? 0n : start),
    rfc3339Nano(stop),
    rfc3339Nano(point.timeNs),
    measurement,
    ...tagKeys.map((key) => point.tags[key] ?? ''),
    ...fieldKeys.map((key) => String(point.fields[key]?.[1] ?? '')),
  ]);
  return csvTable(columns, rows);
}

/** `first() |> group() |> min(column: "_time")`: the measurement's oldest time before the stop. */
function firstAnswer(query: string): string {
  const stop = BigInt([...query.matchAll(/time\(v: (-?\d+)\)/g)][1]?.[1] ?? '0');
  const measurement = JSON.parse(/r\._measurement == ("(?:[^"\\]|\\.)*")/.exec(query)?.[1] ?? '""') as string;
  const times = POINTS.filter((point) => point.measurement === measurement && point.timeNs < stop).map((point) => point.timeNs);
  if (times.length === 0) return '\r\n';
  const first = times.reduce((a, b) => (a < b ? a : b));
  return csvTable([['result', 'string'], ['table', 'long'], ['_time', 'dateTime:RFC3339Nano']], [['', '0', rfc3339Nano(first)]]);
}

function queryAnswer(query: string): string {
  if (query.includes('schema.measurements(')) return valuesTable([...new Set(POINTS.map((point) => point.measurement))]);
  const tagKeysOf = /schema\.measurementTagKeys\(bucket: "metrics", measurement: ("(?:[^"\\]|\\.)*")/.exec(query);
  if (tagKeysOf !== null) {
    const measurement = JSON.parse(tagKeysOf[1] as string) as string;
    const keys = POINTS.filter((point) => point.measurement === measurement).flatMap((point) => Object.keys(point.tags));
    return valuesTable(['_field', '_measurement', '_start', '_stop', ...new Set(keys)]);
  }
  if (query.includes('r._measurement == "broken"')) return csvTable([['error', 'string'], ['reference', 'string']], [['panic: the storage engine gave up', '']]);
  if (query.includes('|> first()')) return firstAnswer(query);
  return pageAnswer(query);
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const piece of request) text += String(piece);
  return text;
}

const queries: { url: string; headers: IncomingMessage['headers']; body: Record<string, unknown> }[] = [];

function json(status: number, body: unknown): [number, string, string] {
  return [status, 'application/json; charset=utf-8', JSON.stringify(body)];
}

async function answer(request: IncomingMessage): Promise<[number, string, string]> {
  const url = new URL(request.url ?? '/', 'http://x');
  if (url.pathname === '/health') return json(200, { name: 'influxdb', message: 'ready for queries and writes', status: 'pass', checks: [], version: 'v2.7.1', commit: '407fa622e9' });
  if (request.headers.authorization !== `Token ${TOKEN}`) return json(401, { code: 'unauthorized', message: 'unauthorized access' });
  if (url.searchParams.get('org') !== 'acme') return json(404, { code: 'not found', message: `organization name "${url.searchParams.get('org') ?? ''}" not found` });
  if (url.pathname === '/api/v2/buckets' && request.method === 'GET') return json(200, { buckets: url.searchParams.get('name') === 'metrics' ? [{ id: '0d1f', name: 'metrics', orgID: '9a2e' }] : [] });
  if (url.pathname === '/api/v2/query' && request.method === 'POST') {
    const body = JSON.parse(await bodyOf(request)) as Record<string, unknown>;
    queries.push({ url: request.url ?? '', headers: request.headers, body });
    return [200, 'text/csv; charset=utf-8', queryAnswer(String(body.query))];
  }
  return json(404, { code: 'not found', message: 'path not found' });
}

describe('InfluxDB 2.x driver (a local server answering as InfluxDB 2.x documents)', () => {
  let server: Server;
  let url = '';
  const signal = new AbortController().signal;
  const connectionOf = (settings: Record<string, unknown> = {}, secret: string | null = TOKEN): SourceConnection => ({
    type: SourceType.influx2,
    settings: driver.checkSettings({ version: 2, url, org: 'acme', bucket: 'metrics', ...settings }),
    secret,
  });
  const readAll = async (cursor: string | null, rows: number, range: { startNs?: bigint; endNs?: bigint } = {}, source: Record<string, unknown> = {}): Promise<SourceChunk[]> => {
    const reader = await driver.open(connectionOf(), source, cursor, { startNs: range.startNs ?? null, endNs: range.endNs ?? END_NS, chunkRowsMax: rows, chunkBytesMax: 1 << 20, signal });
    const chunks: SourceChunk[] = [];
    for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) chunks.push(chunk);
    await reader.close();
    return chunks;
  };
  const linesOf = (chunks: readonly SourceChunk[]): string[] => chunks.flatMap((chunk) => Buffer.from(chunk.body).toString().slice(0, -1).split(/(?<= -?\d+)\n/));

  beforeAll(async () => {
    server = createServer((request, response) => {
      answer(request).then(
        ([status, type, body]) => response.writeHead(status, { 'content-type': type }).end(body),
        (error: unknown) => response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'internal error', message: String(error) })),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('asks in the documented shape: POST /api/v2/query?org=, a token, Flux with pivot, annotated CSV', async () => {
    queries.length = 0;
    await readAll(null, 100, {}, { measurements: ['edge'] });
    const page = queries.find((query) => String(query.body.query).includes('pivot('));
    expect(page?.url).toBe('/api/v2/query?org=acme');
    expect(page?.headers).toMatchObject({ authorization: `Token ${TOKEN}`, accept: 'application/csv', 'content-type': 'application/json' });
    expect(page?.body).toMatchObject({ type: 'flux', dialect: { header: true, annotations: ['group', 'datatype', 'default'] } });
    expect(String(page?.body.query)).toContain('from(bucket: "metrics")');
    expect(String(page?.body.query)).toContain('pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")');
    expect(String(page?.body.query)).toContain('sort(columns: ["_time", "pl ace"])');
  });

  it('reads every point once as its line: 64-bit integers, unsigned, ns times, escapes', async () => {
    const lines = linesOf(await readAll(null, 4));
    expect(lines.sort()).toEqual([...EXPECTED].sort());
  });

  it('reads each page in a time window near one chunk, not the rest of the range', async () => {
    queries.length = 0;
    const lines = linesOf(await readAll(null, 1, {}, { measurements: ['sparse'] }));
    expect(lines).toEqual(EXPECTED.filter((line) => line.startsWith('sparse ')));
    const windows = queries
      .map((query) => String(query.body.query))
      .filter((query) => query.includes('pivot('))
      .map((query) => [...query.matchAll(/time\(v: (-?\d+)\)/g)].map((match) => BigInt(match[1] as string)));
    // Every window is shorter than the year the points span: no query reads the rest of the range.
    for (const [start = 0n, stop = 0n] of windows) expect(stop - start).toBeLessThan(365n * 86_400_000_000_000n);
    expect(windows.length).toBeGreaterThan(4);
  });

  for (const rows of [1, 2, 4, 100]) {
    it(`a reader reopened at any chunk's cursor goes on exactly after it (${String(rows)} rows per chunk)`, async () => {
      const chunks = await readAll(null, rows);
      expect(linesOf(chunks).length).toBe(EXPECTED.length);
      for (let index = 0; index < chunks.length; index += 1) {
        const rest = linesOf(await readAll((chunks[index] as SourceChunk).cursor, rows));
        expect(rest).toEqual(linesOf(chunks.slice(index + 1)));
      }
    });
  }

  it('reads only [start, end) of the named measurements, with their prefix', async () => {
    const startNs = T0 + 2_000_000_002n;
    const endNs = T0 + 5_000_000_005n;
    const lines = linesOf(await readAll(null, 2, { startNs, endNs }, { measurements: ['cpu'], measurement_prefix: 'v2_' }));
    expect(lines.length).toBe(3 * HOSTS.length);
    expect(lines.every((line) => line.startsWith('v2_cpu,'))).toBe(true);
  });

  it('a cursor from before the run range\'s start resumes at the start', async () => {
    const [first] = await readAll(null, 1, {}, { measurements: ['cpu'] });
    const rest = linesOf(await readAll(first?.cursor ?? null, 1, { startNs: T0 + 5_000_000_005n }, { measurements: ['cpu'] }));
    expect(rest.length).toBe(5 * HOSTS.length);
  });

  it('reports an error the query streams as a query failure', async () => {
    await expect(readAll(null, 10, {}, { measurements: ['broken'] })).rejects.toThrow(/^query: panic: the storage engine gave up/);
  });

  it('tests a connection: version, and the step that fails', async () => {
    expect(await driver.test(connectionOf(), signal)).toMatchObject({ ok: true, version: 'InfluxDB 2.7.1' });
    const wrongToken = await driver.test(connectionOf({}, 'bad'), signal);
    expect(wrongToken).toMatchObject({ ok: false, version: 'InfluxDB 2.7.1' });
    expect(wrongToken.detail).toMatch(/^authenticate: InfluxDB refused the token \(401: unauthorized access\)/);
    expect((await driver.test(connectionOf({ bucket: 'nope' }), signal)).detail).toMatch(/^bucket: 'nope' does not exist in org 'acme'/);
    expect((await driver.test(connectionOf({ org: 'other' }), signal)).detail).toMatch(/^bucket: organization name "other" not found/);
    const closed = await driver.test({ type: SourceType.influx2, settings: { version: 2, url: `http://127.0.0.1:${String(await freePort())}`, org: 'acme', bucket: 'metrics' }, secret: TOKEN }, signal);
    expect(closed).toMatchObject({ ok: false, version: null });
    expect(closed.detail).toMatch(/^connect: .*ECONNREFUSED/);
  });

  it('refuses bad settings naming the field', () => {
    expect(() => driver.checkSettings({ version: 1, url, org: 'a', bucket: 'b' })).toThrow(/settings\.version/);
    expect(() => driver.checkSettings({ version: 2, url, bucket: 'b' })).toThrow(/settings\.org/);
    expect(() => driver.checkSettings({ version: 2, url, org: 'a', bucket: '' })).toThrow(/settings\.bucket/);
    expect(driver.checkSettings({ version: 2, url: `${url}/`, org: 'a', bucket: 'b' })).toEqual({ version: 2, url, org: 'a', bucket: 'b' });
    // A bucket is its own retention policy: 2.x jobs have none to name.
    expect(() => driver.checkJobSource({ retention_policy: 'autogen' })).toThrow(/source\.retention_policy: is not a known key \(known: measurements, measurement_prefix\)/);
  });
});
