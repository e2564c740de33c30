// Proves that tokens are valid on every node of a bucket: two real servers (two data directories, one S3 bucket and prefix) share one token table, so a token created on A authenticates on B, and once revoked on A is refused by B within storage.listing_refresh_s plus one read of the table, also when `arc token` made the change; it runs against the S3 server of scripts/s3-server.sh and is skipped, saying so, without ARC_TEST_S3_ENDPOINT.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { NO_S3_REASON, s3ServerEnv, testS3, uniquePrefix } from '../../../test/support/s3-test-env.js';
import { TEST_TOKEN, startArc, type ArcProcess } from './support/arc-process.js';
import { createToken, send } from './support/token-helpers.js';

const CLI_ENTRY = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const s3 = testS3();
if (s3 === null) console.warn(`cluster-tokens.e2e.test.ts skipped: ${NO_S3_REASON}`);

/** The nodes read the shared table every second (the smallest listing_refresh_s). */
const REFRESH_MS = 1000;
/**
 * The bound the docs state is one refresh interval plus one read of the object: a read here takes
 * milliseconds, the rest is room for a loaded two-core test machine (and the client's own poll).
 */
const REVOKE_BOUND_MS = REFRESH_MS + 4000;

describe.skipIf(s3 === null)(`two nodes on one bucket share tokens${s3 === null ? ` (skipped: ${NO_S3_REASON})` : ''}`, () => {
  const nodes: ArcProcess[] = [];
  let a: ArcProcess;
  let b: ArcProcess;
  let env: Record<string, string> = {};

  /** `arc token ...` as run on node A's machine (its data directory, the same bucket). */
  function arcToken(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, [CLI_ENTRY, 'token', ...args], { env: { PATH: process.env.PATH ?? '', ...env, ARC_DATA_DIR: a.dataDir }, encoding: 'utf8', timeout: 60_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  beforeAll(async () => {
    if (s3 === null) throw new Error(NO_S3_REASON);
    // Same bucket and prefix for both nodes; a prefix of their own, since the bucket holds other tests' objects.
    env = { ...s3ServerEnv(s3, uniquePrefix('cluster-tokens')), ARC_STORAGE_LISTING_REFRESH_S: String(REFRESH_MS / 1000) };
    // A first: it writes the shared table with its bootstrap token; B adopts that table.
    a = await startArc(env);
    nodes.push(a);
    b = await startArc(env);
    nodes.push(b);
  }, 120_000);

  afterAll(async () => {
    for (const node of nodes) {
      await node.stop();
      await node.cleanup();
    }
  });

  it('B adopted the table A wrote and created no bootstrap token of its own', () => {
    expect(b.output()).toMatch(/adopted the shared token table \.arc\/tokens\.json \(revision 1, 1 token\(s\)\); no bootstrap token created on this node/);
    expect(a.output()).toMatch(/wrote this node's 1 token\(s\) to \.arc\/tokens\.json/);
  });

  it('a token created on A works on B; revoked on A, B refuses it within the refresh interval plus one read', async () => {
    const created = await createToken(a.url, { name: 'cluster-writer', permissions: ['read', 'write'] });
    const usable = await pollUntil('B accepts the token created on A', 10 * REFRESH_MS, () => send(b.url, 'GET', '/api/v1/auth/verify', { token: created.token }), (answer) => answer.status === 200);
    expect(usable.value.json()).toMatchObject({ valid: true, name: 'cluster-writer', id: created.id });
    const write = await send(b.url, 'POST', '/api/v1/write?db=cluster', { token: created.token, body: 'cpu,host=b usage=1 1700000000000000000', headers: { 'Content-Type': 'text/plain' } });
    expect(write.status).toBe(204);
    const listed = await send(b.url, 'GET', '/api/v1/auth/tokens', { token: TEST_TOKEN });
    expect((listed.json() as { tokens: { name: string }[] }).tokens.map((token) => token.name)).toContain('cluster-writer');

    expect((await send(a.url, 'POST', `/api/v1/auth/tokens/${String(created.id)}/revoke`)).status).toBe(200);
    const refused = await pollUntil('B refuses the token revoked on A', REVOKE_BOUND_MS, () => send(b.url, 'GET', '/api/v1/auth/verify', { token: created.token }), (answer) => answer.status === 401);
    expect(refused.value.json()).toEqual({ error: 'Invalid or expired token' });
    console.info(`cluster-tokens: created on A, usable on B after ${String(usable.ms)} ms; revoked on A, refused on B after ${String(refused.ms)} ms (listing_refresh_s = ${String(REFRESH_MS / 1000)})`);
  });

  it('a token created on B can be deleted on A, and both nodes then refuse it', async () => {
    const created = await createToken(b.url, { name: 'made-on-b', permissions: ['read'] });
    // A's copy may not hold it yet: the delete goes through the shared table, not A's copy.
    expect((await send(a.url, 'DELETE', `/api/v1/auth/tokens/${String(created.id)}`)).status).toBe(200);
    for (const node of [a, b]) {
      await pollUntil(`${node.url} refuses the deleted token`, REVOKE_BOUND_MS, () => send(node.url, 'GET', '/api/v1/auth/verify', { token: created.token }), (answer) => answer.status === 401);
    }
  });

  it('`arc token` on A\'s machine changes the shared table: B accepts its token, then refuses it once revoked', async () => {
    const createdByCli = arcToken('create', '--name', 'from-cli', '--permissions', 'read', '--json');
    expect(createdByCli.stderr).toBe('');
    expect(createdByCli.code).toBe(0);
    const created = JSON.parse(createdByCli.stdout) as { token: string; id: number };
    await pollUntil('B accepts the token arc token created', 10 * REFRESH_MS, () => send(b.url, 'GET', '/api/v1/auth/verify', { token: created.token }), (answer) => answer.status === 200);
    const revoked = arcToken('revoke', 'from-cli');
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/takes effect on every node within 1 s/);
    await pollUntil('B refuses the token arc token revoked', REVOKE_BOUND_MS, () => send(b.url, 'GET', '/api/v1/auth/verify', { token: created.token }), (answer) => answer.status === 401);
  });

  it('`arc token` without the storage settings refuses to change A\'s copy of the shared table', () => {
    const result = spawnSync(process.execPath, [CLI_ENTRY, 'token', 'create', '--name', 'local-only', '--permissions', 'read'], {
      env: { PATH: process.env.PATH ?? '', ARC_DATA_DIR: a.dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/are a copy of the table shared in the minio bucket '[^']+' under prefix '[^']+' \(\.arc\/tokens\.json\): run 'arc token' with the server's storage settings/);
  });
});
