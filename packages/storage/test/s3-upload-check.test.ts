// Proves that the test S3 server refuses an upload whose bytes changed on the way, so a publish
// through S3Storage (payload SHA-256 signed over plain HTTP) never stores a corrupted file: a
// proxy between the client and the gateway flips one byte of each request body, the publish fails
// with the store's mismatch error, the object is not stored and the staged file is kept; the same
// publish straight to the gateway stores the exact bytes.
import { randomBytes } from 'node:crypto';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3Storage } from '../src/index.js';
import { testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';

const s3 = testS3();
const PART_BYTES = 5 * 1024 * 1024;
/** A staged file of a few hundred KB, as a flush of one hour writes. */
const FILE_BYTES = 300_000;
const HEADERS_END = Buffer.from('\r\n\r\n');
const directories: string[] = [];
const proxies: net.Server[] = [];

afterAll(async () => {
  for (const proxy of proxies) proxy.close();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

/**
 * A TCP proxy to `target` that inverts the first body byte of each connection's first request on
 * the way in; the rest passes unchanged (each store below makes one request through it).
 */
async function corruptingProxy(target: URL): Promise<number> {
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      const end = pending.indexOf(HEADERS_END);
      if (end < 0 || end + HEADERS_END.length >= pending.length) return;
      const bodyStart = end + HEADERS_END.length;
      pending[bodyStart] = (pending[bodyStart] as number) ^ 0xff;
      upstream.write(pending.subarray(0, bodyStart + 1));
      // The rest of this request's body passes; a next request on the connection is not looked at.
      pending = pending.subarray(bodyStart + 1);
      client.removeAllListeners('data');
      upstream.write(pending);
      client.pipe(upstream);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  proxies.push(proxy);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return (proxy.address() as net.AddressInfo).port;
}

async function storage(port: number, prefix: string): Promise<S3Storage> {
  if (s3 === null) throw new Error('no test S3 server');
  const cacheDir = await mkdtemp(path.join(tmpdir(), 'arc-upload-check-'));
  directories.push(cacheDir);
  const config = { endPoint: new URL(s3.endpoint).hostname, port, useSSL: false, region: 'us-east-1', bucket: s3.bucket, prefix, accessKey: s3.accessKey, secretKey: s3.secretKey, pathStyle: true, partSizeBytes: PART_BYTES };
  return new S3Storage(config, cacheDir, 'n-check');
}

async function stagedFile(backend: S3Storage, bytes: Buffer): Promise<string> {
  const staging = await backend.stagingPathIn('db/cpu/2026-12-06/10');
  await writeFile(staging, bytes);
  return staging;
}

describe.skipIf(s3 === null)('uploads the store checks', () => {
  it('refuses a publish whose body changed on the way and keeps the staged file; stores the exact bytes sent straight', async () => {
    if (s3 === null) return;
    const target = new URL(s3.endpoint);
    const prefix = uniquePrefix('upload-check');
    const key = 'db/cpu/2026-12-06/10/f.parquet';
    const bytes = randomBytes(FILE_BYTES);

    const corrupted = await storage(await corruptingProxy(target), prefix);
    const staging = await stagedFile(corrupted, bytes);
    await expect(corrupted.publish(staging, key)).rejects.toMatchObject({ code: 'XAmzContentSHA256Mismatch' });
    await expect(access(staging)).resolves.toBeUndefined();

    const direct = await storage(Number(target.port), prefix);
    expect(await direct.sizeOf(key)).toBeNull();
    // A store of its own: its first request opens a connection, whose body the proxy changes.
    const corruptedAgain = await storage(await corruptingProxy(target), prefix);
    await corruptedAgain.put('db/cpu/small.bin', bytes.subarray(0, 1000)).then(
      () => expect.unreachable('a corrupted put is refused'),
      (error: unknown) => expect(error).toMatchObject({ code: 'XAmzContentSHA256Mismatch' }),
    );
    expect(await direct.sizeOf('db/cpu/small.bin')).toBeNull();

    await direct.publish(await stagedFile(direct, bytes), key);
    expect(Buffer.from(await direct.get(key)).equals(bytes)).toBe(true);
    await direct.deletePrefix('db/');
  });
});
