import assert from 'node:assert/strict';
import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import { influxJobSourceOf } from './influx-settings.js';
import type { ReadOptions, SourceChunk, SourceReader } from './source.js';

/**
 * The chunking both InfluxDB drivers share. A job reads its measurements one after the other (in
 * code-unit order of their names), each in time order, one page (LIMIT/OFFSET query) per chunk.
 *
 * The cursor is `{ measurement, timeNs, skip }`: every measurement before `measurement` is done,
 * and reading goes on at its rows with time >= timeNs, less the first `skip` rows at exactly
 * timeNs. A chunk normally ends at a timestamp boundary (all rows of its last timestamp are in
 * it), so `skip` is 0 and the cursor holds whatever rows a later write adds at an earlier
 * timestamp of the series order. Only when one timestamp holds more rows than a chunk can carry
 * is it split, and then `skip` counts the rows of that timestamp already taken: this relies on the
 * source answering rows of one timestamp in the same order each time, which both servers do for
 * unchanged data (series order).
 */

/** One source row: its time and its line (null when the row has no field value to write). */
export interface InfluxRow {
  readonly timeNs: bigint;
  readonly line: string | null;
}

export interface InfluxPageRequest {
  /** The source measurement. */
  readonly measurement: string;
  /** The destination measurement the lines are written for. */
  readonly destination: string;
  /** Rows with time >= fromNs (null: from the oldest) and < endNs. */
  readonly fromNs: bigint | null;
  readonly endNs: bigint;
  /** At most `limit` rows, after leaving out the first `offset`. */
  readonly limit: number;
  readonly offset: number;
  readonly signal: AbortSignal;
}

export interface InfluxPage {
  /** In time order. */
  readonly rows: readonly InfluxRow[];
  readonly sourceBytes: number;
}

/** Reads one page of one measurement: what each driver implements over its server's query language. */
export type InfluxPager = (request: InfluxPageRequest) => Promise<InfluxPage>;

interface InfluxCursor {
  readonly measurement: string;
  /** Decimal ns; null = from the oldest row. */
  readonly timeNs: string | null;
  readonly skip: number;
  /** True when `measurement` is read to its end. */
  readonly done: boolean;
  /** The first row's time of `measurement` in this run (progress when the range has no start). */
  readonly firstNs: string | null;
}

function parseCursor(text: string): InfluxCursor {
  const cursor = JSON.parse(text) as InfluxCursor;
  assert.ok(typeof cursor.measurement === 'string', 'an InfluxDB cursor names its measurement');
  assert.ok(Number.isSafeInteger(cursor.skip) && cursor.skip >= 0, 'an InfluxDB cursor skips a count of rows');
  return cursor;
}

/** Where a page's rows are cut into a chunk, and where the next chunk starts. */
interface Cut {
  readonly rowCount: number;
  readonly nextTimeNs: bigint;
  readonly nextSkip: number;
}

/**
 * Cuts `rows` (a page asked from `fromNs` with `offset`) after `fitCount` rows fit in a chunk, at
 * the last timestamp boundary, unless the chunk would then be empty: then within a timestamp.
 * `fitCount < rows.length` here (the page has rows after the chunk).
 */
export function cutAtTimestamp(rows: readonly InfluxRow[], fitCount: number, fromNs: bigint | null, offset: number): Cut {
  assert.ok(fitCount > 0);
  assert.ok(fitCount < rows.length);
  const lastNs = (rows[fitCount - 1] as InfluxRow).timeNs;
  if ((rows[fitCount] as InfluxRow).timeNs !== lastNs) return { rowCount: fitCount, nextTimeNs: lastNs + 1n, nextSkip: 0 };
  let groupStart = fitCount - 1;
  while (groupStart > 0 && (rows[groupStart - 1] as InfluxRow).timeNs === lastNs) groupStart -= 1;
  if (groupStart > 0) return { rowCount: groupStart, nextTimeNs: lastNs, nextSkip: 0 };
  // The whole chunk is one timestamp: the rows of it taken so far are skipped next time.
  const skippedBefore = fromNs === lastNs ? offset : 0;
  return { rowCount: fitCount, nextTimeNs: lastNs, nextSkip: skippedBefore + fitCount };
}

