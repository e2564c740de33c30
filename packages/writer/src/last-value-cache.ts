import assert from 'node:assert/strict';
import { packLastValueRows, schemaOf, timeMicrosAt, timePairsOf, unpackLastValueRows, valueAt, TIME_COLUMN, type ColumnBatch, type ColumnLayout, type LastValue, type LastValueTable } from '@arc/columnar';
import { parquetColumnsOf } from './parquet-encoder.js';

/**
 * A last-value cache as the main thread defines it: key columns already resolved (the
 * measurement's tags when the user named none), value columns null for "every other column,
 * including ones that appear later".
 */
export interface LastCacheDefinition {
  readonly database: string;
  readonly measurement: string;
  readonly name: string;
  readonly keyColumns: readonly string[];
  readonly valueColumns: readonly string[] | null;
  /** Rows kept per key (the newest by time). */
  readonly count: number;
  /** Rows not refreshed for this long are left out of answers and dropped. */
  readonly ttlSeconds: number;
}

/** One cached row: its time, its values in the cache's column order, and when it arrived. */
interface CachedRow {
  readonly timeUs: number;
  readonly values: LastValue[];
  readonly arrivedAtMs: number;
}

/**
 * The rows of one cache: per key (the key columns' values), the `count` newest rows by time,
 * newest first. A row older than the newest `count` of its key changes nothing, so rows that
 * arrive out of order never replace newer ones; a row of the same key and time replaces the one
 * cached (a later write of the same point wins, as in the measurement itself).
 */
class LastCache {
  readonly definition: LastCacheDefinition;
  /** Key columns, then value columns in first-seen order; `time` is kept apart. */
  private readonly columns: { name: string; type: string }[] = [];
  private readonly columnIndex = new Map<string, number>();
  private readonly rowsByKey = new Map<string, CachedRow[]>();
  private readonly nextVersion: () => number;
  /** LastValueTable.version: taken from nextVersion at every change. */
  private version: number;
  /** The answer of the current version, packed once: a dashboard reads an unchanged cache again and again. */
  private answered: LastValueTable | null = null;

  constructor(definition: LastCacheDefinition, nextVersion: () => number) {
    assert.ok(definition.count >= 1, 'a cache keeps at least one row per key');
    this.definition = definition;
    this.nextVersion = nextVersion;
    this.version = nextVersion();
    // Key columns are always answered, typed once a row names their type (VARCHAR until then).
    for (const name of definition.keyColumns) this.addColumn(name, 'VARCHAR');
    for (const name of definition.valueColumns ?? []) if (name !== TIME_COLUMN) this.addColumn(name, 'VARCHAR');
  }

  /** Takes the newest rows of each key from a batch of the cache's measurement. */
  observe(batch: ColumnBatch, arrivedAtMs: number): void {
    if (batch.rowCount === 0) return;
    const layouts = this.layoutsOf(batch);
    const keyLayouts = this.definition.keyColumns.map((name) => batch.columns.find((column) => column.name === name) ?? null);
    const pairs = timePairsOf(batch);
    // The newest rows of each key in this batch first (a handful per key), then the merge: the
    // merge builds values, which costs far more than comparing times.
    const newest = new Map<string, number[]>();
    const keyParts = new KeyReader(batch, keyLayouts);
    for (let row = 0; row < batch.rowCount; row++) {
      const key = keyParts.keyAt(row);
      const rows = newest.get(key);
      if (rows === undefined) newest.set(key, [row]);
      else insertNewest(rows, row, (candidate) => timeMicrosAt(pairs, candidate), this.definition.count);
    }
    for (const [key, rows] of newest) {
      for (const row of rows) {
        const values = this.columns.map((_, index) => {
          const layout = layouts[index];
          return layout === undefined || layout === null ? null : valueAt(batch, layout, row);
        });
        this.merge(key, { timeUs: timeMicrosAt(pairs, row), values, arrivedAtMs });
      }
    }
  }

  /** Merges rows read from the measurement's files (seeding), newest-wins as for batches. */
  seed(table: LastValueTable, arrivedAtMs: number): void {
    for (const column of table.columns) if (column.name !== TIME_COLUMN && this.wants(column.name)) this.addColumn(column.name, column.type);
    const timeIndex = table.columns.findIndex((column) => column.name === TIME_COLUMN);
    assert.ok(timeIndex >= 0, 'seed rows carry their time');
    const sourceIndex = this.columns.map((column) => table.columns.findIndex((candidate) => candidate.name === column.name));
    for (const row of unpackLastValueRows(table.rowsPacked)) {
      const time = row[timeIndex];
      if (typeof time !== 'number') continue;
      const values = sourceIndex.map((index) => (index < 0 ? null : (row[index] ?? null)));
      this.merge(keyOfValues(values.slice(0, this.definition.keyColumns.length)), { timeUs: time, values, arrivedAtMs });
    }
  }

