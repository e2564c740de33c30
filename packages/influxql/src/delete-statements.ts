import type { DeleteStatement, Expr, Source } from './ast.js';
import { parseExpression } from './expression-parser.js';
import { TokenKind } from './lexer.js';
import { ParseFailure, type TokenStream } from './token-stream.js';

/**
 * Parsing of InfluxDB 1.x's data-removing statements, with its answers to bad ones (InfluxDB
 * 1.6.7's messages and positions): `DELETE` and `DROP SERIES` take `FROM` (measurements or
 * `/regex/`, no retention policy) and/or `WHERE`; `DROP MEASUREMENT` takes one name only.
 */

/** The statement after `DELETE` (the keyword read). */
export function parseDelete(tokens: TokenStream): DeleteStatement {
  return { kind: 'delete', ...parseFromWhere(tokens) };
}

/** The statement after `DROP` (the keyword read): `MEASUREMENT m` or `SERIES ...`. */
export function parseDropData(tokens: TokenStream): DeleteStatement {
  if (tokens.acceptKeyword('MEASUREMENT')) {
    failAtEnd(tokens, 'identifier');
    return { kind: 'dropMeasurement', name: tokens.expectIdentifier('identifier') };
  }
  if (tokens.acceptKeyword('SERIES')) return { kind: 'dropSeries', ...parseFromWhere(tokens) };
  return tokens.fail('CONTINUOUS, MEASUREMENT, SERIES');
}

function parseFromWhere(tokens: TokenStream): { sources: Source[] | null; where: Expr | null } {
  const sources = tokens.acceptKeyword('FROM') ? parseDeleteSources(tokens) : null;
  if (sources === null && !tokens.isKeyword('WHERE')) {
    failAtEnd(tokens, 'FROM, WHERE');
    tokens.fail('FROM, WHERE');
  }
  const where = tokens.acceptKeyword('WHERE') ? parseExpression(tokens) : null;
  return { sources, where };
}

/** `m, "m2", /re/`: InfluxDB refuses a retention policy here at the statement's start (line 1, char 1). */
function parseDeleteSources(tokens: TokenStream): Source[] {
  const sources: Source[] = [];
  do {
    if (tokens.isOperator('/')) {
      sources.push({ database: null, measurement: '', regex: tokens.regex() });
      continue;
    }
    sources.push({ database: null, measurement: tokens.expectIdentifier('identifier') });
    if (tokens.isOperator('.')) throw new ParseFailure('retention policy not supported', 0);
  } while (tokens.acceptOperator(','));
  return sources;
}

/**
 * At the end of the text, InfluxDB places these statements' error one character further than
 * SELECT's (`DELETE` -> char 8, `DROP SERIES` -> char 13, as influxd 1.6.7 answers).
 */
function failAtEnd(tokens: TokenStream, expected: string): void {
  const token = tokens.peek();
  if (token.kind === TokenKind.end) throw new ParseFailure(`found EOF, expected ${expected}`, token.offset + 1);
}
