// Proves the durability promise under fire: a server with the WAL on (fdatasync) takes sustained
// writes from several connections and is killed with SIGKILL at random moments (during ingest,
// flushes, renames and recovery itself), over and over; at the end every acknowledged request's
// rows are there exactly once (count, distinct row keys and a checksum per request, in both
// measurements of the request), refused requests left nothing, and requests whose answer was cut
// by the kill are all there or not at all. Runs with ARC_CRASH_TESTS=1 (`make test-crash`).
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { msgpack } from './support/arc-client.js';
import { ArcClient } from './support/arc-client.js';
import { startArc, TEST_TOKEN, type ArcProcess } from './support/arc-process.js';

const ENABLED = process.env.ARC_CRASH_TESTS === '1';
const CYCLES = Number(process.env.ARC_CRASH_CYCLES ?? '22');
const CONNECTIONS = 4;
const ROWS_PER_REQUEST = 120;
/** Rows of one request span about two hours, so flushes write several files (renamed one by one). */
const ROW_SPACING_MS = 60_000;
const LOAD_MS_MIN = 150;
const LOAD_MS_MAX = 2500;
/** Every KILL_DURING_START_EVERY-th cycle kills the server while it starts (during recovery). */
const KILL_DURING_START_EVERY = 4;
const START_KILL_MS_MAX = 1500;
const TEST_TIMEOUT_MS = 15 * 60_000;
const ENV = {
  ARC_WAL_ENABLED: 'true',
  ARC_WAL_SYNC_MODE: 'fdatasync',
  ARC_WRITER_FLUSH_AGE_MS: '250',
  ARC_WRITER_FLUSH_ROWS: '3000',
  ARC_INGEST_DECODERS: '2',
  ARC_WRITER_THREADS: '2',
  // Segments of at most 1 MiB and 1 s: streams rotate within a cycle's load, into spares zeroed
  // ahead, and covered segments are deleted, so kills also land on rotations and deletions.
  ARC_WAL_MAX_SIZE_MB: '1',
  ARC_WAL_MAX_AGE_SECONDS: '1',
};

type Outcome = 'acknowledged' | 'refused' | 'unknown';

/** Deterministic values, so the expected checksum of a request is known without storing rows. */
function valueOf(request: string, row: number): number {
  let hash = 2166136261;
  for (let index = 0; index < request.length; index++) hash = Math.imul(hash ^ request.charCodeAt(index), 16777619);
  return ((hash >>> 0) % 100_000) + row * 7;
}

function checksumOf(request: string): number {
  let sum = 0;
  for (let row = 0; row < ROWS_PER_REQUEST; row++) sum += valueOf(request, row);
  return sum;
}

function requestBody(request: string, timeStartMs: number): Uint8Array {
  const rows = Array.from({ length: ROWS_PER_REQUEST }, (_, row) => row);
  const time = rows.map((row) => timeStartMs + row * ROW_SPACING_MS);
  const req = rows.map(() => request);
  const v = rows.map((row) => valueOf(request, row));
  return msgpack({ batch: [{ m: 'crash_a', tags: ['req'], columns: { time, req, i: rows, v } }, { m: 'crash_b', tags: ['req'], columns: { time, req, i: rows, w: v } }] });
}

const randomBetween = (low: number, high: number): number => low + Math.floor(Math.random() * (high - low));
/** The random moment of a kill: the delay is what the test varies, not a wait for an event. */
const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** One connection's loop: posts requests until `stopped`, recording each outcome. */
async function load(url: string, cycle: number, connection: number, outcomes: Map<string, Outcome>, stopped: () => boolean): Promise<void> {
  for (let sequence = 0; !stopped(); sequence++) {
    const request = `c${cycle}-k${connection}-n${sequence}`;
    outcomes.set(request, 'unknown');
    // Every request spans the same two to three hours (rows are told apart by `req`): flushes write
    // several files each, without one directory per request.
    const timeStartMs = Date.UTC(2024, 0, 1) + ((cycle * CONNECTIONS + connection) * 1000 + sequence) % 3_600_000;
    try {
      const response = await fetch(`${url}/write/v2/msgpack`, { method: 'POST', headers: { Authorization: `Bearer ${TEST_TOKEN}` }, body: requestBody(request, timeStartMs) });
      await response.arrayBuffer();
      if (response.status === 204) outcomes.set(request, 'acknowledged');
      else if (response.status === 503) outcomes.set(request, 'refused');
      else throw new Error(`unexpected status ${response.status} for ${request}`);
    } catch (error) {
      if ((error as Error).message.startsWith('unexpected status')) throw error;
      return; // the connection died with the server: this request's outcome is unknown
    }
  }
}

