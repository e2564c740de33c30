// Proves JSON ingestion through the real server: every shape lands as Parquet and reads back by
// SQL, a bad item rejects the whole request with a 400 naming the item and key, and the write
// stats count exactly those requests.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const headers = (database: string): Record<string, string> => ({ ...shared.client.authHeaders(), 'Content-Type': 'application/json', 'x-arc-database': database });

describe('JSON writes', () => {
  it('lands rows, arrays, batches and columnar objects on both paths, gzip too', async () => {
    const bodies = [
      { measurement: 'events', time: '2025-10-16T16:00:00Z', tags: { host: 'a' }, fields: { v: 1.5, ok: true } },
      [{ m: 'events', t: 1_760_630_401_000, h: 'b', fields: { v: 2.5 } }],
      { batch: [{ m: 'events', timestamp: 1_760_630_402, tags: { host: 'c' }, fields: { note: 'n' } }] },
      { m: 'events', columns: { time: ['2025-10-16T16:00:03Z'], host: ['d'], v: [4.5] } },
    ];
    for (const [index, value] of bodies.entries()) {
      const path = index % 2 === 0 ? '/write/json' : '/api/v1/write/json';
      expect((await shared.client.post(path, JSON.stringify(value), headers('json1'))).status).toBe(204);
    }
    const zipped = gzipSync(JSON.stringify({ m: 'events', t: 1_760_630_404_000, h: 'e', fields: { v: 5.5 } }));
    expect((await shared.client.post('/write/json', zipped, headers('json1'))).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT host, v, ok, note FROM events ORDER BY time', 'json1')).toEqual([
      ['a', 1.5, true, null],
      ['b', 2.5, null, null],
      ['c', null, null, 'n'],
      ['d', 4.5, null, null],
      ['e', 5.5, null, null],
    ]);
    expect(await shared.client.rows('SELECT min(time), max(time) FROM events', 'json1')).toEqual([['2025-10-16T16:00:00Z', '2025-10-16T16:00:04Z']]);
  });

  it('rejects a bad item whole, naming it', async () => {
    const body = JSON.stringify([{ m: 'rejected', fields: { v: 1 } }, { m: 'rejected', fields: { v: { nested: true } } }]);
    const answer = await shared.client.post('/write/json', body, headers('json2'));
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ code: 'ARC_BAD_FIELD_VALUE', item: 1, column: 'v' });
    const invalid = await shared.client.post('/write/json', '{"m":', headers('json2'));
    expect(invalid.status).toBe(400);
    expect((invalid.json() as { error: unknown }).error).toMatch(/^Invalid JSON payload/);
    await shared.client.flush();
    expect((await shared.client.query('SELECT count(*) FROM rejected', 'json2')).status).toBe(400);
  });
});

describe('write stats and health', () => {
  it('counts what the JSON tests above sent, by format and error code', async () => {
    const stats = await shared.client.get('/write/stats', shared.client.authHeaders());
    expect(stats.status).toBe(200);
    const body = stats.json() as { by_format: Record<string, { accepted: number; rejected: number; rows: number }>; errors_by_code: Record<string, number>; buffers: { rows_flushed: number } };
    expect(body.by_format.json).toMatchObject({ accepted: 5, rejected: 2, rows: 5 });
    expect(body.by_format.msgpack).toMatchObject({ accepted: 0, rejected: 0 });
    expect(body.errors_by_code).toEqual({ ARC_BAD_FIELD_VALUE: 1, ARC_JSON_INVALID: 1 });
    expect(body.buffers.rows_flushed).toBe(5);
    const health = await shared.client.get('/write/health', shared.client.authHeaders());
    expect(health.status).toBe(200);
    expect(health.json()).toMatchObject({ status: 'healthy', reasons: [] });
    const spec = await shared.client.get('/write/v2/msgpack/spec', shared.client.authHeaders());
    expect(spec.json()).toMatchObject({ format: 'msgpack', endpoints: ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'] });
    expect((await shared.client.get('/write/v2/msgpack/stats', shared.client.authHeaders())).json()).toMatchObject({ format: 'msgpack', requests: 0 });
    expect((await shared.client.get('/write/stats')).status).toBe(401);
  });
});
