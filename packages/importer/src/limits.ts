// Limits of the importer, with what each costs and why it is where it is.
import assert from 'node:assert/strict';

/**
 * Rows of one import job's chunk when the job does not say (`chunk_rows`). One chunk is one ingest
 * write, one checkpoint (an fsync of the job store) and, on a crash, the unit re-read or counted:
 * 50,000 rows of ~100 bytes is ~5 MB of line protocol, a few hundred ms of ingest.
 */
export const JOB_CHUNK_ROWS_DEFAULT = 50_000;
/** The most rows a job may ask per chunk: the chunk is held whole (source thread and ingest). */
export const JOB_CHUNK_ROWS_MAX = 1_000_000;
/**
 * A chunk's line protocol stays under this: one ingest request, held whole by the source thread and
 * the pipeline's in-flight bound. 8 MiB keeps it well under the server's default body limit.
 */
export const JOB_CHUNK_BYTES_MAX = 8 * 1024 * 1024;
/**
 * The running execution's progress (rows, bytes, rate, ETA) is written to the job store at most this
 * often: each write is a synchronous SQLite commit on the main thread. Checkpoints are written at
 * every chunk regardless (they are what makes a resume exact).
 */
export const JOB_PROGRESS_WRITE_INTERVAL_MS = 1_000;
/** Executions kept per job (newest); older ones are removed as new ones start. */
export const JOB_EXECUTIONS_KEPT = 100;
/** Executions answered by `GET /jobs/{id}/executions` when `limit` is absent, and at most. */
export const JOB_EXECUTIONS_LISTED_DEFAULT = 20;
export const JOB_EXECUTIONS_LISTED_MAX = JOB_EXECUTIONS_KEPT;
/** Recent executions (all jobs) in `GET /monitoring/jobs`. */
export const JOB_MONITORING_RECENT = 20;
/** An error message stored with an execution is cut here (a source may answer a whole page). */
export const JOB_ERROR_MESSAGE_CHARS_MAX = 2_000;

assert.ok(JOB_CHUNK_ROWS_DEFAULT <= JOB_CHUNK_ROWS_MAX);
assert.ok(JOB_EXECUTIONS_LISTED_DEFAULT <= JOB_EXECUTIONS_LISTED_MAX);
/** A connection's name: shown in lists and logs; 128 characters name anything a person types. */
export const CONNECTION_NAME_LENGTH_MAX = 128;

/**
 * A connection's secret (password, token, header value): InfluxDB 2.x tokens are 88 characters,
 * cloud API keys a few hundred; 4 KiB is far above any and keeps a row small.
 */
export const CONNECTION_SECRET_BYTES_MAX = 4096;

/** A connection's settings as JSON text: a URL, a few names and headers; 16 KiB bounds a row. */
export const CONNECTION_SETTINGS_BYTES_MAX = 16 * 1024;

/**
 * How long `POST /connections/{type}/test` waits for the source to connect, authenticate and
 * answer before it answers `ok: false`: long enough for a TLS handshake across a continent and
 * a cold database, short enough that a request (and the admin waiting on it) is not held long.
 */
export const CONNECTION_TEST_TIMEOUT_MS = 15_000;

/** A JSONPath of a mapping: far above any real one, and it bounds what an error quotes. */
export const JSON_PATH_CHARS_MAX = 1024;

/**
 * One page of an HTTP JSON API's answer is read whole and parsed with JSON.parse (a page is the
 * API's unit: it cannot be cut). 8 MiB parses in tens of milliseconds and holds a few times that
 * as objects; an API answering more per page is refused (ask it for smaller pages).
 */
export const HTTP_JSON_PAGE_BYTES_MAX = 8 * 1024 * 1024;

/** A request to an HTTP JSON API waits this long by default (settings.timeout_ms) and at most HTTP_JSON_TIMEOUT_MS_MAX. */
export const HTTP_JSON_TIMEOUT_MS_DEFAULT = 30_000;
export const HTTP_JSON_TIMEOUT_MS_MAX = 300_000;

