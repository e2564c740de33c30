/** Stable codes of the writers (buffers, flushes, Parquet); clients and tests match on these. */
export const WriterErrorCode = Object.freeze({
  /** A column whose type differs from the rows buffered for the same measurement (400). */
  schemaConflict: 'ARC_SCHEMA_CONFLICT',
  /** A request that would take a database past its number of measurements. */
  tooManyMeasurementsInDatabase: 'ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE',
  /** The write buffers are full until a flush frees them (503). */
  buffersFull: 'ARC_BUFFERS_FULL',
  /** A flush failed (or its journal could not be written). */
  flushFailed: 'ARC_FLUSH_FAILED',
  /** Flushes fail for lack of room on the data disk: writes are refused until there is (503). */
  storageFull: 'ARC_STORAGE_FULL',
  /** An encode failed for another reason than a full disk (an unwritable path, DuckDB out of memory). */
  parquetWriteFailed: 'ARC_PARQUET_WRITE_FAILED',
} as const);
export type WriterErrorCode = (typeof WriterErrorCode)[keyof typeof WriterErrorCode];
