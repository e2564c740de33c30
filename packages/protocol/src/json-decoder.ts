import {
  AppendResult,
  ColumnRole,
  STRING_VALUE_BYTES_MAX,
  TIME_COLUMN,
  timestampToMicros,
  type BatchBuilder,
  type ColumnBuilder,
  type BatchBufferPool,
} from '@arc/columnar';
import { ArcError, badRequest } from '@arc/errors';
import { FIELD_LIST_PREFIX, HOST_TAG, badTimeAt, itemError, stringTooLong } from './item-errors.js';
import type { DecodeContext, DecodeResult } from './msgpack-decoder.js';
import { RequestBatches } from './request-batches.js';
import { ProtocolErrorCode } from './error-codes.js';
import { Utf8EncodingCache } from './utf8-text.js';

/**
 * JSON ingestion (README): a row object, an array of rows, `{"batch": [...]}`, or a
 * columnar object `{"m", "columns": {name: [values]}, "tags"?: [names]}`, with the row keys of
 * MessagePack plus their long names (`measurement`, `time`/`timestamp`). Times are numbers (unit
 * inferred from the magnitude, as for MessagePack) or RFC 3339 strings.
 *
 * JSON does not tell 1 from 1.0, so every JSON number is a DOUBLE field; send BIGINT fields as
 * MessagePack integers or line protocol `1i`. All or nothing: the first error rejects the request.
 */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A UTF-16 code unit becomes at most 3 UTF-8 bytes: a string this short fits without measuring. */
const STRING_CHARS_ALWAYS_FIT = Math.floor(STRING_VALUE_BYTES_MAX / 3);

