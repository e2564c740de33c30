// Proves the query endpoints over HTTP against rows written through the ingest path: SHOW shapes,
// /query/estimate, /measurements, GET /query/{measurement} (and its validation: unknown columns,
// injection attempts), the answer cache (x-arc-cache, invalidation by a flush, /cache/*),
// Accept-Encoding, the row cap (413), a timeout (504) that frees the worker, and every bad input.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { unpack } from 'msgpackr';
import { decompress as zstdDecompress } from 'zstd-napi';
import { beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { msgpack, type HttpAnswer } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';

/** How long the writer's report of a new measurement's buffered columns may take to reach the pool (50 polls 20 ms apart). */
const PENDING_COLUMNS_DEADLINE_MS = 1_000;

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_QUERY_MAX_ROWS: '50000', ARC_QUERY_TIMEOUT_SECONDS: '2' });

const DATABASE = 'http_db';
const HOURS = 3;
const ROWS_PER_HOUR = 360;
const T0 = Date.UTC(2025, 9, 16, 16, 0, 0);

function columnar(measurement: string, hourCount: number, rowsPerHour: number, valueOffset = 0): Uint8Array {
  const count = hourCount * rowsPerHour;
  const time = Array.from({ length: count }, (_, index) => T0 + index * (3_600_000 / rowsPerHour));
  return msgpack({
    m: measurement,
    columns: {
      time,
      host: time.map((_, index) => `host-${String(index % 4)}`),
      usage: time.map((_, index) => index + valueOffset + 0.5),
      count: time.map((_, index) => index),
    },
  });
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const { client } = shared;
  return client.post(path, typeof body === 'string' ? body : JSON.stringify(body), {
    ...client.authHeaders(),
    'Content-Type': 'application/json',
    'x-arc-database': DATABASE,
    ...headers,
  });
}

/** POST with node:http: the bytes exactly as sent (fetch would inflate gzip by itself). */
function rawPost(path: string, body: unknown, headers: Record<string, string>): Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      `${shared.arc.url}${path}`,
      { method: 'POST', headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json', 'x-arc-database': DATABASE, ...headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(JSON.stringify(body));
  });
}

async function get(path: string): Promise<HttpAnswer> {
  return shared.client.get(path, { ...shared.client.authHeaders(), 'x-arc-database': DATABASE });
}

beforeAll(async () => {
  const { client } = shared;
  expect((await client.write(columnar('cpu', HOURS, ROWS_PER_HOUR), { database: DATABASE })).status).toBe(204);
  expect((await client.write(columnar('mem', 1, 10), { database: DATABASE })).status).toBe(204);
  expect((await client.write(columnar('cpu', 1, 5), { database: 'other_db' })).status).toBe(204);
  expect((await client.flush()).status).toBe(200);
});

