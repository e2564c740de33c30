import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { AppendResult, ColumnarErrorCode, ColumnRole, ColumnType, STRING_VALUE_BYTES_MAX, TIME_COLUMN, type BatchBufferPool, type BatchBuilder, type ColumnBuilder } from '@arc/columnar';
import { ArcError, badRequest, ERROR_QUOTE_CHARS_MAX, truncateText } from '@arc/errors';
import type { DecodeResult } from './msgpack-decoder.js';
import type { LineProtocolPrecision } from './line-protocol-precision.js';
import {
  BYTE_BACKSLASH,
  BYTE_COMMA,
  BYTE_EQUALS,
  BYTE_QUOTE,
  BYTE_SPACE,
  FieldKind,
  LineScanner,
  PART_KEY_ESCAPED,
  PART_KEY_NON_ASCII,
  PART_KEY_REPEATED,
  PART_VALUE_ESCAPED,
  ParsedLine,
  quotedLineEnd,
} from './line-protocol-scanner.js';
import { RequestBatches } from './request-batches.js';
import { TIMESTAMP_WIDE } from './line-protocol-numbers.js';
import { SERIES_ARENA_BYTES, SeriesCache, type SeriesEntry } from './line-protocol-series.js';
import { FieldLayout } from './line-protocol-field-layout.js';
import { Utf8Interner } from './utf8-interner.js';
import { ProtocolErrorCode } from './error-codes.js';

/**
 * InfluxDB line protocol ingestion (README), straight from the body's bytes into column
 * builders: lines are found with indexOf('\n') (and a quote-aware scan for lines holding a quote,
 * whose string values may hold line breaks), each is scanned once into offsets (ParsedLine),
 * names are interned, tag values and strings are copied as UTF-8 bytes.
 *
 * Fast path (docs/decisions.md, "Line protocol decoding compares bytes with what earlier lines
 * gave"): a line whose series (measurement and tags) is in the SeriesCache only has its fields
 * read, and fields of the series' FieldLayout are read in one pass of word compares and digit
 * parsing. Both accept only what the general scan reads identically; everything else, and every
 * error, goes through the general scan.
 *
 * Decisions (where InfluxDB's model and Arc's storage differ):
 * - `1u` values (0 to 2^64-1) are a uint64 column (UBIGINT), `1i` an int64 column (BIGINT).
 * - Any two of integer, unsigned and float for one field in one request is a type conflict (400
 *   ARC_TYPE_CONFLICT), as in InfluxDB: `1i`, `1u` and `1.0` are explicit types. The msgpack
 *   decoder widens int to float instead, because JavaScript encoders cannot tell 95.0 from 95.
 * - A field given twice in a line: the last value wins (InfluxDB). A tag given twice: 400.
 * - A string field value may hold a raw line break (InfluxDB's scanLine): a line that holds a
 *   quote is split at the first '\n' outside a quoted field value.
 * - No `host` tag is added (only msgpack does); timestamps in nanoseconds are floored to µs.
 *
 * All-or-nothing: the first bad line rejects the whole request and nothing of it is returned.
 */
export interface LineProtocolContext {
  readonly database: string;
  /** Time given to lines without a timestamp, in microseconds (the request's arrival). */
  readonly nowUs: number;
  readonly precision: LineProtocolPrecision;
}

/**
 * Longest accepted line. A line is scanned into offsets before anything is appended, and its
 * text is quoted in error messages, so the bound keeps both the scratch buffer and the error
 * body small. InfluxDB has no fixed limit; 64 KiB is far above any real point.
 */
export const LINE_BYTES_MAX = 64 * 1024;
// A tag or string value is at most a line long, so the per-value limit never needs a check here.
assert.ok(LINE_BYTES_MAX <= STRING_VALUE_BYTES_MAX);
// A cached series (key and values) takes at most two line lengths of the arena.
assert.ok(SERIES_ARENA_BYTES >= 2 * LINE_BYTES_MAX);

const BYTE_NEWLINE = 0x0a;
const BYTE_RETURN = 0x0d;
const BYTE_TAB = 0x09;
const BYTE_HASH = 0x23;

const lineTextDecoder = new TextDecoder('utf-8', { fatal: false });

function fail(error: ArcError): DecodeResult {
  return { ok: false, error };
}

