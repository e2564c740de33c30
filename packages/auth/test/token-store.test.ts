// Proves that TokenStore keeps only salted scrypt hashes in a WAL-mode SQLite file and verifies tokens correctly (right, wrong, expired, disabled, rotated, deleted), by creating tokens in a temporary arc.db and reading the file back.
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { TokenStore } from '../src/index.js';
import { hashTokenSync, lookupPrefix } from '../src/token-hash.js';

let dir: string;
let dbPath: string;
let store: TokenStore;
let nowMs: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arc-auth-'));
  dbPath = join(dir, 'data', 'arc.db');
  nowMs = Date.UTC(2026, 0, 1);
  store = TokenStore.open(dbPath, { now: () => nowMs });
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function reopen(): TokenStore {
  store.close();
  store = TokenStore.open(dbPath, { now: () => nowMs });
  return store;
}

function expectArcError(action: () => unknown, code: string): ArcError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ArcError);
    expect((error as ArcError).code).toBe(code);
    return error as ArcError;
  }
  throw new Error(`expected ArcError ${code}`);
}

/** Every file SQLite keeps for the database (main file, -wal, -shm), concatenated. */
function databaseBytes(): Buffer {
  const files = readdirSync(join(dir, 'data')).filter((name) => name.startsWith('arc.db'));
  expect(files).toContain('arc.db');
  return Buffer.concat(files.map((name) => readFileSync(join(dir, 'data', name))));
}

describe('bootstrap token', () => {
  it('is created once: a second open of the same file returns created=false', async () => {
    const first = store.ensureBootstrapToken('');
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(store.ensureBootstrapToken('')).toEqual({ created: false, token: null });

    const second = reopen().ensureBootstrapToken('');
    expect(second).toEqual({ created: false, token: null });
    const info = await store.verify(first.token ?? '');
    expect(info).toMatchObject({ name: 'bootstrap', permissions: ['admin'], databases: null, expiresAt: null });
  });

  it('uses the preset token (ARC_AUTH_BOOTSTRAP_TOKEN) when given', async () => {
    const preset = 'my-preset-bootstrap-token-0123456789';
    expect(store.ensureBootstrapToken(preset)).toEqual({ created: true, token: preset });
    expect(await store.verify(preset)).toMatchObject({ name: 'bootstrap', permissions: ['admin'] });
    expect(await store.verify(`${preset}x`)).toBeNull();
  });

  it('ignores the preset when tokens already exist', async () => {
    store.create({ name: 'writer', permissions: ['write'] });
    expect(store.ensureBootstrapToken('late-preset-token')).toEqual({ created: false, token: null });
    expect(await store.verify('late-preset-token')).toBeNull();
  });

  it('refuses a preset that no header could carry', () => {
    expectArcError(() => store.ensureBootstrapToken('has space'), 'ARC_AUTH_BAD_TOKEN_TEXT');
  });
});

