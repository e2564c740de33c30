import assert from 'node:assert/strict';

/**
 * Requests a decoder has handed to writers and not yet answered. Past it the decoder stops
 * taking frames, its ring fills, and the acceptor answers 503: back-pressure, not a queue.
 */
export const DECODER_PENDING_REQUESTS_MAX = 64;
/**
 * Requests in flight on each preferred decoder (one per CPU) before the acceptor hands requests to
 * the other decoders (IngestPipeline handOverOrder). Every request handed to an idle decoder wakes
 * a sleeping thread, and with small requests the wake-ups and hand-offs, not the decoding, cost
 * most of a decoder's time: 8 connections of 1,000-row requests on 2 CPUs cost less CPU per row
 * on 2 decoders than spread over 6 (docs/benchmarks.md, "Decoder and writer per-request cost").
 * The cost of a higher value: a preferred decoder decodes its requests one after another, so a
 * burst of large requests waits for up to this many decodes before the extra decoders help.
 */
export const PREFERRED_DECODER_REQUESTS_MAX = 4;
/** A sleeping decoder wakes at least this often to notice shutdown without a doorbell. */
export const DECODER_IDLE_WAIT_MS = 200;
/** Completion ring per decoder: verdicts are ~12 bytes plus an error message. */
export const COMPLETION_RING_BYTES = 1024 * 1024;
/**
 * The error JSON of one completion frame. Errors are already bounded when made (a few KiB at
 * most); this is the frame's own guarantee: an error over it is sent as its kind, its code and
 * a message cut to COMPLETION_MESSAGE_CHARS_MAX characters, never as an oversized frame (which the
 * ring would refuse with an assertion, stopping the server).
 */
export const COMPLETION_ERROR_BYTES_MAX = 16 * 1024;
/** JSON escapes a character in at most 6 bytes (\uXXXX): 2048 of them leave room for the code. */
export const COMPLETION_MESSAGE_CHARS_MAX = 2048;
/** Characters of an error code kept in a cut-down completion (codes are ours and short). */
export const COMPLETION_CODE_CHARS_MAX = 64;
/** The acceptor's drain loop wakes at least this often even without a doorbell. */
export const ACCEPTOR_IDLE_WAIT_MS = 1000;
/** A posted large body must reach the decoder within this time, else a thread is broken. */
export const EXTERNAL_BODY_WAIT_MS_MAX = 10_000;
/**
 * How long shutdown waits for a thread to finish on its own (a decoder draining its ring, a
 * writer closing its DuckDB) before terminating it. Flushes are not bounded by this: they run
 * (and are retried for server.shutdown_flush_retry_seconds) before writers are asked to stop.
 */
export const THREAD_STOP_WAIT_MS = 10_000;
/**
 * A stop whose final flush failed tries again after this delay, until
 * server.shutdown_flush_retry_seconds have passed. The writers also retry on their own timers;
 * this only asks again and notices success within half a second.
 */
export const SHUTDOWN_FLUSH_RETRY_DELAY_MS = 500;
/** A WAL replay refused for room (full ring or buffers) is tried again after this delay. */
export const REPLAY_RETRY_DELAY_MS = 5;
/**
 * Times a replayed entry refused for room (ARC_BUFFERS_FULL) is retried beside the others (about
 * 2 s at REPLAY_RETRY_DELAY_MS) before it is retried alone after a flush of every buffer: full
 * buffers then mean the entry can never fit (buffers shrank since), and it becomes a dead letter
 * instead of stalling the start forever.
 */
export const REPLAY_ROOM_RETRIES_MAX = 400;

assert.ok(DECODER_PENDING_REQUESTS_MAX > 0);
// A preferred decoder must still take frames: it stops at DECODER_PENDING_REQUESTS_MAX.
assert.ok(PREFERRED_DECODER_REQUESTS_MAX > 0 && PREFERRED_DECODER_REQUESTS_MAX <= DECODER_PENDING_REQUESTS_MAX);
assert.ok(REPLAY_ROOM_RETRIES_MAX > 0);
assert.ok(COMPLETION_RING_BYTES >= 64 * 1024);
// A ring takes frames up to a quarter of its capacity (SpscRing.payloadBytesMax); stay well under.
assert.ok(COMPLETION_ERROR_BYTES_MAX * 8 <= COMPLETION_RING_BYTES);
// A cut-down error (message and code escaped at worst, markers and JSON syntax) fits the bound.
assert.ok((COMPLETION_MESSAGE_CHARS_MAX + COMPLETION_CODE_CHARS_MAX + 128) * 6 <= COMPLETION_ERROR_BYTES_MAX);
