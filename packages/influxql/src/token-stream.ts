import type { RegexLiteral } from './ast.js';
import { Lexer, TokenKind, isLexError, type Token } from './lexer.js';

/**
 * A parse failure: InfluxDB's wording (`found X, expected Y`) and where. Thrown only inside the
 * parser, which turns it into a returned value at its entry point (parseQuery).
 */
export class ParseFailure extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ParseFailure';
    this.offset = offset;
  }
}

/** Describes a token the way InfluxDB's parser errors do (`found FORM, expected ...`). */
export function describeToken(token: Token): string {
  if (token.kind === TokenKind.end) return 'EOF';
  if (token.kind === TokenKind.string) return `'${token.text}'`;
  if (token.kind === TokenKind.quotedIdentifier) return `"${token.text}"`;
  return token.text;
}

/** One token of look-ahead over the lexer, with keyword and operator helpers. */
export class TokenStream {
  private readonly lexer: Lexer;
  private current: Token;
  /** The whole query (a continuous query keeps its SELECT's text). */
  readonly text: string;

  constructor(text: string) {
    this.text = text;
    this.lexer = new Lexer(text);
    this.current = this.read();
  }

  peek(): Token {
    return this.current;
  }

  advance(): Token {
    const token = this.current;
    this.current = this.read();
    return token;
  }

  isKeyword(keyword: string): boolean {
    return this.current.kind === TokenKind.identifier && this.current.text.toUpperCase() === keyword;
  }

  isOperator(operator: string): boolean {
    return this.current.kind === TokenKind.operator && this.current.text === operator;
  }

  acceptKeyword(keyword: string): boolean {
    if (!this.isKeyword(keyword)) return false;
    this.advance();
    return true;
  }

  acceptOperator(operator: string): boolean {
    if (!this.isOperator(operator)) return false;
    this.advance();
    return true;
  }

  expectKeyword(keyword: string): void {
    if (!this.acceptKeyword(keyword)) this.fail(keyword);
  }

  expectOperator(operator: string): void {
    if (!this.acceptOperator(operator)) this.fail(operator);
  }

  /** A name: bare or double-quoted identifier. */
  expectIdentifier(what = 'identifier'): string {
    const token = this.current;
    if (token.kind !== TokenKind.identifier && token.kind !== TokenKind.quotedIdentifier) this.fail(what);
    this.advance();
    return token.text;
  }

  expectInteger(what: string): number {
    const token = this.current;
    const value = Number(token.text);
    if (token.kind !== TokenKind.integer || !Number.isSafeInteger(value)) this.fail(what);
    this.advance();
    return value;
  }

  /** Reads `/re/` at the current position (the look-ahead token is re-read after it). */
  regex(): RegexLiteral {
    // The look-ahead already consumed the `/` as an operator: rewind to it.
    const start = this.current.offset;
    if (!this.isOperator('/')) this.fail('regex');
    this.lexer.rewindTo(start);
    const scanned = this.lexer.scanRegex();
    if ('message' in scanned) throw new ParseFailure(scanned.message, scanned.offset);
    this.current = this.read();
    return { pattern: scanned.pattern, offset: scanned.offset };
  }

  fail(expected: string): never {
    throw new ParseFailure(`found ${describeToken(this.current)}, expected ${expected}`, this.current.offset);
  }

  private read(): Token {
    const token = this.lexer.next();
    if (isLexError(token)) throw new ParseFailure(token.message, token.offset);
    return token;
  }
}