describe('verify', () => {
  it('accepts the right token and refuses a wrong one', async () => {
    const { info, token } = store.create({ name: 'grafana', description: 'dashboards', permissions: ['read'], databases: ['prod', 'staging'] });
    expect(info).toMatchObject({ name: 'grafana', permissions: ['read'], databases: ['prod', 'staging'], expiresAt: null });
    expect(await store.verify(token)).toEqual({ id: info.id, name: info.name, permissions: info.permissions, databases: info.databases, expiresAt: info.expiresAt });
    expect(await store.verify(token.slice(0, -1))).toBeNull();
    expect(await store.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)).toBeNull();
    expect(await store.verify('')).toBeNull();
    expect(await store.verify('x'.repeat(100_000))).toBeNull();
  });

  it('refuses an expired token', async () => {
    const { token } = store.create({ name: 'temp', permissions: ['write'], expiresAt: nowMs + 60_000 });
    expect(await store.verify(token)).toMatchObject({ name: 'temp', expiresAt: nowMs + 60_000 });
    nowMs += 60_000;
    expect(await store.verify(token)).toBeNull();
  });

  it('refuses a disabled token and accepts it again once enabled', async () => {
    const { info, token } = store.create({ name: 'ci', permissions: ['write'] });
    expect(store.setEnabled(info.id, false)).toBe(true);
    expect(await store.verify(token)).toBeNull();
    expect(store.get(info.id)?.enabled).toBe(false);
    expect(store.setEnabled(info.id, true)).toBe(true);
    expect(await store.verify(token)).not.toBeNull();
    expect(store.setEnabled(999, false)).toBe(false);
  });

  it('refuses the old text after rotate and a deleted token', async () => {
    const { info, token: old } = store.create({ name: 'svc', permissions: ['read', 'write'] });
    const rotated = store.rotate(info.id);
    expect(rotated).not.toBeNull();
    expect(rotated?.info).toEqual(info);
    expect(await store.verify(old)).toBeNull();
    expect(await store.verify(rotated?.token ?? '')).toMatchObject({ name: 'svc', permissions: ['read', 'write'] });
    expect(store.rotate(999)).toBeNull();
    expect(store.delete(info.id)).toBe(true);
    expect(await store.verify(rotated?.token ?? '')).toBeNull();
    expect(store.delete(info.id)).toBe(false);
    expect(store.get(info.id)).toBeNull();
  });

  it('records last use and lists tokens without secrets', async () => {
    const { token } = store.create({ name: 'a', permissions: ['read'] });
    store.create({ name: 'b', permissions: ['admin'] });
    expect(store.list().map((summary) => [summary.name, summary.lastUsedAt, summary.enabled])).toEqual([
      ['a', null, true],
      ['b', null, true],
    ]);
    await store.verify(token);
    const listed = store.list().find((summary) => summary.name === 'a');
    expect(listed?.lastUsedAt).toBe(nowMs);
    expect(JSON.stringify(store.list())).not.toContain(token);
  });
});

describe('create', () => {
  it.each([
    [{ name: '', permissions: ['read'] }, 'ARC_AUTH_BAD_TOKEN_NAME'],
    [{ name: 'has space', permissions: ['read'] }, 'ARC_AUTH_BAD_TOKEN_NAME'],
    [{ name: 'x', permissions: [] }, 'ARC_AUTH_BAD_PERMISSION'],
    [{ name: 'x', permissions: ['superuser'] }, 'ARC_AUTH_BAD_PERMISSION'],
    [{ name: 'x', permissions: ['read'], databases: [] }, 'ARC_AUTH_BAD_DATABASE'],
    [{ name: 'x', permissions: ['read'], databases: ['../etc'] }, 'ARC_BAD_DATABASE_NAME'],
    [{ name: 'x', permissions: ['read'], expiresAt: Date.UTC(2020, 0, 1) }, 'ARC_AUTH_BAD_EXPIRY'],
  ])('refuses bad input %j', (input, code) => {
    expectArcError(() => store.create(input), code);
    expect(store.list()).toEqual([]);
  });

  it('refuses a second token with the same name (409), also through a rename', () => {
    store.create({ name: 'dup', permissions: ['read'] });
    const error = expectArcError(() => store.create({ name: 'dup', permissions: ['write'] }), 'ARC_AUTH_TOKEN_NAME_TAKEN');
    expect(error.message).toBe("A token named 'dup' already exists");
    expect(error.kind).toBe('conflict');
    const other = store.create({ name: 'other', permissions: ['read'] });
    expectArcError(() => store.update(other.info.id, { name: 'dup' }), 'ARC_AUTH_TOKEN_NAME_TAKEN');
    expect(store.get(other.info.id)?.name).toBe('other');
  });
});