async function crashCycle(dataDir: string, cycle: number, outcomes: Map<string, Outcome>): Promise<void> {
  let child: ChildProcess | null = null;
  const killDuringStart = cycle % KILL_DURING_START_EVERY === KILL_DURING_START_EVERY - 1;
  const startKill = killDuringStart ? sleep(randomBetween(100, START_KILL_MS_MAX)).then(() => child?.kill('SIGKILL')) : null;
  let arc: ArcProcess;
  try {
    arc = await startArc(ENV, dataDir, (spawned) => (child = spawned));
  } catch {
    await startKill;
    return; // killed before it was ready
  }
  let stopped = false;
  const loops = Array.from({ length: CONNECTIONS }, (_, connection) => load(arc.url, cycle, connection, outcomes, () => stopped));
  await Promise.race([startKill ?? sleep(randomBetween(LOAD_MS_MIN, LOAD_MS_MAX)), Promise.all(loops)]);
  await arc.kill();
  stopped = true;
  await Promise.all(loops);
}

interface Found {
  readonly count: number;
  readonly distinct: number;
  readonly sum: number;
}

async function readBack(client: ArcClient, table: string, value: string): Promise<Map<string, Found>> {
  const rows = await client.rows(`SELECT req, count(*), count(DISTINCT i), sum(${value}) FROM ${table} GROUP BY req`);
  return new Map(rows.map(([request, count, distinct, sum]) => [String(request), { count: Number(count), distinct: Number(distinct), sum: Number(sum) }]));
}

describe.skipIf(!ENABLED)('kill -9 during sustained ingest with the WAL on (fdatasync)', () => {
  let final: ArcProcess | null = null;
  afterAll(async () => {
    if (final === null) return;
    await expectCleanStopAndRemove(final);
  });

  it(`loses and duplicates no acknowledged row over ${CYCLES} crashes`, { timeout: TEST_TIMEOUT_MS }, async () => {
    const outcomes = new Map<string, Outcome>();
    const first = await startArc(ENV);
    const dataDir = first.dataDir;
    await first.kill();
    for (let cycle = 0; cycle < CYCLES; cycle++) await crashCycle(dataDir, cycle, outcomes);
    final = await startArc(ENV, dataDir);
    const client = new ArcClient(final.url);
    const tables = [await readBack(client, 'crash_a', 'v'), await readBack(client, 'crash_b', 'w')];
    const counts = { acknowledged: 0, refused: 0, unknown: 0, unknownPresent: 0 };
    const problems: string[] = [];
    for (const [request, outcome] of outcomes) {
      counts[outcome]++;
      const whole = { count: ROWS_PER_REQUEST, distinct: ROWS_PER_REQUEST, sum: checksumOf(request) };
      const found = tables.map((table) => table.get(request) ?? null);
      const isWhole = found.every((entry) => JSON.stringify(entry) === JSON.stringify(whole));
      const isAbsent = found.every((entry) => entry === null);
      if (outcome === 'acknowledged' && !isWhole) problems.push(`${request} acknowledged, found ${JSON.stringify(found)}`);
      if (outcome === 'refused' && !isAbsent) problems.push(`${request} refused, found ${JSON.stringify(found)}`);
      if (outcome === 'unknown' && !isWhole && !isAbsent) problems.push(`${request} cut by the kill, found a part: ${JSON.stringify(found)}`);
      if (outcome === 'unknown' && isWhole) counts.unknownPresent++;
    }
    for (const table of tables) for (const request of table.keys()) if (!outcomes.has(request)) problems.push(`${request} was never sent`);
    console.log(`crash test: ${CYCLES} kills, requests ${JSON.stringify(counts)}, ${counts.acknowledged * ROWS_PER_REQUEST * 2} acknowledged rows checked`);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(counts.acknowledged).toBeGreaterThan(CYCLES);
  });
});
