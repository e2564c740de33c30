import assert from 'node:assert/strict';
import { TAGS_METADATA_KEY, TIME_COLUMN, quoteIdentifier, quoteLiteral } from '@arc/columnar';
import type { ColumnSpec } from '@arc/storage';
import { MERGE_FILE_ROW_BITS } from './limits.js';
import { keepRowsSql, removedRowsFilterSql } from './row-predicate.js';

/**
 * The SQL of a merge job (pure text; the merge worker runs it). Inputs are read with
 * `read_parquet([...], union_by_name = true)`: a column missing from a file reads as NULL there,
 * and a column typed differently across files reads as the wider type (BIGINT and DOUBLE give
 * DOUBLE).
 *
 * Write order. "Later" is later in the job's input list (oldest write first), and inside one file
 * a later row position. DuckDB's virtual columns `file_index` (the input's position in the list)
 * and `file_row_number` give both without an extra column in the output; the write order of a row
 * is `file_index << MERGE_FILE_ROW_BITS | file_row_number`, one BIGINT that orders exactly that way.
 * A file column of either name would hide the virtual one, so a job with such a column fails
 * (shadowedVirtualColumn). The writer keeps rows of equal time in append order when it sorts a
 * flush (packages/writer/src/parquet-encoder.ts), so a later row of a file is a later write.
 */

/** DuckDB virtual columns of read_parquet the merge depends on. */
export const MERGE_VIRTUAL_COLUMNS = ['file_index', 'file_row_number'] as const;

/** What decides a merge's SELECT. */
export interface MergePlan {
  readonly inputs: readonly string[];
  /** The inputs' union of columns (DESCRIBE of readInputsSql), in that order. */
  readonly columns: readonly ColumnSpec[];
  /** Tag columns, each one of `columns`, in sort order. */
  readonly tags: readonly string[];
  readonly dedup: boolean;
  /**
   * A rewrite: the input rows for which this checked predicate (row-predicate.ts) is TRUE are
   * left out, before deduplication (a delete removes the writes it matches). Absent: every row.
   */
  readonly removeWhere?: string | undefined;
}

/** COPY options of every output file. */
export interface OutputFormat {
  readonly compressionLevel: number;
  readonly rowGroupSize: number;
  /** Written to the footer as `arc:tags`, as the writer does. */
  readonly tags: readonly string[];
}

/** One output's share of the merged rows: positions rowStart (inclusive) to rowEnd (exclusive). */
export interface RowRange {
  readonly rowStart: number;
  readonly rowEnd: number;
}

/** `['a', 'b']`: a DuckDB list of file locations. */
export function pathListSql(paths: readonly string[]): string {
  assert.ok(paths.length > 0, 'at least one path');
  return `[${paths.map(quoteLiteral).join(', ')}]`;
}

export function readInputsSql(inputs: readonly string[]): string {
  return `read_parquet(${pathListSql(inputs)}, union_by_name = true)`;
}

/** column_name, column_type of the inputs' union. */
export function describeInputsSql(inputs: readonly string[]): string {
  return `DESCRIBE SELECT * FROM ${readInputsSql(inputs)}`;
}

/** rows and bytes of all the files; file_rows_max: the most rows of one file. From the footers. */
export function inputRowsSql(inputs: readonly string[]): string {
  return (
    `SELECT coalesce(sum(num_rows), 0)::BIGINT AS rows, coalesce(sum(file_size_bytes), 0)::BIGINT AS bytes, ` +
    `coalesce(max(num_rows), 0)::BIGINT AS file_rows_max ` +
    `FROM parquet_file_metadata(${pathListSql(inputs)})`
  );
}

/**
 * `removed`: how many rows of the inputs a rewrite with this remove predicate would leave out (a
 * dry run's count, e.g. retention's straddling files); the predicate is checked first, as for a run.
 */
export function removedRowsSql(inputs: readonly string[], removeWhere: string): string {
  return `SELECT count(*)::BIGINT AS removed FROM ${readInputsSql(inputs)} ${removedRowsFilterSql(removeWhere)}`;
}

