import assert from 'node:assert/strict';
import { catalogEntry, compareEntries, derivedIdentityOf, ownCopy, type CatalogEntry, type FileShape } from './catalog-entry.js';
import { dayStartUs, hourStartUs, measurementPrefix, spanMicros, type FileKeyFacts, type PartitionSpan } from './layout.js';
import { COLUMN_LISTS_PER_MEASUREMENT_MAX, FILE_SHAPES_PER_MEASUREMENT_MAX } from './limits.js';

/** A column as DuckDB names its type (`TIMESTAMP`, `BIGINT`, `DOUBLE`, `VARCHAR`, `BOOLEAN`). */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
}

/** A committed data file as the catalog knows it. */
export interface CatalogFile extends Omit<FileKeyFacts, 'bytes'> {
  readonly key: string;
  readonly bytes: number;
  /** The file's columns; null when not known yet (files found by a listing: read from the footer when needed). */
  readonly columns: readonly ColumnSpec[] | null;
}

export type CatalogChange =
  | { readonly kind: 'add'; readonly files: readonly CatalogFile[] }
  /** Measurements known to exist (their directories were listed) whose files are not listed yet. */
  | { readonly kind: 'declare'; readonly database: string; readonly measurements: readonly string[] }
  /** A measurement's listing: its files, and from now on the catalog holds all of them. */
  | { readonly kind: 'load'; readonly database: string; readonly measurement: string; readonly files: readonly CatalogFile[] }
  | { readonly kind: 'drop-files'; readonly keys: readonly string[] }
  | { readonly kind: 'drop-measurement'; readonly database: string; readonly measurement: string }
  | { readonly kind: 'drop-database'; readonly database: string };

/** The changes that take a catalog from `generation - 1` to `generation`. */
export interface CatalogDelta {
  readonly generation: number;
  readonly changes: readonly CatalogChange[];
}

export interface CatalogSnapshot {
  readonly generation: number;
  readonly files: readonly CatalogFile[];
  /** Measurements (database, measurement) whose files are not all listed yet. */
  readonly unloaded: readonly (readonly [string, string])[];
}

export interface MeasurementTotals {
  readonly files: number;
  readonly bytes: number;
  /** Start of the first and last hour holding a file, µs; null when there is none. */
  readonly firstHourUs: number | null;
  readonly lastHourUs: number | null;
}

/** Where the catalog's index keeps the entries of one identity: almost always one. */
type IndexSlot = CatalogEntry | CatalogEntry[];

/** The entry of `key` in a slot, if any. */
function entryIn(slot: IndexSlot | undefined, key: string): CatalogEntry | undefined {
  if (slot === undefined) return undefined;
  if (!Array.isArray(slot)) return slot.key === key ? slot : undefined;
  return slot.find((entry) => entry.key === key);
}

/**
 * A measurement's files, kept sorted by hour (then key) for range lookups. Entries (catalog-entry.ts)
 * hold numbers, the write order and a shared shape, not a key and a dozen strings: the index maps
 * an entry's identity (its order, or its key when the name is not the layout's) to it.
 */
class MeasurementFiles {
  private readonly index = new Map<string, IndexSlot>();
  private count = 0;
  /**
   * False while the measurement's files have not been listed (the catalog loads measurements
   * lazily after a start: Storage.ensureLoaded); its files then are only those published since.
   */
  loaded: boolean;
  private readonly database: string;
  private readonly measurement: string;
  private readonly keyPrefix: string;

  constructor(database: string, measurement: string, loaded: boolean) {
    this.database = ownCopy(database);
    this.measurement = ownCopy(measurement);
    this.keyPrefix = measurementPrefix(this.database, this.measurement);
    this.loaded = loaded;
  }

