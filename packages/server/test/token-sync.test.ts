// Proves that two nodes sharing one token table through a store with conditional writes see each other's token changes (create, revoke, concurrent creates with distinct ids, a lost write retried, an unreachable store refused with 503 and nothing changed), by running two SharedTokens, each over its own arc.db, on one LocalStorage root standing for the bucket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TokenStore, TokenVerifier, decodeTokenTable, type NewToken, type TokenStore as Store } from '@arc/auth';
import { ArcError } from '@arc/errors';
import { LocalStorage } from '@arc/storage';
import { waitUntil } from '../../../test/support/poll-until.js';
import { SharedTokens, TOKEN_TABLE_KEY, type TokenTableObjects } from '../src/token-sync.js';
import type { Logger } from '../src/log.js';

const PRESET = 'arc-sync-test-admin-token-0123456789';
/** Short, so the polling test waits little; the bound it checks is this plus one read. */
const REFRESH_MS = 30;
const WAIT_MS = 10_000;

let dir: string;
let bucket: LocalStorage;
const opened: SharedTokens[] = [];
let lines: string[];

function logger(): Logger {
  const write = (line: string): void => void lines.push(line);
  return { debug: write, info: write, warn: write, error: write };
}

async function node(name: string, objects: TokenTableObjects = bucket): Promise<SharedTokens> {
  const store = TokenStore.open(path.join(dir, name, 'arc.db'));
  const tokens = new SharedTokens(store, objects, { refreshMs: REFRESH_MS, log: logger() });
  opened.push(tokens);
  await tokens.join(PRESET);
  return tokens;
}

async function create(tokens: SharedTokens, name: string, permissions: string[] = ['read']): Promise<NewToken> {
  const prepared = await tokens.store.prepareCreate({ name, permissions });
  return tokens.change((store) => store.insertPrepared(prepared));
}

async function sharedTable(): Promise<{ revision: number; names: string[]; ids: number[] }> {
  const object = await bucket.getVersioned(TOKEN_TABLE_KEY);
  if (object === null) throw new Error('no shared table');
  const table = decodeTokenTable(object.bytes, TOKEN_TABLE_KEY);
  if (table instanceof ArcError) throw table;
  return { revision: table.revision, names: table.tokens.map((token) => token.name), ids: table.tokens.map((token) => token.id) };
}

async function rejection(promise: Promise<unknown>): Promise<ArcError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ArcError);
    return error as ArcError;
  }
  throw new Error('expected a rejection');
}

/** The bucket, with a hook that runs before each conditional write (another node "writing first"). */
function interposed(beforeWrite: () => Promise<void>): TokenTableObjects & { writes: number } {
  const objects = {
    writes: 0,
    getVersioned: (key: string) => bucket.getVersioned(key),
    putIfAbsent: (key: string, body: Uint8Array) => bucket.putIfAbsent(key, body),
    putIfVersion: async (key: string, body: Uint8Array, version: string) => {
      objects.writes += 1;
      await beforeWrite();
      return bucket.putIfVersion(key, body, version);
    },
  };
  return objects;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'arc-token-sync-'));
  bucket = new LocalStorage(path.join(dir, 'bucket'));
  lines = [];
});

