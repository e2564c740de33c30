// Proves that TokenVerifier answers repeated checks from a bounded cache keyed by the token's SHA-256 (no second scrypt), honours its TTL, the token's expiry and invalidate(), and shares one verification among concurrent requests, by counting calls to TokenStore.verify.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUTH_NEGATIVE_CACHE_ENTRIES_MAX, AUTH_NEGATIVE_CACHE_TTL_MS, TokenStore, TokenVerifier } from '../src/index.js';

let dir: string;
let store: TokenStore;
let nowMs: number;
const clock = { now: (): number => nowMs };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'arc-verifier-'));
  nowMs = Date.UTC(2026, 0, 1);
  store = TokenStore.open(join(dir, 'arc.db'), clock);
});

afterEach(() => {
  vi.restoreAllMocks();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TokenVerifier', () => {
  it('a cache hit does not verify (scrypt) again', async () => {
    const { token, info } = store.create({ name: 'hot', permissions: ['write'] });
    const storeVerify = vi.spyOn(store, 'verify');
    const verifier = new TokenVerifier(store, 30_000, clock);
    const verified = { id: info.id, name: info.name, permissions: info.permissions, databases: info.databases, expiresAt: info.expiresAt };
    expect(await verifier.verify(token)).toEqual(verified);
    for (let round = 0; round < 100; round += 1) expect(await verifier.verify(token)).toEqual(verified);
    expect(storeVerify).toHaveBeenCalledTimes(1);
    expect(verifier.cacheSize).toEqual({ accepted: 1, rejected: 0 });
  });

  it('verifies again once the TTL has passed', async () => {
    const { token } = store.create({ name: 'ttl', permissions: ['read'] });
    const storeVerify = vi.spyOn(store, 'verify');
    const verifier = new TokenVerifier(store, 30_000, clock);
    await verifier.verify(token);
    nowMs += 29_999;
    await verifier.verify(token);
    expect(storeVerify).toHaveBeenCalledTimes(1);
    nowMs += 1;
    await verifier.verify(token);
    expect(storeVerify).toHaveBeenCalledTimes(2);
  });

  it('never serves a cached token past its own expiry', async () => {
    const { token } = store.create({ name: 'short', permissions: ['read'], expiresAt: nowMs + 1000 });
    const verifier = new TokenVerifier(store, 30_000, clock);
    expect(await verifier.verify(token)).not.toBeNull();
    nowMs += 1000;
    expect(await verifier.verify(token)).toBeNull();
  });

  it('caches rejections briefly', async () => {
    const storeVerify = vi.spyOn(store, 'verify');
    const verifier = new TokenVerifier(store, 30_000, clock);
    expect(await verifier.verify('not-a-token')).toBeNull();
    expect(await verifier.verify('not-a-token')).toBeNull();
    expect(storeVerify).toHaveBeenCalledTimes(1);
    nowMs += AUTH_NEGATIVE_CACHE_TTL_MS;
    expect(await verifier.verify('not-a-token')).toBeNull();
    expect(storeVerify).toHaveBeenCalledTimes(2);
  });

  it('invalidate() makes a disabled token fail at once', async () => {
    const { info, token } = store.create({ name: 'revoked', permissions: ['write'] });
    const verifier = new TokenVerifier(store, 30_000, clock);
    expect(await verifier.verify(token)).not.toBeNull();
    store.setEnabled(info.id, false);
    expect(await verifier.verify(token)).not.toBeNull();
    verifier.invalidate();
    expect(await verifier.verify(token)).toBeNull();
  });

  it('shares one verification among concurrent requests for the same token', async () => {
    const { token } = store.create({ name: 'burst', permissions: ['write'] });
    const storeVerify = vi.spyOn(store, 'verify');
    const verifier = new TokenVerifier(store, 30_000, clock);
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(results.every((info) => info?.name === 'burst')).toBe(true);
    expect(storeVerify).toHaveBeenCalledTimes(1);
  });

  it('with a TTL of 0 verifies every time', async () => {
    const { token } = store.create({ name: 'nocache', permissions: ['read'] });
    const storeVerify = vi.spyOn(store, 'verify');
    const verifier = new TokenVerifier(store, 0, clock);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(storeVerify).toHaveBeenCalledTimes(2);
  });

  it('keeps the cache bounded and a flood of bad tokens does not evict good ones', async () => {
    const { token } = store.create({ name: 'keep', permissions: ['read'] });
    const verifier = new TokenVerifier(store, 30_000, clock);
    await verifier.verify(token);
    for (let index = 0; index < AUTH_NEGATIVE_CACHE_ENTRIES_MAX + 10; index += 1) await verifier.verify(`bad-${index}`);
    expect(verifier.cacheSize.rejected).toBe(AUTH_NEGATIVE_CACHE_ENTRIES_MAX);
    expect(verifier.cacheSize.accepted).toBe(1);
    const storeVerify = vi.spyOn(store, 'verify');
    expect(await verifier.verify(token)).not.toBeNull();
    expect(storeVerify).not.toHaveBeenCalled();
  });
});
