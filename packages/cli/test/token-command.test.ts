// Proves that `arc token` create/list/revoke/rotate/delete, run as the built CLI in a child process
// against a temporary data dir, change the tokens that TokenStore.verify accepts, never list token
// text, and answer every bad input with a message naming the problem: exit code 2 for a wrong
// command line, 1 when the store refuses (unknown token, name taken).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '@arc/auth';

const CLI_ENTRY = fileURLToPath(new URL('../dist/main.js', import.meta.url));

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let dataDir = '';

function arc(...args: string[]): CliResult {
  const env: NodeJS.ProcessEnv = { ...process.env, ARC_DATA_DIR: dataDir };
  delete env.ARC_CONFIG;
  const result = spawnSync(process.execPath, [CLI_ENTRY, 'token', ...args], { cwd: dataDir, env, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function created(result: CliResult): { token: string; id: string; name: string; permissions: string[]; databases: string[] | null } {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { token: string; id: string; name: string; permissions: string[]; databases: string[] | null };
}

/** A fresh store per check, as a running server would open it: sees the CLI's committed changes. */
async function verify(token: string): Promise<{ name: string } | null> {
  const store = TokenStore.open(join(dataDir, 'arc.db'));
  try {
    return await store.verify(token);
  } finally {
    store.close();
  }
}

beforeAll(() => {
  if (!existsSync(CLI_ENTRY)) throw new Error(`build the CLI first (npx tsc -b packages/cli): ${CLI_ENTRY} is missing`);
  dataDir = mkdtempSync(join(tmpdir(), 'arc-token-cli-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('arc token', () => {
  it('creates a token that verifies and is listed without its text', async () => {
    const token = created(arc('create', '--name', 'ingest', '--permissions', 'read,write', '--databases', 'metrics,logs', '--json'));
    expect(token).toMatchObject({ name: 'ingest', permissions: ['read', 'write'], databases: ['metrics', 'logs'], expires_at: null });
    // The same shape as POST /auth/tokens answers.
    expect(Object.keys(token).sort()).toEqual(['created_at', 'databases', 'expires_at', 'id', 'name', 'permissions', 'token']);
    expect(await verify(token.token)).toMatchObject({ id: token.id, name: 'ingest' });

    const listed = arc('list', '--json');
    expect(listed.code).toBe(0);
    expect(listed.stdout).not.toContain(token.token);
    expect(listed.stdout).not.toContain('scrypt$');
    const rows = JSON.parse(listed.stdout) as { id: string; name: string; enabled: boolean; last_used_at: string | null }[];
    expect(rows).toContainEqual(expect.objectContaining({ id: token.id, name: 'ingest', enabled: true }));

    const table = arc('list');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+PERMISSIONS\s+DATABASES\s+CREATED\s+LAST USED\s+EXPIRES\s+ENABLED/);
    expect(table.stdout).toContain('ingest');
    expect(table.stdout).not.toContain(token.token);
  });

  it('prints the token once in text form, with an RFC 3339 expiry', async () => {
    const result = arc('create', '--name', 'expiring', '--permissions', 'read', '--expires-at', '2099-01-31T00:00:00Z', '--description', 'for CI');
    expect(result.code).toBe(0);
    const token = /^token:\s+(\S+)$/m.exec(result.stdout)?.[1] ?? '';
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.stdout).toContain('expires:     2099-01-31T00:00:00.000Z');
    expect(result.stdout).toContain('not shown again');
    expect(await verify(token)).toMatchObject({ name: 'expiring', expiresAt: Date.parse('2099-01-31T00:00:00Z') });
  });

  it('revoke by name disables the token and says when a running server notices', async () => {
    const token = created(arc('create', '--name', 'to-revoke', '--permissions', 'read', '--json'));
    const result = arc('revoke', 'to-revoke');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('takes effect within 30 s on a running server');
    expect(await verify(token.token)).toBeNull();
    const rows = JSON.parse(arc('list', '--json').stdout) as { name: string; enabled: boolean }[];
    expect(rows).toContainEqual(expect.objectContaining({ name: 'to-revoke', enabled: false }));
  });

  it('rotate by id prints a new token that verifies while the old one does not', async () => {
    const old = created(arc('create', '--name', 'to-rotate', '--permissions', 'write', '--json'));
    const rotated = created(arc('rotate', old.id, '--json'));
    expect(rotated).toMatchObject({ id: old.id, name: 'to-rotate', permissions: ['write'] });
    expect(rotated.token).not.toBe(old.token);
    expect(await verify(rotated.token)).toMatchObject({ id: old.id });
    expect(await verify(old.token)).toBeNull();

    const text = arc('rotate', 'to-rotate');
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('takes effect within 30 s on a running server');
  });

  it('delete removes the token from the store and the list', async () => {
    const token = created(arc('create', '--name', 'to-delete', '--permissions', 'delete', '--json'));
    expect(arc('delete', token.id).code).toBe(0);
    expect(await verify(token.token)).toBeNull();
    expect(arc('list').stdout).not.toContain('to-delete');
  });

  it('revoke --json prints the disabled token and delete --json the deletion, as the token API does', () => {
    const token = created(arc('create', '--name', 'json-out', '--permissions', 'read', '--json'));
    const revoked = arc('revoke', 'json-out', '--json');
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: token.id, name: 'json-out', permissions: ['read'], enabled: false });
    const deleted = arc('delete', 'json-out', '--json');
    expect(deleted.code).toBe(0);
    expect(JSON.parse(deleted.stdout)).toEqual({ id: token.id, deleted: true });
  });

  const BAD_INPUTS: readonly { readonly args: readonly string[]; readonly message: string; readonly code: number }[] = [
    { args: ['create', '--name', 'x', '--permissions', 'read', '--bogus', '1'], message: "unknown option '--bogus'", code: 2 },
    { args: ['create', '--name'], message: "option '--name' needs a value", code: 2 },
    { args: ['create', '--name', '--permissions', 'read'], message: "option '--name' needs a value", code: 2 },
    { args: ['create', '--name', 'x'], message: "option '--permissions' is required", code: 2 },
    { args: ['create', '--permissions', 'read'], message: "option '--name' is required", code: 2 },
    { args: ['create', '--name', 'x', '--permissions', 'read,root'], message: "unknown permission 'root'", code: 2 },
    { args: ['create', '--name', 'x', '--permissions', 'read,'], message: "option '--permissions' has an empty item", code: 2 },
    { args: ['create', '--name', 'x', '--permissions', 'read', '--databases', 'bad/db'], message: "Invalid database name 'bad/db'", code: 1 },
    { args: ['create', '--name', 'bad name', '--permissions', 'read'], message: "Invalid token name 'bad name'", code: 1 },
    { args: ['create', '--name', 'ingest', '--permissions', 'read'], message: "A token named 'ingest' already exists", code: 1 },
    { args: ['create', '--name', 'x', '--permissions', 'read', '--expires-at', 'tomorrow'], message: "RFC 3339 time such as 2030-01-31T00:00:00Z, not 'tomorrow'", code: 2 },
    { args: ['create', '--name', 'x', '--permissions', 'read', '--expires-at', '2001-01-01T00:00:00Z'], message: "option '--expires-at' is in the past", code: 2 },
    { args: ['list', '--name', 'x'], message: "option '--name' is not accepted by 'token list'", code: 2 },
    { args: ['list', '--json=yes'], message: "Option '--json' does not take an argument", code: 2 },
    { args: ['revoke', 'no-such-token'], message: "unknown token 'no-such-token'", code: 1 },
    { args: ['rotate', '00000000-0000-0000-0000-000000000000'], message: "unknown token '00000000-0000-0000-0000-000000000000'", code: 1 },
    { args: ['delete', 'no-such-token'], message: "unknown token 'no-such-token'", code: 1 },
    { args: ['revoke'], message: "'token revoke' needs a token id or name", code: 2 },
    { args: ['delete', 'ingest', 'extra'], message: "'token delete' takes one token, not also 'extra'", code: 2 },
    { args: ['frobnicate'], message: "unknown subcommand 'token frobnicate'", code: 2 },
  ];

  it.each(BAD_INPUTS)('exits $code with: $message', ({ args, message, code }) => {
    const result = arc(...args);
    expect(result.code).toBe(code);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr.startsWith('arc token: ')).toBe(true);
  });

  it('leaves the store unchanged after refused commands', () => {
    const rows = JSON.parse(arc('list', '--json').stdout) as { name: string }[];
    expect(rows.map((row) => row.name).sort()).toEqual(['expiring', 'ingest', 'to-revoke', 'to-rotate']);
  });

  it('refuses to change an arc.db that copies a table shared through an object store, but lists it', () => {
    const store = TokenStore.open(join(dataDir, 'arc.db'));
    store.setSharedOrigin("minio bucket 'arc' (.arc/tokens.json)");
    store.close();
    try {
      for (const args of [['create', '--name', 'lost', '--permissions', 'read'], ['revoke', 'ingest'], ['delete', 'ingest']]) {
        const result = arc(...args);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain("are a copy of the table shared in the minio bucket 'arc' (.arc/tokens.json): run 'arc token' with the server's storage settings");
      }
      expect(arc('list').code).toBe(0);
    } finally {
      const unmarked = TokenStore.open(join(dataDir, 'arc.db'));
      unmarked.setSharedOrigin(null);
      unmarked.close();
    }
    expect(arc('list', '--json').stdout).toContain('"ingest"');
  });

  it('prints its usage, which documents the exit codes', () => {
    const result = arc('help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Exit codes (the reason of a non-zero exit is one line on stderr):\n  0  success\n  1  the store refused');
    expect(result.stdout).toContain('  2  usage error');
  });
});
