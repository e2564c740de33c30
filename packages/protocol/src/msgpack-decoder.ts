import {
  TIME_COLUMN,
  AppendResult,
  ColumnRole,
  STRING_VALUE_BYTES_MAX,
  int64TimestampToMicros,
  timestampToMicros,
  type BatchBuilder,
  type ColumnBatch,
  type ColumnBuilder,
  type BatchBufferPool,
} from '@arc/columnar';
import { ArcError, badRequest } from '@arc/errors';
import { MSGPACK_KIND_NAMES, MsgpackFormatError, MsgpackKind, MsgpackReader } from './msgpack-reader.js';
import { FIELD_LIST_PREFIX, HOST_TAG, badTimeAt, itemError, stringTooLong } from './item-errors.js';
import { RequestBatches } from './request-batches.js';
import { Utf8Interner } from './utf8-interner.js';
import { ProtocolErrorCode } from './error-codes.js';

export interface DecodeContext {
  readonly database: string;
  /** Time given to rows without one, in microseconds (the request's arrival). */
  readonly nowUs: number;
  /** `host` tag of rows that have neither `h` nor `tags.host`; empty = add none. */
  readonly defaultHost: string;
}

export type DecodeResult =
  | { readonly ok: true; readonly batches: ColumnBatch[]; readonly rowCount: number }
  | { readonly ok: false; readonly error: ArcError };

/** Value positions of the keys of one item (row or columnar object); -1 = absent. */
interface ItemKeys {
  measurement: number;
  time: number;
  host: number;
  tags: number;
  fields: number;
  fieldList: number;
  columns: number;
}

interface ColumnEntry {
  readonly name: string;
  readonly rowCount: number;
  readonly isBinary: boolean;
}

/** The row of the row item being decoded. */
class RowState {
  builder: BatchBuilder | null = null;
  row = 0;
  /** The row was opened before its `t` was read: set the time when the item ends. */
  timePending = false;
  tagsDone = false;
  fieldsDone = false;
  fieldCount = 0;
  /** Value position of tags.host (-1: none), appended only when there is no `h`. */
  tagsHostPosition = -1;

  reset(): void {
    this.builder = null;
    this.row = 0;
    this.timePending = false;
    this.tagsDone = false;
    this.fieldsDone = false;
    this.fieldCount = 0;
    this.tagsHostPosition = -1;
  }
}

/** A columnar item carries `tags` as an array; only a map can be a row's tags. */
function isMapHead(byte: number): boolean {
  return (byte & 0xf0) === 0x80 || byte === 0xde || byte === 0xdf;
}

/** Where the decoding of an item's map values ended (-1: not read to the end). */
interface ValueEnds {
  tags: number;
  fields: number;
  columns: number;
}


/** msgpack's float64 head byte, followed by the value in 8 big-endian bytes. */
const MSGPACK_FLOAT64 = 0xcb;
const FLOAT64_BYTES = 9;
/** msgpack's int64 head byte, followed by the value in 8 big-endian bytes. */
const MSGPACK_INT64 = 0xd3;
const INT64_BYTES = 9;
/** Start and end of this many strings of a run at first (grows by doubling, kept across requests). */
const STRING_RANGES_INITIAL = 1024;

function fail(error: ArcError): DecodeResult {
  return { ok: false, error };
}

/**
 * MessagePack ingestion (README): a row batch `{"batch": [...]}`, a top-level array of
 * items, a single row, or a columnar object `{"m", "columns": {name: [values]}}`; items of a batch
 * may mix rows and columnar objects. Decodes straight from the bytes into column builders: the
 * msgpack type byte decides int64 vs float64 (msgpackr would turn 95.0 into an integer), and
 * string values are copied as UTF-8 bytes without becoming JavaScript strings.
 *
 * All-or-nothing: the first error rejects the whole request and nothing of it is returned.
 */
