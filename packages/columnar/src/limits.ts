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
 * Bytes of packed-batch buffers a decoder thread keeps for reuse (batch-buffer-pool.ts). At the
 * measured half-peak rate (780 requests/s of 1,000 rows, ~100 KB a batch) the buffers of a
 * flush come back every ~0.3 s, about 25 MB spread over the decoders; what does not fit is left
 * to the garbage collector, as before the pool.
 */
export const BATCH_BUFFER_POOL_BYTES_MAX = 16 * 1024 * 1024;
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