/** A page sized from the line length seen asks for this many times the rows that filled the last chunk's bytes. */
const PAGE_HEADROOM = 1.1;
/** A page found too small is asked again this many times larger. */
const PAGE_GROWTH = 2;

export interface InfluxReaderInit {
  /** The measurements of the run, sorted. */
  readonly measurements: readonly string[];
  readonly measurementPrefix: string;
  readonly startNs: bigint | null;
  readonly endNs: bigint;
  readonly options: ReadOptions;
  readonly pager: InfluxPager;
}

export class InfluxReader implements SourceReader {
  private readonly init: InfluxReaderInit;
  private index: number;
  private fromNs: bigint | null;
  private skip: number;
  private firstNs: bigint | null;
  /**
   * Rows a page asks for (plus one, to see whether a row follows the chunk): chunk_rows at first,
   * then about what the byte limit let the last chunk hold, with headroom. Asking chunk_rows of
   * lines longer than chunkBytesMax / chunk_rows read (and had the source answer, and parsed and
   * built) rows the chunk's cut then dropped, to read again with the next page: 3x the rows for
   * TSBS's 500-byte lines. A page that turns out too small is read again larger, so the chunks are
   * the same whatever the page size (a reader reopened at a cursor reads the same chunks).
   */
  private pageRowsMax: number;

  constructor(init: InfluxReaderInit, cursorText: string | null) {
    assert.ok(init.options.chunkRowsMax >= 1);
    this.init = init;
    this.index = 0;
    this.fromNs = init.startNs;
    this.skip = 0;
    this.firstNs = null;
    this.pageRowsMax = init.options.chunkRowsMax;
    if (cursorText !== null) this.resume(parseCursor(cursorText));
  }

  private resume(cursor: InfluxCursor): void {
    const names = this.init.measurements;
    this.index = names.findIndex((name) => (cursor.done ? name > cursor.measurement : name >= cursor.measurement));
    if (this.index === -1) this.index = names.length;
    if (cursor.done || names[this.index] !== cursor.measurement) return;
    if (cursor.firstNs !== null) this.firstNs = BigInt(cursor.firstNs);
    if (cursor.timeNs === null) return;
    const timeNs = BigInt(cursor.timeNs);
    // A run whose range now starts after the cursor (the job's range changed) starts at its start.
    if (this.init.startNs !== null && timeNs < this.init.startNs) return;
    this.fromNs = timeNs;
    this.skip = cursor.skip;
  }

  async next(): Promise<SourceChunk | null> {
    const { options, pager, endNs } = this.init;
    let sourceBytes = 0;
    while (this.index < this.init.measurements.length) {
      const measurement = this.init.measurements[this.index] as string;
      const destination = this.init.measurementPrefix + measurement;
      const limit = this.pageRowsMax + 1;
      const page = await pager({ measurement, destination, fromNs: this.fromNs, endNs, limit, offset: this.skip, signal: options.signal });
      sourceBytes += page.sourceBytes;
      if (page.rows.length === 0) {
        this.finishMeasurement(measurement);
        continue;
      }
      const fitted = this.fit(measurement, page.rows);
      if (fitted.count === page.rows.length && page.rows.length === limit) {
        // Every row of a full page fits: the chunk may hold more than the page asked for.
        this.pageRowsMax = Math.min(options.chunkRowsMax, this.pageRowsMax * PAGE_GROWTH);
        continue;
      }
      this.fitPageToBytes(fitted);
      this.firstNs ??= (page.rows[0] as InfluxRow).timeNs;
      const chunk = this.chunkOf(measurement, destination, page.rows, fitted.count, sourceBytes);
      if (chunk !== null) return chunk;
    }
    return null;
  }

  async close(): Promise<void> {
    // Each page is one request read to its end: nothing stays open between chunks.
  }

  private finishMeasurement(measurement: string): InfluxCursor {
    this.index += 1;
    this.fromNs = this.init.startNs;
    this.skip = 0;
    this.firstNs = null;
    return { measurement, timeNs: null, skip: 0, done: true, firstNs: null };
  }

