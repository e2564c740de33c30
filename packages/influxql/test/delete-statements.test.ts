import { describe, expect, it } from 'vitest';
import { isParseError, parseQuery } from '@arc/influxql';

// Proves the parser reads DELETE, DROP SERIES and DROP MEASUREMENT as InfluxDB 1.6.7 does and
// refuses their bad forms with its messages and positions (recorded against a real influxd).

const REFUSED: readonly (readonly [string, string])[] = [
  ['DELETE', 'error parsing query: found EOF, expected FROM, WHERE at line 1, char 8'],
  ['DELETE FROM autogen.cpu', 'error parsing query: retention policy not supported at line 1, char 1'],
  ['DELETE FROM db2.autogen.cpu', 'error parsing query: retention policy not supported at line 1, char 1'],
  ['DELETE FROM cpu GROUP BY host', 'error parsing query: found GROUP, expected ; at line 1, char 17'],
  ['DELETE FROM cpu LIMIT 1', 'error parsing query: found LIMIT, expected ; at line 1, char 17'],
  ["DROP MEASUREMENT cpu WHERE host = 'a'", 'error parsing query: found WHERE, expected ; at line 1, char 22'],
  ['DROP MEASUREMENT /^c/', 'error parsing query: found /, expected identifier at line 1, char 18'],
  ['DROP MEASUREMENT autogen.cpu', 'error parsing query: found ., expected ; at line 1, char 25'],
  ['DROP MEASUREMENT', 'error parsing query: found EOF, expected identifier at line 1, char 18'],
  ['DROP SERIES FROM autogen.cpu', 'error parsing query: retention policy not supported at line 1, char 1'],
  ['DROP SERIES', 'error parsing query: found EOF, expected FROM, WHERE at line 1, char 13'],
];

describe('DELETE / DROP parsing', () => {
  it.each(REFUSED)('refuses %j', (query, message) => {
    const parsed = parseQuery(query);
    expect(isParseError(parsed) ? parsed.message : parsed).toBe(message);
  });

  it('reads sources, regexes and WHERE', () => {
    expect(parseQuery("DELETE FROM cpu, /^m/ WHERE host = 'a'")).toEqual([
      {
        kind: 'delete',
        sources: [{ database: null, measurement: 'cpu' }, { database: null, measurement: '', regex: { pattern: '^m', offset: 17 } }],
        where: { kind: 'binary', operator: '=', left: { kind: 'identifier', name: 'host', offset: 28 }, right: { kind: 'string', value: 'a' }, offset: 33 },
      },
    ]);
    expect(parseQuery('DELETE WHERE time < now()')).toMatchObject([{ kind: 'delete', sources: null }]);
    expect(parseQuery('DROP SERIES FROM "cpu"')).toEqual([{ kind: 'dropSeries', sources: [{ database: null, measurement: 'cpu' }], where: null }]);
    expect(parseQuery('drop measurement "cpu"')).toEqual([{ kind: 'dropMeasurement', name: 'cpu' }]);
  });
});
