/**
 * JSON.parse for answers whose integers may pass 2^53 (InfluxDB 1.x answers int64 fields and ns
 * timestamps as bare JSON numbers; Node 20's JSON.parse has no access to a number's source text).
 * Every integer literal of more than EXACT_DIGITS_MAX digits is turned into a string before
 * parsing, so its digits survive; the caller knows which values are numbers (their column's type)
 * and reads such a string with BigInt() or Number(). Numbers inside JSON strings are never touched:
 * the pattern consumes each string literal whole before it could look at its digits.
 */

/** Integers of at most 15 digits are below 2^53 (9007199254740992, 16 digits) and exact as doubles. */
const EXACT_DIGITS_MAX = 15;

// A string literal (its content captured as $1, so it is written back as it was), or an integer
// literal of 16+ digits standing alone (captured as $2, written back quoted): not after a digit,
// '.', exponent sign or letter, and not followed by a fraction, exponent or digit.
const LONG_INTEGER_OR_STRING = new RegExp(`"((?:[^"\\\\]|\\\\.)*)"|(?<![\\w.+-])(-?\\d{${String(EXACT_DIGITS_MAX + 1)},})(?![.eE\\d])`, 'g');

export function parseJsonExact(text: string): unknown {
  // One of the two groups is empty in each match: a string comes back as it was, a long integer
  // quoted. A replacement pattern, not a function: no call into JavaScript per string literal.
  const quoted = text.replace(LONG_INTEGER_OR_STRING, '"$1$2"');
  return JSON.parse(quoted) as unknown;
}

/** A JSON integer read by parseJsonExact as a bigint: a number (exact below 2^53) or the digits of a longer one. */
export function bigintOfJson(value: unknown): bigint | null {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return null;
}

/** A JSON number read by parseJsonExact as a double (a long integer's digits round as JSON.parse would round them). */
export function numberOfJson(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return null;
}