/** file_name, tags (the `arc:tags` JSON text) of each input that has the key. */
export function inputTagsSql(inputs: readonly string[]): string {
  return (
    `SELECT file_name, decode(value) AS tags FROM parquet_kv_metadata(${pathListSql(inputs)}) ` +
    `WHERE decode(key) = ${quoteLiteral(TAGS_METADATA_KEY)}`
  );
}

/** The tags an `arc:tags` value names, or null when it is not a JSON array of strings. */
export function parseTags(text: string): string[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed)) return null;
  const tags: string[] = [];
  for (const tag of parsed) {
    if (typeof tag !== 'string') return null;
    tags.push(tag);
  }
  return tags;
}

/**
 * The tag columns of the merge: every input's tags in first-seen order (inputs oldest first),
 * keeping only columns the inputs have. A union, never an intersection: a tag taken for a field
 * would let deduplication fold rows of different series into one.
 */
export function unionTags(tagsByInput: readonly (readonly string[])[], columns: readonly ColumnSpec[]): string[] {
  const names = new Set(columns.map((column) => column.name));
  const tags: string[] = [];
  for (const inputTags of tagsByInput) {
    for (const tag of inputTags) {
      if (tag !== TIME_COLUMN && names.has(tag) && !tags.includes(tag)) tags.push(tag);
    }
  }
  return tags;
}

/** The first file column that would hide a virtual column the merge reads, or null. */
export function shadowedVirtualColumn(columns: readonly ColumnSpec[]): string | null {
  const virtual: readonly string[] = MERGE_VIRTUAL_COLUMNS;
  return columns.find((column) => virtual.includes(column.name.toLowerCase()))?.name ?? null;
}

/** The write order of a row (see the module comment): larger is later. */
function writeOrderSql(): string {
  return `((file_index::BIGINT << ${MERGE_FILE_ROW_BITS}) | file_row_number::BIGINT)`;
}

/**
 * DuckDB types whose values have a fixed width. Their latest value is taken with `arg_max`, the
 * fastest form; others (VARCHAR, BLOB) with the max of a {write order, value} struct: DuckDB
 * 1.5.6 does not spill `arg_max` states that hold strings, and a merge with a string field ran
 * out of a 96 MiB memory_limit that the struct form merged within (2 x 1M rows, both forms give
 * the same row: the write order is unique, so the value never decides).
 */
const FIXED_WIDTH_TYPES: ReadonlySet<string> = new Set([
  'BOOLEAN',
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
  'FLOAT',
  'DOUBLE',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMP WITH TIME ZONE',
]);

/** The latest non-NULL value of one field among the rows of a point (see FIXED_WIDTH_TYPES). */
function latestValueSql(column: ColumnSpec): string {
  const name = quoteIdentifier(column.name);
  const filter = `FILTER (WHERE ${name} IS NOT NULL)`;
  if (FIXED_WIDTH_TYPES.has(column.type)) return `arg_max(${name}, ${writeOrderSql()}) ${filter} AS ${name}`;
  return `(max({'write_order': ${writeOrderSql()}, 'value': ${name}}) ${filter}).value AS ${name}`;
}

/** Tags first, then time; NULL tags sort after every value, as one group. */
function sortKeySql(tags: readonly string[]): string {
  return [...tags.map((tag) => `${quoteIdentifier(tag)} ASC NULLS LAST`), `${quoteIdentifier(TIME_COLUMN)} ASC`].join(', ');
}

/**
 * The merged rows in output order: sorted by the tags then time. Without dedup every row is kept
 * and rows of one key stay in write order (so a later deduplicating merge of the output still
 * sees the later write later). With dedup, rows of one key (tag values, NULL equal to NULL as in
 * GROUP BY, and time) become one row whose every field is the value of the latest write that set
 * it: the value at the largest write order among the rows where the field is not NULL. A
 * rewrite's remove predicate filters the input rows first.
 */
