// Proves what the project's test S3 server (Ceph RADOS Gateway 16.2, run by scripts/s3-server.sh)
// does with the requests an object-storage backend relies on, through the minio client: conditional
// creates and replaces are atomic under races (and which conditions it ignores), listings see writes
// at once, multipart uploads land whole, and a stopped gateway refuses connections and brings the
// same data back when started again. A change of server or version that breaks one of these fails here.
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, type ClientOptions } from 'minio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../../scripts/s3-server.sh', import.meta.url));
const run = promisify(execFile);
/** Writers racing for one key in the race tests: enough to overlap on 2 cores, few enough to stay quick. */
const RACERS = 6;
const RACE_ROUNDS = 5;
/** The minio client's smallest part size is 5 MiB; 6 MiB parts make a 20 MiB object four parts. */
const PART_SIZE = 6 * 1024 * 1024;

/** True when Ceph's gateway is installed; throws under CI=true when it is not (CI installs it). */
function gatewayInstalled(): boolean {
  const found = spawnSync('radosgw', ['--version'], { encoding: 'utf8' }).status === 0;
  if (!found && process.env.CI === 'true') throw new Error('radosgw is not installed: CI runs scripts/s3-server.sh install first');
  return found;
}

interface S3Server {
  readonly options: ClientOptions;
  readonly bucket: string;
}

/** Starts (or finds running) the cluster in `dir` and reads its endpoint from `s3-server.sh env`. */
async function startServer(dir: string, port: string): Promise<S3Server> {
  const env = { ...process.env, ARC_S3_PORT: port };
  await run('bash', [SCRIPT, 'start', dir], { env, timeout: 300_000 });
  const { stdout } = await run('bash', [SCRIPT, 'env', dir]);
  const vars = new Map([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  const endpoint = new URL(vars.get('ARC_TEST_S3_ENDPOINT') ?? '');
  return {
    bucket: vars.get('ARC_TEST_S3_BUCKET') ?? '',
    options: {
      endPoint: endpoint.hostname,
      port: Number(endpoint.port),
      useSSL: false,
      pathStyle: true,
      region: vars.get('ARC_TEST_S3_REGION') ?? 'us-east-1',
      accessKey: vars.get('ARC_TEST_S3_ACCESS_KEY') ?? '',
      secretKey: vars.get('ARC_TEST_S3_SECRET_KEY') ?? '',
    },
  };
}

/** 'ok' when the promise resolves, else the error's code (S3 error code or errno name) or message. */
async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    const { code, message } = error as { code?: string; message: string };
    return code ?? message;
  }
}

async function readBody(client: Client, bucket: string, key: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await client.getObject(bucket, key)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

async function listNames(client: Client, bucket: string, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.listObjectsV2(bucket, prefix, true)) names.push((item as { name: string }).name);
  return names;
}

const installed = gatewayInstalled();

