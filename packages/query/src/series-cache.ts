import assert from 'node:assert/strict';
import duckdb from '@duckdb/node-bindings';
import type { DuckDBDataChunk, DuckDBMaterializedResult } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral, TIME_COLUMN } from '@arc/columnar';
import { NUMERIC_LAYOUTS } from './numeric-layouts.js';
import type { SeriesField } from './series-window.js';

/**
 * A query thread's series cache: Parquet files decoded once for series windows
 * (series-window.ts), each file's rows sorted by one tag, then time, so a window of one series is
 * a binary search and a run of adjacent rows. Files are immutable (a compaction or a delete
 * writes new ones under new keys), so an entry never goes stale; the catalog decides which files
 * a query reads, the cache only how fast. Bounded in bytes, least recently used out first.
 */

/** A file the cache can hold: its key (what makes it this file) and its row count. */
export interface SeriesFile {
  readonly key: string;
  /** Its measurement (any text naming it uniquely): files of one share their tag values. */
  readonly measurement: string;
  readonly rows: number;
  /** Where DuckDB reads it (a local path). */
  readonly path: string;
  /** Its columns when the catalog knows them exactly (else DuckDB describes the file). */
  readonly columns: readonly { readonly name: string; readonly type: string }[] | null;
}

/** Runs a statement on the thread's DuckDB connection (the engine's, so cancel reaches it). */
export type SeriesRead = (sql: string) => Promise<DuckDBMaterializedResult>;

/** One field of a file, in the file's sorted order. */
export interface FieldValues {
  /** Every numeric type as doubles (exact: see `exact`). */
  readonly values: Float64Array;
  /** One byte per row, 1 = not NULL; null when no row is NULL. */
  readonly valid: Uint8Array | null;
  /** False when a 64-bit integer lies beyond 2^53: a double holds it inexactly, DuckDB answers. */
  readonly exact: boolean;
}

const SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of a row of the sorted order: its time (µs as a double) and its position. */
const ORDER_BYTES_PER_ROW = Float64Array.BYTES_PER_ELEMENT + Int32Array.BYTES_PER_ELEMENT;
/** Bytes of a row of a DOUBLE field (a NULL adds one more: its validity byte). */
const FIELD_BYTES_PER_ROW = Float64Array.BYTES_PER_ELEMENT;
/** What a run of one tag value costs beside its text (map entry, boxes). */
const RUN_BYTES = 64;
/**
 * Tag values a file may have for its rows to be sorted here by code (readSeries); above it DuckDB
 * sorts them. TSBS's scale of 4,000 hosts fits; the ENUM of them is ~50 KB of SQL.
 */
const TAG_CODES_MAX = 4096;
/** Measurements and tags whose tag values the cache remembers (a list each): cleared when full. */
const TAG_VALUE_LISTS_MAX = 256;

/** The column types a file must have for series windows to read it as DuckDB would. */
const TIME_TYPE = 'TIMESTAMP';
const TAG_TYPE = 'VARCHAR';

/** One file's rows as series windows read them. */
export class FileSeries {
  readonly rows: number;
  /** Rows of each tag value: [start, end) of the sorted order. NULL tags are not in it. */
  readonly runs: ReadonlyMap<string, { readonly start: number; readonly end: number }>;
  /** The rows whose tag is NULL (or that have no tag column), after the runs, sorted by time too. Rows whose time is NULL come after them, in no run. */
  readonly untagged: { readonly start: number; readonly end: number };
  /** Time of each row of the sorted order, µs since the epoch (doubles: exact to the µs until 2255). */
  readonly time: Float64Array;
  /** The file's column types by lower-cased name (DuckDB's names are case-insensitive). */
  private readonly types: ReadonlyMap<string, string>;
  /** Position in the sorted order of each row of the file (by its row number). */
  private readonly positions: Int32Array;
  private readonly fields = new Map<string, FieldValues>();
  bytes: number;
  /** False when a time lies beyond 2^53 µs from the epoch (past 2255): a double holds it inexactly. */
  private readonly exact: boolean;

