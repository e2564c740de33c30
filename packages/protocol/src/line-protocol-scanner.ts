import {
  BYTE_0,
  BYTE_9,
  BYTE_MINUS,
  TIMESTAMP_OUT_OF_RANGE,
  TIME_OUTSIDE_RANGE,
  isIntegerText,
  parseFloatText,
  parseTimestampMicros,
  parseWideInteger,
  splitInt64,
  digitsValue,
  type Int64Parts,
} from './line-protocol-numbers.js';
import { KeySlots } from './line-protocol-key-slots.js';
import type { LineProtocolPrecision } from './line-protocol-precision.js';

/**
 * One pass over the bytes of one line that records where each part is (no strings, no copies):
 *
 *   measurement[,tagKey=tagValue...] fieldKey=fieldValue[,fieldKey=fieldValue...] [timestamp]
 *
 * Escapes are only noted (flags) here; the decoder unescapes the few parts that have one. Every
 * failure is a reason string in InfluxDB's words, which the decoder wraps into "unable to parse".
 */
export const BYTE_SPACE = 0x20;
export const BYTE_COMMA = 0x2c;
export const BYTE_EQUALS = 0x3d;
export const BYTE_QUOTE = 0x22;
export const BYTE_BACKSLASH = 0x5c;
const BYTE_I = 0x69;
const BYTE_U = 0x75;

/** How a field's value is held in ParsedLine: `number`, or `high`/`number` for int64Parts. */
export const FieldKind = {
  float: 0,
  /** An int64 that fits a double exactly (|value| <= 10^15 - 1). */
  integer: 1,
  /** Any other int64: high 32 bits in `fieldHighs`, low 32 bits (unsigned) in `fieldNumbers`. */
  int64Parts: 2,
  bool: 3,
  string: 4,
  /** A uint64 (`1u`, any size): high 32 bits in `fieldHighs` (as int32 bits), low 32 in `fieldNumbers`. */
  uint64Parts: 5,
} as const;
export type FieldKind = (typeof FieldKind)[keyof typeof FieldKind];

/** Flags of a key/value pair: an escape to remove, or a non-ASCII byte (validate as UTF-8). */
export const PART_KEY_ESCAPED = 1;
export const PART_VALUE_ESCAPED = 2;
export const PART_KEY_NON_ASCII = 4;
/** The key equals the one at the same position of an earlier line (KeySlots): reuse its column. */
export const PART_KEY_REPEATED = 8;

/** Parts per line before the arrays grow; TSBS lines have 10 tags and 10 fields. */
const PARTS_INITIAL = 32;

/** The parts of the last scanned line: offsets into the body, reused for every line. */
export class ParsedLine {
  measurementStart = 0;
  measurementEnd = 0;
  measurementEscaped = false;
  tagCount = 0;
  /** keyStart, keyEnd, valueStart, valueEnd per tag. */
  tagBounds = new Int32Array(PARTS_INITIAL * 4);
  tagFlags = new Uint8Array(PARTS_INITIAL);
  fieldCount = 0;
  /** keyStart, keyEnd, valueStart, valueEnd per field (a string's bounds exclude its quotes). */
  fieldBounds = new Int32Array(PARTS_INITIAL * 4);
  fieldFlags = new Uint8Array(PARTS_INITIAL);
  fieldKinds = new Uint8Array(PARTS_INITIAL);
  fieldNumbers = new Float64Array(PARTS_INITIAL);
  fieldHighs = new Int32Array(PARTS_INITIAL);
  /** Microseconds, or NaN when the line has no timestamp, or TIMESTAMP_WIDE (then see timeParts). */
  timeUs = Number.NaN;
  /** The time of a line whose timeUs is TIMESTAMP_WIDE (beyond ±2^53 µs), as int64 words. */
  readonly timeParts: Int64Parts = { high: 0, low: 0 };

  /** Grows the per-field arrays so that field `index` fits (long lines with many fields). */
  ensureFields(index: number): void {
    if (index < this.fieldFlags.length) return;
    const capacity = this.fieldFlags.length * 2;
    this.fieldBounds = grown(this.fieldBounds, capacity * 4);
    this.fieldFlags = grown(this.fieldFlags, capacity);
    this.fieldKinds = grown(this.fieldKinds, capacity);
    this.fieldNumbers = grown(this.fieldNumbers, capacity);
    this.fieldHighs = grown(this.fieldHighs, capacity);
  }

