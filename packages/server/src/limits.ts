import assert from 'node:assert/strict';

/**
 * Requests a decoder has handed to writers and not yet answered. Past it the decoder stops
 * taking frames, its ring fills, and the acceptor answers 503: back-pressure, not a queue.
 */
export const DECODER_PENDING_REQUESTS_MAX = 64;
/** A sleeping decoder wakes at least this often to notice shutdown without a doorbell. */
export const DECODER_IDLE_WAIT_MS = 200;
/** Completion ring per decoder: verdicts are ~12 bytes plus an error message. */
export const COMPLETION_RING_BYTES = 1024 * 1024;
/** The acceptor's drain loop wakes at least this often even without a doorbell. */
export const ACCEPTOR_IDLE_WAIT_MS = 1000;
/** Seconds a client is told to wait (Retry-After) when every ring or buffer is full. */
export const RETRY_AFTER_SECONDS = 1;
/** A posted large body must reach the decoder within this time, else a thread is broken. */
export const EXTERNAL_BODY_WAIT_MS_MAX = 10_000;
/**
 * How long shutdown waits for a thread to finish on its own (a decoder draining its ring, a
 * writer closing its DuckDB) before terminating it. Flushes are not bounded by this: they run
 * before writers are asked to stop.
 */
export const THREAD_STOP_WAIT_MS = 10_000;
/** Bytes allocated up front for a request body from its Content-Length; beyond, it grows. */
export const BODY_PREALLOCATE_BYTES_MAX = 4 * 1024 * 1024;
/** A WAL replay refused for room (full ring or buffers) is tried again after this delay. */
export const REPLAY_RETRY_DELAY_MS = 5;
/**
 * Times a replayed entry refused for room (ARC_BUFFERS_FULL) is retried beside the others (about
 * 2 s at REPLAY_RETRY_DELAY_MS) before it is retried alone after a flush of every buffer: full
 * buffers then mean the entry can never fit (buffers shrank since), and it becomes a dead letter
 * instead of stalling the start forever.
 */
export const REPLAY_ROOM_RETRIES_MAX = 400;
/**
 * Dead letters one `POST /api/v1/wal/dead-letter/replay` may name. Each is re-submitted and
 * awaited one after the other (a few ms each); the bound keeps one call's answer and time sane.
 */
export const DEAD_LETTER_REPLAY_IDS_MAX = 10_000;
/** A re-applied dead letter waits at most this long for room in a decoder ring. */
export const DEAD_LETTER_SUBMIT_WAIT_MS_MAX = 10_000;
/** Query request bodies are JSON with SQL; PROTOCOLS caps the SQL at 100 KB. */
export const QUERY_BODY_BYTES_MAX = 1024 * 1024;

assert.ok(DECODER_PENDING_REQUESTS_MAX > 0);
assert.ok(REPLAY_ROOM_RETRIES_MAX > 0 && DEAD_LETTER_REPLAY_IDS_MAX > 0);
assert.ok(COMPLETION_RING_BYTES >= 64 * 1024);
