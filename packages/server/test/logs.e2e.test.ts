// Proves the operator's view of the logs on the built server at debug level with every query
// logged as slow: each answer carries an X-Request-Id (the client's when sane), the slow-query
// line carries the SQL and that id in stderr and in GET /logs, /logs filters and refuses as
// documented (401, 403, 400), and no token or secret sent or made appears in stderr or /logs.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { ON_OBJECT_STORAGE, testS3 } from '../../../test/support/s3-test-env.js';
import { TEST_TOKEN, startArc, type ArcProcess } from './support/arc-process.js';
import { createToken, send } from './support/token-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/**
 * The S3 secret key configured: the test bucket's on object storage (make test-s3), where the node
 * uses it; else one set for a local node, which holds it in its configuration without using it.
 */
const S3_SECRET = ON_OBJECT_STORAGE ? (testS3()?.secretKey ?? '') : 'S3-secret-key-never-logged-7Qz';
/** Lines reach stderr and the ring as they are logged; the pipe to this process adds a little delay. */
const LOG_DEADLINE_MS = 10_000;

interface LogsAnswer {
  readonly lines: readonly Record<string, unknown>[];
  readonly count: number;
  readonly ring: Record<string, number>;
}

let arc: ArcProcess;

beforeAll(async () => {
  const s3Env: Record<string, string> = ON_OBJECT_STORAGE ? {} : { ARC_STORAGE_S3_SECRET_KEY: S3_SECRET };
  arc = await startArc({ ARC_LOG_LEVEL: 'debug', ARC_QUERY_SLOW_QUERY_MS: '0', ...s3Env });
});

afterAll(async () => {
  await expectCleanStopAndRemove(arc);
});

async function logs(query: string, token: string | null = TEST_TOKEN): Promise<LogsAnswer> {
  const answer = await send(arc.url, 'GET', `/logs${query}`, { token });
  expect(answer.status, answer.text).toBe(200);
  return answer.json() as LogsAnswer;
}

/** The JSON lines the server wrote to stderr so far (the output is JSON: stderr is a pipe here). */
function stderrLines(): Record<string, unknown>[] {
  return arc
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('request ids', () => {
  it('echoes a sane X-Request-Id and makes one up otherwise, on every kind of answer', async () => {
    const given = await send(arc.url, 'GET', '/health', { headers: { 'X-Request-Id': 'client-id-1' } });
    expect(given.headers.get('x-request-id')).toBe('client-id-1');
    const ids = new Set<string | null>();
    for (const [method, path, token, status] of [
      ['GET', '/health', TEST_TOKEN, 200],
      ['GET', '/no/such/route', TEST_TOKEN, 404],
      ['GET', '/logs', null, 401],
      ['POST', '/write?db=logs_e2e', TEST_TOKEN, 204],
    ] as const) {
      const answer = await send(arc.url, method, path, { token, body: method === 'POST' ? 'cpu v=1' : undefined });
      expect(answer.status, `${method} ${path}`).toBe(status);
      expect(answer.headers.get('x-request-id'), `${method} ${path}`).toMatch(UUID);
      ids.add(answer.headers.get('x-request-id'));
    }
    // One id per request, also for requests that follow each other on one kept-alive connection.
    expect(ids.size).toBe(4);
    const odd = await send(arc.url, 'GET', '/health', { headers: { 'X-Request-Id': 'has spaces and "quotes"' } });
    expect(odd.headers.get('x-request-id')).toMatch(UUID);
    const long = await send(arc.url, 'GET', '/health', { headers: { 'X-Request-Id': 'x'.repeat(129) } });
    expect(long.headers.get('x-request-id')).toMatch(UUID);
  });

  it('logs a slow query with its SQL, rows, database, duration and request id, in stderr and in /logs', async () => {
    const sql = 'SELECT 42 AS answer';
    const answer = await send(arc.url, 'POST', '/query', { body: { sql }, headers: { 'X-Request-Id': 'slow-query-e2e-1' } });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers.get('x-request-id')).toBe('slow-query-e2e-1');
    const expected = { level: 'warn', msg: 'slow query', request_id: 'slow-query-e2e-1', sql, rows: 1, database: 'default' };
    const { value } = await pollUntil('the slow-query line in stderr', LOG_DEADLINE_MS, stderrLines, (lines) => lines.some((line) => line.request_id === 'slow-query-e2e-1' && line.msg === 'slow query'));
    const line = value.find((candidate) => candidate.request_id === 'slow-query-e2e-1' && candidate.msg === 'slow query');
    expect(line).toMatchObject(expected);
    expect(typeof line?.duration_ms).toBe('number');
    const ring = await logs('?level=warn&limit=10000');
    expect(ring.lines.find((candidate) => candidate.request_id === 'slow-query-e2e-1')).toMatchObject(expected);
  });

  it('logs a slow InfluxQL query with its statement', async () => {
    const answer = await send(arc.url, 'GET', `/query?db=logs_e2e&q=${encodeURIComponent('SHOW MEASUREMENTS')}`, { headers: { 'X-Request-Id': 'influxql-e2e-1' } });
    expect(answer.status, answer.text).toBe(200);
    const ring = await logs('?level=warn');
    expect(ring.lines.find((line) => line.request_id === 'influxql-e2e-1')).toMatchObject({ msg: 'slow query', dialect: 'influxql', sql: 'SHOW MEASUREMENTS', database: 'logs_e2e', rows: null });
  });

  it('carries the request id on the line of a refused query', async () => {
    const answer = await send(arc.url, 'POST', '/query', { body: { sql: 'SELECT * FROM no_such_table_e2e' }, headers: { 'X-Request-Id': 'failed-query-e2e-1' } });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    const ring = await logs('?level=warn');
    expect(ring.lines.find((line) => line.request_id === 'failed-query-e2e-1')).toMatchObject({ msg: 'slow query', error_code: expect.stringMatching(/^ARC_/) as unknown });
  });

  it('carries the request id on the line of a refused write (debug)', async () => {
    const answer = await send(arc.url, 'POST', '/write?db=logs_e2e', { body: 'cpu value=notanumber', headers: { 'X-Request-Id': 'bad-write-e2e-1' } });
    expect(answer.status).toBe(400);
    const code = (answer.json() as { code: string }).code;
    const { value } = await pollUntil('the refused write in /logs', LOG_DEADLINE_MS, () => logs('?level=debug&limit=10000'), (ring) => ring.lines.some((line) => line.request_id === 'bad-write-e2e-1'));
    expect(value.lines.find((line) => line.request_id === 'bad-write-e2e-1' && line.msg === 'write rejected')).toMatchObject({ level: 'debug', database: 'logs_e2e', code });
  });
});

