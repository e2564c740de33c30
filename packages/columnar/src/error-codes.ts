/** Stable codes of names and batches; clients and tests match on these, never on messages. */
export const ColumnarErrorCode = Object.freeze({
  /** A database name that is too long or does not match the name pattern. */
  badDatabaseName: 'ARC_BAD_DATABASE_NAME',
  /** A database name Arc keeps for itself (`system`, `internal`, `_internal`). */
  reservedDatabaseName: 'ARC_RESERVED_DATABASE_NAME',
  /** A measurement name that is too long or does not match the name pattern. */
  badMeasurementName: 'ARC_BAD_MEASUREMENT_NAME',
  /** A tag or field name that is empty, too long, has a control character or is `time`. */
  badColumnName: 'ARC_BAD_COLUMN_NAME',
  /** A string (tag or field name, value) that is not valid UTF-8. */
  badUtf8: 'ARC_BAD_UTF8',
  /** More rows for one measurement than one request may carry. */
  tooManyRows: 'ARC_TOO_MANY_ROWS',
  /** More columns for one measurement than a batch or a buffered schema may have. */
  tooManyColumns: 'ARC_TOO_MANY_COLUMNS',
  /** A field named like a tag whose `_value` rename is taken too. */
  columnNameClash: 'ARC_COLUMN_NAME_CLASH',
} as const);
export type ColumnarErrorCode = (typeof ColumnarErrorCode)[keyof typeof ColumnarErrorCode];