export class MsgpackDecoder {
  private readonly reader = new MsgpackReader();
  private readonly interner = new Utf8Interner();
  private readonly batches: RequestBatches;
  private readonly keys: ItemKeys = { measurement: -1, time: -1, host: -1, tags: -1, fields: -1, fieldList: -1, columns: -1 };
  private readonly valueEnds: ValueEnds = { tags: -1, fields: -1, columns: -1 };
  private readonly rowState = new RowState();
  /** Scratch of `appendRun`: start and end of each string of a fixstr run. */
  private stringRanges = new Int32Array(STRING_RANGES_INITIAL * 2);
  /** Start of the item's last value, which the key scan does not skip (-1: empty map). */
  private lastValuePosition = -1;
  /** Whether the key the last `findKey` found is its map's last key. */
  private foundKeyIsLast = false;
  /** Reader position after the key scan (the item's end when its map is empty). */
  private mapEnd = 0;
  private context: DecodeContext = { database: '', nowUs: 0, defaultHost: '' };
  /** UTF-8 of context.defaultHost, encoded once per distinct value rather than once per row. */
  private defaultHostBytes = new Uint8Array(0);

  /** `buffers`: where batches are packed (a decoder thread's pool); new buffers without it. */
  constructor(buffers?: BatchBufferPool) {
    this.batches = new RequestBatches(buffers);
  }

  decode(body: Uint8Array, context: DecodeContext): DecodeResult {
    if (body.byteLength === 0) return fail(badRequest(ProtocolErrorCode.emptyPayload, 'Empty payload'));
    if (context.defaultHost !== this.context.defaultHost) this.defaultHostBytes = new TextEncoder().encode(context.defaultHost);
    this.context = context;
    this.reader.reset(body);
    this.batches.begin(context.database);
    try {
      const error = this.decodeDocument();
      if (error !== null) return fail(error);
    } catch (error) {
      if (!(error instanceof MsgpackFormatError)) throw error;
      return fail(
        badRequest(ProtocolErrorCode.msgpackInvalid, `Invalid MessagePack payload: ${error.message} at byte ${error.byteOffset}`, {
          byte_offset: error.byteOffset,
        }),
      );
    }
    const rowCount = this.batches.rowCount();
    if (rowCount === 0) return fail(badRequest(ProtocolErrorCode.noRows, 'Payload contains no rows'));
    const batches = this.batches.pack();
    if (batches instanceof ArcError) return fail(batches);
    return { ok: true, batches, rowCount };
  }

  private decodeDocument(): ArcError | null {
    const reader = this.reader;
    const start = reader.position;
    const kind = reader.next();
    let error: ArcError | null;
    if (kind === MsgpackKind.array) {
      error = this.decodeItems(reader.length);
    } else if (kind === MsgpackKind.map) {
      const batchPosition = this.findKey(reader.length, 'batch');
      if (batchPosition >= 0) {
        reader.position = batchPosition;
        if (reader.next() !== MsgpackKind.array) return badRequest(ProtocolErrorCode.msgpackShape, "'batch' must be an array of rows");
        error = this.decodeItems(reader.length);
        // The items end where the batch does; when `batch` is the last key that is the map's end
        // too, so the document (often the whole body) is not walked a second time.
        if (error === null && !this.foundKeyIsLast) reader.position = this.endOfValueAt(start);
      } else {
        reader.position = start;
        error = this.decodeItem(0); // leaves the reader after the item, the document's end
      }
    } else {
      return badRequest(ProtocolErrorCode.msgpackShape, `Expected a map or an array at the top level, got ${MSGPACK_KIND_NAMES[kind]}`);
    }
    if (error === null && !reader.atEnd()) {
      return badRequest(ProtocolErrorCode.msgpackInvalid, `Invalid MessagePack payload: trailing bytes after the document at byte ${reader.position}`, {
        byte_offset: reader.position,
      });
    }
    return error;
  }

  private decodeItems(itemCount: number): ArcError | null {
    for (let itemIndex = 0; itemIndex < itemCount; itemIndex++) {
      const error = this.decodeItem(itemIndex);
      if (error !== null) return error;
    }
    return null;
  }

  /** Decodes the item at the reader's position and leaves the reader after it. */
  private decodeItem(itemIndex: number): ArcError | null {
    const reader = this.reader;
    const kind = reader.next();
    if (kind !== MsgpackKind.map) {
      return itemError(itemIndex, ProtocolErrorCode.msgpackShape, `expected a row or columnar map, got ${MSGPACK_KIND_NAMES[kind]}`);
    }
    const keyError = this.scanItemKeys(reader.length, itemIndex);
    if (keyError !== null) return keyError;
    const error = this.keys.columns >= 0 ? this.decodeColumnar(itemIndex) : this.decodeRow(itemIndex);
    if (error !== null) return error;
    reader.position = this.itemEnd();
    return null;
  }

