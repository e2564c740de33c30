/**
 * InfluxDB 2.x's delete predicate (`POST /api/v2/delete`, `"predicate": "host=\"a\" AND _measurement=\"cpu\""`),
 * with its messages for what it refuses:
 *
 *   predicate := "" | expr
 *   expr      := term { AND term }          OR: "the logical operator OR is not supported yet at position <n>"
 *   term      := key op value | "(" expr ")"
 *   key       := bare word | "double-quoted"
 *   op        := "=" | "!="                 =~ !~: not supported yet; anything else: invalid operator
 *   value     := bare word (numbers, durations, true/false kept as text) | "double-quoted"
 *
 * Positions are 0-based character offsets. `_measurement` names the measurement, `_field` a field.
 */

export interface PredicateRule {
  readonly key: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** The rules (ANDed), or the message InfluxDB answers for a predicate it refuses. */
export type PredicateParse = { readonly rules: readonly PredicateRule[] } | { readonly error: string };

type Token =
  | { readonly kind: 'word' | 'quoted'; readonly text: string; readonly offset: number }
  | { readonly kind: 'operator' | 'open' | 'close' | 'end' | 'other'; readonly text: string; readonly offset: number };

const WORD = /[A-Za-z0-9_.:+-]/;
const OPERATOR = /[=!<>~]/;

class PredicateError extends Error {}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < text.length) {
    const char = text[index] ?? '';
    const start = index;
    if (/\s/.test(char)) index += 1;
    else if (char === '(' || char === ')') tokens.push({ kind: char === '(' ? 'open' : 'close', text: char, offset: index++ });
    else if (char === '"') {
      let value = '';
      for (index += 1; index < text.length && text[index] !== '"'; index++) value += text[index] === '\\' ? (text[++index] ?? '') : (text[index] ?? '');
      if (index >= text.length) throw new PredicateError(`bad tag value: "${text.slice(start)}", at position ${String(start)}`);
      index += 1;
      tokens.push({ kind: 'quoted', text: value, offset: start });
    } else if (OPERATOR.test(char)) {
      while (index < text.length && OPERATOR.test(text[index] ?? '')) index += 1;
      tokens.push({ kind: 'operator', text: text.slice(start, index), offset: start });
    } else if (WORD.test(char)) {
      while (index < text.length && WORD.test(text[index] ?? '')) index += 1;
      tokens.push({ kind: 'word', text: text.slice(start, index), offset: start });
    } else {
      // Anything else (a single-quoted string first of all) is one token the grammar refuses where it stands.
      const close = char === "'" ? text.indexOf("'", index + 1) : -1;
      index = close === -1 ? index + 1 : close + 1;
      tokens.push({ kind: 'other', text: text.slice(start, index), offset: start });
    }
  }
  tokens.push({ kind: 'end', text: '', offset: text.length });
  return tokens;
}

class Parser {
  private readonly tokens: readonly Token[];
  private index = 0;

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    const token = this.tokens[this.index];
    if (token === undefined) throw new PredicateError('bad logical expression, at position 0');
    return token;
  }

  private isKeyword(keyword: string): boolean {
    const token = this.peek();
    return token.kind === 'word' && token.text.toUpperCase() === keyword;
  }

  /** term { AND term } up to the end or the closing parenthesis of the caller. */
  expression(rules: PredicateRule[]): void {
    this.term(rules);
    for (;;) {
      if (this.isKeyword('AND')) {
        this.index += 1;
        this.term(rules);
        continue;
      }
      if (this.isKeyword('OR')) throw new PredicateError(`the logical operator OR is not supported yet at position ${String(this.peek().offset)}`);
      const token = this.peek();
      if (token.kind === 'end' || token.kind === 'close') return;
      throw new PredicateError(`bad logical expression, at position ${String(token.offset)}`);
    }
  }

  private term(rules: PredicateRule[]): void {
    const token = this.peek();
    if (token.kind === 'open') {
      this.index += 1;
      this.expression(rules);
      if (this.peek().kind !== 'close') throw new PredicateError('extra ( seen');
      this.index += 1;
      return;
    }
    if (token.kind === 'close') throw new PredicateError('extra ) seen');
    rules.push(this.rule());
  }

  private rule(): PredicateRule {
    const key = this.peek();
    if (key.kind !== 'word' && key.kind !== 'quoted') throw new PredicateError(`bad tag key, at position ${String(key.offset)}`);
    this.index += 1;
    const operator = this.peek();
    if (operator.kind !== 'operator') throw new PredicateError(`bad tag key, at position ${String(key.offset)}`);
    if (operator.text === '=~' || operator.text === '!~') throw new PredicateError(`operator: "${operator.text}" at position: ${String(operator.offset)} is not supported yet`);
    if (operator.text !== '=' && operator.text !== '!=') throw new PredicateError(`invalid operator "${operator.text}" at position: ${String(operator.offset)}`);
    this.index += 1;
    const value = this.peek();
    if (value.kind !== 'word' && value.kind !== 'quoted') throw new PredicateError(`bad tag value: "${value.text}", at position ${String(value.offset)}`);
    this.index += 1;
    return { key: key.text, operator: operator.text, value: value.text };
  }

  /** Whether every token was read (a stray `)` is left over otherwise). */
  atEnd(): boolean {
    return this.peek().kind === 'end';
  }
}

export function parseDeletePredicate(text: string): PredicateParse {
  if (text.trim() === '') return { rules: [] };
  try {
    const parser = new Parser(tokenize(text));
    const rules: PredicateRule[] = [];
    parser.expression(rules);
    if (!parser.atEnd()) throw new PredicateError('extra ) seen');
    return { rules };
  } catch (error) {
    if (error instanceof PredicateError) return { error: error.message };
    throw error;
  }
}