/** `2025-10-16T16:00:00Z`, `2025-10-16T16:00:00.123456+02:00`: fraction kept to the microsecond. */
const RFC3339_PATTERN = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = Record<string, Json>;

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Microseconds of an RFC 3339 time, or NaN. */
export function rfc3339ToMicros(text: string): number {
  const match = RFC3339_PATTERN.exec(text);
  if (match === null) return Number.NaN;
  const [, seconds = '', fraction = '', zone = 'Z'] = match;
  const millis = Date.parse(`${seconds}${zone.toUpperCase()}`);
  if (Number.isNaN(millis)) return Number.NaN;
  return millis * 1000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

function timeToMicros(value: Json | undefined): number {
  if (typeof value === 'number') return timestampToMicros(value);
  if (typeof value === 'string') return rfc3339ToMicros(value);
  return Number.NaN;
}

export class JsonDecoder {
  private readonly batches: RequestBatches;
  private readonly tagBytes = new Utf8EncodingCache();
  private context: DecodeContext = { database: '', nowUs: 0, defaultHost: '' };

  /** `buffers`: where batches are packed (a decoder thread's pool); new buffers without it. */
  constructor(buffers?: BatchBufferPool) {
    this.batches = new RequestBatches(buffers);
  }

  decode(body: Uint8Array, context: DecodeContext): DecodeResult {
    if (body.byteLength === 0) return { ok: false, error: badRequest(ProtocolErrorCode.emptyPayload, 'Empty payload') };
    let document: Json;
    try {
      document = JSON.parse(utf8Decoder.decode(body)) as Json;
    } catch (error) {
      return { ok: false, error: badRequest(ProtocolErrorCode.jsonInvalid, `Invalid JSON payload: ${(error as Error).message}`) };
    }
    this.context = context;
    this.batches.begin(context.database);
    const error = this.decodeDocument(document);
    if (error !== null) return { ok: false, error };
    const rowCount = this.batches.rowCount();
    if (rowCount === 0) return { ok: false, error: badRequest(ProtocolErrorCode.noRows, 'Payload contains no rows') };
    const batches = this.batches.pack();
    if (batches instanceof ArcError) return { ok: false, error: batches };
    return { ok: true, batches, rowCount };
  }

  private decodeDocument(document: Json): ArcError | null {
    const items = Array.isArray(document) ? document : isObject(document) && Array.isArray(document.batch) ? document.batch : [document];
    for (const [itemIndex, item] of items.entries()) {
      if (!isObject(item)) return itemError(itemIndex, ProtocolErrorCode.jsonShape, 'expected a row or columnar object');
      const error = item.columns !== undefined ? this.decodeColumnar(item, itemIndex) : this.decodeRow(item, itemIndex);
      if (error !== null) return error;
    }
    return null;
  }

  private builderFor(item: JsonObject, itemIndex: number): BatchBuilder | ArcError {
    const measurement = item.m ?? item.measurement;
    if (typeof measurement !== 'string') return itemError(itemIndex, ProtocolErrorCode.missingMeasurement, "missing measurement ('m' or 'measurement')");
    return this.batches.builderFor(measurement);
  }

  private decodeRow(item: JsonObject, itemIndex: number): ArcError | null {
    const builder = this.builderFor(item, itemIndex);
    if (builder instanceof ArcError) return builder;
    const time = item.t ?? item.time ?? item.timestamp;
    const timeUs = time === undefined ? this.context.nowUs : timeToMicros(time);
    if (Number.isNaN(timeUs)) return itemError(itemIndex, ProtocolErrorCode.badTimestamp, 'time must be a number timestamp or an RFC 3339 string');
    const rowError = builder.beginRow(timeUs);
    if (rowError !== null) return rowError;
    const tagError = this.appendTags(builder, item, itemIndex);
    if (tagError !== null) return tagError;
    const fields = item.fields ?? (Array.isArray(item.f) ? Object.fromEntries(item.f.map((value, index) => [FIELD_LIST_PREFIX + String(index), value])) : undefined);
    if (!isObject(fields)) return itemError(itemIndex, ProtocolErrorCode.noFields, "row has no fields ('fields' object or 'f' array)");
    let fieldCount = 0;
    for (const name of Object.keys(fields)) {
      const value = fields[name] as Json;
      if (value === null) continue;
      const column = builder.column(name, ColumnRole.field);
      if (column instanceof ArcError) return column;
      const error = appendJsonValue(column, value, itemIndex);
      if (error !== null) return error;
      fieldCount++;
    }
    if (fieldCount === 0) return itemError(itemIndex, ProtocolErrorCode.noFields, 'row has no fields with a non-null value');
    return null;
  }

  /** `h` wins over tags.host; a row with neither gets the configured default host. */
  private appendTags(builder: BatchBuilder, item: JsonObject, itemIndex: number): ArcError | null {
    const tags = item.tags ?? {};
    if (!isObject(tags)) return itemError(itemIndex, ProtocolErrorCode.jsonShape, "'tags' must be an object");
    const host = item.h ?? tags[HOST_TAG] ?? (this.context.defaultHost === '' ? null : this.context.defaultHost);
    for (const name of Object.keys(tags)) {
      if (name === HOST_TAG) continue;
      const error = this.appendTag(builder, name, tags[name] as Json, itemIndex);
      if (error !== null) return error;
    }
    return host === null ? null : this.appendTag(builder, HOST_TAG, host, itemIndex);
  }

  private appendTag(builder: BatchBuilder, name: string, value: Json, itemIndex: number): ArcError | null {
    if (value === null) return null;
    if (typeof value === 'object') return itemError(itemIndex, ProtocolErrorCode.badTagValue, `tag '${name}' must be a string`, { column: name });
    const column = builder.column(name, ColumnRole.tag);
    if (column instanceof ArcError) return column;
    // Tag values repeat row after row: their bytes come from the cache, not a fresh encode.
    const bytes = this.tagBytes.encode(String(value));
    if (bytes.byteLength > STRING_VALUE_BYTES_MAX) return stringTooLong(itemIndex, name);
    column.appendUtf8Bytes(bytes, 0, bytes.byteLength);
    return null;
  }

  private decodeColumnar(item: JsonObject, itemIndex: number): ArcError | null {
    const builder = this.builderFor(item, itemIndex);
    if (builder instanceof ArcError) return builder;
    const columns = item.columns;
    if (!isObject(columns)) return itemError(itemIndex, ProtocolErrorCode.jsonShape, "'columns' must be an object of arrays");
    const entries = Object.entries(columns);
    const reference = entries.find(([name]) => name === TIME_COLUMN) ?? entries[0];
    if (reference === undefined) return itemError(itemIndex, ProtocolErrorCode.noFields, "'columns' is empty");
    const rowCount = Array.isArray(reference[1]) ? reference[1].length : -1;
    for (const [name, values] of entries) {
      if (!Array.isArray(values)) return itemError(itemIndex, ProtocolErrorCode.jsonShape, `column '${name}' must be an array`, { column: name });
      if (values.length !== rowCount) {
        return itemError(itemIndex, ProtocolErrorCode.jsonLengthMismatch, `column '${name}' has ${values.length} values but '${reference[0]}' has ${rowCount}`, {
          column: name,
          measurement: builder.measurement,
        });
      }
    }
    const tagNames = Array.isArray(item.tags) ? new Set(item.tags.filter((name): name is string => typeof name === 'string')) : null;
    const firstRow = builder.beginRows(rowCount);
    if (firstRow instanceof ArcError) return firstRow;
    const times = columns[TIME_COLUMN];
    for (let row = 0; row < rowCount; row++) {
      const timeUs = Array.isArray(times) ? timeToMicros(times[row]) : this.context.nowUs;
      if (Number.isNaN(timeUs)) return badTimeAt(itemIndex, row);
      builder.setTimeAt(firstRow + row, timeUs);
    }
    for (const [name, values] of entries) {
      if (name === TIME_COLUMN || !Array.isArray(values)) continue;
      const isTag = tagNames !== null ? tagNames.has(name) : typeof values.find((value) => value !== null) === 'string';
      const column = builder.column(name, isTag ? ColumnRole.tag : ColumnRole.field, firstRow);
      if (column instanceof ArcError) return column;
      for (const value of values) {
        if (value === null) {
          column.appendNull();
          continue;
        }
        let cell: Json = value;
        if (isTag) {
          // A tag value is text; an object or array would be stored as '[object Object]' or 'a,b'.
          if (typeof value === 'object') return itemError(itemIndex, ProtocolErrorCode.badTagValue, `tag '${name}' must be a string`, { column: name });
          cell = String(value);
        }
        const error = appendJsonValue(column, cell, itemIndex);
        if (error !== null) return error;
      }
    }
    return null;
  }
}

/** Appends one JSON scalar: number -> DOUBLE, string, boolean; anything else is refused. */
function appendJsonValue(column: ColumnBuilder, value: Json, itemIndex: number): ArcError | null {
  let result: AppendResult;
  if (typeof value === 'number') result = column.appendFloat64(value);
  else if (typeof value === 'boolean') result = column.appendBool(value);
  else if (typeof value === 'string') {
    if (value.length > STRING_CHARS_ALWAYS_FIT && Buffer.byteLength(value) > STRING_VALUE_BYTES_MAX) return stringTooLong(itemIndex, column.name);
    result = column.appendString(value);
  } else {
    return itemError(itemIndex, ProtocolErrorCode.badFieldValue, `field '${column.name}' must be a number, string or boolean`, { column: column.name });
  }
  if (result === AppendResult.typeConflict) {
    return itemError(itemIndex, ProtocolErrorCode.typeConflict, `'${column.name}' is a ${typeof value} here but ${column.type ?? 'untyped'} earlier in this request`, {
      column: column.name,
    });
  }
  return null;
}
