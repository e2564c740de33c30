import { quoteLiteral } from '@arc/columnar';
import { DuckDBErrorType, readDuckDBError } from '@arc/errors';
import type { Expr, NameFilter, RegexLiteral, Statement } from './ast.js';
import type { SqlRunner } from './catalog-reader.js';
import { GENERATED_SQL_BYTES_MAX, VALID_REGEX_CACHE_MAX } from './limits.js';
import { ParseFailure } from './token-stream.js';
import { toParseError, type QueryParseError } from './parser.js';
import { rowsOf } from './series.js';
import { groupWithin } from './sql-text.js';

/**
 * InfluxQL's regular expressions are Go's `regexp` (RE2 syntax). Arc never runs them through
 * JavaScript's RegExp, whose syntax and semantics differ (`(?i)` is an error there, `\d` and
 * `$` differ): they are checked and matched by the engine's `regexp_matches`, which is RE2 too.
 */

/**
 * RE2's error texts (as the engine reports them) and the Go `regexp/syntax` texts InfluxDB
 * answers for the same error code; Go's parser is a port of RE2's, so the codes correspond one
 * to one and the offending part of the pattern after `: ` is the same.
 */
const GO_ERROR_TEXT: readonly (readonly [string, string])[] = [
  ['missing )', 'missing closing )'],
  ['missing ]', 'missing closing ]'],
  ['unexpected )', 'unexpected )'],
  ['invalid escape sequence', 'invalid escape sequence'],
  ['invalid character class range', 'invalid character class range'],
  ['invalid character class', 'invalid character class'],
  ['trailing \\', 'trailing backslash at end of expression'],
  ['no argument for repetition operator', 'missing argument to repetition operator'],
  ['invalid repetition size', 'invalid repeat count'],
  ['bad repetition operator', 'invalid nested repetition operator'],
  ['invalid perl operator', 'invalid or unsupported Perl syntax'],
  ['invalid UTF-8', 'invalid UTF-8'],
  ['invalid named capture group', 'invalid named capture'],
  ['pattern too large', 'expression too large'],
];

/** `<Type> Error: ` before DuckDB's text (packages/errors duckdb-errors.ts). */
const ERROR_HEAD_SUFFIX = ' Error: ';

const validPatterns = new Set<string>();

/** Every `/regex/` of the statements, in no particular order. */
export function regexLiterals(statements: readonly Statement[]): RegexLiteral[] {
  const found: RegexLiteral[] = [];
  const visitExpr = (expr: Expr | null): void => {
    if (expr === null) return;
    if (expr.kind === 'regex') found.push(expr);
    else if (expr.kind === 'binary') {
      visitExpr(expr.left);
      visitExpr(expr.right);
    } else if (expr.kind === 'unary') visitExpr(expr.operand);
    else if (expr.kind === 'call') expr.args.forEach(visitExpr);
  };
  const visitFilter = (filter: NameFilter | null): void => {
    if (filter !== null && (filter.kind === 'match' || filter.kind === 'notMatch')) found.push(filter);
  };
  for (const statement of statements) {
    if (statement.kind === 'select') {
      statement.fields.forEach((field) => visitExpr(field.expr));
      for (const source of statement.sources) if (source.regex !== undefined) found.push(source.regex);
      visitExpr(statement.where);
      continue;
    }
    if ('options' in statement && statement.options.measurement?.regex !== undefined) found.push(statement.options.measurement.regex);
    if ('where' in statement) visitExpr(statement.where);
    if (statement.kind === 'showMeasurements') visitFilter(statement.filter);
    if (statement.kind === 'showTagValues' || statement.kind === 'showCardinality') visitFilter(statement.key);
  }
  return found;
}

/**
 * Go's regexp refuses `\C` (RE2 accepts it: any byte), the one pattern RE2 takes that Go does
 * not among those a dashboard could send; null when the pattern has none.
 */
function goOnlyRefusal(pattern: string): string | null {
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] !== '\\') continue;
    if (pattern[index + 1] === 'C') return 'invalid escape sequence: `\\C`';
    index += 1;
  }
  return null;
}

/** Go's wording of an RE2 compile error (`missing ): (` -> "missing closing ): `(`"). */
function goErrorText(engineText: string): string {
  for (const [re2Text, goText] of GO_ERROR_TEXT) {
    if (!engineText.startsWith(re2Text)) continue;
    const rest = engineText.slice(re2Text.length);
    const part = rest.startsWith(': ') ? rest.slice(2) : rest;
    return `${goText}: \`${part}\``;
  }
  return engineText;
}

/** The engine's compile error for `pattern` (Go's wording), or null when it compiles. */
async function compileError(pattern: string, run: SqlRunner, database: string): Promise<string | null> {
  if (validPatterns.has(pattern)) return null;
  const refusal = goOnlyRefusal(pattern);
  if (refusal !== null) return refusal;
  try {
    await run(`SELECT regexp_matches('', ${quoteLiteral(pattern)})`, database, 1);
  } catch (error) {
    // RE2's compile errors are DuckDB's Invalid Input errors; anything else is not about the regex.
    const facts = readDuckDBError(error);
    if (facts.type !== DuckDBErrorType.invalidInput) throw error;
    return goErrorText(facts.message.slice(facts.type.length + ERROR_HEAD_SUFFIX.length));
  }
  if (validPatterns.size >= VALID_REGEX_CACHE_MAX) validPatterns.clear();
  validPatterns.add(pattern);
  return null;
}

/**
 * Checks every regex of the query with the engine before anything runs. A bad one refuses the
 * whole query as InfluxDB's parser does: `error parsing query: error parsing regexp: <Go's
 * text> at line L, char C`, C being where InfluxDB points (the character before the slash).
 */
export async function checkRegexes(text: string, statements: readonly Statement[], run: SqlRunner, database: string): Promise<QueryParseError | null> {
  const literals = regexLiterals(statements).sort((left, right) => left.offset - right.offset);
  for (const literal of literals) {
    const error = await compileError(literal.pattern, run, database);
    if (error !== null) return toParseError(text, new ParseFailure(`error parsing regexp: ${error}`, Math.max(0, literal.offset - 1)));
  }
  return null;
}

/** The names `filter` accepts, keeping their order; regexes are matched by the engine (RE2). */
export async function filterNames(names: readonly string[], filter: NameFilter, run: SqlRunner, database: string): Promise<string[]> {
  switch (filter.kind) {
    case 'equal':
      return names.filter((name) => name === filter.value);
    case 'notEqual':
      return names.filter((name) => name !== filter.value);
    case 'in':
      return names.filter((name) => filter.values.includes(name));
    default: {
      const matched = await regexMatches(names, filter.pattern, run, database);
      return names.filter((name) => matched.has(name) === (filter.kind === 'match'));
    }
  }
}

/** The names `pattern` matches (anywhere in the name, as Go's MatchString). */
export async function regexMatches(names: readonly string[], pattern: string, run: SqlRunner, database: string): Promise<Set<string>> {
  const matched = new Set<string>();
  const condition = `regexp_matches(name, ${quoteLiteral(pattern)})`;
  const listBytes = GENERATED_SQL_BYTES_MAX - Buffer.byteLength(condition);
  for (const batch of groupWithin(names.map((name) => `(${quoteLiteral(name)})`), ', ', listBytes)) {
    const sql = `SELECT name FROM (VALUES ${batch.join(', ')}) AS arc_names(name) WHERE ${condition}`;
    const result = await run(sql, database, batch.length);
    for (const [name] of rowsOf(result)) matched.add(String(name));
  }
  return matched;
}
