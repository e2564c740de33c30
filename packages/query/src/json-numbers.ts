import assert from 'node:assert/strict';
import { INTEGER_BYTES_MAX } from './json-writer.js';
import type { JsonWriter } from './json-writer.js';

/**
 * JSON numbers above 2^53 lose digits in JavaScript (and most JSON parsers), so integers beyond
 * ±2^53 are written as strings. 64-bit values arrive as two 32-bit words; while the high word is
 * within ±2^21 the value is exact as a double and no BigInt is made.
 */
const WORD = 4_294_967_296;
const HIGH_WORD_SAFE = 0x20_0000;
const SAFE_BIG = 2n ** 53n;
const SAFE_DOUBLE = 2 ** 53;
const FLOAT32_DIGITS_MIN = 6;
const FLOAT32_DIGITS_MAX = 9;

export function writeBigInteger(out: JsonWriter, value: bigint): void {
  if (value <= SAFE_BIG && value >= -SAFE_BIG) {
    out.ascii(value.toString());
    return;
  }
  out.byte(0x22);
  out.ascii(value.toString());
  out.byte(0x22);
}

/** Signed 64-bit integer from its low (unsigned) and high (signed) words. */
export function writeInt64(out: JsonWriter, low: number, high: number): void {
  if (high >= -HIGH_WORD_SAFE && high < HIGH_WORD_SAFE) {
    out.integer(high * WORD + low);
    return;
  }
  writeBigInteger(out, (BigInt(high) << 32n) | BigInt(low));
}

/** Unsigned 64-bit integer from its low and high (both unsigned) words. */
export function writeUint64(out: JsonWriter, low: number, high: number): void {
  if (high < HIGH_WORD_SAFE) {
    out.integer(high * WORD + low);
    return;
  }
  writeBigInteger(out, (BigInt(high) << 32n) | BigInt(low));
}

/** A 128-bit integer from four little-endian unsigned words; `signed` for HUGEINT. */
export function int128Value(w0: number, w1: number, w2: number, w3: number, signed: boolean): bigint {
  const upper = (BigInt(w3) << 32n) | BigInt(w2);
  const lower = (BigInt(w1) << 32n) | BigInt(w0);
  return ((signed ? BigInt.asIntN(64, upper) : upper) << 64n) | lower;
}

/**
 * 128-bit integer (SUM of a BIGINT column is a HUGEINT, so this is common). Small values, the
 * usual case, are read from the low words as a double without a BigInt.
 */
export function writeInt128(out: JsonWriter, w0: number, w1: number, w2: number, w3: number, signed: boolean): void {
  if (w2 === 0 && w3 === 0 && w1 < HIGH_WORD_SAFE) {
    out.integer(w1 * WORD + w0);
    return;
  }
  const minusOne = 0xffff_ffff;
  if (signed && w2 === minusOne && w3 === minusOne && w1 >= WORD - HIGH_WORD_SAFE) {
    out.integer((w1 | 0) * WORD + w0);
    return;
  }
  writeBigInteger(out, int128Value(w0, w1, w2, w3, signed));
}

/**
 * A DECIMAL as an exact JSON number: the stored integer's digits with the point inserted, so
 * 12.30 stays 12.30 and never becomes 12.299999999999999. While the stored integer is within
 * ±2^53 the value has at most 16 significant digits and every JSON parser reads back the double
 * nearest to it; beyond, a parser would drop digits, so the same text is sent as a string (the
 * rule BIGINT follows).
 */
export function writeScaled(out: JsonWriter, value: number | bigint, scale: number): void {
  const quoted = value > SAFE_DOUBLE || value < -SAFE_DOUBLE;
  if (quoted) out.byte(0x22);
  writeScaledDigits(out, value, scale);
  if (quoted) out.byte(0x22);
}

/** The digits of a DECIMAL with the point inserted, never quoted. */
function writeScaledDigits(out: JsonWriter, value: number | bigint, scale: number): void {
  const negative = value < 0;
  const digits = (negative ? -value : value).toString();
  if (negative) out.byte(0x2d);
  if (scale === 0) {
    out.ascii(digits);
    return;
  }
  if (digits.length <= scale) {
    out.ascii('0.');
    for (let pad = digits.length; pad < scale; pad++) out.byte(0x30);
    out.ascii(digits);
    return;
  }
  out.ascii(digits.slice(0, digits.length - scale));
  out.byte(0x2e);
  out.ascii(digits.slice(digits.length - scale));
}