  /**
   * Records where the values of the known keys start. Every value but the last is skipped; the
   * last one (usually `fields` or `columns`) is not, because decoding reads it to its end anyway
   * (`itemEnd`), which saves a walk over the bulk of the data.
   */
  private scanItemKeys(entryCount: number, itemIndex: number): ArcError | null {
    const reader = this.reader;
    const keys = this.keys;
    keys.measurement = keys.time = keys.host = keys.tags = keys.fields = keys.fieldList = keys.columns = -1;
    this.valueEnds.tags = this.valueEnds.fields = this.valueEnds.columns = -1;
    this.lastValuePosition = -1;
    this.rowState.reset();
    for (let entry = 0; entry < entryCount; entry++) {
      if (reader.next() !== MsgpackKind.str) return itemError(itemIndex, ProtocolErrorCode.msgpackShape, 'map keys must be strings');
      const valuePosition = reader.position;
      if (reader.strEquals('m') || reader.strEquals('measurement')) keys.measurement = valuePosition;
      else if (reader.strEquals('t') || reader.strEquals('time') || reader.strEquals('timestamp')) keys.time = valuePosition;
      else if (reader.strEquals('h')) keys.host = valuePosition;
      else if (reader.strEquals('tags')) keys.tags = valuePosition;
      else if (reader.strEquals('fields')) keys.fields = valuePosition;
      else if (reader.strEquals('f')) keys.fieldList = valuePosition;
      else if (reader.strEquals('columns')) keys.columns = valuePosition;
      const streamed = this.streamRowValue(valuePosition, itemIndex);
      if (streamed instanceof ArcError) return streamed;
      if (streamed) continue;
      if (entry === entryCount - 1) this.lastValuePosition = valuePosition;
      else reader.skip();
    }
    if (keys.fields >= 0 && keys.fieldList >= 0) return itemError(itemIndex, ProtocolErrorCode.msgpackShape, "use either 'fields' or 'f', not both");
    if (keys.columns >= 0 && this.rowState.builder !== null) {
      return itemError(itemIndex, ProtocolErrorCode.msgpackShape, "an item is either a row or a columnar object, not both");
    }
    this.mapEnd = reader.position;
    return null;
  }

  /**
   * Decodes a row's tags or fields where the key scan stands, once the measurement is known (the
   * usual key order m, t, h, tags, fields), so the bulk of a row is read once, not skipped and
   * then read again. Returns false when the value must wait for `decodeRow`.
   */
  private streamRowValue(valuePosition: number, itemIndex: number): boolean | ArcError {
    const keys = this.keys;
    const isTags = valuePosition === keys.tags;
    const isFields = valuePosition === keys.fields || valuePosition === keys.fieldList;
    if ((!isTags && !isFields) || keys.measurement < 0 || keys.columns >= 0) return false;
    if (isTags && this.reader.bytes[valuePosition] !== undefined && !isMapHead(this.reader.bytes[valuePosition])) return false;
    if (this.rowState.builder === null) {
      const started = this.startRow(itemIndex);
      if (started !== null) return started;
    }
    const error = isTags ? this.decodeTagsHere(itemIndex) : this.decodeFieldsHere(itemIndex, valuePosition === keys.fieldList);
    return error ?? true;
  }

  /** The position after the item's map, from where decoding ended or by skipping its last value. */
  private itemEnd(): number {
    const last = this.lastValuePosition;
    if (last < 0) return this.mapEnd;
    const ends = this.valueEnds;
    const keys = this.keys;
    if (last === keys.columns && ends.columns >= 0) return ends.columns;
    if ((last === keys.fields || last === keys.fieldList) && ends.fields >= 0) return ends.fields;
    if (last === keys.tags && ends.tags >= 0) return ends.tags;
    const reader = this.reader;
    reader.position = last;
    reader.skip();
    return reader.position;
  }

