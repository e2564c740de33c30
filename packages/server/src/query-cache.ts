import assert from 'node:assert/strict';
import type { QueryCacheConfig } from '@arc/config';
import type { MeasurementRef } from '@arc/query';

/** A cached answer: the bytes exactly as sent, and what they were computed from. */
export interface CachedAnswer {
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly contentEncoding: 'gzip' | 'zstd' | null;
  readonly rowCount: number;
  readonly reads: readonly MeasurementRef[];
}

/** What makes two requests the same for the cache. */
export interface CacheKeyParts {
  readonly database: string;
  readonly sql: string;
  readonly format: string;
  readonly limit: number | undefined;
  readonly encoding: string;
  /** The caller's databases (null: all): callers with different access never share an entry. */
  readonly readable: readonly string[] | null;
}

interface Entry {
  readonly answer: CachedAnswer;
  readonly key: string;
  readonly expiresAtMs: number;
  readonly measurementKeys: readonly string[];
}

const BYTES_PER_MB = 1024 * 1024;
const SINGLE_QUOTE = "'";
const DOUBLE_QUOTE = '"';

function measurementKey(database: string, measurement: string): string {
  return `${database}\u0000${measurement}`;
}

/**
 * SQL with runs of whitespace outside quotes collapsed to one space, trimmed, and without a
 * trailing semicolon: the same query typed on one line or several shares an entry. Quoted
 * strings and identifiers are kept byte for byte.
 */
export function normaliseSql(sql: string): string {
  let normalised = '';
  let quote: string | null = null;
  let pendingSpace = false;
  for (const character of sql) {
    if (quote !== null) {
      normalised += character;
      if (character === quote) quote = null;
      continue;
    }
    if (/\s/.test(character)) {
      pendingSpace = normalised.length > 0;
      continue;
    }
    if (pendingSpace) normalised += ' ';
    pendingSpace = false;
    if (character === SINGLE_QUOTE || character === DOUBLE_QUOTE) quote = character;
    normalised += character;
  }
  while (quote === null && normalised.endsWith(';')) normalised = normalised.slice(0, -1).trimEnd();
  return normalised;
}

/** The tick of what was never invalidated: the clock's start, not after any query's epoch. */
const NEVER_INVALIDATED = 0;

/**
 * Recent query answers, in memory, least recently used out first. An entry lives `ttl_seconds`
 * at most and is dropped as soon as a flush (or a compaction or delete) touches a measurement its
 * query read, so a hit never serves rows older than the files on disk. Answers of statements
 * whose result changes without new data (now(), random()) or that read no measurement (SHOW,
 * SELECT 1) are not kept.
 */