describe('off the calling thread (server)', () => {
  it('createAsync and rotateAsync store a hash that verifies, and check fields before hashing', async () => {
    const created = await store.createAsync({ name: 'async', permissions: ['write'], databases: ['a'] });
    expect(created.info).toMatchObject({ name: 'async', permissions: ['write'], databases: ['a'], enabled: true });
    expect(await store.verify(created.token)).toMatchObject({ id: created.info.id });
    const rotated = await store.rotateAsync(created.info.id);
    // Same token, same rights; only the use just recorded by verify differs.
    expect(rotated?.info).toEqual({ ...created.info, lastUsedAt: nowMs });
    expect(await store.verify(created.token)).toBeNull();
    expect(await store.verify(rotated?.token ?? '')).toMatchObject({ id: created.info.id });
    expect(await store.rotateAsync(999)).toBeNull();
    await expect(store.createAsync({ name: 'bad name', permissions: ['read'] })).rejects.toThrow("Invalid token name 'bad name'");
    await expect(store.createAsync({ name: 'async', permissions: ['read'] })).rejects.toThrow("A token named 'async' already exists");
    expect(store.list().map((summary) => summary.name)).toEqual(['async']);
  });
});

describe('find and update', () => {
  it('finds a token by id or by name', () => {
    const { info } = store.create({ name: 'finder', permissions: ['read'] });
    expect(store.find(String(info.id))).toEqual(info);
    expect(store.find('finder')).toEqual(info);
    expect(store.find('nobody')).toBeNull();
  });

  it('changes only the patched fields and the permissions the token verifies with', async () => {
    const { info, token } = store.create({ name: 'patchy', description: 'before', permissions: ['read'], databases: ['a'] });
    const updated = store.update(info.id, { description: 'after', permissions: ['write', 'write'], databases: null, expiresAt: nowMs + 1000 });
    expect(updated).toEqual({ ...info, description: 'after', permissions: ['write'], databases: null, expiresAt: nowMs + 1000 });
    expect(await store.verify(token)).toEqual({ id: info.id, name: 'patchy', permissions: ['write'], databases: null, expiresAt: nowMs + 1000 });
    expect(store.update(info.id, { expiresAt: null, databases: ['b', 'c'] })).toMatchObject({ expiresAt: null, databases: ['b', 'c'], description: 'after' });
    expect(store.update(999, { description: 'x' })).toBeNull();
  });

  it.each([
    [{ name: 'bad name' }, 'ARC_AUTH_BAD_TOKEN_NAME'],
    [{ permissions: ['root'] }, 'ARC_AUTH_BAD_PERMISSION'],
    [{ databases: ['system'] }, 'ARC_RESERVED_DATABASE_NAME'],
    [{ expiresAt: Date.UTC(2020, 0, 1) }, 'ARC_AUTH_BAD_EXPIRY'],
    [{ description: 'x'.repeat(1025) }, 'ARC_AUTH_BAD_DESCRIPTION'],
  ])('refuses a bad patch %j and changes nothing', (patch, code) => {
    const { info } = store.create({ name: 'stable', permissions: ['read'] });
    expectArcError(() => store.update(info.id, patch), code);
    expect(store.get(info.id)).toEqual(info);
  });
});