/**
 * A DOUBLE; NaN and ±Infinity have no JSON form and become null. Whole numbers (common in
 * metrics: 95.0, counters) skip Number#toString, which dominates the cost of writing doubles;
 * other values are looked up in the text cache first (gauges repeat their values).
 */
export function writeDouble(out: JsonWriter, value: number): void {
  doubleScratch[0] = value;
  writeDoubleWords(out, value, doubleScratchWords[0] as number, doubleScratchWords[1] as number);
}

/** One double and its two 32-bit words: the reads of words 0 and 1 are in bounds. */
const doubleScratch = new Float64Array(1);
const doubleScratchWords = new Uint32Array(doubleScratch.buffer);

/** `writeDouble` for a value whose two 32-bit words (little-endian) the caller already has. */
export function writeDoubleWords(out: JsonWriter, value: number, low: number, high: number): void {
  if (Number.isInteger(value) && value <= SAFE_DOUBLE && value >= -SAFE_DOUBLE) {
    out.integer(value);
    return;
  }
  if (doubleTexts.write(out, low, high)) return;
  // One reserve covers every way below, so the text stays in one block and `start` holds.
  out.reserve(NUMBER_TEXT_BYTES_MAX + 8);
  const start = out.length;
  if (value < SHORT_DECIMAL_MAX && value > -SHORT_DECIMAL_MAX && writeShortDecimal(out, value)) {
    doubleTexts.remember(out, low, high, start);
    return;
  }
  if (!Number.isFinite(value)) {
    out.ascii('null');
    return;
  }
  out.ascii(String(value));
  doubleTexts.remember(out, low, high, start);
}

/** Longest text of a double: `-1.7976931348623157e+308`. */
const NUMBER_TEXT_BYTES_MAX = 24;
/**
 * One entry of a NumberTextCache, laid out so a lookup reads one cache line and the text is
 * copied as whole words (up to 24 bytes from byte 8, the entry's end):
 *
 *   0     4      8                        31       32
 *   | low | high | text (up to 23 bytes)  | length |
 *
 * Texts of 24 bytes (negative, 17 digits, a three-digit exponent) are not kept.
 */
const ENTRY_BYTES = 32;
const ENTRY_WORDS = ENTRY_BYTES / 4;
const ENTRY_TEXT_AT = 8;
const ENTRY_LENGTH_AT = 31;
const ENTRY_TEXT_BYTES_MAX = ENTRY_LENGTH_AT - ENTRY_TEXT_AT;
/** Entries per set: a value lives in one of the two entries of its set (two-way set-associative). */
const ENTRIES_PER_SET = 2;
const SET_WORDS = ENTRY_WORDS * ENTRIES_PER_SET;
/**
 * Sets of a NumberTextCache (a power of two): 16,384 x 64 bytes, 1 MiB of memory. Direct-mapped
 * with 32,768 entries, two columns of ~1,800 distinct values collided on ~8% of their rows (each
 * collision a re-format); with two entries a set, three values must share a set to evict each other.
 */
const NUMBER_TEXT_CACHE_SETS = 16384;
/** A 32-bit hash shifted right by this is a set below NUMBER_TEXT_CACHE_SETS: reads by set are in bounds. */
const NUMBER_TEXT_CACHE_SHIFT = 32 - Math.log2(NUMBER_TEXT_CACHE_SETS);
assert.ok(Number.isInteger(NUMBER_TEXT_CACHE_SHIFT), 'the cache has a power of two of sets');
assert.ok(ENTRY_TEXT_BYTES_MAX < NUMBER_TEXT_BYTES_MAX, 'an entry holds every text but the longest');

/**
 * The text last written for a double, by a hash of its two 32-bit words. Values that need
 * Number#toString (17-digit ones such as 1.0230000000000001 from float arithmetic cost ~350 ns
 * each) are formatted once and then copied; a miss costs a hash and a 32-byte store. Keyed by
 * bits, not by value, so -0 and 0 (or two NaNs) never share an entry by accident. A set's first
 * entry is the one kept last: a new text moves it to the second (whose text is dropped).
 */
class NumberTextCache {
  /** Entries as bytes and, over the same memory, as 32-bit words (for the keys) and a DataView (to copy texts). */
  private readonly bytes = new Uint8Array(NUMBER_TEXT_CACHE_SETS * SET_WORDS * 4);
  private readonly words = new Uint32Array(this.bytes.buffer);
  private readonly data = new DataView(this.bytes.buffer);

