import assert from 'node:assert/strict';
import { CONFIG_MEASUREMENTS_PER_DATABASE_MAX } from '@arc/config';

/**
 * SQL text accepted per query (100 KB). The parser and the JSON parse tree grow
 * with it; real dashboards send a few KB, so this stops accidents (a body pasted as SQL).
 */
export const SQL_BYTES_MAX = 100 * 1024;

/**
 * Bytes of one JSON answer. The whole answer is built in the worker's memory, then moved to the
 * main thread, so this bounds both (plus the materialized result inside DuckDB). Bigger results
 * belong on the streaming or Arrow endpoints.
 */
export const JSON_ANSWER_BYTES_MAX = 512 * 1024 * 1024;

/**
 * First size of a JSON answer buffer; it doubles as needed. Small enough that a point query costs
 * little, large enough that a typical dashboard answer needs no more than a couple of doublings.
 */
export const JSON_ANSWER_BYTES_INITIAL = 64 * 1024;

/**
 * Largest `limit` a query request may give. The limit only caps rows (it never allocates), so
 * the bound exists to refuse nonsense early; the answer byte caps stop real results far below it.
 */
export const QUERY_ROW_LIMIT_MAX = 1_000_000_000;

/**
 * Bytes of answer buffer a worker keeps between queries. JSON and CSV answers are written into
 * it, then copied out at their exact size: memory already touched is written ~50x faster than
 * fresh pages here (first write of 27 MB 80 ms, second 1.6 ms), and growing a fresh buffer by
 * doubling touches twice the answer's size. Costs this much resident memory per worker once a
 * query has needed it; bigger answers get a buffer of their own that is not kept.
 */
export const ANSWER_SCRATCH_BYTES_MAX = 64 * 1024 * 1024;

/**
 * How often a worker looks at its task's cancel slot while DuckDB runs. Atomics.waitAsync in a
 * worker is not woken by notify on Node 20 (see packages/ring doorbell), so the worker polls: a
 * 10 ms tick costs nothing measurable and bounds how late a timeout interrupts the query.
 */
export const CANCEL_POLL_MS = 10;

/**
 * How long a query thread waits for catalog messages that the shared generation says were sent
 * (they are already posted, so this is only reached when the main thread is stalled): then the
 * query fails rather than answer from an old file list.
 */
export const CATALOG_CATCH_UP_MS_MAX = 10_000;

/**
 * How long a query waits for the first listing of a measurement's files (after a start the
 * catalog lists each measurement when first needed: about 0.05 ms per file on local disk, so a
 * million files fit; an object store pages 1,000 keys per request): then 503, retry.
 */
export const CATALOG_LOAD_MS_MAX = 120_000;

/**
 * Databases and measurements a worker puts in its catalog. Each is a DuckDB schema or view
 * (a few KB of catalog memory per worker) and a directory listed on every catalog refresh.
 */
export const DATABASES_MAX = 10_000;
export const MEASUREMENTS_PER_DATABASE_MAX = 100_000;

/**
 * A streamed answer goes out in pieces of about this size (several DuckDB chunks): large enough
 * that a message per piece costs nothing measurable, small enough to keep memory flat.
 */
export const STREAM_PIECE_BYTES = 256 * 1024;
/**
 * Pieces a streaming worker may send before the socket took them: the bound on a stream's memory
 * between DuckDB and the client (about STREAM_CREDITS x STREAM_PIECE_BYTES), with enough slack
 * that the worker encodes the next piece while the socket sends the last.
 */
export const STREAM_CREDITS = 4;

/** Time a closing pool waits for running queries before it terminates the workers. */
export const POOL_CLOSE_TIMEOUT_MS = 30_000;

