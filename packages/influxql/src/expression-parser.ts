import { COMPARISON_OPERATORS, type BinaryOperator, type Expr } from './ast.js';
import { TokenKind } from './lexer.js';
import { EXPRESSION_DEPTH_MAX } from './limits.js';
import { durationToNanos } from './time-values.js';
import { ParseFailure, type TokenStream } from './token-stream.js';

/** Binding strength of binary operators (InfluxQL's precedence: OR < AND < comparison < + - < * / %). */
const PRECEDENCE: ReadonlyMap<string, number> = new Map([
  ['OR', 1],
  ['AND', 2],
  ...COMPARISON_OPERATORS.map((operator) => [operator, 3] as const),
  ['+', 4],
  ['-', 4],
  ['*', 5],
  ['/', 5],
  ['%', 5],
]);

const REGEX_OPERATORS: ReadonlySet<string> = new Set(['=~', '!~']);
/** Keywords that cannot be bare names (quote them: `"from"`), as in InfluxDB's grammar. */
const RESERVED_WORDS: ReadonlySet<string> = new Set([
  'ALL', 'AND', 'AS', 'ASC', 'BY', 'DESC', 'FILL', 'FROM', 'GROUP', 'IN', 'INTO', 'LIMIT', 'OFFSET', 'ON', 'OR', 'ORDER', 'SELECT',
  'SHOW', 'SLIMIT', 'SOFFSET', 'WHERE', 'WITH',
]);
/** Casts a field reference may carry (`"v"::field`); Arc's columns have one type each, so they are read and dropped. */
const CASTS: ReadonlySet<string> = new Set(['FIELD', 'TAG', 'FLOAT', 'INTEGER', 'STRING', 'BOOLEAN', 'UNSIGNED']);

/** The binary operator at the look-ahead, if any. */
function peekBinaryOperator(tokens: TokenStream): BinaryOperator | null {
  const token = tokens.peek();
  if (token.kind === TokenKind.operator && PRECEDENCE.has(token.text)) return token.text as BinaryOperator;
  if (tokens.isKeyword('AND')) return 'AND';
  if (tokens.isKeyword('OR')) return 'OR';
  return null;
}

/** Precedence climbing over InfluxQL expressions (WHERE conditions and SELECT fields). */
export function parseExpression(tokens: TokenStream, depth = 0, minimumPrecedence = 1): Expr {
  if (depth > EXPRESSION_DEPTH_MAX) throw new ParseFailure(`expression nested deeper than ${String(EXPRESSION_DEPTH_MAX)} levels`, tokens.peek().offset);
  let left = parseUnary(tokens, depth + 1);
  for (;;) {
    const operator = peekBinaryOperator(tokens);
    const precedence = operator === null ? undefined : PRECEDENCE.get(operator);
    if (operator === null || precedence === undefined || precedence < minimumPrecedence) return left;
    const offset = tokens.advance().offset;
    const right = REGEX_OPERATORS.has(operator)
      ? ({ kind: 'regex', ...tokens.regex() } as const)
      : parseExpression(tokens, depth + 1, precedence + 1);
    left = { kind: 'binary', operator, left, right, offset };
  }
}

function parseUnary(tokens: TokenStream, depth: number): Expr {
  if (tokens.acceptOperator('-')) return { kind: 'unary', operator: '-', operand: parseUnary(tokens, depth + 1) };
  if (tokens.acceptOperator('+')) return parseUnary(tokens, depth + 1);
  return parsePrimary(tokens, depth);
}

function parsePrimary(tokens: TokenStream, depth: number): Expr {
  const token = tokens.peek();
  switch (token.kind) {
    case TokenKind.string:
      tokens.advance();
      return { kind: 'string', value: token.text };
    case TokenKind.integer:
    case TokenKind.number:
      tokens.advance();
      return { kind: 'number', value: Number(token.text), integer: token.kind === TokenKind.integer, text: token.text };
    case TokenKind.duration: {
      tokens.advance();
      const nanos = durationToNanos(token.text);
      if (nanos === null) throw new ParseFailure(`invalid duration ${token.text}`, token.offset);
      return { kind: 'duration', nanos, text: token.text };
    }
    case TokenKind.identifier:
      if (RESERVED_WORDS.has(token.text.toUpperCase())) return tokens.fail('identifier, string, number, bool');
      return parseName(tokens, depth);
    case TokenKind.quotedIdentifier:
      return parseName(tokens, depth);
    case TokenKind.operator:
      if (tokens.acceptOperator('*')) return { kind: 'star' };
      if (tokens.acceptOperator('(')) {
        const inner = parseExpression(tokens, depth + 1);
        tokens.expectOperator(')');
        return inner;
      }
      if (tokens.isOperator('/')) return { kind: 'regex', ...tokens.regex() };
      return tokens.fail('identifier, string, number, bool');
    case TokenKind.end:
      return tokens.fail('identifier, string, number, bool');
  }
}

/** An identifier, a call `name(args)`, `true`/`false`, or `now()`. */
function parseName(tokens: TokenStream, depth: number): Expr {
  const token = tokens.advance();
  if (token.kind === TokenKind.identifier && tokens.isOperator('(')) {
    tokens.advance();
    const args: Expr[] = [];
    if (!tokens.acceptOperator(')')) {
      do args.push(parseExpression(tokens, depth + 1));
      while (tokens.acceptOperator(','));
      tokens.expectOperator(')');
    }
    const name = token.text.toLowerCase();
    if (name === 'now' && args.length === 0) return { kind: 'now' };
    return { kind: 'call', name, args, offset: token.offset };
  }
  if (token.kind === TokenKind.identifier) {
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'boolean', value: upper === 'TRUE' };
  }
  if (tokens.acceptOperator('::')) {
    const castOffset = tokens.peek().offset;
    const cast = tokens.expectIdentifier('field, tag, float, integer, string or boolean').toUpperCase();
    if (!CASTS.has(cast)) throw new ParseFailure(`unsupported cast ::${cast.toLowerCase()}`, castOffset);
  }
  return { kind: 'identifier', name: token.text, offset: token.offset };
}
