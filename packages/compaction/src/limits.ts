import assert from 'node:assert/strict';

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