  /**
   * Set by the catalog on every change, from one counter for all measurements (so a measurement
   * dropped and written again never repeats a version): what per-measurement caches (views,
   * columns) are keyed by.
   */
  version = 0;
  bytes = 0;
  private sortedCache: CatalogEntry[] | null = [];
  private columnsCache: { version: number; columns: readonly ColumnSpec[] | null } | null = null;
  /**
   * One array per distinct column list, by its signature: files of one schema share it. Every
   * file arrives with its own copy (a structured clone from the writer thread, and again in each
   * query thread's replica), ~2.5 KB for TSBS's 21 columns: at 40,000 files that was most of the
   * catalog's memory in every thread.
   */
  private readonly columnLists = new Map<string, readonly ColumnSpec[]>();
  /** The shapes of the measurement's entries, by span, node, schema id and column list. */
  private readonly shapes = new Map<string, FileShape>();
  /** Column lists by identity, numbered for the shapes' map keys. */
  private readonly columnListIds = new Map<readonly ColumnSpec[], number>();

  get size(): number {
    return this.count;
  }

  /** Adds the file, or replaces the one of its key; true when the key was new. */
  add(incoming: CatalogFile): boolean {
    const entry = catalogEntry(this.shapeOf(incoming.span, incoming.nodeId, incoming.schemaId, incoming.columns === null ? null : this.sharedColumns(incoming.columns)), incoming);
    const known = this.file(incoming.key);
    if (known !== undefined) {
      this.removeEntry(known);
      this.sortedCache = null;
    }
    this.insert(entry);
    this.bytes += entry.bytes;
    const sorted = this.sortedCache;
    const last = sorted?.at(-1);
    // New files are mostly of the newest hour: appended in order, no re-sort.
    if (sorted !== null && (last === undefined || compareEntries(last, entry) < 0)) sorted.push(entry);
    else this.sortedCache = null;
    return known === undefined;
  }

  /** The listing's files, added to those published meanwhile; the measurement is complete from now on. */
  load(files: readonly CatalogFile[]): void {
    for (const file of files) this.add(file);
    this.loaded = true;
  }

  /** Gives files whose columns were unknown the measurement's columns as DuckDB described them. */
  fillColumns(described: readonly ColumnSpec[]): void {
    const columns = this.sharedColumns(described);
    for (const entry of this.allEntries()) {
      if (entry.columns === null) entry.shape = this.shapeOf(entry.span, entry.nodeId, entry.schemaId, columns);
    }
    this.columnsCache = null;
  }

  /** Removes the file of `key`; false when there was none. */
  remove(key: string): boolean {
    const known = this.file(key);
    if (known === undefined) return false;
    this.removeEntry(known);
    this.sortedCache = null;
    return true;
  }

  sorted(): readonly CatalogFile[] {
    this.sortedCache ??= [...this.allEntries()].sort(compareEntries);
    return this.sortedCache;
  }

  /**
   * The union of the files' columns by name, in order of first appearance over the files in hour
   * order (what DuckDB's `union_by_name` gives); null when a file's columns are unknown or two
   * files disagree on a column's type (DuckDB then decides).
   */
  columns(): readonly ColumnSpec[] | null {
    if (this.columnsCache?.version === this.version) return this.columnsCache.columns;
    const byName = new Map<string, ColumnSpec>();
    let columns: ColumnSpec[] | null = [];
    let previous: readonly ColumnSpec[] | null = null;
    for (const file of this.sorted()) {
      if (file.columns === null) {
        columns = null;
        break;
      }
      // Files share their column list (sharedColumns): a list already merged adds nothing.
      if (file.columns === previous) continue;
      previous = file.columns;
      for (const column of file.columns) {
        const seen = byName.get(column.name);
        if (seen === undefined) {
          byName.set(column.name, column);
          columns.push(column);
        } else if (seen.type !== column.type) {
          columns = null;
          break;
        }
      }
      if (columns === null) break;
    }
    this.columnsCache = { version: this.version, columns };
    return columns;
  }

  /** Every entry, in no particular order. */
  *allEntries(): Generator<CatalogEntry> {
    for (const slot of this.index.values()) {
      if (Array.isArray(slot)) yield* slot;
      else yield slot;
    }
  }

