import { quoteIdentifier } from '@arc/columnar';

/**
 * `"db"."measurement"`: every table reference is qualified, whatever the default database. Names
 * come from the query or the catalog and may hold any character: the quoting is columnar's.
 */
export function sqlTable(database: string, measurement: string): string {
  return `${quoteIdentifier(database)}.${quoteIdentifier(measurement)}`;
}

/**
 * Splits `parts` into groups whose text joined by `separator` stays within `bytesMax` bytes (a part
 * longer than that goes alone, and the engine refuses it with its own message).
 */
export function groupWithin(parts: readonly string[], separator: string, bytesMax: number): string[][] {
  const groups: string[][] = [];
  let group: string[] = [];
  let bytes = 0;
  for (const part of parts) {
    const partBytes = Buffer.byteLength(part) + Buffer.byteLength(separator);
    if (group.length > 0 && bytes + partBytes > bytesMax) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(part);
    bytes += partBytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
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