  ensureTags(index: number): void {
    if (index < this.tagFlags.length) return;
    const capacity = this.tagFlags.length * 2;
    this.tagBounds = grown(this.tagBounds, capacity * 4);
    this.tagFlags = grown(this.tagFlags, capacity);
  }
}

function grown<T extends Int32Array | Uint8Array | Float64Array>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}

/** Bytes that need no decision inside a name (everything but , = space \\ and non-ASCII). */
const NAME_BYTE_PLAIN = 0;
const NAME_BYTE_CLASS = new Uint8Array(256);
for (const byte of [BYTE_COMMA, BYTE_EQUALS, BYTE_SPACE, BYTE_BACKSLASH]) NAME_BYTE_CLASS[byte] = 1;
NAME_BYTE_CLASS.fill(1, 0x80);

/** True for bytes that end a name: an unescaped comma, equals sign or space. */
function endsName(byte: number): boolean {
  return byte === BYTE_COMMA || byte === BYTE_EQUALS || byte === BYTE_SPACE;
}

export class LineScanner {
  /** Flags of the last scanName call. */
  private nameFlags = 0;
  private readonly parts: Int64Parts = { high: 0, low: 0 };
  private readonly tagKeys = new KeySlots();
  private readonly fieldKeys = new KeySlots();

  /** Forgets the keys of earlier lines; the decoder does so at the start of every request. */
  clearKeySlots(): void {
    this.tagKeys.clear();
    this.fieldKeys.clear();
  }

  /**
   * The key at `start` of tag or field `slot`, ending at an unescaped '=' (returned) or at the
   * first byte that ends a name. Sets nameFlags (PART_KEY_REPEATED when the slot's key matched).
   */
  private scanKey(bytes: Uint8Array, start: number, end: number, slots: KeySlots, slot: number): number {
    const repeated = slots.match(bytes, start, end, slot);
    if (repeated >= 0) {
      this.nameFlags = slots.flagsOf(slot) | PART_KEY_REPEATED;
      return repeated;
    }
    const keyEnd = this.scanName(bytes, start, end);
    if (keyEnd > start && keyEnd < end && bytes[keyEnd] === BYTE_EQUALS) slots.store(bytes, start, keyEnd, slot, this.nameFlags);
    return keyEnd;
  }

  /** Scans [start, end) (line breaks only inside string values) into `line`; returns null or the failure reason. */
  scan(bytes: Uint8Array, start: number, end: number, precision: LineProtocolPrecision, line: ParsedLine): string | null {
    const afterSeries = this.scanSeries(bytes, start, end, line);
    if (typeof afterSeries === 'string') return afterSeries;
    return this.scanFieldsAndTime(bytes, afterSeries, end, precision, line);
  }

  /** The measurement and tags from `start`; returns the index after them (a space or `end`). */
  scanSeries(bytes: Uint8Array, start: number, end: number, line: ParsedLine): number | string {
    line.tagCount = 0;
    const index = this.scanMeasurement(bytes, start, end, line);
    if (index === start) return 'missing measurement';
    if (index < end && bytes[index] === BYTE_COMMA) return this.scanTags(bytes, index, end, line);
    return index;
  }

  /** The spaces after the series, the fields and the optional timestamp, up to `end`. */
  scanFieldsAndTime(bytes: Uint8Array, afterSeries: number, end: number, precision: LineProtocolPrecision, line: ParsedLine): string | null {
    line.fieldCount = 0;
    line.timeUs = Number.NaN;
    let index = skipSpaces(bytes, afterSeries, end);
    if (index >= end) return 'missing fields';
    const afterFields = this.scanFields(bytes, index, end, line);
    if (typeof afterFields === 'string') return afterFields;
    index = skipSpaces(bytes, afterFields, end);
    if (index >= end) return null;
    let timeEnd = index;
    while (timeEnd < end && bytes[timeEnd] !== BYTE_SPACE) timeEnd++;
    if (skipSpaces(bytes, timeEnd, end) < end) return 'bad timestamp';
    const timeUs = parseTimestampMicros(bytes, index, timeEnd, precision, line.timeParts);
    if (Number.isNaN(timeUs)) return 'bad timestamp';
    if (timeUs === TIMESTAMP_OUT_OF_RANGE) return TIME_OUTSIDE_RANGE;
    line.timeUs = timeUs;
    return null;
  }

