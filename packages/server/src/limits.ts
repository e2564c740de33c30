import assert from 'node:assert/strict';

/** Seconds a client is told to wait (Retry-After) when every ring or buffer is full. */
export const RETRY_AFTER_SECONDS = 1;
/**
 * Slow uploads. uWS closes a connection without any answer when a request body has not brought
 * 160 KiB (16 KiB/s over its 10-s HTTP timeout) since the handler ran or since its last 160 KiB;
 * its timer ticks every 4 s, so the close can come as early as 8 s. readBody keeps the same count
 * and answers 408 first: each BODY_PROGRESS_BYTES of a body (or the whole body, when smaller) must
 * arrive within BODY_PROGRESS_WINDOW_MS. The 2 s left before uWS's earliest close leave room for
 * a busy event loop. The minimum upload rate is thus 160 KiB per 6 s (about 27 KiB/s).
 */
export const BODY_PROGRESS_BYTES = 160 * 1024;
export const BODY_PROGRESS_WINDOW_MS = 6000;
/** uWS's earliest close of a slow upload: its 10-s timeout counted in 4-s ticks. */
const UWS_SLOW_BODY_CLOSE_MS_MIN = 8000;
/**
 * Request line plus headers, in bytes. uWS 20.30 parses a head that arrives in one read at any
 * size, but a head split across reads must fit its 4-KiB buffer, else it closes the connection
 * without a status (it has no setting for this). Arc refuses any head over that size with 431,
 * so the limit does not depend on how the network cut the bytes; only a split head over it still
 * meets uWS's silent close. (uWS also waits out its timeout on a request of more than 48 header
 * lines, then closes it: no handler runs, so that one cannot be answered.)
 */
export const HTTP_HEAD_BYTES_MAX = 4096;
/**
 * Lingering close. uWS closes a `Connection: close` (or HTTP/1.0) connection as soon as its answer
 * is written; bytes of the request body still unread then make the kernel send a reset, and a
 * client still sending (node:http without an agent) loses the answer. So a body refused as too
 * large on such a connection is read and discarded until it ends, and only then answered, within
 * these bounds (as nginx's lingering_close): at most LINGER_BYTES_MAX bytes (bandwidth, no
 * memory: chunks are dropped), LINGER_TIME_MS in all, and LINGER_IDLE_MS without a byte (a client
 * that waits for the answer before sending gets it after this). Past a bound the answer goes out
 * and uWS closes. A keep-alive connection is answered at once: uWS reads the rest of the body
 * itself and keeps the connection, so there is nothing to linger for.
 */
export const LINGER_BYTES_MAX = 64 * 1024 * 1024;
export const LINGER_TIME_MS = 10_000;
export const LINGER_IDLE_MS = 1000;
/**
 * uWS 20.30 reads a Content-Length of at most 9 digits; a longer one is a parse error that it
 * meets after the route's handler has run, and it then closes the connection, dropping whatever
 * the handler wrote into its 16-KiB cork buffer. An answer larger than that buffer is written to
 * the socket at once, so the 413 for such a length is padded past UWS_CORK_BUFFER_BYTES (JSON
 * whitespace) and sent from the handler itself, before the close.
 */
export const UWS_CONTENT_LENGTH_DIGITS_MAX = 9;
export const UWS_CORK_BUFFER_BYTES = 16 * 1024;
/** Bytes allocated up front for a request body from its Content-Length; beyond, it grows. */
export const BODY_PREALLOCATE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Write bodies are collected in reused buffers (body-buffers.ts) of power-of-two sizes from
 * BODY_BUFFER_BYTES_MIN (a 1,000-row request of 5 columns is ~45 KiB) to
 * BODY_BUFFER_POOLED_BYTES_MAX; a larger body is rarer and costs more per byte than per
 * allocation, so it gets memory of its own. Rounding up costs at most twice a held body's bytes.
 * At most BODY_BUFFER_POOL_BYTES_MAX of free buffers are kept between writes: 256 of the
 * smallest, more than the writes any client set keeps in flight at once.
 */
export const BODY_BUFFER_BYTES_MIN = 64 * 1024;
export const BODY_BUFFER_POOLED_BYTES_MAX = 1024 * 1024;
export const BODY_BUFFER_POOL_BYTES_MAX = 16 * 1024 * 1024;
/**
 * Characters of one log message: a thread's stack trace fits whole; a message that carries some
 * input (an error quoting a name) cannot make the log grow with the input.
 */
