// Proves the server's lifecycle promises: SIGTERM flushes every buffered row and exits 0, a
// restart reads what was written before, and full write buffers answer 503 + Retry-After
// without losing or half-writing anything.
import { afterEach, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';

const started: ArcProcess[] = [];
afterEach(async () => {
  for (const arc of started.splice(0)) {
    await arc.stop();
    await arc.cleanup();
  }
});

describe('lifecycle', () => {
  it('flushes every buffer on SIGTERM, exits 0, and serves the rows after a restart', async () => {
    const first = await startArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
    const client = new ArcClient(first.url);
    const rows = Array.from({ length: 1000 }, (_, index) => ({ m: 'durable', t: 1_700_000_000_000 + index, h: `h${index % 7}`, fields: { v: index } }));
    expect((await client.write(msgpack(rows))).status).toBe(204);
    expect((await client.write(msgpack({ m: 'other', t: 1, fields: { ok: true } }), { database: 'second' })).status).toBe(204);
    expect(await first.stop()).toBe(0);
    expect(first.output()).toMatch(/stopped; every buffer flushed/);
    const second = await startArc({}, first.dataDir);
    started.push(second);
    const again = new ArcClient(second.url);
    expect(await again.rows('SELECT count(*), sum(v) FROM durable')).toEqual([[1000, 499500]]);
    expect(await again.rows('SELECT ok FROM other', 'second')).toEqual([[true]]);
    // The bootstrap token is printed on the first start only.
    expect(second.output()).not.toMatch(/bootstrap admin token/);
  });

  it('answers 503 with Retry-After when write buffers are full, and keeps what it acknowledged', async () => {
    const arc = await startArc({ ARC_WRITER_BUFFER_MAX_MB: '1', ARC_WRITER_FLUSH_BYTES_MB: '1', ARC_WRITER_FLUSH_ROWS: '100000000', ARC_WRITER_FLUSH_AGE_MS: '600000' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    let acknowledged = 0;
    let refused = 0;
    for (let request = 0; request < 40 && refused === 0; request++) {
      const values = Array.from({ length: 5000 }, (_, index) => request * 5000 + index);
      const answer = await client.write(msgpack({ m: 'pressure', columns: { time: values.map((v) => 1_700_000_000_000 + v), s: values.map((v) => `value-${v}`) } }));
      if (answer.status === 204) acknowledged += 5000;
      else {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(answer.json().code).toBe('ARC_BUFFERS_FULL');
        refused++;
      }
    }
    expect(refused).toBe(1);
    expect((await client.flush()).status).toBe(200);
    expect(await client.rows('SELECT count(*) FROM pressure')).toEqual([[acknowledged]]);
  });
});
