import assert from 'node:assert/strict';

/** Buffers inside a packed batch start at multiples of this, so typed-array views need no copy. */
export const BATCH_BUFFER_ALIGNMENT_BYTES = 8;

/**
 * Columns per measurement. Each costs a DuckDB vector per flush chunk and a Parquet column chunk
 * per row group; InfluxDB's default limit is the same order (max-values-per-tag aside).
 */
export const COLUMNS_PER_MEASUREMENT_MAX = 1024;

/** A string value (tag or field) longer than this is rejected: it is not time-series data. */
export const STRING_VALUE_BYTES_MAX = 64 * 1024;

/** Rows in one batch. int32 utf8 offsets bound the bytes per column; this bounds the rows. */
export const BATCH_ROWS_MAX = 16 * 1024 * 1024;

assert.ok(COLUMNS_PER_MEASUREMENT_MAX > 0);
assert.ok(STRING_VALUE_BYTES_MAX * 2 < 2 ** 31);
