// Proves the query path over object storage keeps its local file cache within storage.cache_max_gb:
// a server on the test S3 server (skipped without one) with a 1 MB cache writes four hours of
// rows (about 1.2 MB of Parquet), keeps at most 1 MB of them on disk, answers each hour right
// (downloading what was evicted), refuses a query over all four hours with 413
// ARC_CACHE_TOO_SMALL naming the limit, and after a restart with the cache emptied answers
// everything from downloads; and that a merge downloads its inputs into the cache, after which
// the cache holds the output and not the inputs.
import { expectCleanStop } from './support/clean-stop.js';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { msgpack, ArcClient } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { send } from './support/token-helpers.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { NO_S3_REASON, s3ServerEnv, testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';

const s3 = testS3();
const HOURS = 4;
const ROWS_PER_HOUR = 35_000;
const CACHE_BYTES_MAX = 1_000_000;
const HOUR_MS = 3_600_000;
/** Whole hours, two days back: no retention or live compaction touches them. */
const FIRST_HOUR_MS = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 48 * HOUR_MS;

const started: ArcProcess[] = [];
afterAll(async () => {
  for (const arc of started) {
    await arc.stop();
    await arc.cleanup();
  }
});

async function cachedParquetFiles(dataDir: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, 'cache'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.parquet')).map((entry) => path.join(entry.parentPath, entry.name));
}

async function cachedParquetBytes(dataDir: string): Promise<number> {
  let total = 0;
  for (const file of await cachedParquetFiles(dataDir)) total += (await stat(file)).size;
  return total;
}

