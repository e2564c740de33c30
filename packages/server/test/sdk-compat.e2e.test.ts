// Proves, against the built server, that what Arc's own clients send and read works: the database
// named `default` (a DuckDB keyword) bare wherever SQL names a database, in JSON, Arrow and msgpack
// answers; `/measurements`, `/health`, `/api/v1/query/estimate`, `/api/v1/auth/verify` and the token
// API in the shapes Arc's Python SDK builds its models from (integer token ids); and a JSON body POSTed to /query with curl's form
// content type answered as SQL while an InfluxDB form body stays InfluxQL.
import { tableFromIPC } from 'apache-arrow';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { MsgpackQueryAnswer } from '@arc/query';
import { flushUntil } from './support/flush-until.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc();
const FORM = 'application/x-www-form-urlencoded';
const HOUR_NS = 3_600_000_000_000n;
const T0_NS = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20Z

let written = false;

/** cpu (2 rows, two hours) and mem (1 row) in the database `default`, flushed to files once. */
async function seed(): Promise<void> {
  if (written) return;
  const lines = [`cpu,host=a usage=1 ${String(T0_NS)}`, `cpu,host=b usage=3 ${String(T0_NS + HOUR_NS)}`, `mem,host=a used=2 ${String(T0_NS)}`].join('\n');
  const answer = await shared.client.post('/write?db=default', lines, shared.client.authHeaders());
  expect(answer.status, answer.text).toBe(204);
  await flushUntil(shared.client, 'default', 'cpu', 2);
  await flushUntil(shared.client, 'default', 'mem', 1);
  written = true;
}

async function postJson(path: string, body: unknown, contentType = 'application/json'): Promise<Response> {
  return fetch(`${shared.arc.url}${path}`, {
    method: 'POST',
    headers: { ...shared.client.authHeaders(), 'Content-Type': contentType },
    body: JSON.stringify(body),
  });
}

const ISO_OR_NULL = (value: unknown): boolean => value === null || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));

/** The SDK's TokenInfo model: id int, name str, description str|None, permissions [str], times ISO or null, enabled bool. */
function expectSdkTokenInfo(value: unknown): void {
  const info = value as Record<string, unknown>;
  expect(Number.isInteger(info.id), JSON.stringify(info)).toBe(true);
  expect(typeof info.name).toBe('string');
  expect(info.description === undefined || info.description === null || typeof info.description === 'string').toBe(true);
  expect(Array.isArray(info.permissions) && (info.permissions as unknown[]).every((permission) => typeof permission === 'string')).toBe(true);
  for (const key of ['created_at', 'last_used_at', 'expires_at']) expect(info[key] === undefined || ISO_OR_NULL(info[key]), key).toBe(true);
  expect(info.enabled === undefined || typeof info.enabled === 'boolean').toBe(true);
}

async function jsonRows(sql: string): Promise<unknown[][]> {
  const response = await postJson('/api/v1/query', { sql });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return (JSON.parse(text) as { data: unknown[][] }).data;
}

/** Every way SQL names the database `default`, with the rows it must answer. */
const DEFAULT_NAMED: readonly { sql: string; rows: unknown[][] }[] = [
  { sql: 'SELECT count(*) AS n FROM default.cpu', rows: [[2]] },
  { sql: 'SELECT host, usage FROM DEFAULT.cpu ORDER BY host', rows: [['a', 1], ['b', 3]] },
  { sql: 'SELECT host FROM "default".cpu ORDER BY host', rows: [['a'], ['b']] },
  { sql: 'SELECT default.cpu.usage FROM default.cpu ORDER BY 1', rows: [[1], [3]] },
  { sql: 'SELECT c.host, m.used FROM default.cpu AS c JOIN default.mem AS m ON c.host = m.host', rows: [['a', 2]] },
  { sql: 'SELECT c.host FROM cpu c JOIN default.mem m USING (host)', rows: [['a']] },
  // Time-bounded reads are rewritten to the files in range: the quoted name must survive that too.
  { sql: "SELECT count(*) FROM default.cpu WHERE time >= '2023-11-14T23:00:00Z'", rows: [[1]] },
  { sql: 'WITH x AS (SELECT * FROM default.mem) SELECT count(*) FROM x', rows: [[1]] },
  // A string, a comment and a quoted alias that say default.cpu are left as written.
  { sql: "SELECT 'default.cpu' AS \"default.x\" /* default.cpu */ FROM default.mem -- default.cpu", rows: [['default.cpu']] },
];