// Every measurement ingest.max_measurements_per_database lets a database have fits the catalog.
assert.ok(MEASUREMENTS_PER_DATABASE_MAX >= CONFIG_MEASUREMENTS_PER_DATABASE_MAX);
assert.ok(JSON_ANSWER_BYTES_INITIAL <= JSON_ANSWER_BYTES_MAX);
assert.ok(ANSWER_SCRATCH_BYTES_MAX <= JSON_ANSWER_BYTES_MAX);
// Node's Buffer (and so any Uint8Array we may hand to uWS) is limited to 2^32 - 1 bytes.
assert.ok(JSON_ANSWER_BYTES_MAX < 2 ** 32);
assert.ok(CANCEL_POLL_MS > 0);

/**
 * Bytes one call of a string-building function (repeat, lpad, rpad, printf / format widths,
 * bitstring) may produce. DuckDB builds such strings in the vector's own heap, outside the
 * buffer manager, so `memory_limit` does not see them, and it checks for an interrupt only
 * between vectors: `repeat('x', 2000000000)` took 29 s and 4.6 GiB whatever the limit. A vector
 * holds up to 2048 values, so this bounds one vector of them at 32 MiB and the time an abort
 * waits for the vector to end: measured with one value per row, 64 KiB took 1-4.6 s per vector
 * (lpad ~40 ns a byte), 16 KiB 0.2-0.3 s. A padded label or a text bar is far below it.
 */
export const FUNCTION_VALUE_BYTES_MAX = 16 * 1024;

/**
 * Elements one call of a list-building function (scalar range / generate_series, list_resize,
 * array_resize) may produce, for the same reason: `range(100000000)` as a value took 8 min and
 * 9.5 GiB. Measured with one list per row, an interrupt waited 13 s for a vector of 65,536-element
 * lists, 1.6 s for 16,384, so 4,096 (a list of the hours of five months). Row-producing
 * `FROM range(n)` / `generate_series` streams in vectors and is not bounded by this.
 */
export const FUNCTION_LIST_ELEMENTS_MAX = 4096;

/**
 * Times one statement is re-parsed after quoting an unquoted `default` database name DuckDB's
 * parser stopped at (see default-name.ts). Each round is one parse (well under a millisecond for
 * dashboard SQL); a statement naming `default` more often than this gets the parser's error.
 */
export const DEFAULT_NAME_QUOTES_MAX = 32;

/**
 * Bound texts a query thread remembers it checked (query-engine.ts, parsesAs): each entry is the
 * text of one time bound and its parse tree as JSON (~1-2 KB), so 1,024 hold every bound a set of
 * dashboards repeats in ~2 MB; past it the memory is cleared and the checks are made again.
 */
export const ZONED_BOUND_CHECKS_MAX = 1024;

/**
 * Bounds trees a query thread remembers the SQL text of (query-engine.ts, boundsSql): each entry
 * is the JSON tree of a statement's time bounds and the SELECT DuckDB made of it (~2-5 KB), so
 * 1,024 hold what a set of dashboards repeats in a few MB; past it the memory is cleared.
 */
export const BOUNDS_SQL_TEXTS_MAX = 1024;

/**
 * Bytes of parse tree (as DuckDB's JSON text) a query thread keeps of the statements it checked,
 * by SQL text (statement-guard.ts): a repeated statement (a dashboard's refresh, `SELECT 1` of a
 * health check) skips the parse, a DuckDB call of 0.35-0.4 ms on the 2-vCPU machine. A tree is
 * ~10-30x its SQL, a dashboard query's tree 10-60 KB, so 8 MiB hold a few hundred of them; the
 * parsed objects cost about twice the text. Past it the least recently used are forgotten.
 */
export const PARSED_STATEMENT_BYTES_MAX = 8 * 1024 * 1024;

/**
 * Bytes of parse tree (as DuckDB's JSON text) a query thread keeps by statement shape (the text
 * without its string literals, statement-shapes.ts): a query sent again with another host or
 * time window skips the parse (1.3 ms of a single-host TSBS query under load). Shapes are fewer
 * than texts (a dashboard's panels, an application's statements), so half the parse memory's
 * bound holds a few hundred of them.
 */
