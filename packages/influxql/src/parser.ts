import type { CardinalityOf, FillOption, GroupByTime, IntoClause, NameFilter, SelectField, SelectStatement, ShowOptions, Source, Statement } from './ast.js';
import { parseDelete, parseDropData } from './delete-statements.js';
import { parseExpression } from './expression-parser.js';
import { TokenKind } from './lexer.js';
import { STATEMENTS_MAX } from './limits.js';
import { durationToNanos } from './time-values.js';
import { isTimeZone } from './time-zones.js';
import { ParseFailure, TokenStream } from './token-stream.js';
import { parseCreateContinuousQuery, parseDropContinuousQuery, parseShowContinuousQueries } from './continuous-query-parser.js';

/** What Arc answers, for the messages that refuse everything else. */
export const SUPPORTED_STATEMENTS =
  'SELECT, SHOW DATABASES, SHOW MEASUREMENTS, SHOW SERIES, SHOW TAG KEYS, SHOW TAG VALUES, SHOW FIELD KEYS, SHOW RETENTION POLICIES, ' +
  'SHOW SERIES|MEASUREMENT|TAG KEY|FIELD KEY|TAG VALUES [EXACT] CARDINALITY, CREATE DATABASE, CREATE|SHOW|DROP CONTINUOUS QUERY, DELETE, DROP MEASUREMENT, DROP SERIES';

export interface QueryParseError {
  /** The full message for the client (`error parsing query: ...` or `unsupported InfluxQL: ...`). */
  readonly message: string;
  /** 1-based line and character of the offending token. */
  readonly line: number;
  readonly char: number;
}

/** Raised for valid InfluxQL that Arc does not implement; reported without "error parsing query". */
class Unsupported extends ParseFailure {}

function unsupported(construct: string, offset: number): Unsupported {
  return new Unsupported(`unsupported InfluxQL: ${construct}`, offset);
}

/** Parses a `;`-separated InfluxQL query; returns the statements or the first error. */
export function parseQuery(text: string): readonly Statement[] | QueryParseError {
  try {
    const tokens = new TokenStream(text);
    const statements: Statement[] = [];
    for (;;) {
      while (tokens.acceptOperator(';'));
      if (tokens.peek().kind === TokenKind.end) break;
      if (statements.length >= STATEMENTS_MAX) throw new ParseFailure(`more than ${String(STATEMENTS_MAX)} statements`, tokens.peek().offset);
      statements.push(parseStatement(tokens));
      if (tokens.peek().kind !== TokenKind.end && !tokens.isOperator(';')) tokens.fail(';');
    }
    if (statements.length === 0) tokens.fail('SELECT, SHOW or CREATE');
    return statements;
  } catch (error) {
    if (!(error instanceof ParseFailure)) throw error;
    return toParseError(text, error);
  }
}

export function isParseError(value: readonly Statement[] | QueryParseError): value is QueryParseError {
  return 'message' in value;
}

/** The error for `failure` in `text`: InfluxDB's message with its 1-based line and character. */
export function toParseError(text: string, failure: ParseFailure): QueryParseError {
  const before = text.slice(0, failure.offset);
  const line = before.split('\n').length;
  const char = failure.offset - before.lastIndexOf('\n');
  const message = failure instanceof Unsupported ? failure.message : `error parsing query: ${failure.message} at line ${String(line)}, char ${String(char)}`;
  return { message, line, char };
}

function parseStatement(tokens: TokenStream): Statement {
  const token = tokens.peek();
  if (tokens.acceptKeyword('SELECT')) return parseSelect(tokens);
  if (tokens.acceptKeyword('SHOW')) return parseShow(tokens);
  if (tokens.acceptKeyword('CREATE')) return parseCreate(tokens);
  if (tokens.acceptKeyword('DELETE')) return parseDelete(tokens);
  if (tokens.isKeyword('DROP')) return parseDrop(tokens);
  if (token.kind === TokenKind.identifier) {
    throw unsupported(`${token.text.toUpperCase()} statements (Arc answers ${SUPPORTED_STATEMENTS})`, token.offset);
  }
  return tokens.fail('SELECT, SHOW or CREATE');
}

function parseCreate(tokens: TokenStream): Statement {
  const offset = tokens.peek().offset;
  if (tokens.acceptKeyword('CONTINUOUS')) return parseCreateContinuousQuery(tokens, parseSelect);
  if (!tokens.acceptKeyword('DATABASE')) throw unsupported(`CREATE ${tokens.peek().text.toUpperCase()} (Arc answers CREATE DATABASE only)`, offset);
  const name = tokens.expectIdentifier('database name');
  if (tokens.isKeyword('WITH')) {
    throw unsupported('CREATE DATABASE ... WITH (retention policies are set through /api/v1/retention)', tokens.peek().offset);
  }
  return { kind: 'createDatabase', name };
}

