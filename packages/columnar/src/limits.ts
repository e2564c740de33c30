import assert from 'node:assert/strict';

/** Buffers inside a packed batch start at multiples of this, so typed-array views need no copy. */
export const BATCH_BUFFER_ALIGNMENT_BYTES = 8;

/**
 * Columns per measurement. Each costs a DuckDB vector per flush chunk and a Parquet column chunk
 * per row group; InfluxDB's default limit is the same order (max-values-per-tag aside).
 */
export const COLUMNS_PER_MEASUREMENT_MAX = 1024;

/**
 * A string value (tag or field) longer than this is rejected: it is not time-series data. Tag
 * values are dictionary entries kept per batch, so a long one costs memory in every buffer.
 */
export const STRING_VALUE_BYTES_MAX = 64 * 1024;

/**
 * Name limits. A database and a measurement name become directory names (a path component is at
 * most 255 bytes on common filesystems; the hour layout and file names must fit under it), DuckDB
 * schema and view names, and they are quoted in errors and logs. InfluxDB bounds a series key
 * (measurement plus tags) at 64 KiB; Arc is stricter, as names are paths here. Both names are
 * ASCII (see names.ts), so characters and bytes count the same. A name is measured before any
 * other check, so a name of any size costs one length read to refuse.
 */
export const DATABASE_NAME_LENGTH_MAX = 64;
export const MEASUREMENT_NAME_LENGTH_MAX = 128;
/** Tag and field names become Parquet column names and quoted SQL identifiers (UTF-8 bytes). */
export const COLUMN_NAME_BYTES_MAX = 256;

/** Rows in one batch. int32 utf8 offsets bound the bytes per column; this bounds the rows. */
export const BATCH_ROWS_MAX = 16 * 1024 * 1024;

assert.ok(COLUMNS_PER_MEASUREMENT_MAX > 0);
assert.ok(STRING_VALUE_BYTES_MAX * 2 < 2 ** 31);
// A measurement directory name is the measurement name itself: it must fit a path component.
assert.ok(MEASUREMENT_NAME_LENGTH_MAX <= 255);
assert.ok(DATABASE_NAME_LENGTH_MAX <= 255);

/**
 * Bytes of packed-batch buffers a decoder thread keeps for reuse at most (batch-buffer-pool.ts).
 * A writer gives back a whole flush's buffers at once, and at the closed-loop peak a busy decoder
 * had ~150 MB of batches waiting in the writer: with a 16 MiB bound the pool dropped 57% of what
 * came back and the decoder allocated 57% of its batches anew (~115 MB/s of ArrayBuffers through
 * malloc, garbage until its next collection). The pool only holds buffers this decoder packed:
 * of one size class it never holds more than the decoder once had in flight, of many up to this
 * bound; the trim below lets go of what the pool does not use.
 */
export const BATCH_BUFFER_POOL_BYTES_MAX = 256 * 1024 * 1024;
/**
 * Every this many ms the pool gives up half of the bytes it kept unused through the whole
 * interval (its low-water mark): a pool filled for a burst halves every interval once the bursts
 * stop, and a steady load keeps what it reuses. With 1 s the low-water mark often caught the
 * pool just before a flush's buffers came back, and trimmed what the next requests then
 * allocated anew: in 40 s closed-loop peak runs 10% of the takes missed against 7% at 5 s, most
 * of the latter the pool's first fill.
 */
export const BATCH_BUFFER_POOL_TRIM_MS = 5000;
/** Buffers up to this size are rounded up to a multiple of it; larger ones to a size class. */
export const BATCH_BUFFER_SIZE_STEP_MIN = 256;
/**
 * Size classes per doubling above BATCH_BUFFER_SIZE_STEP_MIN: a buffer is at most 1/8 larger
 * than its batch needs, so batches of nearly the same size (a client's steady requests) share
 * one class and reuse each other's buffers.
 */
export const BATCH_BUFFER_CLASSES_PER_DOUBLING = 8;

assert.ok(Number.isInteger(Math.log2(BATCH_BUFFER_SIZE_STEP_MIN)) && BATCH_BUFFER_SIZE_STEP_MIN % BATCH_BUFFER_ALIGNMENT_BYTES === 0);
assert.ok(Number.isInteger(Math.log2(BATCH_BUFFER_CLASSES_PER_DOUBLING)));