  /** The cached rows not older than the TTL, newest first per key; expired ones are dropped. */
  table(nowMs: number): LastValueTable {
    this.dropExpired(nowMs);
    if (this.answered?.version === this.version) return this.answered;
    const rows: LastValue[][] = [];
    for (const cached of this.rowsByKey.values()) {
      for (const row of cached) rows.push([...this.columns.map((_, index) => row.values[index] ?? null), row.timeUs]);
    }
    const { database, measurement, name } = this.definition;
    this.answered = { database, measurement, name, version: this.version, columns: [...this.columns.map((column) => ({ ...column })), { name: TIME_COLUMN, type: 'TIMESTAMP' }], rowsPacked: packLastValueRows(rows) };
    return this.answered;
  }

  /** Drops the rows that arrived longer than the TTL ago (a new version when any did). */
  private dropExpired(nowMs: number): void {
    const oldestMs = nowMs - this.definition.ttlSeconds * 1000;
    for (const [key, cached] of this.rowsByKey) {
      if (cached.every((row) => row.arrivedAtMs >= oldestMs)) continue;
      this.version = this.nextVersion();
      const live = cached.filter((row) => row.arrivedAtMs >= oldestMs);
      if (live.length === 0) this.rowsByKey.delete(key);
      else this.rowsByKey.set(key, live);
    }
  }

  private wants(column: string): boolean {
    const values = this.definition.valueColumns;
    return this.columnIndex.has(column) || values === null;
  }

  private addColumn(name: string, type: string): void {
    const index = this.columnIndex.get(name);
    this.version = this.nextVersion();
    if (index === undefined) {
      this.columnIndex.set(name, this.columns.length);
      this.columns.push({ name, type });
      return;
    }
    const column = this.columns[index];
    assert.ok(column !== undefined, 'an indexed column exists');
    column.type = type;
  }

  /** The batch's column for each cache column (null: the batch has none), new columns added. */
  private layoutsOf(batch: ColumnBatch): (ColumnLayout | null)[] {
    const types = new Map(parquetColumnsOf(schemaOf(batch)).map((column) => [column.name, column.type]));
    for (const column of batch.columns) {
      const type = types.get(column.name);
      assert.ok(type !== undefined, 'every batch column has a SQL type');
      // A column of the cache takes its type from the batch (all-null columns may claim any type).
      if (this.wants(column.name) && column.nullCount < batch.rowCount) this.addColumn(column.name, unifiedType(this.typeOf(column.name), type));
    }
    return this.columns.map(({ name }) => batch.columns.find((column) => column.name === name) ?? null);
  }

  private typeOf(name: string): string | null {
    const index = this.columnIndex.get(name);
    return index === undefined ? null : (this.columns[index]?.type ?? null);
  }

  private merge(key: string, row: CachedRow): void {
    // Also when the row changes nothing: one counter step per merged row costs less than telling.
    this.version = this.nextVersion();
    const cached = this.rowsByKey.get(key);
    if (cached === undefined) {
      this.rowsByKey.set(key, [row]);
      return;
    }
    const same = cached.findIndex((candidate) => candidate.timeUs === row.timeUs);
    if (same >= 0) {
      cached[same] = row;
      return;
    }
    let position = cached.findIndex((candidate) => candidate.timeUs < row.timeUs);
    if (position < 0) position = cached.length;
    if (position >= this.definition.count) return;
    cached.splice(position, 0, row);
    if (cached.length > this.definition.count) cached.length = this.definition.count;
  }
}

const NUMBER_TYPES: ReadonlySet<string> = new Set(['BIGINT', 'UBIGINT', 'DOUBLE']);

/**
 * The type a cache column keeps when a batch brings `incoming`: integers and doubles of one field
 * stay DOUBLE, as DuckDB unions the measurement's files (a msgpack batch whose values are all whole
 * numbers is typed BIGINT, and the doubles cached before cannot be loaded as BIGINT).
 */
function unifiedType(held: string | null, incoming: string): string {
  if (held === null || held === incoming || !NUMBER_TYPES.has(held) || !NUMBER_TYPES.has(incoming)) return incoming;
  return held === 'DOUBLE' || incoming === 'DOUBLE' ? 'DOUBLE' : incoming;
}

/** Inserts `row` into `rows` (newest first, by `timeOf`), keeping at most `count`; a tie goes to the later row. */
function insertNewest(rows: number[], row: number, timeOf: (row: number) => number, count: number): void {
  const time = timeOf(row);
  if (count === 1) {
    const held = rows[0];
    assert.ok(held !== undefined, 'a key seen has a row');
    if (time >= timeOf(held)) rows[0] = row;
    return;
  }
  let position = rows.findIndex((candidate) => timeOf(candidate) <= time);
  if (position < 0) position = rows.length;
  if (position >= count) return;
  rows.splice(position, 0, row);
  if (rows.length > count) rows.length = count;
}

/** A key as text: the values joined by a separator no value holds, with their kind (null is not ''). */
function keyOfValues(values: readonly LastValue[]): string {
  return values.map((value) => (value === null ? '\u0001' : `${typeof value}:${String(value)}`)).join('\u0000');
}

