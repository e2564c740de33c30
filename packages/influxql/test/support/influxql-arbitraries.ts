import fc from 'fast-check';

/** Pieces of SELECT statements, combined at random: most combinations parse, many are odd. */
const FIELD = fc.constantFrom('usage', '"usage"', 'count', 'host', 'nosuch', '*', 'usage * 2', '-count', 'usage::field AS u', 'count + usage');
const AGGREGATE = fc.constantFrom(
  'mean(usage)', 'max(count)', 'min(usage)', 'sum(count)', 'count(*)', 'first(usage)', 'last(host)', 'median(count)',
  'percentile(usage, 90)', 'spread(usage)', 'stddev(count)', 'mean(host)', 'mean(nosuch)', 'mean(usage) * 100', 'derivative(usage)',
);
const OPERAND = fc.constantFrom('host', 'usage', 'count', 'nosuch', "'a'", "''", '5', '2.5', 'true', '"host"');
const COMPARISON = fc
  .tuple(OPERAND, fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>='), OPERAND)
  .map(([left, operator, right]) => `${left} ${operator} ${right}`);
const REGEX = fc.tuple(fc.constantFrom('host', 'usage', 'nosuch'), fc.constantFrom('=~', '!~'), fc.constantFrom('/^a/', '/b|c/', '/(?i)A/', '/x\\/y/')).map((parts) => parts.join(' '));
const TIME_BOUND = fc
  .tuple(fc.constantFrom('>', '>=', '<', '<=', '='), fc.constantFrom('now() - 1h', "'2023-11-14T22:13:20Z'", '1700000000s', '1700000010000000001', '0', 'now()', "'2023-11-14'"))
  .map(([operator, value]) => `time ${operator} ${value}`);
const { condition: CONDITION } = fc.letrec<{ condition: string }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    COMPARISON,
    REGEX,
    TIME_BOUND,
    fc.tuple(tie('condition'), fc.constantFrom('AND', 'OR'), tie('condition')).map(([left, operator, right]) => `(${left} ${operator} ${right})`),
  ),
}));
const GROUP_BY = fc.constantFrom('', 'GROUP BY host', 'GROUP BY *', 'GROUP BY time(10s)', 'GROUP BY time(1m, 10s), host', 'GROUP BY time(1h), nosuch');
const TAIL = fc.constantFrom('', 'fill(none)', 'fill(null)', 'fill(previous)', 'fill(linear)', 'fill(-1)', 'ORDER BY time DESC', 'LIMIT 1', 'LIMIT 2 OFFSET 1', 'SLIMIT 1 SOFFSET 1');
const SELECT = fc
  .tuple(fc.oneof(fc.array(FIELD, { minLength: 1, maxLength: 3 }), fc.array(AGGREGATE, { minLength: 1, maxLength: 3 })), fc.constantFrom('cpu', '"telegraf".."cpu"', 'nosuch', 'cpu, cpu'), fc.option(CONDITION), GROUP_BY, TAIL)
  .map(([fields, source, where, groupBy, tail]) => `SELECT ${fields.join(', ')} FROM ${source}${where === null ? '' : ` WHERE ${where}`} ${groupBy} ${tail}`);
const SHOW = fc.constantFrom(
  'SHOW DATABASES', 'SHOW MEASUREMENTS', 'SHOW TAG KEYS', 'SHOW FIELD KEYS FROM cpu', 'SHOW TAG VALUES WITH KEY = host', "SHOW TAG VALUES WITH KEY =~ /h/ WHERE usage > 1",
  "SHOW MEASUREMENTS WHERE host = 'a'", 'CREATE DATABASE x',
);
/** One to three `;`-separated statements over a measurement `cpu` (host, usage, count). */
export const influxqlQuery = fc.array(fc.oneof(SELECT, SELECT, SHOW), { minLength: 1, maxLength: 3 }).map((statements) => statements.join('; '));