describe('SHOW and catalog endpoints', () => {
  it('answers SHOW DATABASES with one column `database`', async () => {
    const answer = await post('/query', { sql: 'SHOW DATABASES' });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ success: true, columns: ['database'], data: [['http_db'], ['other_db']] });
  });

  it('answers SHOW TABLES with database, table_name, storage_path, file_count, total_size_mb, first_hour, last_hour', async () => {
    const answer = await post('/query', { sql: 'SHOW TABLES' });
    const body = answer.json() as { columns: string[]; data: unknown[][] };
    expect(body.columns).toEqual(['database', 'table_name', 'storage_path', 'file_count', 'total_size_mb', 'first_hour', 'last_hour']);
    expect(body.data.map((row) => [row[0], row[1], row[3]])).toEqual([
      ['http_db', 'cpu', HOURS],
      ['http_db', 'mem', 1],
    ]);
    // Relative to the store's root: no reader sees the server's paths.
    expect(String(body.data[0]?.[2])).toBe('http_db/cpu');
  });

  it('answers DESCRIBE, SUMMARIZE, EXPLAIN and WITH', async () => {
    const describe = (await post('/query', { sql: 'DESCRIBE cpu' })).json() as { columns: string[]; data: unknown[][] };
    expect(describe.columns).toEqual(['column_name', 'column_type', 'null', 'key', 'default', 'extra']);
    // `extra` tells tags (the files' arc:tags) from fields.
    expect(describe.data.map((row) => [row[0], row[1], row[5]])).toEqual([
      ['time', 'TIMESTAMP', 'time'],
      ['host', 'VARCHAR', 'tag'],
      ['usage', 'DOUBLE', 'field'],
      ['count', 'BIGINT', 'field'],
    ]);
    expect(((await post('/query', { sql: 'SUMMARIZE cpu' })).json() as { row_count: number }).row_count).toBe(4);
    expect((await post('/query', { sql: 'EXPLAIN SELECT count(*) FROM cpu' })).status).toBe(200);
    const cte = await post('/query', { sql: 'WITH h AS (SELECT DISTINCT host FROM cpu) SELECT count(*) FROM h' });
    expect((cte.json() as { data: unknown[][] }).data).toEqual([[4]]);
  });

  it('lists measurements with GET /measurements', async () => {
    const answer = await get(`/measurements?database=${DATABASE}`);
    expect(answer.status, answer.text).toBe(200);
    const body = answer.json() as { measurements: Record<string, unknown>[] };
    expect(body).toMatchObject({ success: true, database: DATABASE, names: ['cpu', 'mem'], count: 2 });
    expect(body.measurements.map(({ database, measurement, file_count }) => [database, measurement, file_count])).toEqual([
      [DATABASE, 'cpu', HOURS],
      [DATABASE, 'mem', 1],
    ]);
    expect((await get('/measurements?database=nothing_here')).json()).toMatchObject({ measurements: [], count: 0 });
    expect((await get('/measurements?database=..%2Fetc')).status).toBe(400);
  });

  it('answers a measurement with rows but no file yet: its columns, no rows; then its rows once flushed', async () => {
    expect((await shared.client.write(columnar('fresh', 1, 4), { database: DATABASE })).status).toBe(204);
    // The writer reports the buffered columns on its own port, which HTTP cannot see: poll for them.
    const { value: answer } = await pollUntil('the buffered measurement answers 200', PENDING_COLUMNS_DEADLINE_MS, () => post('/query', { sql: 'SELECT * FROM fresh' }), (seen) => seen.status === 200);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ columns: ['time', 'host', 'usage', 'count'], data: [], row_count: 0 });
    expect((await post('/query', { sql: 'SELECT count(*) AS n FROM http_db.fresh f' })).json()).toMatchObject({ data: [[0]] });
    const described = (await post('/query', { sql: 'DESCRIBE fresh' })).json() as { data: unknown[][] };
    expect(described.data.map((row) => [row[0], row[1]])).toEqual([
      ['time', 'TIMESTAMP'],
      ['host', 'VARCHAR'],
      ['usage', 'DOUBLE'],
      ['count', 'BIGINT'],
    ]);
    expect((await shared.client.flush()).status).toBe(200);
    expect((await post('/query', { sql: 'SELECT count(*) FROM fresh' })).json()).toMatchObject({ data: [[4]] });
  });

  it('joins across databases', async () => {
    const rows = await shared.client.rows('SELECT count(*) FROM cpu a JOIN other_db.cpu b ON a.time = b.time', DATABASE);
    expect(rows).toEqual([[5]]);
  });
});

describe('GET /query/{measurement}', () => {
  it('answers the newest rows first, 100 by default, with every column', async () => {
    const answer = await get(`/query/cpu?database=${DATABASE}`);
    expect(answer.status, answer.text).toBe(200);
    const body = answer.json() as { columns: string[]; data: unknown[][]; row_count: number };
    expect(body.columns).toEqual(['time', 'host', 'usage', 'count']);
    expect(body.row_count).toBe(100);
    expect(body.data[0]?.[3]).toBe(HOURS * ROWS_PER_HOUR - 1);
    expect(answer.headers.get('x-arc-execution-time-ms')).toMatch(/^\d+\.\d{3}$/);
  });

  it('honours columns, time range, order_by, limit and offset', async () => {
    const answer = await get(
      `/query/cpu?database=${DATABASE}&columns=count,host&start_time=2025-10-16T17:00:00Z&end_time=2025-10-16T18:00:00Z&order_by=count%20ASC&limit=3&offset=2`,
    );
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ columns: ['count', 'host'], data: [[362, 'host-2'], [363, 'host-3'], [364, 'host-0']] });
    const csv = await get(`/query/cpu/csv?database=${DATABASE}&columns=count&order_by=count&limit=2`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text).toBe('count\r\n0\r\n1\r\n');
  });

  it.each([
    ['columns=nope', 'columns', "Unknown column 'nope' in columns"],
    ['columns=host;DROP%20TABLE%20cpu', 'columns', "Unknown column 'host;DROP TABLE cpu' in columns"],
    ["columns=host'--", 'columns', "Unknown column 'host'--' in columns"],
    ['columns=host%22,%22time', 'columns', 'Unknown column \'host"\' in columns'],
    ['order_by=time;DELETE', 'order_by', "Unknown column 'time;DELETE' in order_by"],
    ['order_by=usage%20/*x*/', 'order_by', '"order_by" must be a column name'],
    ['limit=-1', 'limit', '"limit" must be an integer from 1'],
    ['limit=abc', 'limit', '"limit" must be an integer from 1'],
    ['offset=-5', 'offset', '"offset" must be an integer from 0'],
    ['start_time=yesterday', 'start_time', '"start_time" must be an RFC 3339 time'],
    ["end_time=2025-10-16'%20OR%201=1--", 'end_time', '"end_time" must be an RFC 3339 time'],
  ])('refuses %s with a 400 naming %s', async (parameters, parameter, message) => {
    const answer = await get(`/query/cpu?database=${DATABASE}&${parameters}`);
    expect(answer.status, answer.text).toBe(400);
    const body = answer.json() as { success: boolean; error: string; parameter: string };
    expect(body.success).toBe(false);
    expect(body.parameter).toBe(parameter);
    expect(body.error).toContain(message);
  });

  it('refuses an unknown measurement and a bad measurement name', async () => {
    const unknown = await get(`/query/nosuch?database=${DATABASE}`);
    expect(unknown.status).toBe(400);
    expect((unknown.json() as { error: string }).error).toBe(`Table 'nosuch' does not exist in database '${DATABASE}'`);
    expect((await get(`/query/bad%20name?database=${DATABASE}`)).status).toBe(400);
  });
});

