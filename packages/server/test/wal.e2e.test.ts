// Proves the write-ahead log end to end on the real server: every acknowledged row (MessagePack,
// line protocol, JSON; one request spanning two measurements) is back exactly once after kill -9,
// also after a second crash once part of it is in Parquet; a torn last entry is cut and logged;
// a failing flush keeps rows buffered and logged, answers 503 when buffers are full, and loses or
// duplicates nothing once the fault clears (with or without a crash); an unwritable WAL directory
// stops the start; the /api/wal endpoints report all of it.
import { mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, TEST_TOKEN } from './support/arc-process.js';
import { useStartedArcs } from './support/started-arcs.js';
import { ON_OBJECT_STORAGE } from '../../../test/support/s3-test-env.js';

const WAL_ENV = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '600000' };
const VISIBLE_DEADLINE_MS = 30_000;

const { started, start, crashAndRestart } = useStartedArcs();

const auth = { Authorization: `Bearer ${TEST_TOKEN}` };

/** A request of two measurements (two writers' prepare/commit): rows 100*index .. 100*index+99. */
function twoMeasurementRequest(index: number): Uint8Array {
  const values = Array.from({ length: 100 }, (_, row) => index * 100 + row);
  const times = values.map((value) => 1_700_000_000_000 + value);
  return msgpack({ batch: [{ m: 'wal_a', columns: { time: times, host: values.map((value) => `h${value % 5}`), v: values } }, { m: 'wal_b', columns: { time: times, w: values.map((value) => value * 2) } }] });
}

async function writeMixed(client: ArcClient, requests: number, offset: number): Promise<void> {
  for (let index = offset; index < offset + requests; index++) expect((await client.write(twoMeasurementRequest(index))).status).toBe(204);
  const lineProtocol = new TextEncoder().encode(`wal_lp,host=x v=${offset}i 1700000000000000000\nwal_lp,host=y v=${offset + 1}i 1700000001000000000`);
  expect((await client.write(lineProtocol, { path: '/write?db=default' })).status).toBe(204);
  const json = new TextEncoder().encode(JSON.stringify([{ measurement: 'wal_json', time: 1_700_000_000_000 + offset, fields: { v: offset } }]));
  expect((await client.write(json, { path: '/write/json' })).status).toBe(204);
}

async function expectMixed(client: ArcClient, requests: number): Promise<void> {
  const rows = requests * 100;
  const sum = (rows * (rows - 1)) / 2;
  expect(await client.rows('SELECT count(*), count(DISTINCT v), sum(v) FROM wal_a')).toEqual([[rows, rows, sum]]);
  expect(await client.rows('SELECT count(*), count(DISTINCT w), sum(w) FROM wal_b')).toEqual([[rows, rows, 2 * sum]]);
}

async function walJson(client: ArcClient, endpoint: string): Promise<Record<string, unknown>> {
  const answer = await client.get(endpoint, auth);
  expect(answer.status, answer.text).toBe(200);
  return answer.json() as Record<string, unknown>;
}

async function segmentNames(dataDir: string): Promise<string[]> {
  return (await readdir(path.join(dataDir, 'wal'))).filter((name) => name.endsWith('.wal')).sort();
}

async function pollRows(client: ArcClient, sql: string, expected: unknown[][]): Promise<void> {
  const seen = JSON.stringify(expected);
  await pollUntil(`${sql} answering ${seen}`, VISIBLE_DEADLINE_MS, () => client.rows(sql).catch(() => null), (rows) => JSON.stringify(rows) === seen);
}

