// Proves real InfluxDB clients work against Arc unchanged: the official 2.x JavaScript client
// (gzip, precision ms and ns, /api/v2/write, the HttpError of a bad line), node-influx (1.x:
// writePoints, query, databases, ping, a bad query's error) and Debian's `influx` CLI (-import,
// -execute, SHOW DATABASES / MEASUREMENTS, a bad query's ERR). Each writes a known dataset, and the
// rows are checked back with Arc SQL (values and DuckDB types) and with InfluxQL.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { HttpError, InfluxDB as InfluxV2, Point, setLogger } from '@influxdata/influxdb-client';
import Influx from 'influx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { useSharedArc } from './support/shared-arc.js';

const run = promisify(execFile);
const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const auth = { Authorization: `Token ${TEST_TOKEN}` };

async function influxql(database: string, q: string, epoch?: string): Promise<unknown> {
  const search = new URLSearchParams({ db: database, q, ...(epoch === undefined ? {} : { epoch }) });
  const answer = await shared.client.get(`/query?${search.toString()}`, auth);
  expect(answer.status, answer.text).toBe(200);
  return answer.json();
}


/**
 * A pass-through HTTP proxy in front of Arc that records each request's method, path and
 * Content-Encoding, so the test sees what the client really sent (gzip on).
 */
interface RecordingProxy {
  readonly url: string;
  readonly seen: { method: string; path: string; encoding: string }[];
  close(): Promise<void>;
}