  /** Writes the cached text of the double with words `low`, `high`; false when it is not cached. */
  write(out: JsonWriter, low: number, high: number): boolean {
    const words = this.words;
    let entry = (Math.imul(low ^ high, 0x9e37_79b1) >>> NUMBER_TEXT_CACHE_SHIFT) * SET_WORDS;
    if (words[entry] !== low || words[entry + 1] !== high) {
      entry += ENTRY_WORDS;
      if (words[entry] !== low || words[entry + 1] !== high) return false;
    }
    const at = entry * 4;
    // An empty entry has the key 0, 0 (the double 0) and length 0.
    const length = this.bytes[at + ENTRY_LENGTH_AT] as number;
    if (length === 0) return false;
    // The text's words end by the entry's end, inside the cache: room for putWords to read and write.
    out.reserve(ENTRY_BYTES - ENTRY_TEXT_AT);
    out.putWords(this.data, at + ENTRY_TEXT_AT, length);
    return true;
  }

  /** Keeps the text just written at `out.bytes[start..length)` for the double with words `low`, `high`. */
  remember(out: JsonWriter, low: number, high: number, start: number): void {
    const length = out.length - start;
    if (length > ENTRY_TEXT_BYTES_MAX || length <= 0) return;
    const words = this.words;
    const first = (Math.imul(low ^ high, 0x9e37_79b1) >>> NUMBER_TEXT_CACHE_SHIFT) * SET_WORDS;
    words.copyWithin(first + ENTRY_WORDS, first, first + ENTRY_WORDS);
    words[first] = low;
    words[first + 1] = high;
    const entries = this.bytes;
    entries[first * 4 + ENTRY_LENGTH_AT] = length;
    let at = first * 4 + ENTRY_TEXT_AT;
    const bytes = out.bytes;
    for (let index = start; index < out.length; index++) entries[at++] = bytes[index] as number;
  }
}

const doubleTexts = new NumberTextCache();
const floatTexts = new NumberTextCache();

/** Powers of ten for the fraction digits `writeShortDecimal` tries. */
const POWERS_OF_TEN = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] as const;
/** Fraction digits tried: as many as there are powers above 1, so `POWERS_OF_TEN[digits]` is in bounds. */
const SHORT_DECIMAL_DIGITS_MAX = POWERS_OF_TEN.length - 1;
/** Below this, value x 10^6 stays an exact integer far under 2^53. */
const SHORT_DECIMAL_MAX = 1e9;

/**
 * Metric values mostly have a few decimals (95.25, 0.123): writes them as digits without
 * Number#toString. The fewest fraction digits k with round(value x 10^k) / 10^k === value give
 * the shortest text that reads back as the same double, the text String(value) writes. Division
 * of two exact integers is correctly rounded, so the comparison is exact. Returns false (nothing
 * written) when no k up to 6 fits.
 */
function writeShortDecimal(out: JsonWriter, value: number): boolean {
  const magnitude = value < 0 ? -value : value;
  for (let digits = 1; digits <= SHORT_DECIMAL_DIGITS_MAX; digits++) {
    const power = POWERS_OF_TEN[digits] as number;
    const scaled = Math.round(magnitude * power);
    if (scaled / power !== magnitude) continue;
    let whole = Math.floor(scaled / power);
    let fraction = scaled - whole * power;
    if (fraction < 0) {
      whole -= 1;
      fraction += power;
    }
    out.reserve(INTEGER_BYTES_MAX + SHORT_DECIMAL_DIGITS_MAX + 2);
    if (value < 0) out.putByte(0x2d);
    out.putUnsigned(whole);
    out.putByte(0x2e);
    out.putPadded(fraction, digits);
    return true;
  }
  return false;
}

/**
 * A FLOAT with the fewest digits that read back as the same float32 (JS only knows doubles, so
 * String(0.1f) would print 0.10000000149011612).
 */
export function writeFloat(out: JsonWriter, value: number): void {
  if (!Number.isFinite(value)) {
    out.ascii('null');
    return;
  }
  doubleScratch[0] = value;
  const low = doubleScratchWords[0] as number;
  const high = doubleScratchWords[1] as number;
  if (floatTexts.write(out, low, high)) return;
  out.reserve(NUMBER_TEXT_BYTES_MAX);
  const start = out.length;
  out.ascii(shortestFloatText(value));
  floatTexts.remember(out, low, high, start);
}

function shortestFloatText(value: number): string {
  for (let digits = FLOAT32_DIGITS_MIN; digits < FLOAT32_DIGITS_MAX; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return String(candidate);
  }
  return String(Number(value.toPrecision(FLOAT32_DIGITS_MAX)));
}
