// Proves GET /metrics against the real server: rows written over msgpack, line protocol and JSON
// show in arc_ingest_rows_total exactly, per protocol and database (past the cap as `other`);
// requests count under their route and status (a 400 as 400); the text parses as Prometheus
// exposition and names every agreed series; OpenMetrics and JSON say the same; a bearer token
// scrapes, no token does not (unless [metrics] public); and the console routes answer.
import { describe, expect, it } from 'vitest';
import { msgpack } from './support/arc-client.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';
import { waitUntil } from '../../../test/support/poll-until.js';

const shared = useSharedArc({ ARC_METRICS_DATABASE_LABELS_MAX: '2', ARC_METRICS_TIMESERIES_INTERVAL_SECONDS: '1', ARC_WRITER_FLUSH_AGE_MS: '600000' });
// The second server also runs with the WAL on, so its WAL series count.
const publicArc = useSharedArc({ ARC_METRICS_PUBLIC: 'true', ARC_WAL_ENABLED: 'true' });

/** The series every scrape names (the agreed list: a dashboard and a Prometheus test read them). */
const AGREED_SERIES = [
  'arc_build_info',
  'arc_uptime_seconds',
  'arc_http_requests_total',
  'arc_http_request_duration_seconds',
  'arc_ingest_requests_total',
  'arc_ingest_rows_total',
  'arc_ingest_bytes_total',
  'arc_ingest_rejects_total',
  'arc_ingest_ring_used_ratio',
  'arc_ingest_overload_responses_total',
  'arc_ingest_writes_waiting',
  'arc_ingest_write_bytes_held',
  'arc_writer_buffered_rows',
  'arc_writer_buffered_bytes',
  'arc_writer_flushes_total',
  'arc_writer_flush_duration_seconds',
  'arc_writer_file_size_bytes',
  'arc_wal_bytes_total',
  'arc_wal_syncs_total',
  'arc_wal_sync_duration_seconds',
  'arc_query_requests_total',
  'arc_query_duration_seconds',
  'arc_query_errors_total',
  'arc_query_rows_returned_total',
  'arc_query_queue_depth',
  'arc_query_running',
  'arc_query_cache_hits_total',
  'arc_query_cache_misses_total',
  'arc_query_series_windows_total',
  'arc_query_series_cache_bytes',
  'arc_compaction_jobs_total',
  'arc_compaction_bytes_read_total',
  'arc_compaction_bytes_written_total',
  'arc_auth_failures_total',
  'arc_event_loop_lag_seconds',
  'arc_duckdb_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
];

interface Exposition {
  /** Family name -> its TYPE. */
  readonly types: Map<string, string>;
  /** `name{labels}` exactly as written -> value. */
  readonly samples: Map<string, number>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?(?:[0-9.e+-]+|NaN|\+Inf|-Inf))$/;

/**
 * A strict reader of the Prometheus text format 0.0.4: every line is a HELP, a TYPE or a sample;
 * a sample's family has a TYPE before it (histogram samples by their base name); values parse.
 */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (sample === null) throw new Error(`not an exposition line: ${JSON.stringify(line)}`);
    const name = sample[1] as string;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(family)) throw new Error(`sample before its TYPE: ${line}`);
    const value = Number(sample[3]);
    if (Number.isNaN(value) && sample[3] !== 'NaN') throw new Error(`bad value: ${line}`);
    samples.set(`${name}${sample[2] ?? ''}`, value);
  }
  return { types, samples };
}

async function scrape(url: string, headers: Record<string, string> = { Authorization: `Bearer ${TEST_TOKEN}` }): Promise<Response> {
  return fetch(`${url}/metrics`, { headers });
}

