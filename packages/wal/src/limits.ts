import assert from 'node:assert/strict';

/**
 * Limits of the write-ahead log. Each says what it costs; relations are asserted at load time.
 */

/**
 * Largest entry payload. The entry header stores the length as uint32; a request body is capped
 * by `server.body_max_mb` (at most 1 GiB), so a payload (body + database + a few bytes) fits.
 */
export const ENTRY_PAYLOAD_BYTES_MAX = 0x7fff_ffff;
/** Largest database name in an envelope (its length is a uint16). */
export const ENVELOPE_DATABASE_BYTES_MAX = 0xffff;
/**
 * A flush journal is rewritten as one snapshot record once it grows past this. Each flush adds a
 * record of ~200 bytes plus its file names; the rewrite costs one small write and two fsyncs.
 */
export const JOURNAL_COMPACT_BYTES = 1024 * 1024;
/**
 * A new segment is written into a spare file zeroed and synced ahead (up to the segment size, at
 * most this much), so a sync of its entries flushes data blocks only, not a new file size through
 * the ext4 journal. Costs this much disk per stream ahead of use, and as many zeros written once.
 */
export const SEGMENT_PREALLOCATED_BYTES_MAX = 256 * 1024 * 1024;
/**
 * A spare is prepared only while the WAL's file system has this many times its size free: on a
 * small or nearly full disk, segments are created empty and grow (no space is taken ahead).
 */
export const SPARE_FREE_SPACE_FACTOR = 4;
/**
 * The sync thread zeroes a spare this much at a time, then syncs it, and serves a waiting group
 * sync between steps: a group waits at most one step's write and sync (~10-40 ms on a VM disk).
 */
export const PREALLOCATION_STEP_BYTES = 8 * 1024 * 1024;
/** Upper bounds (ms) of the sync latency histogram buckets; a last bucket counts the rest. */
export const SYNC_LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];
/** Stream ids are decoder indexes, written with 3 digits in segment names. */
export const STREAM_ID_MAX = 999;

assert.ok(ENTRY_PAYLOAD_BYTES_MAX <= 0xffff_ffff);
assert.deepEqual([...new Set(SYNC_LATENCY_BUCKETS_MS)].sort((a, b) => a - b), SYNC_LATENCY_BUCKETS_MS, 'bucket bounds ascend strictly');
/** A failed sync's message, as the sync thread hands it to the stream's owner (cut to this). */
export const SYNC_ERROR_BYTES_MAX = 1024;
/** An idle sync thread wakes at least this often to notice its owner closed the stream. */
export const SYNC_THREAD_IDLE_WAIT_MS = 200;