  /** The measurement ends at an unescaped comma or space; only `\,` and `\ ` are escapes in it. */
  private scanMeasurement(bytes: Uint8Array, start: number, end: number, line: ParsedLine): number {
    let index = start;
    let escaped = false;
    while (index < end) {
      const byte = bytes[index] as number; // index < end <= bytes.length
      if (byte === BYTE_COMMA || byte === BYTE_SPACE) break;
      if (byte === BYTE_BACKSLASH && index + 1 < end) {
        const next = bytes[index + 1];
        if (next === BYTE_COMMA || next === BYTE_SPACE) {
          escaped = true;
          index += 2;
          continue;
        }
      }
      index++;
    }
    line.measurementStart = start;
    line.measurementEnd = index;
    line.measurementEscaped = escaped;
    return index;
  }

  /**
   * A tag key, field key or tag value: ends at an unescaped comma, equals sign or space (or the
   * line's end); `\,` `\=` `\ ` are escapes. Sets nameFlags; returns the index of the end.
   */
  private scanName(bytes: Uint8Array, start: number, end: number): number {
    let index = start;
    let flags = 0;
    while (index < end) {
      const byte = bytes[index] as number; // index < end <= bytes.length
      // One table load decides for the common byte; only special ones take the branches below.
      if (NAME_BYTE_CLASS[byte] === NAME_BYTE_PLAIN) {
        index++;
        continue;
      }
      if (endsName(byte)) break;
      if (byte === BYTE_BACKSLASH && index + 1 < end && endsName(bytes[index + 1] as number)) {
        flags |= PART_KEY_ESCAPED;
        index += 2;
        continue;
      }
      if (byte >= 0x80) flags |= PART_KEY_NON_ASCII;
      index++;
    }
    this.nameFlags = flags;
    return index;
  }

  /** `,key=value` pairs from the comma at `start`; returns the index after the last value. */
  private scanTags(bytes: Uint8Array, start: number, end: number, line: ParsedLine): number | string {
    let index = start;
    while (index < end && bytes[index] === BYTE_COMMA) {
      const keyStart = index + 1;
      const keyEnd = this.scanKey(bytes, keyStart, end, this.tagKeys, line.tagCount);
      if (keyEnd === keyStart) return 'missing tag key';
      if (keyEnd >= end || bytes[keyEnd] !== BYTE_EQUALS) return 'missing tag value';
      const keyFlags = this.nameFlags;
      const valueStart = keyEnd + 1;
      const valueEnd = this.scanName(bytes, valueStart, end);
      if (valueEnd === valueStart) return 'missing tag value';
      if (valueEnd < end && bytes[valueEnd] === BYTE_EQUALS) return 'invalid tag format';
      const tag = line.tagCount;
      line.ensureTags(tag);
      line.tagBounds[tag * 4] = keyStart;
      line.tagBounds[tag * 4 + 1] = keyEnd;
      line.tagBounds[tag * 4 + 2] = valueStart;
      line.tagBounds[tag * 4 + 3] = valueEnd;
      line.tagFlags[tag] = keyFlags | ((this.nameFlags & PART_KEY_ESCAPED) !== 0 ? PART_VALUE_ESCAPED : 0);
      line.tagCount = tag + 1;
      index = valueEnd;
    }
    return index;
  }

  /** `key=value[,key=value...]` from `start`; returns the index after the last value. */
  private scanFields(bytes: Uint8Array, start: number, end: number, line: ParsedLine): number | string {
    let index = start;
    for (;;) {
      const keyEnd = this.scanKey(bytes, index, end, this.fieldKeys, line.fieldCount);
      if (keyEnd === index) return 'missing field key';
      if (keyEnd >= end || bytes[keyEnd] !== BYTE_EQUALS) return 'missing field value';
      const field = line.fieldCount;
      line.ensureFields(field);
      line.fieldBounds[field * 4] = index;
      line.fieldBounds[field * 4 + 1] = keyEnd;
      line.fieldFlags[field] = this.nameFlags;
      const valueEnd = this.scanFieldValue(bytes, keyEnd + 1, end, line, field);
      if (typeof valueEnd === 'string') return valueEnd;
      line.fieldCount = field + 1;
      if (valueEnd >= end || bytes[valueEnd] === BYTE_SPACE) return valueEnd;
      if (bytes[valueEnd] !== BYTE_COMMA) return 'invalid field format';
      index = valueEnd + 1;
    }
  }