  /** The file of `key`, found by the index (no key derived but the candidates'). */
  file(key: string): CatalogEntry | undefined {
    const derived = derivedIdentityOf(key);
    return entryIn(this.index.get(key), key) ?? (derived === null ? undefined : entryIn(this.index.get(derived), key));
  }

  private insert(entry: CatalogEntry): void {
    const identity = entry.identity;
    const slot = this.index.get(identity);
    if (slot === undefined) this.index.set(identity, entry);
    else if (Array.isArray(slot)) slot.push(entry);
    else this.index.set(identity, [slot, entry]);
    this.count++;
  }

  private removeEntry(entry: CatalogEntry): void {
    const identity = entry.identity;
    const slot = this.index.get(identity);
    if (slot === entry) this.index.delete(identity);
    else if (Array.isArray(slot)) {
      const others = slot.filter((other) => other !== entry);
      if (others.length === 1) this.index.set(identity, others[0] as CatalogEntry);
      else this.index.set(identity, others);
    }
    this.bytes -= entry.bytes;
    this.count--;
  }

  /** The measurement's shape of these facts, kept now if new. */
  private shapeOf(span: PartitionSpan, nodeId: string | null, schemaId: string | null, columns: readonly ColumnSpec[] | null): FileShape {
    let listId = columns === null ? -1 : this.columnListIds.get(columns);
    if (listId === undefined) {
      listId = this.columnListIds.size;
      this.columnListIds.set(columns as readonly ColumnSpec[], listId);
    }
    const signature = `${span}/${nodeId ?? ''}/${nodeId === null ? 0 : 1}/${schemaId ?? ''}/${String(listId)}`;
    const kept = this.shapes.get(signature);
    if (kept !== undefined) return kept;
    // Shapes follow column lists: a schema that changes with every file starts them over too.
    if (this.shapes.size >= FILE_SHAPES_PER_MEASUREMENT_MAX) {
      this.shapes.clear();
      this.columnListIds.clear();
      return this.shapeOf(span, nodeId, schemaId, columns);
    }
    const shape: FileShape = { database: this.database, measurement: this.measurement, keyPrefix: this.keyPrefix, span, nodeId: nodeId === null ? null : ownCopy(nodeId), schemaId: schemaId === null ? null : ownCopy(schemaId), columns };
    this.shapes.set(signature, shape);
    return shape;
  }

  /** The measurement's kept array equal to `columns` (names, types and order), kept now if new. */
  private sharedColumns(columns: readonly ColumnSpec[]): readonly ColumnSpec[] {
    const signature = JSON.stringify(columns.map((column) => [column.name, column.type]));
    const kept = this.columnLists.get(signature);
    if (kept !== undefined) return kept;
    // A schema that changes with every file would keep one list per file: start over instead
    // (files keep the arrays they hold; only the sharing of later files restarts).
    if (this.columnLists.size >= COLUMN_LISTS_PER_MEASUREMENT_MAX) this.columnLists.clear();
    this.columnLists.set(signature, columns);
    return columns;
  }
}

