import type { JsonWriter } from './json-writer.js';

export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND;
const SECONDS_PER_DAY = 86_400;
const DAYS_PER_ERA = 146_097;
/** Days from 0000-03-01 (start of the proleptic era the algorithm counts in) to 1970-01-01. */
const EPOCH_SHIFT_DAYS = 719_468;
const QUOTE = 0x22;
/**
 * Longest instant written: quotes, a signed 7-digit year (DuckDB's range ends in year 294247),
 * `-MM-DDTHH:MM:SS`, a point and 9 fraction digits, `Z`. Reserved once per value.
 */
export const INSTANT_BYTES_MAX = 2 + 8 + 15 + 10 + 1;
/** Longest `"YYYY-MM-DDTHH:MM:SS` (the opening quote included) an InstantCache holds. */
const SECOND_PREFIX_BYTES_MAX = 1 + 8 + 15;
/** Bytes `JsonWriter.putWords` may read past a text: the texts it copies are kept with this many more. */
const WORD_SLACK_BYTES = 3;

/** Three ASCII digits for each of 0..999: microsecond fractions are written three at a time. */
// Read at `3 * (0..999)` and the two bytes after (putFraction): in bounds, so read `as number`.
const DIGIT_TRIPLES: Uint8Array = (() => {
  const triples = new Uint8Array(3000);
  for (let value = 0; value < 1000; value++) {
    triples[value * 3] = 0x30 + Math.floor(value / 100);
    triples[value * 3 + 1] = 0x30 + (Math.floor(value / 10) % 10);
    triples[value * 3 + 2] = 0x30 + (value % 10);
  }
  return triples;
})();

/** ASCII digit `place` (100, 10 or 1) of 0..999. */
function digitOf(value: number, place: number): number {
  return 0x30 + (Math.floor(value / place) % 10);
}

/**
 * The 4 bytes `.ddd` (a point and three digits) of each of 0..999 as a little-endian word: the
 * first half of a microsecond fraction, stored at once.
 */
const POINT_TRIPLE_WORDS = Uint32Array.from({ length: 1000 }, (_, value) =>
  (0x2e | (digitOf(value, 100) << 8) | (digitOf(value, 10) << 16) | (digitOf(value, 1) << 24)) >>> 0,
);
/** The 4 bytes `dddZ` of each of 0..999: the second half of a microsecond fraction and the `Z` after it. */
const TRIPLE_ZULU_WORDS = Uint32Array.from({ length: 1000 }, (_, value) =>
  (digitOf(value, 100) | (digitOf(value, 10) << 8) | (digitOf(value, 1) << 16) | (0x5a << 24)) >>> 0,
);

/**
 * Calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`), kept for
 * the last day seen: rows of a time series mostly share the day, so the division work is skipped.
 */
class CivilDay {
  days = Number.NaN;
  year = 0;
  month = 0;
  day = 0;

