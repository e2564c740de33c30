// Proves the line builder every import driver shares: InfluxDB's escapes for names and tag
// values, each field type's spelling, rows with nothing to store, and a line break in a name or
// tag value refused (line protocol has no escape for it) while a string field keeps one.
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { fieldValueText, lineOf } from '../src/line-protocol.js';

describe('lineOf', () => {
  it('escapes the measurement, tag keys and values, and field keys as line protocol does', () => {
    const line = lineOf('cpu load,x', [['host name', 'a=b,c'], ['empty', '']], [['us er', { kind: 'float', value: 1.5 }]], 7n);
    expect(line).toBe('cpu\\ load\\,x,host\\ name=a\\=b\\,c us\\ er=1.5 7');
  });

  it('spells each field type: floats keep a decimal point, integers i, unsigned u, quoted strings, t/f', () => {
    expect(fieldValueText({ kind: 'float', value: 5 })).toBe('5.0');
    expect(fieldValueText({ kind: 'float', value: Number.NaN })).toBeNull();
    expect(fieldValueText({ kind: 'integer', value: -9223372036854775808n })).toBe('-9223372036854775808i');
    expect(fieldValueText({ kind: 'unsigned', value: 18446744073709551615n })).toBe('18446744073709551615u');
    expect(fieldValueText({ kind: 'string', value: 'say "hi" \\ there\nnext' })).toBe('"say \\"hi\\" \\\\ there\nnext"');
    expect(fieldValueText({ kind: 'boolean', value: false })).toBe('f');
  });

  it('answers null for a row whose every field has no value to store', () => {
    expect(lineOf('m', [], [['f', { kind: 'float', value: Number.POSITIVE_INFINITY }]], 1n)).toBeNull();
  });

  it('refuses a line break in a name or a tag value with ARC_IMPORT_LINE_BREAK naming where', () => {
    const cases: [() => unknown, string][] = [
      [() => lineOf('a\nb', [], [['f', { kind: 'integer', value: 1 }]], 1n), 'the measurement name'],
      [() => lineOf('m', [['host', 'x\r\ny']], [['f', { kind: 'integer', value: 1 }]], 1n), "the value of tag 'host'"],
      [() => lineOf('m', [['ho\nst', 'x']], [['f', { kind: 'integer', value: 1 }]], 1n), 'a tag key'],
      [() => lineOf('m', [], [['f\n', { kind: 'integer', value: 1 }]], 1n), 'a field key'],
    ];
    for (const [build, where] of cases) {
      let caught: unknown = null;
      try {
        build();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ArcError);
      expect((caught as ArcError).code).toBe('ARC_IMPORT_LINE_BREAK');
      expect((caught as ArcError).message).toContain(where);
    }
    expect(lineOf('m', [], [['s', { kind: 'string', value: 'two\nlines' }]], 1n)).toBe('m s="two\nlines" 1');
  });
});