  constructor(
    types: ReadonlyMap<string, string>,
    runs: ReadonlyMap<string, { readonly start: number; readonly end: number }>,
    untagged: { readonly start: number; readonly end: number },
    time: Float64Array,
    positions: Int32Array,
    runBytes: number,
  ) {
    assert.equal(time.length, positions.length, 'a time and a position per row');
    assert.ok(untagged.start <= untagged.end && untagged.end <= time.length, 'the untagged rows are rows of the file');
    this.types = types;
    this.rows = time.length;
    this.runs = runs;
    this.untagged = untagged;
    let exact = true;
    for (let position = 0; position < untagged.end; position++) exact &&= Math.abs(time[position] as number) <= Number.MAX_SAFE_INTEGER;
    this.exact = exact;
    this.time = time;
    this.positions = positions;
    this.bytes = this.rows * ORDER_BYTES_PER_ROW + runBytes;
  }

  /**
   * Whether this file answers a series window over `tag` and `fields` as DuckDB reads it in the
   * measurement's view: its time a TIMESTAMP held exactly, the tag VARCHAR or absent (every row's
   * tag NULL: no row matches), each field of the view's type or absent (NULL, as the view's
   * union by name gives it), held exactly once loaded. Another type would be cast by the view:
   * DuckDB answers.
   */
  serves(tag: string, fields: readonly SeriesField[]): boolean {
    if (!this.exact || this.typeOf(TIME_COLUMN) !== TIME_TYPE) return false;
    const tagType = this.typeOf(tag);
    if (tagType !== undefined && tagType !== TAG_TYPE) return false;
    return fields.every((field) => {
      const type = this.typeOf(field.name);
      return (type === undefined || type === field.type) && this.fields.get(field.name)?.exact !== false;
    });
  }

  typeOf(column: string): string | undefined {
    return this.types.get(column.toLowerCase());
  }

  field(name: string): FieldValues | undefined {
    return this.fields.get(name);
  }

  /** Puts a field's values (by file row number) in sorted order. */
  addField(name: string, values: Float64Array, valid: Uint8Array | null, exact: boolean): number {
    assert.ok(values.length === this.rows && (valid === null || valid.length === this.rows), 'a value for every row of the file');
    const sortedValues = new Float64Array(this.rows);
    const sortedValid = valid === null ? null : new Uint8Array(this.rows);
    for (let row = 0; row < this.rows; row++) {
      const position = this.positions[row] as number;
      sortedValues[position] = values[row] as number;
      if (sortedValid !== null && valid !== null) sortedValid[position] = valid[row] as number;
    }
    return this.putField(name, { values: sortedValues, valid: sortedValid, exact });
  }

  /** A field the file does not have: NULL in every row. */
  addAbsentField(name: string): number {
    return this.putField(name, { values: new Float64Array(this.rows), valid: new Uint8Array(this.rows), exact: true });
  }

  private putField(name: string, values: FieldValues): number {
    this.fields.set(name, values);
    const added = this.rows * FIELD_BYTES_PER_ROW + (values.valid === null ? 0 : this.rows);
    this.bytes += added;
    return added;
  }
}

/** The bytes a query's files cost in the cache when none of them is there yet: what it may need. */
export function seriesBytesEstimate(files: readonly SeriesFile[], fieldCount: number): number {
  return files.reduce((sum, file) => sum + file.rows * (ORDER_BYTES_PER_ROW + fieldCount * (FIELD_BYTES_PER_ROW + 1)), 0);
}

/** An entry's key: the file, sorted by `tag` (a file may be held once per tag). */
function entryKey(fileKey: string, tag: string): string {
  return `${fileKey}\u0000${tag}`;
}

export class SeriesCache {
  readonly bytesMax: number;
  /** Entries by file key and tag, least recently used first. */
  private readonly entries = new Map<string, FileSeries>();
  /** The tag values the last file read of a measurement had, by measurement and tag (readSeries). */
  private readonly tagValues = new Map<string, readonly string[]>();
  private bytesHeld = 0;

  constructor(bytesMax: number) {
    assert.ok(Number.isSafeInteger(bytesMax) && bytesMax >= 0, 'a byte bound');
    this.bytesMax = bytesMax;
  }

