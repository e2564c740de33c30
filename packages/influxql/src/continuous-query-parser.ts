import assert from 'node:assert/strict';
import type { CreateContinuousQueryStatement, IntoClause, SelectStatement, Statement } from './ast.js';
import { TokenKind, type Token } from './lexer.js';
import { durationToNanos } from './time-values.js';
import { ParseFailure, TokenStream } from './token-stream.js';

/**
 * InfluxQL's continuous-query statements, with InfluxDB 1.6.7's grammar and errors (parse errors
 * name the token found and what was expected, with its position):
 *   CREATE CONTINUOUS QUERY <name> ON <db> [RESAMPLE [EVERY <d>] [FOR <d>]] BEGIN <select> END
 *   SHOW CONTINUOUS QUERIES
 *   DROP CONTINUOUS QUERY <name> ON <db>
 * The select must have INTO and GROUP BY time(); EVERY comes before FOR, and FOR is at least the
 * GROUP BY interval and EVERY. The SELECT itself is parsed by parser.ts (passed in: no cycle).
 */

/** parser.ts's SELECT parser with INTO required: the target, once FROM is read, is handed to `into`. */
export type SelectWithInto = (tokens: TokenStream, into: (clause: IntoClause) => void) => SelectStatement;

/** After `SHOW CONTINUOUS`. */
export function parseShowContinuousQueries(tokens: TokenStream): Statement {
  tokens.expectKeyword('QUERIES');
  return { kind: 'showContinuousQueries' };
}

/** After `DROP CONTINUOUS`. */
export function parseDropContinuousQuery(tokens: TokenStream): Statement {
  tokens.expectKeyword('QUERY');
  const name = tokens.expectIdentifier('identifier');
  // InfluxDB 1.6.7 places a missing ON one character past the end of the text (`char 32` for a
  // 30-character statement), unlike its other EOF errors: matched so clients see the same text.
  if (tokens.peek().kind === TokenKind.end) throw new ParseFailure('found EOF, expected ON', tokens.peek().offset + 1);
  tokens.expectKeyword('ON');
  return { kind: 'dropContinuousQuery', name, database: tokens.expectIdentifier('identifier') };
}

/** A duration, or null when the next token is none (left unread) or a zero one. */
function parseDuration(tokens: TokenStream): bigint | null {
  const token = tokens.peek();
  const nanos = token.kind === TokenKind.duration ? durationToNanos(token.text) : null;
  if (nanos === null) return null;
  tokens.advance();
  return nanos === 0n ? null : nanos;
}

/** `RESAMPLE [EVERY d] [FOR d]`: at least one, in that order (`EVERY 0s` reads as no EVERY, as in InfluxDB). */
function parseResample(tokens: TokenStream): { everyNanos: bigint | null; forNanos: bigint | null; text: string } {
  const start = tokens.peek().offset;
  if (!tokens.acceptKeyword('RESAMPLE')) return { everyNanos: null, forNanos: null, text: '' };
  const everyNanos = tokens.acceptKeyword('EVERY') ? parseDuration(tokens) : null;
  const forNanos = tokens.acceptKeyword('FOR') ? parseDuration(tokens) : null;
  if (everyNanos === null && forNanos === null) tokens.fail('EVERY, FOR');
  return { everyNanos, forNanos, text: tokens.text.slice(start, tokens.peek().offset).trim() };
}

/** The last token that starts before `offset` (InfluxDB names it when the SELECT lacks GROUP BY time()). */
function tokenBefore(text: string, offset: number): Token {
  const tokens = new TokenStream(text);
  let last = tokens.peek();
  while (tokens.peek().kind !== TokenKind.end && tokens.peek().offset < offset) last = tokens.advance();
  return last;
}

/** InfluxDB's shortest spelling of a duration (`1m`, `90m`, `30s`). */
export function formatDuration(nanos: bigint): string {
  const units: readonly [bigint, string][] = [
    [604_800_000_000_000n, 'w'],
    [86_400_000_000_000n, 'd'],
    [3_600_000_000_000n, 'h'],
    [60_000_000_000n, 'm'],
    [1_000_000_000n, 's'],
    [1_000_000n, 'ms'],
    [1000n, 'u'],
  ];
  for (const [size, unit] of units) if (nanos % size === 0n) return `${(nanos / size).toString()}${unit}`;
  return `${nanos.toString()}ns`;
}

/** After `CREATE CONTINUOUS`. */
export function parseCreateContinuousQuery(tokens: TokenStream, parseSelect: SelectWithInto): CreateContinuousQueryStatement {
  tokens.expectKeyword('QUERY');
  const name = tokens.expectIdentifier('identifier');
  tokens.expectKeyword('ON');
  const database = tokens.expectIdentifier('identifier');
  const resample = parseResample(tokens);
  tokens.expectKeyword('BEGIN');
  const selectOffset = tokens.peek().offset;
  tokens.expectKeyword('SELECT');
  const target: { into: IntoClause | null } = { into: null };
  const select = parseSelect(tokens, (clause) => {
    target.into = clause;
  });
  const endToken = tokens.peek();
  if (select.groupByTime === null) {
    const last = tokenBefore(tokens.text, endToken.offset);
    throw new ParseFailure(`found ${last.text}, expected GROUP BY time(...)`, last.offset);
  }
  tokens.expectKeyword('END');
  // parseSelect requires INTO when handed a target (`found FROM, expected INTO` otherwise).
  const { into } = target;
  assert.ok(into !== null, 'a continuous query has an INTO target');
  const interval = select.groupByTime.intervalNanos;
  const minimum = resample.everyNanos !== null && resample.everyNanos > interval ? resample.everyNanos : interval;
  if (resample.forNanos !== null && resample.forNanos < minimum) {
    throw new ParseFailure(`FOR duration must be >= GROUP BY time duration: must be a minimum of ${formatDuration(minimum)}, got ${formatDuration(resample.forNanos)}`, endToken.offset);
  }
  return {
    kind: 'createContinuousQuery',
    name,
    database,
    everyNanos: resample.everyNanos,
    forNanos: resample.forNanos,
    select,
    into: into.target,
    selectText: tokens.text.slice(selectOffset, endToken.offset).trim(),
    resampleText: resample.text,
    intoFromOffsetStart: into.offsetStart - selectOffset,
    intoFromOffsetEnd: into.offsetEnd - selectOffset,
  };
}