describe.skipIf(!installed)('the test S3 server (RADOS Gateway 16.2)', () => {
  let server: S3Server;
  let client: Client;
  /** No retries: a race's losers show what the server answered, not what a retry answered. */
  let noRetry: Client;
  const prefix = `s3-server-test-${String(process.pid)}-${String(Date.now())}`;

  beforeAll(async () => {
    server = await startServer(process.env.ARC_S3_DIR ?? '/tmp/arc-s3', process.env.ARC_S3_PORT ?? '7480');
    client = new Client(server.options);
    noRetry = new Client({ ...server.options, retryOptions: { disableRetry: true } });
  }, 300_000);

  it('creates a key with If-None-Match: * only while it is absent (412 PreconditionFailed after)', async () => {
    const key = `${prefix}/create-once`;
    expect(await outcome(client.putObject(server.bucket, key, Buffer.from('first'), 5, { 'If-None-Match': '*' }))).toBe('ok');
    expect(await outcome(client.putObject(server.bucket, key, Buffer.from('second'), 6, { 'If-None-Match': '*' }))).toBe('PreconditionFailed');
    expect(await readBody(client, server.bucket, key)).toBe('first');
  });

  it('lets exactly one of concurrent If-None-Match: * writers win; the others get PreconditionFailed', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const key = `${prefix}/create-race-${String(round)}`;
      const outcomes = await Promise.all(
        Array.from({ length: RACERS }, (_, writer) =>
          outcome(noRetry.putObject(server.bucket, key, Buffer.from(`writer-${String(writer)}`), undefined, { 'If-None-Match': '*' })),
        ),
      );
      const winners = outcomes.flatMap((result, writer) => (result === 'ok' ? [writer] : []));
      expect(winners).toHaveLength(1);
      expect(outcomes.filter((result) => result !== 'ok').every((result) => result === 'PreconditionFailed')).toBe(true);
      expect(await readBody(client, server.bucket, key)).toBe(`writer-${String(winners[0])}`);
    }
  });

  it('replaces with If-Match only on the current ETag written unquoted; the quoted form never matches', async () => {
    const key = `${prefix}/replace`;
    const first = await client.putObject(server.bucket, key, Buffer.from('v1'));
    // The client hands the ETag back unquoted; it is the object's MD5, as statObject reports it.
    expect(first.etag).toBe(createHash('md5').update('v1').digest('hex'));
    expect((await client.statObject(server.bucket, key)).etag).toBe(first.etag);
    // RGW 16.2 compares the header with the stored, unquoted ETag: `"etag"` (as HTTP writes it) is refused.
    expect(await outcome(client.putObject(server.bucket, key, Buffer.from('v2'), 2, { 'If-Match': `"${first.etag}"` }))).toBe('PreconditionFailed');
    expect(await outcome(client.putObject(server.bucket, key, Buffer.from('v2'), 2, { 'If-Match': first.etag }))).toBe('ok');
    expect(await outcome(client.putObject(server.bucket, key, Buffer.from('v3'), 2, { 'If-Match': first.etag }))).toBe('PreconditionFailed');
    expect(await outcome(client.putObject(server.bucket, `${prefix}/replace-absent`, Buffer.from('v1'), 2, { 'If-Match': first.etag }))).toBe(
      'PreconditionFailed',
    );
    expect(await readBody(client, server.bucket, key)).toBe('v2');
  });

  it('lets exactly one of concurrent If-Match writers win; losers get 412 or a 500 (the write they raced lost)', async () => {
    for (let round = 0; round < RACE_ROUNDS; round++) {
      const key = `${prefix}/replace-race-${String(round)}`;
      const { etag } = await client.putObject(server.bucket, key, Buffer.from('base'));
      const outcomes = await Promise.all(
        Array.from({ length: RACERS }, (_, writer) =>
          outcome(noRetry.putObject(server.bucket, key, Buffer.from(`writer-${String(writer)}`), undefined, { 'If-Match': etag })),
        ),
      );
      const winners = outcomes.flatMap((result, writer) => (result === 'ok' ? [writer] : []));
      expect(winners).toHaveLength(1);
      // A loser that passed the precondition before the winner committed is cancelled inside RGW
      // (ECANCELED) and answered 500 UnknownError; the client, retries off, reports that status.
      for (const result of outcomes.filter((r) => r !== 'ok')) expect(result).toMatch(/^PreconditionFailed$|HTTP status: 500/);
      expect(await readBody(client, server.bucket, key)).toBe(`writer-${String(winners[0])}`);
    }
  });

  it('ignores If-Match on DELETE: a stale ETag still deletes (no conditional delete)', async () => {
    const key = `${prefix}/delete`;
    await client.putObject(server.bucket, key, Buffer.from('d'));
    const response = await client.makeRequestAsync(
      { method: 'DELETE', bucketName: server.bucket, objectName: key, headers: { 'If-Match': 'deadbeefdeadbeefdeadbeefdeadbeef' } },
      '',
      [200, 204, 412],
    );
    response.resume();
    expect(response.statusCode).toBe(204);
    expect(await outcome(client.statObject(server.bucket, key))).toBe('NotFound');
  });

  it('lists a key right after its PUT and no longer right after its DELETE', async () => {
    const listed = `${prefix}/listed/`;
    for (let index = 0; index < 5; index++) {
      const key = `${listed}${String(index)}`;
      await client.putObject(server.bucket, key, Buffer.from('x'));
      expect(await listNames(client, server.bucket, listed)).toContain(key);
    }
    await client.removeObject(server.bucket, `${listed}0`);
    expect(await listNames(client, server.bucket, listed)).not.toContain(`${listed}0`);
  });

  it('stores a multipart upload whole but answers it with an empty ETag (statObject has the real one)', async () => {
    const key = `${prefix}/multipart`;
    const bytes = randomBytes(20 * 1024 * 1024);
    const parts = new Client({ ...server.options, partSize: PART_SIZE });
    const result = await parts.putObject(server.bucket, key, Readable.from([bytes]), bytes.length);
    expect(result.etag).toBe('');
    const stat = await client.statObject(server.bucket, key);
    expect(stat.size).toBe(bytes.length);
    expect(stat.etag).toMatch(/^[0-9a-f]{32}-\d+$/);
    // If-None-Match is not honoured on multipart uploads: an existing key is replaced.
    expect(await outcome(parts.putObject(server.bucket, key, Readable.from([bytes]), bytes.length, { 'If-None-Match': '*' }))).toBe('ok');
  });
});

// Its own cluster: stopping the shared gateway would break test files running beside this one.
describe.skipIf(!installed)('a gateway outage (its own cluster, stop-gateway / start-gateway)', () => {
  const dir = path.join(tmpdir(), 'arc-s3-outage-test');
  let server: S3Server;
  let client: Client;

  beforeAll(async () => {
    server = await startServer(dir, '0');
    client = new Client(server.options);
  }, 300_000);

  afterAll(async () => {
    // Stopped, not destroyed: the next run starts warm (seconds) instead of creating a cluster.
    await run('bash', [SCRIPT, 'stop', dir], { timeout: 120_000 });
  }, 120_000);

  it('refuses connections while the gateway is stopped, then serves the same data', async () => {
    const key = `outage-${String(Date.now())}`;
    const { etag } = await client.putObject(server.bucket, key, Buffer.from('kept'));
    await run('bash', [SCRIPT, 'stop-gateway', dir]);
    const down = await Promise.all([0, 1, 2].map(() => outcome(client.statObject(server.bucket, key))));
    // A pooled keep-alive socket to the stopped gateway fails as ECONNRESET; new connections as ECONNREFUSED.
    for (const result of down) expect(result).toMatch(/^(ECONNREFUSED|ECONNRESET)$/);
    expect(down).toContain('ECONNREFUSED');
    await run('bash', [SCRIPT, 'start-gateway', dir], { timeout: 120_000 });
    expect((await client.statObject(server.bucket, key)).etag).toBe(etag);
    expect(await readBody(client, server.bucket, key)).toBe('kept');
  }, 180_000);
});