/**
 * Reads each row's key. Dictionary-encoded tags (the usual key columns) are decoded once per batch,
 * so a row's key costs a join of interned strings; other columns go through valueAt.
 */
class KeyReader {
  private readonly batch: ColumnBatch;
  private readonly layouts: readonly (ColumnLayout | null)[];
  private readonly decoded: (string[] | null)[];
  private readonly codes: (Int32Array | null)[];
  private readonly parts: string[];

  constructor(batch: ColumnBatch, layouts: readonly (ColumnLayout | null)[]) {
    this.batch = batch;
    this.layouts = layouts;
    this.parts = layouts.map(() => '');
    this.decoded = layouts.map((layout) => (layout?.dictionary === null || layout === null ? null : decodeDictionary(batch, layout)));
    this.codes = layouts.map((layout) => (layout?.dictionary === null || layout === null ? null : new Int32Array(batch.buffer, layout.values.byteOffset, batch.rowCount)));
  }

  keyAt(row: number): string {
    for (let index = 0; index < this.layouts.length; index++) {
      const layout = this.layouts[index];
      const dictionary = this.decoded[index];
      const codes = this.codes[index];
      if (layout === null || layout === undefined) this.parts[index] = '\u0001';
      else if (dictionary !== null && dictionary !== undefined && codes !== null && codes !== undefined && layout.validity === null) {
        this.parts[index] = dictionary[codes[row] as number] as string;
      } else {
        const value = valueAt(this.batch, layout, row);
        this.parts[index] = value === null ? '\u0001' : `${typeof value}:${String(value)}`;
      }
    }
    return this.parts.join('\u0000');
  }
}

/** A dictionary's values, each prefixed as keyOfValues prefixes a string (so both spell a key alike). */
function decodeDictionary(batch: ColumnBatch, layout: ColumnLayout): string[] {
  const dictionary = layout.dictionary;
  assert.ok(dictionary !== null, 'a dictionary column');
  const offsets = new Int32Array(batch.buffer, dictionary.offsets.byteOffset, dictionary.size + 1);
  const values: string[] = [];
  for (let code = 0; code < dictionary.size; code++) {
    const start = offsets[code] as number;
    const end = offsets[code + 1] as number;
    values.push(`string:${Buffer.from(batch.buffer, dictionary.data.byteOffset + start, end - start).toString('utf8')}`);
  }
  return values;
}

/**
 * The last-value caches of one writer thread, by (database, measurement): every batch the
 * writer accepts passes through `observe` (one map lookup when its measurement has no cache).
 */
export class LastValueCaches {
  private readonly byMeasurement = new Map<string, Map<string, LastCache>>();
  private versionLast = 0;
  private readonly nextVersion = (): number => ++this.versionLast;

  /** Defines (or redefines, emptied) a cache, then takes the rows of `batches` (what is buffered). */
  define(definition: LastCacheDefinition, batches: Iterable<ColumnBatch>, nowMs: number): void {
    const key = measurementKey(definition.database, definition.measurement);
    let caches = this.byMeasurement.get(key);
    if (caches === undefined) this.byMeasurement.set(key, (caches = new Map<string, LastCache>()));
    const cache = new LastCache(definition, this.nextVersion);
    caches.set(definition.name, cache);
    for (const batch of batches) cache.observe(batch, nowMs);
  }

  /**
   * Empties the caches of a deleted measurement (`measurement` null: of the whole database): rows
   * dropped from the buffers must not be answered; the main thread reseeds from what is left.
   */
  clear(database: string, measurement: string | null): void {
    for (const caches of this.byMeasurement.values()) {
      for (const [name, cache] of caches) {
        const { definition } = cache;
        if (definition.database === database && (measurement === null || definition.measurement === measurement)) caches.set(name, new LastCache(definition, this.nextVersion));
      }
    }
  }

  drop(database: string, measurement: string, name: string): boolean {
    const key = measurementKey(database, measurement);
    const caches = this.byMeasurement.get(key);
    const dropped = caches?.delete(name) === true;
    if (caches?.size === 0) this.byMeasurement.delete(key);
    return dropped;
  }

  seed(table: LastValueTable, nowMs: number): void {
    this.byMeasurement.get(measurementKey(table.database, table.measurement))?.get(table.name)?.seed(table, nowMs);
  }

  observe(batch: ColumnBatch, nowMs: number): void {
    const caches = this.byMeasurement.get(measurementKey(batch.database, batch.measurement));
    if (caches === undefined) return;
    for (const cache of caches.values()) cache.observe(batch, nowMs);
  }

  /** The rows of the named caches (a name of none this writer holds answers nothing). */
  tables(database: string, measurement: string, names: readonly string[], nowMs: number): LastValueTable[] {
    const caches = this.byMeasurement.get(measurementKey(database, measurement));
    return names.flatMap((name) => caches?.get(name)?.table(nowMs) ?? []);
  }
}

function measurementKey(database: string, measurement: string): string {
  return `${database}\u0000${measurement}`;
}
