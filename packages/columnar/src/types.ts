/**
 * The batch that travels from a decoder thread to a writer thread: one measurement of one
 * database, columns in the Apache Arrow memory layout, all packed into ONE ArrayBuffer so a
 * single transfer moves it without a copy.
 *
 *   ArrayBuffer: [ time int64 LE us x rowCount ][ col 0 buffers ][ col 1 buffers ] ...
 *   every buffer starts at an 8-byte aligned offset (BATCH_BUFFER_ALIGNMENT_BYTES).
 *
 * Column buffers (Arrow layout):
 *   int64   values: rowCount x 8 bytes, little-endian two's complement
 *   uint64  values: rowCount x 8 bytes, little-endian unsigned (line protocol `1u`; UBIGINT)
 *   float64 values: rowCount x 8 bytes, IEEE 754 little-endian
 *   bool    values: bitmap, bit i of byte i>>3 (LSB first), 1 = true
 *   utf8    offsets: (rowCount + 1) x int32; data: UTF-8 bytes, value i = data[offsets[i], offsets[i+1])
 *   utf8, dictionary-encoded (tags with few distinct values; Arrow's dictionary layout):
 *           values: rowCount x int32 codes (0 in null slots); the dictionary is a utf8 array of
 *           `size` distinct values: dictionary.offsets (size + 1) x int32 and dictionary.data
 *   validity (any type, optional): bitmap, 1 = valid, 0 = null; absent = no nulls
 */
export const ColumnType = {
  int64: 'int64',
  uint64: 'uint64',
  float64: 'float64',
  utf8: 'utf8',
  bool: 'bool',
} as const;
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

/** Tags identify a series (always utf8); fields are the measured values. */
export const ColumnRole = {
  tag: 'tag',
  field: 'field',
} as const;
export type ColumnRole = (typeof ColumnRole)[keyof typeof ColumnRole];

/** Name of the timestamp column in every batch and every Parquet file. */
export const TIME_COLUMN = 'time';

/** Parquet key-value metadata key under which a file lists its tag columns (a JSON array of names). */
export const TAGS_METADATA_KEY = 'arc:tags';

/** A byte range inside the batch's packed ArrayBuffer. */
export interface BufferRange {
  readonly byteOffset: number;
  readonly byteLength: number;
}

export interface ColumnLayout {
  readonly name: string;
  readonly role: ColumnRole;
  readonly type: ColumnType;
  readonly nullCount: number;
  /** Values (int64, uint64, float64, bool bitmap) or UTF-8 data (utf8). */
  readonly values: BufferRange;
  /** utf8 only: (rowCount + 1) int32 offsets. */
  readonly offsets: BufferRange | null;
  /** null when nullCount is 0. */
  readonly validity: BufferRange | null;
  /** utf8 only, when dictionary-encoded: then `values` holds int32 codes and `offsets` is null. */
  readonly dictionary: DictionaryLayout | null;
}

export interface DictionaryLayout {
  /** Distinct values, each once, in first-seen order; codes index into them. */
  readonly size: number;
  readonly offsets: BufferRange;
  readonly data: BufferRange;
}

export interface ColumnBatch {
  readonly database: string;
  readonly measurement: string;
  readonly rowCount: number;
  /**
   * Smallest and largest `time` in microseconds since the epoch (UTC): exact within ±2^53 µs
   * (years 1684-2255), the nearest double beyond (the `time` buffer is always exact).
   */
  readonly timeMinUs: number;
  readonly timeMaxUs: number;
  /** int64 microseconds since the epoch, rowCount x 8 bytes. Never null. */
  readonly time: BufferRange;
  /** Tag and field columns, in first-seen order; names are unique and never `time`. */
  readonly columns: readonly ColumnLayout[];
  readonly buffer: ArrayBuffer;
}

/** The column set of a batch or buffer: name -> type, compared for schema compatibility. */
export interface SchemaColumn {
  readonly name: string;
  readonly role: ColumnRole;
  readonly type: ColumnType;
}
