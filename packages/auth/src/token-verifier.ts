import assert from 'node:assert/strict';
import { AUTH_CACHE_ENTRIES_MAX, AUTH_NEGATIVE_CACHE_ENTRIES_MAX, AUTH_NEGATIVE_CACHE_TTL_MS, TOKEN_TEXT_LENGTH_MAX } from './limits.js';
import type { TokenInfo } from './permissions.js';
import { tokenDigestHex } from './token-hash.js';
import type { TokenStore } from './token-store.js';

export interface TokenVerifierOptions {
  /** Clock in milliseconds; tests pass their own to expire entries without waiting. */
  readonly now?: () => number;
}

interface CacheEntry<T> {
  readonly value: T;
  readonly expiresAtMs: number;
}

/** A Map used as a bounded LRU: insertion order is recency, the first key is the oldest. */
function remember<T>(cache: Map<string, CacheEntry<T>>, key: string, entry: CacheEntry<T>, entriesMax: number): void {
  cache.delete(key);
  while (cache.size >= entriesMax) {
    const oldest = cache.keys().next();
    if (oldest.done === true) break;
    cache.delete(oldest.value);
  }
  cache.set(key, entry);
}

function recall<T>(cache: Map<string, CacheEntry<T>>, key: string, now: number): CacheEntry<T> | undefined {
  const entry = cache.get(key);
  if (entry === undefined) return undefined;
  cache.delete(key);
  if (entry.expiresAtMs <= now) return undefined;
  cache.set(key, entry);
  return entry;
}

/**
 * Verifies tokens per request without paying a scrypt hash each time. Results are cached under
 * SHA-256 of the token (the text is never kept), for `cacheTtlMs` (never past the token's own
 * expiry); rejections for a shorter time, in a separate map so that a flood of bad tokens cannot
 * push good ones out. Concurrent requests with the same uncached token share one verification.
 * A token disabled or deleted keeps working until its entry expires or `invalidate()` is called.
 */
export class TokenVerifier {
  readonly #store: TokenStore;
  readonly #cacheTtlMs: number;
  readonly #now: () => number;
  readonly #accepted = new Map<string, CacheEntry<TokenInfo>>();
  readonly #rejected = new Map<string, CacheEntry<null>>();
  readonly #inFlight = new Map<string, Promise<TokenInfo | null>>();
  /** Bumped by invalidate(): a verification started before it must not fill the fresh cache. */
  #generation = 0;

  constructor(store: TokenStore, cacheTtlMs: number, options: TokenVerifierOptions = {}) {
    assert.ok(Number.isFinite(cacheTtlMs));
    assert.ok(cacheTtlMs >= 0);
    this.#store = store;
    this.#cacheTtlMs = cacheTtlMs;
    this.#now = options.now ?? Date.now;
  }

  verify(token: string): Promise<TokenInfo | null> {
    if (token.length === 0 || token.length > TOKEN_TEXT_LENGTH_MAX) return Promise.resolve(null);
    const key = tokenDigestHex(token);
    const now = this.#now();
    const accepted = recall(this.#accepted, key, now);
    if (accepted !== undefined) return Promise.resolve(accepted.value);
    if (recall(this.#rejected, key, now) !== undefined) return Promise.resolve(null);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const verification = this.#verifyAndCache(token, key);
    this.#inFlight.set(key, verification);
    return verification;
  }

  async #verifyAndCache(token: string, key: string): Promise<TokenInfo | null> {
    const generation = this.#generation;
    try {
      const info = await this.#store.verify(token);
      if (generation === this.#generation && this.#cacheTtlMs > 0) this.#cache(key, info);
      return info;
    } finally {
      if (generation === this.#generation) this.#inFlight.delete(key);
    }
  }

  #cache(key: string, info: TokenInfo | null): void {
    const now = this.#now();
    if (info === null) {
      const ttlMs = Math.min(this.#cacheTtlMs, AUTH_NEGATIVE_CACHE_TTL_MS);
      remember(this.#rejected, key, { value: null, expiresAtMs: now + ttlMs }, AUTH_NEGATIVE_CACHE_ENTRIES_MAX);
      return;
    }
    const expiresAtMs = Math.min(now + this.#cacheTtlMs, info.expiresAt ?? Number.POSITIVE_INFINITY);
    remember(this.#accepted, key, { value: info, expiresAtMs }, AUTH_CACHE_ENTRIES_MAX);
  }

  /** Forgets every cached result: call after a token is created, disabled, deleted or rotated. */
  invalidate(): void {
    this.#generation += 1;
    this.#accepted.clear();
    this.#rejected.clear();
    this.#inFlight.clear();
  }

  /** Entries held now (accepted, rejected), for metrics. */
  get cacheSize(): { readonly accepted: number; readonly rejected: number } {
    return { accepted: this.#accepted.size, rejected: this.#rejected.size };
  }
}