export class LineProtocolDecoder {
  private readonly scanner = new LineScanner();
  private readonly line = new ParsedLine();
  private readonly interner = new Utf8Interner();
  private readonly batches: RequestBatches;
  /** Unescaped copies of names and values (at most one line long). */
  private readonly scratch = new Uint8Array(LINE_BYTES_MAX);
  /** The builders of the current line's fields, resolved before any value is appended. */
  private fieldColumns: ColumnBuilder[] = [];
  private lastMeasurement = '';
  private lastBuilder: BatchBuilder | null = null;
  /** Per tag position: the name and column resolved for the scanner's KeySlots key there. */
  private readonly tagSlots = new ColumnSlots();
  private readonly fieldSlots = new ColumnSlots();
  /** Series keys of earlier lines (kept across requests; columns re-resolved per request). */
  private readonly series = new SeriesCache();
  /** Counts requests, so that series entries know when their columns are stale. */
  private request = 0;
  /** The field layout made last: series with the same field keys share it. */
  private lastFieldLayout: FieldLayout | null = null;
  /** The tag columns of the line being appended on the scanned path (to cache its series). */
  private readonly tagColumns: ColumnBuilder[] = [];

  /** `buffers`: where batches are packed (a decoder thread's pool); new buffers without it. */
  constructor(buffers?: BatchBufferPool) {
    this.batches = new RequestBatches(buffers);
  }