  set(days: number): void {
    if (days === this.days) return;
    this.days = days;
    const shifted = days + EPOCH_SHIFT_DAYS;
    const era = Math.floor(shifted / DAYS_PER_ERA);
    const dayOfEra = shifted - era * DAYS_PER_ERA;
    const yearOfEra = Math.floor(
      (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
    );
    const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const monthShifted = Math.floor((5 * dayOfYear + 2) / 153);
    this.day = dayOfYear - Math.floor((153 * monthShifted + 2) / 5) + 1;
    this.month = monthShifted < 10 ? monthShifted + 3 : monthShifted - 9;
    this.year = yearOfEra + era * 400 + (this.month <= 2 ? 1 : 0);
  }
}

const civil = new CivilDay();

/** Writes YYYY-MM-DD; the caller reserved INSTANT_BYTES_MAX. */
function putYearMonthDay(out: JsonWriter, days: number): void {
  civil.set(days);
  // RFC 3339 has four-digit years only; years outside 0..9999 keep their sign and digits.
  if (civil.year >= 0 && civil.year <= 9999) {
    out.putTwoDigits(Math.floor(civil.year / 100));
    out.putTwoDigits(civil.year % 100);
  } else {
    out.putInteger(civil.year);
  }
  out.putByte(0x2d);
  out.putTwoDigits(civil.month);
  out.putByte(0x2d);
  out.putTwoDigits(civil.day);
}

/** Writes `"YYYY-MM-DD"` for a DATE stored as days since 1970-01-01. */
export function writeDate(out: JsonWriter, days: number): void {
  out.reserve(INSTANT_BYTES_MAX);
  out.putByte(QUOTE);
  putYearMonthDay(out, days);
  out.putByte(QUOTE);
}

/** Writes `"YYYY-MM-DDTHH:MM:SS` (no fraction, no closing `Z"`); the caller reserved INSTANT_BYTES_MAX. */
function putSecondPrefix(out: JsonWriter, days: number, secondOfDay: number): void {
  out.putByte(QUOTE);
  putYearMonthDay(out, days);
  out.putByte(0x54);
  const hour = Math.floor(secondOfDay / 3600);
  const minute = Math.floor((secondOfDay - hour * 3600) / 60);
  out.putTwoDigits(hour);
  out.putByte(0x3a);
  out.putTwoDigits(minute);
  out.putByte(0x3a);
  out.putTwoDigits(secondOfDay - hour * 3600 - minute * 60);
}

/** Writes `fraction` as `fractionDigits` digits after a point, or nothing when it is zero. */
function putFraction(out: JsonWriter, fraction: number, fractionDigits: number): void {
  if (fraction === 0) return;
  out.putByte(0x2e);
  if (fractionDigits === 6) {
    const high = Math.floor(fraction / 1000) * 3;
    const low = (fraction - Math.floor(fraction / 1000) * 1000) * 3;
    const bytes = out.bytes;
    let at = out.length;
    bytes[at++] = DIGIT_TRIPLES[high] as number;
    bytes[at++] = DIGIT_TRIPLES[high + 1] as number;
    bytes[at++] = DIGIT_TRIPLES[high + 2] as number;
    bytes[at++] = DIGIT_TRIPLES[low] as number;
    bytes[at++] = DIGIT_TRIPLES[low + 1] as number;
    bytes[at++] = DIGIT_TRIPLES[low + 2] as number;
    out.length = at;
    return;
  }
  out.putPadded(fraction, fractionDigits);
}

/**
 * Writes `"YYYY-MM-DDTHH:MM:SS[.fraction]Z"`. The fraction has `fractionDigits` digits and is left
 * out when zero, so whole seconds read as `...T16:00:00Z`.
 */
export function writeInstant(out: JsonWriter, days: number, secondOfDay: number, fraction: number, fractionDigits: number): void {
  out.reserve(INSTANT_BYTES_MAX);
  putSecondPrefix(out, days, secondOfDay);
  putFraction(out, fraction, fractionDigits);
  out.putByte(0x5a);
  out.putByte(QUOTE);
}

/**
 * The text `"YYYY-MM-DDTHH:MM:SS` of the last whole second a column wrote. Rows of a time series
 * come in time order, many to a second, so most timestamps copy these ~20 bytes (a word at a
 * time) and only format their fraction. One per column (each column has its own last second).
 */
export class InstantCache {
  second = Number.NaN;
  /** The prefix's bytes, and WORD_SLACK_BYTES more for `putWords` to read. */
  private readonly prefix = new DataView(new ArrayBuffer(SECOND_PREFIX_BYTES_MAX + WORD_SLACK_BYTES));
  private prefixLength = 0;
  /**
   * Rows of a grouped result (`GROUP BY time, host`) repeat each timestamp many times. The second
   * time a value comes in a row its text is kept, and further repeats copy it: values that never
   * repeat pay one comparison.
   */
  private lastMicros = Number.NaN;
  private keptMicros = Number.NaN;
  private readonly kept = new DataView(new ArrayBuffer(INSTANT_BYTES_MAX + WORD_SLACK_BYTES));
  private keptLength = 0;

  /**
   * Writes a timestamp of `micros` microseconds since the epoch (|micros| <= 2^53), in JSON's
   * quotes or, with `quoted` false, without them (CSV).
   */
  writeMicros(out: JsonWriter, micros: number, quoted = true): void {
    out.reserve(INSTANT_BYTES_MAX);
    const skip = quoted ? 0 : 1;
    if (micros === this.keptMicros) {
      out.putWords(this.kept, skip, this.keptLength - 2 * skip);
      return;
    }
    const start = out.length;
    this.writeNewMicros(out, micros, quoted);
    if (micros === this.lastMicros) this.keep(out, start, quoted, micros);
    this.lastMicros = micros;
  }

  /** Keeps the text just written at `out.bytes[start..length)`, always in its quoted form. */
  private keep(out: JsonWriter, start: number, quoted: boolean, micros: number): void {
    const kept = this.kept;
    const bytes = out.bytes;
    let at = 0;
    if (!quoted) kept.setUint8(at++, QUOTE);
    // `out.length` never passes the end of `out.bytes` (the writer's invariant).
    for (let index = start; index < out.length; index++) kept.setUint8(at++, bytes[index] as number);
    if (!quoted) kept.setUint8(at++, QUOTE);
    this.keptLength = at;
    this.keptMicros = micros;
  }

