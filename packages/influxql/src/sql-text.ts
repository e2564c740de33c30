/**
 * SQL text for the statements built here. Names come from the query or the catalog and may hold
 * any character: identifiers are always double-quoted, strings single-quoted, each with its
 * quote doubled, never spliced in raw.
 */
export function sqlName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `"db"."measurement"`: every table reference is qualified, whatever the default database. */
export function sqlTable(database: string, measurement: string): string {
  return `${sqlName(database)}.${sqlName(measurement)}`;
}

/**
 * A statement that is valid InfluxQL but cannot be answered (a field type a function does not
 * take, too many buckets): becomes that statement's `error` in the answer, not an HTTP error.
 */
export class StatementFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatementFailure';
  }
}
