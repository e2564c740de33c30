/**
 * SQL text for DuckDB statements that Arc builds (views, the flush table, InfluxQL translation):
 * identifiers are always double-quoted and strings single-quoted, each with its quote doubled, so
 * a name or value is never spliced in raw. Names are validated before (names.ts); the quoting is
 * what makes any character safe, not the validation.
 */

/** A double-quoted SQL identifier: `a"b` becomes `"a""b"`. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal: `it's` becomes `'it''s'`. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
