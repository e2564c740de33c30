// Proves that slow and vanishing clients cost the server nothing lasting: rounds of clients that
// abort mid-head, mid-body, mid-query, mid-stream and mid-answer, stall a stream, or connect and
// say nothing; afterwards the server's open descriptors and resident memory (from /proc) come back
// near their baseline within a deadline, and it answers at once. Also: a stalled upload gets 408
// (not a bare close), and uploads trickling one byte at a time get an answer (204 or 408) while
// other clients are served without delay.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { msgpack } from '../support/arc-client.js';
import { TEST_TOKEN } from '../support/arc-process.js';
import { AUTH_HEADER, NoAnswer, exchange, expectAlive, pidOf, pollUntil, printFigures, processFigures, rawExchange, useFaultArc, type Exchange, type ProcessFigures } from './support/fault-kit.js';
import { utf8 } from './support/mutations.js';

const DATABASE = 'slow';
const ROUNDS = Number(process.env.ARC_FAULT_SLOW_ROUNDS ?? '6');
const CLIENTS_PER_KIND = 8;
/** Descriptors the server may hold above its baseline once every client is gone (a log rotation, a cached file). */
const FDS_SLACK = 4;
/** Resident memory above the baseline tolerated once every client is gone (allocator and heap noise). */
const RSS_SLACK_MB = 64;
const RECOVERY_DEADLINE_MS = 30_000;
/** A stalled or trickling upload must be answered within this long (the server's idle limit plus margin). */
const SLOW_UPLOAD_ANSWER_MS = 30_000;
const fault = useFaultArc({ ARC_QUERY_THREADS: '2' });

const HEAD_LINES = [`Host: 127.0.0.1`, `Authorization: Bearer ${TEST_TOKEN}`, `x-arc-database: ${DATABASE}`];

function request(method: string, path: string, headers: string[], body: string): string {
  return [`${method} ${path} HTTP/1.1`, ...HEAD_LINES, ...headers, '', body].join('\r\n');
}

/** A request head without its final blank line, for rawExchange. */
function headOnly(method: string, path: string, headers: string[]): string {
  return [`${method} ${path} HTTP/1.1`, ...HEAD_LINES, ...headers].join('\r\n');
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.on('error', reject);
  });
}

/** Writes `bytes`, waits for `until` (or 2 s), then resets the connection. */
async function sendThenVanish(url: string, bytes: string, until: (socket: Socket) => Promise<void> = () => Promise.resolve()): Promise<void> {
  const socket = await open(url);
  socket.removeAllListeners('error');
  socket.on('error', () => undefined);
  socket.write(bytes);
  // A bound, not an ordering: a client whose event never comes vanishes anyway after 2 s.
  await Promise.race([until(socket), new Promise((resolve) => setTimeout(resolve, 2000))]);
  socket.resetAndDestroy();
}

const firstData = (socket: Socket): Promise<void> => new Promise((resolve) => socket.once('data', () => resolve()));
/** A client that vanishes at a chosen moment of the exchange: the delay is the case being tested. */
const after = (milliseconds: number) => (): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));
/** Reads the first bytes of the answer, then stops reading so the server's socket buffer fills. */
const stallAfterFirstData = (socket: Socket): Promise<void> =>
  new Promise((resolve) => {
    socket.once('data', () => {
      socket.pause();
      // The stall is the case: the server must live with a reader that stopped for a while.
      setTimeout(resolve, 1000);
    });
  });

const json = ['Content-Type: application/json'];
const KINDS: readonly { readonly name: string; readonly run: (url: string) => Promise<void> }[] = [
  { name: 'mid-head', run: (url) => sendThenVanish(url, `POST /write/v2/msgpack HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthori`, after(50)) },
  { name: 'mid-body-msgpack', run: (url) => sendThenVanish(url, request('POST', '/write/v2/msgpack', ['Content-Length: 100000'], 'x'.repeat(5000)), after(50)) },
  { name: 'mid-body-lp', run: (url) => sendThenVanish(url, request('POST', `/write?db=${DATABASE}`, ['Content-Length: 100000'], 'slow v=1i\n'.repeat(500)), after(50)) },
  { name: 'mid-body-query', run: (url) => sendThenVanish(url, request('POST', '/query', [...json, 'Content-Length: 5000'], '{"sql": "SELECT'), after(50)) },
  {
    name: 'mid-query',
    run: (url) => {
      const body = JSON.stringify({ sql: 'SELECT count(*) FROM range(10000000000)' });
      return sendThenVanish(url, request('POST', '/query', [...json, `Content-Length: ${String(body.length)}`], body), after(200));
    },
  },
  {
    name: 'mid-stream',
    run: (url) => {
      const body = JSON.stringify({ sql: 'SELECT i, i * 2 AS d FROM range(100000000) t(i)' });
      return sendThenVanish(url, request('POST', '/query/stream', [...json, `Content-Length: ${String(body.length)}`], body), firstData);
    },
  },
  {
    name: 'stalled-stream',
    run: (url) => {
      const body = JSON.stringify({ sql: "SELECT i, 'padding-' || i AS p FROM range(100000000) t(i)", format: 'ndjson' });
      return sendThenVanish(url, request('POST', '/query/stream', [...json, `Content-Length: ${String(body.length)}`], body), stallAfterFirstData);
    },
  },
  {
    name: 'mid-answer',
    run: (url) => {
      const body = JSON.stringify({ sql: 'SELECT i FROM range(400000) t(i)', format: 'csv' });
      return sendThenVanish(url, request('POST', '/query', [...json, `Content-Length: ${String(body.length)}`], body), firstData);
    },
  },
  { name: 'idle-connection', run: (url) => sendThenVanish(url, '', after(100)) },
];

