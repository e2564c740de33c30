import assert from 'node:assert/strict';

// Limits of compaction, with what each costs and why it is where it is.

// --- Planning and jobs (planner.ts, compactor.ts, partition-lease.ts) ---

/**
 * Files one job merges at most: DuckDB opens them all in one scan (a file handle and a footer
 * each, ~100 KB of memory apiece); a partition with more is merged in several jobs, newest first.
 */
export const JOB_INPUT_FILES_MAX = 1000;

/**
 * The live tier's run grows backwards from the newest file while the next older file is at most
 * this many times the run so far: 1 merges like a binary counter (each row rewritten about
 * log2(flushes per hour) times), larger factors rewrite big files more often for fewer files.
 */
export const LIVE_RUN_GROWTH_FACTOR = 1;

/** Jobs waiting to run at most; a scheduled pass adds none beyond it (the next pass finds them again). */
export const JOB_QUEUE_MAX = 10_000;

/** A lease is renewed this often while its job runs: a third of its length leaves two renewals of slack. */
export const LEASE_RENEWALS_PER_LEASE = 3;

// --- Job history (history-store.ts), its endpoints and `arc compact` ---

/**
 * Jobs one history read returns at most (`GET /api/compaction/history?limit=`). A job row is
 * under 1 KiB of JSON, so the largest answer stays near 1 MiB and one SQLite read of 1,000 rows
 * takes about a millisecond: cheap enough for the acceptor thread, large enough for a day of
 * hourly jobs of a few dozen measurements.
 */
export const HISTORY_LIST_LIMIT_MAX = 1000;
/** What a history read returns when it names no limit. */
export const HISTORY_LIST_LIMIT_DEFAULT = 100;

/**
 * Ended jobs the history keeps (older ones are pruned; their totals stay in the stats). 100,000
 * rows are about 30 MB of SQLite: a year of hourly jobs for 10 measurements, or a week of the
 * live tier at a job per minute per measurement for 10 measurements.
 */
export const HISTORY_JOBS_KEPT = 100_000;

/**
 * How long a history statement waits for another connection's lock on compaction.db before
 * failing with SQLITE_BUSY. Only the server opens the file, so a wait means a checkpoint; 5 s
 * is far longer than any checkpoint of this small file.
 */
export const HISTORY_BUSY_TIMEOUT_MS = 5000;

assert.ok(HISTORY_LIST_LIMIT_DEFAULT >= 1);
assert.ok(HISTORY_LIST_LIMIT_DEFAULT <= HISTORY_LIST_LIMIT_MAX);
assert.ok(HISTORY_LIST_LIMIT_MAX <= HISTORY_JOBS_KEPT);

// --- The merge engine (merge-runner.ts, merge-worker.ts, merge-sql.ts) ---

/**
 * Input files of one merge job. DuckDB opens every input's footer before the first row (memory
 * and one open file each), so a partition with more files is merged in batches by the caller.
 * 100,000 is far above any batch the planner makes; the bound exists because the merge's write
 * order packs the input's index above MERGE_FILE_ROW_BITS (merge-sql.ts), which must stay below
 * 2^63.
 */
export const MERGE_INPUT_FILES_MAX = 100_000;

/**
 * Bits of a row's position inside its input file in the merge's write order (input index << bits
 * | row position). 2^40 rows (1.1 trillion) is beyond any Parquet file Arc writes by six orders of
 * magnitude; a job meeting a larger file fails instead of ordering wrongly.
 */
export const MERGE_FILE_ROW_BITS = 40;

/** DuckDB threads of the merge worker's instance (compaction.threads). */
export const MERGE_THREADS_MAX = 256;

/**
 * Most bytes the merge worker's DuckDB may spill to its temp directory while a sort or a
 * deduplication is larger than its memory limit. Set explicitly for the reason the writer's
 * encoder does (packages/writer/src/limits.ts, ENCODER_TEMP_DIRECTORY_SIZE_MAX): DuckDB's default
 * is 90% of the disk's free space measured at the first spill and then kept. A cap, not a
 * reservation; the disk's free space is the real bound.
 */
