import { INFLUXQL_TOKENS_MAX } from './limits.js';
import { DURATION_UNITS } from './time-values.js';

/**
 * InfluxQL tokens. Keywords are not a token kind of their own: a bare identifier is compared
 * with a keyword case-insensitively by the parser, the way InfluxDB's scanner treats them once
 * quoted identifiers are set apart (`"select"` is a name, `select` a keyword).
 */
export const TokenKind = {
  identifier: 'identifier',
  quotedIdentifier: 'quoted identifier',
  string: 'string',
  integer: 'integer',
  number: 'number',
  duration: 'duration',
  operator: 'operator',
  end: 'end of query',
} as const;
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

export interface Token {
  readonly kind: TokenKind;
  /** The identifier's name, the string's value (unescaped), the operator, or the literal's text. */
  readonly text: string;
  /** Offset of the token's first character in the query text. */
  readonly offset: number;
}

/** Operators, longest first so that `<=` wins over `<` (`:` is INTO's `db..:MEASUREMENT`). */
const OPERATORS = ['=~', '!~', '!=', '<>', '<=', '>=', '::', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', ';', '.', ':'] as const;

const IDENTIFIER_START = /[A-Za-z_]/;
const IDENTIFIER_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const WHITESPACE = /\s/;

export interface LexError {
  readonly message: string;
  readonly offset: number;
}

/**
 * Splits InfluxQL text into tokens. Regular expressions are not tokenized here: `/` is division
 * in expressions, so the parser asks for a regex (`scanRegex`) where the grammar allows one.
 */
export class Lexer {
  private readonly text: string;
  private position = 0;
  private produced = 0;

  constructor(text: string) {
    this.text = text;
  }

  /** The character at `index`; '' past the end of the text, which no character class matches. */
  private charAt(index: number): string {
    return this.text.charAt(index);
  }

  /** Offset of the next unread character (after skipping whitespace and comments). */
  get offset(): number {
    this.skipBlank();
    return this.position;
  }

  next(): Token | LexError {
    this.skipBlank();
    this.produced += 1;
    if (this.produced > INFLUXQL_TOKENS_MAX) return { message: `query has more than ${String(INFLUXQL_TOKENS_MAX)} tokens`, offset: this.position };
    const start = this.position;
    const char = this.text[start];
    if (char === undefined) return { kind: TokenKind.end, text: '', offset: start };
    if (char === '"') return this.quoted('"', TokenKind.quotedIdentifier);
    if (char === "'") return this.quoted("'", TokenKind.string);
    if (DIGIT.test(char) || (char === '.' && DIGIT.test(this.charAt(start + 1)))) return this.numberOrDuration();
    if (IDENTIFIER_START.test(char)) {
      while (IDENTIFIER_PART.test(this.charAt(this.position))) this.position += 1;
      return { kind: TokenKind.identifier, text: this.text.slice(start, this.position), offset: start };
    }
    for (const operator of OPERATORS) {
      if (this.text.startsWith(operator, start)) {
        this.position += operator.length;
        return { kind: TokenKind.operator, text: operator, offset: start };
      }
    }
    return { message: `found ${JSON.stringify(char)}, which is not part of InfluxQL`, offset: start };
  }

  /** Moves back to `offset` (a token the parser wants to re-read as a regex). */
  rewindTo(offset: number): void {
    this.position = offset;
  }

  /**
   * Reads `/pattern/` at the current position. As InfluxDB's scanner: `\/` is a slash, any other
   * backslash pair stays as written for the regex engine (so `\\/` is an escaped backslash, and
   * the slash after it ends the regex).
   */
  scanRegex(): { pattern: string; offset: number } | LexError {
    this.skipBlank();
    const start = this.position;
    if (this.text[start] !== '/') return { message: 'expected a regular expression /.../', offset: start };
    let pattern = '';
    for (let index = start + 1; index < this.text.length; index++) {
      const char = this.text.charAt(index); // index < text.length: never the empty string
      if (char === '\\' && index + 1 < this.text.length) {
        const escaped = this.text.charAt(index + 1); // index + 1 < text.length
        pattern += escaped === '/' ? '/' : `\\${escaped}`;
        index += 1;
      } else if (char === '/') {
        this.position = index + 1;
        return { pattern, offset: start };
      } else {
        pattern += char;
      }
    }
    return { message: 'unterminated regular expression', offset: start };
  }

  private skipBlank(): void {
    for (;;) {
      while (WHITESPACE.test(this.charAt(this.position))) this.position += 1;
      if (!this.text.startsWith('--', this.position)) return;
      const lineEnd = this.text.indexOf('\n', this.position);
      this.position = lineEnd === -1 ? this.text.length : lineEnd + 1;
    }
  }

  private quoted(quote: string, kind: TokenKind): Token | LexError {
    const start = this.position;
    let value = '';
    for (let index = start + 1; index < this.text.length; index++) {
      const char = this.text.charAt(index); // index < text.length: never the empty string
      if (char === '\\') {
        const escaped = this.text[index + 1];
        if (escaped === undefined) break;
        // InfluxQL unescapes \\ \' \" and \n; any other backslash stays as written.
        value += escaped === 'n' ? '\n' : escaped === '\\' || escaped === "'" || escaped === '"' ? escaped : `\\${escaped}`;
        index += 1;
      } else if (char === quote) {
        this.position = index + 1;
        return { kind, text: value, offset: start };
      } else {
        value += char;
      }
    }
    return { message: `unterminated ${kind === TokenKind.string ? 'string' : 'quoted identifier'}`, offset: start };
  }

  /** `12`, `1.5`, `1e3`, or an integer with a duration unit glued on (`10s`, `1700000000000ms`). */
  private numberOrDuration(): Token {
    const start = this.position;
    while (DIGIT.test(this.charAt(this.position))) this.position += 1;
    const integerEnd = this.position;
    if (this.text[this.position] === '.' && DIGIT.test(this.charAt(this.position + 1))) {
      this.position += 1;
      while (DIGIT.test(this.charAt(this.position))) this.position += 1;
    }
    const exponent = /^[eE][+-]?[0-9]+/.exec(this.text.slice(this.position, this.position + 24));
    if (exponent !== null) this.position += exponent[0].length;
    if (this.position !== integerEnd) return { kind: TokenKind.number, text: this.text.slice(start, this.position), offset: start };
    for (const unit of DURATION_UNITS) {
      if (!this.text.startsWith(unit, this.position)) continue;
      if (IDENTIFIER_PART.test(this.charAt(this.position + unit.length))) continue;
      this.position += unit.length;
      return { kind: TokenKind.duration, text: this.text.slice(start, this.position), offset: start };
    }
    return { kind: TokenKind.integer, text: this.text.slice(start, this.position), offset: start };
  }
}

export function isLexError(value: Token | LexError): value is LexError {
  return 'message' in value;
}