  get bytes(): number {
    return this.bytesHeld;
  }

  /** Whether the file is held sorted by `tag`. */
  holds(fileKey: string, tag: string): boolean {
    return this.entries.has(entryKey(fileKey, tag));
  }

  /**
   * Whether load() would read the file: not held by `tag`, or held without one of `fields`. Only
   * those need to be local (object storage: pinned in the file cache); the others are answered
   * from memory.
   */
  reads(fileKey: string, tag: string, fields: readonly SeriesField[]): boolean {
    const series = this.entries.get(entryKey(fileKey, tag));
    return series === undefined || (series.serves(tag, fields) && fields.some((field) => series.field(field.name) === undefined));
  }

  /**
   * Whether a query over `files` reading `fieldCount` fields may use the cache: at most half of
   * the bound, so one query never pushes out more than half of what others use, and a wide scan
   * (DuckDB's work) never goes through it.
   */
  admits(files: readonly SeriesFile[], fieldCount: number): boolean {
    return this.bytesMax > 0 && seriesBytesEstimate(files, fieldCount) <= this.bytesMax / 2;
  }

  /**
   * Each file sorted by `tag`, with `fields` loaded when it serves them (FileSeries.serves), read
   * now when not held; then the files `ahead` as well (read ahead, not answered: one that fails to
   * read is left out, the query does not need it). Entries beyond the bound go, least recently
   * used first, never one of these files.
   */
  async load(files: readonly SeriesFile[], tag: string, fields: readonly SeriesField[], read: SeriesRead, ahead: readonly SeriesFile[] = []): Promise<FileSeries[]> {
    const loaded: FileSeries[] = [];
    const keys = new Set<string>();
    for (const file of files) {
      keys.add(entryKey(file.key, tag));
      loaded.push(await this.loadFile(file, tag, fields, read));
    }
    for (const file of ahead) {
      try {
        await this.loadFile(file, tag, fields, read);
        keys.add(entryKey(file.key, tag));
      } catch {
        // A damaged file outside the window fails the statement that reads it, not this one.
      }
    }
    for (const [key, series] of this.entries) {
      if (this.bytesHeld <= this.bytesMax) break;
      if (keys.has(key)) continue;
      this.entries.delete(key);
      this.bytesHeld -= series.bytes;
    }
    return loaded;
  }

  /** One file sorted by `tag`, read when not held, with the `fields` it serves; most recently used now. */
  private async loadFile(file: SeriesFile, tag: string, fields: readonly SeriesField[], read: SeriesRead): Promise<FileSeries> {
    const key = entryKey(file.key, tag);
    let series = this.entries.get(key);
    if (series === undefined) {
      const valuesKey = `${file.measurement}\u0000${tag}`;
      const fresh = await readSeries(file, tag, fields, read, this.tagValues.get(valuesKey));
      series = fresh.series;
      if (this.tagValues.size >= TAG_VALUE_LISTS_MAX) this.tagValues.clear();
      this.tagValues.set(valuesKey, fresh.values);
      this.entries.set(key, series);
      this.bytesHeld += series.bytes;
    } else {
      this.entries.delete(key);
      this.entries.set(key, series);
    }
    const held = series;
    if (held.serves(tag, fields)) this.bytesHeld += await readFields(held, file, fields.filter((field) => held.field(field.name) === undefined), read);
    return held;
  }
}

/** A file's tag values in DuckDB's order (NULL last) and how many rows each has. */
interface TagCounts {
  readonly values: readonly string[];
  /** Rows of each value with a time (rows whose time is NULL are in no series). */
  readonly counts: readonly number[];
  /** Rows with a time and no tag. */
  readonly untagged: number;
  readonly rows: number;
}

/**
 * Reads a file sorted by `tag`, then time, with the fields it has among `fields`: one scan of its
 * row numbers, times, each row's tag code (its place in `values`, an ENUM of them) and the
 * fields, sorted here by counting (a file of TSBS's 100 hosts x 1 h: one ~3 ms scan of DuckDB's,
 * against ~17 ms for DESCRIBE, GROUP BY, ORDER BY and a scan per field). `values` are the tag values the measurement's files
 * had so far; a value beyond them costs a query of the file's own and a second scan. Before the
 * scan, a DESCRIBE when the catalog does not know the file's columns. A file of more than
 * TAG_CODES_MAX tag values is sorted by DuckDB instead (an ENUM that long costs more to parse
 * than the sort). Answers the series and the tag values it was read with.
 */