  decode(body: Uint8Array, context: LineProtocolContext): DecodeResult {
    if (body.byteLength === 0) return fail(badRequest(ProtocolErrorCode.emptyPayload, 'Empty payload'));
    this.batches.begin(context.database);
    this.lastBuilder = null;
    this.request++;
    this.series.begin();
    // Columns of the previous request went back to the pool: forget every cached position.
    this.scanner.clearKeySlots();
    this.tagSlots.clear();
    this.fieldSlots.clear();
    // One element kind for every body keeps the byte loops monomorphic (Buffers are a subclass).
    const bytes = Buffer.isBuffer(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : body;
    const error = this.decodeLines(bytes, context);
    if (error !== null) return fail(error);
    const rowCount = this.batches.rowCount();
    if (rowCount === 0) return fail(badRequest(ProtocolErrorCode.noRows, 'Payload contains no rows (only comments or blank lines)'));
    const batches = this.batches.pack();
    if (batches instanceof ArcError) return fail(batches);
    return { ok: true, batches, rowCount };
  }

  private decodeLines(body: Uint8Array, context: LineProtocolContext): ArcError | null {
    const length = body.byteLength;
    // Buffer#indexOf is memchr; Uint8Array#indexOf walks the bytes several times slower.
    const buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    // Reads four bytes per compare of a series key.
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    let lineNumber = 0;
    // The next quote at or after the current line (-1: none left): found once per quote, so that
    // lines without one cost a compare, and the body is searched for quotes once in all.
    let nextQuote = buffer.indexOf(BYTE_QUOTE);
    for (let lineStart = 0; lineStart < length; ) {
      lineNumber++;
      if (nextQuote >= 0 && nextQuote < lineStart) nextQuote = buffer.indexOf(BYTE_QUOTE, lineStart);
      const newline = buffer.indexOf(BYTE_NEWLINE, lineStart);
      const plainEnd = newline < 0 ? length : newline;
      const lineEnd = nextQuote >= 0 && nextQuote < plainEnd ? quotedLineEndOf(body, lineStart, plainEnd) : plainEnd;
      const nextStart = lineEnd + 1;
      const textEnd = lineEnd > lineStart && body[lineEnd - 1] === BYTE_RETURN ? lineEnd - 1 : lineEnd;
      if (textEnd - lineStart > LINE_BYTES_MAX) {
        const quoted = parseError(body, lineStart, textEnd, lineNumber, `line ${lineNumber} is longer than ${LINE_BYTES_MAX} bytes`);
        return new ArcError(quoted.kind, ProtocolErrorCode.lpLineTooLong, quoted.message, { line: lineNumber });
      }
      let start = lineStart;
      while (start < textEnd && (body[start] === BYTE_SPACE || body[start] === BYTE_TAB)) start++;
      if (start < textEnd && body[start] !== BYTE_HASH) {
        const series = this.series.enabled ? this.series.find(buffer, view, start, textEnd) : null;
        const error =
          series === null
            ? this.decodeScannedLine(buffer, context, lineStart, start, textEnd, lineNumber)
            : this.decodeCachedSeriesLine(body, view, series, context, lineStart, start, textEnd, lineNumber);
        if (error !== null) return error;
      }
      // Line breaks inside string values: the lines after are numbered as an editor shows them.
      if (newline >= 0 && newline < lineEnd) lineNumber += countNewlines(buffer, newline, lineEnd);
      lineStart = nextStart;
    }
    return null;
  }

  /**
   * A line whose series is cached: only its fields and timestamp are read, by the series' field
   * layout when the line fits it, else by the scanner (which also reports every error).
   */
  private decodeCachedSeriesLine(
    body: Uint8Array,
    view: DataView,
    series: SeriesEntry,
    context: LineProtocolContext,
    lineStart: number,
    start: number,
    textEnd: number,
    lineNumber: number,
  ): ArcError | null {
    const afterSeries = start + series.keyLength;
    const layout = series.fieldLayout;
    const laidOut = layout?.scan(body, view, afterSeries + 1, textEnd, context.precision) === true;
    if (!laidOut) {
      const reason = this.scanner.scanFieldsAndTime(body, afterSeries, textEnd, context.precision, this.line);
      if (reason !== null) return parseError(body, lineStart, textEnd, lineNumber, reason);
    }
    const builder = this.builderNamed(series.measurement);
    if (builder instanceof ArcError) return this.lineError(builder, body, lineStart, textEnd, lineNumber);
    const rowError = laidOut ? builder.beginRow(timeOrNow(layout.timeUs, context)) : this.beginLineRow(builder, context);
    if (rowError !== null) return this.lineError(rowError, body, lineStart, textEnd, lineNumber);
    const columns = series.columnsIn(builder, this.request);
    if (columns instanceof ArcError) return this.lineError(columns, body, lineStart, textEnd, lineNumber);
    // A cached series' tag names are distinct (its line was appended), so no duplicate check.
    series.appendTags(columns, builder.rowCount - 1, this.series.arena);
    if (laidOut) {
      const fieldColumns = layout.columnsIn(builder, this.request);
      if (!(fieldColumns instanceof ArcError) && layout.append(fieldColumns)) return null;
      // A name or type the layout cannot take: the general path appends (or reports) the fields.
      const reason = this.scanner.scanFieldsAndTime(body, afterSeries, textEnd, context.precision, this.line);
      assert.equal(reason, null, 'a line the layout read scans without error');
    }
    const error = this.appendFields(body, builder, lineStart, textEnd, lineNumber);
    if (error !== null) return error;
    if (!laidOut) series.fieldLayout = this.fieldLayoutOf(body);
    return null;
  }

  /**
   * The field layout of the line just appended (reusing the last one made when the keys are
   * the same), or null when the line's fields do not qualify (see FieldLayout).
   */
  private fieldLayoutOf(body: Uint8Array): FieldLayout | null {
    const line = this.line;
    const bounds = line.fieldBounds;
    const last = this.lastFieldLayout;
    if (last !== null && last.keys.length === line.fieldCount) {
      let same = true;
      for (let field = 0; field < line.fieldCount && same; field++) same = last.keyEquals(field, body, bounds[field * 4] as number, bounds[field * 4 + 1] as number);
      if (same) return last;
    }
    const keys: Uint8Array[] = [];
    const names: string[] = [];
    for (let field = 0; field < line.fieldCount; field++) {
      const kind = line.fieldKinds[field];
      if (kind !== FieldKind.integer && kind !== FieldKind.float) return null;
      const name = this.fieldSlots.names[field] as string; // set by columnAt for every field of the line
      if (names.includes(name)) return null;
      names.push(name);
      // A copy (Buffer#slice would be a view into the request's body).
      keys.push(Uint8Array.prototype.slice.call(body, bounds[field * 4] as number, (bounds[field * 4 + 1] as number) + 1));
    }
    this.lastFieldLayout = new FieldLayout(keys, names);
    return this.lastFieldLayout;
  }

  /** A line scanned in full; on success its series is cached for the lines after it. */
  private decodeScannedLine(body: Buffer, context: LineProtocolContext, lineStart: number, start: number, textEnd: number, lineNumber: number): ArcError | null {
    const line = this.line;
    const afterSeries = this.scanner.scanSeries(body, start, textEnd, line);
    if (typeof afterSeries === 'string') return parseError(body, lineStart, textEnd, lineNumber, afterSeries);
    const reason = this.scanner.scanFieldsAndTime(body, afterSeries, textEnd, context.precision, line);
    if (reason !== null) return parseError(body, lineStart, textEnd, lineNumber, reason);
    const measurement = this.measurementOf(body);
    const builder = this.builderNamed(measurement);
    if (builder instanceof ArcError) return this.lineError(builder, body, lineStart, textEnd, lineNumber);
    const rowError = this.beginLineRow(builder, context);
    if (rowError !== null) return this.lineError(rowError, body, lineStart, textEnd, lineNumber);
    const row = builder.rowCount - 1;
    for (let tag = 0; tag < line.tagCount; tag++) {
      const error = this.appendTag(body, builder, row, tag);
      if (error === DUPLICATE_TAGS) return parseError(body, lineStart, textEnd, lineNumber, 'duplicate tags');
      if (error !== null) return this.lineError(error, body, lineStart, textEnd, lineNumber);
    }
    const error = this.appendFields(body, builder, lineStart, textEnd, lineNumber);
    if (error !== null) return error;
    if (this.series.enabled) this.cacheSeries(body, start, afterSeries, measurement);
    return null;
  }

  /** Opens the row of the scanned line at its time (exact also beyond ±2^53 µs). */
  private beginLineRow(builder: BatchBuilder, context: LineProtocolContext): ArcError | null {
    const line = this.line;
    if (line.timeUs === TIMESTAMP_WIDE) return builder.beginRowAtParts(line.timeParts.high, line.timeParts.low);
    return builder.beginRow(timeOrNow(line.timeUs, context));
  }

  /** The scanned line's fields (its tags are appended): resolves their columns, then appends. */
  private appendFields(body: Uint8Array, builder: BatchBuilder, lineStart: number, textEnd: number, lineNumber: number): ArcError | null {
    const line = this.line;
    const row = builder.rowCount - 1;
    const resolveError = this.resolveFieldColumns(body, builder);
    if (resolveError !== null) return this.lineError(resolveError, body, lineStart, textEnd, lineNumber);
    // Backwards, so that of a field given twice the last value wins and the earlier is skipped.
    for (let field = line.fieldCount - 1; field >= 0; field--) {
      const column = this.fieldColumns[field] as ColumnBuilder; // field < fieldCount, resolved above
      if (column.length !== row) continue;
      const error = this.appendField(body, column, field, builder.measurement);
      if (error !== null) return this.lineError(error, body, lineStart, textEnd, lineNumber);
    }
    return null;
  }

  /** Caches the series of the line just appended: its tag names and unescaped values. */
  private cacheSeries(body: Buffer, start: number, afterSeries: number, measurement: string): void {
    const line = this.line;
    if (afterSeries >= body.byteLength || body[afterSeries] !== BYTE_SPACE) return; // a line with fields always has it
    const tagNames: string[] = [];
    const valueEnds: number[] = [];
    let valuesLength = 0;
    for (let tag = 0; tag < line.tagCount; tag++) {
      const column = this.tagColumns[tag] as ColumnBuilder; // set by appendTag for every tag
      tagNames.push(column.name);
      valuesLength += this.tagValueInto(body, tag, this.scratch, valuesLength);
      valueEnds.push(valuesLength);
    }
    const entry = this.series.add(body, start, afterSeries, measurement, tagNames, this.scratch, valueEnds);
    entry.fieldLayout = this.fieldLayoutOf(body);
  }

  /** The measurement of the scanned line, interned. */
  private measurementOf(body: Uint8Array): string {
    const line = this.line;
    return line.measurementEscaped
      ? this.internUnescaped(body, line.measurementStart, line.measurementEnd, false)
      : this.interner.intern(body, line.measurementStart, line.measurementEnd);
  }

  /** The builder of a measurement; consecutive lines usually share it. */
  private builderNamed(measurement: string): BatchBuilder | ArcError {
    if (measurement === this.lastMeasurement && this.lastBuilder !== null) return this.lastBuilder;
    const builder = this.batches.builderFor(measurement);
    if (builder instanceof ArcError) return builder;
    this.lastMeasurement = measurement;
    this.lastBuilder = builder;
    return builder;
  }

  private appendTag(body: Uint8Array, builder: BatchBuilder, row: number, tag: number): ArcError | typeof DUPLICATE_TAGS | null {
    const bounds = this.line.tagBounds;
    const flags = this.line.tagFlags[tag] as number; // tag < tagCount <= capacity
    const column = this.columnAt(body, builder, this.tagSlots, tag, bounds, flags, ColumnRole.tag);
    if (column instanceof ArcError) return column;
    if (column.length !== row) return DUPLICATE_TAGS;
    this.tagColumns[tag] = column;
    const valueStart = bounds[tag * 4 + 2] as number;
    const valueEnd = bounds[tag * 4 + 3] as number;
    if ((flags & PART_VALUE_ESCAPED) === 0) column.appendUtf8Bytes(body, valueStart, valueEnd);
    else column.appendUtf8Bytes(this.scratch, 0, this.unescape(body, valueStart, valueEnd, isNameEscape, this.scratch, 0));
    return null;
  }

  /** Copies tag `tag`'s value, unescaped, into `target` at `at`; returns its length. */
  private tagValueInto(body: Uint8Array, tag: number, target: Uint8Array, at: number): number {
    const bounds = this.line.tagBounds;
    const valueStart = bounds[tag * 4 + 2] as number; // tag < tagCount <= capacity
    const valueEnd = bounds[tag * 4 + 3] as number;
    if (((this.line.tagFlags[tag] as number) & PART_VALUE_ESCAPED) !== 0) return this.unescape(body, valueStart, valueEnd, isNameEscape, target, at);
    target.set(body.subarray(valueStart, valueEnd), at);
    return valueEnd - valueStart;
  }

  /** Creates or finds the column of every field of the line, in the line's order (schema order). */
  private resolveFieldColumns(body: Uint8Array, builder: BatchBuilder): ArcError | null {
    const line = this.line;
    const bounds = line.fieldBounds;
    for (let field = 0; field < line.fieldCount; field++) {
      const flags = line.fieldFlags[field] as number; // field < fieldCount <= capacity
      const column = this.columnAt(body, builder, this.fieldSlots, field, bounds, flags, ColumnRole.field);
      if (column instanceof ArcError) return column;
      this.fieldColumns[field] = column;
    }
    return null;
  }

  /** Appends one field value, refusing the int/float mixing ColumnBuilder would widen. */
  private appendField(body: Uint8Array, column: ColumnBuilder, field: number, measurement: string): ArcError | null {
    const line = this.line;
    const kind = line.fieldKinds[field] as FieldKind; // field < fieldCount <= capacity
    const number = line.fieldNumbers[field] as number;
    let result: AppendResult;
    switch (kind) {
      case FieldKind.float:
        result = column.type === ColumnType.int64 ? AppendResult.typeConflict : column.appendFloat64(number);
        break;
      case FieldKind.integer:
        result = column.type === ColumnType.float64 ? AppendResult.typeConflict : column.appendInteger(number);
        break;
      case FieldKind.int64Parts:
        result = column.type === ColumnType.float64 ? AppendResult.typeConflict : column.appendInt64Parts(line.fieldHighs[field] as number, number);
        break;
      case FieldKind.uint64Parts:
        result = column.appendUint64Parts(line.fieldHighs[field] as number, number);
        break;
      case FieldKind.bool:
        result = column.appendBool(number === 1);
        break;
      case FieldKind.string:
        result = this.appendString(body, column, field);
        break;
    }
    if (result === AppendResult.ok) return null;
    return fieldTypeConflict(measurement, column, KIND_TYPES[kind]);
  }

  /**
   * A refusal (bad name, type conflict, too many columns) of the line being decoded, in InfluxDB's
   * shape `unable to parse '<line>': <reason>`, keeping the error's code and naming the line.
   */
  private lineError(error: ArcError, body: Uint8Array, lineStart: number, textEnd: number, lineNumber: number): ArcError {
    const quoted = parseError(body, lineStart, textEnd, lineNumber, error.message);
    return new ArcError(error.kind, error.code, quoted.message, { ...error.details, line: lineNumber });
  }

  private appendString(body: Uint8Array, column: ColumnBuilder, field: number): AppendResult {
    const bounds = this.line.fieldBounds;
    const valueStart = bounds[field * 4 + 2] as number; // field < fieldCount <= capacity
    const valueEnd = bounds[field * 4 + 3] as number;
    const flags = this.line.fieldFlags[field] as number;
    if ((flags & PART_VALUE_ESCAPED) === 0) return column.appendUtf8Bytes(body, valueStart, valueEnd);
    return column.appendUtf8Bytes(this.scratch, 0, this.unescape(body, valueStart, valueEnd, isStringEscape, this.scratch, 0));
  }

  /**
   * The column of tag or field `slot` of the line: reused when the scanner found the same key at
   * this position of an earlier line (for the same measurement), else resolved by name.
   */
  private columnAt(
    body: Uint8Array,
    builder: BatchBuilder,
    slots: ColumnSlots,
    slot: number,
    bounds: Int32Array,
    flags: number,
    role: ColumnRole,
  ): ColumnBuilder | ArcError {
    const repeated = (flags & PART_KEY_REPEATED) !== 0;
    if (repeated && slots.builders[slot] === builder) return slots.columns[slot] as ColumnBuilder; // set with builders[slot]
    const cachedName = repeated ? slots.names[slot] : undefined;
    const name = cachedName ?? this.nameAt(body, bounds[slot * 4] as number, bounds[slot * 4 + 1] as number, flags);
    if (name instanceof ArcError) return name;
    if (name.toLowerCase() === TIME_COLUMN) return reservedTimeKey(builder.measurement, name, role);
    const column = builder.column(name, role);
    if (column instanceof ArcError) return column;
    slots.names[slot] = name;
    slots.columns[slot] = column;
    slots.builders[slot] = builder;
    return column;
  }

  /** A tag or field key as an interned string; a non-ASCII key must be valid UTF-8. */
  private nameAt(body: Uint8Array, start: number, end: number, flags: number): string | ArcError {
    if ((flags & PART_KEY_NON_ASCII) !== 0 && !isUtf8(body.subarray(start, end))) {
      return badRequest(ColumnarErrorCode.badUtf8, 'A tag or field name is not valid UTF-8');
    }
    if ((flags & PART_KEY_ESCAPED) === 0) return this.interner.intern(body, start, end);
    return this.internUnescaped(body, start, end, true);
  }

  private internUnescaped(body: Uint8Array, start: number, end: number, equalsIsEscape: boolean): string {
    const length = this.unescape(body, start, end, equalsIsEscape ? isNameEscape : isMeasurementEscape, this.scratch, 0);
    return this.interner.intern(this.scratch, 0, length);
  }

  /** Copies [start, end) into `target` at `at` without the backslash of each escape; returns the length. */
  private unescape(body: Uint8Array, start: number, end: number, isEscaped: (byte: number) => boolean, target: Uint8Array, at: number): number {
    let length = 0;
    for (let index = start; index < end; index++) {
      const byte = body[index] as number; // index < end <= body.length
      // An escape is a pair: its second byte is copied as is, never read as the start of another
      // escape (`\\\"` is a backslash then a quote, as InfluxDB's unescapeStringField reads it).
      if (byte === BYTE_BACKSLASH && index + 1 < end && isEscaped(body[index + 1] as number)) index++;
      target[at + length++] = body[index] as number; // index < end
    }
    return length;
  }
}

/**
 * What the decoder resolved for each tag or field position (see KeySlots): valid while the
 * scanner's key for the position is unchanged, within one request.
 */
class ColumnSlots {
  readonly names: string[] = [];
  readonly columns: ColumnBuilder[] = [];
  readonly builders: (BatchBuilder | undefined)[] = [];