/** One round: every kind of vanishing client, CLIENTS_PER_KIND of each at once. */
async function round(url: string): Promise<void> {
  await Promise.all(KINDS.flatMap((kind) => Array.from({ length: CLIENTS_PER_KIND }, () => kind.run(url))));
}

/** The figures once the descriptor count holds still for half a second (the warm-up's clients are gone). */
async function settledFigures(pid: number): Promise<ProcessFigures> {
  let previous = processFigures(pid);
  const { value } = await pollUntil('descriptors settle after the warm-up', RECOVERY_DEADLINE_MS, async () => {
    // "Holds still for half a second" is the condition itself: a window between two readings.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = processFigures(pid);
    const settled = now.fds === previous.fds;
    previous = now;
    return { now, settled };
  }, (sample) => sample.settled);
  return value.now;
}

async function writeAndQuery(): Promise<{ writeMs: number; queryMs: number }> {
  const headers = { ...AUTH_HEADER, 'x-arc-database': DATABASE };
  const write = await exchange(fault.arc.url, { path: '/write/v2/msgpack', headers, body: msgpack({ m: 'alive', t: Date.now(), fields: { v: 1 } }) });
  expect(write.status).toBe(204);
  const query = await exchange(fault.arc.url, { path: '/query', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT 42' }) });
  expect(query.status).toBe(200);
  return { writeMs: write.ms, queryMs: query.ms };
}

describe('slow and aborted clients', () => {
  it('leave no descriptor or memory behind after rounds of clients that vanish mid-request', { timeout: 300_000 }, async () => {
    const { arc } = fault;
    const pid = pidOf(arc);
    // Warm-up: the first round grows heaps, DuckDB buffers and thread pools once and for all.
    await round(arc.url);
    const baseline = await settledFigures(pid);
    await writeAndQuery();
    let peak = baseline;
    const startedAt = Date.now();
    for (let index = 0; index < ROUNDS; index++) {
      await round(arc.url);
      const now = processFigures(pid);
      peak = { rssMb: Math.max(peak.rssMb, now.rssMb), fds: Math.max(peak.fds, now.fds) };
    }
    const roundsSeconds = Math.round((Date.now() - startedAt) / 1000);
    const recovered = await pollUntil(
      `descriptors within ${String(FDS_SLACK)} and RSS within ${String(RSS_SLACK_MB)} MB of the baseline ${JSON.stringify(baseline)}`,
      RECOVERY_DEADLINE_MS,
      () => processFigures(pid),
      (now) => now.fds <= baseline.fds + FDS_SLACK && now.rssMb <= baseline.rssMb + RSS_SLACK_MB,
    ).catch((error: unknown) => error as Error);
    const timings = await writeAndQuery();
    printFigures('slow-clients', {
      rounds: ROUNDS,
      clients: ROUNDS * KINDS.length * CLIENTS_PER_KIND,
      kinds: KINDS.map((kind) => kind.name),
      seconds: roundsSeconds,
      baseline,
      peak,
      after: recovered instanceof Error ? processFigures(pid) : recovered.value,
      recovered_in_ms: recovered instanceof Error ? null : recovered.ms,
      write_after_ms: timings.writeMs,
      query_after_ms: timings.queryMs,
    });
    if (recovered instanceof Error) throw recovered;
    await expectAlive(arc);
  });

  it('answers an upload that stalls mid-body with 408, not a bare close', { timeout: 60_000 }, async () => {
    const startedAt = Date.now();
    let answer: Exchange | NoAnswer;
    try {
      answer = await rawExchange(fault.arc.url, headOnly('POST', `/write?db=${DATABASE}`, ['Content-Length: 1000']), utf8('stalled v=1i\n'), SLOW_UPLOAD_ANSWER_MS);
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      answer = error;
    }
    printFigures('stalled-upload', { answer: answer instanceof NoAnswer ? answer.message : answer.status, ms: Date.now() - startedAt });
    expect(answer instanceof NoAnswer ? answer.message : answer.status).toBe(408);
    await expectAlive(fault.arc);
  });

  it('answers uploads trickling a byte every 500 ms (204 or 408) while serving other clients within 2 s', { timeout: 120_000 }, async () => {
    const body = utf8('trickle,c=x v=1i\ntrickle,c=y v=2i\n');
    const head = headOnly('POST', `/write?db=${DATABASE}`, [`Content-Length: ${String(body.byteLength)}`]);
    const outcomes = Array.from({ length: 32 }, () =>
      rawExchange(fault.arc.url, head, body, SLOW_UPLOAD_ANSWER_MS, 500).then(
        (answer) => answer.status,
        (error: unknown) => (error instanceof NoAnswer ? `${error.reason} after ${String(Math.round(error.ms / 1000))} s` : String(error)),
      ),
    );
    let slowestMs = 0;
    // An object, not a local: the finally callback sets it while the loop awaits.
    const uploads = { settled: false };
    const all = Promise.all(outcomes).finally(() => (uploads.settled = true));
    while (!uploads.settled) {
      const { writeMs, queryMs } = await writeAndQuery();
      slowestMs = Math.max(slowestMs, writeMs, queryMs);
      // Probe interval while the uploads trickle: this loop measures the other client's latency.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const statuses = await all;
    const counted: Record<string, number> = {};
    for (const status of statuses) counted[String(status)] = (counted[String(status)] ?? 0) + 1;
    printFigures('trickling-uploads', { uploads: statuses.length, outcomes: counted, others_slowest_ms: slowestMs });
    expect(slowestMs).toBeLessThan(2000);
    for (const status of statuses) expect([204, 408]).toContain(status);
    await expectAlive(fault.arc);
  });
});
