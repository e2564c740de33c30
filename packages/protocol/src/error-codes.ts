/** Stable codes of the decoders (MessagePack, line protocol, JSON); clients and tests match on these. */
export const ProtocolErrorCode = Object.freeze({
  /** A body over the size limit, as sent or once decompressed (413). */
  payloadTooLarge: 'ARC_PAYLOAD_TOO_LARGE',
  /** A gzip or zstd body that does not decompress. */
  badCompression: 'ARC_BAD_COMPRESSION',
  /** A body of zero bytes. */
  emptyPayload: 'ARC_EMPTY_PAYLOAD',
  /** A body without a single row (only comments or blank lines, an empty array). */
  noRows: 'ARC_NO_ROWS',
  /** A row without any field with a value. */
  noFields: 'ARC_NO_FIELDS',
  /** An item without a measurement name, or one that is not a string. */
  missingMeasurement: 'ARC_MISSING_MEASUREMENT',
  /** A time that is not a timestamp in range. */
  badTimestamp: 'ARC_BAD_TIMESTAMP',
  /** A tag value that is not a string. */
  badTagValue: 'ARC_BAD_TAG_VALUE',
  /** A field value of a type Arc does not store. */
  badFieldValue: 'ARC_BAD_FIELD_VALUE',
  /** A column whose values change type within the request. */
  typeConflict: 'ARC_TYPE_CONFLICT',
  /** A string value longer than the limit of one value. */
  stringTooLong: 'ARC_STRING_TOO_LONG',
  /** A tag or field that appears twice in one row or item. */
  duplicateKey: 'ARC_DUPLICATE_KEY',
  /** An integer beyond the int64 range. */
  integerOverflow: 'ARC_INTEGER_OVERFLOW',
  /** Bytes that are not MessagePack (with the byte offset). */
  msgpackInvalid: 'ARC_MSGPACK_INVALID',
  /** MessagePack that is not shaped like Arc's rows or columns. */
  msgpackShape: 'ARC_MSGPACK_SHAPE',
  /** Columns of one MessagePack item with different lengths. */
  msgpackLengthMismatch: 'ARC_MSGPACK_LENGTH_MISMATCH',
  /** A body that is not JSON. */
  jsonInvalid: 'ARC_JSON_INVALID',
  /** JSON that is not shaped like Arc's rows or columns. */
  jsonShape: 'ARC_JSON_SHAPE',
  /** Columns of one JSON item with different lengths. */
  jsonLengthMismatch: 'ARC_JSON_LENGTH_MISMATCH',
  /** A line of line protocol that does not parse (with the line number). */
  lpParse: 'ARC_LP_PARSE',
  /** A line of line protocol longer than the limit of one line. */
  lpLineTooLong: 'ARC_LP_LINE_TOO_LONG',
  /** A `precision` parameter that is not one of the line protocol's units. */
  lpBadPrecision: 'ARC_LP_BAD_PRECISION',
} as const);
export type ProtocolErrorCode = (typeof ProtocolErrorCode)[keyof typeof ProtocolErrorCode];