afterEach(async () => {
  for (const tokens of opened.splice(0)) await tokens.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('joining a bucket', () => {
  it('writes the first node\'s table with its bootstrap token; the second adopts it and creates none', async () => {
    const a = await node('a');
    expect(await sharedTable()).toEqual({ revision: 1, names: ['bootstrap'], ids: [1] });
    const storeB = TokenStore.open(path.join(dir, 'b', 'arc.db'));
    storeB.create({ name: 'only-on-b', permissions: ['read'] });
    const b = new SharedTokens(storeB, bucket, { refreshMs: REFRESH_MS, log: logger() });
    opened.push(b);
    expect(await b.join('')).toEqual({ created: false, token: null });
    expect(b.store.list().map((token) => token.name)).toEqual(['bootstrap']);
    expect(await b.store.verify(PRESET)).toMatchObject({ id: 1, name: 'bootstrap' });
    expect(lines.join('\n')).toMatch(/adopted the shared token table .* no bootstrap token created on this node; 1 token\(s\) of this node's own arc.db are not in it and no longer work/);
    expect(a.revision).toBe(1);
  });

  it('a node restarting on the bucket adopts the table again, its copy dropping nothing', async () => {
    const a = await node('a');
    const created = await create(a, 'before-restart');
    await a.close();
    opened.splice(opened.indexOf(a), 1);
    lines = [];
    const again = await node('a');
    expect(lines.join('\n')).toMatch(/adopted the shared token table \.arc\/tokens\.json \(revision 2, 2 token\(s\)\); no bootstrap token created on this node$/m);
    expect(await again.store.verify(created.token)).toMatchObject({ name: 'before-restart' });
  });

  it('keeps its bootstrap token when the first write landed but was answered as refused', async () => {
    const landedButRefused: TokenTableObjects = {
      getVersioned: (key) => bucket.getVersioned(key),
      putIfAbsent: async (key, body) => {
        await bucket.putIfAbsent(key, body);
        return false;
      },
      putIfVersion: (key, body, version) => bucket.putIfVersion(key, body, version),
    };
    const a = new SharedTokens(TokenStore.open(path.join(dir, 'a', 'arc.db')), landedButRefused, { refreshMs: REFRESH_MS, log: logger() });
    opened.push(a);
    const bootstrap = await a.join('');
    expect(bootstrap.created).toBe(true);
    expect(await a.store.verify(bootstrap.token ?? '')).toMatchObject({ name: 'bootstrap' });
    expect((await sharedTable()).names).toEqual(['bootstrap']);
  });

  it('warns when a node\'s preset bootstrap token is not in the table it adopts', async () => {
    await node('a');
    const b = new SharedTokens(TokenStore.open(path.join(dir, 'b', 'arc.db')), bucket, { refreshMs: REFRESH_MS, log: logger() });
    opened.push(b);
    await b.join('arc-another-preset-token-that-a-never-had');
    expect(lines.join('\n')).toMatch(/bootstrap_token .* is not a valid token of the shared table/);
  });
});

describe('changes across two nodes', () => {
  let a: SharedTokens;
  let b: SharedTokens;

  beforeEach(async () => {
    a = await node('a');
    b = await node('b');
  });

  it('a token created on A verifies on B after B reads the table again', async () => {
    const created = await create(a, 'telegraf', ['write']);
    expect(await b.store.verify(created.token)).toBeNull();
    expect(await b.refresh()).toBe(true);
    expect(await b.store.verify(created.token)).toMatchObject({ id: created.info.id, name: 'telegraf', permissions: ['write'] });
    expect(await b.refresh()).toBe(false);
  });

  it('a token revoked on A is refused by B\'s cached verifier within one refresh interval of polling', async () => {
    const created = await create(a, 'grafana');
    await b.refresh();
    const verifier = new TokenVerifier(b.store, 60_000);
    b.follow(() => verifier.invalidate());
    // Cached for a minute: only the poll's invalidation can make B refuse it sooner.
    expect(await verifier.verify(created.token)).not.toBeNull();
    await a.change((store) => store.update(created.info.id, { enabled: false }));
    await waitUntil('B refuses the token revoked on A', WAIT_MS, async () => (await verifier.verify(created.token)) === null);
    expect(b.store.get(created.info.id)?.enabled).toBe(false);
  });

  it('concurrent creates on A and B are both kept, with distinct ids', async () => {
    // Hashed first, so that both changes read the table before either writes it.
    const [preparedA, preparedB] = await Promise.all([a.store.prepareCreate({ name: 'from-a', permissions: ['read'] }), b.store.prepareCreate({ name: 'from-b', permissions: ['read'] })]);
    const [onA, onB] = await Promise.all([a.change((store) => store.insertPrepared(preparedA)), b.change((store) => store.insertPrepared(preparedB))]);
    expect(onA.info.id).not.toBe(onB.info.id);
    const table = await sharedTable();
    expect(table.names.sort()).toEqual(['bootstrap', 'from-a', 'from-b']);
    expect(table.revision).toBe(3);
    await a.refresh();
    await b.refresh();
    for (const tokens of [a, b]) {
      expect(await tokens.store.verify(onA.token)).toMatchObject({ name: 'from-a' });
      expect(await tokens.store.verify(onB.token)).toMatchObject({ name: 'from-b' });
    }
  });

  it('a write that loses to another node\'s reads the table again and keeps both changes', async () => {
    let interposedOnce = false;
    const objects = interposed(async () => {
      if (interposedOnce) return;
      interposedOnce = true;
      await create(b, 'written-between');
    });
    const c = await node('c', objects);
    const created = await create(c, 'after-retry');
    expect(objects.writes).toBe(2);
    expect((await sharedTable()).names.sort()).toEqual(['after-retry', 'bootstrap', 'written-between']);
    expect(c.store.list().map((token) => token.name).sort()).toEqual(['after-retry', 'bootstrap', 'written-between']);
    expect(created.info.id).toBe(3);
  });

  it('takes a write refused after landing (a store\'s error answer to a write it made) as made, not as a name taken', async () => {
    const landedButRefused: TokenTableObjects = {
      getVersioned: (key) => bucket.getVersioned(key),
      putIfAbsent: (key, body) => bucket.putIfAbsent(key, body),
      putIfVersion: async (key, body, version) => {
        await bucket.putIfVersion(key, body, version);
        return false;
      },
    };
    const c = await node('c', landedButRefused);
    const created = await create(c, 'landed');
    expect((await sharedTable()).names).toEqual(['bootstrap', 'landed']);
    expect(await c.store.verify(created.token)).toMatchObject({ name: 'landed' });
  });

  it('gives up with a 503 after losing every attempt, and changes nothing', async () => {
    let round = 0;
    const c = await node(
      'c',
      interposed(async () => {
        await create(b, `rival-${String(++round)}`);
      }),
    );
    const error = await rejection(create(c, 'never'));
    expect(error.code).toBe('ARC_AUTH_TOKEN_TABLE_BUSY');
    expect(error.kind).toBe('unavailable');
    expect((await sharedTable()).names).not.toContain('never');
    expect(c.store.find('never')).toBeNull();
  });

  it('refuses a change with a 503 when the store cannot be read, leaving both tables as they were', async () => {
    let reachable = true;
    const flaky: TokenTableObjects = {
      getVersioned: (key) => (reachable ? bucket.getVersioned(key) : Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9000'))),
      putIfAbsent: (key, body) => bucket.putIfAbsent(key, body),
      putIfVersion: (key, body, version) => bucket.putIfVersion(key, body, version),
    };
    const c = await node('c', flaky);
    reachable = false;
    const error = await rejection(create(c, 'offline'));
    expect(error.code).toBe('ARC_AUTH_TOKEN_TABLE_UNAVAILABLE');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(c.store.find('offline')).toBeNull();
    expect((await sharedTable()).names).toEqual(['bootstrap']);
  });

  it('checks names against the shared table: a name taken on A is a 409 on B before B read it', async () => {
    await create(a, 'taken');
    const error = await rejection(create(b, 'taken'));
    expect(error.code).toBe('ARC_AUTH_TOKEN_NAME_TAKEN');
  });

  it('never gives an id twice: after A deletes the newest token, B\'s next token gets a new id', async () => {
    const first = await create(a, 'short-lived');
    expect(await a.change((store: Store) => store.delete(first.info.id))).toBe(true);
    const next = await create(b, 'next');
    expect(next.info.id).toBe(first.info.id + 1);
  });

  it('writes nothing for a change that changes nothing (an unknown id)', async () => {
    const before = await sharedTable();
    expect(await a.change((store) => store.update(999, { enabled: false }))).toBeNull();
    expect(await sharedTable()).toEqual(before);
  });

  it('refuses a change over a corrupt table with its code, and the poll keeps the table it had', async () => {
    const created = await create(a, 'kept');
    await b.refresh();
    await bucket.put(TOKEN_TABLE_KEY, Buffer.from('{"format": 1, "revision": "x"}'));
    const error = await rejection(create(a, 'refused'));
    expect(error.code).toBe('ARC_AUTH_TOKEN_TABLE_CORRUPT');
    await expect(b.refresh()).rejects.toThrow(/unreadable/);
    expect(await b.store.verify(created.token)).toMatchObject({ name: 'kept' });
  });
});
