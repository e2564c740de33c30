// Proves the answer cache's rules without a server: keys (normalised SQL, scope), TTL, LRU order,
// size bounds, and invalidation by measurement and by database.
import { describe, expect, it } from 'vitest';
import { QueryCache, normaliseSql, type CachedAnswer } from '../src/query-cache.js';

const config = { enabled: true, ttlSeconds: 60, maxSize: 3, maxResultMb: 1 };

function answer(text: string, reads: [string, string][] = [['db', 'cpu']]): CachedAnswer {
  return { body: Buffer.from(text), contentType: 'application/json', contentEncoding: null, rowCount: 1, reads: reads.map(([database, measurement]) => ({ database, measurement })) };
}

function key(sql: string, readable: string[] | null = null): string {
  return QueryCache.key({ database: 'db', sql, format: 'json', limit: undefined, encoding: 'none', readable });
}

describe('normaliseSql', () => {
  it('collapses whitespace outside quotes and drops trailing semicolons', () => {
    expect(normaliseSql('  SELECT\n\t*   FROM cpu ;; ')).toBe('SELECT * FROM cpu');
    expect(normaliseSql("SELECT 'a   b', \"x  y\"  FROM t")).toBe("SELECT 'a   b', \"x  y\" FROM t");
    expect(normaliseSql("SELECT ';'")).toBe("SELECT ';'");
  });
});

describe('QueryCache', () => {
  it('keys by scope: callers with other databases never share an entry', () => {
    expect(key('SELECT 1', ['a'])).not.toBe(key('SELECT 1', ['b']));
    expect(key('SELECT 1', ['a', 'b'])).toBe(key('SELECT 1', ['b', 'a']));
    expect(key('SELECT 1', null)).not.toBe(key('SELECT 1', ['a']));
    expect(key('SELECT  1')).toBe(key('SELECT 1'));
  });

  it('expires entries after the TTL', () => {
    let now = 0;
    const cache = new QueryCache(config, () => now);
    expect(cache.put(key('q'), answer('x'), true, cache.epoch())).toBe(true);
    now = 59_999;
    expect(cache.get(key('q'))?.rowCount).toBe(1);
    now = 60_000;
    expect(cache.get(key('q'))).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, entries: 0 });
  });

  it('evicts the least recently used entry beyond max_size', () => {
    const cache = new QueryCache(config);
    for (const sql of ['a', 'b', 'c']) cache.put(key(sql), answer(sql), true, cache.epoch());
    cache.get(key('a'));
    cache.put(key('d'), answer('d'), true, cache.epoch());
    expect(cache.get(key('b'))).toBeUndefined();
    expect(cache.get(key('a'))).toBeDefined();
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
  });

  it('keeps neither uncacheable answers, answers that read nothing, nor answers over max_result_mb', () => {
    const cache = new QueryCache(config);
    expect(cache.put(key('now'), answer('x'), false, cache.epoch())).toBe(false);
    expect(cache.put(key('show'), answer('x', []), true, cache.epoch())).toBe(false);
    expect(cache.put(key('big'), answer('x'.repeat(1024 * 1024 + 1)), true, cache.epoch())).toBe(false);
    expect(cache.stats()).toMatchObject({ entries: 0 });
  });

  it('drops the entries that read a flushed measurement, and a deleted database\'s', () => {
    const cache = new QueryCache(config);
    cache.put(key('cpu'), answer('1'), true, cache.epoch());
    cache.put(key('join'), answer('2', [['db', 'cpu'], ['other', 'mem']]), true, cache.epoch());
    cache.put(key('mem'), answer('3', [['other', 'mem']]), true, cache.epoch());
    cache.invalidate('db', 'cpu');
    expect(cache.get(key('cpu'))).toBeUndefined();
    expect(cache.get(key('join'))).toBeUndefined();
    expect(cache.get(key('mem'))).toBeDefined();
    cache.invalidateDatabase('other');
    expect(cache.get(key('mem'))).toBeUndefined();
    expect(cache.stats()).toMatchObject({ invalidations: 3, entries: 0 });
  });

  it('does not keep an answer whose query began before a flush of what it read (it would serve the old rows for the TTL)', () => {
    const cache = new QueryCache(config);
    const startedAt = cache.epoch();
    // The flush lands while the query runs: its invalidation finds nothing to drop yet.
    cache.invalidate('db', 'cpu');
    expect(cache.put(key('cpu'), answer('stale'), true, startedAt)).toBe(false);
    expect(cache.get(key('cpu'))).toBeUndefined();
    // Other measurements' changes do not matter; a later query's answer is kept.
    const later = cache.epoch();
    cache.invalidate('db', 'mem');
    expect(cache.put(key('cpu'), answer('fresh'), true, later)).toBe(true);
    const beforeDrop = cache.epoch();
    cache.invalidateDatabase('db');
    expect(cache.put(key('cpu2'), answer('x'), true, beforeDrop)).toBe(false);
    const beforeClear = cache.epoch();
    cache.clear();
    expect(cache.put(key('cpu3'), answer('x'), true, beforeClear)).toBe(false);
  });

  it('keeps nothing while disabled', () => {
    const cache = new QueryCache({ ...config, enabled: false });
    expect(cache.put(key('q'), answer('x'), true, cache.epoch())).toBe(false);
    expect(cache.get(key('q'))).toBeUndefined();
  });
});