  private readMeasurement(itemIndex: number): BatchBuilder | ArcError {
    if (this.keys.measurement < 0) return itemError(itemIndex, ProtocolErrorCode.missingMeasurement, "missing measurement ('m')");
    const reader = this.reader;
    reader.position = this.keys.measurement;
    if (reader.next() !== MsgpackKind.str) return itemError(itemIndex, ProtocolErrorCode.missingMeasurement, "measurement ('m') must be a string");
    const measurement = this.interner.intern(reader.bytes, reader.dataStart, reader.dataStart + reader.length);
    return this.batches.builderFor(measurement);
  }

  /** Reads the current value as a timestamp in microseconds, or NaN. */
  private readTimeMicros(): number {
    const reader = this.reader;
    const kind = reader.next();
    if (kind === MsgpackKind.int) {
      return reader.intIsWide ? int64TimestampToMicros(reader.intHigh, reader.intLow) : timestampToMicros(reader.numberValue);
    }
    if (kind === MsgpackKind.float) return timestampToMicros(reader.numberValue);
    return Number.NaN;
  }

  /**
   * Finishes a row item after the key scan: starts the row if the scan could not (the
   * measurement came after the tags and fields), decodes what the scan did not, then the host.
   */
  private decodeRow(itemIndex: number): ArcError | null {
    const state = this.rowState;
    if (state.builder === null) {
      const started = this.startRow(itemIndex);
      if (started !== null) return started;
    }
    const builder = state.builder;
    if (builder === null) return null; // startRow reported an error above
    const reader = this.reader;
    if (state.timePending && this.keys.time >= 0) {
      reader.position = this.keys.time;
      const timeUs = this.readTimeMicros();
      if (Number.isNaN(timeUs)) return itemError(itemIndex, ProtocolErrorCode.badTimestamp, 'time must be an integer or float timestamp in range');
      builder.setTimeAt(state.row, timeUs);
    }
    if (!state.tagsDone && this.keys.tags >= 0) {
      reader.position = this.keys.tags;
      const error = this.decodeTagsHere(itemIndex);
      if (error !== null) return error;
    }
    const fieldsPosition = this.keys.fields >= 0 ? this.keys.fields : this.keys.fieldList;
    if (!state.fieldsDone && fieldsPosition >= 0) {
      reader.position = fieldsPosition;
      const error = this.decodeFieldsHere(itemIndex, fieldsPosition === this.keys.fieldList);
      if (error !== null) return error;
    }
    const hostError = this.appendHost(itemIndex);
    if (hostError !== null) return hostError;
    if (state.fieldCount === 0) return itemError(itemIndex, ProtocolErrorCode.noFields, "row has no fields ('fields' or 'f' with at least one non-null value)");
    return null;
  }

  /** Opens the item's row (the reader position is kept). The time is read if known yet. */
  private startRow(itemIndex: number): ArcError | null {
    const reader = this.reader;
    const resumeAt = reader.position;
    const state = this.rowState;
    const builder = this.readMeasurement(itemIndex);
    if (builder instanceof ArcError) return builder;
    let timeUs = this.context.nowUs;
    state.timePending = this.keys.time < 0;
    if (!state.timePending) {
      reader.position = this.keys.time;
      timeUs = this.readTimeMicros();
      if (Number.isNaN(timeUs)) return itemError(itemIndex, ProtocolErrorCode.badTimestamp, 'time must be an integer or float timestamp in range');
    }
    const rowError = builder.beginRow(timeUs);
    if (rowError !== null) return rowError;
    state.builder = builder;
    state.row = builder.rowCount - 1;
    reader.position = resumeAt;
    return null;
  }

  /** Tags map at the reader; `host` is set aside for appendHost, since `h` wins over it. */
  private decodeTagsHere(itemIndex: number): ArcError | null {
    const reader = this.reader;
    const state = this.rowState;
    const builder = state.builder;
    if (builder === null) return null;
    if (reader.next() !== MsgpackKind.map) return itemError(itemIndex, ProtocolErrorCode.msgpackShape, "'tags' must be a map");
    const entryCount = reader.length;
    for (let entry = 0; entry < entryCount; entry++) {
      const name = this.readName(itemIndex);
      if (name instanceof ArcError) return name;
      if (name === HOST_TAG) {
        state.tagsHostPosition = reader.position;
        reader.skip();
        continue;
      }
      const error = this.appendTag(builder, name, state.row, itemIndex);
      if (error !== null) return error;
    }
    state.tagsDone = true;
    this.valueEnds.tags = reader.position;
    return null;
  }

