// parseJsonExact keeps every digit of integers past 2^53 (as strings the caller reads by column
// type) and leaves everything else as JSON.parse reads it, digits inside strings included.
import { describe, expect, it } from 'vitest';
import { bigintOfJson, numberOfJson, parseJsonExact } from '../src/exact-json.js';

describe('parseJsonExact', () => {
  it('keeps int64 extremes and ns timestamps exact', () => {
    const parsed = parseJsonExact('[9223372036854775807,-9223372036854775808,1700000000000000001,9007199254740993]') as unknown[];
    expect(parsed.map(bigintOfJson)).toEqual([9223372036854775807n, -9223372036854775808n, 1700000000000000001n, 9007199254740993n]);
  });

  it('leaves short integers, fractions, exponents and strings as JSON.parse reads them', () => {
    const text = '{"a":[123456789012345,1.12345678901234567,12345678901234567.5,1e12345678901234567,-0.5e-12345678901234567,"x\\"12345678901234567","99999999999999999"],"b":true}';
    expect(parseJsonExact(text)).toEqual(JSON.parse(text));
  });

  it('reads a long integer as the double JSON.parse would give, for float columns', () => {
    const parsed = parseJsonExact('[100000000000000000000, 12345678901234567]') as unknown[];
    expect(parsed.map(numberOfJson)).toEqual([1e20, Number('12345678901234567')]);
  });

  it('reads non-integers as no bigint', () => {
    expect(bigintOfJson(1.5)).toBeNull();
    expect(bigintOfJson('12a')).toBeNull();
    expect(bigintOfJson(null)).toBeNull();
    expect(numberOfJson('x')).toBeNull();
  });
});