  /** One field value from `start`: records its kind and number; returns the index after it. */
  private scanFieldValue(bytes: Uint8Array, start: number, end: number, line: ParsedLine, field: number): number | string {
    if (start >= end) return 'missing field value';
    const first = bytes[start] as number; // start < end <= bytes.length
    if (first === BYTE_QUOTE) return this.scanString(bytes, start, end, line, field);
    const integerEnd = scanSmallInteger(bytes, start, end, line, field);
    if (integerEnd >= 0) return integerEnd;
    let valueEnd = start;
    while (valueEnd < end) {
      const byte = bytes[valueEnd] as number; // valueEnd < end <= bytes.length
      if (byte === BYTE_COMMA || byte === BYTE_SPACE) break;
      valueEnd++;
    }
    if (valueEnd === start) return 'missing field value';
    line.fieldBounds[field * 4 + 2] = start;
    line.fieldBounds[field * 4 + 3] = valueEnd;
    // As in InfluxDB, a value that cannot start a number is read as a boolean (`aflse`: invalid boolean).
    const reason = isNumberStart(first) ? this.readNumber(bytes, start, valueEnd, line, field) : this.readBool(bytes, start, valueEnd, line, field);
    return reason ?? valueEnd;
  }

  /** A double-quoted string; `\"` and `\\` are escapes, any other backslash is kept as is. */
  private scanString(bytes: Uint8Array, start: number, end: number, line: ParsedLine, field: number): number | string {
    let index = start + 1;
    while (index < end) {
      const byte = bytes[index] as number; // index < end <= bytes.length
      if (byte === BYTE_QUOTE) {
        line.fieldBounds[field * 4 + 2] = start + 1;
        line.fieldBounds[field * 4 + 3] = index;
        line.fieldKinds[field] = FieldKind.string;
        return index + 1;
      }
      if (byte === BYTE_BACKSLASH && index + 1 < end) {
        const next = bytes[index + 1];
        if (next === BYTE_QUOTE || next === BYTE_BACKSLASH) {
          line.fieldFlags[field] = (line.fieldFlags[field] as number) | PART_VALUE_ESCAPED; // field < capacity (ensureFields)
          index += 2;
          continue;
        }
      }
      index++;
    }
    return 'unbalanced quotes';
  }

  private readBool(bytes: Uint8Array, start: number, end: number, line: ParsedLine, field: number): string | null {
    const value = boolValue(bytes, start, end);
    if (value < 0) return 'invalid boolean';
    line.fieldKinds[field] = FieldKind.bool;
    line.fieldNumbers[field] = value;
    return null;
  }

  /** `1i` int64, `1u` uint64 (its own type, whatever its size), anything else a float. */
  private readNumber(bytes: Uint8Array, start: number, end: number, line: ParsedLine, field: number): string | null {
    const suffix = bytes[end - 1];
    if (suffix !== BYTE_I && suffix !== BYTE_U) {
      const value = parseFloatText(bytes, start, end);
      if (Number.isNaN(value)) return 'invalid number';
      line.fieldKinds[field] = FieldKind.float;
      line.fieldNumbers[field] = value;
      return null;
    }
    const unsigned = suffix === BYTE_U;
    const digitsEnd = end - 1;
    if (!isIntegerText(bytes, start, digitsEnd, !unsigned)) return 'invalid number';
    const negative = bytes[start] === BYTE_MINUS;
    const digitCount = digitsEnd - start - (negative ? 1 : 0);
    if (digitCount <= 15) {
      const magnitude = digitsValue(bytes, negative ? start + 1 : start, digitsEnd);
      if (unsigned) {
        line.fieldKinds[field] = FieldKind.uint64Parts;
        line.fieldHighs[field] = Math.floor(magnitude / 4294967296);
        line.fieldNumbers[field] = magnitude >>> 0;
        return null;
      }
      line.fieldKinds[field] = FieldKind.integer;
      line.fieldNumbers[field] = negative && magnitude !== 0 ? -magnitude : magnitude;
      return null;
    }
    const value = parseWideInteger(bytes, start, digitsEnd, unsigned);
    if (value === null) return 'value out of range';
    splitInt64(value, this.parts);
    line.fieldKinds[field] = unsigned ? FieldKind.uint64Parts : FieldKind.int64Parts;
    line.fieldHighs[field] = this.parts.high;
    line.fieldNumbers[field] = this.parts.low;
    return null;
  }
}

