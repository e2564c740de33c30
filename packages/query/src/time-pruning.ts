import assert from 'node:assert/strict';
import { quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { ColumnSpec } from '@arc/storage';

/**
 * Time-range pruning. The storage catalog knows each file's hour and the bounds of its rows'
 * time, so a query whose WHERE bounds `time` needs only the files in range
 * (FileCatalog.filesInRange). The engine puts a relation over exactly those files in place of the
 * measurement's view, which would open every file.
 */

/** A measurement column as DESCRIBE reports it. */
export type { ColumnSpec } from '@arc/storage';

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