  /** Fields map (or the positional `f` array) at the reader. */
  private decodeFieldsHere(itemIndex: number, positional: boolean): ArcError | null {
    const reader = this.reader;
    const state = this.rowState;
    const builder = state.builder;
    if (builder === null) return null;
    const kind = reader.next();
    if (positional ? kind !== MsgpackKind.array : kind !== MsgpackKind.map) {
      return itemError(itemIndex, ProtocolErrorCode.msgpackShape, positional ? "'f' must be an array" : "'fields' must be a map");
    }
    const count = reader.length;
    for (let index = 0; index < count; index++) {
      const name = positional ? FIELD_LIST_PREFIX + String(index) : this.readName(itemIndex);
      if (name instanceof ArcError) return name;
      const appended = this.appendField(builder, name, state.row, itemIndex);
      if (appended instanceof ArcError) return appended;
      if (appended) state.fieldCount++;
    }
    state.fieldsDone = true;
    this.valueEnds.fields = reader.position;
    return null;
  }

  /** The host tag: `h`, else tags.host, else the configured default (none when empty). */
  private appendHost(itemIndex: number): ArcError | null {
    const state = this.rowState;
    const builder = state.builder;
    if (builder === null) return null;
    const position = this.keys.host >= 0 ? this.keys.host : state.tagsHostPosition;
    if (position >= 0) {
      this.reader.position = position;
      return this.appendTag(builder, HOST_TAG, state.row, itemIndex);
    }
    if (this.defaultHostBytes.byteLength === 0) return null;
    const column = builder.column(HOST_TAG, ColumnRole.tag);
    if (column instanceof ArcError) return column;
    column.appendUtf8Bytes(this.defaultHostBytes, 0, this.defaultHostBytes.byteLength);
    return null;
  }

  private readName(itemIndex: number): string | ArcError {
    const reader = this.reader;
    if (reader.next() !== MsgpackKind.str) return itemError(itemIndex, ProtocolErrorCode.msgpackShape, 'tag and field names must be strings');
    return this.interner.intern(reader.bytes, reader.dataStart, reader.dataStart + reader.length);
  }

  /** Appends the tag value at the reader's position to tag `name` of the current row. */
  private appendTag(builder: BatchBuilder, name: string, row: number, itemIndex: number): ArcError | null {
    const reader = this.reader;
    const kind = reader.next();
    if (kind === MsgpackKind.nil) return null;
    const column = builder.column(name, ColumnRole.tag);
    if (column instanceof ArcError) return column;
    if (column.length !== row) return itemError(itemIndex, ProtocolErrorCode.duplicateKey, `tag '${name}' appears twice`, { column: name });
    switch (kind) {
      case MsgpackKind.str:
        if (reader.length > STRING_VALUE_BYTES_MAX) return stringTooLong(itemIndex, name);
        column.appendUtf8Bytes(reader.bytes, reader.dataStart, reader.dataStart + reader.length);
        return null;
      case MsgpackKind.int:
      case MsgpackKind.float:
        column.appendString(String(reader.numberValue));
        return null;
      case MsgpackKind.bool:
        column.appendString(reader.boolValue ? 'true' : 'false');
        return null;
      default:
        return itemError(itemIndex, ProtocolErrorCode.badTagValue, `tag '${name}' must be a string, got ${MSGPACK_KIND_NAMES[kind]}`, { column: name });
    }
  }

  /** Appends the value at the reader's position; false when it was nil (the field stays null). */
  private appendField(builder: BatchBuilder, name: string, row: number, itemIndex: number): boolean | ArcError {
    const reader = this.reader;
    const position = reader.position;
    if (reader.next() === MsgpackKind.nil) return false;
    reader.position = position;
    const column = builder.column(name, ColumnRole.field);
    if (column instanceof ArcError) return column;
    if (column.length !== row) return itemError(itemIndex, ProtocolErrorCode.duplicateKey, `field '${name}' appears twice`, { column: name });
    const error = this.appendValue(column, itemIndex);
    return error ?? true;
  }

