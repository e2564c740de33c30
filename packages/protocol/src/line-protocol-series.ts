import assert from 'node:assert/strict';
import { ColumnRole, type BatchBuilder, type ColumnBuilder } from '@arc/columnar';
import { ArcError } from '@arc/config';
import { BYTE_BACKSLASH, BYTE_SPACE } from './line-protocol-scanner.js';
import type { FieldLayout } from './line-protocol-field-layout.js';

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
 */
export class SeriesEntry {
  /** The key's bytes, then the same bytes as little-endian int32 words (whole words only). */
  readonly key: Uint8Array;
  private readonly keyWords: Int32Array;
  readonly measurement: string;
  readonly tagNames: readonly string[];
  /** Unescaped tag values back to back; tag `i` is [valueEnds[i - 1] or 0, valueEnds[i]). */
  readonly tagValues: Uint8Array;
  readonly tagValueEnds: Int32Array;
  /** The field keys of this series' last line read by the scanner, when they qualify (FieldLayout). */
  fieldLayout: FieldLayout | null = null;
  /** The series of the line that followed this one last time (the first one compared). */
  next: SeriesEntry | null = null;
  /** Tag columns of `columnsBuilder`, valid in request `columnsRequest` only (builders are pooled). */
  readonly columns: ColumnBuilder[] = [];
  /** Per tag, the value's dictionary code in its column (-1: not known yet, or a plain column). */
  readonly codes: Int32Array;
  columnsBuilder: BatchBuilder | null = null;
  columnsRequest = -1;

  constructor(key: Uint8Array, measurement: string, tagNames: readonly string[], tagValues: Uint8Array, tagValueEnds: Int32Array) {
    assert.equal(tagNames.length, tagValueEnds.length);
    this.key = key;
    const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
    this.keyWords = new Int32Array(key.byteLength >>> 2);
    for (let word = 0; word < this.keyWords.length; word++) this.keyWords[word] = view.getInt32(word * 4, true);
    this.measurement = measurement;
    this.tagNames = tagNames;
    this.tagValues = tagValues;
    this.tagValueEnds = tagValueEnds;
    this.codes = new Int32Array(tagValueEnds.length);
  }

  /** True when the line [start, end) begins with this key followed by a space. */
  matches(bytes: Uint8Array, view: DataView, start: number, end: number): boolean {
    const key = this.key;
    const length = key.byteLength;
    // The space first: keys of other lengths (host_9 vs host_10) fail here at once.
    if (start + length >= end || bytes[start + length] !== BYTE_SPACE) return false;
    const words = this.keyWords;
    const wordCount = words.length;
    for (let word = 0; word < wordCount; word++) {
      if (view.getInt32(start + word * 4, true) !== words[word]) return false;
    }
    for (let index = wordCount * 4; index < length; index++) {
      if (bytes[start + index] !== key[index]) return false;
    }
    return true;
  }

  /**
   * Appends this series' tag values to the current row of `columns` (from columnsIn): by their
   * dictionary codes once known (no hashing), else by their bytes, learning the codes.
   */
  appendTags(columns: readonly ColumnBuilder[], row: number): void {
    const codes = this.codes;
    const values = this.tagValues;
    const valueEnds = this.tagValueEnds;
    for (let tag = 0; tag < valueEnds.length; tag++) {
      const column = columns[tag] as ColumnBuilder; // one column per tag (columnsIn)
      const code = codes[tag] as number;
      if (code >= 0 && column.appendDictionaryCode(code)) continue;
      column.appendUtf8Bytes(values, tag === 0 ? 0 : (valueEnds[tag - 1] as number), valueEnds[tag] as number);
      codes[tag] = column.dictionaryCodeOf(row);
    }
  }

  /** The tag columns in `builder` for request `request`, resolved by name once per request. */
  columnsIn(builder: BatchBuilder, request: number): ColumnBuilder[] | ArcError {
    if (this.columnsRequest === request && this.columnsBuilder === builder) return this.columns;
    for (let tag = 0; tag < this.tagNames.length; tag++) {
      const column = builder.column(this.tagNames[tag] as string, ColumnRole.tag); // tag < tagNames.length
      if (column instanceof ArcError) {
        this.columnsRequest = -1;
        return column;
      }
      this.columns[tag] = column;
    }
    this.codes.fill(-1);
    this.columnsBuilder = builder;
    this.columnsRequest = request;
    return this.columns;
  }
}

/**
 * Distinct series kept per decoder; past this the cache starts over (a high-cardinality stream
 * then costs a map lookup per new line, not unbounded memory). Keys are at most a line long.
 */
export const SERIES_CACHED_MAX = 10_000;

export class SeriesCache {
  private readonly byKey = new Map<string, SeriesEntry>();
  /** The series of the previous line of this request (null at a request's start). */
  private last: SeriesEntry | null = null;

  /** Starts a request: the first line has no predecessor. */
  begin(): void {
    this.last = null;
  }

  /** The cached series the line [start, end) begins with, or null (then the line is scanned). */
  find(bytes: Buffer, view: DataView, start: number, end: number): SeriesEntry | null {
    const last = this.last;
    const predicted = last === null ? null : last.next;
    if (predicted !== null && predicted.matches(bytes, view, start, end)) {
      this.last = predicted;
      return predicted;
    }
    const keyEnd = unescapedSpace(bytes, start, end);
    if (keyEnd < 0) return null;
    const entry = this.byKey.get(bytes.toString('latin1', start, keyEnd));
    if (entry === undefined) return null;
    this.follow(entry);
    return entry;
  }

  /** Caches the series of a line that was appended without error; `keyEnd` is the space after it. */
  add(bytes: Buffer, start: number, keyEnd: number, measurement: string, tagNames: readonly string[], tagValues: Uint8Array, tagValueEnds: Int32Array): SeriesEntry {
    const keyText = bytes.toString('latin1', start, keyEnd);
    let entry = this.byKey.get(keyText);
    if (entry === undefined) {
      if (this.byKey.size >= SERIES_CACHED_MAX) {
        this.byKey.clear();
        this.last = null;
      }
      entry = new SeriesEntry(Uint8Array.prototype.slice.call(bytes, start, keyEnd), measurement, tagNames, tagValues, tagValueEnds);
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