async function removeCachedParquet(dataDir: string): Promise<void> {
  for (const entry of await readdir(path.join(dataDir, 'cache'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) await rm(path.join(entry.parentPath, entry.name));
  }
}

/** Rows of one hour: random values (Parquet cannot shrink them), so each hour's file is ~300 KB. */
function hourRows(hour: number): { times: number[]; values: number[] } {
  const times = Array.from({ length: ROWS_PER_HOUR }, (_, index) => FIRST_HOUR_MS + hour * HOUR_MS + index * 10);
  const values = times.map(() => Math.random());
  return { times, values };
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe.skipIf(s3 === null)(`the object-storage file cache${s3 === null ? ` (skipped: ${NO_S3_REASON})` : ''}`, () => {
  it('stays within storage.cache_max_gb, answers through downloads, and refuses what cannot fit with 413', async () => {
    if (s3 === null) return;
    const env = { ...s3ServerEnv(s3, uniquePrefix('file-cache')), ARC_STORAGE_CACHE_MAX_GB: String(CACHE_BYTES_MAX / 1e9) };
    const arc = await startArc(env);
    started.push(arc);
    const client = new ArcClient(arc.url);
    const sums: number[] = [];
    for (let hour = 0; hour < HOURS; hour++) {
      const { times, values } = hourRows(hour);
      sums.push(values.reduce((sum, value) => sum + value, 0));
      const written = await client.write(msgpack({ m: 'cpu', columns: { time: times, host: times.map((_, index) => `h${String(index % 4)}`), v: values } }), { database: 's3cache' });
      expect(written.status, written.text).toBe(204);
      expect((await client.flush()).status).toBe(200);
    }
    const usage = await client.get('/api/v1/databases/s3cache/measurements', client.authHeaders());
    const stored = (usage.json() as { measurements: { name: string; total_size_bytes: number }[] }).measurements.find((entry) => entry.name === 'cpu');
    expect(stored?.total_size_bytes).toBeGreaterThan(CACHE_BYTES_MAX);
    // Written through on upload, evicted down to the bound.
    expect(await cachedParquetBytes(arc.dataDir)).toBeLessThanOrEqual(CACHE_BYTES_MAX);

    for (let hour = 0; hour < HOURS; hour++) {
      const start = FIRST_HOUR_MS + hour * HOUR_MS;
      const rows = await client.rows(`SELECT count(*), sum(v) FROM cpu WHERE time >= '${iso(start)}' AND time < '${iso(start + HOUR_MS)}'`, 's3cache');
      expect(Number(rows[0]?.[0])).toBe(ROWS_PER_HOUR);
      expect(Number(rows[0]?.[1])).toBeCloseTo(sums[hour] ?? 0, 6);
      expect(await cachedParquetBytes(arc.dataDir)).toBeLessThanOrEqual(CACHE_BYTES_MAX);
    }

    const tooLarge = await client.query(`SELECT count(*) FROM cpu WHERE time >= '${iso(FIRST_HOUR_MS)}'`, 's3cache');
    expect(tooLarge.status, tooLarge.text).toBe(413);
    const body = tooLarge.json() as { error: string; code: string };
    expect(body.code).toBe('ARC_CACHE_TOO_SMALL');
    expect(body.error).toContain('storage.cache_max_gb');
    expect(await cachedParquetBytes(arc.dataDir)).toBeLessThanOrEqual(CACHE_BYTES_MAX);
    await expectCleanStop(arc);

    // A cold cache: every file comes from the bucket.
    await removeCachedParquet(arc.dataDir);
    const again = await startArc({ ...env, ARC_STORAGE_CACHE_MAX_GB: '0.01' }, arc.dataDir);
    started.push(again);
    const all = await new ArcClient(again.url).rows('SELECT count(*), sum(v) FROM cpu', 's3cache');
    expect(Number(all[0]?.[0])).toBe(HOURS * ROWS_PER_HOUR);
    expect(Number(all[0]?.[1])).toBeCloseTo(sums.reduce((sum, value) => sum + value, 0), 4);
    expect(await cachedParquetBytes(again.dataDir)).toBe(stored?.total_size_bytes);
  }, 180_000);

  it('downloads the inputs of a merge, then keeps its output and drops its inputs', async () => {
    if (s3 === null) return;
    const env = { ...s3ServerEnv(s3, uniquePrefix('cache-merge')), ARC_STORAGE_CACHE_MAX_GB: '0.01' };
    const writer = await startArc(env);
    started.push(writer);
    const client = new ArcClient(writer.url);
    const hourMs = FIRST_HOUR_MS + 10 * HOUR_MS;
    for (let flush = 0; flush < 3; flush++) {
      const times = [hourMs + flush * 1000, hourMs + flush * 1000 + 1];
      const written = await client.write(msgpack({ m: 'mem', columns: { time: times, host: ['a', 'b'], v: [flush, flush] } }), { database: 'merged' });
      expect(written.status, written.text).toBe(204);
      const flushed = await client.flush();
      expect(flushed.status, flushed.text).toBe(200);
    }
    await expectCleanStop(writer);
    // The merge finds no input local: it must download them.
    await removeCachedParquet(writer.dataDir);
    const merger = await startArc({ ...env, ARC_COMPACTION_ENABLED: 'true', ARC_COMPACTION_HOURLY_SCHEDULE: '0 0 1 1 *', ARC_COMPACTION_DAILY_SCHEDULE: '0 0 1 1 *' }, writer.dataDir);
    started.push(merger);
    const triggered = await send(merger.url, 'POST', '/api/compaction/trigger', { body: { database: 'merged', tier: 'hourly' } });
    expect(triggered.status, triggered.text).toBe(202);
    await waitUntil('the merge ended', 60_000, async () => ((await send(merger.url, 'GET', '/api/compaction/jobs')).json() as { jobs: unknown[] }).jobs.length === 0);
    const mergerClient = new ArcClient(merger.url);
    expect(await mergerClient.rows('SELECT count(*), sum(v) FROM mem', 'merged')).toEqual([[6, 6]]);
    const usage = await send(merger.url, 'GET', '/api/v1/databases/merged/measurements');
    expect((usage.json() as { measurements: { file_count: number }[] }).measurements[0]?.file_count).toBe(1);
    // The inputs left the catalog: their local copies go; the output was written through.
    await waitUntil('only the output cached', 10_000, async () => (await cachedParquetFiles(merger.dataDir)).length === 1);
  }, 180_000);
});