async function readSeries(file: SeriesFile, tag: string, fields: readonly SeriesField[], read: SeriesRead, known: readonly string[] | undefined): Promise<{ series: FileSeries; values: readonly string[] }> {
  const types = new Map<string, string>((file.columns ?? []).map((column) => [column.name.toLowerCase(), column.type]));
  if (file.columns === null) {
    for (const chunk of await chunksOf(await read(`DESCRIBE SELECT * FROM read_parquet(${quoteLiteral(file.path)})`))) {
      for (const [name, type] of chunk.getRows()) if (typeof name === 'string' && typeof type === 'string') types.set(name.toLowerCase(), type);
    }
  }
  // Another type of time or tag than the view's: FileSeries.serves says no, nothing is read.
  const tagType = types.get(tag.toLowerCase());
  if ((tagType !== undefined && tagType !== TAG_TYPE) || types.get(TIME_COLUMN) !== TIME_TYPE) return { series: new FileSeries(types, new Map(), NO_ROWS, new Float64Array(0), new Int32Array(0), 0), values: known ?? [] };
  const present = fields.filter((field) => types.has(field.name.toLowerCase()));
  // No tag column: every row's tag is NULL (no value to code).
  const tagged = tagType === undefined ? null : tag;
  let values = tagged === null ? [] : known;
  let scanned: CodedScan | null = values === undefined || values.length > TAG_CODES_MAX ? null : await scanCoded(file, tagged, values, present, read);
  if (scanned === null || scanned.unknown) {
    const tags = await tagCounts(file, tag, read);
    if (tags.values.length > TAG_CODES_MAX) return { series: await readSortedSeries(file, tag, types, tags, read), values: tags.values };
    values = tags.values;
    scanned = await scanCoded(file, tagged, values, present, read);
    assert.ok(!scanned.unknown, `every tag value of ${file.key} is among its own`);
  }
  assert.ok(values !== undefined);
  const series = countingSorted(types, values, scanned.codes, scanned.times);
  for (const [index, column] of scanned.columns.entries()) {
    const field = present[index];
    assert.ok(field !== undefined);
    series.addField(field.name, column.values, column.valid, column.exact);
  }
  for (const field of fields) if (series.field(field.name) === undefined) series.addAbsentField(field.name);
  return { series, values: tagged === null ? (known ?? []) : values };
}

/** A scan's rows by file row number: tag codes (-1 NULL), times, fields; `unknown` when a tag was not in the list. */
interface CodedScan {
  readonly codes: Int32Array;
  readonly times: Float64Array;
  readonly columns: readonly FieldColumn[];
  readonly unknown: boolean;
}

/** Tag codes: the value's place in the list, -1 for NULL, -2 for a value not in it; -3 marks a row whose time is NULL (in no series). */
const NULL_CODE = -1;
const UNKNOWN_CODE = -2;
const NO_TIME_CODE = -3;
const NO_ROWS = { start: 0, end: 0 } as const;