  /**
   * Writes the instant with the prefix of its second (copied when it is the last one), then the
   * fraction: `.ddd` and `dddZ` as two words, or `Z` alone for a whole second. Within the
   * INSTANT_BYTES_MAX reserved: a prefix of at most 24 bytes, copied as 24, then at most 9.
   */
  private writeNewMicros(out: JsonWriter, micros: number, quoted: boolean): void {
    const second = Math.floor(micros / MICROS_PER_SECOND);
    if (second === this.second) {
      const skip = quoted ? 0 : 1;
      out.putWords(this.prefix, skip, this.prefixLength - skip);
    } else {
      this.remember(out, second, quoted);
    }
    const fraction = micros - second * MICROS_PER_SECOND;
    if (fraction === 0) {
      out.putByte(0x5a);
    } else {
      // 0 < fraction < 10^6: integer division by `| 0`.
      const high = (fraction / 1000) | 0;
      out.putWord(POINT_TRIPLE_WORDS[high] as number);
      out.putWord(TRIPLE_ZULU_WORDS[fraction - high * 1000] as number);
    }
    if (quoted) out.putByte(QUOTE);
  }

  /** Writes the prefix of `second` the slow way and keeps a copy of it. */
  private remember(out: JsonWriter, second: number, quoted: boolean): void {
    const start = out.length;
    const days = Math.floor(second / SECONDS_PER_DAY);
    putSecondPrefix(out, days, second - days * SECONDS_PER_DAY);
    const bytes = out.bytes;
    const prefix = this.prefix;
    for (let index = start; index < out.length; index++) prefix.setUint8(index - start, bytes[index] as number);
    this.prefixLength = out.length - start;
    this.second = second;
    if (quoted) return;
    // Once a second at most: drop the opening quote just written.
    bytes.copyWithin(start, start + 1, out.length);
    out.length -= 1;
  }
}

/** Writes a timestamp given as microseconds since the epoch (|micros| <= 2^53). */
export function writeMicros(out: JsonWriter, micros: number): void {
  const days = Math.floor(micros / MICROS_PER_DAY);
  const microOfDay = micros - days * MICROS_PER_DAY;
  const secondOfDay = Math.floor(microOfDay / MICROS_PER_SECOND);
  writeInstant(out, days, secondOfDay, microOfDay - secondOfDay * MICROS_PER_SECOND, 6);
}

/** Writes a timestamp given as seconds since the epoch plus a sub-second fraction. */
export function writeSeconds(out: JsonWriter, seconds: number, fraction: number, fractionDigits: number): void {
  const days = Math.floor(seconds / SECONDS_PER_DAY);
  writeInstant(out, days, seconds - days * SECONDS_PER_DAY, fraction, fractionDigits);
}

/**
 * Writes a timestamp whose count does not fit a double exactly (nanoseconds, or microseconds
 * beyond year 2255): split with BigInt into whole seconds and a fraction of `unitsPerSecond`.
 */
export function writeBigTimestamp(out: JsonWriter, count: bigint, unitsPerSecond: bigint, fractionDigits: number): void {
  let seconds = count / unitsPerSecond;
  let fraction = count - seconds * unitsPerSecond;
  if (fraction < 0n) {
    seconds -= 1n;
    fraction += unitsPerSecond;
  }
  writeSeconds(out, Number(seconds), Number(fraction), fractionDigits);
}

/** DuckDB stores +infinity / -infinity timestamps as ±(2^63 - 1) and dates as ±(2^31 - 1). */
const TIMESTAMP_INFINITY = 2n ** 63n - 1n;
const DATE_INFINITY = 2 ** 31 - 1;

/** A DATE, or `"infinity"` / `"-infinity"`. */
export function writeDateOrInfinity(out: JsonWriter, days: number): void {
  if (days === DATE_INFINITY) out.ascii('"infinity"');
  else if (days === -DATE_INFINITY) out.ascii('"-infinity"');
  else writeDate(out, days);
}

/**
 * A timestamp counted in units of 1 / `unitsPerSecond` s that may not fit a double (the slow
 * path: milli- and nanosecond columns, infinities, years beyond 2255, nested values);
 * `fractionDigits` = digits of a unit.
 */
export function writeTimestampCount(out: JsonWriter, count: bigint, unitsPerSecond: bigint, fractionDigits: number): void {
  if (count === TIMESTAMP_INFINITY) out.ascii('"infinity"');
  else if (count === -TIMESTAMP_INFINITY) out.ascii('"-infinity"');
  else writeBigTimestamp(out, count, unitsPerSecond, fractionDigits);
}