export function mergeSelectSql(plan: MergePlan): string {
  assert.ok(plan.columns.some((column) => column.name === TIME_COLUMN), 'the inputs have a time column');
  assert.equal(shadowedVirtualColumn(plan.columns), null, 'no file column hides a virtual column');
  const keys = new Set([...plan.tags, TIME_COLUMN]);
  const filter = plan.removeWhere === undefined ? '' : ` ${keepRowsSql(plan.removeWhere)}`;
  const from = `FROM ${readInputsSql(plan.inputs)}${filter}`;
  if (!plan.dedup) {
    const select = plan.columns.map((column) => quoteIdentifier(column.name)).join(', ');
    return `SELECT ${select} ${from} ORDER BY ${sortKeySql(plan.tags)}, ${writeOrderSql()}`;
  }
  const select = plan.columns.map((column) => (keys.has(column.name) ? quoteIdentifier(column.name) : latestValueSql(column)));
  const groupBy = [...keys].map(quoteIdentifier).join(', ');
  return `SELECT ${select.join(', ')} ${from} GROUP BY ${groupBy} ORDER BY ${sortKeySql(plan.tags)}`;
}

/** Writes `select` to `path` as Parquet: zstd at the job's level, its row group size, `arc:tags`. */
export function copyToSql(select: string, path: string, format: OutputFormat): string {
  assert.ok(Number.isInteger(format.compressionLevel), 'zstd level is an integer');
  assert.ok(Number.isInteger(format.rowGroupSize), 'row group size is an integer');
  assert.ok(format.rowGroupSize > 0, 'row group size positive');
  const options = [
    'FORMAT parquet',
    'COMPRESSION zstd',
    `COMPRESSION_LEVEL ${format.compressionLevel}`,
    `ROW_GROUP_SIZE ${format.rowGroupSize}`,
    `KV_METADATA {${quoteLiteral(TAGS_METADATA_KEY)}: ${quoteLiteral(JSON.stringify(format.tags))}}`,
  ];
  return `COPY (${select}) TO ${quoteLiteral(path)} (${options.join(', ')})`;
}

/**
 * Rows rowStart..rowEnd of one merged file, in file order: a scan of one file keeps its order with
 * `preserve_insertion_order` (set by the worker).
 */
export function rangeSelectSql(path: string, columns: readonly ColumnSpec[], range: RowRange): string {
  assert.ok(range.rowStart < range.rowEnd, 'a range holds rows');
  const select = columns.map((column) => quoteIdentifier(column.name)).join(', ');
  return (
    `SELECT ${select} FROM read_parquet(${quoteLiteral(path)}, file_row_number = true) ` +
    `WHERE file_row_number >= ${range.rowStart} AND file_row_number < ${range.rowEnd}`
  );
}

/** rows, min_us, max_us (`time` as microseconds since the epoch) of one written file. */
export function outputFactsSql(path: string): string {
  const time = quoteIdentifier(TIME_COLUMN);
  return `SELECT count(*)::BIGINT AS rows, epoch_us(min(${time})) AS min_us, epoch_us(max(${time})) AS max_us FROM read_parquet(${quoteLiteral(path)})`;
}

/** column_name, column_type of one written file. */
export function describeFileSql(path: string): string {
  return `DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(path)})`;
}

/**
 * Outputs for a merged file of `mergedBytes`: enough that each holds about `targetFileBytes` or
 * less, at most `outputsMax` (then each is larger than the target).
 */
export function outputCount(mergedBytes: number, targetFileBytes: number, outputsMax: number): number {
  assert.ok(targetFileBytes > 0, 'target size positive');
  assert.ok(outputsMax >= 1, 'at least one output');
  return Math.max(1, Math.min(outputsMax, Math.ceil(mergedBytes / targetFileBytes)));
}

/** `rowCount` rows in `parts` contiguous ranges of sizes differing by at most one, in order. */
export function splitRows(rowCount: number, parts: number): RowRange[] {
  assert.ok(Number.isInteger(parts), 'parts is an integer');
  assert.ok(parts >= 1, 'at least one part');
  assert.ok(parts <= rowCount, 'every part holds a row');
  const ranges: RowRange[] = [];
  for (let part = 0; part < parts; part++) {
    ranges.push({ rowStart: Math.floor((rowCount * part) / parts), rowEnd: Math.floor((rowCount * (part + 1)) / parts) });
  }
  return ranges;
}
