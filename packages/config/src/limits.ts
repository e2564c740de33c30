import assert from 'node:assert/strict';

/**
 * Ranges that `arc.conf` values must fall in. A value outside its range stops the start with a
 * ConfigError naming the key: a typo (`port = 80000`, `ring_mb = 3`) should never become a silent
 * clamp or a crash deep inside a worker thread.
 */

/** Bytes in one MiB: every `*_mb` key in arc.conf is in MiB (2^20 bytes). */
export const BYTES_PER_MIB = 1024 * 1024;
/** `cache_max_gb` counts in GB (10^9 bytes), as disks are sold. */
export const BYTES_PER_GB = 1e9;

/** The config file is read whole into memory; anything larger is not a config file. */
export const CONFIG_FILE_BYTES_MAX = 1024 * 1024;

export const PORT_MIN = 1;
export const PORT_MAX = 65_535;

/**
 * Request body after decompression, in MiB. The whole body is held in memory while it is decoded,
 * so the upper bound keeps one request below Node's Buffer limit with room to spare.
 */
export const BODY_MB_MIN = 1;
export const BODY_MB_MAX = 2048;

/** Seconds to drain in-flight requests and flush buffers on SIGTERM before exiting anyway. */
export const SHUTDOWN_TIMEOUT_SECONDS_MAX = 3600;
/**
 * Seconds a stop keeps retrying a failing final flush (a full disk being cleared) before it gives
 * up. Past an hour a supervisor has long since killed the process anyway.
 */
export const SHUTDOWN_FLUSH_RETRY_SECONDS_MAX = 3600;

/**
 * Decoder threads. 0 means "auto" (DECODERS_PER_CPU per available CPU). Each decoder owns a ring
 * of `ring_mb` MiB and a V8 isolate (tens of MiB), so the cap bounds memory on big hosts.
 */
export const DECODERS_MAX = 256;
/** Decoding is CPU-bound but waits on the ring and on GC; three per CPU kept all cores busy. */
export const DECODERS_PER_CPU = 3;

/**
 * Per-decoder SharedArrayBuffer ring, in MiB. Must be a power of two so that offsets wrap with a
 * mask; one request frame must fit, so tiny rings limit the largest request a decoder takes.
 */
export const RING_MB_MIN = 1;
export const RING_MB_MAX = 1024;

/**
 * MiB of write request bodies the acceptor may hold unanswered (waiting for a ring or buffer room,
 * or with a decoder). Unset, it is IN_FLIGHT_BODIES_DEFAULT bodies of server.body_max_mb; the
 * upper bound keeps the count a safe integer of bytes.
 */
export const IN_FLIGHT_MB_MAX = 1024 * 1024;
/** Largest requests the default in-flight bound holds at once: 16 connections sending the largest body. */
export const IN_FLIGHT_BODIES_DEFAULT = 16;
/**
 * Milliseconds a write may wait for a ring or for write buffers to drain before it is answered 503.
 * The default stays under common client timeouts (Telegraf's HTTP output gives up after 5 s), so a
 * client sees the 503 and its Retry-After rather than a timeout of its own.
 */
export const WAIT_MS_DEFAULT = 4000;
/** Past a few minutes a client has long given up; a wait longer than that only holds memory. */
export const WAIT_MS_MAX = 300_000;

/** Threads for Parquet writers and DuckDB; more than a big host has cores helps nobody. */
export const THREADS_MAX = 256;

/** Rows buffered per (database, measurement) before a flush; bounds one Parquet file's rows. */
export const FLUSH_ROWS_MAX = 100_000_000;
/** MiB buffered for all writers together; above it ingestion answers 503 (back-pressure). */
export const BUFFER_MB_MAX = 1024 * 1024;
/** A buffer older than this is flushed even if small: bounds how stale a query can be. */
export const FLUSH_AGE_MS_MIN = 10;
export const FLUSH_AGE_MS_MAX = 3_600_000;
/** Parquet row group size in rows. DuckDB reads row groups in parallel; 122880 is its default. */
export const ROW_GROUP_SIZE_MIN = 1024;
export const ROW_GROUP_SIZE_MAX = 10_000_000;