describe('write-ahead log', () => {
  it('brings every acknowledged row back exactly once after kill -9, twice over, and reports it', async () => {
    const first = await start(WAL_ENV);
    await writeMixed(new ArcClient(first.url), 20, 0);
    const stats = await walJson(new ArcClient(first.url), '/api/wal/stats');
    expect(stats).toMatchObject({ enabled: true, sync_mode: 'fdatasync', entries: 22, write_errors: 0 });
    expect(stats.syncs).toBeGreaterThanOrEqual(1);
    expect(stats.segments_live).toBeGreaterThanOrEqual(1);
    expect(stats.oldest_unflushed_age_seconds).toBeGreaterThan(0);
    const files = await walJson(new ArcClient(first.url), '/api/v1/wal/files');
    expect((files.files as { kind: string }[]).filter((file) => file.kind === 'segment').length).toBe(stats.segments_live);
    expect(await walJson(new ArcClient(first.url), '/api/wal/health')).toEqual({ status: 'healthy', enabled: true, reasons: [] });
    const segmentsBefore = await segmentNames(first.dataDir);

    const second = await crashAndRestart(first, WAL_ENV);
    const client = new ArcClient(second.url);
    await expectMixed(client, 20);
    expect(await client.rows('SELECT host, v FROM wal_lp ORDER BY host')).toEqual([['x', 0], ['y', 1]]);
    expect(await client.rows('SELECT count(*), sum(v) FROM wal_json')).toEqual([[1, 0]]);
    const status = await walJson(client, '/api/wal/status');
    expect(status.recovery).toMatchObject({ state: 'done', entries: 22, entriesReplayed: 22, tailsTruncated: 0, error: null });
    expect((await segmentNames(second.dataDir)).filter((name) => segmentsBefore.includes(name))).toEqual([]);

    // Part of the next requests is flushed (journaled) before the crash: replay must skip it.
    await writeMixed(client, 10, 20);
    expect((await client.flush()).status).toBe(200);
    for (let index = 30; index < 35; index++) expect((await client.write(twoMeasurementRequest(index))).status).toBe(204);
    const third = await crashAndRestart(second, WAL_ENV);
    await expectMixed(new ArcClient(third.url), 35);
    expect(await new ArcClient(third.url).rows('SELECT count(*) FROM wal_json')).toEqual([[2]]);
  });

  it('cuts a torn last entry, logs it, and replays every complete entry', async () => {
    const first = await start({ ...WAL_ENV, ARC_INGEST_DECODERS: '1' });
    for (let index = 0; index < 5; index++) expect((await new ArcClient(first.url).write(twoMeasurementRequest(index))).status).toBe(204);
    await first.kill();
    started.splice(started.indexOf(first), 1);
    const [segment] = await segmentNames(first.dataDir);
    expect(segment).toBeDefined();
    const segmentPath = path.join(first.dataDir, 'wal', segment ?? '');
    await truncate(segmentPath, (await stat(segmentPath)).size - 10);
    const second = await start({ ...WAL_ENV, ARC_INGEST_DECODERS: '1' }, first.dataDir);
    await expectMixed(new ArcClient(second.url), 4);
    expect(second.output()).toMatch(/torn tail at byte \d+ \(entry payload cut short/);
    const status = await walJson(new ArcClient(second.url), '/api/wal/status');
    expect(status.recovery).toMatchObject({ state: 'done', entries: 4, tailsTruncated: 1 });
  });

  // Plants its fault in the local data directory (object storage: s3-outage.fault.test.ts).
  it.skipIf(ON_OBJECT_STORAGE)('keeps rows buffered and logged while flushes fail, answers 503 when full, and loses or duplicates nothing after', async () => {
    // Writes wait for room at most 200 ms: the failing flushes never make any.
    const env = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '200', ARC_WRITER_BUFFER_MAX_MB: '2', ARC_WRITER_FLUSH_BYTES_MB: '1', ARC_INGEST_WAIT_MAX_MS: '200' };
    const first = await start(env);
    let client = new ArcClient(first.url);
    // A file where the database directory should be: every flush of that database fails.
    const blocker = path.join(first.dataDir, 'arc', 'faulty');
    await writeFile(blocker, 'not a directory');
    const acknowledged: number[] = [];
    let refused = 0;
    for (let request = 0; request < 200 && refused < 3; request++) {
      const values = Array.from({ length: 2000 }, (_, row) => request * 2000 + row);
      const body = msgpack({ m: 'cpu', columns: { time: values.map((value) => 1_700_000_000_000 + value), v: values, pad: values.map((value) => `padding-${value}-${'x'.repeat(40)}`) } });
      const answer = await client.write(body, { database: 'faulty' });
      if (answer.status === 204) acknowledged.push(request);
      else {
        expect(answer.status).toBe(503);
        expect((answer.json() as { code: unknown }).code).toBe('ARC_INGEST_WAIT_TIMEOUT');
        refused++;
      }
    }
    expect(refused).toBe(3);
    expect(acknowledged.length).toBeGreaterThan(0);
    const writeHealth = await client.get('/write/health', auth);
    expect(writeHealth.status).toBe(503);
    expect(writeHealth.text).toMatch(/flush/i);
    expect((await walJson(client, '/api/wal/stats')).oldest_unflushed_age_seconds).toBeGreaterThan(0);
    const expected = (requests: number[]): unknown[][] => {
      const rows = requests.length * 2000;
      const sum = requests.reduce((total, request) => total + 2000 * request * 2000 + (2000 * 1999) / 2, 0);
      return [[rows, rows, sum]];
    };
    // The fault clears: the retried flush writes every acknowledged row once.
    await rm(blocker);
    await pollRows(client, 'SELECT count(*), count(DISTINCT v), sum(v) FROM faulty.cpu', expected(acknowledged));

    // Again, but the server is killed while the fault holds the rows in memory (and the WAL).
    await writeFile(path.join(first.dataDir, 'arc', 'faulty2'), 'not a directory');
    const second: number[] = [];
    for (let request = 0; request < 5; request++) {
      const values = Array.from({ length: 2000 }, (_, row) => request * 2000 + row);
      const answer = await client.write(msgpack({ m: 'cpu', columns: { time: values.map((value) => 1_700_000_000_000 + value), v: values } }), { database: 'faulty2' });
      expect(answer.status).toBe(204);
      second.push(request);
    }
    await first.kill();
    started.splice(started.indexOf(first), 1);
    await rm(path.join(first.dataDir, 'arc', 'faulty2'));
    const restarted = await start(env, first.dataDir);
    client = new ArcClient(restarted.url);
    expect(await client.rows('SELECT count(*), count(DISTINCT v), sum(v) FROM faulty2.cpu')).toEqual(expected(second));
    expect(await client.rows('SELECT count(*), count(DISTINCT v), sum(v) FROM faulty.cpu')).toEqual(expected(acknowledged));
  });

  it('deletes segments once their rows are in Parquet (POST /api/wal/cleanup)', async () => {
    const arc = await start(WAL_ENV);
    const client = new ArcClient(arc.url);
    await writeMixed(client, 3, 0);
    expect((await client.post('/api/wal/cleanup', '', {})).status).toBe(401);
    const answer = await client.post('/api/v1/wal/cleanup', '', auth);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.json()).toMatchObject({ success: true, segments_live: 0 });
    expect((answer.json() as { segments_deleted: number }).segments_deleted).toBeGreaterThanOrEqual(1);
    expect(await segmentNames(arc.dataDir)).toEqual([]);
    await expectMixed(client, 3);
  });

  it('refuses to start when the WAL directory cannot be written', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'arc-it-'));
    const blocker = path.join(dataDir, 'not-a-directory');
    await writeFile(blocker, '');
    const failure = await startArc({ ARC_WAL_ENABLED: 'true', ARC_WAL_DIR: path.join(blocker, 'wal') }, dataDir).then(
      (arc) => {
        started.push(arc);
        return null;
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    await rm(dataDir, { recursive: true, force: true });
    expect(failure).toMatch(/arc exited with 1 before ready/);
    expect(failure).toMatch(/The write-ahead log directory .*not-a-directory\/wal cannot be written \(ENOTDIR\)/);
  });
});