describe('POST /query/estimate', () => {
  it('counts the rows and grades them', async () => {
    const small = await post('/query/estimate', { sql: 'SELECT * FROM cpu' });
    expect(small.status, small.text).toBe(200);
    expect(small.json()).toMatchObject({ success: true, estimated_rows: HOURS * ROWS_PER_HOUR, warning_level: 'none', warning_message: '' });
    expect(typeof (small.json() as { execution_time_ms: number }).execution_time_ms).toBe('number');
    const cases: [number, string][] = [
      [20_000, 'low'],
      [200_000, 'medium'],
      [2_000_000, 'high'],
    ];
    for (const [rows, level] of cases) {
      const answer = await post('/query/estimate', { sql: `SELECT * FROM range(${String(rows)})` });
      expect(answer.json()).toMatchObject({ estimated_rows: rows, warning_level: level });
      expect((answer.json() as { warning_message: string }).warning_message).toContain(String(rows));
    }
  });

  it('refuses what /query refuses', async () => {
    expect((await post('/query/estimate', { sql: 'DROP VIEW cpu' })).status).toBe(400);
    expect((await post('/query/estimate', {})).status).toBe(400);
  });
});

describe('answer cache', () => {
  it('misses, then hits, and a flush of a measurement the query read makes it miss again', async () => {
    const sql = 'SELECT count(*) FROM mem';
    const first = await post('/query', { sql });
    expect(first.headers.get('x-arc-cache')).toBe('miss');
    const second = await post('/query', { sql: `  SELECT   count(*)\n FROM mem ;` });
    expect(second.headers.get('x-arc-cache')).toBe('hit');
    expect((second.json() as { data: unknown[][] }).data).toEqual([[10]]);
    // Another format, another limit, another caller scope: other entries.
    expect((await post('/query', { sql, format: 'csv' })).headers.get('x-arc-cache')).toBe('miss');
    expect((await shared.client.write(columnar('mem', 1, 10, 1000), { database: DATABASE })).status).toBe(204);
    expect((await shared.client.flush()).status).toBe(200);
    const afterFlush = await post('/query', { sql });
    expect(afterFlush.headers.get('x-arc-cache')).toBe('miss');
    expect((afterFlush.json() as { data: unknown[][] }).data).toEqual([[20]]);
  });

  it('never caches a query whose answer changes by itself', async () => {
    const sql = 'SELECT count(*), now() FROM cpu';
    await post('/query', { sql });
    expect((await post('/query', { sql })).headers.get('x-arc-cache')).toBe('miss');
  });

  it('reports stats and health, and clears (admin)', async () => {
    const stats = await get('/cache/stats');
    expect(stats.status).toBe(200);
    const body = stats.json() as { enabled: boolean; hits: number; entries: number; max_size: number; ttl_seconds: number };
    expect(body).toMatchObject({ enabled: true, max_size: 1000, ttl_seconds: 60 });
    expect(body.hits).toBeGreaterThanOrEqual(1);
    expect((await get('/cache/health')).json()).toMatchObject({ success: true, status: 'healthy', enabled: true });
    const cleared = await post('/cache/clear', '');
    expect(cleared.status).toBe(200);
    expect((cleared.json() as { cleared: number }).cleared).toBeGreaterThanOrEqual(1);
    expect((await get('/cache/stats')).json()).toMatchObject({ entries: 0 });
    expect((await shared.client.post('/cache/clear', '')).status).toBe(401);
  });
});