  /** Reads one value and appends it to `column` (nil appends a null). */
  private appendValue(column: ColumnBuilder, itemIndex: number): ArcError | null {
    const reader = this.reader;
    const kind = reader.next();
    let result: AppendResult;
    switch (kind) {
      case MsgpackKind.nil:
        column.appendNull();
        return null;
      case MsgpackKind.int:
        if (reader.intOverflowsInt64) {
          return itemError(itemIndex, ProtocolErrorCode.integerOverflow, `field '${column.name}' value exceeds the int64 range`, { column: column.name });
        }
        result = reader.intIsWide ? column.appendInt64Parts(reader.intHigh, reader.intLow) : column.appendInteger(reader.numberValue);
        break;
      case MsgpackKind.float:
        result = column.appendFloat64(reader.numberValue);
        break;
      case MsgpackKind.bool:
        result = column.appendBool(reader.boolValue);
        break;
      case MsgpackKind.str:
        if (reader.length > STRING_VALUE_BYTES_MAX) return stringTooLong(itemIndex, column.name);
        result = column.appendUtf8Bytes(reader.bytes, reader.dataStart, reader.dataStart + reader.length);
        break;
      default:
        return itemError(itemIndex, ProtocolErrorCode.badFieldValue, `field '${column.name}' has an unsupported ${MSGPACK_KIND_NAMES[kind]} value`, {
          column: column.name,
        });
    }
    if (result === AppendResult.typeConflict) {
      return itemError(
        itemIndex,
        ProtocolErrorCode.typeConflict,
        `'${column.name}' is ${MSGPACK_KIND_NAMES[kind]} here but ${column.type ?? 'untyped'} earlier in this request`,
        { column: column.name },
      );
    }
    return null;
  }

  /**
   * One pass over `columns`: the first column's length fixes the row count, every later column
   * must match it; each column is decoded where it stands (no second walk over the arrays).
   */
  private decodeColumnar(itemIndex: number): ArcError | null {
    const builder = this.readMeasurement(itemIndex);
    if (builder instanceof ArcError) return builder;
    const tagNames = this.readTagList(itemIndex);
    if (tagNames instanceof ArcError) return tagNames;
    const reader = this.reader;
    reader.position = this.keys.columns;
    if (reader.next() !== MsgpackKind.map) return itemError(itemIndex, ProtocolErrorCode.msgpackShape, "'columns' must be a map of arrays");
    const columnCount = reader.length;
    if (columnCount === 0) return itemError(itemIndex, ProtocolErrorCode.noFields, "'columns' is empty");
    let firstName = '';
    let rowCount = -1;
    let firstRow = 0;
    let sawTime = false;
    for (let index = 0; index < columnCount; index++) {
      const name = this.readName(itemIndex);
      if (name instanceof ArcError) return name;
      const entry = this.readColumnHead(name, itemIndex);
      if (entry instanceof ArcError) return entry;
      if (rowCount < 0) {
        rowCount = entry.rowCount;
        firstName = name;
        const first = builder.beginRows(rowCount);
        if (first instanceof ArcError) return first;
        firstRow = first;
      } else if (entry.rowCount !== rowCount) {
        return itemError(itemIndex, ProtocolErrorCode.msgpackLengthMismatch, `column '${name}' has ${entry.rowCount} values but '${firstName}' has ${rowCount}`, {
          column: name,
          measurement: builder.measurement,
        });
      }
      const isTime = name === TIME_COLUMN;
      const error = isTime ? this.decodeColumnarTimes(builder, firstRow, entry, itemIndex) : this.decodeColumn(builder, entry, firstRow, tagNames, itemIndex);
      if (error !== null) return error;
      sawTime ||= isTime;
    }
    this.valueEnds.columns = reader.position;
    if (!sawTime) for (let row = 0; row < rowCount; row++) builder.setTimeAt(firstRow + row, this.context.nowUs);
    return null;
  }

