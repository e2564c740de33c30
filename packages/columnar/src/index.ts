export { ColumnType, ColumnRole, TIME_COLUMN, TAGS_METADATA_KEY } from './types.js';
export type { BufferRange, ColumnLayout, ColumnBatch, DictionaryLayout, SchemaColumn } from './types.js';
export type { LastValue, LastValueRows, LastValueTable } from './last-value-table.js';
export { packLastValueRows, unpackLastValueRows } from './last-value-table.js';
export { Utf8Dictionary, DICTIONARY_ENTRIES_MAX } from './utf8-dictionary.js';
export { fnv1aOfBytes, fnv1aOfString, FNV1A_OFFSET_BASIS } from './fnv1a.js';
export { AppendResult, ColumnBuilder } from './column-builder.js';
export { BatchBuilder, FIELD_RENAMED_SUFFIX } from './batch-builder.js';
export { BatchBufferPool, batchBufferSizeClass } from './batch-buffer-pool.js';
export { bytesOf, timePairsOf, timeMicrosAt, isBitSet, valueAt, rowObjects, schemaOf, isAllNull } from './batch-view.js';
export {
  timestampToMicros,
  int64TimestampToMicros,
  hourStartMicros,
  hourStartOfParts,
  MICROS_PER_HOUR,
  MICROS_PER_SECOND,
  TIME_MICROS_ABS_MAX,
} from './time.js';
export { quoteIdentifier, quoteLiteral } from './sql-text.js';
export { escapeKey, escapeMeasurement } from './line-protocol-escape.js';
export {
  validateDatabaseName,
  validateMeasurementName,
  validateColumnName,
  DEFAULT_DATABASE,
} from './names.js';
export {
  BATCH_BUFFER_ALIGNMENT_BYTES,
  COLUMNS_PER_MEASUREMENT_MAX,
  STRING_VALUE_BYTES_MAX,
  BATCH_ROWS_MAX,
  DATABASE_NAME_LENGTH_MAX,
  MEASUREMENT_NAME_LENGTH_MAX,
  COLUMN_NAME_BYTES_MAX,
} from './limits.js';
export { ColumnarErrorCode } from './error-codes.js';