describe('compression, caps and timeouts', () => {
  it('compresses large JSON and msgpack answers as Accept-Encoding asks', async () => {
    const sql = 'SELECT * FROM cpu ORDER BY time';
    const plain = await post('/query', { sql });
    for (const encoding of ['gzip', 'zstd'] as const) {
      const response = await rawPost('/query', { sql }, { 'Accept-Encoding': encoding });
      expect(response.headers['content-encoding']).toBe(encoding);
      const inflated = encoding === 'gzip' ? gunzipSync(response.body) : zstdDecompress(response.body);
      const body = JSON.parse(inflated.toString('utf8')) as { data: unknown[][] };
      expect(body.data).toEqual((plain.json() as { data: unknown[][] }).data);
      expect(response.body.byteLength).toBeLessThan(inflated.byteLength / 3);
    }
    const packed = await rawPost('/api/v1/query/msgpack', { sql }, { 'Accept-Encoding': 'zstd' });
    expect(packed.headers['content-encoding']).toBe('zstd');
    expect((unpack(zstdDecompress(packed.body)) as { row_count: number }).row_count).toBe(HOURS * ROWS_PER_HOUR);
    // Small answers go out as they are.
    const small = await post('/query', { sql: 'SELECT 1' }, { 'Accept-Encoding': 'gzip' });
    expect(small.headers.get('content-encoding')).toBeNull();
  });

  it('refuses a result beyond query.max_rows with 413 and points to /query/stream', async () => {
    const answer = await post('/query', { sql: 'SELECT * FROM range(50001)' });
    expect(answer.status).toBe(413);
    expect(answer.json()).toMatchObject({ success: false, code: 'ARC_QUERY_RESULT_TOO_LARGE', rows_max: 50000 });
    expect((answer.json() as { error: string }).error).toContain('/query/stream');
    expect((await post('/query', { sql: 'SELECT * FROM range(50000)' })).status).toBe(200);
    expect((await post('/query', { sql: 'SELECT * FROM range(50001)', limit: 10 })).json()).toMatchObject({ row_count: 10 });
  });

  it('answers 504 past query.timeout, interrupts DuckDB, and the worker serves the next query', async () => {
    const slow = await post('/query', { sql: 'SELECT count(*) FROM range(1000000000000) a' });
    expect(slow.status, slow.text).toBe(504);
    expect(slow.json()).toMatchObject({ success: false, code: 'ARC_QUERY_TIMEOUT' });
    const next = await post('/query', { sql: 'SELECT 42' });
    expect(next.status).toBe(200);
    expect((next.json() as { data: unknown[][] }).data).toEqual([[42]]);
  });
});

describe('bad input', () => {
  it.each([
    ['missing sql', {}, 400, 'ARC_QUERY_MISSING_SQL'],
    ['empty sql', { sql: '   ' }, 400, 'ARC_QUERY_EMPTY_SQL'],
    ['unknown format', { sql: 'SELECT 1', format: 'xml' }, 400, 'ARC_QUERY_BAD_FORMAT'],
    ['negative limit', { sql: 'SELECT 1', limit: -1 }, 400, 'ARC_QUERY_BAD_LIMIT'],
    ['absurd limit', { sql: 'SELECT 1', limit: 1e12 }, 400, 'ARC_QUERY_BAD_LIMIT'],
    ['fractional limit', { sql: 'SELECT 1', limit: 1.5 }, 400, 'ARC_QUERY_BAD_LIMIT'],
    ['string limit', { sql: 'SELECT 1', limit: '10' }, 400, 'ARC_QUERY_BAD_LIMIT'],
    ['unknown table', { sql: 'SELECT * FROM nosuch' }, 400, 'ARC_QUERY_UNKNOWN_TABLE'],
    ['unknown database', { sql: 'SELECT * FROM nodb.cpu' }, 400, 'ARC_QUERY_UNKNOWN_DATABASE'],
    ['forbidden statement', { sql: 'INSERT INTO cpu VALUES (1)' }, 400, 'ARC_SQL_FORBIDDEN'],
    ['several statements', { sql: 'SELECT 1; SELECT 2' }, 400, 'ARC_SQL_MULTIPLE_STATEMENTS'],
    ['file function', { sql: "SELECT * FROM read_csv('/etc/passwd')" }, 400, 'ARC_SQL_FORBIDDEN'],
  ])('%s', async (_, body, status, code) => {
    const answer = await post('/query', body);
    expect(answer.status, answer.text).toBe(status);
    expect(answer.json()).toMatchObject({ success: false, code });
  });

  it('returns DuckDB\'s message and position for a syntax error', async () => {
    const answer = await post('/query', { sql: 'SELECT * FROM cpu WHERE' });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ success: false, code: 'ARC_SQL_ERROR', error: 'Parser Error: syntax error at end of input', position: 23 });
  });

  it('refuses SQL over 100 KB and a body that is not JSON', async () => {
    const long = await post('/query', { sql: `SELECT 1 -- ${'x'.repeat(100 * 1024)}` });
    expect(long.status).toBe(400);
    expect(long.json()).toMatchObject({ code: 'ARC_SQL_TOO_LARGE' });
    expect((await post('/query', '{"sql": ')).json()).toMatchObject({ code: 'ARC_QUERY_BAD_JSON' });
  });
});
