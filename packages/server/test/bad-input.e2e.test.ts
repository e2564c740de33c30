// Proves every kind of bad write gets a 4xx JSON error naming the problem, that nothing of a
// rejected request is written (counted after a flush), and that auth failures have the exact
// bodies the README documents; random bytes never take the server down, nor does a client that
// hangs up mid-body (seen in the write stats' abort count).
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { msgpack } from './support/arc-client.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';

const BODY_MAX_MB = 1;
const shared = useSharedArc({ ARC_SERVER_BODY_MAX_MB: String(BODY_MAX_MB), ARC_WRITER_FLUSH_AGE_MS: '600000' });

/** The server notices a closed connection at once; the bound is for a loaded machine. */
const ABORT_DEADLINE_MS = 10_000;

async function abortedWrites(): Promise<number> {
  const stats = await shared.client.get('/write/stats', shared.client.authHeaders());
  expect(stats.status).toBe(200);
  return (stats.json() as { requests_aborted: number }).requests_aborted;
}

async function countIn(database: string, measurement: string): Promise<number> {
  const answer = await shared.client.query(`SELECT count(*) FROM ${measurement}`, database);
  if (answer.status !== 200) return 0; // no files yet: the view does not exist
  return (answer.json() as { data: number[][] }).data[0]![0]!; // count(*) answers one row
}

describe('bad writes are rejected whole, with a clear error', () => {
  const good = { m: 'bad', t: 1_700_000_000_000, h: 'ok', fields: { v: 1 } };
  const cases: [string, Uint8Array, string | undefined, number, RegExp][] = [
    ['empty body', new Uint8Array(0), undefined, 400, /Empty payload/],
    ['garbage', Buffer.from('not msgpack at all'), undefined, 400, /Invalid MessagePack payload|Expected a map/],
    ['truncated msgpack', msgpack({ batch: [good, good] }).subarray(0, 30), undefined, 400, /Invalid MessagePack payload/],
    ['bad gzip', Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('garbage')]), undefined, 400, /Invalid gzip body/],
    ['bad zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), undefined, 400, /Invalid zstd body/],
    ['unequal columns', msgpack({ m: 'bad', columns: { time: [1, 2], v: [1] } }), undefined, 400, /column 'v' has 1 values but 'time' has 2/],
    ['row without fields', msgpack({ batch: [good, { m: 'bad', t: 1, h: 'x' }] }), undefined, 400, /Item 1: row has no fields/],
    ['type conflict in the request', msgpack([good, { ...good, fields: { v: 'text' } }]), undefined, 400, /'v' is string here but int64/],
    ['bad measurement name', msgpack([good, { ...good, m: 'no spaces' }]), undefined, 400, /Invalid measurement name 'no spaces'/],
    ['bad database name', msgpack(good), '../etc', 400, /Invalid database name '\.\.\/etc'/],
    ['reserved database name', msgpack(good), 'system', 400, /Database name 'system' is reserved/],
    ['reserved database name, any case', msgpack(good), 'Internal', 400, /is reserved/],
  ];
  it.each(cases)('%s', async (_name, body, database, status, message) => {
    const answer = await shared.client.write(body, database === undefined ? {} : { database });
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toBe('application/json');
    const error = answer.json() as { error: string; code: string };
    expect(error.error).toMatch(message);
    expect(error.code).toMatch(/^ARC_/);
  });

  it('wrote nothing of any rejected request', async () => {
    expect((await shared.client.flush()).status).toBe(200);
    expect(await countIn('default', 'bad')).toBe(0);
  });

  it('refuses a body over the limit with 413, compressed or not', async () => {
    const big = Buffer.alloc(BODY_MAX_MB * 1024 * 1024 + 1, 0x20);
    const raw = await shared.client.write(big);
    expect(raw.status).toBe(413);
    expect((raw.json() as { error: unknown }).error).toMatch(/exceeds 1048576 bytes/);
    const bomb = gzipSync(msgpack({ m: 'bad', t: 1, fields: { s: 'x'.repeat(2 * 1024 * 1024) } }));
    expect(bomb.byteLength).toBeLessThan(BODY_MAX_MB * 1024 * 1024);
    const inflated = await shared.client.write(bomb);
    expect(inflated.status).toBe(413);
    expect((inflated.json() as { error: unknown }).error).toMatch(/after decompression/);
  });

  it('rejects a type conflict with rows already buffered, for the later request only', async () => {
    expect((await shared.client.write(msgpack({ m: 'conflict', t: 1_700_000_000_000, fields: { v: 1 } }))).status).toBe(204);
    const later = await shared.client.write(msgpack({ m: 'conflict', t: 1_700_000_001_000, fields: { v: 'now a string' } }));
    expect(later.status).toBe(400);
    expect(later.json()).toMatchObject({ code: 'ARC_SCHEMA_CONFLICT', column: 'v', measurement: 'conflict' });
    expect((await shared.client.write(msgpack({ m: 'conflict', t: 1_700_000_002_000, fields: { v: 2.5, w: true } }))).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT v, w FROM conflict ORDER BY time')).toEqual([
      [1, null],
      [2.5, true],
    ]);
  });

  it('rejects a multi-measurement request whole when one writer refuses it', async () => {
    // Find two measurement names served by different writers: one conflicts, one is fine.
    expect((await shared.client.write(msgpack({ m: 'atomic_a', t: 1, fields: { v: 1 } }))).status).toBe(204);
    const names = Array.from({ length: 8 }, (_, index) => `atomic_b${index}`);
    const body = msgpack([{ m: 'atomic_a', t: 2, fields: { v: 'conflict' } }, ...names.map((m) => ({ m, t: 2, fields: { v: 1 } }))]);
    const answer = await shared.client.write(body);
    expect(answer.status).toBe(400);
    await shared.client.flush();
    for (const name of names) expect(await countIn('default', name)).toBe(0);
    expect(await countIn('default', 'atomic_a')).toBe(1);
  });
});

