// Proves InfluxQL's continuous-query statements parse as InfluxDB 1.6.7 parses them: the refused
// statements of the research fixtures give its exact errors (message and position), the accepted
// ones parse, SHOW shows InfluxDB's normalised text, and a basic CQ becomes Arc SQL with window
// placeholders, while constructs Arc cannot run are refused with a statement error.
import { describe, expect, it } from 'vitest';
import type { CreateContinuousQueryStatement } from '../src/ast.js';
import { continuousQueryDefinition, showText } from '../src/continuous-query-statements.js';
import { isParseError, parseQuery } from '../src/parser.js';

const REFUSED: readonly (readonly [string, string])[] = [
  ['CREATE CONTINUOUS QUERY r_notime ON db1 BEGIN SELECT mean(value) INTO x FROM cpu END', 'error parsing query: found cpu, expected GROUP BY time(...) at line 1, char 78'],
  ['CREATE CONTINUOUS QUERY r_nointo ON db1 BEGIN SELECT mean(value) FROM cpu GROUP BY time(1m) END', 'error parsing query: found FROM, expected INTO at line 1, char 66'],
  ['CREATE CONTINUOUS QUERY r_nofrom ON db1 BEGIN SELECT mean(value) INTO x GROUP BY time(1m) END', 'error parsing query: found GROUP, expected FROM at line 1, char 73'],
  ['CREATE CONTINUOUS QUERY r_noend ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)', 'error parsing query: found EOF, expected END at line 1, char 98'],
  ['CREATE CONTINUOUS QUERY r_nobegin ON db1 SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found SELECT, expected BEGIN at line 1, char 42'],
  ['CREATE CONTINUOUS QUERY r_noon BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected ON at line 1, char 32'],
  ['CREATE CONTINUOUS QUERY r_two ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m); SELECT max(value) INTO y FROM cpu GROUP BY time(1m) END', 'error parsing query: found ;, expected END at line 1, char 96'],
  ['CREATE CONTINUOUS QUERY r_resample_empty ON db1 RESAMPLE BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected EVERY, FOR at line 1, char 58'],
  ['CREATE CONTINUOUS QUERY r_every_lt ON db1 RESAMPLE EVERY 0s BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found BEGIN, expected EVERY, FOR at line 1, char 61'],
  ['CREATE CONTINUOUS QUERY r_for_every_order ON db1 RESAMPLE FOR 2m EVERY 30s BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END', 'error parsing query: found EVERY, expected BEGIN at line 1, char 66'],
  ['SHOW CONTINUOUS QUERIES ON db1', 'error parsing query: found ON, expected ; at line 1, char 25'],
  ['SHOW CONTINUOUS QUERY', 'error parsing query: found QUERY, expected QUERIES at line 1, char 17'],
  ['DROP CONTINUOUS QUERY cq_basic', 'error parsing query: found EOF, expected ON at line 1, char 32'],
  ['DROP CONTINUOUS QUERIES ON db1', 'error parsing query: found QUERIES, expected QUERY at line 1, char 17'],
];

const ACCEPTED = [
  'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO cpu_1m_rs FROM cpu GROUP BY time(1m), host END',
  'CREATE CONTINUOUS QUERY cq_for ON db1 RESAMPLE FOR 3m BEGIN SELECT count(value) INTO cpu_1m_for FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY r_star_time ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY *, time(1m) END',
  'CREATE CONTINUOUS QUERY r_where_tag ON db1 BEGIN SELECT mean(value) INTO x FROM cpu WHERE host = \'a\' GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY "quoted name" ON "db1" BEGIN SELECT mean("value") INTO "x" FROM "cpu" GROUP BY time(1m) END',
  'create continuous query lower_case on db1 begin select mean(value) into lc from cpu group by time(1m) end',
  'CREATE CONTINUOUS QUERY r_param ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)END',
  'CREATE CONTINUOUS QUERY r_rp ON db1 BEGIN SELECT mean(value) INTO db1.rp_long.cpu_1m FROM cpu GROUP BY time(1m), * END',
  'DROP CONTINUOUS QUERY "quoted name" ON db1',
  'SHOW CONTINUOUS QUERIES',
];

function created(text: string): CreateContinuousQueryStatement {
  const parsed = parseQuery(text);
  if (isParseError(parsed)) throw new Error(parsed.message);
  const [statement] = parsed;
  if (statement?.kind !== 'createContinuousQuery') throw new Error('not a CREATE CONTINUOUS QUERY');
  return statement;
}

describe('continuous query statements', () => {
  it.each(REFUSED)('refuses %s as InfluxDB does', (text, message) => {
    const parsed = parseQuery(text);
    expect(isParseError(parsed) ? parsed.message : 'parsed').toBe(message);
  });

  it.each(ACCEPTED)('parses %s', (text) => {
    expect(isParseError(parseQuery(text))).toBe(false);
  });

  it('shows the normalised statement', () => {
    expect(showText(created('CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END'))).toBe(
      'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO db1.autogen.cpu_1m FROM db1.autogen.cpu GROUP BY time(1m) END',
    );
    expect(showText(created('CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO cpu_1m_rs FROM cpu GROUP BY time(1m), host END'))).toBe(
      'CREATE CONTINUOUS QUERY cq_resample ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT mean(value) INTO db1.autogen.cpu_1m_rs FROM db1.autogen.cpu GROUP BY time(1m), host END',
    );
  });

  it('translates a basic CQ into Arc SQL over one window', () => {
    const definition = continuousQueryDefinition(created("CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value), max(value) AS peak INTO cpu_1m FROM cpu WHERE host = 'a' AND time > now() - 1h GROUP BY time(1m), host END"), 'text');
    expect(definition).toEqual({
      name: 'db1.c',
      database: 'db1',
      sourceMeasurement: 'cpu',
      destinationMeasurement: 'cpu_1m',
      interval: '60s',
      description: 'text',
      query:
        'SELECT time_bucket(to_microseconds(60000000), "time", TIMESTAMP \'1970-01-01 00:00:00\') AS "time", "host", avg("value") AS "mean", max("value") AS "peak" FROM "cpu" WHERE "time" >= {start_time} AND "time" < {end_time} AND ("host" = \'a\' AND TRUE) GROUP BY 1, "host"',
    });
  });

  it.each([
    ['GROUP BY *', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m), * END'],
    ['an offset', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM cpu GROUP BY time(1h, 15m) END'],
    ['a raw field', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT value INTO x FROM cpu GROUP BY time(1m) END'],
    ['a regex FROM', 'CREATE CONTINUOUS QUERY c ON db1 BEGIN SELECT count(value) INTO x FROM /^c/ GROUP BY time(1m) END'],
  ])('refuses %s with a statement error', (_label, text) => {
    expect(() => continuousQueryDefinition(created(text), '')).toThrow(/not supported by Arc/);
  });
});
