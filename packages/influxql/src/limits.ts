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