/** DROP statements: DROP CONTINUOUS QUERY (continuous-query-parser.ts). */
/** `DROP CONTINUOUS QUERY`, `DROP MEASUREMENT`, `DROP SERIES`; any other DROP is a parse error naming them. */
function parseDrop(tokens: TokenStream): Statement {
  tokens.expectKeyword('DROP');
  if (tokens.acceptKeyword('CONTINUOUS')) return parseDropContinuousQuery(tokens);
  return parseDropData(tokens);
}

/** `into`: a continuous query's SELECT, whose INTO target is required and handed over; else INTO is refused. */
function parseSelect(tokens: TokenStream, into?: (clause: IntoClause) => void): SelectStatement {
  const fields = parseFields(tokens);
  const intoOffset = tokens.peek().offset;
  let target: Source | null = null;
  if (into !== undefined) {
    tokens.expectKeyword('INTO');
    target = parseSource(tokens, true);
  } else if (tokens.isKeyword('INTO')) throw unsupported('SELECT ... INTO', tokens.peek().offset);
  tokens.expectKeyword('FROM');
  const sources = parseSources(tokens);
  if (into !== undefined && target !== null) into({ target, offsetStart: intoOffset, offsetEnd: tokens.peek().offset });
  const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
  const groupBy = parseGroupBy(tokens);
  const fill = parseFill(tokens);
  const descending = parseOrderBy(tokens);
  const limit = parseLimit(tokens, 'LIMIT');
  const offset = tokens.acceptKeyword('OFFSET') ? tokens.expectInteger('OFFSET count') : 0;
  const seriesLimit = parseLimit(tokens, 'SLIMIT');
  const seriesOffset = tokens.acceptKeyword('SOFFSET') ? tokens.expectInteger('SOFFSET count') : 0;
  const timeZone = parseTimeZone(tokens);
  return { kind: 'select', fields, sources, where, ...groupBy, fill, descending, limit, offset, seriesLimit, seriesOffset, timeZone };
}

/** `tz('Europe/Paris')` closing a SELECT; null without it. */
function parseTimeZone(tokens: TokenStream): string | null {
  if (!tokens.isKeyword('TZ')) return null;
  tokens.advance();
  tokens.expectOperator('(');
  const token = tokens.peek();
  if (token.kind !== TokenKind.string) return tokens.fail('string');
  tokens.advance();
  if (!isTimeZone(token.text)) throw new ParseFailure(`unable to find time zone ${token.text}`, token.offset);
  tokens.expectOperator(')');
  return token.text;
}

/** `LIMIT n` / `SLIMIT n`; InfluxDB reads 0 as "no limit", so 0 becomes null here. */
function parseLimit(tokens: TokenStream, keyword: 'LIMIT' | 'SLIMIT'): number | null {
  if (!tokens.acceptKeyword(keyword)) return null;
  const count = tokens.expectInteger(`${keyword} count`);
  return count === 0 ? null : count;
}

function parseFields(tokens: TokenStream): SelectField[] {
  const fields: SelectField[] = [];
  do {
    if (tokens.isKeyword('DISTINCT')) throw unsupported('DISTINCT', tokens.peek().offset);
    const expr = parseExpression(tokens);
    const alias = tokens.acceptKeyword('AS') ? tokens.expectIdentifier('alias') : null;
    fields.push({ expr, alias });
  } while (tokens.acceptOperator(','));
  return fields;
}

function parseSources(tokens: TokenStream): Source[] {
  const sources: Source[] = [];
  do {
    if (tokens.acceptOperator('(')) sources.push(parseSubquery(tokens));
    else sources.push(parseSource(tokens));
  } while (tokens.acceptOperator(','));
  return sources;
}

/** `(SELECT ...)` in FROM, the `(` read; InfluxDB nests them, Arc one level. */
function parseSubquery(tokens: TokenStream): Source {
  const offsetStart = tokens.peek().offset;
  tokens.expectKeyword('SELECT');
  const subquery = parseSelect(tokens);
  const nested = subquery.sources.find((source) => source.subquery !== undefined);
  if (nested !== undefined) throw unsupported('subqueries inside a subquery (Arc answers one level)', tokens.peek().offset);
  const subqueryText = tokens.text.slice(offsetStart, tokens.peek().offset).trim();
  tokens.expectOperator(')');
  return { database: null, measurement: '', subquery, subqueryText };
}

