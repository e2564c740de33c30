/**
 * Replaces table names in the user's SQL text with other relations, at the byte offsets DuckDB's
 * parser reported, leaving every other byte as the user wrote it (no regex rewriting, no
 * re-serialization of the statement).
 */

const DOUBLE_QUOTE = 0x22;
const DOT = 0x2e;

/** A replacement of the bytes [start, end) of the SQL text. */
export interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

/** Whether the byte at `position` is whitespace; false past the end (the bounds check is here). */
function isWhitespaceAt(sql: Buffer, position: number): boolean {
  const byte = sql[position];
  if (byte === undefined) return false;
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0c;
}

/** Bytes of an unquoted identifier: letters, digits, `_`, `$`, and any non-ASCII byte; false past the end. */
function isIdentifierByteAt(sql: Buffer, position: number): boolean {
  const byte = sql[position];
  if (byte === undefined) return false;
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x24 || byte >= 0x80;
}

/** Reads one identifier at `start`; returns its text and end offset, or null when there is none. */
function readIdentifier(sql: Buffer, start: number): { name: string; end: number } | null {
  if (sql[start] === DOUBLE_QUOTE) {
    let name = '';
    let position = start + 1;
    let segmentStart = position;
    while (position < sql.length) {
      if (sql[position] === DOUBLE_QUOTE) {
        name += sql.toString('utf8', segmentStart, position);
        if (sql[position + 1] !== DOUBLE_QUOTE) return { name, end: position + 1 };
        name += '"';
        position += 2;
        segmentStart = position;
      } else {
        position += 1;
      }
    }
    return null;
  }
  let end = start;
  while (isIdentifierByteAt(sql, end)) end += 1;
  return end === start ? null : { name: sql.toString('utf8', start, end), end };
}

/**
 * The end offset of the (possibly qualified) name starting at `start` whose last part is
 * `lastPart`; null when the text there is not such a name (then nothing is replaced).
 */
export function qualifiedNameEnd(sql: Buffer, start: number, lastPart: string): number | null {
  let position = start;
  for (;;) {
    const identifier = readIdentifier(sql, position);
    if (identifier === null) return null;
    let next = identifier.end;
    while (isWhitespaceAt(sql, next)) next += 1;
    if (sql[next] !== DOT) return identifier.name.toLowerCase() === lastPart.toLowerCase() ? identifier.end : null;
    next += 1;
    while (isWhitespaceAt(sql, next)) next += 1;
    position = next;
  }
}

/** Applies non-overlapping splices to the SQL text. */
export function applySplices(sql: Buffer, splices: readonly Splice[]): string {
  const ordered = [...splices].sort((left, right) => left.start - right.start);
  const parts: string[] = [];
  let position = 0;
  for (const splice of ordered) {
    if (splice.start < position) throw new Error('overlapping SQL splices');
    parts.push(sql.toString('utf8', position, splice.start), splice.text);
    position = splice.end;
  }
  parts.push(sql.toString('utf8', position));
  return parts.join('');
}

/** Words that end an expression standing as one side of a comparison in a WHERE clause. */
const EXPRESSION_END_WORDS: ReadonlySet<string> = new Set([
  'and', 'or', 'from', 'where', 'group', 'order', 'having', 'window', 'qualify', 'limit', 'offset',
  'union', 'except', 'intersect', 'then', 'else', 'when', 'end', 'on', 'using', 'join', 'returning',
]);
const OPENING_BRACKETS = new Set([0x28, 0x5b, 0x7b]);
const CLOSING_BRACKETS = new Set([0x29, 0x5d, 0x7d]);
const SINGLE_QUOTE = 0x27;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;

/** The end of a quoted run (`'...'` or `"..."`, the quote doubled inside) starting at `start`. */
function quotedEnd(sql: Buffer, start: number): number | null {
  const quote = sql[start];
  for (let position = start + 1; position < sql.length; position++) {
    if (sql[position] !== quote) continue;
    if (sql[position + 1] !== quote) return position + 1;
    position += 1;
  }
  return null;
}

function isCommentAt(sql: Buffer, position: number): boolean {
  const pair = sql.toString('latin1', position, position + 2);
  return pair === '--' || pair === '/*';
}

/**
 * A guess at the end of the expression starting at `start`: the first comma, semicolon, comment,
 * unmatched closing bracket or clause word (AND, GROUP, ...) outside brackets and quotes, trailing
 * whitespace left out. Only a guess: the caller must check that the text parses to the expression.
 */
export function expressionEnd(sql: Buffer, start: number): number | null {
  let depth = 0;
  let position = start;
  while (position < sql.length) {
    const byte = sql[position] as number;
    if (byte === SINGLE_QUOTE || byte === DOUBLE_QUOTE) {
      const end = quotedEnd(sql, position);
      if (end === null) return null;
      position = end;
      continue;
    }
    if (isIdentifierByteAt(sql, position)) {
      const identifier = readIdentifier(sql, position);
      if (identifier === null) return null;
      if (depth === 0 && EXPRESSION_END_WORDS.has(identifier.name.toLowerCase())) break;
      position = identifier.end;
      continue;
    }
    if (depth === 0 && (byte === COMMA || byte === SEMICOLON || CLOSING_BRACKETS.has(byte) || isCommentAt(sql, position))) break;
    if (isCommentAt(sql, position)) return null;
    if (OPENING_BRACKETS.has(byte)) depth += 1;
    else if (CLOSING_BRACKETS.has(byte)) depth -= 1;
    position += 1;
  }
  if (depth !== 0) return null;
  while (position > start && isWhitespaceAt(sql, position - 1)) position -= 1;
  return position > start ? position : null;
}
