// Proves both backends keep the same contract, by running one set of cases against local disk and
// against the test S3 server (a real Ceph RGW, skipped without one): put/get/range, paged listing
// in key order, one level of children, conditional puts (absent / version), multipart uploads
// above the part size, publish with write-through to the cache, download with its checksum, and
// deletes of keys (more than one S3 multi-delete's worth) and prefixes.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStorage, S3Storage, type StorageBackend } from '../src/index.js';
import { S3_DELETE_BATCH_MAX } from '../src/limits.js';
import { NO_S3_REASON, testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';

const s3 = testS3();
const PART_BYTES = 5 * 1024 * 1024;
/** Puts in flight at once while the batch test fills the store. */
const PUTS_AT_ONCE = 32;
const directories: string[] = [];

async function scratch(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'arc-contract-'));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function localBackend(): Promise<StorageBackend> {
  return new LocalStorage(await scratch(), 'n-local');
}

async function s3Backend(): Promise<S3Storage> {
  if (s3 === null) throw new Error(NO_S3_REASON);
  const url = new URL(s3.endpoint);
  return new S3Storage(
    { endPoint: url.hostname, port: Number(url.port), useSSL: url.protocol === 'https:', region: 'us-east-1', bucket: s3.bucket, prefix: uniquePrefix('contract'), accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true, partSizeBytes: PART_BYTES },
    await scratch(),
    'n-s3',
  );
}

const backends: [string, () => Promise<StorageBackend>, boolean][] = [
  ['local disk', localBackend, false],
  ['S3 (Ceph RGW)', s3Backend, s3 === null],
];

describe.each(backends)('%s', (_name, open, skip) => {
  it.skipIf(skip)('puts, gets whole and by range, sizes and dates objects', async () => {
    const backend = await open();
    await backend.put('db/cpu/a.bin', new Uint8Array([1, 2, 3, 4]));
    expect([...(await backend.get('db/cpu/a.bin'))]).toEqual([1, 2, 3, 4]);
    expect([...(await backend.get('db/cpu/a.bin', { start: 1, end: 2 }))]).toEqual([2, 3]);
    expect(await backend.sizeOf('db/cpu/a.bin')).toBe(4);
    expect(await backend.sizeOf('db/cpu/missing')).toBeNull();
    expect(await backend.modifiedAtMs('db/cpu/a.bin')).toBeGreaterThan(Date.now() - 600_000);
    await expect(backend.get('db/cpu/missing')).rejects.toThrow();
  });

  it.skipIf(skip)('lists in key order, page by page, and one level of children', async () => {
    const backend = await open();
    const keys = Array.from({ length: 7 }, (_, index) => `db/m${index % 2}/k${index}.bin`).sort();
    for (const key of keys) await backend.put(key, new Uint8Array([1]));
    await backend.put('db/.marker', new Uint8Array(0));
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await backend.list('db/', token, 3);
      seen.push(...page.objects.map((object) => object.key));
      token = page.continuationToken;
      pages++;
    } while (token !== null);
    expect(seen).toEqual([...keys, 'db/.marker'].sort());
    expect(pages).toBe(3);
    expect(await backend.listChildren('')).toEqual({ directories: ['db'], objects: [] });
    expect(await backend.listChildren('db/')).toEqual({ directories: ['m0', 'm1'], objects: ['.marker'] });
  });

  it.skipIf(skip)('puts conditionally: only when absent, only over the version read', async () => {
    const backend = await open();
    expect(await backend.putIfAbsent('db/_locks/x.json', new TextEncoder().encode('one'))).toBe(true);
    expect(await backend.putIfAbsent('db/_locks/x.json', new TextEncoder().encode('two'))).toBe(false);
    const first = await backend.getVersioned('db/_locks/x.json');
    expect(new TextDecoder().decode(first?.bytes)).toBe('one');
    expect(await backend.putIfVersion('db/_locks/x.json', new TextEncoder().encode('three'), first?.version ?? '')).toBe(true);
    // The version read before the last write is stale now: refused.
    expect(await backend.putIfVersion('db/_locks/x.json', new TextEncoder().encode('four'), first?.version ?? '')).toBe(false);
    expect(new TextDecoder().decode((await backend.getVersioned('db/_locks/x.json'))?.bytes)).toBe('three');
    expect(await backend.getVersioned('db/_locks/none.json')).toBeNull();
  });

  it.skipIf(skip)('of racing conditional puts exactly one wins', async () => {
    const backend = await open();
    for (let round = 0; round < 5; round++) {
      const key = `db/_locks/race-${round}.json`;
      const created = await Promise.all(Array.from({ length: 6 }, (_, index) => backend.putIfAbsent(key, new TextEncoder().encode(`c${index}`))));
      expect(created.filter(Boolean)).toHaveLength(1);
      const current = await backend.getVersioned(key);
      const swapped = await Promise.all(Array.from({ length: 6 }, (_, index) => backend.putIfVersion(key, new TextEncoder().encode(`s${index}`), current?.version ?? '')));
      expect(swapped.filter(Boolean)).toHaveLength(1);
    }
  });

  it.skipIf(skip)('publishes staged files, large ones in parts, and deletes keys and prefixes', async () => {
    const backend = await open();
    const big = Buffer.alloc(PART_BYTES * 2 + 12345);
    for (let index = 0; index < big.length; index += 4096) big[index] = index % 251;
    const staged = await backend.stagingPathIn('db/cpu/2025/01/02/03');
    await writeFile(staged, big);
    expect(await backend.sealStaged(staged)).toBe(big.length);
    await backend.publish(staged, 'db/cpu/2025/01/02/03/big.parquet');
    expect(await backend.sizeOf('db/cpu/2025/01/02/03/big.parquet')).toBe(big.length);
    const stored = await backend.get('db/cpu/2025/01/02/03/big.parquet');
    expect(createHash('md5').update(stored).digest('hex')).toBe(createHash('md5').update(big).digest('hex'));
    // Where queries read it: the file itself (local) or its cached copy, written through (S3).
    expect(createHash('md5').update(await readFile(backend.locationOf('db/cpu/2025/01/02/03/big.parquet'))).digest('hex')).toBe(createHash('md5').update(big).digest('hex'));
    await backend.put('db/cpu/other.bin', new Uint8Array([9]));
    await backend.deleteMany(['db/cpu/other.bin', 'db/cpu/never.bin']);
    expect(await backend.sizeOf('db/cpu/other.bin')).toBeNull();
    await backend.deletePrefix('db/');
    expect((await backend.list('', null, 10)).objects).toEqual([]);
  });

  it.skipIf(skip)('deletes more keys than one S3 multi-delete takes, missing ones among them, and nothing else', async () => {
    const backend = await open();
    const keys = Array.from({ length: S3_DELETE_BATCH_MAX + 1 }, (_, index) => `db/many/${String(index).padStart(5, '0')}.bin`);
    for (let start = 0; start < keys.length; start += PUTS_AT_ONCE) await Promise.all(keys.slice(start, start + PUTS_AT_ONCE).map((key) => backend.put(key, new Uint8Array([1]))));
    await backend.put('db/kept.bin', new Uint8Array([2]));
    // The last key is in the second batch; two keys that never existed ride along.
    await backend.deleteMany(['db/never-1.bin', ...keys, 'db/never-2.bin']);
    expect((await backend.list('db/', null, 1000)).objects.map((object) => object.key)).toEqual(['db/kept.bin']);
    await backend.deletePrefix('db/');
  });
});