/**
 * `m`, `rp.m`, `db.rp.m` or `db..m`, where `m` may be `/regex/` (every measurement it matches) or,
 * for INTO (`into`), `:MEASUREMENT` after a dot, as InfluxDB 1.6.7 allows it.
 */
function parseSource(tokens: TokenStream, into = false): Source {
  if (tokens.isOperator('/')) return { database: null, measurement: '', regex: tokens.regex() };
  // InfluxDB names what INTO lacks `identifier` (`INTO :MEASUREMENT` without a database or policy).
  const parts: string[] = [tokens.expectIdentifier(into ? 'identifier' : 'measurement')];
  while (parts.length < 3 && tokens.acceptOperator('.')) {
    if (tokens.isOperator('.')) {
      parts.push('');
      continue;
    }
    if (into && tokens.acceptOperator(':')) {
      tokens.expectKeyword('MEASUREMENT');
      const database = parts.length === 2 ? (parts[0] as string) : null;
      return { database, ...retentionPolicyOf(parts, parts.length === 2 ? 1 : 0), measurement: '', measurementBackReference: true };
    }
    if (tokens.isOperator('/')) {
      // `parts` starts with the first identifier, so parts[0] is there.
      const database = parts.length === 2 ? (parts[0] as string) : null;
      return { database, ...retentionPolicyOf(parts, parts.length === 2 ? 1 : 0), measurement: '', regex: tokens.regex() };
    }
    parts.push(tokens.expectIdentifier('measurement'));
  }
  const measurement = parts[parts.length - 1] as string;
  if (measurement === '') tokens.fail('measurement');
  return { database: parts.length === 3 ? (parts[0] as string) : null, ...retentionPolicyOf(parts, parts.length - 2), measurement };
}

/** `{ retentionPolicy }` when parts[index] names one (`db..m` names none). */
function retentionPolicyOf(parts: readonly string[], index: number): { retentionPolicy?: string } {
  const retentionPolicy = index >= 0 ? parts[index] : undefined;
  return retentionPolicy === undefined || retentionPolicy === '' ? {} : { retentionPolicy };
}

interface GroupByClause {
  readonly groupByTime: GroupByTime | null;
  readonly groupByTags: readonly string[];
  readonly groupByAllTags: boolean;
}

function parseGroupBy(tokens: TokenStream): GroupByClause {
  let groupByTime: GroupByTime | null = null;
  const groupByTags: string[] = [];
  let groupByAllTags = false;
  if (!tokens.acceptKeyword('GROUP')) return { groupByTime, groupByTags, groupByAllTags };
  tokens.expectKeyword('BY');
  do {
    const token = tokens.peek();
    if (tokens.acceptOperator('*')) groupByAllTags = true;
    else if (tokens.isOperator('/')) throw unsupported('regular expressions in GROUP BY (name the tags)', token.offset);
    else if (token.kind === TokenKind.identifier && token.text.toLowerCase() === 'time') {
      tokens.advance();
      if (!tokens.isOperator('(')) throw new ParseFailure('time() is a function and expects at least one argument', token.offset);
      if (groupByTime !== null) throw new ParseFailure('GROUP BY time() given twice', token.offset);
      groupByTime = parseGroupByTime(tokens);
    } else {
      groupByTags.push(tokens.expectIdentifier('tag key, time() or *'));
    }
  } while (tokens.acceptOperator(','));
  return { groupByTime, groupByTags, groupByAllTags };
}

/** `time(10m)` or `time(10m, 5m)` / `time(10m, -5m)`; the `time` keyword is already read. */
function parseGroupByTime(tokens: TokenStream): GroupByTime {
  tokens.expectOperator('(');
  const intervalOffset = tokens.peek().offset;
  const intervalNanos = parseDuration(tokens, 'time interval');
  if (intervalNanos <= 0n) throw new ParseFailure('GROUP BY time() interval must be positive', intervalOffset);
  let offsetNanos = 0n;
  if (tokens.acceptOperator(',')) {
    const negative = tokens.acceptOperator('-');
    if (tokens.isKeyword('NOW')) throw unsupported('GROUP BY time() with a now() offset', tokens.peek().offset);
    offsetNanos = parseDuration(tokens, 'offset duration') * (negative ? -1n : 1n);
  }
  tokens.expectOperator(')');
  return { intervalNanos, offsetNanos };
}

function parseDuration(tokens: TokenStream, what: string): bigint {
  const token = tokens.peek();
  const nanos = token.kind === TokenKind.duration ? durationToNanos(token.text) : null;
  if (nanos === null) return tokens.fail(what);
  tokens.advance();
  return nanos;
}

