import assert from 'node:assert/strict';

/**
 * Tokens in one query text. Dashboards send a few hundred; the bound stops a pasted file from
 * making the recursive-descent parser (and the SQL built from it) grow without limit.
 */
export const INFLUXQL_TOKENS_MAX = 100_000;

/** Nesting of parentheses and operators in one expression: the parser recurses once per level. */
export const EXPRESSION_DEPTH_MAX = 200;

/** Statements in one request (`;`-separated); each becomes one result. */
export const STATEMENTS_MAX = 100;

/**
 * Rows one SELECT may bring back from DuckDB into the main thread, where they are shaped into
 * series (about 100 bytes each in JS). InfluxDB's `max-row-limit` plays the same role; a larger
 * answer is refused with an error asking for LIMIT or a narrower time range.
 */
export const SELECT_ROWS_MAX = 1_000_000;

/**
 * Buckets of GROUP BY time() per series, counted between the time bounds (fill() produces all of
 * them). InfluxDB's `max-select-buckets`: a 1s interval over a year is 31M buckets per series.
 */
export const GROUP_BY_BUCKETS_MAX = 100_000;

assert.ok(SELECT_ROWS_MAX > 0);
assert.ok(GROUP_BY_BUCKETS_MAX > 0);
assert.ok(STATEMENTS_MAX > 0);

/**
 * Regular expressions already checked valid by the engine, remembered so that a dashboard
 * repeating `host =~ /^a$/` costs one check, not one per request. Each entry is the pattern
 * text (dashboards use tens to hundreds of distinct ones); the cache is cleared when full.
 */
export const VALID_REGEX_CACHE_MAX = 10_000;

/**
 * Names (measurements, tag keys) filtered by a regex in one engine query, sent as a VALUES list:
 * about 20-100 bytes of SQL each. Longer lists go in several queries.
 */
export const REGEX_NAMES_PER_QUERY_MAX = 10_000;

/** `chunk_size` when `chunked=true` comes without one (InfluxDB's DefaultChunkSize). */
export const DEFAULT_CHUNK_SIZE = 10_000;

assert.ok(VALID_REGEX_CACHE_MAX > 0);
assert.ok(REGEX_NAMES_PER_QUERY_MAX > 0);
assert.ok(DEFAULT_CHUNK_SIZE > 0);