/** One scan of the file in its own order; `tag` null: the file has no tag column (every code NULL_CODE). */
async function scanCoded(file: SeriesFile, tag: string | null, values: readonly string[], present: readonly SeriesField[], read: SeriesRead): Promise<CodedScan> {
  const codes = new Int32Array(file.rows);
  const times = new Float64Array(file.rows);
  const columns = present.map(() => new FieldColumn(file.rows));
  const tagColumn = tag === null ? null : quoteIdentifier(tag);
  const list = tagColumn === null || values.length === 0 ? 'NULL' : `enum_code(TRY_CAST(${tagColumn} AS ENUM(${values.map(quoteLiteral).join(', ')})))`;
  const code = tagColumn === null ? `${String(NULL_CODE)}::INTEGER` : `(CASE WHEN ${tagColumn} IS NULL THEN ${String(NULL_CODE)} ELSE coalesce(${list}, ${String(UNKNOWN_CODE)}) END)::INTEGER`;
  const selected = [quoteIdentifier(TIME_COLUMN), code, ...present.map((field) => quoteIdentifier(field.name))];
  const result = await read(`SELECT file_row_number, ${selected.join(', ')} FROM ${sourceOf(file)}`);
  let seen = 0;
  let unknown = false;
  for (const chunk of await chunksOf(result)) {
    const count = chunk.rowCount;
    const rowNumbers = rowNumberColumn(chunk, count, file.rows);
    const { words: time, validity } = timeWords(chunk, 1, count);
    const chunkCodes = wordsOf(chunk, 2, count, 4);
    for (let index = 0; index < count; index++) {
      const row = rowNumbers[index] as number;
      if (validity !== null && (((validity[index >>> 3] as number) >>> (index & 7)) & 1) === 0) {
        codes[row] = NO_TIME_CODE;
        continue;
      }
      // µs as hi * 2^32 + lo: exact while |time| < 2^53 (FileSeries checks).
      times[row] = (time[2 * index + 1] as number) * 2 ** 32 + ((time[2 * index] as number) >>> 0);
      const rowCode = chunkCodes[index] as number;
      codes[row] = rowCode;
      unknown ||= rowCode === UNKNOWN_CODE;
    }
    for (const [index, column] of columns.entries()) column.read(chunk, index + 3, rowNumbers, present[index]?.type ?? '');
    seen += count;
  }
  assert.equal(seen, file.rows, `a scan gives the rows the file's name says (${file.key})`);
  return { codes, times, columns, unknown };
}

/**
 * The series of a file from each row's tag code and time (by file row number): rows placed by
 * code (a code's rows in file order), each run then sorted by time where the file did not have
 * it so (files are written in arrival order: mostly so).
 */
function countingSorted(types: ReadonlyMap<string, string>, values: readonly string[], codes: Int32Array, times: Float64Array): FileSeries {
  const rows = codes.length;
  // Slots: one per value, then the rows without a tag, then those without a time.
  const untaggedSlot = values.length;
  const noTimeSlot = values.length + 1;
  const counts = new Int32Array(values.length + 2);
  for (const code of codes) {
    const slot = code >= 0 ? code : code === NO_TIME_CODE ? noTimeSlot : untaggedSlot;
    counts[slot] = (counts[slot] as number) + 1;
  }
  const { runs, runBytes, starts, end } = tagRuns(values, counts);
  const untagged = { start: end, end: end + (counts[untaggedSlot] as number) };
  // Where each slot's next row goes: its run's start, then the untagged rows, then those without a time.
  const next = new Int32Array(values.length + 2);
  next.set(starts);
  next[untaggedSlot] = untagged.start;
  next[noTimeSlot] = untagged.end;
  const rowAt = new Int32Array(rows);
  for (let row = 0; row < rows; row++) {
    const code = codes[row] as number;
    const slot = code >= 0 ? code : code === NO_TIME_CODE ? noTimeSlot : untaggedSlot;
    const position = next[slot] as number;
    next[slot] = position + 1;
    rowAt[position] = row;
  }
  for (const { start: first, end } of [...runs.values(), untagged]) {
    let sorted = true;
    for (let position = first + 1; position < end && sorted; position++) sorted = (times[rowAt[position - 1] as number] as number) <= (times[rowAt[position] as number] as number);
    if (!sorted) rowAt.subarray(first, end).sort((left, right) => (times[left] as number) - (times[right] as number) || left - right);
  }
  const time = new Float64Array(rows);
  const positions = new Int32Array(rows);
  for (let position = 0; position < rows; position++) {
    const row = rowAt[position] as number;
    time[position] = times[row] as number;
    positions[row] = position;
  }
  return new FileSeries(types, runs, untagged, time, positions, runBytes);
}

/**
 * The runs of the sorted order, one per tag value with rows, in the order of `values` (the first
 * `values.length` of `counts` are their row counts): where each value's rows start, what the runs
 * cost in the cache, and where the tagged rows end.
 */