const FILL_KEYWORDS: ReadonlyMap<string, FillOption> = new Map<string, FillOption>([
  ['NULL', { kind: 'null' }],
  ['NONE', { kind: 'none' }],
  ['PREVIOUS', { kind: 'previous' }],
  ['LINEAR', { kind: 'linear' }],
]);

function parseFill(tokens: TokenStream): FillOption | null {
  if (!tokens.isKeyword('FILL')) return null;
  tokens.advance();
  tokens.expectOperator('(');
  const negative = tokens.acceptOperator('-');
  const token = tokens.advance();
  let fill: FillOption | undefined;
  if (token.kind === TokenKind.integer || token.kind === TokenKind.number) fill = { kind: 'value', value: Number(token.text) * (negative ? -1 : 1) };
  else if (token.kind === TokenKind.identifier && !negative) fill = FILL_KEYWORDS.get(token.text.toUpperCase());
  if (fill === undefined) throw new ParseFailure(`fill() takes null, none, previous, linear or a number; found ${token.text}`, token.offset);
  tokens.expectOperator(')');
  return fill;
}

/** `ORDER BY time [ASC|DESC]`; true when descending. */
function parseOrderBy(tokens: TokenStream): boolean {
  if (!tokens.acceptKeyword('ORDER')) return false;
  tokens.expectKeyword('BY');
  // `ORDER BY asc` / `ORDER BY desc` (Grafana's Telegraf dashboards send the former) mean time.
  if (tokens.acceptKeyword('DESC')) return true;
  if (tokens.acceptKeyword('ASC')) return false;
  const token = tokens.peek();
  const name = tokens.expectIdentifier('time');
  if (name.toLowerCase() !== 'time') throw unsupported(`ORDER BY ${name} (only ORDER BY time is supported)`, token.offset);
  if (tokens.acceptKeyword('DESC')) return true;
  tokens.acceptKeyword('ASC');
  if (tokens.isOperator(',')) throw unsupported('ORDER BY on several columns (only ORDER BY time is supported)', tokens.peek().offset);
  return false;
}

function parseShow(tokens: TokenStream): Statement {
  const token = tokens.peek();
  if (tokens.acceptKeyword('DATABASES')) return { kind: 'showDatabases' };
  if (tokens.acceptKeyword('CONTINUOUS')) return parseShowContinuousQueries(tokens);
  if (tokens.acceptKeyword('MEASUREMENTS')) return parseShowMeasurements(tokens);
  if (tokens.acceptKeyword('RETENTION')) {
    tokens.expectKeyword('POLICIES');
    return { kind: 'showRetentionPolicies', database: tokens.acceptKeyword('ON') ? tokens.expectIdentifier('database name') : null };
  }
  if (tokens.acceptKeyword('SERIES')) {
    if (tokens.isKeyword('EXACT') || tokens.isKeyword('CARDINALITY')) return parseCardinality(tokens, 'series');
    const onFrom = parseOnFrom(tokens);
    const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
    return { kind: 'showSeries', options: parseShowOptions(tokens, onFrom), where };
  }
  if (tokens.acceptKeyword('MEASUREMENT')) return parseCardinality(tokens, 'measurement');
  if (tokens.acceptKeyword('FIELD')) {
    if (tokens.acceptKeyword('KEY')) return parseCardinality(tokens, 'fieldKey');
    tokens.expectKeyword('KEYS');
    return { kind: 'showFieldKeys', options: parseShowOptions(tokens, parseOnFrom(tokens)) };
  }
  if (tokens.acceptKeyword('TAG')) {
    if (tokens.acceptKeyword('KEY')) return parseCardinality(tokens, 'tagKey');
    if (tokens.acceptKeyword('KEYS')) {
      const onFrom = parseOnFrom(tokens);
      const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
      return { kind: 'showTagKeys', options: parseShowOptions(tokens, onFrom), where };
    }
    tokens.expectKeyword('VALUES');
    if (tokens.isKeyword('CARDINALITY') || tokens.isKeyword('EXACT')) return parseCardinality(tokens, 'tagValues');
    return parseShowTagValues(tokens);
  }
  if (token.kind === TokenKind.identifier) throw unsupported(`SHOW ${token.text.toUpperCase()} (Arc answers ${SUPPORTED_STATEMENTS})`, token.offset);
  return tokens.fail('DATABASES, MEASUREMENTS, MEASUREMENT, SERIES, TAG, FIELD or RETENTION');
}

interface OnFrom {
  readonly database: string | null;
  readonly measurement: Source | null;
}