/** Integers of at most this many digits are read by scanSmallInteger (exact in a double). */
const SMALL_INTEGER_DIGITS_MAX = 15;

/**
 * Fast path for the most common value, a short non-negative `<digits>i` followed by a comma, a
 * space or the end: read in the same pass that finds its end. Returns -1 for anything else,
 * which the general path then reads (and reports, when it is malformed).
 */
function scanSmallInteger(bytes: Uint8Array, start: number, end: number, line: ParsedLine, field: number): number {
  let value = 0;
  let index = start;
  const digitsEnd = Math.min(end, start + SMALL_INTEGER_DIGITS_MAX);
  while (index < digitsEnd) {
    const byte = bytes[index] as number; // index < end <= bytes.length
    if (byte < BYTE_0 || byte > BYTE_9) break;
    value = value * 10 + (byte - BYTE_0);
    index++;
  }
  if (index === start || index >= end || bytes[index] !== BYTE_I) return -1;
  const after = index + 1;
  if (after < end && bytes[after] !== BYTE_COMMA && bytes[after] !== BYTE_SPACE) return -1;
  line.fieldBounds[field * 4 + 2] = start;
  line.fieldBounds[field * 4 + 3] = after;
  line.fieldKinds[field] = FieldKind.integer;
  line.fieldNumbers[field] = value;
  return after;
}

const BYTE_NEWLINE = 0x0a;

/**
 * Where the line from `start` ends when it holds a quote: the first '\n' that is not inside a
 * quoted string field value (InfluxDB's scanLine: a raw line break belongs to the string). A
 * quote only opens a string after the first space and after a field's '=' (quotes in names are
 * plain bytes); any backslash pair is skipped. Returns -1 when a string is still open at `end`,
 * so that the caller splits at the plain '\n' and reports that line's unbalanced quotes.
 */
export function quotedLineEnd(bytes: Uint8Array, start: number, end: number): number {
  let index = start;
  let inFields = false;
  let quoted = false;
  let equals = 0;
  let commas = 0;
  while (index < end) {
    const byte = bytes[index] as number; // index < end <= bytes.length
    if (byte === BYTE_BACKSLASH && index + 2 < end) {
      index += 2;
      continue;
    }
    if (byte === BYTE_SPACE) inFields = true;
    if (inFields && !quoted && byte === BYTE_EQUALS) equals++;
    else if (inFields && !quoted && byte === BYTE_COMMA) commas++;
    else if (inFields && byte === BYTE_QUOTE && equals > commas) quoted = !quoted;
    else if (byte === BYTE_NEWLINE && !quoted) return index;
    index++;
  }
  return quoted ? -1 : end;
}

function skipSpaces(bytes: Uint8Array, start: number, end: number): number {
  let index = start;
  while (index < end && bytes[index] === BYTE_SPACE) index++;
  return index;
}

const BYTE_PLUS = 0x2b;
const BYTE_DOT = 0x2e;

function isNumberStart(byte: number): boolean {
  return (byte >= BYTE_0 && byte <= BYTE_9) || byte === BYTE_MINUS || byte === BYTE_PLUS || byte === BYTE_DOT;
}

/** The spellings InfluxDB accepts; mixed forms like `tRUE` are not among them. */
const TRUE_WORDS = ['t', 'T', 'true', 'True', 'TRUE'];
const FALSE_WORDS = ['f', 'F', 'false', 'False', 'FALSE'];
const BOOL_WORD_BYTES_MAX = 5;

/** 1 for a true word, 0 for a false word, -1 for anything else. */
function boolValue(bytes: Uint8Array, start: number, end: number): number {
  if (end - start > BOOL_WORD_BYTES_MAX) return -1;
  const word = String.fromCharCode(...bytes.subarray(start, end));
  if (TRUE_WORDS.includes(word)) return 1;
  if (FALSE_WORDS.includes(word)) return 0;
  return -1;
}