function tagRuns(values: readonly string[], counts: ArrayLike<number>): { runs: Map<string, { start: number; end: number }>; runBytes: number; starts: Int32Array; end: number } {
  const runs = new Map<string, { start: number; end: number }>();
  const starts = new Int32Array(values.length);
  let start = 0;
  let runBytes = 0;
  for (const [index, value] of values.entries()) {
    const count = counts[index] ?? 0;
    starts[index] = start;
    if (count > 0) {
      runs.set(value, { start, end: start + count });
      runBytes += RUN_BYTES + value.length * 2;
    }
    start += count;
  }
  return { runs, runBytes, starts, end: start };
}

/** The file's tag values (NULL last, not in `values`) and their row counts. */
async function tagCounts(file: SeriesFile, tag: string, read: SeriesRead): Promise<TagCounts> {
  const values: string[] = [];
  const counts: number[] = [];
  let untagged = 0;
  let rows = 0;
  const sql = `SELECT ${quoteIdentifier(tag)}, count(${quoteIdentifier(TIME_COLUMN)}), count(*) FROM ${sourceOf(file)} GROUP BY ALL ORDER BY 1 NULLS LAST`;
  for (const chunk of await chunksOf(await read(sql))) {
    for (const [value, timed, count] of chunk.getRows()) {
      assert.ok(typeof timed === 'bigint' && typeof count === 'bigint', 'count() is a BIGINT');
      rows += Number(count);
      if (typeof value !== 'string') {
        untagged += Number(timed);
        continue;
      }
      values.push(value);
      counts.push(Number(timed));
    }
  }
  return { values, counts, untagged, rows };
}

/** A file of many tag values, sorted by DuckDB: its rows ordered by the tag (NULL last), then time; rows without a time last. */
async function readSortedSeries(file: SeriesFile, tag: string, types: ReadonlyMap<string, string>, tags: TagCounts, read: SeriesRead): Promise<FileSeries> {
  const { runs, runBytes, end } = tagRuns(tags.values, tags.counts);
  const untagged = { start: end, end: end + tags.untagged };
  const time = new Float64Array(tags.rows);
  const positions = new Int32Array(tags.rows).fill(-1);
  let position = 0;
  const timeColumn = quoteIdentifier(TIME_COLUMN);
  const ordered = await read(`SELECT file_row_number, ${timeColumn} FROM ${sourceOf(file)} ORDER BY ${timeColumn} IS NULL, ${quoteIdentifier(tag)} NULLS LAST, ${timeColumn}, file_row_number`);
  for (const chunk of await chunksOf(ordered)) {
    const count = chunk.rowCount;
    const rowNumbers = rowNumberColumn(chunk, count, tags.rows);
    const { words: micros, validity } = timeWords(chunk, 1, count);
    for (let index = 0; index < count; index++) {
      const row = rowNumbers[index] as number;
      const timed = validity === null || (((validity[index >>> 3] as number) >>> (index & 7)) & 1) === 1;
      time[position] = timed ? (micros[2 * index + 1] as number) * 2 ** 32 + ((micros[2 * index] as number) >>> 0) : Number.NaN;
      positions[row] = position++;
    }
  }
  assert.equal(position, tags.rows, `the file's rows, sorted, are the rows its tags counted (${file.key})`);
  assert.ok(!positions.includes(-1), 'file row numbers are a permutation');
  return new FileSeries(types, runs, untagged, time, positions, runBytes);
}

/** Reads fields the series lacks, in one scan of the file (those the file has not: all NULL); the bytes added. */
async function readFields(series: FileSeries, file: SeriesFile, fields: readonly SeriesField[], read: SeriesRead): Promise<number> {
  const before = series.bytes;
  const present = series.rows === 0 ? [] : fields.filter((field) => series.typeOf(field.name) !== undefined);
  if (present.length > 0) {
    const columns = present.map(() => new FieldColumn(series.rows));
    const result = await read(`SELECT file_row_number, ${present.map((field) => quoteIdentifier(field.name)).join(', ')} FROM ${sourceOf(file)}`);
    let seen = 0;
    for (const chunk of await chunksOf(result)) {
      const rowNumbers = rowNumberColumn(chunk, chunk.rowCount, series.rows);
      for (const [index, column] of columns.entries()) column.read(chunk, index + 1, rowNumbers, present[index]?.type ?? '');
      seen += chunk.rowCount;
    }
    assert.equal(seen, series.rows, `a value of each field for every row (${file.key})`);
    for (const [index, column] of columns.entries()) series.addField(present[index]?.name ?? '', column.values, column.valid, column.exact);
  }
  for (const field of fields) if (series.field(field.name) === undefined) series.addAbsentField(field.name);
  return series.bytes - before;
}