describe('the database named default', () => {
  it('is a database name wherever SQL names one (JSON answers)', async () => {
    await seed();
    for (const { sql, rows } of DEFAULT_NAMED) expect([sql, await jsonRows(sql)]).toEqual([sql, rows]);
  });

  it('lists its measurements with SHOW TABLES FROM default (any case) and DESCRIBE default.cpu', async () => {
    await seed();
    for (const sql of ['SHOW TABLES FROM default', 'SHOW TABLES FROM Default', 'show tables from "default"']) {
      expect((await jsonRows(sql)).map((row) => [row[0], row[1]])).toEqual([
        ['default', 'cpu'],
        ['default', 'mem'],
      ]);
    }
    expect((await jsonRows('DESCRIBE default.cpu')).map((row) => row[0])).toEqual(['time', 'host', 'usage']);
  });

  it('answers in Arrow and msgpack too', async () => {
    await seed();
    const sql = 'SELECT c.host, c.usage FROM default.cpu c JOIN default.mem USING (host)';
    const arrow = await postJson('/api/v1/query/arrow', { sql });
    expect(arrow.status).toBe(200);
    const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
    expect(table.toArray().map((row: { host: string; usage: number }) => [row.host, row.usage])).toEqual([['a', 1]]);
    const packed = await postJson('/api/v1/query/msgpack', { sql: 'SHOW TABLES FROM default' });
    expect(packed.status).toBe(200);
    const answer = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(new Uint8Array(await packed.arrayBuffer())) as MsgpackQueryAnswer;
    expect(answer.columns.slice(0, 2)).toEqual(['database', 'table_name']);
    expect(answer.data[1]).toEqual(['cpu', 'mem']);
  });

  it('still reports a real syntax error at its position in the text the user sent', async () => {
    // Two names quoted (four characters added) before the error; the position ignores them.
    for (const sql of ['SELECT * FROM default.cpu WHERE', "SELECT 'é', default.cpu.usage FROM default.cpu WHERE"]) {
      const response = await postJson('/api/v1/query', { sql });
      expect([sql, response.status]).toEqual([sql, 400]);
      // The position counts characters (code points), as Array.from walks a string.
      expect(await response.json()).toMatchObject({ code: 'ARC_SQL_ERROR', position: Array.from(sql).length });
    }
  });

  it('refuses writes that name default.cpu as any write is refused (400, not an engine error)', async () => {
    await seed();
    for (const sql of ['INSERT INTO default.cpu VALUES (1)', "COPY default.cpu TO '/tmp/arc-sdk-compat.csv'"]) {
      const response = await postJson('/api/v1/query', { sql });
      expect([sql, response.status, ((await response.json()) as { code: string }).code]).toEqual([sql, 400, 'ARC_SQL_FORBIDDEN']);
    }
    expect(await jsonRows('SELECT count(*) FROM default.cpu')).toEqual([[2]]);
  });
});