/** A query running longer than this is cancelled (408/504). */
export const QUERY_TIMEOUT_SECONDS_MAX = 86_400;
/** Queries waiting for a DuckDB thread; a full queue answers 503 instead of growing. */
export const QUERY_QUEUE_MAX = 100_000;
/** Rows of a non-streamed answer; above, answers are streamed (/query/stream) instead. */
export const QUERY_ROWS_MAX = 1_000_000_000;
/** The largest series cache a query thread may keep (`query.series_cache_mb`): 64 GiB. */
export const SERIES_CACHE_MB_MAX = 65_536;
/** The query cache: seconds an answer lives, answers kept, and the largest answer kept (MB). */
export const QUERY_CACHE_TTL_SECONDS_MAX = 86_400;
export const QUERY_CACHE_ENTRIES_MAX = 1_000_000;
export const QUERY_CACHE_RESULT_MB_MAX = 1024;
/**
 * Databases named in metric labels at most ([metrics] database_labels_max): each costs a few
 * series per protocol in every scrape (and in Prometheus' memory), so past a few thousand the
 * scrape itself grows slow; the rest fold into `other`.
 */
export const METRICS_DATABASE_LABELS_MAX = 10_000;
/** The console's time series: one sample per interval (seconds), this many samples kept per type. */
export const METRICS_TIMESERIES_INTERVAL_SECONDS_MAX = 3600;
export const METRICS_TIMESERIES_POINTS_MAX = 10_000;

/** Seconds a verified token stays cached; 0 disables the cache (every request pays a scrypt). */
export const AUTH_CACHE_TTL_SECONDS_MAX = 3600;
/** A bootstrap token longer than this is a mistake (a pasted file, not a token). */
export const BOOTSTRAP_TOKEN_LENGTH_MAX = 1024;

/** A host name, data dir or tag value longer than this is a mistake. */
export const STRING_VALUE_LENGTH_MAX = 4096;

assert.ok(PORT_MIN <= PORT_MAX);
assert.ok(Number.isInteger(Math.log2(RING_MB_MIN)));
assert.ok(Number.isInteger(Math.log2(RING_MB_MAX)));
// A ring's byte size is used as an int32 offset inside the SharedArrayBuffer.
assert.ok(RING_MB_MAX * BYTES_PER_MIB <= 2 ** 31);
assert.ok(BODY_MB_MAX * BYTES_PER_MIB <= 2 ** 32);
assert.ok(FLUSH_AGE_MS_MIN <= FLUSH_AGE_MS_MAX);
assert.ok(ROW_GROUP_SIZE_MIN <= ROW_GROUP_SIZE_MAX);
// Byte sizes derived from MiB values must stay exact integers in a double.
assert.ok(BUFFER_MB_MAX * BYTES_PER_MIB <= Number.MAX_SAFE_INTEGER);

/** Nice values are 0 (normal) to 19 (lowest); decoders may only lower their own priority. */
export const DECODER_NICE_MAX = 19;
/** Chosen by bench/ingest (docs/decisions.md, "Decoders yield the CPU to writers"). */
export const DECODER_NICE_DEFAULT = 15;

/**
 * Distinct measurements one write request may touch, and measurements one database may have
 * (ingest.max_measurements_per_request, ingest.max_measurements_per_database). Each measurement is
 * a writer buffer, a Parquet file per flush and per hour, a directory, and a view in every query
 * thread's catalog; the bounds' ranges stop at what the query catalog holds per database.
 * Defaults and why: docs/decisions.md, "Measurement bounds".
 */
export const MEASUREMENTS_PER_REQUEST_DEFAULT = 1000;
export const MEASUREMENTS_PER_DATABASE_DEFAULT = 10_000;
export const MEASUREMENTS_PER_DATABASE_MAX = 100_000;

/**
 * The object-storage query cache, in GB: at least 1 MB (tests bound it tight), at most 100 TB.
 * A query needing more than the cache holds is refused (4xx), so the bound is also the largest
 * scan one query can do.
 */
export const CACHE_GB_MIN = 0.001;
export const CACHE_GB_MAX = 100_000;
/** Past an hour a node would answer from a listing too old to be useful. */
export const LISTING_REFRESH_SECONDS_MAX = 3600;
/** S3's own bounds on a multipart part: 5 MiB to 5 GiB. */
export const S3_PART_MB_MIN = 5;
export const S3_PART_MB_MAX = 5120;
assert.ok(IN_FLIGHT_MB_MAX * BYTES_PER_MIB <= Number.MAX_SAFE_INTEGER);
assert.ok(WAIT_MS_DEFAULT <= WAIT_MS_MAX);