async function startProxy(target: string): Promise<RecordingProxy> {
  const seen: RecordingProxy['seen'] = [];
  const targetUrl = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    seen.push({ method: incoming.method ?? '', path: incoming.url ?? '', encoding: incoming.headers['content-encoding'] ?? '' });
    const forwarded = httpRequest(
      { host: targetUrl.hostname, port: targetUrl.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, seen, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('@influxdata/influxdb-client (2.x API)', () => {
  let proxy: RecordingProxy;
  beforeAll(async () => {
    proxy = await startProxy(shared.arc.url);
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('writes points with precision ms and ns, gzip on, through /api/v2/write', async () => {
    const client = new InfluxV2({ url: proxy.url, token: TEST_TOKEN });
    const options = { gzipThreshold: 0, maxRetries: 0, flushInterval: 0, batchSize: 100 };
    const inMs = client.getWriteApi('arc-org', 'v2client', 'ms', options);
    inMs.writePoint(new Point('sensor').tag('room', 'kitchen').floatField('temp', 21.5).intField('count', 3).booleanField('ok', true).stringField('note', 'a "quoted" note').timestamp(T0 * 1000 + 250));
    inMs.writePoint(new Point('sensor').tag('room', 'cellar').floatField('temp', 12.25).intField('count', -7).booleanField('ok', false).stringField('note', 'b').timestamp(T0 * 1000 + 10_000));
    await inMs.close();
    const inNs = client.getWriteApi('arc-org', 'v2client', 'ns', options);
    inNs.writePoint(new Point('sensor').tag('room', 'attic').floatField('temp', -3.5).intField('count', 42).timestamp(`${String(T0 + 20)}123456789`));
    await inNs.close();
    await flushUntil(shared.client, 'v2client', 'sensor', 3);

    const writes = proxy.seen.filter((request) => request.method === 'POST');
    expect(writes.map((request) => request.path)).toEqual([
      '/api/v2/write?org=arc-org&bucket=v2client&precision=ms',
      '/api/v2/write?org=arc-org&bucket=v2client&precision=ns',
    ]);
    expect(writes.map((request) => request.encoding)).toEqual(['gzip', 'gzip']);

    expect(await shared.client.rows('SELECT time, room, temp, count, ok, note FROM sensor ORDER BY time', 'v2client')).toEqual([
      ['2023-11-14T22:13:20.250000Z', 'kitchen', 21.5, 3, true, 'a "quoted" note'],
      ['2023-11-14T22:13:30Z', 'cellar', 12.25, -7, false, 'b'],
      ['2023-11-14T22:13:40.123456Z', 'attic', -3.5, 42, null, null],
    ]);
    expect(await shared.client.rows('SELECT DISTINCT typeof(temp), typeof(count), typeof(ok), typeof(note) FROM sensor', 'v2client')).toEqual([
      ['DOUBLE', 'BIGINT', 'BOOLEAN', 'VARCHAR'],
    ]);
    expect(await influxql('v2client', "SELECT temp, count FROM sensor WHERE room = 'attic'", 'u')).toEqual({
      results: [{ statement_id: 0, series: [{ name: 'sensor', columns: ['time', 'temp', 'count'], values: [[1_700_000_020_123_456, -3.5, 42]] }] }],
    });
  });
});

describe('@influxdata/influxdb-client errors', () => {
  it('rejects a bad line with an HttpError of status 400 whose message carries unable to parse', async () => {
    const client = new InfluxV2({ url: shared.arc.url, token: TEST_TOKEN });
    const writer = client.getWriteApi('arc-org', 'v2client', 'ns', { gzipThreshold: 0, maxRetries: 0, flushInterval: 0, batchSize: 100 });
    writer.writeRecord('sensor,room=hall temp=');
    // The client logs the failure before rejecting; keep that out of the test output.
    const previousLogger = setLogger({ error: () => undefined, warn: () => undefined });
    const failure = (await writer.close().then(() => null, (error: unknown) => error).finally(() => setLogger(previousLogger))) as HttpError | null;
    expect(failure).toBeInstanceOf(HttpError);
    expect(failure?.statusCode).toBe(400);
    // The client reads InfluxDB's {code, message}: /api/v2/write answers `message` beside Arc's {error, code}.
    expect(failure?.code).toMatch(/^ARC_/);
    expect(failure?.message).toMatch(/^unable to parse 'sensor,room=hall temp=': /);
  });
});

describe('influx (node-influx, the 1.x client)', () => {
  const database = 'nodeinflux';
  let influx: Influx.InfluxDB;
  beforeAll(() => {
    const url = new URL(shared.arc.url);
    influx = new Influx.InfluxDB({
      host: url.hostname,
      port: Number(url.port),
      database,
      username: 'arc',
      password: TEST_TOKEN,
      schema: [
        {
          measurement: 'weather',
          tags: ['city'],
          fields: { temp: Influx.FieldType.FLOAT, rain_mm: Influx.FieldType.INTEGER, sunny: Influx.FieldType.BOOLEAN, sky: Influx.FieldType.STRING },
        },
      ],
    });
  });

  it('creates the database, writes points through /write and queries them back through /query', async () => {
    await influx.createDatabase(database);
    await influx.writePoints(
      [
        { measurement: 'weather', tags: { city: 'oslo' }, fields: { temp: -2.5, rain_mm: 4, sunny: false, sky: 'grey' }, timestamp: new Date((T0 + 0) * 1000) },
        { measurement: 'weather', tags: { city: 'rome' }, fields: { temp: 18, rain_mm: 0, sunny: true, sky: 'blue' }, timestamp: new Date((T0 + 60) * 1000) },
        { measurement: 'weather', tags: { city: 'oslo' }, fields: { temp: -1.5, rain_mm: 6, sunny: false, sky: 'snow' }, timestamp: new Date((T0 + 120) * 1000) },
      ],
      { precision: 's' },
    );
    await flushUntil(shared.client, database, 'weather', 3);

    expect(await shared.client.rows('SELECT time, city, temp, rain_mm, sunny, sky FROM weather ORDER BY time', database)).toEqual([
      ['2023-11-14T22:13:20Z', 'oslo', -2.5, 4, false, 'grey'],
      ['2023-11-14T22:14:20Z', 'rome', 18, 0, true, 'blue'],
      ['2023-11-14T22:15:20Z', 'oslo', -1.5, 6, false, 'snow'],
    ]);
    expect(await shared.client.rows('SELECT DISTINCT typeof(temp), typeof(rain_mm), typeof(sunny) FROM weather', database)).toEqual([['DOUBLE', 'BIGINT', 'BOOLEAN']]);

    expect(await influx.getDatabaseNames()).toContain(database);
    expect(await influx.getMeasurements()).toEqual(['weather']);
    const rows = await influx.query<{ time: Influx.INanoDate; city: string; temp: number; rain_mm: number }>("SELECT temp, rain_mm, city FROM weather WHERE city = 'oslo'");
    expect(rows.map((row) => [row.time.toNanoISOString(), row.temp, row.rain_mm, row.city])).toEqual([
      ['2023-11-14T22:13:20.000000000Z', -2.5, 4, 'oslo'],
      ['2023-11-14T22:15:20.000000000Z', -1.5, 6, 'oslo'],
    ]);
    const grouped = await influx.query<{ city: string; mean: number }>('SELECT mean(temp) FROM weather GROUP BY city');
    expect(grouped.map((row) => [row.city, row.mean])).toEqual([
      ['oslo', -2],
      ['rome', 18],
    ]);
  });

  it('pings (GET /ping: online, with the X-Influxdb-Version it reads) and rejects a bad query with InfluxDB\'s error text', async () => {
    const [host] = await influx.ping(5000);
    expect(host?.online).toBe(true);
    expect(typeof host?.version).toBe('string');
    expect(host?.version).not.toBe('');
    // node-influx shows a 400's body as InfluxDB's: `A 400 Bad Request error occurred: {"error": ...}`.
    const failure = await influx.query('SELECT temp FROM weather WHERE').then(() => null, (error: unknown) => error as Error);
    expect(failure?.message).toMatch(/^A 400 Bad Request error occurred: \{"error":"error parsing query: /);
  });
});

/** Debian's `influx` 1.x CLI: installed by scripts/install-influxdb.sh, which .ci/run calls. */
async function influxCliPath(): Promise<string | null> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v influx']);
    return stdout.trim() === '' ? null : stdout.trim();
  } catch {
    return null;
  }
}

const cliPath = await influxCliPath();
const cliMissingLocally = cliPath === null && process.env.CI !== 'true';
if (cliMissingLocally) {
  console.warn('influx CLI tests skipped: `influx` is not installed here; run scripts/install-influxdb.sh (CI installs it and runs them)');
}

describe.skipIf(cliMissingLocally)('the influx CLI (Debian influxdb-client)', () => {
  const database = 'clidb';
  let directory = '';
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'arc-influx-cli-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  function cli(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    if (cliPath === null) throw new Error('the influx CLI is not installed: CI must run scripts/install-influxdb.sh before the tests');
    const url = new URL(shared.arc.url);
    return run(cliPath, ['-host', url.hostname, '-port', url.port, '-username', 'arc', '-password', TEST_TOKEN, ...args], { timeout: 30_000 });
  }

  it('imports a file with -import -precision=s and answers -execute', async () => {
    const file = path.join(directory, 'import.txt');
    await writeFile(
      file,
      [
        '# DDL',
        `CREATE DATABASE ${database}`,
        '',
        '# DML',
        `# CONTEXT-DATABASE: ${database}`,
        '# CONTEXT-RETENTION-POLICY: autogen',
        `disk,host=a,path=/ used=512i,free=0.25,ro=false ${String(T0)}`,
        `disk,host=b,path=/data used=1024i,free=0.75,ro=true ${String(T0 + 30)}`,
        `disk,host=a,path=/ used=640i,free=0.2,ro=false ${String(T0 + 60)}`,
        '',
      ].join('\n'),
    );
    const imported = await cli(['-import', `-path=${file}`, '-precision=s']);
    const report = `${imported.stdout}${imported.stderr}`;
    expect(report).toContain('Processed 3 inserts');
    expect(report).toContain('Failed 0 inserts');
    await flushUntil(shared.client, database, 'disk', 3);

    expect(await shared.client.rows('SELECT time, host, path, used, free, ro FROM disk ORDER BY time', database)).toEqual([
      ['2023-11-14T22:13:20Z', 'a', '/', 512, 0.25, false],
      ['2023-11-14T22:13:50Z', 'b', '/data', 1024, 0.75, true],
      ['2023-11-14T22:14:20Z', 'a', '/', 640, 0.2, false],
    ]);
    expect(await shared.client.rows('SELECT DISTINCT typeof(used), typeof(free), typeof(ro) FROM disk', database)).toEqual([['BIGINT', 'DOUBLE', 'BOOLEAN']]);

    const executed = await cli(['-database', database, '-format', 'json', '-precision', 's', '-execute', "SELECT used, free FROM disk WHERE host = 'a'; SELECT max(used) FROM disk"]);
    const answers = executed.stdout.trim().split('\n').map((line) => JSON.parse(line) as unknown);
    // The CLI prints one JSON document per query: both statements' results, without statement ids.
    expect(answers).toEqual([
      {
        results: [
          { series: [{ name: 'disk', columns: ['time', 'used', 'free'], values: [[T0, 512, 0.25], [T0 + 60, 640, 0.2]] }] },
          { series: [{ name: 'disk', columns: ['time', 'max'], values: [[T0 + 30, 1024]] }] },
        ],
      },
    ]);
    expect(await influxql(database, 'SELECT sum(used) FROM disk GROUP BY host')).toEqual({
      results: [
        {
          statement_id: 0,
          series: [
            { name: 'disk', tags: { host: 'a' }, columns: ['time', 'sum'], values: [['1970-01-01T00:00:00Z', 1152]] },
            { name: 'disk', tags: { host: 'b' }, columns: ['time', 'sum'], values: [['1970-01-01T00:00:00Z', 1024]] },
          ],
        },
      ],
    });
  });

  it('lists databases and measurements with -execute and fails a bad query with exit status 1 and ERR', async () => {
    const shown = await cli(['-format', 'json', '-execute', 'SHOW DATABASES']);
    const databases = (JSON.parse(shown.stdout.trim()) as { results: { series: { values: string[][] }[] }[] }).results[0]?.series[0]?.values.map((row) => row[0]);
    expect(databases).toContain(database);
    const measurements = await cli(['-database', database, '-format', 'json', '-execute', 'SHOW MEASUREMENTS']);
    expect(JSON.parse(measurements.stdout.trim())).toEqual({ results: [{ series: [{ name: 'measurements', columns: ['name'], values: [['disk']] }] }] });
    const failure = await cli(['-database', database, '-execute', 'SELECT used FROM disk WHERE']).then(() => null, (error: unknown) => error as { code: number; stdout: string; stderr: string });
    expect(failure?.code).toBe(1);
    expect(`${failure?.stdout ?? ''}${failure?.stderr ?? ''}`).toMatch(/ERR: error parsing query/);
  });
});
