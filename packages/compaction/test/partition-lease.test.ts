// Proves that exactly one job holds a partition's lease, on local disk and on the test S3 server
// (a real Ceph RGW; skipped without one), by racing nodes for it: simultaneous acquires, a
// simultaneous takeover of an expired lease, a renewal after losing the lease, and a release that
// leaves another holder's lease alone. Each S3 "node" is a backend of its own with its own node id
// over one bucket prefix, as two Arc processes would be.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage, S3Storage, type StorageBackend } from '@arc/storage';
import { PartitionLease, isLease } from '../src/partition-lease.js';
import { NO_S3_REASON, testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';

const s3 = testS3();
const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'arc-lease-'));
  directories.push(directory);
  return directory;
}

/** Local disk has one process per data directory (data-dir-lock): its jobs race within it. */
async function localNodes(count: number): Promise<StorageBackend[]> {
  const store = new LocalStorage(await scratch(), 'node-0');
  return Array.from({ length: count }, () => store);
}

async function s3Nodes(count: number): Promise<StorageBackend[]> {
  if (s3 === null) throw new Error(NO_S3_REASON);
  const url = new URL(s3.endpoint);
  const prefix = uniquePrefix('lease');
  const nodes: StorageBackend[] = [];
  for (let index = 0; index < count; index++) {
    nodes.push(new S3Storage({ endPoint: url.hostname, port: Number(url.port), useSSL: false, region: 'us-east-1', bucket: s3.bucket, prefix, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true, partSizeBytes: 5 * 1024 * 1024 }, await scratch(), `node-${index}`));
  }
  return nodes;
}

const target = (job: string) => ({ database: 'db', measurement: 'cpu', dayPath: '2025/10/16', jobId: job });

describe.each([
  ['local disk', localNodes, false],
  ['S3 (Ceph RGW)', s3Nodes, s3 === null],
] as const)('%s', (_name, nodesOf, skip) => {
  it.skipIf(skip)('gives a partition to exactly one of several nodes acquiring at once, ten times over', async () => {
    const nodes = await nodesOf(4);
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(nodes.map((node, index) => PartitionLease.acquire(node, { ...target(`job-${round}-${index}`), dayPath: `2025/10/${String(10 + round)}` }, 60_000, Date.now)));
      const held = results.filter(isLease);
      expect(held).toHaveLength(1);
      // The losers were told who holds it.
      for (const result of results) if (!isLease(result)) expect(result.job).toMatch(new RegExp(`^job-${round}-`));
    }
  });

  it.skipIf(skip)('lets exactly one of several nodes take over an expired lease; the old holder can neither renew nor release it', async () => {
    const nodes = await nodesOf(4);
    let clock = Date.now();
    const now = (): number => clock;
    const first = await PartitionLease.acquire(nodes[0] as StorageBackend, target('old'), 1000, now);
    expect(isLease(first)).toBe(true);
    // The old job stalls past its lease.
    clock += 5000;
    const results = await Promise.all(nodes.slice(1).map((node, index) => PartitionLease.acquire(node, target(`new-${index}`), 60_000, now)));
    const held = results.filter(isLease);
    expect(held).toHaveLength(1);
    const old = first as PartitionLease;
    expect(await old.holds()).toBe(false);
    expect(await old.renew()).toBe(false);
    await old.release();
    const winner = held[0] as PartitionLease;
    expect(await winner.holds()).toBe(true);
    expect(await winner.renew()).toBe(true);
    // The lock is still the winner's: another node is refused.
    const late = await PartitionLease.acquire(nodes[0] as StorageBackend, target('late'), 60_000, now);
    expect(isLease(late)).toBe(false);
    await winner.release();
    expect(isLease(await PartitionLease.acquire(nodes[0] as StorageBackend, target('after'), 60_000, now))).toBe(true);
  });
});
