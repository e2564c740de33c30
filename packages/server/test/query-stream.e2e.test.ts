// Proves POST /query/stream: CSV and NDJSON answers streamed in chunks with the same values as the
// whole answers, no row cap, errors before the first byte as JSON, a client that goes away
// interrupting the query, and, the point of it, a 10M-row answer streamed to a slow reader while
// the server's resident memory stays flat (uWS back-pressure holds DuckDB back).
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { msgpack } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_QUERY_MAX_ROWS: '50000' });

const DATABASE = 'stream_db';
const ROWS = 5000;
const T0 = Date.UTC(2025, 9, 16, 16, 0, 0);
const BIG_ROWS = 10_000_000;
const BYTES_PER_MB = 1024 * 1024;
/** The slow reader pauses this long after each MB, so the socket really fills up. */
const READER_PAUSE_MS = 4;

/** A query thread takes a query and DuckDB stops an interrupted one within milliseconds; the bound is for a loaded machine. */
const POOL_DEADLINE_MS = 10_000;

interface PoolMetrics {
  running: number;
  cancelling: number;
  completed: number;
  aborted: number;
}

async function poolMetrics(): Promise<PoolMetrics> {
  const answer = await shared.client.get('/metrics/query-pool', shared.client.authHeaders());
  expect(answer.status).toBe(200);
  return answer.json() as PoolMetrics;
}

function streamRequest(body: unknown, onResponse: (response: IncomingMessage) => void): ReturnType<typeof request> {
  const outgoing = request(`${shared.arc.url}/query/stream`, {
    method: 'POST',
    headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json', 'x-arc-database': DATABASE },
  }, onResponse);
  outgoing.end(JSON.stringify(body));
  return outgoing;
}