/** `[ON db] [FROM m]` of the SHOW statements. */
function parseOnFrom(tokens: TokenStream): OnFrom {
  const database = tokens.acceptKeyword('ON') ? tokens.expectIdentifier('database name') : null;
  if (!tokens.acceptKeyword('FROM')) return { database, measurement: null };
  const measurement = parseSource(tokens);
  if (tokens.isOperator(',')) throw unsupported('several measurements in SHOW ... FROM', tokens.peek().offset);
  return { database, measurement };
}

/** `[LIMIT n] [OFFSET n]` closing a SHOW statement. */
function parseShowOptions(tokens: TokenStream, onFrom: OnFrom): ShowOptions {
  if (tokens.isKeyword('WHERE')) throw unsupported('WHERE in this SHOW statement', tokens.peek().offset);
  const limit = parseLimit(tokens, 'LIMIT');
  const offset = tokens.acceptKeyword('OFFSET') ? tokens.expectInteger('OFFSET count') : 0;
  return { ...onFrom, limit, offset };
}

/**
 * `SHOW SERIES|MEASUREMENT|TAG KEY|FIELD KEY [EXACT] CARDINALITY [ON db] [FROM m] [WHERE ...]
 * [LIMIT n] [OFFSET n]` and `SHOW TAG VALUES [EXACT] CARDINALITY [ON db] [FROM m] WITH KEY ...
 * [WHERE ...]`, the keywords naming what is counted already read.
 */
function parseCardinality(tokens: TokenStream, of: CardinalityOf): Statement {
  const exact = tokens.acceptKeyword('EXACT');
  tokens.expectKeyword('CARDINALITY');
  const onFrom = parseOnFrom(tokens);
  let key: NameFilter | null = null;
  if (of === 'tagValues') {
    tokens.expectKeyword('WITH');
    tokens.expectKeyword('KEY');
    key = parseNameFilter(tokens, true);
  }
  const where = of !== 'fieldKey' && tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
  if (tokens.isKeyword('GROUP')) throw unsupported('GROUP BY in SHOW ... CARDINALITY', tokens.peek().offset);
  return { kind: 'showCardinality', of, exact, options: parseShowOptions(tokens, onFrom), key, where };
}

function parseShowMeasurements(tokens: TokenStream): Statement {
  const onFrom = parseOnFrom(tokens);
  if (onFrom.measurement !== null) throw unsupported('SHOW MEASUREMENTS FROM (use WITH MEASUREMENT = name)', tokens.peek().offset);
  let filter: NameFilter | null = null;
  if (tokens.acceptKeyword('WITH')) {
    tokens.expectKeyword('MEASUREMENT');
    filter = parseNameFilter(tokens, false);
  }
  const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
  return { kind: 'showMeasurements', options: parseShowOptions(tokens, onFrom), filter, where };
}

function parseShowTagValues(tokens: TokenStream): Statement {
  const onFrom = parseOnFrom(tokens);
  tokens.expectKeyword('WITH');
  tokens.expectKeyword('KEY');
  const key = parseNameFilter(tokens, true);
  const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
  return { kind: 'showTagValues', options: parseShowOptions(tokens, onFrom), key, where };
}

/** `= name`, `!= name`, `=~ /re/`, `!~ /re/`, and with `allowIn` also `IN (a, b)`. */
function parseNameFilter(tokens: TokenStream, allowIn: boolean): NameFilter {
  if (tokens.acceptOperator('=~')) return { kind: 'match', ...tokens.regex() };
  if (tokens.acceptOperator('!~')) return { kind: 'notMatch', ...tokens.regex() };
  if (tokens.acceptOperator('=')) {
    // InfluxDB reads `WITH MEASUREMENT = /re/` as a match.
    if (!allowIn && tokens.isOperator('/')) return { kind: 'match', ...tokens.regex() };
    return { kind: 'equal', value: expectName(tokens) };
  }
  if (tokens.acceptOperator('!=') || tokens.acceptOperator('<>')) return { kind: 'notEqual', value: expectName(tokens) };
  if (allowIn && tokens.acceptKeyword('IN')) {
    tokens.expectOperator('(');
    const values: string[] = [];
    do values.push(expectName(tokens));
    while (tokens.acceptOperator(','));
    tokens.expectOperator(')');
    return { kind: 'in', values };
  }
  return tokens.fail(allowIn ? '=, !=, =~, !~ or IN' : '=, !=, =~ or !~');
}

/** A name given as an identifier or a string (`WITH KEY = "host"` and `= 'host'` both occur). */
function expectName(tokens: TokenStream): string {
  const token = tokens.peek();
  if (token.kind === TokenKind.string) {
    tokens.advance();
    return token.text;
  }
  return tokens.expectIdentifier('name');
}
