import { TIME_MICROS_ABS_MAX } from '@arc/columnar';
import { MICROS_PER_PRECISION_UNIT, type LineProtocolPrecision } from './line-protocol-precision.js';

/**
 * Number parsing straight from the line's bytes (no string per value on the common path).
 * Integers of up to SAFE_DIGITS_MAX digits and decimal floats that fit Clinger's fast path are
 * computed with doubles, exactly; anything longer takes a slow path through BigInt or Number().
 */
export const BYTE_0 = 0x30;
export const BYTE_9 = 0x39;
export const BYTE_MINUS = 0x2d;
const BYTE_PLUS = 0x2b;
const BYTE_DOT = 0x2e;
const BYTE_E_LOWER = 0x65;
const BYTE_E_UPPER = 0x45;

/** 15 decimal digits always fit a double exactly (2^53 has 16 digits). */
const SAFE_DIGITS_MAX = 15;
/** 10^22 is the largest power of ten a double holds exactly: the bound of the fast float path. */
const EXACT_POWER_OF_TEN_MAX = 22;
const POWERS_OF_TEN = Array.from({ length: EXACT_POWER_OF_TEN_MAX + 1 }, (_, exponent) => 10 ** exponent);
/** int64 and uint64 bounds as decimal digit counts: more digits are out of range whatever they are. */
const INT64_DIGITS_MAX = 19;
const UINT64_DIGITS_MAX = 20;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;
const UINT64_MAX = 18446744073709551615n;

/** Timestamps: NaN when the text is not an integer, Infinity when it is one out of range. */
export const TIMESTAMP_BAD = Number.NaN;
export const TIMESTAMP_OUT_OF_RANGE = Number.POSITIVE_INFINITY;
/** A time beyond ±2^53 µs (not exact as a double): its int64 microseconds are in the parts given. */
export const TIMESTAMP_WIDE = Number.NEGATIVE_INFINITY;

/**
 * InfluxDB's time range, int64 nanoseconds but for the two extreme values (models.MinNanoTime,
 * MaxNanoTime): a time is accepted when its value times its precision's nanoseconds is in it.
 */
