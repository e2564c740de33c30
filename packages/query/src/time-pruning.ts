import assert from 'node:assert/strict';
import { join } from 'node:path';
import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import { PARQUET_SUFFIX, listDirectory } from './catalog.js';

/**
 * Time-range pruning. A measurement's files sit in one directory per UTC hour
 * (`YYYY/MM/DD/HH/*.parquet`, written one file per hour, never spanning two), so a query whose
 * WHERE bounds `time` needs only the files of the hours in range. The engine puts a relation over
 * exactly those files in place of the measurement's view, which would open every file.
 */

const MICROS_PER_MILLI = 1000n;
/** Partition levels below a measurement and the digits of each: year, month, day, hour. */
const LEVEL_DIGITS = [4, 2, 2, 2] as const;
/** Bounds outside years 0000-9999 cannot name a directory: they bound nothing. */
const YEAR_MIN = 0;
const YEAR_MAX = 9999;

/** A measurement column as DESCRIBE reports it. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

/** The hour directory key `YYYY/MM/DD/HH` of an instant in microseconds since the epoch, or null beyond years 0-9999. */
export function hourKey(micros: bigint): string[] | null {
  const date = new Date(Number(micros / MICROS_PER_MILLI) - (micros % MICROS_PER_MILLI < 0n ? 1 : 0));
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < YEAR_MIN || year > YEAR_MAX) return null;
  const parts = [year, date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours()];
  return parts.map((value, level) => String(value).padStart(LEVEL_DIGITS[level] ?? 2, '0'));
}

function isPartitionName(name: string, level: number): boolean {
  const digits = LEVEL_DIGITS[level];
  return digits !== undefined && name.length === digits && /^[0-9]+$/.test(name);
}

/**
 * The Parquet files of the hours from `lower` to `upper` (both inclusive, microseconds; null:
 * unbounded), sorted. Each directory level is compared by its zero-padded name, so only the
 * directories in range are listed, however wide the range.
 */
export function filesInTimeRange(measurementPath: string, lower: bigint | null, upper: bigint | null): string[] {
  const lowerKey = lower === null ? null : hourKey(lower);
  const upperKey = upper === null ? null : hourKey(upper);
  const files: string[] = [];
  const walk = (path: string, level: number, atLowerEdge: boolean, atUpperEdge: boolean): void => {
    const entries = listDirectory(path);
    if (level === LEVEL_DIGITS.length) {
      for (const entry of entries) if (entry.isFile() && entry.name.endsWith(PARQUET_SUFFIX)) files.push(join(path, entry.name));
      return;
    }
    const lowerPart = atLowerEdge ? lowerKey?.[level] : undefined;
    const upperPart = atUpperEdge ? upperKey?.[level] : undefined;
    for (const entry of entries) {
      if (!entry.isDirectory() || !isPartitionName(entry.name, level)) continue;
      if (lowerPart !== undefined && entry.name < lowerPart) continue;
      if (upperPart !== undefined && entry.name > upperPart) continue;
      walk(join(path, entry.name), level + 1, lowerPart === entry.name, upperPart === entry.name);
    }
  };
  walk(measurementPath, 0, lowerKey !== null, upperKey !== null);
  return files.sort();
}

/**
 * The relation that stands in for a measurement's view: its files in range, unioned by name with
 * an empty relation of the view's columns, so columns missing from those files (added to the
 * measurement later, or earlier) are NULL and the relation has every column the view has.
 */
export function prunedRelationSql(columns: readonly ColumnSpec[], files: readonly string[]): string {
  assert.ok(columns.length > 0, 'a measurement has at least its time column');
  const typed = `SELECT ${columns.map((column) => `NULL::${column.type} AS ${quoteIdentifier(column.name)}`).join(', ')} WHERE false`;
  if (files.length === 0) return `(${typed})`;
  const list = files.map(quoteLiteral).join(', ');
  return `(SELECT * FROM (${typed}) UNION ALL BY NAME SELECT * FROM read_parquet([${list}], union_by_name = true))`;
}
