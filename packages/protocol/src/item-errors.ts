import { STRING_VALUE_BYTES_MAX } from '@arc/columnar';
import { badRequest, type ArcError } from '@arc/errors';
import { ProtocolErrorCode } from './error-codes.js';

/** Names shared by the row-shaped decoders (MessagePack and JSON rows, README). */
export const HOST_TAG = 'host';
/** Positional values `f: [v0, v1]` become fields `field_0`, `field_1`, ... */
export const FIELD_LIST_PREFIX = 'field_';

/** An error about item `itemIndex` of a request (its position in the batch or array). */
export function itemError(itemIndex: number, code: string, message: string, details: Record<string, string | number> = {}): ArcError {
  return badRequest(code, `Item ${itemIndex}: ${message}`, { item: itemIndex, ...details });
}

export function stringTooLong(itemIndex: number, name: string): ArcError {
  return itemError(itemIndex, ProtocolErrorCode.stringTooLong, `value of '${name}' is longer than ${STRING_VALUE_BYTES_MAX} bytes`, { column: name });
}

export function badTimeAt(itemIndex: number, row: number): ArcError {
  return itemError(itemIndex, ProtocolErrorCode.badTimestamp, `time value at row ${row} must be an integer or float timestamp in range`, { row });
}