describe('GET /logs', () => {
  it('answers the newest lines, filtered by level, since and limit, also under /api/v1', async () => {
    const all = await logs('?limit=10000');
    expect(all.count).toBe(all.lines.length);
    expect(all.lines.some((line) => line.level === 'info' && typeof line.msg === 'string' && line.msg.startsWith('Arc listening on'))).toBe(true);
    expect(all.ring.lines_max).toBe(1000);
    const warnings = await logs('?level=warn&limit=10000');
    expect(warnings.lines.length).toBeGreaterThan(0);
    expect(warnings.lines.every((line) => line.level === 'warn' || line.level === 'error')).toBe(true);
    const last = await logs('?limit=1');
    expect(last.lines).toHaveLength(1);
    const future = await logs(`?since=${String(Date.now() + 60_000)}`);
    expect(future.lines).toEqual([]);
    const since = new Date(Date.now() - 60_000).toISOString();
    const recent = await logs(`?since=${since}&limit=10000`);
    expect(recent.lines.every((line) => String(line.time) >= since)).toBe(true);
    const alias = await send(arc.url, 'GET', '/api/v1/logs?level=error');
    expect(alias.status).toBe(200);
  });

  it('refuses without a token (401), without admin (403), and bad filters (400 naming them)', async () => {
    expect((await send(arc.url, 'GET', '/logs', { token: null })).status).toBe(401);
    const reader = await createToken(arc.url, { name: 'logs-reader', permissions: ['read', 'write'] });
    const denied = await send(arc.url, 'GET', '/logs', { token: reader.token });
    expect(denied.status).toBe(403);
    expect((await send(arc.url, 'GET', '/api/v1/logs', { token: reader.token })).status).toBe(403);
    for (const [query, parameter] of [['level=loud', 'level'], ['since=last-tuesday', 'since'], ['limit=0', 'limit'], ['limit=10001', 'limit']] as const) {
      const answer = await send(arc.url, 'GET', `/logs?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.json()).toMatchObject({ code: 'ARC_QUERY_BAD_PARAMETER', parameter, error: expect.stringContaining(`"${parameter}"`) as unknown });
    }
  });
});

describe('secrets', () => {
  it('never writes a token, password or secret key to stderr or /logs, at debug level', async () => {
    const made = await createToken(arc.url, { name: 'logs-secret', permissions: ['read', 'write'] });
    const rotated = await send(arc.url, 'POST', `/auth/tokens/${String(made.id)}/rotate`);
    expect(rotated.status).toBe(200);
    const token = (rotated.json() as { new_token: string }).new_token;
    const wrong = 'wrong-token-never-logged-0123456789';
    const sent = [
      await send(arc.url, 'POST', '/query', { token, body: { sql: 'SELECT 1' } }),
      await send(arc.url, 'GET', `/query?u=admin&p=${token}&q=${encodeURIComponent('SHOW DATABASES')}`, { token: null }),
      await send(arc.url, 'POST', `/api/v2/write?bucket=logs_e2e&token=${token}`, { token: null, headers: { Authorization: `Token ${token}` }, body: 'cpu v=2' }),
      await send(arc.url, 'GET', '/auth/verify', { token: null, headers: { 'X-Api-Key': token } }),
      await send(arc.url, 'GET', `/query?u=admin&p=${wrong}&q=SHOW%20DATABASES`, { token: null }),
      await send(arc.url, 'POST', '/query', { token: wrong, body: { sql: 'SELECT 1' } }),
    ];
    expect(sent.map((answer) => answer.status)).toEqual([200, 200, 204, 200, 401, 401]);
    // The debug lines of the last requests are out (the user name stays, it is no secret).
    const requestLines = (): number => arc.output().split('\n').filter((line) => line.includes('"msg":"request"') && line.includes('u=admin')).length;
    await pollUntil('the debug lines of the InfluxQL requests', LOG_DEADLINE_MS, requestLines, (count) => count >= 2);
    const ring = await send(arc.url, 'GET', '/logs?limit=10000');
    expect(S3_SECRET.length).toBeGreaterThan(8);
    for (const secret of [token, made.token, wrong, TEST_TOKEN, S3_SECRET]) {
      expect(arc.output(), 'stderr').not.toContain(secret);
      expect(ring.text, '/logs').not.toContain(secret);
    }
    expect(arc.output()).toContain('p=[REDACTED]');
  });
});
