// Proves back-pressure by waiting on a real server: 16 keep-alive connections posting columnar
// msgpack back to back into write buffers far too small for them get only 204s (writes wait for
// rings and flushes instead of being refused), and 64 connections against a 1 MiB in-flight bound
// get only 204 or 503 with Retry-After; in both, the rows read back after a flush equal the rows
// of the 204s per connection, and in the second the server's resident memory stays bounded.
import { Agent } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { AUTH_HEADER, NoAnswer, exchange, pidOf, processFigures } from './faults/support/fault-kit.js';

const LOAD_MS = 4000;
const ROWS_PER_REQUEST = 2000;
const DATABASE = 'pressure';
const T0_MS = Date.UTC(2026, 0, 1);
/**
 * Write buffers of 2 MiB per writer that flush only when full (or after 1 s): 16 connections
 * fill them many times a second, so writes keep meeting full buffers and must wait for flushes.
 */
const SMALL_BUFFERS_ENV = {
  ARC_WRITER_BUFFER_MAX_MB: '4',
  ARC_WRITER_FLUSH_BYTES_MB: '4',
  ARC_WRITER_FLUSH_ROWS: '100000000',
  ARC_WRITER_FLUSH_AGE_MS: '1000',
  ARC_WRITER_THREADS: '2',
};
/**
 * Resident memory the 64-connection load may add over the idle server: write buffers (4 MiB),
 * rings (2 x 8 MiB), at most 1 MiB of bodies held, Parquet encoding and DuckDB at flush. A
 * server that held every request would grow with the load instead.
 */
const RSS_GROWTH_MB_MAX = 400;
/** How often the server's RSS is read during the load: a sample of a level, not a wait for an event. */
const RSS_SAMPLE_MS = 100;

interface Tally {
  readonly acknowledged: Map<string, number>;
  readonly statuses: Record<string, number>;
  readonly problems: string[];
}

/** One connection's body: ROWS_PER_REQUEST rows tagged with the connection. */
function bodyOf(connection: number): Uint8Array {
  const rows = Array.from({ length: ROWS_PER_REQUEST }, (_, index) => index);
  const conn = `c${String(connection)}`;
  return msgpack({ m: 'bp', columns: { time: rows.map((row) => T0_MS + row), conn: rows.map(() => conn), v: rows.map((row) => row * 1.5) } });
}

/** One closed-loop connection: posts its body back to back until `endAt`, counting what each answer says. */
async function hammer(url: string, agent: Agent, connection: number, endAt: number, tally: Tally): Promise<void> {
  const body = bodyOf(connection);
  const key = `c${String(connection)}`;
  const headers = { ...AUTH_HEADER, 'x-arc-database': DATABASE };
  while (Date.now() < endAt) {
    try {
      const answer = await exchange(url, { path: '/write/v2/msgpack', headers, body, agent });
      tally.statuses[String(answer.status)] = (tally.statuses[String(answer.status)] ?? 0) + 1;
      if (answer.status === 204) tally.acknowledged.set(key, (tally.acknowledged.get(key) ?? 0) + ROWS_PER_REQUEST);
      else if (answer.status !== 503) tally.problems.push(`${String(answer.status)} ${answer.text().slice(0, 200)}`);
      else if (answer.headers['retry-after'] === undefined) tally.problems.push('503 without Retry-After');
    } catch (error) {
      if (!(error instanceof NoAnswer)) throw error;
      // An unknown outcome breaks the exact count below: a finding, not noise.
      tally.problems.push(error.message);
    }
  }
}

async function load(arc: ArcProcess, connections: number): Promise<Tally> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const tally: Tally = { acknowledged: new Map(), statuses: {}, problems: [] };
  const endAt = Date.now() + LOAD_MS;
  try {
    await Promise.all(Array.from({ length: connections }, (_, connection) => hammer(arc.url, agent, connection, endAt, tally)));
  } finally {
    agent.destroy();
  }
  return tally;
}

/** Rows per connection tag, read back after a flush. */
async function rowsByConnection(client: ArcClient): Promise<Record<string, number>> {
  expect((await client.flush()).status).toBe(200);
  const rows = await client.rows('SELECT conn, count(*) FROM bp GROUP BY conn', DATABASE);
  return Object.fromEntries(rows.map(([conn, count]) => [String(conn), Number(count)]));
}

/** The value of one Prometheus sample line of GET /metrics (0 when absent). */
async function metric(client: ArcClient, series: string): Promise<number> {
  const text = (await client.get('/metrics', client.authHeaders())).text;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

const started: ArcProcess[] = [];
afterEach(async () => {
  for (const arc of started.splice(0)) await expectCleanStopAndRemove(arc);
});

describe('back-pressure by waiting', () => {
  it('16 closed-loop connections into full buffers get no 503: writes wait, and every acknowledged row is there', async () => {
    // A wait far past what a flush takes: this case is about never refusing, not about the deadline.
    const arc = await startArc({ ...SMALL_BUFFERS_ENV, ARC_INGEST_WAIT_MAX_MS: '30000' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    const tally = await load(arc, 16);
    expect(tally.problems, tally.problems.slice(0, 5).join('\n')).toEqual([]);
    expect(tally.statuses).toEqual({ 204: expect.any(Number) as number });
    expect(await rowsByConnection(client)).toEqual(Object.fromEntries(tally.acknowledged));
    // Writes did wait (else the buffers never filled and this proved nothing), and none waits now.
    expect(await metric(client, 'arc_ingest_waits_total{outcome="handed_over"}')).toBeGreaterThan(0);
    expect(await metric(client, 'arc_ingest_writes_waiting')).toBe(0);
    expect(await metric(client, 'arc_ingest_write_bytes_held')).toBe(0);
  });

  it('64 connections past a tiny in-flight bound get only 204 or 503 with Retry-After, lose nothing, and stay within memory', async () => {
    const arc = await startArc({ ...SMALL_BUFFERS_ENV, ARC_INGEST_IN_FLIGHT_MAX_MB: '1' });
    started.push(arc);
    const client = new ArcClient(arc.url);
    const pid = pidOf(arc);
    const baseline = processFigures(pid);
    let peakRssMb = baseline.rssMb;
    // A measurement over time: RSS has no event, so it is sampled while the load runs.
    const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, processFigures(pid).rssMb)), RSS_SAMPLE_MS);
    let tally: Tally;
    try {
      tally = await load(arc, 64);
    } finally {
      clearInterval(sampler);
    }
    expect(tally.problems, tally.problems.slice(0, 5).join('\n')).toEqual([]);
    expect(Object.keys(tally.statuses).sort()).toEqual(['204', '503']);
    expect(await rowsByConnection(client)).toEqual(Object.fromEntries(tally.acknowledged));
    expect(await metric(client, 'arc_ingest_rejects_total{reason="in_flight_full"}')).toBeGreaterThan(0);
    expect(peakRssMb - baseline.rssMb).toBeLessThan(RSS_GROWTH_MB_MAX);
    // The overload is over: a write now is acknowledged at once.
    expect((await client.write(msgpack({ m: 'after', t: T0_MS, fields: { v: 1 } }), { database: DATABASE })).status).toBe(204);
  });
});