  /** Reads the head of a column's value (array, or bin of 8-byte values) where the reader stands. */
  private readColumnHead(name: string, itemIndex: number): ColumnEntry | ArcError {
    const reader = this.reader;
    const kind = reader.next();
    if (kind === MsgpackKind.array) return { name, rowCount: reader.length, isBinary: false };
    if (kind === MsgpackKind.bin && reader.length % 8 === 0) return { name, rowCount: reader.length / 8, isBinary: true };
    return itemError(itemIndex, ProtocolErrorCode.msgpackShape, `column '${name}' must be an array (or a bin of 8-byte values)`, { column: name });
  }

  /** Time values of a columnar item; the reader stands after the column's head. */
  private decodeColumnarTimes(builder: BatchBuilder, firstRow: number, entry: ColumnEntry, itemIndex: number): ArcError | null {
    const reader = this.reader;
    if (entry.isBinary) {
      const view = new DataView(reader.bytes.buffer, reader.bytes.byteOffset + reader.dataStart, reader.length);
      for (let row = 0; row < entry.rowCount; row++) {
        const micros = int64TimestampToMicros(view.getInt32(row * 8 + 4, true), view.getUint32(row * 8, true));
        if (Number.isNaN(micros)) return badTimeAt(itemIndex, row);
        builder.setTimeAt(firstRow + row, micros);
      }
      return null;
    }
    const bytes = reader.bytes;
    const view = reader.view;
    for (let row = 0; row < entry.rowCount; row++) {
      const position = reader.position;
      let micros: number;
      // int64, the form of millisecond and nanosecond times, read in place; the rest by the reader.
      if (position + INT64_BYTES <= bytes.byteLength && bytes[position] === MSGPACK_INT64) {
        micros = int64TimestampToMicros(view.getInt32(position + 1, false), view.getUint32(position + 5, false));
        reader.position = position + INT64_BYTES;
      } else {
        micros = this.readTimeMicros();
      }
      if (Number.isNaN(micros)) return badTimeAt(itemIndex, row);
      builder.setTimeAt(firstRow + row, micros);
    }
    return null;
  }

  /** Columnar items may list their tag columns in `tags`; otherwise string columns are tags. */
  private readTagList(itemIndex: number): Set<string> | null | ArcError {
    if (this.keys.tags < 0) return null;
    const reader = this.reader;
    reader.position = this.keys.tags;
    if (reader.next() !== MsgpackKind.array) {
      return itemError(itemIndex, ProtocolErrorCode.msgpackShape, "'tags' of a columnar item must be an array of column names");
    }
    const names = new Set<string>();
    const nameCount = reader.length;
    for (let index = 0; index < nameCount; index++) {
      const name = this.readName(itemIndex);
      if (name instanceof ArcError) return name;
      names.add(name);
    }
    return names;
  }

  /** Values of one tag or field column; the reader stands after the column's head. */
  private decodeColumn(
    builder: BatchBuilder,
    entry: ColumnEntry,
    firstRow: number,
    tagNames: Set<string> | null,
    itemIndex: number,
  ): ArcError | null {
    const reader = this.reader;
    const role = tagNames !== null ? (tagNames.has(entry.name) ? ColumnRole.tag : ColumnRole.field) : this.inferRole(entry);
    const column = builder.column(entry.name, role, firstRow);
    if (column instanceof ArcError) return column;
    if (column.length !== firstRow) return itemError(itemIndex, ProtocolErrorCode.duplicateKey, `column '${entry.name}' appears twice`, { column: entry.name });
    if (entry.isBinary) {
      const view = new DataView(reader.bytes.buffer, reader.bytes.byteOffset + reader.dataStart, reader.length);
      for (let row = 0; row < entry.rowCount; row++) column.appendFloat64(view.getFloat64(row * 8, true));
      return null;
    }
    column.reserveRows(entry.rowCount);
    return this.appendColumnValues(column, entry.rowCount, itemIndex);
  }

  /**
   * Appends `count` values of a columnar array. Runs of the forms that make up the bulk of
   * time-series columns (positive fixints, float64s, fixstrs) go to the column in one call each
   * (`appendRun`); anything else, and a run the column refuses (a type conflict), goes through the
   * general reader one value at a time, which also words the error.
   */
  private appendColumnValues(column: ColumnBuilder, count: number, itemIndex: number): ArcError | null {
    for (let row = 0; row < count; ) {
      const appended = this.appendRun(column, count - row);
      if (appended > 0) {
        row += appended;
        continue;
      }
      const error = this.appendValue(column, itemIndex);
      if (error !== null) return error;
      row++;
    }
    return null;
  }

