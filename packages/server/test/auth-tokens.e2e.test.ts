// Proves the token API against the real server: create/list/get/patch/rotate/revoke/delete with
// exact bodies and every validation error, changes that take rights away applying at the next
// request, every token transport the README lists, `arc token` changing the store of a running
// server, no token text in the server's output, and `auth.enabled = false` announced loudly.
import { expectCleanStop, expectCleanStopAndRemove } from './support/clean-stop.js';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { msgpack } from './support/arc-client.js';
import { TEST_TOKEN, startArc, storageEnv, type ArcProcess } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';
import { createToken, send, type CreatedToken } from './support/token-helpers.js';

// A one-second cache, so that changes made by `arc token` (another process) show within a poll.
const shared = useSharedArc({ ARC_AUTH_CACHE_TTL_SECONDS: '1' });
const url = (): string => shared.arc.url;
const CLI_ENTRY = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url));
const issuedTokens: string[] = [];

function remember(token: CreatedToken): CreatedToken {
  issuedTokens.push(token.token);
  return token;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The token store change lands in the server's cache on its own; no signal tells when. */
const TOKEN_CHANGE_DEADLINE_MS = 10_000;

describe('token API', () => {
  it('creates a token (201, text shown once) that authenticates, and lists it without the text', async () => {
    const created = await send(url(), 'POST', '/auth/tokens', {
      body: { name: 'grafana', description: 'dashboards', permissions: ['read'], databases: ['prod', 'staging'], expires_at: '2099-01-31T00:00:00Z' },
    });
    expect(created.status).toBe(201);
    const token = remember(created.json() as CreatedToken);
    expect(Object.keys(token).sort()).toEqual(['created_at', 'databases', 'expires_at', 'id', 'message', 'name', 'permissions', 'success', 'token']);
    expect(Number.isInteger(token.id)).toBe(true);
    expect(token).toMatchObject({ name: 'grafana', permissions: ['read'], databases: ['prod', 'staging'], expires_at: '2099-01-31T00:00:00.000Z' });
    expect(token.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(token.created_at).toMatch(ISO_TIME);

    const verify = await send(url(), 'GET', '/auth/verify', { token: token.token });
    expect(verify.status).toBe(200);
    const verified = { id: token.id, name: 'grafana', permissions: ['read'], databases: ['prod', 'staging'], expires_at: '2099-01-31T00:00:00.000Z', enabled: true };
    expect(verify.json()).toEqual({ valid: true, token_info: verified, ...verified });

    const list = await send(url(), 'GET', '/api/v1/auth/tokens');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(token.token);
    expect(list.text).not.toContain('scrypt');
    const listed = list.json() as { success: boolean; tokens: { id: number }[]; count: number };
    expect(listed.success).toBe(true);
    expect(listed.count).toBe(listed.tokens.length);
    const one = await send(url(), 'GET', `/auth/tokens/${token.id}`);
    expect(one.status).toBe(200);
    const found = one.json() as { success: boolean; token: unknown };
    expect(found.success).toBe(true);
    expect(listed.tokens).toContainEqual(found.token);
    expect(found.token).toEqual({
      id: token.id,
      name: 'grafana',
      description: 'dashboards',
      permissions: ['read'],
      databases: ['prod', 'staging'],
      created_at: token.created_at,
      last_used_at: expect.stringMatching(ISO_TIME) as string,
      expires_at: '2099-01-31T00:00:00.000Z',
      enabled: true,
    });
  });

  it('accepts the token from every transport the README lists', async () => {
    const token = remember(await createToken(url(), { name: 'transports', permissions: ['read'] }));
    const basic = (user: string): string => `Basic ${Buffer.from(`${user}:${token.token}`).toString('base64')}`;
    const forms: [string, Record<string, string>][] = [
      ['/auth/verify', { Authorization: `Bearer ${token.token}` }],
      ['/auth/verify', { Authorization: `Token ${token.token}` }],
      ['/auth/verify', { 'x-api-key': token.token }],
      ['/auth/verify', { Authorization: basic('influx') }],
      [`/auth/verify?p=${token.token}`, {}],
      [`/api/v1/auth/verify?u=someone&p=${token.token}`, {}],
    ];
    for (const [path, headers] of forms) {
      const answer = await send(url(), 'GET', path, { token: null, headers });
      expect(answer.status, `${path} ${JSON.stringify(Object.keys(headers))}`).toBe(200);
      expect(answer.json()).toMatchObject({ name: 'transports' });
    }
  });

  it('rotate: the new text works and the old one stops at once, even though it was cached', async () => {
    const token = remember(await createToken(url(), { name: 'rotating', permissions: ['write'] }));
    expect((await send(url(), 'GET', '/auth/verify', { token: token.token })).status).toBe(200);
    const rotated = await send(url(), 'POST', `/api/v1/auth/tokens/${token.id}/rotate`);
    expect(rotated.status).toBe(200);
    const fresh = remember(rotated.json() as CreatedToken);
    expect(fresh).toEqual({ ...token, token: fresh.token, new_token: fresh.token, message: expect.stringContaining('rotated') as string });
    expect(fresh.token).not.toBe(token.token);
    expect((await send(url(), 'GET', '/auth/verify', { token: token.token })).json()).toEqual({ error: 'Invalid or expired token' });
    expect((await send(url(), 'GET', '/auth/verify', { token: fresh.token })).status).toBe(200);
  });

  it('patch: taking a permission away applies to the next request; revoke, re-enable and delete too', async () => {
    const token = remember(await createToken(url(), { name: 'patched', permissions: ['write'] }));
    const write = () => shared.client.write(msgpack({ m: 'patched', t: 1_760_630_400_000, fields: { v: 1 } }), { token: token.token, database: 'patchdb' });
    expect((await write()).status).toBe(204);
    const patched = await send(url(), 'PATCH', `/auth/tokens/${token.id}`, { body: { permissions: ['write'], databases: ['other'], description: 'narrowed' } });
    expect(patched.status).toBe(200);
    expect(patched.json()).toMatchObject({ success: true, token: { id: token.id, databases: ['other'], description: 'narrowed', enabled: true } });
    const denied = await write();
    expect([denied.status, denied.json()]).toEqual([403, { error: "Permission denied: no access to database 'patchdb'" }]);

    const revoked = await send(url(), 'POST', `/auth/tokens/${token.id}/revoke`);
    expect([revoked.status, (revoked.json() as { token: { enabled: boolean } }).token.enabled]).toEqual([200, false]);
    expect((await send(url(), 'GET', '/auth/verify', { token: token.token })).status).toBe(401);
    expect((await send(url(), 'PATCH', `/auth/tokens/${token.id}`, { body: { enabled: true, databases: null } })).status).toBe(200);
    expect((await write()).status).toBe(204);

    const deleted = await send(url(), 'DELETE', `/api/v1/auth/tokens/${token.id}`);
    expect([deleted.status, deleted.json()]).toEqual([200, { success: true, message: 'Token deleted', id: token.id, deleted: true }]);
    expect((await write()).status).toBe(401);
    for (const [method, path] of [
      ['GET', `/auth/tokens/${token.id}`],
      ['PATCH', `/auth/tokens/${token.id}`],
      ['DELETE', `/auth/tokens/${token.id}`],
      ['POST', `/auth/tokens/${token.id}/rotate`],
      ['POST', `/auth/tokens/${token.id}/revoke`],
    ] as const) {
      const answer = await send(url(), method, path, method === 'PATCH' ? { body: { description: 'x' } } : {});
      expect([answer.status, answer.json()], `${method} ${path}`).toEqual([404, { error: `Token ${token.id} not found`, code: 'ARC_AUTH_TOKEN_NOT_FOUND', id: String(token.id) }]);
    }
  });

  const BAD_CREATES: readonly { readonly body: unknown; readonly status: number; readonly error: Record<string, unknown> }[] = [
    { body: '', status: 400, error: { error: 'Request body must be a JSON object', code: 'ARC_BAD_JSON' } },
    { body: '{"name":', status: 400, error: { error: expect.stringMatching(/^Request body is not valid JSON: /) as string, code: 'ARC_BAD_JSON' } },
    { body: [], status: 400, error: { error: 'Request body must be a JSON object', code: 'ARC_BAD_JSON' } },
    { body: { permissions: ['read'] }, status: 400, error: { error: "Invalid request body: field 'name' is required", code: 'ARC_BAD_REQUEST_BODY', field: 'name' } },
    { body: { name: 7, permissions: ['read'] }, status: 400, error: { error: "Invalid request body: field 'name' must be a string", code: 'ARC_BAD_REQUEST_BODY', field: 'name' } },
    { body: { name: 'x' }, status: 400, error: { error: "Invalid request body: field 'permissions' is required", code: 'ARC_BAD_REQUEST_BODY', field: 'permissions' } },
    { body: { name: 'x', permissions: 'read' }, status: 400, error: { error: "Invalid request body: field 'permissions' must be an array of permission names", code: 'ARC_BAD_REQUEST_BODY', field: 'permissions' } },
    { body: { name: 'x', permissions: ['read', 1] }, status: 400, error: { error: "Invalid request body: field 'permissions[1]' must be a string", code: 'ARC_BAD_REQUEST_BODY', field: 'permissions[1]' } },
    { body: { name: 'x', permissions: ['root'] }, status: 400, error: { error: "Invalid permission 'root': must be read, write, delete or admin", code: 'ARC_AUTH_BAD_PERMISSION' } },
    { body: { name: 'x', permissions: [] }, status: 400, error: { error: 'A token needs at least one permission', code: 'ARC_AUTH_BAD_PERMISSION' } },
    { body: { name: 'bad name', permissions: ['read'] }, status: 400, error: { error: "Invalid token name 'bad name': must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", code: 'ARC_AUTH_BAD_TOKEN_NAME', name: 'bad name' } },
    { body: { name: 'x', permissions: ['read'], description: 'd'.repeat(1025) }, status: 400, error: { error: 'Token description longer than 1024 characters', code: 'ARC_AUTH_BAD_DESCRIPTION' } },
    { body: { name: 'x', permissions: ['read'], databases: [] }, status: 400, error: { error: 'A database list needs at least one database (omit it for all databases)', code: 'ARC_AUTH_BAD_DATABASE' } },
    { body: { name: 'x', permissions: ['read'], databases: ['../etc'] }, status: 400, error: { error: "Invalid database name '../etc': must match ^[A-Za-z][A-Za-z0-9_-]{0,63}$", code: 'ARC_BAD_DATABASE_NAME', database: '../etc' } },
    { body: { name: 'x', permissions: ['read'], databases: 'prod' }, status: 400, error: { error: "Invalid request body: field 'databases' must be an array of database names or null", code: 'ARC_BAD_REQUEST_BODY', field: 'databases' } },
    { body: { name: 'x', permissions: ['read'], expires_at: 'tomorrow' }, status: 400, error: { error: "Invalid request body: field 'expires_at' must be an RFC 3339 time such as 2030-01-31T00:00:00Z, not 'tomorrow'", code: 'ARC_BAD_REQUEST_BODY', field: 'expires_at' } },
    { body: { name: 'x', permissions: ['read'], expires_at: 1_900_000_000 }, status: 400, error: { error: "Invalid request body: field 'expires_at' must be an RFC 3339 time or null", code: 'ARC_BAD_REQUEST_BODY', field: 'expires_at' } },
    { body: { name: 'x', permissions: ['read'], expires_at: '2001-01-01T00:00:00Z' }, status: 400, error: { error: 'Token expiry 2001-01-01T00:00:00.000Z is not in the future', code: 'ARC_AUTH_BAD_EXPIRY' } },
    { body: { name: 'x', permissions: ['read'], admin: true }, status: 400, error: { error: "Invalid request body: unknown field 'admin'", code: 'ARC_BAD_REQUEST_BODY', field: 'admin' } },
    { body: { name: 'bootstrap', permissions: ['read'] }, status: 409, error: { error: "A token named 'bootstrap' already exists", code: 'ARC_AUTH_TOKEN_NAME_TAKEN', name: 'bootstrap' } },
  ];

  it.each(BAD_CREATES)('POST /auth/tokens $body: $status', async ({ body, status, error }) => {
    const before = ((await send(url(), 'GET', '/auth/tokens')).json() as { count: number }).count;
    const answer = await send(url(), 'POST', '/auth/tokens', { body: typeof body === 'string' ? body : JSON.stringify(body) });
    expect(answer.status, answer.text).toBe(status);
    expect(answer.json()).toEqual(error);
    expect(((await send(url(), 'GET', '/auth/tokens')).json() as { count: number }).count).toBe(before);
  });

  it('takes expires_in as a duration from now (24h, 30d), refuses it beside expires_at, and ids that are not integers', async () => {
    const before = Date.now();
    const created = await send(url(), 'POST', '/auth/tokens', { body: { name: 'in-a-day', permissions: ['read'], expires_in: '24h' } });
    expect(created.status).toBe(201);
    const token = remember(created.json() as CreatedToken);
    const expiresAt = Date.parse(token.expires_at ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 86_400_000);
    const patched = await send(url(), 'PATCH', `/auth/tokens/${token.id}`, { body: { expires_in: '30d' } });
    expect(Date.parse((patched.json() as { token: { expires_at: string } }).token.expires_at)).toBeGreaterThanOrEqual(before + 30 * 86_400_000);
    const both = await send(url(), 'POST', '/auth/tokens', { body: { name: 'both', permissions: ['read'], expires_in: '1d', expires_at: '2099-01-01T00:00:00Z' } });
    expect([both.status, both.json()]).toEqual([400, { error: "Invalid request body: give one of 'expires_at' and 'expires_in', not both", code: 'ARC_BAD_REQUEST_BODY', field: 'expires_in' }]);
    const bad = await send(url(), 'POST', '/auth/tokens', { body: { name: 'bad', permissions: ['read'], expires_in: '1w' } });
    expect([bad.status, bad.json()]).toEqual([
      400,
      { error: "Invalid request body: field 'expires_in' must be a positive duration such as '24h', '90m' or '30d', not '1w'", code: 'ARC_BAD_REQUEST_BODY', field: 'expires_in' },
    ]);
    for (const id of ['abc', '0', '-1', '1.5', '9999999999999999']) {
      const answer = await send(url(), 'GET', `/auth/tokens/${id}`);
      expect([answer.status, answer.json()], id).toEqual([400, { error: `Invalid token id '${id}': token ids are positive integers`, code: 'ARC_AUTH_BAD_TOKEN_ID', id }]);
    }
  });

  it('refuses an empty or unknown patch and a rename onto a taken name, changing nothing', async () => {
    const token = remember(await createToken(url(), { name: 'steady', permissions: ['read'] }));
    const before = (await send(url(), 'GET', `/auth/tokens/${token.id}`)).json();
    const cases: [unknown, number, Record<string, unknown>][] = [
      [{}, 400, { error: 'Invalid request body: give at least one of name, description, permissions, databases, expires_at, expires_in, enabled', code: 'ARC_BAD_REQUEST_BODY' }],
      [{ enabled: 'yes' }, 400, { error: "Invalid request body: field 'enabled' must be true or false", code: 'ARC_BAD_REQUEST_BODY', field: 'enabled' }],
      [{ token: 'mine' }, 400, { error: "Invalid request body: unknown field 'token'", code: 'ARC_BAD_REQUEST_BODY', field: 'token' }],
      [{ name: 'bootstrap' }, 409, { error: "A token named 'bootstrap' already exists", code: 'ARC_AUTH_TOKEN_NAME_TAKEN', name: 'bootstrap' }],
    ];
    for (const [body, status, error] of cases) {
      const answer = await send(url(), 'PATCH', `/auth/tokens/${token.id}`, { body });
      expect([answer.status, answer.json()], JSON.stringify(body)).toEqual([status, error]);
    }
    expect((await send(url(), 'GET', `/auth/tokens/${token.id}`)).json()).toEqual(before);
  });
});

describe('arc token against a running server (same arc.db, WAL)', () => {
  function arcToken(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    // The server's storage too: with an object store, `arc token` changes the table the nodes share in the bucket.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', ARC_DATA_DIR: shared.arc.dataDir, ...storageEnv(shared.arc.dataDir) };
    const result = spawnSync(process.execPath, [CLI_ENTRY, 'token', ...args], { cwd: shared.arc.dataDir, env, encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('a token created by the CLI works at once; revoked by the CLI it stops within the cache TTL', async () => {
    const created = arcToken('create', '--name', 'from-cli', '--permissions', 'write', '--databases', 'clidb', '--json');
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as CreatedToken;
    issuedTokens.push(token.token);
    const write = async () => (await shared.client.write(msgpack({ m: 'cli', t: 1_760_630_400_000, fields: { v: 1 } }), { token: token.token, database: 'clidb' })).status;
    expect(await write()).toBe(204);
    // The server sees the CLI's token in its own list.
    expect((await send(url(), 'GET', `/auth/tokens/${token.id}`)).json()).toMatchObject({ token: { name: 'from-cli', databases: ['clidb'] } });

    expect(arcToken('revoke', 'from-cli').code).toBe(0);
    await pollUntil('the revoked token refused', TOKEN_CHANGE_DEADLINE_MS, write, (status) => status === 401);

    const rotated = arcToken('rotate', String(token.id), '--json');
    expect(rotated.code).toBe(0);
    const fresh = JSON.parse(rotated.stdout) as CreatedToken;
    issuedTokens.push(fresh.token);
    // Rotating does not re-enable: the new text is refused too until enabled again.
    expect((await send(url(), 'GET', '/auth/verify', { token: fresh.token })).status).toBe(401);
    expect((await send(url(), 'PATCH', `/auth/tokens/${token.id}`, { body: { enabled: true } })).status).toBe(200);
    expect((await send(url(), 'GET', '/auth/verify', { token: fresh.token })).status).toBe(200);
    const listed = arcToken('list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ id: token.id, name: 'from-cli', enabled: true }));
  });

  it('never printed a token text, not even the preset bootstrap token', () => {
    const output = shared.arc.output();
    expect(output).toContain('Arc bootstrap admin token created from ARC_AUTH_BOOTSTRAP_TOKEN');
    expect(output).not.toContain(TEST_TOKEN);
    expect(issuedTokens.length).toBeGreaterThan(5);
    for (const token of issuedTokens) expect(output).not.toContain(token);
  });
});

describe('servers of their own', () => {
  const started: ArcProcess[] = [];
  afterAll(async () => {
    for (const arc of started) {
      await expectCleanStopAndRemove(arc);
    }
  });

  it('prints a generated bootstrap admin token once, on the first start only', async () => {
    const first = await startArc({ ARC_AUTH_BOOTSTRAP_TOKEN: '' });
    started.push(first);
    const printed = /^Arc bootstrap admin token \(printed once, store it now\): ([A-Za-z0-9_-]{43})$/m.exec(first.output())?.[1];
    expect(printed).toBeDefined();
    const verify = await send(first.url, 'GET', '/auth/verify', { token: printed ?? '' });
    expect(verify.json()).toMatchObject({ valid: true, name: 'bootstrap', permissions: ['admin'], databases: null });
    expect(first.output().split(printed ?? '').length - 1).toBe(1);
    await expectCleanStop(first);
    const second = await startArc({ ARC_AUTH_BOOTSTRAP_TOKEN: '' }, first.dataDir);
    started.push(second);
    expect(second.output()).not.toContain('bootstrap admin token');
    expect((await send(second.url, 'GET', '/auth/verify', { token: printed ?? '' })).status).toBe(200);
  });

  it('auth.enabled = false is logged loudly, lets every request through as admin, and has no token store', async () => {
    const arc = await startArc({ ARC_AUTH_ENABLED: 'false' });
    started.push(arc);
    expect(arc.output()).toMatch(/"level":"warn".*"msg":"AUTHENTICATION IS DISABLED \(auth\.enabled = false\)/);
    const verify = await send(arc.url, 'GET', '/auth/verify', { token: null });
    const anyone = { id: 0, name: 'auth-disabled', permissions: ['admin'], databases: null, expires_at: null, enabled: true };
    expect(verify.json()).toEqual({ valid: true, token_info: anyone, ...anyone });
    const tokens = await send(arc.url, 'GET', '/auth/tokens', { token: null });
    expect([tokens.status, tokens.json()]).toEqual([
      404,
      { error: 'Token management is unavailable: authentication is disabled (auth.enabled = false)', code: 'ARC_AUTH_DISABLED' },
    ]);
    const write = await fetch(`${arc.url}/write/v2/msgpack`, { method: 'POST', body: msgpack({ m: 'open', t: 1_760_630_400_000, fields: { v: 1 } }) });
    expect(write.status).toBe(204);
  });
});
