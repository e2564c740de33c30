/**
 * Timestamps arrive as integers (or floats) in seconds, milliseconds, microseconds or nanoseconds;
 * the unit is inferred from the magnitude, as Arc does, and everything is stored as int64
 * microseconds since the Unix epoch, UTC.
 */
export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_HOUR = 3_600_000_000;

/** Magnitudes below these are read as seconds, milliseconds, microseconds; anything larger is ns. */
const SECONDS_BELOW = 1e10;
const MILLIS_BELOW = 1e13;
const MICROS_BELOW = 1e16;

/** Microsecond values are kept in doubles; beyond this they would lose precision (year 2255). */
export const TIME_MICROS_ABS_MAX = Number.MAX_SAFE_INTEGER;

/** Returns microseconds, or NaN when the value is not a finite timestamp in range. */
export function timestampToMicros(value: number): number {
  if (!Number.isFinite(value)) return Number.NaN;
  const magnitude = Math.abs(value);
  let micros: number;
  if (magnitude < SECONDS_BELOW) micros = value * MICROS_PER_SECOND;
  else if (magnitude < MILLIS_BELOW) micros = value * 1000;
  else if (magnitude < MICROS_BELOW) micros = value;
  else micros = value / 1000;
  // Floats like 1697472000.123456 s are not exact in binary: round to the nearest microsecond.
  micros = Number.isInteger(micros) ? micros : Math.floor(micros + 0.5);
  return Math.abs(micros) <= TIME_MICROS_ABS_MAX ? micros : Number.NaN;
}

/**
 * Exact conversion for a 64-bit integer given as (high 32 bits signed, low 32 bits unsigned), as
 * msgpack int64/uint64 carry nanosecond timestamps beyond 2^53. Returns NaN when out of range.
 */
export function int64TimestampToMicros(high: number, low: number): number {
  const approx = high * 4294967296 + low;
  if (Math.abs(approx) < MICROS_BELOW) return timestampToMicros(approx);
  // Nanoseconds: divide by 1000 without going through an inexact double of the whole value.
  const highQuotient = Math.floor(high / 1000);
  const highRemainder = high - highQuotient * 1000;
  const rest = highRemainder * 4294967296 + low; // < 1000 * 2^32: exact
  const micros = highQuotient * 4294967296 + Math.floor(rest / 1000);
  return Math.abs(micros) <= TIME_MICROS_ABS_MAX ? micros : Number.NaN;
}

/** Start of the UTC hour containing `micros`, in microseconds. */
export function hourStartMicros(micros: number): number {
  return Math.floor(micros / MICROS_PER_HOUR) * MICROS_PER_HOUR;
}

const MICROS_PER_HOUR_BIG = BigInt(MICROS_PER_HOUR);

/**
 * Start of the UTC hour of an int64 microsecond time given as (high signed, low unsigned) 32-bit
 * words, exactly: beyond ±2^53 (rare: years before 1684 or after 2255) through BigInt. Hour starts
 * are multiples of 2^10 below 2^63, so the result is always an exact double.
 */
export function hourStartOfParts(high: number, low: number): number {
  const approx = high * 4294967296 + (low >>> 0);
  if (Math.abs(approx) <= TIME_MICROS_ABS_MAX) return hourStartMicros(approx);
  const micros = (BigInt(high | 0) << 32n) | BigInt(low >>> 0);
  const floored = micros >= 0n ? micros / MICROS_PER_HOUR_BIG : -((-micros + MICROS_PER_HOUR_BIG - 1n) / MICROS_PER_HOUR_BIG);
  return Number(floored * MICROS_PER_HOUR_BIG);
}
