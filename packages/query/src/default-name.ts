/**
 * `default` is every user's first database, and a reserved keyword to DuckDB's parser: `SELECT *
 * FROM default.cpu` is a syntax error there. Arc quotes the word only where the parser itself
 * stopped on it (the error's byte position is the start of the token it could not take), so a
 * `default` inside a string literal, a comment or a quoted name is never touched: the parser
 * never stops inside those. Only a `default` in a name position is quoted: followed by `.`
 * (`default.cpu`, `default.cpu.usage`) or right after FROM / JOIN (`SHOW TABLES FROM default`).
 * In a select list `SELECT default.cpu.usage` parses as the DEFAULT expression up to the dot, so
 * there the parser stops at the `.` right after the word, and that word is the one quoted.
 */

const DEFAULT_WORD = 'default';
const DOT = 0x2e;
const DOUBLE_QUOTE = 0x22;
/** Keywords after which a bare name is a table or database name. */
const NAME_KEYWORDS: ReadonlySet<string> = new Set(['from', 'join']);

function isWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0x0c;
}

function isWordByte(byte: number | undefined): boolean {
  if (byte === undefined) return false;
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x24 || byte >= 0x80;
}

/** The word that ends right before `end` (skipping whitespace), lower-cased; '' when none. */
function wordBefore(sql: Buffer, end: number): string {
  let stop = end;
  while (stop > 0 && isWhitespace(sql[stop - 1])) stop -= 1;
  return sql.toString('latin1', wordStartBefore(sql, stop), stop).toLowerCase();
}

/** Where the word that ends right before `end` (skipping whitespace) starts. */
function wordStartBefore(sql: Buffer, end: number): number {
  let start = end;
  while (start > 0 && isWhitespace(sql[start - 1])) start -= 1;
  while (start > 0 && isWordByte(sql[start - 1])) start -= 1;
  return start;
}

/** True when the bytes at `position` are the bare word `default` used as a name. */
function isDefaultName(sql: Buffer, position: number): boolean {
  const end = position + DEFAULT_WORD.length;
  if (sql.toString('latin1', position, end).toLowerCase() !== DEFAULT_WORD) return false;
  if (isWordByte(sql[end]) || isWordByte(sql[position - 1]) || sql[position - 1] === DOUBLE_QUOTE) return false;
  let next = end;
  while (isWhitespace(sql[next])) next += 1;
  return sql[next] === DOT || NAME_KEYWORDS.has(wordBefore(sql, position));
}

/**
 * SQL with one `default` quoted; `at`: where the opening quote went, in code points (the unit of
 * DuckDB's error positions).
 */
export interface QuotedDefault {
  readonly sql: string;
  readonly at: number;
}

/** Characters (and bytes: ASCII) quoting adds: the two double quotes around the word. */
export const QUOTES_ADDED = 2;
export const DEFAULT_WORD_LENGTH = DEFAULT_WORD.length;

/** The byte offset in `text` of code point `index`, or null past the end. */
function byteOffsetOf(sql: string, index: number): number | null {
  let codePoints = 0;
  let bytes = 0;
  for (const character of sql) {
    if (codePoints === index) return bytes;
    codePoints += 1;
    bytes += Buffer.byteLength(character);
  }
  return null;
}

/**
 * The SQL with the `default` the parser stopped at written as `"default"`, or null when the
 * parser stopped on something else (then its error stands). `errorPosition` counts code points,
 * as DuckDB's parser reports it.
 */
export function quoteDefaultAt(sql: string, errorPosition: number): QuotedDefault | null {
  if (!Number.isSafeInteger(errorPosition) || errorPosition < 0) return null;
  const errorByte = byteOffsetOf(sql, errorPosition);
  if (errorByte === null) return null;
  const text = Buffer.from(sql);
  const position = text[errorByte] === DOT ? wordStartBefore(text, errorByte) : errorByte;
  if (!isDefaultName(text, position)) return null;
  const end = position + DEFAULT_WORD.length;
  const before = text.toString('utf8', 0, position);
  // `at` counts code points, as DuckDB's positions do (Array.from splits a string into code points).
  return { sql: `${before}"${text.toString('utf8', position, end)}"${text.toString('utf8', end)}`, at: Array.from(before).length };
}
