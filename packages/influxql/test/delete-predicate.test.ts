import { describe, expect, it } from 'vitest';
import { parseDeletePredicate } from '@arc/influxql';

// Proves the InfluxDB 2.x delete predicate parser reads the documented forms (AND, parentheses,
// quoted keys and values, bare words kept as text) and refuses the rest with InfluxDB's messages
// and 0-based positions (upstream's parser tests: OR, regex operators, other operators, quotes).

describe('parseDeletePredicate', () => {
  it('reads ANDed rules, nested parentheses, quoted and bare keys and values', () => {
    expect(parseDeletePredicate('')).toEqual({ rules: [] });
    expect(parseDeletePredicate('_measurement="cpu" and ("host"="a b" AND region!=eu)')).toEqual({
      rules: [
        { key: '_measurement', operator: '=', value: 'cpu' },
        { key: 'host', operator: '=', value: 'a b' },
        { key: 'region', operator: '!=', value: 'eu' },
      ],
    });
    expect(parseDeletePredicate('abc=0x1231 AND d=2d AND e=-5i AND f=true')).toEqual({
      rules: [
        { key: 'abc', operator: '=', value: '0x1231' },
        { key: 'd', operator: '=', value: '2d' },
        { key: 'e', operator: '=', value: '-5i' },
        { key: 'f', operator: '=', value: 'true' },
      ],
    });
  });

  it.each([
    ['tag1="v1" and (tag2="v2" or tag3="v3")', 'the logical operator OR is not supported yet at position 25'],
    [' abc="opq" Or gender="male"', 'the logical operator OR is not supported yet at position 11'],
    ['abc=~"a"', 'operator: "=~" at position: 3 is not supported yet'],
    ['abc!~"a"', 'operator: "!~" at position: 3 is not supported yet'],
    ['abc>1000', 'invalid operator ">" at position: 3'],
    ["host='a'", `bad tag value: "'a'", at position 5`],
    ['(host="a"', 'extra ( seen'],
    ['host="a")', 'extra ) seen'],
    ['host="a" host="b"', 'bad logical expression, at position 9'],
  ])('refuses %j', (predicate, error) => {
    expect(parseDeletePredicate(predicate)).toEqual({ error });
  });
});
