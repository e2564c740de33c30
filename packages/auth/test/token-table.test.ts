// Proves that a token table moves between TokenStores through its shared JSON document without losing a token, an id or the id sequence, that replacing a table keeps each node's own last use, and that a document with any one bad field is refused with ARC_AUTH_TOKEN_TABLE_CORRUPT naming the problem, by exporting, encoding, decoding and replacing real stores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { TokenStore, decodeTokenTable, encodeTokenTable, type SharedTokenTable } from '../src/index.js';

const KEY = '.arc/tokens.json';
let nowMs: number;
let source: TokenStore;
let copy: TokenStore;

beforeEach(() => {
  nowMs = Date.UTC(2026, 0, 1);
  source = TokenStore.open(':memory:', { now: () => nowMs });
  copy = TokenStore.open(':memory:', { now: () => nowMs });
});

afterEach(() => {
  source.close();
  copy.close();
});

function roundTrip(table: SharedTokenTable): SharedTokenTable {
  const decoded = decodeTokenTable(encodeTokenTable(table), KEY);
  if (decoded instanceof ArcError) throw decoded;
  return decoded;
}

describe('exportTable and replaceTable', () => {
  it('copies every token, its id and the id sequence; the copy verifies the same texts', async () => {
    const admin = source.create({ name: 'admin', permissions: ['admin'] });
    const scoped = source.create({ name: 'scoped', description: 'one db', permissions: ['read', 'write'], databases: ['metrics'], expiresAt: nowMs + 60_000 });
    const deleted = source.create({ name: 'gone', permissions: ['read'] });
    source.delete(deleted.info.id);
    source.setEnabled(admin.info.id, false);
    const table = roundTrip({ revision: 4, ...source.exportTable() });
    expect(table.idSequence).toBe(3);
    expect(table.tokens.map((token) => token.id)).toEqual([1, 2]);
    expect(JSON.stringify(table)).not.toContain(scoped.token);
    copy.replaceTable(table);
    expect(await copy.verify(admin.token)).toBeNull();
    expect(await copy.verify(scoped.token)).toMatchObject({ id: 2, name: 'scoped', permissions: ['read', 'write'], databases: ['metrics'], expiresAt: nowMs + 60_000 });
    expect(copy.get(2)).toMatchObject({ description: 'one db', createdAt: nowMs, enabled: true });
    // The deleted token's id is not given again in the copy either.
    expect(copy.create({ name: 'next', permissions: ['read'] }).info.id).toBe(4);
  });

  it('keeps the last use the replaced store recorded, and drops tokens the new table lacks', async () => {
    const used = source.create({ name: 'used', permissions: ['read'] });
    source.create({ name: 'dropped', permissions: ['read'] });
    copy.replaceTable(source.exportTable());
    await copy.verify(used.token);
    expect(copy.get(used.info.id)?.lastUsedAt).toBe(nowMs);
    source.delete(2);
    source.update(used.info.id, { description: 'changed elsewhere' });
    copy.replaceTable(source.exportTable());
    expect(copy.list().map((token) => [token.name, token.description, token.lastUsedAt])).toEqual([['used', 'changed elsewhere', nowMs]]);
  });
});

describe('decodeTokenTable', () => {
  const good = (): Record<string, unknown> => ({
    format: 1,
    revision: 2,
    idSequence: 3,
    tokens: [{ id: 3, name: 'a', description: '', hash: 'scrypt$x', lookupPrefix: 'ab', permissions: ['read'], databases: null, createdAt: 1, expiresAt: null, enabled: true }],
  });
  const withToken = (change: Record<string, unknown>): Record<string, unknown> => {
    const table = good();
    table.tokens = [{ ...(table.tokens as Record<string, unknown>[])[0], ...change }];
    return table;
  };

  it('reads a well-formed table', () => {
    expect(decodeTokenTable(Buffer.from(JSON.stringify(good())), KEY)).toMatchObject({ revision: 2, idSequence: 3, tokens: [{ id: 3, name: 'a' }] });
  });

  const nearMisses: [string, unknown, RegExp][] = [
    ['not JSON', '{"format": 1,', /not JSON/],
    ['an array', [], /not a JSON object/],
    ['a newer format', { ...good(), format: 2 }, /format 2, this node reads format 1/],
    ['a revision of 0', { ...good(), revision: 0 }, /no revision/],
    ['a text idSequence', { ...good(), idSequence: '3' }, /no revision, idSequence/],
    ['tokens not a list', { ...good(), tokens: {} }, /no revision, idSequence or tokens/],
    ['an id of 0', withToken({ id: 0 }), /not a positive integer/],
    ['an id above the sequence', withToken({ id: 4 }), /above the id sequence 3/],
    ['no name', withToken({ name: 7 }), /no name/],
    ['an empty hash', withToken({ hash: '' }), /no hash/],
    ['an unknown permission', withToken({ permissions: ['root'] }), /bad permissions/],
    ['no permission', withToken({ permissions: [] }), /bad permissions/],
    ['a database that is not text', withToken({ databases: [1] }), /bad database list/],
    ['a fractional expiry', withToken({ expiresAt: 1.5 }), /expiry/],
    ['enabled as text', withToken({ enabled: 'yes' }), /enabled flag/],
  ];
  it.each(nearMisses)('refuses %s', (_what, document, problem) => {
    const text = typeof document === 'string' ? document : JSON.stringify(document);
    const error = decodeTokenTable(Buffer.from(text), KEY);
    expect(error).toBeInstanceOf(ArcError);
    expect((error as ArcError).code).toBe('ARC_AUTH_TOKEN_TABLE_CORRUPT');
    expect((error as ArcError).message).toMatch(problem);
    expect((error as ArcError).message).toContain(KEY);
  });

  it('refuses a token listed twice, by id or by name', () => {
    const token = (good().tokens as Record<string, unknown>[])[0];
    const twice = { ...good(), idSequence: 4, tokens: [token, { ...token, id: 4 }] };
    expect((decodeTokenTable(Buffer.from(JSON.stringify(twice)), KEY) as ArcError).message).toMatch(/listed twice/);
  });
});