/** One numeric field's values by file row number, read chunk by chunk. */
class FieldColumn {
  readonly values: Float64Array;
  valid: Uint8Array | null = null;
  /** False once a 64-bit integer beyond 2^53 was read. */
  exact = true;

  constructor(rows: number) {
    this.values = new Float64Array(rows);
  }

  read(chunk: DuckDBDataChunk, column: number, rowNumbers: Int32Array, type: string): void {
    const layout = NUMERIC_LAYOUTS.get(type);
    assert.ok(layout !== undefined, `a series window reads ${type} fields`);
    const count = chunk.rowCount;
    const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
    const data = duckdb.vector_get_data(vector, count * layout.array.BYTES_PER_ELEMENT);
    const items = new layout.array(data.buffer, data.byteOffset, count);
    const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8) as Uint8Array | null;
    for (let index = 0; index < count; index++) {
      const row = rowNumbers[index] as number;
      if (validity !== null && (((validity[index >>> 3] as number) >>> (index & 7)) & 1) === 0) {
        this.valid ??= new Uint8Array(this.values.length).fill(1);
        this.valid[row] = 0;
        continue;
      }
      const item = items[index] as number | bigint;
      if (typeof item === 'bigint' && (item > SAFE_BIGINT || item < -SAFE_BIGINT)) this.exact = false;
      this.values[row] = Number(item);
    }
  }
}

function sourceOf(file: SeriesFile): string {
  return `read_parquet(${quoteLiteral(file.path)}, file_row_number = true)`;
}

/** A column of a chunk with no NULLs as 32-bit words (`bytes` per value), valid while the chunk is. */
function wordsOf(chunk: DuckDBDataChunk, column: number, count: number, bytes: number): Int32Array {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
  const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8) as Uint8Array | null;
  let valid = true;
  for (let index = 0; validity !== null && index < count; index++) valid &&= (((validity[index >>> 3] as number) >>> (index & 7)) & 1) === 1;
  assert.ok(valid, 'no NULL in a column the cache sorts by');
  const data = duckdb.vector_get_data(vector, count * bytes);
  return new Int32Array(data.buffer, data.byteOffset, (count * bytes) / 4);
}

/** A TIMESTAMP column of a chunk as 32-bit words (two a value, low first) and its validity (null: no NULL). */
function timeWords(chunk: DuckDBDataChunk, column: number, count: number): { words: Int32Array; validity: Uint8Array | null } {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, column);
  const validity = duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8) as Uint8Array | null;
  const data = duckdb.vector_get_data(vector, count * 8);
  return { words: new Int32Array(data.buffer, data.byteOffset, count * 2), validity };
}

/** The chunk's file row numbers (BIGINT, column 0), each checked below the file's rows. */
function rowNumberColumn(chunk: DuckDBDataChunk, count: number, rows: number): Int32Array {
  const words = wordsOf(chunk, 0, count, 8);
  const rowNumbers = new Int32Array(count);
  let inFile = true;
  for (let index = 0; index < count; index++) {
    const row = words[2 * index] as number;
    inFile &&= words[2 * index + 1] === 0 && row >= 0 && row < rows;
    rowNumbers[index] = row;
  }
  assert.ok(inFile, 'a file row number of the file');
  return rowNumbers;
}

async function chunksOf(result: DuckDBMaterializedResult): Promise<DuckDBDataChunk[]> {
  const chunks: DuckDBDataChunk[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) return chunks;
    chunks.push(chunk);
  }
}