/** Records of a page's answer kept for schema discovery's types, samples and distinct counts (more says little more). */
export const HTTP_JSON_SCHEMA_RECORDS_SAMPLED = 200;
/** Leaf paths listed per candidate record array (a record with more is listed in part, and says so). */
export const HTTP_JSON_SCHEMA_PATHS_MAX = 200;
/** Depth of the answer searched for arrays of objects, and of a record searched for leaves. */
export const HTTP_JSON_SCHEMA_DEPTH_MAX = 8;
/** A string is a tag candidate when it is at most this long and has at most this many distinct values in the sample. */
export const HTTP_JSON_TAG_CHARS_MAX = 64;
export const HTTP_JSON_TAG_DISTINCT_MAX = 32;

/**
 * The one-shot export (POST /api/http-json/export) reads the whole answer set before it writes a
 * row (so a bound passed writes nothing and the answer can say "use a job"), and runs on the
 * acceptor thread: its pages are bounded to HTTP_JSON_EXPORT_PAGE_BYTES_MAX (JSON.parse of 1 MiB
 * and its lines take a few ms), its lines to HTTP_JSON_EXPORT_BYTES_MAX held in memory, at most
 * HTTP_JSON_EXPORTS_AT_ONCE at a time (so at most 64 MiB held). Beyond: an import job, which
 * reads in the import thread and checkpoints.
 */
export const HTTP_JSON_EXPORT_PAGE_BYTES_MAX = 1024 * 1024;
export const HTTP_JSON_EXPORT_PAGES_MAX = 100;
export const HTTP_JSON_EXPORT_ROWS_MAX = 100_000;
export const HTTP_JSON_EXPORT_BYTES_MAX = 32 * 1024 * 1024;
export const HTTP_JSON_EXPORTS_AT_ONCE = 2;
/** A one-shot export ends (504) when its pages take longer than this altogether. */
export const HTTP_JSON_EXPORT_DURATION_MS_MAX = 300_000;
/** Schema discovery also runs on the acceptor thread: its one page has the export's bound. */
export const HTTP_JSON_DISCOVER_PAGE_BYTES_MAX = HTTP_JSON_EXPORT_PAGE_BYTES_MAX;

assert.ok(HTTP_JSON_EXPORT_PAGE_BYTES_MAX <= HTTP_JSON_PAGE_BYTES_MAX);
assert.ok(HTTP_JSON_TIMEOUT_MS_DEFAULT <= HTTP_JSON_TIMEOUT_MS_MAX);

/**
 * Rows per piece of an InfluxDB 1.x chunked answer (`chunk_size`). The driver asks for one chunk's
 * rows at a time anyway (LIMIT); this only bounds how much InfluxDB encodes before it sends, so a
 * large chunk streams in pieces instead of being held whole on the source server.
 */
export const INFLUX1_ANSWER_CHUNK_ROWS = 10_000;

/**
 * Bytes of one source answer the InfluxDB drivers accept. A page is one chunk's rows plus one
 * (LIMIT chunkRowsMax + 1), so its answer is a few times the chunk's line protocol; this caps
 * the memory of a source that answers far more than asked (a proxy, a misbehaving server).
 */
export const INFLUX_ANSWER_BYTES_MAX = 256 * 1024 * 1024;

/**
 * The first time window an InfluxDB 2.x page reads (ns). Flux's `group() |> sort() |> limit()`
 * reads and sorts the whole range before it limits, so a page covers a window, not the rest of the
 * range: the window doubles after a page it leaves short and halves after one it fills at once, so
 * it settles near one chunk's rows whatever the data's density.
 */
export const FLUX_WINDOW_NS_INITIAL = 3_600_000_000_000n;

/**
 * Escaped tag keys, tag values and field keys the line builder keeps per thread (line-protocol.ts),
 * so the ones a source repeats on every row are escaped and checked once: at most this many texts
 * of at most LINE_TEXT_CACHE_TEXT_LENGTH_MAX UTF-16 units, about 4 MB at worst (text and escaped
 * text). 4,096 covers TSBS's 100 hosts x 10 tags many times; longer or further texts are escaped each time.
 */
export const LINE_TEXT_CACHE_ENTRIES_MAX = 4096;
export const LINE_TEXT_CACHE_TEXT_LENGTH_MAX = 256;