  /**
   * Appends the run of at most `countMax` values of one fast form that starts at the reader and
   * leaves the reader after it; 0 when the value there starts no run (or the column refused it,
   * appending nothing).
   */
  private appendRun(column: ColumnBuilder, countMax: number): number {
    const reader = this.reader;
    const bytes = reader.bytes;
    const end = bytes.byteLength;
    const start = reader.position;
    if (start >= end) return 0;
    const head = bytes[start] as number; // start < end
    let runEnd = start;
    let count = 0;
    if (head < 0x80) {
      // Positive fixints: one byte each, the value itself.
      const limit = Math.min(end, start + countMax);
      runEnd = start + 1;
      while (runEnd < limit && (bytes[runEnd] as number) < 0x80) runEnd++;
      count = runEnd - start;
      if (column.appendSmallIntegers(bytes, start, count) !== AppendResult.ok) return 0;
    } else if (head === MSGPACK_FLOAT64) {
      // float64: the head byte and 8 big-endian bytes each.
      while (count < countMax && runEnd + FLOAT64_BYTES <= end && bytes[runEnd] === MSGPACK_FLOAT64) {
        runEnd += FLOAT64_BYTES;
        count++;
      }
      if (count === 0 || column.appendFloat64Run(reader.view, start + 1, FLOAT64_BYTES, count) !== AppendResult.ok) return 0;
    } else if (head >= 0xa0 && head < 0xc0) {
      // fixstrs: the head byte holds the length (at most 31 bytes, below STRING_VALUE_BYTES_MAX).
      let ranges = this.stringRanges;
      while (count < countMax && runEnd < end) {
        const byte = bytes[runEnd] as number; // runEnd < end
        if (byte < 0xa0 || byte >= 0xc0) break;
        const valueEnd = runEnd + 1 + (byte & 0x1f);
        if (valueEnd > end) break;
        if (count * 2 + 2 > ranges.length) ranges = this.growStringRanges();
        ranges[count * 2] = runEnd + 1;
        ranges[count * 2 + 1] = valueEnd;
        runEnd = valueEnd;
        count++;
      }
      if (count === 0 || column.appendUtf8Ranges(bytes, ranges, count) !== AppendResult.ok) return 0;
    }
    reader.position = runEnd;
    return count;
  }

  private growStringRanges(): Int32Array<ArrayBuffer> {
    const grown = new Int32Array(this.stringRanges.length * 2);
    grown.set(this.stringRanges);
    this.stringRanges = grown;
    return grown;
  }

  /** A column whose first non-null value is a string holds a tag (the reader stays where it is). */
  private inferRole(entry: ColumnEntry): ColumnRole {
    if (entry.isBinary) return ColumnRole.field;
    const reader = this.reader;
    const start = reader.position;
    let role: ColumnRole = ColumnRole.field;
    for (let row = 0; row < entry.rowCount; row++) {
      const kind = reader.next();
      if (kind === MsgpackKind.nil) continue;
      if (kind === MsgpackKind.str) role = ColumnRole.tag;
      break;
    }
    reader.position = start;
    return role;
  }

  /**
   * Position of the value of `key` in the map whose entries start at the reader, or -1; sets
   * `foundKeyIsLast`. The last value is not skipped (the reader is left before it): callers move
   * the reader, and that value is usually the bulk of the body (`columns`, `batch`).
   */
  private findKey(entryCount: number, key: string): number {
    const reader = this.reader;
    let found = -1;
    this.foundKeyIsLast = false;
    for (let entry = 0; entry < entryCount; entry++) {
      const isKey = reader.next() === MsgpackKind.str && reader.strEquals(key);
      if (isKey && found < 0) {
        found = reader.position;
        this.foundKeyIsLast = entry === entryCount - 1;
      }
      if (entry < entryCount - 1) reader.skip();
    }
    return found;
  }

  private endOfValueAt(position: number): number {
    const reader = this.reader;
    reader.position = position;
    reader.skip();
    return reader.position;
  }
}