export const MERGE_TEMP_DIRECTORY_SIZE_MAX = '1TiB';

/**
 * How long the merge worker waits before it asks DuckDB for work again when DuckDB's own threads
 * hold every remaining task of a statement. Bounds how late the worker notices the end of a
 * statement (1 ms against merges of seconds); a wake-up per millisecond costs nothing measurable.
 */
export const MERGE_TASK_POLL_MS = 1;

/**
 * Longest single wait of a paused merge before it looks at its cells again (a resume or a stop
 * wakes it at once; this only bounds a missed wake-up).
 */
export const MERGE_PAUSE_WAIT_MS = 100;

assert.ok(Math.log2(MERGE_INPUT_FILES_MAX) + MERGE_FILE_ROW_BITS < 63, 'the write order fits a BIGINT');

// --- Row rewrites (row-predicate.ts): deletes, retention, continuous-query windows ---

/**
 * Bytes of a rewrite's remove predicate at most. It is parsed by DuckDB and walked node by node
 * before any file is touched; 16 KiB holds a WHERE clause with hundreds of series names, and
 * keeps the parse (and a refusal's message) small.
 */
export const REMOVE_PREDICATE_BYTES_MAX = 16 * 1024;

// --- Deletes (delete-run.ts, delete-count-worker.ts) ---

/**
 * Files counted by one DuckDB statement of a delete's count. The statement holds their paths
 * (about 200 bytes each) and opens each file's footer; 1000 keeps a statement near 200 KB of SQL
 * and a count of a large measurement a handful of statements.
 */
export const DELETE_COUNT_FILES_PER_QUERY = 1000;

/**
 * Plans of one delete at most: a rewrite whose input was merged meanwhile by compaction (or taken
 * by another delete) is planned again from the catalog; three rounds pass any realistic race and
 * stop a delete that keeps losing one (it answers with the files that failed).
 */
export const DELETE_ATTEMPTS_MAX = 3;

/**
 * Widening (µs) of a bound read from a delete's WHERE clause, so the files counted never leave out
 * one that could match (the count, not the range, decides what is rewritten). A literal with a
 * zone is read in JavaScript at millisecond precision: 1 ms. One without a zone DuckDB may read
 * in its session's zone (a TIMESTAMPTZ column): zones are at most 14 hours from UTC, so 15 hours.
 */
export const DELETE_RANGE_SUBMILLI_SLACK_US = 1000;
export const DELETE_RANGE_ZONELESS_SLACK_US = 15 * 3600 * 1_000_000;

/** DuckDB memory_limit of a delete's count thread: it reads footers and one column set of a file at a time. */
export const DELETE_COUNT_MEMORY_LIMIT = '256MB';

// --- Retention policies (retention-store.ts) ---

/**
 * Days a policy may keep data at most: 100 years. The cut-off (now minus the days, in µs) stays
 * far inside a safe integer, and a larger value is a typo rather than a policy.
 */
export const RETENTION_DAYS_MAX = 36_500;
/** Extra days of a policy's grace period at most (buffer_days): a year. */
export const RETENTION_BUFFER_DAYS_MAX = 365;
/** buffer_days when a policy names none (the days past retention_days before rows go). */
export const RETENTION_BUFFER_DAYS_DEFAULT = 7;
/** Policy names: short, path- and URL-safe, as token names. */
export const RETENTION_POLICY_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Policies kept at most: each is one small SQLite row, listed whole by the endpoint and the scheduler. */
export const RETENTION_POLICIES_MAX = 10_000;
/**
 * Runs kept per policy (older ones pruned at each record), also the most one executions read
 * returns: a run is one ~200-byte row, so 1,000 are a few years of daily runs in ~200 KB.
 */