  /** How many leading rows fit in one chunk (rows and bytes), and their bytes; a first row alone over the byte limit is an error. */
  private fit(measurement: string, rows: readonly InfluxRow[]): { count: number; bytes: number } {
    const { chunkRowsMax, chunkBytesMax } = this.init.options;
    let bytes = 0;
    let count = 0;
    for (const row of rows) {
      if (count === chunkRowsMax) break;
      const rowBytes = row.line === null ? 0 : Buffer.byteLength(row.line) + 1;
      if (bytes + rowBytes > chunkBytesMax) {
        if (count > 0) break;
        throw new ArcError(ErrorKind.badRequest, ImporterErrorCode.sourceFailed, `a row of measurement '${measurement}' at ${row.timeNs.toString()} is ${String(rowBytes)} bytes of line protocol, over the chunk's ${String(chunkBytesMax)}`, {
          measurement,
        });
      }
      bytes += rowBytes;
      count += 1;
    }
    return { count, bytes };
  }

  /** The next pages ask for the rows of a full chunk at the line length seen, with headroom (at most chunk_rows). */
  private fitPageToBytes(fitted: { count: number; bytes: number }): void {
    if (fitted.bytes === 0) return;
    const { chunkRowsMax, chunkBytesMax } = this.init.options;
    const rowsInFullChunk = Math.ceil(((chunkBytesMax * fitted.count) / fitted.bytes) * PAGE_HEADROOM);
    this.pageRowsMax = Math.max(1, Math.min(chunkRowsMax, rowsInFullChunk));
  }

  /** The chunk of the page's first rows, and the cursor moved past them; null when none of them has a field to write. */
  private chunkOf(measurement: string, destination: string, rows: readonly InfluxRow[], fitCount: number, sourceBytes: number): SourceChunk | null {
    let cursor: InfluxCursor;
    let rowCount: number;
    if (fitCount === rows.length) {
      rowCount = fitCount;
      cursor = this.finishMeasurement(measurement);
    } else {
      const cut = cutAtTimestamp(rows, fitCount, this.fromNs, this.skip);
      rowCount = cut.rowCount;
      this.fromNs = cut.nextTimeNs;
      this.skip = cut.nextSkip;
      cursor = { measurement, timeNs: cut.nextTimeNs.toString(), skip: cut.nextSkip, done: false, firstNs: this.firstNs?.toString() ?? null };
    }
    const taken = rows.slice(0, rowCount);
    const lines = taken.flatMap((row) => (row.line === null ? [] : [`${row.line}\n`]));
    if (lines.length === 0) return null;
    return {
      body: Buffer.from(lines.join('')),
      rowCount: lines.length,
      minTimeNs: (taken[0] as InfluxRow).timeNs,
      maxTimeNs: (taken[taken.length - 1] as InfluxRow).timeNs,
      measurements: [destination],
      cursor: JSON.stringify(cursor),
      sourceBytes,
      progress: this.progress(cursor),
    };
  }

  /** Measurements done plus the share of the current one's time range covered, over the measurement count. */
  private progress(cursor: InfluxCursor): number {
    const count = this.init.measurements.length;
    if (cursor.done) return Math.min(1, this.index / count);
    const lowNs = this.init.startNs ?? this.firstNs;
    const atNs = this.fromNs;
    let within = 0;
    if (lowNs !== null && atNs !== null && this.init.endNs > lowNs) within = Number(atNs - lowNs) / Number(this.init.endNs - lowNs);
    return Math.min(1, (this.index + Math.max(0, Math.min(1, within))) / count);
  }
}

/**
 * Opens a reader of a job's measurements: the ones its source names, else every one `listMeasurements`
 * finds in the range; the range ends at `options.endNs`, or at the time the reader opens.
 */
export async function openInfluxReader(
  source: Readonly<Record<string, unknown>>,
  cursor: string | null,
  options: ReadOptions,
  listMeasurements: (endNs: bigint) => Promise<string[]>,
  pager: InfluxPager,
): Promise<InfluxReader> {
  const jobSource = influxJobSourceOf(source);
  const endNs = options.endNs ?? BigInt(Date.now()) * 1_000_000n;
  const named = jobSource.measurements ?? (await listMeasurements(endNs));
  const measurements = [...named].sort();
  return new InfluxReader({ measurements, measurementPrefix: jobSource.measurementPrefix, startNs: options.startNs, endNs, options, pager }, cursor);
}