describe('on disk', () => {
  it('stores only a salted scrypt hash and a SHA-256 prefix, in WAL mode', () => {
    const { token } = store.create({ name: 'disk', permissions: ['read'] });
    store.close();
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const row = db.prepare('SELECT hash, lookup_prefix, permissions, databases, enabled FROM tokens WHERE name = ?').get('disk');
      const expectedPrefix = createHash('sha256').update(token).digest('hex').slice(0, 16);
      expect(row).toMatchObject({ lookup_prefix: expectedPrefix, permissions: '["read"]', databases: null, enabled: 1 });
      const hash = (row as { hash: string }).hash;
      expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
      expect(Buffer.from(hash.split('$')[4] ?? '', 'base64')).toHaveLength(16);
    } finally {
      db.close();
    }
  });

  it('never contains the token text, while open (WAL) or after close', async () => {
    const bootstrap = store.ensureBootstrapToken('');
    const created = store.create({ name: 'secret', permissions: ['write'] });
    const preset = 'preset-token-that-must-not-be-on-disk';
    await store.verify(created.token);
    const tokens = [bootstrap.token ?? '', created.token];
    const whileOpen = databaseBytes();
    store.close();
    const afterClose = databaseBytes();
    for (const bytes of [whileOpen, afterClose]) {
      expect(bytes.length).toBeGreaterThan(0);
      for (const token of tokens) {
        expect(token.length).toBe(43);
        expect(bytes.includes(Buffer.from(token, 'utf8'))).toBe(false);
        expect(bytes.includes(Buffer.from(token, 'base64url'))).toBe(false);
      }
    }
    // The same holds for a preset bootstrap token.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    store = TokenStore.open(dbPath);
    expect(store.ensureBootstrapToken(preset).created).toBe(true);
    store.close();
    expect(databaseBytes().includes(Buffer.from(preset, 'utf8'))).toBe(false);
  });
});

describe('integer ids', () => {
  it('gives ids 1, 2, 3 in creation order and never gives a deleted id again', () => {
    const first = store.create({ name: 'one', permissions: ['read'] }).info;
    const second = store.create({ name: 'two', permissions: ['read'] }).info;
    expect(Number.isInteger(first.id) && first.id > 0).toBe(true);
    expect(second.id).toBe(first.id + 1);
    expect(store.delete(second.id)).toBe(true);
    const third = store.create({ name: 'three', permissions: ['read'] }).info;
    expect(third.id).toBe(second.id + 1);
    // A name made of digits is found by name when no token has that id.
    const digits = store.create({ name: '424242', permissions: ['read'] }).info;
    expect(store.find('424242')).toEqual(digits);
    expect(store.find(String(first.id))).toEqual(first);
  });

  it('rewrites a file whose ids were TEXT UUIDs into integer ids, keeping every token text working', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'arc-token-migrate-'));
    const file = join(directory, 'arc.db');
    const old = new Database(file);
    old.exec(`CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT NOT NULL DEFAULT '', hash TEXT NOT NULL,
      lookup_prefix TEXT NOT NULL, permissions TEXT NOT NULL, databases TEXT, created_at INTEGER NOT NULL, last_used_at INTEGER,
      expires_at INTEGER, enabled INTEGER NOT NULL DEFAULT 1)`);
    old.close();
    // Tokens made through a store on the old table: the store inserts without an id, so give them UUIDs by hand.
    const texts: string[] = [];
    for (const [index, name] of ['older', 'newer'].entries()) {
      const text = `migration-token-text-${index}-0123456789abcdefghijkl`;
      texts.push(text);
      const db = new Database(file);
      db.prepare(
        `INSERT INTO tokens (id, name, hash, lookup_prefix, permissions, databases, created_at, enabled) VALUES (?, ?, ?, ?, '["read"]', NULL, ?, 1)`,
      ).run(`3f1c2b1e-0000-4000-8000-00000000000${index}`, name, hashTokenSync(text), lookupPrefix(text), 1000 + index);
      db.close();
    }
    const migrated = TokenStore.open(file, { now: () => nowMs });
    try {
      expect(migrated.list().map((summary) => [summary.id, summary.name])).toEqual([
        [1, 'older'],
        [2, 'newer'],
      ]);
      expect(await migrated.verify(texts[1] ?? '')).toMatchObject({ id: 2, name: 'newer' });
      expect(migrated.create({ name: 'after', permissions: ['read'] }).info.id).toBe(3);
      // The lookup index goes with the old table; the migration makes it again.
      const indexes = new Database(file).prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tokens'").all() as { name: string }[];
      expect(indexes.map((index) => index.name)).toContain('tokens_lookup_prefix');
    } finally {
      migrated.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