export const RETENTION_EXECUTIONS_KEPT = 1000;
/**
 * Files a run's answer lists at most (a dry run's "what would go"): its counts stay exact beyond
 * it. A policy over years of hourly files of many measurements could name 100,000 files, a
 * response of tens of MB; the first thousand show what a run does, the totals the rest.
 */
export const RETENTION_FILES_LISTED_MAX = 1000;

// --- Continuous queries (cq-*.ts) ---

/**
 * Shortest interval of a continuous query: each window is one rewrite of the destination's
 * files of that window (a DuckDB run and a replace manifest, tens of milliseconds), so windows
 * shorter than a second would keep a merge thread busy for nothing a client could see.
 */
export const CQ_INTERVAL_MS_MIN = 1000;
/**
 * Longest interval: 31 days. A window's output is written as one file per hour it covers (the
 * layout's partitions), so a window of 31 days stages at most 744 outputs.
 */
export const CQ_INTERVAL_MS_MAX = 31 * 24 * 3_600_000;
/** Continuous query names: short, path- and URL-safe, as retention policy names (InfluxQL names are checked by its own grammar). */
export const CQ_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_. -]{0,63}$/;
/** Continuous queries kept at most: each is one small SQLite row, listed whole by the endpoint and the scheduler. */
export const CQ_DEFINITIONS_MAX = 10_000;
/** Bytes of a query's text at most: parsed by DuckDB at each create and update, and stored; 64 KiB holds any rollup. */
export const CQ_QUERY_BYTES_MAX = 64 * 1024;
/** Characters of a description at most (stored, listed). */
export const CQ_DESCRIPTION_CHARS_MAX = 1024;
/**
 * Window runs kept per continuous query (older pruned at each record), also the most one
 * executions read returns: a run is one ~200-byte row; 1,000 are 16 hours of a 1-minute query.
 */
export const CQ_EXECUTIONS_KEPT = 1000;
/**
 * Windows one execute request (or one catch-up pass of one query) runs at most: each is a
 * rewrite, run one after another; 10,000 one-minute windows are a week of downtime caught up
 * in passes, and a request never holds the query for longer than its windows take.
 */
export const CQ_WINDOWS_PER_RUN_MAX = 10_000;
/** Windows of one query a scheduler pass runs before the next query gets its turn (the rest wait for the next pass). */
export const CQ_WINDOWS_PER_PASS_MAX = 100;
/**
 * Intervals one run's `resample_for` spans at most: a run recomputes that many windows (plus one
 * when the span does not start on a window boundary), and a scheduler pass runs at least one run
 * whole, so this bounds the rewrites of a pass. 1,000 covers a day of 90-second windows.
 */
export const CQ_RESAMPLE_FOR_WINDOWS_MAX = 1000;
assert.ok(CQ_RESAMPLE_FOR_WINDOWS_MAX + 1 <= CQ_WINDOWS_PER_RUN_MAX, 'one run fits in an execute request');
/**
 * How often a continuous query's retention_days and delete_source_after_days are applied (after
 * its scheduled runs in a pass): each is a listing of the measurement's files and, when rows
 * expired, rewrites of the files holding them; their cut-offs are whole days, so an hour late
 * keeps at most an hour's rows longer.
 */
export const CQ_RETENTION_EVERY_MS = 3_600_000;
/** How often the scheduler looks for due windows: windows start at most this late after their end. */
export const CQ_SCHEDULER_TICK_MS = 1000;
/** Days of `retention_days` and `delete_source_after_days` at most (as RETENTION_DAYS_MAX). */
export const CQ_DAYS_MAX = 36_500;

assert.ok(CQ_INTERVAL_MS_MIN <= CQ_INTERVAL_MS_MAX);
assert.ok(CQ_WINDOWS_PER_PASS_MAX <= CQ_WINDOWS_PER_RUN_MAX);