export class QueryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByMeasurement = new Map<string, Set<string>>();
  private readonly config: QueryCacheConfig;
  private readonly now: () => number;
  private bytes = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;
  /**
   * Invalidation clock: bumped by every invalidation, which records its tick per measurement,
   * per database or for everything. An answer is kept only when nothing it read was invalidated
   * after its query began (`epoch()` then): a query that started before a flush and finished after
   * it would otherwise put back the answer the flush had just dropped, and serve it for the TTL.
   */
  private clock = NEVER_INVALIDATED;
  private clearedAt = NEVER_INVALIDATED;
  private readonly invalidatedAt = new Map<string, number>();
  private readonly databaseInvalidatedAt = new Map<string, number>();

  constructor(config: QueryCacheConfig, now: () => number = Date.now) {
    assert.ok(config.maxSize > 0, 'query cache max_size must be positive');
    assert.ok(config.ttlSeconds > 0, 'query cache ttl must be positive');
    this.config = config;
    this.now = now;
  }

  get enabled(): boolean {
    return this.config.enabled;
  }

  static key(parts: CacheKeyParts): string {
    const readable = parts.readable === null ? '*' : [...parts.readable].sort().join(',');
    return JSON.stringify([parts.database, parts.format, parts.limit ?? null, parts.encoding, readable, normaliseSql(parts.sql)]);
  }

  get(key: string): CachedAnswer | undefined {
    if (!this.config.enabled) return undefined;
    const entry = this.entries.get(key);
    if (entry === undefined || entry.expiresAtMs <= this.now()) {
      if (entry !== undefined) this.remove(entry);
      this.misses += 1;
      return undefined;
    }
    // Most recently used last: Map iteration order is insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    this.hits += 1;
    return entry.answer;
  }

  /** Whether `put` would keep this answer (so a caller copies its bytes only when it will). */
  accepts(answer: Pick<CachedAnswer, 'body' | 'reads'>, cacheable: boolean): boolean {
    if (!this.config.enabled || !cacheable || answer.reads.length === 0) return false;
    return answer.body.byteLength <= this.config.maxResultMb * BYTES_PER_MB;
  }

  /** The invalidation clock now: read before a query starts, given back to `put`. */
  epoch(): number {
    return this.clock;
  }

  /** True when something the answer read was invalidated after `startedAt` (its query's epoch). */
  private staleSince(answer: Pick<CachedAnswer, 'reads'>, startedAt: number): boolean {
    if (this.clearedAt > startedAt) return true;
    return answer.reads.some((read) => {
      const measurementTick = this.invalidatedAt.get(measurementKey(read.database, read.measurement)) ?? NEVER_INVALIDATED;
      const databaseTick = this.databaseInvalidatedAt.get(read.database) ?? NEVER_INVALIDATED;
      return measurementTick > startedAt || databaseTick > startedAt;
    });
  }

  /**
   * Keeps the answer when it may be kept and nothing it read changed since its query began at
   * `startedAt` (`epoch()`); true when it was. The cache owns `answer.body` from then on.
   */
  put(key: string, answer: CachedAnswer, cacheable: boolean, startedAt: number): boolean {
    if (!this.accepts(answer, cacheable) || this.staleSince(answer, startedAt)) return false;
    const existing = this.entries.get(key);
    if (existing !== undefined) this.remove(existing);
    const measurementKeys = answer.reads.map((read) => measurementKey(read.database, read.measurement));
    const entry: Entry = { answer, key, expiresAtMs: this.now() + this.config.ttlSeconds * 1000, measurementKeys };
    this.entries.set(key, entry);
    this.bytes += answer.body.byteLength;
    for (const measurement of measurementKeys) {
      let keys = this.keysByMeasurement.get(measurement);
      if (keys === undefined) this.keysByMeasurement.set(measurement, (keys = new Set()));
      keys.add(key);
    }
    while (this.entries.size > this.config.maxSize) {
      const oldest = this.entries.values().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
      this.evictions += 1;
    }
    return true;
  }

  /** New files (a flush), rewritten files (compaction, delete): answers that read them go. */
  invalidate(database: string, measurement: string): void {
    this.invalidatedAt.set(measurementKey(database, measurement), ++this.clock);
    const keys = this.keysByMeasurement.get(measurementKey(database, measurement));
    if (keys === undefined) return;
    for (const key of [...keys]) {
      const entry = this.entries.get(key);
      if (entry === undefined) continue;
      this.remove(entry);
      this.invalidations += 1;
    }
  }

  /** A database was deleted (or created anew): every answer that read it goes. */
  invalidateDatabase(database: string): void {
    this.databaseInvalidatedAt.set(database, ++this.clock);
    for (const entry of [...this.entries.values()]) {
      if (entry.answer.reads.some((read) => read.database === database)) {
        this.remove(entry);
        this.invalidations += 1;
      }
    }
  }

  clear(): number {
    this.clearedAt = ++this.clock;
    const cleared = this.entries.size;
    this.entries.clear();
    this.keysByMeasurement.clear();
    this.bytes = 0;
    return cleared;
  }

  /** Lookups answered from the cache and not (arc_query_cache_hits_total, _misses_total). */
  lookups(): { readonly hits: number; readonly misses: number } {
    return { hits: this.hits, misses: this.misses };
  }

  stats(): Record<string, number | boolean> {
    const lookups = this.hits + this.misses;
    return {
      enabled: this.config.enabled,
      entries: this.entries.size,
      max_size: this.config.maxSize,
      size_mb: Math.round((this.bytes / BYTES_PER_MB) * 1000) / 1000,
      max_result_mb: this.config.maxResultMb,
      ttl_seconds: this.config.ttlSeconds,
      hits: this.hits,
      misses: this.misses,
      hit_rate: lookups === 0 ? 0 : Math.round((this.hits / lookups) * 10_000) / 10_000,
      evictions: this.evictions,
      invalidations: this.invalidations,
    };
  }

  private remove(entry: Entry): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    this.bytes -= entry.answer.body.byteLength;
    for (const measurement of entry.measurementKeys) {
      const keys = this.keysByMeasurement.get(measurement);
      keys?.delete(entry.key);
      if (keys?.size === 0) this.keysByMeasurement.delete(measurement);
    }
  }
}