/** Index of the first file whose hour is at or after `hourUs`. */
function firstAtOrAfter(files: readonly CatalogFile[], hourUs: number): number {
  let low = 0;
  let high = files.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    // low <= middle < high <= files.length: in range.
    if ((files[middle] as CatalogFile).hourUs < hourUs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The committed files per (database, measurement, hour), with a generation number that every
 * change bumps. The storage front door holds the authoritative one (loaded from a listing, then
 * changed by publish and delete events); query threads hold replicas kept in step by the deltas
 * it emits (docs/architecture.md, Storage). Nothing here touches the store.
 */
export class FileCatalog {
  private generationValue = 0;
  private readonly databases = new Map<string, Map<string, MeasurementFiles>>();
  private fileCount = 0;
  private versionCounter = 0;

  get generation(): number {
    return this.generationValue;
  }

  get size(): number {
    return this.fileCount;
  }

  /** Applies changes as the next generation and returns the delta that replicas apply. */
  change(changes: readonly CatalogChange[]): CatalogDelta {
    for (const change of changes) this.applyChange(change);
    this.generationValue++;
    return { generation: this.generationValue, changes };
  }

  /** A replica's step: false (nothing applied) when the delta is not the next generation. */
  applyDelta(delta: CatalogDelta): boolean {
    if (delta.generation !== this.generationValue + 1) return false;
    for (const change of delta.changes) this.applyChange(change);
    this.generationValue = delta.generation;
    return true;
  }

  snapshot(): CatalogSnapshot {
    const files: CatalogFile[] = [];
    const unloaded: (readonly [string, string])[] = [];
    for (const [database, measurements] of this.databases) {
      for (const [measurement, entry] of measurements) {
        // Entries' getters do not survive a structured clone: the snapshot travels as plain files.
        for (const file of entry.allEntries()) files.push(file.toPlain());
        if (!entry.loaded) unloaded.push([database, measurement]);
      }
    }
    return { generation: this.generationValue, files, unloaded };
  }

  loadSnapshot(snapshot: CatalogSnapshot): void {
    this.databases.clear();
    this.fileCount = 0;
    for (const [database, measurement] of snapshot.unloaded) this.declare(database, measurement);
    for (const file of snapshot.files) this.addFile(file);
    this.generationValue = snapshot.generation;
  }

  /** True when the catalog holds every file of the measurement (or it does not exist). */
  isLoaded(database: string, measurement: string): boolean {
    return this.databases.get(database)?.get(measurement)?.loaded !== false;
  }

  /** Measurements whose files are not listed yet, as (database, measurement) pairs. */
  unloadedMeasurements(): (readonly [string, string])[] {
    const unloaded: (readonly [string, string])[] = [];
    for (const [database, measurements] of this.databases) for (const [measurement, entry] of measurements) if (!entry.loaded) unloaded.push([database, measurement]);
    return unloaded;
  }

  /** Databases with at least one file, sorted. */
  databaseNames(): string[] {
    return [...this.databases.keys()].sort();
  }

  hasDatabase(database: string): boolean {
    return this.databases.has(database);
  }

  /** Measurements of the database with at least one file, sorted. */
  measurementNames(database: string): string[] {
    return [...(this.databases.get(database)?.keys() ?? [])].sort();
  }

  hasMeasurement(database: string, measurement: string): boolean {
    return this.databases.get(database)?.has(measurement) === true;
  }

  /** Bumped whenever the measurement's files change; -1 when it has none. */
  measurementVersion(database: string, measurement: string): number {
    return this.databases.get(database)?.get(measurement)?.version ?? -1;
  }

  /** The measurement's files in hour order. */
  files(database: string, measurement: string): readonly CatalogFile[] {
    return this.databases.get(database)?.get(measurement)?.sorted() ?? [];
  }

  /**
   * The measurement's file of `key`, or undefined. Cheaper than a map of `files()` by key: an
   * entry's key is derived when read (catalog-entry.ts), the index finds it without.
   */
  file(database: string, measurement: string, key: string): CatalogFile | undefined {
    return this.databases.get(database)?.get(measurement)?.file(key);
  }

  /**
   * The files that may hold rows with time from `lowerUs` to `upperUs` (inclusive, µs; null:
   * unbounded), in hour order: a binary search to the first hour, then the files' time bounds.
   * The search starts at the day of `lowerUs`: a day file (daily compaction) sorts at its day's start.
   */
  filesInRange(database: string, measurement: string, lowerUs: number | null, upperUs: number | null): CatalogFile[] {
    const files = this.files(database, measurement);
    const start = lowerUs === null ? 0 : firstAtOrAfter(files, dayStartUs(lowerUs));
    const found: CatalogFile[] = [];
    for (let index = start; index < files.length; index++) {
      const file = files[index];
      assert.ok(file !== undefined);
      if (upperUs !== null && file.hourUs > upperUs) break;
      if (lowerUs !== null && file.maxTimeUs < lowerUs) continue;
      if (upperUs !== null && file.minTimeUs > upperUs) continue;
      found.push(file);
    }
    return found;
  }

  /** The union of the measurement's columns, when every file's are known and agree. */
  columns(database: string, measurement: string): readonly ColumnSpec[] | null {
    return this.databases.get(database)?.get(measurement)?.columns() ?? null;
  }

  /**
   * Records the measurement's columns, read from its files' footers, for the files whose columns
   * were unknown (found by a listing): later unions need no footer read until a file disagrees.
   */
  fillColumns(database: string, measurement: string, columns: readonly ColumnSpec[]): void {
    this.databases.get(database)?.get(measurement)?.fillColumns(columns);
  }

  totals(database: string, measurement: string): MeasurementTotals {
    const entry = this.databases.get(database)?.get(measurement);
    const sorted = entry?.sorted() ?? [];
    const first = sorted[0];
    const last = sorted.at(-1);
    // A day file starts its day's run: its rows' own hours are the first and last ones.
    return { files: sorted.length, bytes: entry?.bytes ?? 0, firstHourUs: first === undefined ? null : hourStartUs(first.minTimeUs), lastHourUs: last === undefined ? null : hourStartUs(last.maxTimeUs) };
  }

  private applyChange(change: CatalogChange): void {
    switch (change.kind) {
      case 'add':
        for (const file of change.files) this.addFile(file);
        return;
      case 'drop-files':
        for (const key of change.keys) this.removeFile(key);
        return;
      case 'declare':
        for (const measurement of change.measurements) this.declare(change.database, measurement);
        return;
      case 'load': {
        const entry = this.entryOf(change.database, change.measurement, true);
        const before = entry.size;
        entry.load(change.files);
        this.fileCount += entry.size - before;
        entry.version = ++this.versionCounter;
        this.dropIfEmpty(change.database, change.measurement);
        return;
      }
      case 'drop-measurement': {
        const measurements = this.databases.get(change.database);
        const entry = measurements?.get(change.measurement);
        if (measurements === undefined || entry === undefined) return;
        this.fileCount -= entry.size;
        measurements.delete(change.measurement);
        if (measurements.size === 0) this.databases.delete(change.database);
        return;
      }
      case 'drop-database': {
        for (const entry of this.databases.get(change.database)?.values() ?? []) this.fileCount -= entry.size;
        this.databases.delete(change.database);
        return;
      }
    }
  }

  /**
   * The measurement's entry, made when missing: `loaded` for a measurement first seen through a
   * published file (the listing at start did not find it, so it had no file), not for a declared one.
   */
  private entryOf(database: string, measurement: string, loaded: boolean): MeasurementFiles {
    let measurements = this.databases.get(database);
    if (measurements === undefined) this.databases.set(database, (measurements = new Map<string, MeasurementFiles>()));
    let entry = measurements.get(measurement);
    if (entry === undefined) measurements.set(measurement, (entry = new MeasurementFiles(database, measurement, loaded)));
    return entry;
  }

  private declare(database: string, measurement: string): void {
    const entry = this.entryOf(database, measurement, false);
    entry.version = ++this.versionCounter;
  }

  private addFile(file: CatalogFile): void {
    assert.ok(file.maxTimeUs < file.hourUs + spanMicros(file.span), 'a file holds its hour (or its day)');
    const entry = this.entryOf(file.database, file.measurement, true);
    if (entry.add(file)) this.fileCount++;
    entry.version = ++this.versionCounter;
  }

  /** A listed measurement without files is not one (an unlisted one may still have files). */
  private dropIfEmpty(database: string, measurement: string): void {
    const measurements = this.databases.get(database);
    const entry = measurements?.get(measurement);
    if (measurements === undefined || entry === undefined || !entry.loaded || entry.size > 0) return;
    measurements.delete(measurement);
    if (measurements.size === 0) this.databases.delete(database);
  }

  private removeFile(key: string): void {
    const [database = '', measurement = ''] = key.split('/', 2);
    const measurements = this.databases.get(database);
    const entry = measurements?.get(measurement);
    if (measurements === undefined || entry?.remove(key) !== true) return;
    entry.version = ++this.versionCounter;
    this.fileCount--;
    this.dropIfEmpty(database, measurement);
  }
}
