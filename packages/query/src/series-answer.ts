import assert from 'node:assert/strict';
import { DuckDBHugeIntType } from '@duckdb/node-api';
import type { DuckDBType } from '@duckdb/node-api';
import { NUMERIC_LAYOUTS } from './numeric-layouts.js';
import type { NumericArray, NumericLayout } from './numeric-layouts.js';
import { MemoryChunk } from './result-chunks.js';
import type { AnswerRows } from './result-chunks.js';
import type { FieldValues, FileSeries } from './series-cache.js';
import { FLOATING_FIELD_TYPES } from './series-window.js';
import type { SeriesColumn } from './series-window.js';

/**
 * A series window's answer computed from the series cache, with DuckDB's semantics for the
 * aggregates it takes (series-window.ts): a group per bucket holding at least one row of the
 * window (without a bucket, one group, the window, even of no rows), max/min over the non-NULL
 * values with NaN above every other double (DuckDB orders it so), NULL when a group has none;
 * count(f) the non-NULL values, count(*) the rows; sum(f) from 0 over the non-NULL values (a
 * DOUBLE, or a HUGEINT for integers, exact: a sum that could pass 2^53 is DuckDB's), avg(f) that
 * sum over their count. Buckets are fixed-width floors: start = t - ((t - origin) mod width),
 * exact in doubles for µs below 2^53.
 */

/** A fixed-width grid of time buckets, µs: every start is origin + k * width. */
export interface BucketGrid {
  readonly originUs: number;
  readonly widthUs: number;
}

/** The rows a window keeps, µs, both inclusive. */
export interface WindowBounds {
  readonly lowerUs: number;
  readonly upperUs: number;
}

/** What series-window.ts planned, as the aggregation reads it. */
export interface SeriesQuery {
  /** The series read; null: every series, and the rows without the tag. */
  readonly tagValues: readonly string[] | null;
  readonly columns: readonly SeriesColumn[];
  readonly descending: boolean;
  readonly limit: number | null;
}

/**
 * How an answer column's values go into a DuckDB vector: a numeric type's layout
 * (numeric-layouts.ts), or a HUGEINT's (`array` null: four 32-bit words a value, low first).
 */
type AnswerType = NumericLayout | { readonly type: DuckDBType; readonly array: null; readonly wide: true };

function layoutOf(type: string): NumericLayout {
  const layout = NUMERIC_LAYOUTS.get(type);
  assert.ok(layout !== undefined, `a numeric layout for ${type}`);
  return layout;
}

/** count(f) and count(*) answer a BIGINT; a bucket a TIMESTAMP (µs, a 64-bit integer). */
const COUNT_TYPE: AnswerType = layoutOf('BIGINT');
const BUCKET_TYPE: AnswerType = layoutOf('TIMESTAMP');
/** sum of a floating-point field and avg answer a DOUBLE, sum of an integer field a HUGEINT; max and min their field's type. */
const DOUBLE_TYPE: AnswerType = layoutOf('DOUBLE');
const HUGE_TYPE: AnswerType = { type: DuckDBHugeIntType.instance, array: null, wide: true };
const WORD = 2 ** 32;

/** The most rows DuckDB puts in one chunk (STANDARD_VECTOR_SIZE): the answer's chunks hold as many. */
const CHUNK_ROWS = 2048;

/** The start of the bucket holding `timeUs`. */
export function bucketStartOf(timeUs: number, grid: BucketGrid): number {
  const offset = (timeUs - grid.originUs) % grid.widthUs;
  return timeUs - (offset < 0 ? offset + grid.widthUs : offset);
}