export const STATEMENT_SHAPE_BYTES_MAX = 4 * 1024 * 1024;

/**
 * Prepared statements of SQL that reads no relation a query thread keeps (query-engine.ts,
 * keptStatement): each skips DuckDB's prepare (0.17-0.19 ms of a `SELECT 1` here) when its text
 * comes again. A handful of health checks and constant panels repeat; each statement holds the
 * plan of a constant projection (no scan, no files), so 64 of them cost little per thread.
 */
export const KEPT_STATEMENTS_MAX = 64;
assert.ok(KEPT_STATEMENTS_MAX > 0);

/**
 * How many times as many partitions each narrowed run of a top-N statement reads as the one
 * before (top-n.ts): the first reads the newest partition with data, then 4, then 16, then every
 * file. A run that falls short costs its files' scan again; growing by 4 keeps the runs over a
 * day of hour files to four (1, 4, 16, all), each wasted run reading a quarter of the next.
 */
export const TOP_N_SPAN_GROWTH = 4;
assert.ok(TOP_N_SPAN_GROWTH >= 2);

/**
 * Bucket starts a query thread remembers by bucket expression and instant (query-engine.ts,
 * bucketStart): each is a DuckDB call of ~0.2 ms, and a dashboard or TSBS repeats the same few
 * (the newest partition changes once an hour). Each entry is a tree's text, a few hundred bytes.
 */
export const TOP_N_BUCKET_STARTS_MAX = 1024;

/**
 * Bytes of decoded files a query thread keeps for series windows by default (series-cache.ts,
 * `query.series_cache_mb`): a file of
 * TSBS's 100 hosts x 1 h (36,000 rows) costs ~0.4 MB sorted plus ~0.3 MB per field, so 128 MiB
 * holds a day of it with five fields. One query may take half (SeriesCache.admits): TSBS's
 * cpu-max-all-8 (8 h, 10 fields) needs ~33 MB.
 */
export const SERIES_CACHE_BYTES_DEFAULT = 128 * 1024 * 1024;

/**
 * Files a series window that missed the series cache reads ahead (query-engine.ts,
 * readAheadFiles): a day of hour files. Each costs ~15 ms once on a fresh thread (TSBS's
 * 36,000-row hour files), so the first query of a measurement may take ~300 ms, the next ~1 ms.
 */
export const SERIES_READ_AHEAD_FILES_MAX = 24;
assert.ok(SERIES_READ_AHEAD_FILES_MAX >= 0);

/** Bucket grids a query thread remembers by expression (query-engine.ts, bucketGrid): a few hundred bytes each. */
export const BUCKET_GRIDS_MAX = 256;
assert.ok(BUCKET_GRIDS_MAX > 0);

/**
 * Constant interval expressions whose value a query thread remembers (`INTERVAL 1 HOUR` of a
 * `now() - INTERVAL 1 HOUR` bound, a time_bucket's width): a dashboard sends a few; cleared when full.
 */
export const INTERVAL_VALUES_MAX = 256;
assert.ok(INTERVAL_VALUES_MAX > 0);

/**
 * Files a measurement needs at least before a latest-rows statement runs in two steps
 * (last-point.ts). Step 1 reads every row's keys and time as the statement's subquery does, and
 * step 2 costs a second plan and DuckDB's IN over even one file (5-7 ms in-process, 2026-12-06):
 * the saving is the statement's outer scan over the files step 2 skips. In-process over TSBS's
 * 100 hosts: 21 files (12 h) 11-12 ms as written against 6-7 + 5.5-6.6 in two steps (no saving);
 * 114 files (72 h) 37.8 ms against 21.3 + 6.6.
 */
export const LAST_POINT_FILES_MIN = 32;
assert.ok(LAST_POINT_FILES_MIN >= 1);
