// Proves several Arc nodes on one bucket (and that a node with a wrong key or bucket refuses to
// start, naming it), by running two real servers over the test S3 server
// (a Ceph RGW; skipped without one), one prefix, two data directories: rows written on either node
// are read on the other within the listing interval, a measurement deleted on A is gone on B, a
// database created on A is listed on B, and
// when both nodes compact the same partition at the same moment exactly one job merges it, after
// which both nodes read every row exactly once.
import { expectCleanStop } from './support/clean-stop.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { send } from './support/token-helpers.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { NO_S3_REASON, s3ServerEnv, testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';

const s3 = testS3();
if (s3 === null) console.warn(`cluster e2e test skipped: ${NO_S3_REASON}`);
/** The listing refresh interval of both nodes: another node's files show within it (plus a listing). */
const REFRESH_S = 1;
const VISIBLE_MS = 20_000;
const JOBS_MS = 90_000;
const HOUR_MS = 3_600_000;

interface Job {
  readonly state: string;
  readonly database: string;
  readonly measurement: string;
  readonly partition: string;
  readonly error?: string;
}

describe.skipIf(s3 === null)('a node with a wrong key or bucket', () => {
  it('refuses to start, naming what is wrong and never the secret', async () => {
    if (s3 === null) return;
    const wrongSecret = 'wrong-secret-never-printed';
    const refused = await startArc({ ...s3ServerEnv(s3, uniquePrefix('refused')), ARC_STORAGE_S3_SECRET_KEY: wrongSecret }).then(
      () => null,
      (error: unknown) => (error as Error).message,
    );
    expect(refused).toMatch(/ARC_OBJECT_STORE_REFUSED|access key or secret key is wrong/);
    expect(refused).not.toContain(wrongSecret);
    const noBucket = await startArc({ ...s3ServerEnv(s3, uniquePrefix('refused')), ARC_STORAGE_S3_BUCKET: 'arc-no-such-bucket' }).then(
      () => null,
      (error: unknown) => (error as Error).message,
    );
    expect(noBucket).toMatch(/bucket 'arc-no-such-bucket' does not exist/);
  });
});

describe.skipIf(s3 === null)('two nodes on one bucket', () => {
  const nodes: ArcProcess[] = [];
  let a: ArcClient;
  let b: ArcClient;
  beforeAll(async () => {
    if (s3 === null) return;
    const env = {
      ...s3ServerEnv(s3, uniquePrefix('cluster')),
      ARC_STORAGE_LISTING_REFRESH_S: String(REFRESH_S),
      ARC_COMPACTION_ENABLED: 'true',
      // Jobs come from the test's triggers only.
      ARC_COMPACTION_LIVE_MAX_FILES: '10000',
      ARC_COMPACTION_HOURLY_SCHEDULE: '0 0 1 1 *',
      ARC_COMPACTION_DAILY_SCHEDULE: '0 0 1 1 *',
      ARC_COMPACTION_MIN_AGE_HOURS: '0',
      ARC_WRITER_FLUSH_AGE_MS: '600000',
    };
    const [first, second] = await Promise.all([startArc({ ...env, ARC_NODE_ID: 'node-a' }), startArc({ ...env, ARC_NODE_ID: 'node-b' })]);
    nodes.push(first, second);
    a = new ArcClient(first.url);
    b = new ArcClient(second.url);
  });
  afterAll(async () => {
    for (const node of nodes) await expectCleanStop(node);
    for (const node of nodes) await node.cleanup();
  });

  async function write(client: ArcClient, database: string, measurement: string, ids: readonly number[], timeMs: (id: number) => number): Promise<void> {
    const answer = await client.write(msgpack({ m: measurement, columns: { time: ids.map(timeMs), id: [...ids], host: ids.map((id) => `h${String(id % 4)}`) } }), { database });
    expect(answer.status, answer.text).toBe(204);
    expect((await client.flush()).status).toBe(200);
  }

  async function totals(client: ArcClient, table: string): Promise<number[]> {
    const answer = await client.query(`SELECT count(*), count(DISTINCT id), coalesce(sum(id), 0) FROM ${table}`);
    // Not there yet on this node (its listing has not found the measurement): no totals.
    if (answer.status !== 200) return [-1, -1, -1];
    const data = (answer.json() as { data: unknown[][] }).data[0] ?? [];
    return data.map((value) => Number(value));
  }

  it('reads on each node what the other wrote, within the listing interval', async () => {
    const timeMs = (id: number): number => Date.UTC(2025, 2, 4, 5) + id * 1000;
    await write(a, 'shared', 'cpu', [1, 2, 3], timeMs);
    const startedAt = performance.now();
    await waitUntil('B reads the rows written on A', VISIBLE_MS, async () => (await totals(b, 'shared.cpu'))[0] === 3, 100);
    const visibleMs = performance.now() - startedAt;
    await write(b, 'shared', 'cpu', [4, 5], timeMs);
    await waitUntil('A reads the rows written on B', VISIBLE_MS, async () => (await totals(a, 'shared.cpu'))[0] === 5, 100);
    expect(await totals(a, 'shared.cpu')).toEqual([5, 5, 15]);
    expect(await totals(b, 'shared.cpu')).toEqual([5, 5, 15]);
    console.log(JSON.stringify({ cluster: 'visible-on-other-node', ms: Math.round(visibleMs), refresh_s: REFRESH_S }));
  });

  it('drops on B a measurement deleted on A', async () => {
    const timeMs = (id: number): number => Date.UTC(2025, 2, 5, 6) + id * 1000;
    await write(b, 'shared', 'disk', [1, 2], timeMs);
    await waitUntil('A reads the rows written on B', VISIBLE_MS, async () => (await totals(a, 'shared.disk'))[0] === 2, 100);
    const deleted = await send(nodes[0]?.url ?? '', 'DELETE', '/api/v1/databases/shared/measurements/disk?confirm=true');
    expect(deleted.status, deleted.text).toBe(200);
    await waitUntil('B no longer reads the deleted measurement', VISIBLE_MS, async () => (await b.query('SELECT count(*) FROM shared.disk')).status !== 200, 100);
    // The other measurement of the database is untouched.
    expect(await totals(b, 'shared.cpu')).toEqual([5, 5, 15]);
  });

  it('lists on B a database created on A', async () => {
    expect((await send(nodes[0]?.url ?? '', 'POST', '/api/v1/databases', { body: { name: 'made_on_a' } })).status).toBe(201);
    await waitUntil('B lists the database', VISIBLE_MS, async () => {
      const answer = await send(nodes[1]?.url ?? '', 'GET', '/api/v1/databases/made_on_a');
      return answer.status === 200;
    }, 100);
  });

  it('merges a partition once when both nodes compact it at the same moment, and both then read every row once', async () => {
    // A closed hour with files from both nodes.
    const hourMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - 3 * HOUR_MS;
    const timeMs = (id: number): number => hourMs + id * 10;
    let id = 0;
    for (let round = 0; round < 3; round++) {
      for (const client of [a, b]) {
        const ids = Array.from({ length: 50 }, () => id++);
        await write(client, 'race', 'mem', ids, timeMs);
      }
    }
    const expected = [id, id, (id * (id - 1)) / 2];
    for (const client of [a, b]) await waitUntil('both nodes list all six files', VISIBLE_MS, async () => (await totals(client, 'race.mem'))[0] === id, 100);
    const trigger = (url: string) => send(url, 'POST', '/api/compaction/trigger', { body: { database: 'race', measurement: 'mem', tier: 'hourly' } });
    const triggered = await Promise.all(nodes.map((node) => trigger(node.url)));
    for (const answer of triggered) expect(answer.status, answer.text).toBeLessThan(300);
    const jobsOf = async (url: string): Promise<Job[]> => ((await send(url, 'GET', '/api/compaction/history?database=race&measurement=mem')).json() as { jobs: Job[] }).jobs;
    const queuedOrRunning = async (url: string): Promise<number> => ((await send(url, 'GET', '/api/compaction/jobs')).json() as { jobs: unknown[] }).jobs.length;
    await waitUntil('the jobs of both nodes ended', JOBS_MS, async () => (await queuedOrRunning(nodes[0]?.url ?? '')) === 0 && (await queuedOrRunning(nodes[1]?.url ?? '')) === 0, 200);
    const jobs = [...(await jobsOf(nodes[0]?.url ?? '')), ...(await jobsOf(nodes[1]?.url ?? ''))];
    // Both nodes planned the partition (each saw all six files): the race was run.
    expect(jobs, JSON.stringify(jobs)).toHaveLength(2);
    const succeeded = jobs.filter((job) => job.state === 'succeeded');
    // One partition, one merge: the other node's job found it locked or its inputs merged.
    expect(succeeded, JSON.stringify(jobs)).toHaveLength(1);
    for (const job of jobs.filter((entry) => entry.state === 'failed')) expect(job.error).toMatch(/locked by job|input is gone|replaced/);
    console.log(JSON.stringify({ cluster: 'compaction-race', jobs: jobs.map((job) => ({ state: job.state, error: job.error ?? null })) }));
    for (const client of [a, b]) await waitUntil('each node reads the merged partition', VISIBLE_MS, async () => JSON.stringify(await totals(client, 'race.mem')) === JSON.stringify(expected), 100);
    const files = async (url: string): Promise<number> => ((await send(url, 'GET', '/api/v1/databases/race/measurements')).json() as { measurements: { file_count: number }[] }).measurements[0]?.file_count ?? -1;
    await waitUntil('both nodes list one file', VISIBLE_MS, async () => (await files(nodes[0]?.url ?? '')) === 1 && (await files(nodes[1]?.url ?? '')) === 1, 100);
  });
});
