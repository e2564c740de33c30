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