describe('authentication', () => {
  const body = msgpack({ m: 'authm', t: 1, fields: { v: 1 } });
  it('401 without a token, with the exact body', async () => {
    const answer = await shared.client.write(body, { token: null });
    expect(answer.status).toBe(401);
    expect(answer.text).toBe('{"error":"Authentication required"}');
  });
  it('401 with a wrong token', async () => {
    const answer = await shared.client.write(body, { token: 'wrong-token' });
    expect(answer.status).toBe(401);
    expect(answer.text).toBe('{"error":"Invalid or expired token"}');
  });
  it('accepts Bearer, Token, x-api-key, ?p= and Basic', async () => {
    const forms: WriteFormsCase[] = [
      { headers: { Authorization: `Token ${TEST_TOKEN}` } },
      { headers: { 'x-api-key': TEST_TOKEN } },
      { headers: { Authorization: `Basic ${Buffer.from(`user:${TEST_TOKEN}`).toString('base64')}` } },
      { headers: {}, path: `/write/v2/msgpack?p=${TEST_TOKEN}` },
    ];
    for (const form of forms) {
      const answer = await shared.client.write(body, { token: null, headers: form.headers, ...(form.path === undefined ? {} : { path: form.path }) });
      expect(answer.status, JSON.stringify(form)).toBe(204);
    }
  });
  it('protects query and flush, leaves health public', async () => {
    expect((await shared.client.query('SELECT 1', undefined, null)).status).toBe(401);
    expect((await shared.client.post('/write/flush', '')).status).toBe(401);
    const health = await shared.client.get('/health');
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: 'healthy', service: 'arc', components: { server: { status: 'ok' }, storage: { status: 'ok' }, ingest: { status: 'ok', decoders: 2, writers: 2 } } });
    const ready = await shared.client.get('/ready');
    expect(ready.json()).toMatchObject({ status: 'ready', decoders: 2, writers: 2 });
  });
  it('404 with a JSON body for unknown routes', async () => {
    const answer = await shared.client.get('/nope');
    expect(answer.status).toBe(404);
    expect((answer.json() as { error: unknown }).error).toBe('Not found: GET /nope');
  });
});

interface WriteFormsCase {
  readonly headers: Record<string, string>;
  readonly path?: string;
}

describe('query errors', () => {
  it('400 for bad SQL, non-read statements, missing sql and unknown format', async () => {
    const syntax = await shared.client.query('SELEC 1');
    expect(syntax.status).toBe(400);
    expect(syntax.json()).toMatchObject({ success: false, code: 'ARC_SQL_ERROR' });
    for (const sql of ['INSERT INTO x VALUES (1)', "COPY (SELECT 1) TO '/tmp/x.csv'", 'CREATE TABLE t (a INT)', 'SELECT 1; SELECT 2']) {
      const answer = await shared.client.query(sql);
      expect(answer.status, sql).toBe(400);
      expect((answer.json() as { success: unknown }).success).toBe(false);
    }
    const missing = await shared.client.post('/query', JSON.stringify({ format: 'json' }), { ...shared.client.authHeaders(), 'Content-Type': 'application/json' });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ success: false, error: 'Missing "sql" in the request body' });
    const format = await shared.client.post('/query', JSON.stringify({ sql: 'SELECT 1', format: 'xml' }), shared.client.authHeaders());
    expect(format.status).toBe(400);
    expect((format.json() as { error: unknown }).error).toMatch(/Unsupported format "xml"/);
  });
});

describe('robustness', () => {
  it('answers 204 or 4xx to random bytes and random documents, and stays up', async () => {
    const bodies = fc.sample(
      fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.jsonValue().map((value) => msgpack(value)),
        fc.record({ m: fc.string(), t: fc.integer(), fields: fc.dictionary(fc.string(), fc.jsonValue()) }).map((row) => msgpack(row)),
      ),
      { numRuns: 300, seed: 42 },
    );
    for (const body of bodies) {
      const answer = await shared.client.write(body, { database: 'fuzz' });
      expect([204, 400, 413]).toContain(answer.status);
      if (answer.status !== 204) expect((answer.json() as { error: unknown }).error).toBeTypeOf('string');
    }
    expect((await shared.client.get('/health')).status).toBe(200);
  });

  it('survives a client that aborts mid-body, counts the abort, then serves the next request', async () => {
    const abortedBefore = await abortedWrites();
    const url = new URL(shared.arc.url);
    await new Promise<void>((resolve) => {
      const partial = request({ host: url.hostname, port: url.port, path: '/write/v2/msgpack', method: 'POST', headers: { 'Content-Length': '100000', Authorization: `Bearer ${TEST_TOKEN}` } });
      partial.on('error', () => resolve());
      // No wait before closing: TCP delivers the head and these bytes before the close, so the
      // server sees a request that ends mid-body, whatever the timing.
      partial.write(Buffer.alloc(1000), () => {
        partial.destroy();
        resolve();
      });
    });
    await pollUntil('the server counting the aborted write', ABORT_DEADLINE_MS, abortedWrites, (count) => count === abortedBefore + 1);
    expect((await shared.client.write(msgpack({ m: 'after_abort', t: 1, fields: { v: 1 } }))).status).toBe(204);
    expect(await abortedWrites()).toBe(abortedBefore + 1);
  });
});
