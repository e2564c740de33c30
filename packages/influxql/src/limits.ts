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
 * Points a subquery's answer may have: the outer SELECT reads them from SQL text (VALUES, about
 * 60 bytes a point), so this bounds that text to a few MB. Dashboards' subqueries are bucketed
 * (one point per interval and series), far below it.
 */
export const SUBQUERY_ROWS_MAX = 100_000;

assert.ok(SUBQUERY_ROWS_MAX > 0);

/**
 * Regular expressions already checked valid by the engine, remembered so that a dashboard
 * repeating `host =~ /^a$/` costs one check, not one per request. Each entry is the pattern
 * text (dashboards use tens to hundreds of distinct ones); the cache is cleared when full.
 */
export const VALID_REGEX_CACHE_MAX = 10_000;

/**
 * Bytes of one SQL statement built from many parts (a VALUES list of names to match, a UNION ALL
 * over measurements): longer ones are split into several statements. Below the query pool's
 * 100 KiB limit on SQL text, with room for the fixed part around the list; a database of 2,000
 * measurements needs about 4 statements for SHOW SERIES CARDINALITY.
 */
export const GENERATED_SQL_BYTES_MAX = 64 * 1024;

/**
 * Measurement schemas (a DESCRIBE each, which reads the files' footers) asked of the query pool
 * at once by SHOW statements over every measurement: more keeps the pool's threads busy, fewer
 * leaves room in its queue (64) for other requests.
 */
export const SCHEMA_READS_IN_FLIGHT = 8;

/** `chunk_size` when `chunked=true` comes without one (InfluxDB's DefaultChunkSize). */
export const DEFAULT_CHUNK_SIZE = 10_000;

/**
 * A continuous query's tz() becomes a fixed window offset when the zone's UTC offsets differ only
 * by multiples of the interval; they are read over this many days either side of the CREATE
 * (about five years each way, the span time-zones.ts scans at most). Costs one zone lookup per
 * day, once, at CREATE; a rule change beyond it is not foreseen (tzdata cannot either).
 */
export const CQ_TIME_ZONE_CHECK_DAYS = 1830;

assert.ok(VALID_REGEX_CACHE_MAX > 0);
assert.ok(CQ_TIME_ZONE_CHECK_DAYS > 0);
assert.ok(GENERATED_SQL_BYTES_MAX > 0);
assert.ok(SCHEMA_READS_IN_FLIGHT > 0);
assert.ok(DEFAULT_CHUNK_SIZE > 0);