/** The first index in [start, end) whose time is >= `micros` (times sorted ascending). */
function firstAtOrAfter(time: Float64Array, start: number, end: number, micros: number): number {
  let low = start;
  let high = end;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((time[middle] as number) < micros) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** DuckDB's order of doubles: NaN above everything, else numeric. */
function above(value: number, than: number): boolean {
  if (Number.isNaN(value)) return !Number.isNaN(than);
  return !Number.isNaN(than) && value > than;
}

/** A run of one series in one file, cut to the window: rows [first, last) of the file's sorted order. */
interface WindowRun {
  readonly file: FileSeries;
  readonly fields: readonly (FieldValues | null)[];
  readonly first: number;
  readonly last: number;
}

/**
 * One group's state per aggregate: its value (max/min, a count, a sum), whether a value was seen,
 * and for avg the values added.
 */
interface Group {
  readonly values: Float64Array;
  readonly seen: Uint8Array;
  readonly counts: Float64Array;
}

/** Per bucket start, its group. */
type Groups = Map<number, Group>;

function newGroup(aggregates: number): Group {
  return { values: new Float64Array(aggregates), seen: new Uint8Array(aggregates), counts: new Float64Array(aggregates) };
}

/** How many times as many buckets a narrowed LIMIT reads when the last read found too few. */
const NARROWED_SPAN_GROWTH = 4;

/**
 * Aggregates the window over the files (each sorted by the query's tag) into its answer: one
 * row per bucket, ordered by bucket (the ORDER BY's direction; ascending when the statement has
 * none), at most `limit` rows; without a grid (no bucket) one row, the whole window's. With a
 * LIMIT, only the rows of the newest `limit` buckets of the window (DESC; the oldest for ASC) are
 * read first, from a bucket start on, so every bucket read is whole; fewer groups than the LIMIT
 * read 4x as many buckets, up to the whole window (the reasoning of top-n.ts, on a grid: a bucket
 * below the edge sorts after every bucket above it). Null when a sum of integers could pass 2^53
 * (a double would round it; DuckDB answers).
 */
export function aggregateSeriesWindow(files: readonly FileSeries[], query: SeriesQuery, bounds: WindowBounds, grid: BucketGrid | null): SeriesAnswerRows | null {
  assert.ok(grid === null || (Number.isSafeInteger(grid.widthUs) && grid.widthUs > 0), 'a bucket has a positive width');
  const aggregates = query.columns.flatMap((column) => (column.kind === 'aggregate' ? [column] : []));
  const runs = windowRuns(files, query, aggregates, bounds);
  if (!integerSumsExact(runs, aggregates)) return null;
  let groups: Groups = new Map();
  if (grid === null) {
    groups.set(0, aggregateWindow(runs, aggregates));
  } else if (query.limit === null || runs.length === 0) {
    aggregateRuns(groups, runs, aggregates, bounds.lowerUs, bounds.upperUs, grid);
  } else {
    // The newest (DESC) or oldest (ASC) row of the window, and the bucket it is in.
    let edgeUs = query.descending ? -Infinity : Infinity;
    for (const run of runs) edgeUs = query.descending ? Math.max(edgeUs, run.file.time[run.last - 1] as number) : Math.min(edgeUs, run.file.time[run.first] as number);
    const edgeBucket = bucketStartOf(edgeUs, grid);
    for (let span = Math.max(query.limit, 1); ; span *= NARROWED_SPAN_GROWTH) {
      groups = new Map();
      const fromUs = query.descending ? Math.max(bounds.lowerUs, edgeBucket - (span - 1) * grid.widthUs) : bounds.lowerUs;
      const toUs = query.descending ? bounds.upperUs : Math.min(bounds.upperUs, edgeBucket + span * grid.widthUs - 1);
      aggregateRuns(groups, runs, aggregates, fromUs, toUs, grid);
      if (groups.size >= query.limit || (fromUs === bounds.lowerUs && toUs === bounds.upperUs)) break;
    }
  }
  const starts = [...groups.keys()].sort((left, right) => (query.descending ? right - left : left - right));
  if (query.limit !== null && starts.length > query.limit) starts.length = query.limit;
  const rows = starts.length;
  const columns: AnswerColumn[] = [];
  let index = 0;
  for (const column of query.columns) {
    if (column.kind === 'bucket') {
      columns.push({ name: column.name, type: BUCKET_TYPE, values: Float64Array.from(starts), valid: null });
      continue;
    }
    const type = answerType(column);
    const values = new Float64Array(rows);
    let valid: Uint8Array | null = null;
    for (const [row, start] of starts.entries()) {
      const group = groups.get(start);
      assert.ok(group !== undefined);
      // DuckDB's avg: the sum over the count, in doubles.
      values[row] = column.aggregate === 'avg' ? (group.values[index] as number) / (group.counts[index] as number) : (group.values[index] as number);
      if (column.aggregate !== 'count' && group.seen[index] === 0) {
        valid ??= new Uint8Array(rows).fill(1);
        valid[row] = 0;
      }
    }
    columns.push({ name: column.name, type, values, valid });
    index++;
  }
  return new SeriesAnswerRows(columns, rows);
}

/** The type of an aggregate's answer column, as DuckDB types it. */
function answerType(column: Extract<SeriesColumn, { kind: 'aggregate' }>): AnswerType {
  if (column.aggregate === 'count') return COUNT_TYPE;
  assert.ok(column.column !== null, 'max, min, sum and avg read a field');
  if (column.aggregate === 'avg') return DOUBLE_TYPE;
  if (column.aggregate === 'sum') return FLOATING_FIELD_TYPES.has(column.column.type) ? DOUBLE_TYPE : HUGE_TYPE;
  return layoutOf(column.column.type);
}

/** The largest magnitude of each field's values, found when a sum first needs it. */
const magnitudes = new WeakMap<FieldValues, number>();

function magnitudeOf(field: FieldValues): number {
  let magnitude = magnitudes.get(field);
  if (magnitude === undefined) {
    magnitude = 0;
    for (let row = 0; row < field.values.length; row++) if (field.valid === null || field.valid[row] === 1) magnitude = Math.max(magnitude, Math.abs(field.values[row] as number));
    magnitudes.set(field, magnitude);
  }
  return magnitude;
}

/**
 * Whether every sum of an integer field stays within 2^53 whatever the rows: each partial sum is
 * then exact in a double. Bounded by the rows each run adds times the largest magnitude in its file.
 */
function integerSumsExact(runs: readonly WindowRun[], aggregates: readonly Extract<SeriesColumn, { kind: 'aggregate' }>[]): boolean {
  for (const [index, aggregate] of aggregates.entries()) {
    if (aggregate.aggregate !== 'sum' || aggregate.column === null || FLOATING_FIELD_TYPES.has(aggregate.column.type)) continue;
    let bound = 0;
    for (const run of runs) {
      const field = run.fields[index];
      if (field !== null && field !== undefined) bound += (run.last - run.first) * magnitudeOf(field);
    }
    if (bound > Number.MAX_SAFE_INTEGER) return false;
  }
  return true;
}

/**
 * The whole window as one group (no bucket), column by column: a dashboard's "last hour" reads
 * every row of the hour, so the loops are one aggregate's over one run's rows (count(*) without
 * them). The same semantics as aggregateRuns' per row.
 */
function aggregateWindow(runs: readonly WindowRun[], aggregates: readonly Extract<SeriesColumn, { kind: 'aggregate' }>[]): Group {
  const group = newGroup(aggregates.length);
  for (const [index, aggregate] of aggregates.entries()) {
    // count: the values (or rows) seen; value: the max, min or sum of them.
    let value = 0;
    let count = 0;
    for (const run of runs) {
      const field = run.fields[index];
      assert.ok(field !== undefined);
      const { first, last } = run;
      if (field === null) {
        count += last - first;
        continue;
      }
      const { values, valid } = field;
      switch (aggregate.aggregate) {
        case 'count':
          if (valid === null) count += last - first;
          else for (let row = first; row < last; row++) count += valid[row] as number;
          break;
        case 'sum':
        case 'avg':
          for (let row = first; row < last; row++) {
            if (valid !== null && valid[row] === 0) continue;
            value += values[row] as number;
            count++;
          }
          break;
        case 'max':
        case 'min': {
          const max = aggregate.aggregate === 'max';
          for (let row = first; row < last; row++) {
            if (valid !== null && valid[row] === 0) continue;
            const next = values[row] as number;
            if (count === 0 || (max ? above(next, value) : above(value, next))) value = next;
            count++;
          }
          break;
        }
      }
    }
    group.values[index] = aggregate.aggregate === 'count' ? count : value;
    group.counts[index] = count;
    group.seen[index] = count > 0 ? 1 : 0;
  }
  return group;
}

/** Each series' rows in the window, per file: the query's tag values, or every series and the rows of no tag. */
function windowRuns(files: readonly FileSeries[], query: SeriesQuery, aggregates: readonly Extract<SeriesColumn, { kind: 'aggregate' }>[], bounds: WindowBounds): WindowRun[] {
  const runs: WindowRun[] = [];
  for (const file of files) {
    const fields = aggregates.map((aggregate) => {
      if (aggregate.column === null) return null;
      const field = file.field(aggregate.column.name);
      assert.ok(field !== undefined, `the series cache holds ${aggregate.column.name}`);
      return field;
    });
    const series = query.tagValues === null ? [...file.runs.values(), file.untagged] : query.tagValues.flatMap((value) => file.runs.get(value) ?? []);
    for (const run of series) {
      const first = firstAtOrAfter(file.time, run.start, run.end, bounds.lowerUs);
      // Bounds are whole µs: the first time above upperUs is the first at or after upperUs + 1.
      const last = firstAtOrAfter(file.time, first, run.end, bounds.upperUs + 1);
      if (first < last) runs.push({ file, fields, first, last });
    }
  }
  return runs;
}

/** Adds the rows of `runs` with a time in [fromUs, toUs] to their buckets' groups. */
function aggregateRuns(groups: Groups, runs: readonly WindowRun[], aggregates: readonly Extract<SeriesColumn, { kind: 'aggregate' }>[], fromUs: number, toUs: number, grid: BucketGrid): void {
  const count = aggregates.length;
  for (const { file, fields, first: runFirst, last: runLast } of runs) {
    const time = file.time;
    const first = firstAtOrAfter(time, runFirst, runLast, fromUs);
    const last = firstAtOrAfter(time, first, runLast, toUs + 1);
    let currentStart = Number.NaN;
    let values: Float64Array = new Float64Array(0);
    let seen: Uint8Array = new Uint8Array(0);
    let counts: Float64Array = new Float64Array(0);
    for (let row = first; row < last; row++) {
      const start = bucketStartOf(time[row] as number, grid);
      if (start !== currentStart) {
        let group = groups.get(start);
        if (group === undefined) {
          group = newGroup(count);
          groups.set(start, group);
        }
        ({ values, seen, counts } = group);
        currentStart = start;
      }
      for (let index = 0; index < count; index++) {
        const aggregate = aggregates[index];
        const field = fields[index];
        assert.ok(aggregate !== undefined && field !== undefined);
        if (field === null) {
          values[index] = (values[index] as number) + 1;
          continue;
        }
        if (field.valid !== null && field.valid[row] === 0) continue;
        const value = field.values[row] as number;
        switch (aggregate.aggregate) {
          case 'count':
            values[index] = (values[index] as number) + 1;
            break;
          case 'max':
            if (seen[index] === 0 || above(value, values[index] as number)) values[index] = value;
            break;
          case 'min':
            if (seen[index] === 0 || above(values[index] as number, value)) values[index] = value;
            break;
          case 'sum':
          case 'avg':
            values[index] = (values[index] as number) + value;
            counts[index] = (counts[index] as number) + 1;
            break;
        }
        seen[index] = 1;
      }
    }
  }
}

/** One column of an answer: its values as doubles (exact for every type it has), 1 in `valid` where not NULL. */
interface AnswerColumn {
  readonly name: string;
  readonly type: AnswerType;
  readonly values: Float64Array;
  readonly valid: Uint8Array | null;
}

/** An answer held in memory, handed to the encoders in memory chunks laid out as DuckDB's vectors. */
export class SeriesAnswerRows implements AnswerRows {
  readonly rowCount: number;
  private readonly columns: readonly AnswerColumn[];
  private nextRow = 0;

  constructor(columns: readonly AnswerColumn[], rowCount: number) {
    assert.ok(columns.every((column) => column.values.length === rowCount), 'a value per row in every column');
    this.columns = columns;
    this.rowCount = rowCount;
  }

  get columnCount(): number {
    return this.columns.length;
  }

  columnName(index: number): string {
    const column = this.columns[index];
    assert.ok(column !== undefined, 'a column of the answer');
    return column.name;
  }

  columnType(index: number): DuckDBType {
    const column = this.columns[index];
    assert.ok(column !== undefined, 'a column of the answer');
    return column.type.type;
  }

  /** The next rows in a chunk, each column's values in its vector layout. */
  fetchChunk(): Promise<MemoryChunk | null> {
    if (this.nextRow >= this.rowCount) return Promise.resolve(null);
    const first = this.nextRow;
    const rows = Math.min(CHUNK_ROWS, this.rowCount - first);
    const bytes: Uint8Array[] = [];
    const validities: (Uint8Array | null)[] = [];
    for (const column of this.columns) {
      const data = laidOut(column.type, column.values.subarray(first, first + rows));
      bytes.push(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      if (column.valid === null) {
        validities.push(null);
        continue;
      }
      const validity = new Uint8Array(Math.ceil(rows / 64) * 8);
      for (let row = 0; row < rows; row++) if (column.valid[first + row] === 1) validity[row >>> 3] = (validity[row >>> 3] as number) | (1 << (row & 7));
      validities.push(validity);
    }
    this.nextRow += rows;
    return Promise.resolve(new MemoryChunk(rows, bytes, validities));
  }
}

/** Values (doubles, each exact in its type) in the typed array of a vector's layout. */
function laidOut(type: AnswerType, values: Float64Array): ArrayBufferView<ArrayBuffer> {
  if (type.array !== null && !type.wide) {
    // Not a BigInt array (`wide`): set() converts each double to the element type.
    const laid = new type.array(new ArrayBuffer(values.length * type.array.BYTES_PER_ELEMENT), 0, values.length) as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
    laid.set(values);
    return laid as ArrayBufferView<ArrayBuffer>;
  }
  // Little-endian 64-bit integers: low word, then high (floor: two's complement for negatives);
  // a 128-bit one has the sign in its upper two words (every value is within 2^53).
  const wordsPerValue = type.array === null ? 4 : 2;
  const words = new Int32Array(values.length * wordsPerValue);
  for (const [index, value] of values.entries()) {
    const high = Math.floor(value / WORD);
    words[wordsPerValue * index] = value - high * WORD;
    words[wordsPerValue * index + 1] = high;
    if (wordsPerValue === 4 && value < 0) words.fill(-1, wordsPerValue * index + 2, wordsPerValue * index + 4);
  }
  return words;
}
