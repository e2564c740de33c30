import assert from 'node:assert/strict';
import { ColumnRole, type BatchBuilder, type ColumnBuilder } from '@arc/columnar';
import { ArcError } from '@arc/errors';
import { BYTE_BACKSLASH, BYTE_SPACE } from './line-protocol-scanner.js';
import type { FieldLayout } from './line-protocol-field-layout.js';
import { RequestColumns } from './line-protocol-columns.js';

/**
 * Series keys seen by one decoder: the bytes of a line from its measurement to the space before
 * its fields (`cpu,host=a,region=eu`), mapped to what decoding them gave (the measurement, tag
 * names, unescaped tag values). A line whose key is cached skips scanning, unescaping and naming
 * its tags; it only compares bytes.
 *
 * Exactness: the scan of measurement and tags decides each byte by itself and the byte after it
 * (escapes), and stops at the first unescaped space. A cached key ends right before such a space
 * (so its last byte is no escaping backslash), and a line matches only when its bytes equal the
 * key and the byte after them is a space: the scan of that line would take exactly the same
 * steps. Keys are only cached from lines that were appended without error.
 *
 * Lookup: lines of a batch repeat their series in a stable order (TSBS and Telegraf cycle
 * through hosts), so each entry remembers the series that followed it last time and that one is
 * compared first; otherwise the key is looked up in a map (its end found by memchr).
 *
 * Memory: keys and values are copied into one arena per cache (no buffer per series: a stream
 * of ever new series would otherwise spend its time collecting garbage); when the arena or the
 * entry count is full, the cache starts over.
 */
export class SeriesEntry {
  /** The key is arena[keyStart, keyStart + keyLength). */
  readonly keyStart: number;
  readonly keyLength: number;
  readonly measurement: string;
  readonly tagNames: readonly string[];
  /** Unescaped tag values back to back from arena[valuesStart]; tag `i` ends at valuesStart + valueEnds[i]. */
  private readonly valuesStart: number;
  private readonly valueEnds: readonly number[];
  /** The cache generation the arena ranges belong to. */
  readonly generation: number;
  /** The field keys of this series' last line read by the scanner, when they qualify (FieldLayout). */
  fieldLayout: FieldLayout | null = null;
  /** The series of the line that followed this one last time (the first one compared). */
  next: SeriesEntry | null = null;
  private readonly columns: RequestColumns;
  /** Per tag, the value's dictionary code in its column (-1: not known yet, or a plain column). */
  private readonly codes: number[];

  constructor(generation: number, keyStart: number, keyLength: number, measurement: string, tagNames: readonly string[], valuesStart: number, valueEnds: readonly number[]) {
    assert.equal(tagNames.length, valueEnds.length);
    this.generation = generation;
    this.keyStart = keyStart;
    this.keyLength = keyLength;
    this.measurement = measurement;
    this.tagNames = tagNames;
    this.valuesStart = valuesStart;
    this.valueEnds = valueEnds;
    this.codes = valueEnds.map(() => -1);
    this.columns = new RequestColumns(tagNames, ColumnRole.tag);
  }

  /**
   * Appends this series' tag values (held in `arena`) to the current row of `columns` (from
   * columnsIn): by their dictionary codes once known (no hashing), else by their bytes,
   * learning the codes.
   */
  appendTags(columns: readonly ColumnBuilder[], row: number, arena: Uint8Array): void {
    const codes = this.codes;
    const valueEnds = this.valueEnds;
    for (let tag = 0; tag < valueEnds.length; tag++) {
      const column = columns[tag] as ColumnBuilder; // one column per tag (columnsIn)
      const code = codes[tag] as number;
      if (code >= 0 && column.appendDictionaryCode(code)) continue;
      const valueStart = this.valuesStart + (tag === 0 ? 0 : (valueEnds[tag - 1] as number));
      column.appendUtf8Bytes(arena, valueStart, this.valuesStart + (valueEnds[tag] as number));
      codes[tag] = column.dictionaryCodeOf(row);
    }
  }

  /** The tag columns in `builder` for request `request` (RequestColumns); codes start over with them. */
  columnsIn(builder: BatchBuilder, request: number): readonly ColumnBuilder[] | ArcError {
    if (!this.columns.isFor(builder, request)) this.codes.fill(-1);
    return this.columns.in(builder, request);
  }
}

/**
 * Distinct series kept per decoder, and the arena bytes for their keys and values; past either
 * the cache starts over (a high-cardinality stream then pays a map lookup per new line, not
 * unbounded memory). An entry takes at most two line lengths, so one always fits.
 */
export const SERIES_CACHED_MAX = 10_000;
export const SERIES_ARENA_BYTES = 4 * 1024 * 1024;
/**
 * When a full cache was hit fewer times than it has entries (most series came once: a
 * high-cardinality stream), caching costs more than it saves: the next this many requests are
 * decoded without it, then it is tried again.
 */
