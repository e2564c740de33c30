// Proves that a query cannot take the server's memory or keep its CPU after it is given up: values
// built past the bounded functions' limits (issue 11's `repeat('x', 2000000000)`, twice at once,
// and sizes read from a column) and aggregates past `query.memory_limit` are refused with a 400
// naming the cause, resident memory (from /proc) stays within a bound and the server keeps
// serving; a long query whose client goes away, or that runs past `query.timeout_seconds`, stops
// using the CPU within a second or two (the server's CPU time, from /proc, stops growing).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { msgpack } from '../support/arc-client.js';
import { AUTH_HEADER, exchange, expectAlive, pidOf, pollUntil, printFigures, processFigures, useFaultArc } from './support/fault-kit.js';

const DATABASE = 'bounds';
const MEMORY_LIMIT = '256MB';
const TIMEOUT_SECONDS = 3;
/** Resident memory growth tolerated for a refused query: far under the 4.6 GiB the issue saw. */
const RSS_GROWTH_MB_MAX = 400;
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;
/** A window over which an idle server uses (almost) no CPU: at most 10% of one core. */
const IDLE_WINDOW_MS = 500;
const IDLE_TICKS_MAX = 5;
/** From the client's abort (or the timeout) to an idle server. */
const STOP_DEADLINE_MS = 3000;
/** Runs for minutes if nothing stops it: 10^11 rows summed. */
const LONG_QUERY = 'SELECT sum(i) FROM range(100000000000) t(i)';

const fault = useFaultArc({ ARC_QUERY_MEMORY_LIMIT: MEMORY_LIMIT, ARC_QUERY_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS), ARC_QUERY_THREADS: '2' });

function query(sql: string, deadlineMs?: number): ReturnType<typeof exchange> {
  return exchange(fault.arc.url, {
    method: 'POST',
    path: '/api/v1/query',
    headers: { ...AUTH_HEADER, 'content-type': 'application/json', 'x-arc-database': DATABASE },
    body: JSON.stringify({ sql }),
    ...(deadlineMs === undefined ? {} : { deadlineMs }),
  });
}