describe("Arc's Python SDK answer shapes", () => {
  it('GET /api/v1/measurements and /measurements: objects with database, measurement, files, size and hours', async () => {
    await seed();
    for (const path of ['/api/v1/measurements?database=default', '/measurements?database=default']) {
      const answer = await shared.client.get(path, shared.client.authHeaders());
      expect(answer.status, answer.text).toBe(200);
      const body = answer.json() as { success: boolean; measurements: Record<string, unknown>[]; names: string[]; count: number };
      expect(body).toMatchObject({ success: true, database: 'default', names: ['cpu', 'mem'], count: 2 });
      expect(body.measurements).toEqual([
        {
          database: 'default',
          measurement: 'cpu',
          file_count: expect.any(Number) as number,
          total_size_mb: expect.any(Number) as number,
          storage_path: expect.any(String) as string,
          first_hour: '2023-11-14T22:00:00Z',
          last_hour: '2023-11-14T23:00:00Z',
        },
        {
          database: 'default',
          measurement: 'mem',
          file_count: 1,
          total_size_mb: expect.any(Number) as number,
          storage_path: expect.any(String) as string,
          first_hour: '2023-11-14T22:00:00Z',
          last_hour: '2023-11-14T22:00:00Z',
        },
      ]);
      for (const measurement of body.measurements) {
        expect(Number.isInteger(measurement.file_count) && (measurement.file_count as number) >= 1).toBe(true);
        expect(measurement.total_size_mb as number).toBeGreaterThan(0);
      }
    }
  });

  it('GET /api/v1/measurements without a database: the measurements of every database the token may read (list_measurements())', async () => {
    await seed();
    const other = await shared.client.post('/write?db=sdk_other', `disk,host=a free=1 ${String(T0_NS)}`, shared.client.authHeaders());
    expect(other.status, other.text).toBe(204);
    await flushUntil(shared.client, 'sdk_other', 'disk', 1);
    const all = (await shared.client.get('/api/v1/measurements', shared.client.authHeaders())).json() as { database: unknown; measurements: { database: string; measurement: string }[] };
    expect(all.database).toBeNull();
    expect(all.measurements.map((item) => `${item.database}.${item.measurement}`)).toEqual(expect.arrayContaining(['default.cpu', 'default.mem', 'sdk_other.disk']));
    // A token limited to one database lists only that one's.
    const created = await fetch(`${shared.arc.url}/api/v1/auth/tokens`, {
      method: 'POST',
      headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'sdk-scoped-reader', permissions: ['read'], databases: ['sdk_other'] }),
    });
    const scoped = ((await created.json()) as { token: string }).token;
    const seen = (await shared.client.get('/api/v1/measurements', { Authorization: `Bearer ${scoped}` })).json() as { measurements: { database: string; measurement: string }[] };
    expect(seen.measurements.map((item) => `${item.database}.${item.measurement}`)).toEqual(['sdk_other.disk']);
  });

  it('GET /health: status, version and uptime are strings (HealthResponse), uptime_sec a whole number', async () => {
    const body = (await shared.client.get('/health')).json() as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'healthy', version: expect.any(String) as string, uptime: expect.stringMatching(/^(\d+h)?(\d+m)?\d+s$/) as string });
    expect(Number.isInteger(body.uptime_sec)).toBe(true);
  });

  it('POST /api/v1/query/estimate: success, integer estimated_rows, warning_level, execution_time_ms (EstimateResponse)', async () => {
    await seed();
    const response = await postJson('/api/v1/query/estimate', { sql: 'SELECT * FROM default.cpu' });
    const body = (await response.json()) as Record<string, unknown>;
    expect(response.status).toBe(200);
    expect(body).toMatchObject({ success: true, estimated_rows: 2, warning_level: 'none' });
    expect(typeof body.execution_time_ms).toBe('number');
    expect(body.warning_message === null || typeof body.warning_message === 'string').toBe(true);
  });

  it('GET /api/v1/auth/verify: valid, permissions and token_info with an integer id (VerifyResponse)', async () => {
    const body = (await shared.client.get('/api/v1/auth/verify', shared.client.authHeaders())).json() as Record<string, unknown>;
    expect(body.valid).toBe(true);
    expect(Array.isArray(body.permissions) && (body.permissions as unknown[]).every((permission) => typeof permission === 'string')).toBe(true);
    expectSdkTokenInfo(body.token_info);
  });

  it('token management as the SDK calls it: create, list, get, update, rotate, revoke, delete (auth/manager.py)', async () => {
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${shared.arc.url}${path}`, {
        method,
        headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    // create_token(name, description, permissions, expires_in) -> CreateTokenResponse(success, token: str)
    const created = await call('POST', '/api/v1/auth/tokens', { name: 'sdk-made', description: 'from the SDK', permissions: ['read', 'write'], expires_in: '7d' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ success: true, token: expect.any(String) as string, message: expect.any(String) as string });
    const id = created.json.id;
    expect(Number.isInteger(id)).toBe(true);
    // list_tokens() -> TokenListResponse(success, tokens: [TokenInfo], count)
    const listed = await call('GET', '/api/v1/auth/tokens');
    expect(listed.json.success).toBe(true);
    expect(listed.json.count).toBe((listed.json.tokens as unknown[]).length);
    for (const token of listed.json.tokens as unknown[]) expectSdkTokenInfo(token);
    // get_token(id) -> TokenInfo(**data["token"])
    const found = await call('GET', `/api/v1/auth/tokens/${String(id)}`);
    expectSdkTokenInfo(found.json.token);
    expect(found.json.token).toMatchObject({ id, name: 'sdk-made', description: 'from the SDK', permissions: ['read', 'write'], enabled: true });
    // update_token(id, name=..., expires_in=...): data.get("success", True)
    const updated = await call('PATCH', `/api/v1/auth/tokens/${String(id)}`, { name: 'sdk-renamed', expires_in: '24h' });
    expect([updated.status, updated.json.success]).toEqual([200, true]);
    // rotate_token(id) -> RotateTokenResponse(success, new_token: str)
    const rotated = await call('POST', `/api/v1/auth/tokens/${String(id)}/rotate`);
    expect(rotated.json).toMatchObject({ success: true, new_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string });
    const verified = await fetch(`${shared.arc.url}/api/v1/auth/verify`, { headers: { Authorization: `Bearer ${String(rotated.json.new_token)}` } });
    expect(((await verified.json()) as { token_info: { id: number; name: string } }).token_info).toMatchObject({ id, name: 'sdk-renamed' });
    // revoke_token(id) and delete_token(id): data.get("success", True)
    expect((await call('POST', `/api/v1/auth/tokens/${String(id)}/revoke`)).json.success).toBe(true);
    expect((await call('DELETE', `/api/v1/auth/tokens/${String(id)}`)).json.success).toBe(true);
    // get_token of a deleted id: a 404, which the SDK's HTTP layer turns into ArcNotFoundError.
    expect((await call('GET', `/api/v1/auth/tokens/${String(id)}`)).status).toBe(404);
  });

  it('POST /api/v1/query: success, columns, data, row_count, execution_time_ms, timestamp (QueryResponse)', async () => {
    await seed();
    const body = (await (await postJson('/api/v1/query', { sql: 'SELECT host FROM default.mem' })).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ success: true, columns: ['host'], data: [['a']], row_count: 1, timestamp: expect.any(String) as string });
    expect(typeof body.execution_time_ms).toBe('number');
  });
});

describe('POST /query with a form content type', () => {
  it('answers a JSON body {"sql": ...} as SQL on /query and /api/v1/query (curl -d)', async () => {
    await seed();
    for (const path of ['/query', '/api/v1/query']) {
      const response = await postJson(path, { sql: 'SELECT count(*) AS n FROM default.cpu' }, FORM);
      const text = await response.text();
      expect([path, response.status, text]).toEqual([path, 200, expect.stringContaining('"data":[[2]]') as string]);
    }
    const spaced = await fetch(`${shared.arc.url}/query`, {
      method: 'POST',
      headers: { ...shared.client.authHeaders(), 'Content-Type': FORM },
      body: '\n  {"sql": "SELECT 1 AS one"}',
    });
    expect(await spaced.json()).toMatchObject({ success: true, data: [[1]] });
  });

  it('answers the streaming and estimate paths the same way (JSON body, form content type, default.cpu)', async () => {
    await seed();
    const stream = await postJson('/api/v1/query/stream', { sql: 'SELECT host FROM default.cpu ORDER BY host' }, FORM);
    expect([stream.status, (await stream.text()).split(/\r?\n/).filter((line) => line !== '')]).toEqual([200, ['host', 'a', 'b']]);
    const estimate = await postJson('/api/v1/query/estimate', { sql: 'SELECT * FROM default.cpu' }, FORM);
    expect(await estimate.json()).toMatchObject({ success: true, estimated_rows: 2 });
  });

  it('keeps an InfluxDB form body (q=...) InfluxQL, also with a JSON content type and q in the URL', async () => {
    await seed();
    const form = await fetch(`${shared.arc.url}/query`, {
      method: 'POST',
      headers: { ...shared.client.authHeaders(), 'Content-Type': FORM },
      body: new URLSearchParams({ q: 'SHOW MEASUREMENTS', db: 'default' }).toString(),
    });
    const expected = { results: [{ statement_id: 0, series: [{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }] }] };
    expect(await form.json()).toEqual(expected);
    const inUrl = await postJson('/query?db=default&q=SHOW%20MEASUREMENTS', { sql: 'SELECT 1' });
    expect(await inUrl.json()).toEqual(expected);
  });

  it('answers a form body that is neither JSON nor carries q as InfluxQL does: 400 missing q', async () => {
    const response = await fetch(`${shared.arc.url}/api/v1/query`, {
      method: 'POST',
      headers: { ...shared.client.authHeaders(), 'Content-Type': FORM },
      body: 'sql=SELECT+1',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: 'ARC_INFLUXQL_MISSING_QUERY' });
  });
});