export const LOG_MESSAGE_CHARS_MAX = 16 * 1024;
/**
 * Characters of one string field of a log line (a name, an error text, a query string): smaller
 * than a message because a line may carry several fields.
 */
export const LOG_FIELD_CHARS_MAX = 2048;
/** Characters of the SQL a slow-query line carries: enough to recognise the query, not a dump of a generated 1 MB statement. */
export const SLOW_QUERY_SQL_CHARS_MAX = 2048;
/**
 * Bytes the in-memory log ring behind GET /logs keeps at most, whatever `[log] ring_lines` says:
 * 4 MiB of heap. A line is at most about LOG_MESSAGE_CHARS_MAX plus a few fields, so even lines
 * of the largest kind leave a hundred or more in the ring.
 */
export const LOG_RING_BYTES_MAX = 4 * 1024 * 1024;
/** Lines GET /logs answers when the request gives no `limit`, and at most: the answer stays a few MB. */
export const LOGS_ANSWER_LINES_DEFAULT = 100;
export const LOGS_ANSWER_LINES_MAX = 10_000;
/**
 * Characters of an incoming X-Request-Id taken as is: a UUID is 36 and tracing ids are under 64;
 * a longer (or oddly written) one is replaced by a generated id, so a client cannot make log lines large.
 */
export const REQUEST_ID_CHARS_MAX = 128;
/**
 * Dead letters one `POST /api/v1/wal/dead-letter/replay` may name. Each is re-submitted and
 * awaited one after the other (a few ms each); the bound keeps one call's answer and time sane.
 */
export const DEAD_LETTER_REPLAY_IDS_MAX = 10_000;
/** A re-applied dead letter waits at most this long for the writes held to fall under ingest.in_flight_max_mb. */
export const DEAD_LETTER_SUBMIT_WAIT_MS_MAX = 10_000;
/** Query request bodies are JSON with SQL; the SQL itself is capped at 100 KB (query limits.ts). */
export const QUERY_BODY_BYTES_MAX = 1024 * 1024;

assert.ok(BODY_PROGRESS_WINDOW_MS + 1000 <= UWS_SLOW_BODY_CLOSE_MS_MIN);
// Size classes are powers of two from the smallest to the largest pooled size.
assert.equal(BODY_BUFFER_BYTES_MIN & (BODY_BUFFER_BYTES_MIN - 1), 0);
assert.equal(BODY_BUFFER_POOLED_BYTES_MAX & (BODY_BUFFER_POOLED_BYTES_MAX - 1), 0);
assert.ok(BODY_BUFFER_BYTES_MIN <= BODY_BUFFER_POOLED_BYTES_MAX);
assert.ok(BODY_BUFFER_POOLED_BYTES_MAX <= BODY_BUFFER_POOL_BYTES_MAX);
assert.ok(DEAD_LETTER_REPLAY_IDS_MAX > 0);
// Lingering ends before uWS's own slow-upload close could cut it short without an answer.
assert.ok(LINGER_IDLE_MS + 1000 <= UWS_SLOW_BODY_CLOSE_MS_MIN);

/**
 * Attempts at one token change against the token table shared in the object store (token-sync.ts):
 * each one reads the table and writes it back only if no other node wrote it meanwhile. Token
 * changes are rare admin actions, so more than a few losses in a row mean something is wrong;
 * then the change answers 503 rather than keep the admin waiting.
 */
export const TOKEN_TABLE_WRITE_ATTEMPTS_MAX = 8;
/** Back-off after a lost write: a random wait up to this many ms times the attempt, so two nodes do not collide again in step. */
export const TOKEN_TABLE_RETRY_BACKOFF_MS = 25;
/**
 * How often the server tells compaction whether ingest is busy, and over how many such looks: busy
 * when write requests in flight averaged at least the decoder count (every decoder had one) over
 * the window. 200 ms x 5: a merge pauses within a second of a burst and resumes a second after it.
 */
export const INGEST_BUSY_SAMPLE_MS = 200;
export const INGEST_BUSY_WINDOW_SAMPLES = 5;

/**
 * How often the store is probed for /health and /ready (one stat of a small object in a bucket,
 * or a file written in the data directory): an outage shows within this, at ~0.2 requests/s.
 */
export const STORAGE_PROBE_INTERVAL_MS = 5000;

/**
 * Request latency buckets (seconds) of arc_http_request_duration_seconds: 0.5 ms (a cached answer,
 * a small write) to a minute (a large query). Each route costs one series per bucket per method
 * in every scrape: 15 buckets x ~80 routes stays a few thousand lines.
 */