/** The server's CPU time so far, in clock ticks (every thread: DuckDB's included). */
function cpuTicks(pid: number): number {
  // Fields after the command name (which may hold spaces) start at ") "; utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU ticks used over a window: a measurement over time, so the wait is the measurement itself. */
async function ticksOver(pid: number, windowMs: number): Promise<number> {
  const before = cpuTicks(pid);
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  return cpuTicks(pid) - before;
}

/** Waits until the server is busy (a query running), then until it is idle again; the ms the second took. */
async function msUntilIdle(pid: number, since: number): Promise<number> {
  await pollUntil('the server idle', STOP_DEADLINE_MS, () => ticksOver(pid, IDLE_WINDOW_MS), (ticks) => ticks <= IDLE_TICKS_MAX);
  return Date.now() - since;
}

/** Starts LONG_QUERY on a connection of its own and resolves once the server is busy with it. */
async function startLongQuery(pid: number): Promise<{ abort: () => void; answer: Promise<number> }> {
  const url = new URL(fault.arc.url);
  const body = JSON.stringify({ sql: LONG_QUERY });
  const outgoing = request({
    host: url.hostname,
    port: url.port,
    method: 'POST',
    path: '/api/v1/query',
    headers: { ...AUTH_HEADER, 'content-type': 'application/json', 'x-arc-database': DATABASE, 'content-length': Buffer.byteLength(body) },
  });
  const answer = new Promise<number>((resolve) => {
    outgoing.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', () => resolve(0));
  });
  outgoing.end(body);
  // Busy: at least half a core over a window (the query runs on DuckDB's threads).
  await pollUntil('the long query running', 10_000, () => ticksOver(pid, IDLE_WINDOW_MS), (ticks) => ticks >= (TICKS_PER_SECOND * IDLE_WINDOW_MS) / 2000);
  return { abort: () => outgoing.destroy(), answer };
}

describe('queries over the memory limit and given-up queries', () => {
  it('refuses values past the bounded functions, twice at once and from a column, with memory bounded', async () => {
    const write = await fault.client.write(msgpack({ m: 'sizes', columns: { time: [1_760_000_000_000], n: [2_000_000_000] } }), { database: DATABASE });
    expect(write.status).toBe(204);
    expect((await fault.client.flush()).status).toBe(200);
    const pid = pidOf(fault.arc);
    const before = processFigures(pid).rssMb;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, processFigures(pid).rssMb)), 50);
    const answers = await Promise.all([
      query(`SELECT length(repeat('x', 2000000000))`),
      query(`SELECT length(repeat('x', 2000000000))`),
      query('SELECT length(repeat(\'x\', n::BIGINT)) FROM sizes'),
      query('SELECT length(lpad(\'x\', n::INTEGER, \'y\')) FROM sizes'),
    ]);
    clearInterval(sampler);
    peak = Math.max(peak, processFigures(pid).rssMb);
    for (const answer of answers) {
      expect(answer.status, answer.text()).toBe(400);
      expect(JSON.parse(answer.text()), answer.text()).toMatchObject({ code: 'ARC_SQL_VALUE_TOO_LARGE' });
    }
    printFigures('query-values-too-large', { queries: answers.length, slowest_ms: Math.max(...answers.map((answer) => answer.ms)), rss_before_mb: before, rss_peak_mb: peak });
    expect(peak - before).toBeLessThan(RSS_GROWTH_MB_MAX);
    await expectAlive(fault.arc);
  }, 60_000);

  it('refuses aggregates past query.memory_limit with 400 ARC_QUERY_OUT_OF_MEMORY, with memory bounded', async () => {
    const pid = pidOf(fault.arc);
    const before = processFigures(pid).rssMb;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, processFigures(pid).rssMb)), 50);
    // 2 GB of text in one string, and 1.6 GB of integers in one list: both far past 256 MB.
    const answers = await Promise.all([query("SELECT length(string_agg(repeat('x', 1000), ',')) FROM range(2000000)", 60_000), query('SELECT len(list(i)) FROM range(200000000) t(i)', 60_000)]);
    clearInterval(sampler);
    peak = Math.max(peak, processFigures(pid).rssMb);
    for (const answer of answers) {
      expect(answer.status, answer.text()).toBe(400);
      expect(JSON.parse(answer.text())).toMatchObject({ code: 'ARC_QUERY_OUT_OF_MEMORY' });
    }
    printFigures('query-over-memory-limit', { memory_limit: MEMORY_LIMIT, queries: answers.length, slowest_ms: Math.max(...answers.map((answer) => answer.ms)), rss_before_mb: before, rss_peak_mb: peak });
    expect(peak - before).toBeLessThan(RSS_GROWTH_MB_MAX);
    await expectAlive(fault.arc);
  }, 120_000);

  it('stops a long query within seconds of its client going away', async () => {
    const pid = pidOf(fault.arc);
    const running = await startLongQuery(pid);
    const abortedAt = Date.now();
    running.abort();
    const ms = await msUntilIdle(pid, abortedAt);
    printFigures('query-client-gone', { idle_after_ms: ms });
    const after = await query('SELECT 1');
    expect(after.status).toBe(200);
  }, 60_000);

  it('stops a query at query.timeout_seconds with 504, and the server goes idle', async () => {
    const pid = pidOf(fault.arc);
    const startedAt = Date.now();
    const answer = await query(LONG_QUERY, (TIMEOUT_SECONDS + 10) * 1000);
    const answeredAt = Date.now();
    expect(answer.status, answer.text()).toBe(504);
    expect(JSON.parse(answer.text())).toMatchObject({ code: 'ARC_QUERY_TIMEOUT' });
    const ms = await msUntilIdle(pid, answeredAt);
    printFigures('query-timeout', { timeout_s: TIMEOUT_SECONDS, answered_after_ms: answeredAt - startedAt, idle_after_ms: ms });
    await expectAlive(fault.arc);
  }, 60_000);
});