export const SERIES_BYPASS_REQUESTS = 64;

export class SeriesCache {
  private readonly byKey = new Map<string, SeriesEntry>();
  /** The series of the previous line of this request (null at a request's start). */
  private last: SeriesEntry | null = null;
  /** Keys and unescaped tag values of every entry of this generation. */
  readonly arena = new Uint8Array(SERIES_ARENA_BYTES);
  private readonly arenaView = new DataView(this.arena.buffer);
  private arenaLength = 0;
  private generation = 0;
  /** Lines that found their series in this generation. */
  private hits = 0;
  /** Requests left to decode without the cache (SERIES_BYPASS_REQUESTS). */
  private bypassRequests = 0;

  /** Starts a request: the first line has no predecessor. */
  begin(): void {
    this.last = null;
    if (this.bypassRequests > 0) this.bypassRequests--;
  }

  /** False while the cache is bypassed: lines are then neither looked up nor added. */
  get enabled(): boolean {
    return this.bypassRequests === 0;
  }

  /** The cached series the line [start, end) begins with, or null (then the line is scanned). */
  find(bytes: Buffer, view: DataView, start: number, end: number): SeriesEntry | null {
    const last = this.last;
    const predicted = last === null ? null : last.next;
    if (predicted !== null && predicted.generation === this.generation && this.matches(predicted, bytes, view, start, end)) {
      this.last = predicted;
      this.hits++;
      return predicted;
    }
    const keyEnd = unescapedSpace(bytes, start, end);
    if (keyEnd < 0) return null;
    const entry = this.byKey.get(bytes.toString('latin1', start, keyEnd));
    if (entry === undefined) return null;
    this.hits++;
    this.follow(entry);
    return entry;
  }

  /** True when the line [start, end) begins with the entry's key followed by a space. */
  private matches(entry: SeriesEntry, bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const length = entry.keyLength;
    // The space first: keys of other lengths (host_9 vs host_10) fail here at once.
    if (start + length >= end || bytes[start + length] !== BYTE_SPACE) return false;
    const arena = this.arena;
    const arenaView = this.arenaView;
    const keyStart = entry.keyStart;
    const wordsEnd = length & ~3;
    for (let offset = 0; offset < wordsEnd; offset += 4) {
      if (view.getInt32(start + offset, true) !== arenaView.getInt32(keyStart + offset, true)) return false;
    }
    for (let offset = wordsEnd; offset < length; offset++) {
      if (bytes[start + offset] !== arena[keyStart + offset]) return false;
    }
    return true;
  }

  /**
   * Caches the series of a line that was appended without error (`keyEnd`: the space after its
   * key); `values` holds its unescaped tag values back to back, tag `i` ending at valueEnds[i].
   */
  add(bytes: Buffer, start: number, keyEnd: number, measurement: string, tagNames: readonly string[], values: Uint8Array, valueEnds: readonly number[]): SeriesEntry {
    const keyText = bytes.toString('latin1', start, keyEnd);
    let entry = this.byKey.get(keyText);
    if (entry === undefined) {
      const keyLength = keyEnd - start;
      const valuesLength = valueEnds.length === 0 ? 0 : (valueEnds[valueEnds.length - 1] as number);
      if (this.byKey.size >= SERIES_CACHED_MAX || this.arenaLength + keyLength + valuesLength > this.arena.byteLength) {
        if (this.hits < this.byKey.size) this.bypassRequests = SERIES_BYPASS_REQUESTS;
        this.hits = 0;
        this.byKey.clear();
        this.arenaLength = 0;
        this.generation++;
        this.last = null;
      }
      const keyStart = this.arenaLength;
      bytes.copy(this.arena, keyStart, start, keyEnd);
      for (let index = 0; index < valuesLength; index++) this.arena[keyStart + keyLength + index] = values[index] as number; // index < valuesLength <= values.length
      this.arenaLength = keyStart + keyLength + valuesLength;
      entry = new SeriesEntry(this.generation, keyStart, keyLength, measurement, tagNames, keyStart + keyLength, valueEnds);
      this.byKey.set(keyText, entry);
    }
    this.follow(entry);
    return entry;
  }

  private follow(entry: SeriesEntry): void {
    if (this.last !== null) this.last.next = entry;
    this.last = entry;
  }
}

/** The first space of [start, end) not escaped by a backslash, or -1: where a series key ends. */
function unescapedSpace(bytes: Buffer, start: number, end: number): number {
  let space = bytes.indexOf(BYTE_SPACE, start);
  while (space > start && space < end && bytes[space - 1] === BYTE_BACKSLASH) space = bytes.indexOf(BYTE_SPACE, space + 1);
  return space > start && space < end ? space : -1;
}