async function scrapeText(): Promise<Exposition> {
  const response = await scrape(shared.arc.url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(await response.text());
}

const auth = (): Record<string, string> => shared.client.authHeaders();

describe('GET /metrics', () => {
  it('counts the rows written over msgpack, line protocol and JSON, by protocol and database, past the cap as other', async () => {
    const msgpackRows = 3;
    const columns = { time: [1_760_000_000_000, 1_760_000_001_000, 1_760_000_002_000], host: ['a', 'b', 'c'], v: [1, 2, 3] };
    expect((await shared.client.write(msgpack({ m: 'cpu', columns }), { database: 'alpha' })).status).toBe(204);
    const lines = ['cpu,host=a v=1 1760000000000000000', 'cpu,host=b v=2 1760000001000000000', 'cpu,host=c v=3 1760000002000000000', 'cpu,host=d v=4 1760000003000000000'];
    const lineBody = lines.join('\n');
    expect((await shared.client.post('/api/v1/write?db=beta', lineBody, auth())).status).toBe(204);
    const jsonBody = JSON.stringify([{ m: 'cpu', t: 1_760_000_000_000, h: 'a', fields: { v: 1 } }, { m: 'cpu', t: 1_760_000_001_000, h: 'b', fields: { v: 2 } }]);
    // A third database with database_labels_max = 2: counted under `other`.
    expect((await shared.client.post('/api/v1/write/json', jsonBody, { ...auth(), 'Content-Type': 'application/json', 'x-arc-database': 'gamma' })).status).toBe(204);
    const { samples } = await scrapeText();
    expect(samples.get('arc_ingest_rows_total{protocol="msgpack",database="alpha"}')).toBe(msgpackRows);
    expect(samples.get('arc_ingest_rows_total{protocol="line_protocol",database="beta"}')).toBe(lines.length);
    expect(samples.get('arc_ingest_rows_total{protocol="json",database="other"}')).toBe(2);
    expect(samples.has('arc_ingest_rows_total{protocol="json",database="gamma"}')).toBe(false);
    expect(samples.get('arc_ingest_requests_total{protocol="line_protocol",database="beta"}')).toBe(1);
    expect(samples.get('arc_ingest_bytes_total{protocol="line_protocol",database="beta"}')).toBe(Buffer.byteLength(lineBody));
    expect(samples.get('arc_http_requests_total{route="/write/v2/msgpack",method="POST",status="204"}')).toBe(1);
    expect(samples.get('arc_http_requests_total{route="/api/v1/write",method="POST",status="204"}')).toBe(1);
    expect(samples.get('arc_http_request_duration_seconds_count{route="/api/v1/write",method="POST"}')).toBe(1);
    // The writers hold what was acknowledged (flush age 10 minutes): their gauges, published every
    // second by each writer thread, come to add up to it.
    const bufferedRows = async (): Promise<number> => [...(await scrapeText()).samples].filter(([key]) => key.startsWith('arc_writer_buffered_rows{')).reduce((total, [, value]) => total + value, 0);
    await waitUntil('the writers publish their buffered rows', 10_000, async () => (await bufferedRows()) === msgpackRows + lines.length + 2);
  });

  it('counts a refused write under its status and its reason', async () => {
    const before = await scrapeText();
    expect((await shared.client.post('/api/v1/write?db=beta', 'cpu,host=a v=', auth())).status).toBe(400);
    expect((await shared.client.post('/api/v1/write?db=beta', 'cpu v=1', { Authorization: 'Bearer wrong-token' })).status).toBe(401);
    const after = await scrapeText();
    const delta = (key: string): number => (after.samples.get(key) ?? 0) - (before.samples.get(key) ?? 0);
    expect(delta('arc_http_requests_total{route="/api/v1/write",method="POST",status="400"}')).toBe(1);
    expect(delta('arc_http_requests_total{route="/api/v1/write",method="POST",status="401"}')).toBe(1);
    expect(delta('arc_ingest_rejects_total{reason="bad_request"}')).toBe(1);
    expect(delta('arc_ingest_rejects_total{reason="unauthorized"}')).toBe(1);
    expect(delta('arc_auth_failures_total{reason="invalid"}')).toBe(1);
    expect(delta('arc_ingest_rows_total{protocol="line_protocol",database="beta"}')).toBe(0);
  });

  it('counts queries by language and their errors by code', async () => {
    const before = await scrapeText();
    expect((await shared.client.query('SELECT 42 AS answer')).status).toBe(200);
    expect((await shared.client.query('SELEC nonsense')).status).toBe(400);
    expect((await shared.client.get('/query?q=SHOW%20DATABASES', auth())).status).toBe(200);
    const after = await scrapeText();
    const delta = (key: string): number => (after.samples.get(key) ?? 0) - (before.samples.get(key) ?? 0);
    expect(delta('arc_query_requests_total{language="sql"}')).toBe(2);
    expect(delta('arc_query_requests_total{language="influxql"}')).toBe(1);
    expect(delta('arc_query_duration_seconds_count{language="sql"}')).toBe(2);
    const errorKeys = [...after.samples.keys()].filter((key) => key.startsWith('arc_query_errors_total{code="ARC_'));
    expect(errorKeys.length).toBeGreaterThan(0);
    expect(after.samples.get('arc_query_rows_returned_total')).toBeGreaterThanOrEqual(1);
  });

  it('counts a streamed answer under its route once its first rows go out', async () => {
    const before = await scrapeText();
    const stream = await shared.client.post('/query/stream', JSON.stringify({ sql: 'SELECT * FROM range(1000)', format: 'csv' }), { ...auth(), 'Content-Type': 'application/json' });
    expect(stream.status).toBe(200);
    expect(stream.text.trim().split('\n').length).toBeGreaterThanOrEqual(1000);
    const after = await scrapeText();
    const delta = (key: string): number => (after.samples.get(key) ?? 0) - (before.samples.get(key) ?? 0);
    expect(delta('arc_http_requests_total{route="/query/stream",method="POST",status="200"}')).toBe(1);
    expect(delta('arc_query_requests_total{language="sql"}')).toBe(1);
    expect(delta('arc_query_rows_returned_total')).toBe(1000);
  });

  it('counts the batches packed into buffers the writers gave back after a flush', async () => {
    const reused = async (): Promise<number> => (await scrapeText()).samples.get('arc_decoder_batch_buffers_reused_total') ?? Number.NaN;
    const before = await reused();
    expect(before).toBeGreaterThanOrEqual(0);
    // The same shape each time: every batch needs the same buffer size class.
    const body = (round: number): Uint8Array => msgpack({ m: 'recycled', columns: { time: [1_760_000_000_000 + round * 1_000, 1_760_000_000_500 + round * 1_000], host: ['a', 'b'], v: [round, round + 0.5] } });
    const requests = 24;
    for (let round = 0; round < requests; round++) expect((await shared.client.write(body(round), { database: 'recycle' })).status).toBe(204);
    // Published: the writer gives the buffers back to the decoders that packed them.
    expect((await shared.client.flush()).status).toBe(200);
    for (let round = requests; round < 2 * requests; round++) expect((await shared.client.write(body(round), { database: 'recycle' })).status).toBe(204);
    expect((await reused()) - before).toBeGreaterThan(0);
    // What the decoders keep of the given-back buffers is a gauge per decoder thread; the second
    // flush gives this round's buffers back, and no later take empties the pool again.
    const pooledBytes = async (): Promise<number> => {
      const samples = [...(await scrapeText()).samples].filter(([key]) => key.startsWith('arc_decoder_batch_buffer_pool_bytes{thread="decoder-'));
      expect(samples.length).toBeGreaterThan(0);
      return samples.reduce((total, [, bytes]) => total + bytes, 0);
    };
    // Rows packed into reused buffers read back whole: 2 per request, v = round and round + 0.5.
    expect((await shared.client.flush()).status).toBe(200);
    await waitUntil('the decoders pool the buffers of the second flush', 10_000, async () => (await pooledBytes()) > 0);
    const rounds = 2 * requests;
    expect(await shared.client.rows('SELECT count(*)::INTEGER AS n, sum(v) AS total FROM recycled', 'recycle')).toEqual([[2 * rounds, rounds * (rounds - 1) + rounds * 0.5]]);
  });

  it('counts the queries the series cache answered, and the bytes it keeps per query thread', async () => {
    const lines = Array.from({ length: 120 }, (_, index) => `seriesm,host=h${String(index % 3)} v=${String(index)} ${String(1_760_000_000 + index * 30)}000000000`).join('\n');
    // Through InfluxDB 1.x's path: the console test below counts the writes to /api/v1/write.
    expect((await shared.client.post('/write?db=windows', lines, shared.client.authHeaders())).status).toBe(204);
    expect((await shared.client.flush()).status).toBe(200);
    const answered = async (): Promise<number> => (await scrapeText()).samples.get('arc_query_series_windows_total') ?? 0;
    const before = await answered();
    const sql = "SELECT time_bucket(INTERVAL 10 minutes, time) AS b, max(v) AS top, count(*) AS n FROM seriesm WHERE host = 'h1' AND time >= '2025-10-09' AND time < '2025-10-10' GROUP BY b ORDER BY b";
    // 40 rows of h1 every 90 s from 08:53:20: 10-minute buckets from 08:50 to 09:50.
    const rows = await shared.client.rows(sql, 'windows');
    expect(rows.reduce((total, row) => total + Number(row[2]), 0)).toBe(40);
    expect(rows.at(-1)?.[1]).toBe(118);
    expect(await answered()).toBe(before + 1);
    const cached = [...(await scrapeText()).samples].filter(([key]) => key.startsWith('arc_query_series_cache_bytes{thread="query-'));
    expect(cached.some(([, bytes]) => bytes > 0)).toBe(true);
  });

  it('counts WAL bytes and syncs when the WAL is on', async () => {
    const lines = 'cpu,host=a v=1 1760000000000000000\ncpu,host=b v=2 1760000001000000000';
    expect((await publicArc.client.post('/api/v1/write?db=walled', lines, publicArc.client.authHeaders())).status).toBe(204);
    const { samples } = parseExposition(await (await scrape(publicArc.arc.url, {})).text());
    expect(samples.get('arc_wal_bytes_total')).toBeGreaterThan(lines.length);
    const syncs = samples.get('arc_wal_syncs_total') ?? 0;
    expect(syncs).toBeGreaterThanOrEqual(1);
    expect(samples.get('arc_wal_sync_duration_seconds_count')).toBe(syncs);
    expect(samples.get('arc_wal_sync_duration_seconds_bucket{le="+Inf"}')).toBe(syncs);
  });

  it('is valid Prometheus text naming every agreed series, with bounded thread labels', async () => {
    const { types, samples } = await scrapeText();
    for (const name of AGREED_SERIES) expect(types.has(name), `TYPE of ${name}`).toBe(true);
    expect(types.get('arc_ingest_rows_total')).toBe('counter');
    expect(types.get('arc_http_request_duration_seconds')).toBe('histogram');
    expect(types.get('arc_query_queue_depth')).toBe('gauge');
    const threads = [...samples.keys()].filter((key) => key.startsWith('arc_event_loop_lag_seconds{')).map((key) => /thread="([^"]+)"/.exec(key)?.[1]);
    expect(threads).toEqual(expect.arrayContaining(['main', 'decoder-0', 'decoder-1', 'writer-0', 'query-0']));
    expect([...samples.keys()].some((key) => key.startsWith('arc_duckdb_memory_bytes{thread="query-0"}'))).toBe(true);
    // A histogram's +Inf bucket equals its count.
    expect(samples.get('arc_http_request_duration_seconds_bucket{route="/api/v1/write",method="POST",le="+Inf"}')).toBe(samples.get('arc_http_request_duration_seconds_count{route="/api/v1/write",method="POST"}'));
  });

  it('answers OpenMetrics when asked, and the same series as JSON', async () => {
    const openMetrics = await scrape(shared.arc.url, { ...auth(), Accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' });
    expect(openMetrics.status).toBe(200);
    expect(openMetrics.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = await openMetrics.text();
    expect(text.endsWith('# EOF\n')).toBe(true);
    expect(text).toContain('# TYPE arc_ingest_rows counter\n');
    expect(text).toContain('arc_ingest_rows_total{protocol="msgpack",database="alpha"} 3\n');
    // The text format keeps `_total` in the family name even after an OpenMetrics scrape.
    expect((await scrapeText()).types.get('arc_ingest_rows_total')).toBe('counter');
    const json = await scrape(shared.arc.url, { ...auth(), Accept: 'application/json' });
    expect(json.headers.get('content-type')).toBe('application/json');
    const families = (await json.json()) as { name: string; type: string; values: { value: number; labels: Record<string, string> }[] }[];
    const rows = families.find((family) => family.name === 'arc_ingest_rows_total');
    expect(rows?.type).toBe('counter');
    expect(rows?.values).toContainEqual({ value: 3, labels: { protocol: 'msgpack', database: 'alpha' } });
  });

  it('needs a token unless [metrics] public, and takes it as Bearer, x-api-key or Token', async () => {
    expect((await scrape(shared.arc.url, {})).status).toBe(401);
    expect((await scrape(shared.arc.url, { Authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await scrape(shared.arc.url, { Authorization: `Bearer ${TEST_TOKEN}` })).status).toBe(200);
    expect((await scrape(shared.arc.url, { Authorization: `Token ${TEST_TOKEN}` })).status).toBe(200);
    expect((await scrape(shared.arc.url, { 'x-api-key': TEST_TOKEN })).status).toBe(200);
    const open = await scrape(publicArc.arc.url, {});
    expect(open.status).toBe(200);
    expect(await open.text()).toContain('# TYPE arc_ingest_rows_total counter');
    // Only the scrape is public: the console routes still need a token.
    expect((await publicArc.client.get('/metrics/memory')).status).toBe(401);
  });
});

describe('the console routes', () => {
  it('keeps recent values per type and names the valid types for an unknown one', async () => {
    const ingest = await shared.client.get('/metrics/timeseries/ingest', auth());
    expect(ingest.status).toBe(200);
    const body = ingest.json() as { type: string; interval_seconds: number; points: { time: string; values: Record<string, number> }[] };
    expect(body.type).toBe('ingest');
    expect(body.interval_seconds).toBe(1);
    expect(body.points.length).toBeGreaterThan(0);
    expect(Object.keys(body.points[0]?.values ?? {})).toEqual(expect.arrayContaining(['rows_total', 'requests_total', 'bytes_total']));
    for (const type of ['query', 'memory', 'writer', 'http']) expect((await shared.client.get(`/metrics/timeseries/${type}`, auth())).status).toBe(200);
    const unknown = await shared.client.get('/metrics/timeseries/disks', auth());
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'ARC_METRICS_UNKNOWN_TYPE', error: expect.stringContaining('valid types: ingest, query, writer, memory, http') as unknown });
    expect((await shared.client.get('/metrics/timeseries/ingest')).status).toBe(401);
  });

  it('lists requests and latency per route, and memory per thread', async () => {
    const endpoints = (await shared.client.get('/metrics/endpoints', auth())).json() as { endpoints: { route: string; method: string; requests: number; by_status: Record<string, number>; latency_ms: { p50: number | null; p99: number | null } }[] };
    const write = endpoints.endpoints.find((endpoint) => endpoint.route === '/api/v1/write' && endpoint.method === 'POST');
    expect(write?.by_status['204']).toBe(1);
    expect(write?.requests).toBeGreaterThanOrEqual(3);
    expect(write?.latency_ms.p50).toBeGreaterThan(0);
    const memory = (await shared.client.get('/metrics/memory', auth())).json() as { process: { rss_bytes: number }; threads: { thread: string; heap_used_bytes: number }[]; duckdb: { thread: string; memory_bytes: number }[] };
    expect(memory.process.rss_bytes).toBeGreaterThan(0);
    expect(memory.threads.map((thread) => thread.thread)).toEqual(expect.arrayContaining(['main', 'decoder-0', 'writer-0', 'query-0']));
    expect(memory.threads.every((thread) => thread.heap_used_bytes > 0)).toBe(true);
    expect(memory.duckdb.map((thread) => thread.thread)).toEqual(expect.arrayContaining(['writer-0', 'query-0']));
    expect((await shared.client.get('/metrics/query-pool', auth())).status).toBe(200);
  });
});