async function stream(body: unknown): Promise<{ status: number; headers: IncomingMessage['headers']; text: string }> {
  return new Promise((resolve, reject) => {
    streamRequest(body, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${String(pid)}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(match?.[1] ?? 0) / 1024;
}

beforeAll(async () => {
  const time = Array.from({ length: ROWS }, (_, index) => T0 + index * 1000);
  const body = msgpack({ m: 'cpu', columns: { time, host: time.map((_, index) => `h"${String(index % 3)},x`), value: time.map((_, index) => index / 4) } });
  expect((await shared.client.write(body, { database: DATABASE })).status).toBe(204);
  expect((await shared.client.flush()).status).toBe(200);
});

describe('POST /query/stream', () => {
  it('streams CSV identical to the whole CSV answer, chunked', async () => {
    const sql = 'SELECT * FROM cpu ORDER BY time';
    const streamed = await stream({ sql });
    expect(streamed.status).toBe(200);
    expect(streamed.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(streamed.headers['transfer-encoding']).toBe('chunked');
    const whole = await shared.client.post('/query', JSON.stringify({ sql, format: 'csv' }), {
      ...shared.client.authHeaders(),
      'x-arc-database': DATABASE,
    });
    expect(streamed.text).toBe(whole.text);
    expect(streamed.text.split('\r\n')).toHaveLength(ROWS + 2);
  });

  it('streams NDJSON, one object per row, with the JSON answer\'s values', async () => {
    const streamed = await stream({ sql: 'SELECT time, host, value FROM cpu ORDER BY time LIMIT 3', format: 'ndjson' });
    expect(streamed.headers['content-type']).toBe('application/x-ndjson');
    const lines = streamed.text.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines.slice(0, -1).map((line) => JSON.parse(line) as unknown)).toEqual([
      { time: '2025-10-16T16:00:00Z', host: 'h"0,x', value: 0 },
      { time: '2025-10-16T16:00:01Z', host: 'h"1,x', value: 0.25 },
      { time: '2025-10-16T16:00:02Z', host: 'h"2,x', value: 0.5 },
    ]);
  });

  it('has no row cap, honours limit, and answers an empty result with just the header', async () => {
    const capped = await stream({ sql: 'SELECT * FROM range(60000)', format: 'ndjson' });
    expect(capped.text.split('\n')).toHaveLength(60001);
    const limited = await stream({ sql: 'SELECT * FROM range(60000) t(i)', format: 'csv', limit: 2 });
    expect(limited.text).toBe('i\r\n0\r\n1\r\n');
    const empty = await stream({ sql: 'SELECT * FROM cpu WHERE false' });
    expect(empty.status).toBe(200);
    expect(empty.text).toBe('time,host,value\r\n');
  });

  it('answers errors before the first row as JSON', async () => {
    const badFormat = await stream({ sql: 'SELECT 1', format: 'json' });
    expect(badFormat.status).toBe(400);
    expect(JSON.parse(badFormat.text)).toMatchObject({ success: false, code: 'ARC_QUERY_BAD_FORMAT' });
    const forbidden = await stream({ sql: "SELECT * FROM read_csv('/etc/passwd')" });
    expect(forbidden.status).toBe(400);
    expect(JSON.parse(forbidden.text)).toMatchObject({ code: 'ARC_SQL_FORBIDDEN' });
    expect((await stream({})).status).toBe(400);
  });

  it('interrupts the query when the client goes away, freeing the worker', async () => {
    await new Promise<void>((resolve, reject) => {
      const outgoing = streamRequest({ sql: 'SELECT * FROM range(1000000000000)' }, (response) => {
        response.once('data', () => {
          outgoing.destroy();
          resolve();
        });
      });
      outgoing.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    });
    // One query thread: this answers only once the abandoned query has stopped.
    const next = await shared.client.rows('SELECT 7', DATABASE);
    expect(next).toEqual([[7]]);
  });

  it('interrupts a whole-answer query (POST /query) when its client goes away', async () => {
    const before = await poolMetrics();
    const outgoing = request(`${shared.arc.url}/query`, {
      method: 'POST',
      headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json' },
    });
    outgoing.on('error', () => undefined);
    outgoing.end(JSON.stringify({ sql: 'SELECT count(*) FROM range(1000000000000)' }));
    // The client leaves once DuckDB runs the query, not before: only then is there something to interrupt.
    await pollUntil('the query running', POOL_DEADLINE_MS, poolMetrics, (metrics) => metrics.running === 1);
    outgoing.destroy();
    const after = await pollUntil('the abandoned query handed back', POOL_DEADLINE_MS, poolMetrics, (metrics) => metrics.completed === before.completed + 1);
    expect(after.value).toMatchObject({ running: 0, cancelling: 0, aborted: before.aborted + 1 });
    // One query thread and a 300 s timeout: this answers (within the test's 5 s) only because
    // the abandoned query was interrupted.
    expect(await shared.client.rows('SELECT 8', DATABASE)).toEqual([[8]]);
  });

  it(`streams ${String(BIG_ROWS)} rows to a slow reader with flat server memory`, { timeout: 180_000 }, async () => {
    const pid = shared.arc.child.pid;
    if (pid === undefined) throw new Error('no server pid');
    const baseline = residentMb(pid);
    let bytes = 0;
    const samples: number[] = [];
    // Bytes received at each sample: warm-up is measured in answer bytes, not in seconds.
    const sampledAtBytes: number[] = [];
    const sampler = setInterval(() => {
      samples.push(residentMb(pid));
      sampledAtBytes.push(bytes);
    }, 100);
    let newlines = 0;
    try {
      await new Promise<void>((resolve, reject) => {
        streamRequest({ sql: `SELECT i, i * 2 AS double_i, 'text-' || (i % 1000) AS label FROM range(${String(BIG_ROWS)}) t(i)` }, (response) => {
          let sinceLastPause = 0;
          response.on('data', (chunk: Buffer) => {
            bytes += chunk.byteLength;
            for (let index = chunk.indexOf(0x0a); index !== -1; index = chunk.indexOf(0x0a, index + 1)) newlines += 1;
            sinceLastPause += chunk.byteLength;
            if (sinceLastPause >= BYTES_PER_MB) {
              sinceLastPause = 0;
              response.pause();
              // The pause is the case (a slow reader, so the server's socket fills), not a wait for an event.
              setTimeout(() => response.resume(), READER_PAUSE_MS);
            }
          });
          response.on('end', resolve);
          response.on('error', reject);
        }).on('error', reject);
      });
    } finally {
      clearInterval(sampler);
    }
    expect(newlines).toBe(BIG_ROWS + 1);
    const answerMb = bytes / BYTES_PER_MB;
    const peakGrowthMb = Math.max(...samples) - baseline;
    // Warm-up ends within the first half of the answer; the last quarter must not grow past it.
    const early = Math.max(...samples.filter((_, index) => (sampledAtBytes[index] ?? 0) < bytes / 2));
    const late = Math.max(...samples.filter((_, index) => (sampledAtBytes[index] ?? 0) >= (bytes * 3) / 4));
    // The answer is ~240 MB. The server holds a few pieces of it at a time: after a warm-up
    // (heaps, DuckDB's buffers, sent pieces awaiting GC; ~130 MB measured on a loaded machine)
    // memory stays flat however much more is streamed.
    const trace = `RSS baseline ${baseline.toFixed(0)} MB, samples ${samples.map((mb) => mb.toFixed(0)).join(' ')}`;
    expect(answerMb).toBeGreaterThan(200);
    expect(peakGrowthMb, trace).toBeLessThan(answerMb * 0.7);
    expect(late - early, `RSS grows while streaming: ${trace}`).toBeLessThan(40);
  });
});