const MIN_NANO_TIME = -9223372036854775806n;
const MAX_NANO_TIME = 9223372036854775806n;
export const TIME_OUTSIDE_RANGE = `time outside range ${MIN_NANO_TIME} - ${MAX_NANO_TIME}`;
const NANOS_PER_PRECISION_UNIT: Readonly<Record<LineProtocolPrecision, bigint>> = {
  ns: 1n,
  us: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

function isDigit(byte: number): boolean {
  return byte >= BYTE_0 && byte <= BYTE_9;
}

/** Digits of [start, end) as a double, or -1 if one byte is not a digit. Exact for <= 15 digits. */
export function digitsValue(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index++) {
    const byte = bytes[index] as number; // index < end <= bytes.length
    if (!isDigit(byte)) return -1;
    value = value * 10 + (byte - BYTE_0);
  }
  return value;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

/** A 64-bit integer split for ColumnBuilder.appendInt64Parts. */
export interface Int64Parts {
  high: number;
  low: number;
}

/**
 * Integer text (optional '-', digits) of more than 15 digits, checked against the signed or
 * unsigned 64-bit range. Returns the value as a BigInt, or null when it is out of range.
 */
export function parseWideInteger(bytes: Uint8Array, start: number, end: number, unsigned: boolean): bigint | null {
  const negative = bytes[start] === BYTE_MINUS;
  const digitsStart = negative ? start + 1 : start;
  let firstSignificant = digitsStart;
  while (firstSignificant < end - 1 && bytes[firstSignificant] === BYTE_0) firstSignificant++;
  if (end - firstSignificant > (unsigned ? UINT64_DIGITS_MAX : INT64_DIGITS_MAX)) return null;
  const value = BigInt(latin1(bytes, start, end));
  if (unsigned) return value <= UINT64_MAX ? value : null;
  return value >= INT64_MIN && value <= INT64_MAX ? value : null;
}

export function splitInt64(value: bigint, into: Int64Parts): void {
  into.high = Number(BigInt.asIntN(32, value >> 32n));
  into.low = Number(BigInt.asUintN(32, value));
}

/** True when [start, end) is '-'? digits+ (the integer grammar before an `i` or `u` suffix). */
export function isIntegerText(bytes: Uint8Array, start: number, end: number, allowMinus: boolean): boolean {
  const digitsStart = allowMinus && bytes[start] === BYTE_MINUS ? start + 1 : start;
  if (digitsStart >= end) return false;
  for (let index = digitsStart; index < end; index++) {
    if (!isDigit(bytes[index] as number)) return false; // index < end <= bytes.length
  }
  return true;
}

/**
 * A float as InfluxDB writes them: '-'? digits [. digits] [(e|E) [+-] digits], where at least
 * one mantissa digit is present (`.5` and `1.` are accepted, as Go's ParseFloat does). Returns
 * NaN for anything else, and for values that overflow to infinity.
 */
export function parseFloatText(bytes: Uint8Array, start: number, end: number): number {
  let index = start;
  const negative = bytes[index] === BYTE_MINUS;
  if (negative) index++;
  let mantissa = 0;
  let digitCount = 0;
  let fractionDigits = 0;
  let sawDot = false;
  for (; index < end; index++) {
    const byte = bytes[index] as number; // index < end <= bytes.length
    if (isDigit(byte)) {
      if (mantissa !== 0 || byte !== BYTE_0) digitCount++;
      mantissa = mantissa * 10 + (byte - BYTE_0);
      if (sawDot) fractionDigits++;
    } else if (byte === BYTE_DOT && !sawDot) {
      sawDot = true;
    } else break;
  }
  const mantissaLength = index - start - (negative ? 1 : 0) - (sawDot ? 1 : 0);
  if (mantissaLength === 0) return Number.NaN;
  let exponent = 0;
  if (index < end) {
    const exponentValue = parseExponent(bytes, index, end);
    if (Number.isNaN(exponentValue)) return Number.NaN;
    exponent = exponentValue;
  }
  const power = exponent - fractionDigits;
  let value: number;
  if (digitCount <= SAFE_DIGITS_MAX && Math.abs(power) <= EXACT_POWER_OF_TEN_MAX) {
    // Both operands are exact doubles, so one correctly rounded operation gives the right float.
    const scale = POWERS_OF_TEN[Math.abs(power)] as number; // |power| <= EXACT_POWER_OF_TEN_MAX
    value = power >= 0 ? mantissa * scale : mantissa / scale;
    if (negative) value = -value;
  } else {
    value = Number(latin1(bytes, start, end));
  }
  return Number.isFinite(value) ? value : Number.NaN;
}

/** `e` or `E`, an optional sign and digits, exactly filling [start, end); NaN otherwise. */
function parseExponent(bytes: Uint8Array, start: number, end: number): number {
  const marker = bytes[start];
  if (marker !== BYTE_E_LOWER && marker !== BYTE_E_UPPER) return Number.NaN;
  let index = start + 1;
  const sign = bytes[index];
  const negative = sign === BYTE_MINUS;
  if (negative || sign === BYTE_PLUS) index++;
  if (index >= end) return Number.NaN;
  const value = digitsValue(bytes, index, end);
  if (value < 0) return Number.NaN;
  return negative ? -value : value;
}

/**
 * Timestamp text in `precision` units -> microseconds since the epoch, exactly: nanoseconds are
 * floored to the microsecond (the last three digits are split off before any double arithmetic,
 * so 19-digit values lose nothing). Returns TIMESTAMP_BAD or TIMESTAMP_OUT_OF_RANGE on failure,
 * and TIMESTAMP_WIDE (the value in `wide`) for a time in range but beyond ±2^53 µs.
 */
export function parseTimestampMicros(bytes: Uint8Array, start: number, end: number, precision: LineProtocolPrecision, wide: Int64Parts): number {
  const negative = bytes[start] === BYTE_MINUS;
  const digitsStart = negative ? start + 1 : start;
  if (digitsStart >= end) return TIMESTAMP_BAD;
  // digitsValue rejects any non-digit (-1), so the digits are read in one pass.
  let micros: number;
  if (precision === 'ns') {
    const leadEnd = Math.max(digitsStart, end - 3);
    const lead = digitsValue(bytes, digitsStart, leadEnd);
    const tail = digitsValue(bytes, leadEnd, end);
    if (lead < 0 || tail < 0) return TIMESTAMP_BAD;
    if (lead > TIME_MICROS_ABS_MAX) return wideTimestampMicros(bytes, start, end, precision, wide);
    micros = negative ? -(lead + (tail > 0 ? 1 : 0)) : lead; // floor division by 1000
  } else {
    const value = digitsValue(bytes, digitsStart, end);
    if (value < 0) return TIMESTAMP_BAD;
    if (value > TIME_MICROS_ABS_MAX) return wideTimestampMicros(bytes, start, end, precision, wide);
    micros = value * MICROS_PER_PRECISION_UNIT[precision];
    if (negative) micros = -micros;
  }
  if (Math.abs(micros) > TIME_MICROS_ABS_MAX) return wideTimestampMicros(bytes, start, end, precision, wide);
  return micros === 0 ? 0 : micros; // no -0
}

/**
 * The slow path of parseTimestampMicros (times before 1684 or after 2255, and values out of
 * range), through BigInt: InfluxDB's range check on nanoseconds, then floored to microseconds.
 */
function wideTimestampMicros(bytes: Uint8Array, start: number, end: number, precision: LineProtocolPrecision, wide: Int64Parts): number {
  const negative = bytes[start] === BYTE_MINUS;
  let firstSignificant = negative ? start + 1 : start;
  while (firstSignificant < end - 1 && bytes[firstSignificant] === BYTE_0) firstSignificant++;
  if (end - firstSignificant > INT64_DIGITS_MAX) return TIMESTAMP_OUT_OF_RANGE; // no BigInt of any size
  const nanos = BigInt(latin1(bytes, start, end)) * NANOS_PER_PRECISION_UNIT[precision];
  if (nanos < MIN_NANO_TIME || nanos > MAX_NANO_TIME) return TIMESTAMP_OUT_OF_RANGE;
  let micros = nanos / 1000n; // truncates toward zero: floor for negative values below
  if (micros * 1000n > nanos) micros -= 1n;
  if (micros >= -BigInt(TIME_MICROS_ABS_MAX) && micros <= BigInt(TIME_MICROS_ABS_MAX)) return Number(micros);
  splitInt64(micros, wide);
  return TIMESTAMP_WIDE;
}
