// The name of last_cache() and the cheap text test for it, apart from the code that binds a cache's
// rows in DuckDB (last-cache-relation.ts): the main thread uses these, and must not load DuckDB.

/**
 * `last_cache('table'[, 'name'])` in user SQL (InfluxDB 3's spelling) reads a last-value cache:
 * the rows the writers keep of each key's newest points. The call is replaced in the SQL text by
 * a table holding the cache's rows as the task carries them (planLastCaches), so WHERE, ORDER BY
 * and projections apply to it as to any table.
 */
export const LAST_CACHE_FUNCTION = 'last_cache';

/** False when the SQL text cannot call last_cache() (most queries: their tree is then not walked again). */
export function mayCallLastCache(sql: string): boolean {
  return MAY_CALL.test(sql);
}

const MAY_CALL = /last_cache/i;