describe.skipIf(s3 === null)('S3 downloads', () => {
  it('downloads an object to a local file, checked against its MD5 and the expected size', async () => {
    const backend = await s3Backend();
    const body = Buffer.from('parquet bytes, pretend');
    await backend.put('db/cpu/f.parquet', body);
    const destination = path.join(await scratch(), 'copy.parquet');
    expect(await backend.download('db/cpu/f.parquet', destination, body.length)).toBe(body.length);
    expect(await readFile(destination)).toEqual(body);
    await expect(backend.download('db/cpu/f.parquet', destination, body.length + 1)).rejects.toThrow(/its name says/);
    await expect(backend.download('db/cpu/gone.parquet', destination, null)).rejects.toMatchObject({ code: 'ARC_OBJECT_GONE' });
  });

  it('refuses wrong credentials and a missing bucket with a clear error', async () => {
    if (s3 === null) return;
    const url = new URL(s3.endpoint);
    const config = { endPoint: url.hostname, port: Number(url.port), useSSL: false, region: 'us-east-1', bucket: s3.bucket, prefix: '', accessKey: s3.accessKey, secretKey: 'wrong-secret', pathStyle: true, partSizeBytes: PART_BYTES };
    await expect(new S3Storage(config, await scratch(), 'n').check()).rejects.toThrow(/access key or secret key is wrong/);
    await expect(new S3Storage({ ...config, secretKey: s3.secretKey, bucket: 'arc-no-such-bucket' }, await scratch(), 'n').check()).rejects.toThrow(/bucket 'arc-no-such-bucket' does not exist/);
    await expect((await s3Backend()).check()).resolves.toBeUndefined();
  });
});
