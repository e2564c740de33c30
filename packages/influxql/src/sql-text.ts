import { quoteIdentifier } from '@arc/columnar';

/**
 * `"db"."measurement"`: every table reference is qualified, whatever the default database. Names
 * come from the query or the catalog and may hold any character: the quoting is columnar's.
 */
export function sqlTable(database: string, measurement: string): string {
  return `${quoteIdentifier(database)}.${quoteIdentifier(measurement)}`;
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