  clear(): void {
    this.names.length = 0;
    this.columns.length = 0;
    this.builders.length = 0;
  }
}

/**
 * The end of a line from `lineStart` that holds a quote before `plainEnd` (its first '\n'): past
 * line breaks inside a string field value (InfluxDB), scanning at most a line's limit. A comment
 * ends at its line break whatever quotes it holds.
 */
function quotedLineEndOf(body: Uint8Array, lineStart: number, plainEnd: number): number {
  let first = lineStart;
  while (first < plainEnd && (body[first] === BYTE_SPACE || body[first] === BYTE_TAB)) first++;
  if (first < plainEnd && body[first] === BYTE_HASH) return plainEnd;
  const quotedEnd = quotedLineEnd(body, lineStart, Math.min(body.byteLength, lineStart + LINE_BYTES_MAX + 2));
  return quotedEnd >= 0 ? quotedEnd : plainEnd;
}

/** Line breaks in [start, end). */
function countNewlines(buffer: Buffer, start: number, end: number): number {
  let count = 0;
  for (let index = buffer.indexOf(BYTE_NEWLINE, start); index >= 0 && index < end; index = buffer.indexOf(BYTE_NEWLINE, index + 1)) count++;
  return count;
}

/** A line's time, or the request's arrival for a line without one (NaN). */
function timeOrNow(timeUs: number, context: LineProtocolContext): number {
  return Number.isNaN(timeUs) ? context.nowUs : timeUs;
}

/** Marker for a tag given twice in one line (reported as a parse error of that line). */
const DUPLICATE_TAGS = 'duplicate tags';

/** InfluxDB's name of each value kind, as its field type conflicts name them. */
const KIND_TYPES: Readonly<Record<FieldKind, string>> = {
  [FieldKind.float]: 'float',
  [FieldKind.integer]: 'integer',
  [FieldKind.int64Parts]: 'integer',
  [FieldKind.bool]: 'boolean',
  [FieldKind.string]: 'string',
  [FieldKind.uint64Parts]: 'unsigned',
};

const INFLUX_TYPE_NAMES: Readonly<Record<ColumnType, string>> = {
  [ColumnType.int64]: 'integer',
  [ColumnType.uint64]: 'unsigned',
  [ColumnType.float64]: 'float',
  [ColumnType.bool]: 'boolean',
  [ColumnType.utf8]: 'string',
};

function isMeasurementEscape(byte: number): boolean {
  return byte === BYTE_COMMA || byte === BYTE_SPACE;
}

function isNameEscape(byte: number): boolean {
  return byte === BYTE_COMMA || byte === BYTE_SPACE || byte === BYTE_EQUALS;
}

function isStringEscape(byte: number): boolean {
  return byte === BYTE_QUOTE || byte === BYTE_BACKSLASH;
}

/**
 * InfluxDB 1.x's shape: `unable to parse '<line>': <reason>`, with the 1-based line number. A long
 * line is quoted cut short (with its size), so the error stays small whatever the line holds.
 */
function parseError(body: Uint8Array, lineStart: number, textEnd: number, lineNumber: number, reason: string): ArcError {
  return badRequest(ProtocolErrorCode.lpParse, `unable to parse '${quotedLine(body, lineStart, textEnd)}': ${reason}`, { line: lineNumber });
}

/**
 * Bytes of a line decoded to quote it: 4 per quoted character is enough whatever the encoding
 * (a UTF-8 character of n bytes is at most n/2 UTF-16 units, a bad byte one), so a line of any
 * length (a body without a line break) costs the same to quote.
 */
const QUOTE_BYTES_MAX = ERROR_QUOTE_CHARS_MAX * 4;

/** The line cut to ERROR_QUOTE_CHARS_MAX characters, with the `...(N bytes)` marker of the whole line. */
function quotedLine(body: Uint8Array, lineStart: number, textEnd: number): string {
  const prefixEnd = Math.min(textEnd, lineStart + QUOTE_BYTES_MAX);
  const prefix = truncateText(lineTextDecoder.decode(body.subarray(lineStart, prefixEnd)), ERROR_QUOTE_CHARS_MAX);
  if (prefixEnd === textEnd) return prefix;
  // The prefix alone is longer than the bound, so it was cut: its marker counts the prefix only.
  return `${prefix.slice(0, prefix.lastIndexOf('...('))}...(${textEnd - lineStart} bytes)`;
}

/**
 * A tag or field key `time` (any case: it would be the timestamp column). InfluxDB 1.x drops such
 * a point with these words (a partial write); Arc refuses the request, as for any bad line.
 */
function reservedTimeKey(measurement: string, name: string, role: ColumnRole): ArcError {
  const reason =
    role === ColumnRole.tag
      ? `invalid tag key: input tag "${name}" on measurement "${measurement}" is invalid`
      : `invalid field name: input field "${name}" on measurement "${measurement}" is invalid`;
  return badRequest(ColumnarErrorCode.badColumnName, reason, { column: name });
}

/**
 * InfluxDB's words for a field whose type differs from the one it has (`is type float, already
 * exists as type integer`); Arc's type names are InfluxDB's: float, integer, unsigned, string, boolean.
 */
function fieldTypeConflict(measurement: string, column: ColumnBuilder, given: string): ArcError {
  const existing = column.type === null ? 'none' : INFLUX_TYPE_NAMES[column.type];
  return badRequest(
    ProtocolErrorCode.typeConflict,
    `field type conflict: input field "${column.name}" on measurement "${measurement}" is type ${given}, already exists as type ${existing} (earlier in this request)`,
    { column: column.name, measurement },
  );
}