export const HTTP_DURATION_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Query latency buckets (seconds) of arc_query_duration_seconds: 1 ms to 5 minutes (the default query timeout). */
export const QUERY_DURATION_BUCKETS_SECONDS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/**
 * Distinct error codes in arc_query_errors_total{code}. Arc's codes are constants (a bounded set
 * of well under this); the cap keeps the label bounded even if a code were ever built from input.
 */
export const METRIC_ERROR_CODES_MAX = 200;
/** The label value that stands for every database past [metrics] database_labels_max, and every code past the cap. */
export const METRIC_LABEL_OTHER = 'other';

/**
 * How often kept InfluxQL continuous queries (fn(*), GROUP BY *, FROM /re/) are re-expanded over
 * the data (influxql-cq-expander.ts): the longest a new measurement, field or tag waits for its
 * Arc query (a new measurement is noticed at once, when its first file is published). Each pass
 * reads, per kept query, its database's measurement list and the matching schemas on the query
 * pool: cheap, but not per write.
 */
export const INFLUXQL_CQ_EXPAND_EVERY_MS = 10_000;

/**
 * File imports (POST /api/v1/import/{lp,csv,parquet}, import-routes.ts). An upload is never held
 * whole: it is cut into chunks of about IMPORT_CHUNK_BYTES, each handed to the ingest pipeline like
 * one write request (so one chunk is the unit of atomicity and of the WAL). 4 MiB: large enough that
 * a chunk costs one ring round trip per ~30k rows, small enough to keep a ring's frames moving.
 */
export const IMPORT_CHUNK_BYTES = 4 * 1024 * 1024;
/**
 * Chunks of one import in the pipeline at once. With the chunk being cut and the upload bytes
 * queued, an import holds about (IMPORT_CHUNKS_IN_FLIGHT_MAX + 2) x IMPORT_CHUNK_BYTES, whatever the
 * file's size. 4 keeps several decoders busy, as concurrent HTTP writers would.
 */
export const IMPORT_CHUNKS_IN_FLIGHT_MAX = 4;
/** Upload bytes queued before the import pauses the socket (TCP then slows the client). */
export const IMPORT_UPLOAD_QUEUE_BYTES_MAX = 2 * IMPORT_CHUNK_BYTES;
/** A line protocol line longer than this (no line break within) refuses the import: 400. */
export const IMPORT_LINE_BYTES_MAX = IMPORT_CHUNK_BYTES;
/**
 * Line protocol uploads are streamed, never stored: their bound only stops a runaway upload.
 * CSV and Parquet are spooled to `<data_dir>/import` (Parquet's footer is at the end of the file,
 * and DuckDB reads both from a file), so their bound is the disk they may take: 2 GiB.
 */
export const IMPORT_LP_BYTES_MAX = 64 * 1024 * 1024 * 1024;
export const IMPORT_SPOOL_BYTES_MAX = 2 * 1024 * 1024 * 1024;
/**
 * Rejected rows one import tolerates: each bad line is cut out of its chunk and the rest is
 * submitted again (one more pass over the chunk per bad line), so the bound caps that cost; past
 * it the import stops and reports how far it got. The answer lists the first IMPORT_ERRORS_LISTED.
 */
export const IMPORT_REJECTED_ROWS_MAX = 1000;
export const IMPORT_ERRORS_LISTED = 10;
/** DuckDB memory of an import's reading thread (CSV, Parquet): it spills beyond, to the spool directory. */
export const IMPORT_READER_MEMORY_LIMIT = '512MB';
/** DuckDB threads of an import's reading thread: imports share the machine with ingest and queries. */
export const IMPORT_READER_THREADS = 2;

assert.ok(IMPORT_UPLOAD_QUEUE_BYTES_MAX >= IMPORT_CHUNK_BYTES);
assert.ok(IMPORT_CHUNKS_IN_FLIGHT_MAX >= 1);
assert.ok(IMPORT_ERRORS_LISTED <= IMPORT_REJECTED_ROWS_MAX);

/**
 * Rows a last-value cache keeps per key at most (InfluxDB 3's range, 1-10): each row is held in
 * its writer's memory and copied into every query of the cache.
 */
export const LAST_CACHE_COUNT_MAX = 10;
/** How long a cached row is answered without being refreshed, when the cache names no ttl (InfluxDB 3's default: 4 hours). */
export const LAST_CACHE_TTL_SECONDS_DEFAULT = 4 * 60 * 60;
