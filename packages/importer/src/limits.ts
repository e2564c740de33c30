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
