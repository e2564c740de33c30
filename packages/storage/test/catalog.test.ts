// Proves the file catalog: files are found by hour and time bounds (across day, month and year
// edges, both ends inclusive), totals and columns follow adds and drops, a replica fed the deltas
// equals its source and refuses a delta out of order, and the Storage front door rebuilds the
// catalog from a listing (names at open, a measurement's files when first needed, columns from
// schema objects), refuses names equal but for case, and deletes through the catalog. Files of one
// column list share one array (the catalog's memory per file), whatever the schema does.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { COLUMN_LISTS_PER_MEASUREMENT_MAX } from '../src/limits.js';
import { FileCatalog, MICROS_PER_HOUR, NAME_CASE_CONFLICT_CODE, Storage, dataFileKey, encodeSchema, parseFileKey, schemaIdOf, schemaKey, type CatalogEvent, type CatalogFile, type ColumnSpec } from '../src/index.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const micros = (iso: string): number => Date.parse(iso) * 1000;

function file(database: string, measurement: string, iso: string, columns: CatalogFile['columns'] = null, rows = 1): CatalogFile {
  const timeUs = micros(iso);
  const hourUs = Math.floor(timeUs / MICROS_PER_HOUR) * MICROS_PER_HOUR;
  const key = dataFileKey({ database, measurement, hourUs, nodeId: 'n1', unique: `u${String(timeUs)}`, rows, bytes: 100, minTimeUs: timeUs, maxTimeUs: timeUs, writtenAtMs: 0, schemaId: schemaIdOf(columns ?? []) });
  const facts = parseFileKey(key);
  if (facts === null) throw new Error('unparsable key');
  return { ...facts, key, bytes: 100, columns };
}

describe('FileCatalog', () => {
  const times = ['2024-12-31T23:10:00Z', '2025-01-01T00:20:00Z', '2025-01-01T01:30:00Z', '2025-01-02T00:40:00Z', '2025-02-01T00:50:00Z'];

  function loaded(): FileCatalog {
    const catalog = new FileCatalog();
    catalog.change([{ kind: 'add', files: times.map((iso) => file('db', 'cpu', iso)) }]);
    return catalog;
  }

  const inRange = (catalog: FileCatalog, lower: string | null, upper: string | null): string[] =>
    catalog.filesInRange('db', 'cpu', lower === null ? null : micros(lower), upper === null ? null : micros(upper)).map((entry) => new Date(entry.minTimeUs / 1000).toISOString().slice(0, 16));

  it('finds the files in a time range across day, month and year edges, both ends inclusive', () => {
    const catalog = loaded();
    expect(inRange(catalog, '2025-01-01T00:00:00Z', '2025-01-01T01:30:00Z')).toEqual(['2025-01-01T00:20', '2025-01-01T01:30']);
    expect(inRange(catalog, '2024-12-31T23:00:00Z', '2025-01-01T00:20:00Z')).toEqual(['2024-12-31T23:10', '2025-01-01T00:20']);
    expect(inRange(catalog, '2025-01-01T02:00:00Z', null)).toEqual(['2025-01-02T00:40', '2025-02-01T00:50']);
    expect(inRange(catalog, null, null)).toHaveLength(5);
    // Within an hour, the file's own time bounds prune: 00:20 is after 00:10.
    expect(inRange(catalog, '2025-01-01T00:00:00Z', '2025-01-01T00:10:00Z')).toEqual([]);
    expect(inRange(catalog, '2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z')).toEqual([]);
    expect(inRange(catalog, '2025-01-02T00:00:00Z', '2025-01-01T00:00:00Z')).toEqual([]);
  });

  it('keeps totals and columns, and changes versions, as files come and go', () => {
    const catalog = loaded();
    expect(catalog.totals('db', 'cpu')).toEqual({ files: 5, bytes: 500, firstHourUs: micros('2024-12-31T23:00:00Z'), lastHourUs: micros('2025-02-01T00:00:00Z') });
    expect(catalog.columns('db', 'cpu')).toBeNull();
    const version = catalog.measurementVersion('db', 'cpu');
    catalog.fillColumns('db', 'cpu', [{ name: 'time', type: 'TIMESTAMP' }]);
    catalog.change([{ kind: 'add', files: [file('db', 'cpu', '2025-02-01T01:00:00Z', [{ name: 'time', type: 'TIMESTAMP' }, { name: 'v', type: 'DOUBLE' }])] }]);
    expect(catalog.measurementVersion('db', 'cpu')).toBeGreaterThan(version);
    expect(catalog.columns('db', 'cpu')).toEqual([{ name: 'time', type: 'TIMESTAMP' }, { name: 'v', type: 'DOUBLE' }]);
    catalog.change([{ kind: 'add', files: [file('db', 'cpu', '2025-02-01T02:00:00Z', [{ name: 'v', type: 'BIGINT' }])] }]);
    // Two files disagree on a type: DuckDB decides (union_by_name), not the catalog.
    expect(catalog.columns('db', 'cpu')).toBeNull();
    catalog.change([{ kind: 'drop-measurement', database: 'db', measurement: 'cpu' }]);
    expect(catalog.databaseNames()).toEqual([]);
    expect(catalog.size).toBe(0);
  });

  it('gives files of one column list one shared array, in a replica too, and keeps lists that differ apart', () => {
    const columnsOf = (...names: string[]): ColumnSpec[] => names.map((name) => ({ name, type: name === 'time' ? 'TIMESTAMP' : 'DOUBLE' }));
    const source = new FileCatalog();
    const replica = new FileCatalog();
    // Each file brings its own array, as a structured clone from a writer thread does.
    const hours = ['2025-01-01T00:10:00Z', '2025-01-01T01:10:00Z', '2025-01-01T02:10:00Z'];
    for (const iso of hours) expect(replica.applyDelta(structuredClone(source.change([{ kind: 'add', files: [file('db', 'cpu', iso, columnsOf('time', 'v'))] }])))).toBe(true);
    source.change([{ kind: 'add', files: [file('db', 'cpu', '2025-01-01T03:10:00Z', columnsOf('time', 'v', 'w'))] }]);
    for (const catalog of [source, replica]) {
      const [first, ...others] = catalog.files('db', 'cpu').slice(0, 3);
      expect(first?.columns).toEqual(columnsOf('time', 'v'));
      for (const other of others) expect(other.columns).toBe(first?.columns);
    }
    const widened = source.files('db', 'cpu')[3];
    expect(widened?.columns).toEqual(columnsOf('time', 'v', 'w'));
    expect(widened?.columns).not.toBe(source.files('db', 'cpu')[0]?.columns);
    expect(source.columns('db', 'cpu')).toEqual(columnsOf('time', 'v', 'w'));
    // Columns filled in later (files found by a listing) are shared the same way.
    const listed = new FileCatalog();
    listed.change([{ kind: 'add', files: hours.map((iso) => file('db', 'cpu', iso)) }]);
    listed.fillColumns('db', 'cpu', columnsOf('time', 'v'));
    listed.change([{ kind: 'add', files: [file('db', 'cpu', '2025-01-01T03:10:00Z', columnsOf('time', 'v'))] }]);
    const filled = listed.files('db', 'cpu');
    for (const entry of filled) expect(entry.columns).toBe(filled[0]?.columns);
  });

  it('keeps every file\'s own columns right when the schema changes with every file', () => {
    const catalog = new FileCatalog();
    const count = COLUMN_LISTS_PER_MEASUREMENT_MAX * 2 + 3;
    for (let index = 0; index < count; index++) {
      const iso = new Date(Date.UTC(2025, 0, 1, index)).toISOString();
      catalog.change([{ kind: 'add', files: [file('db', 'cpu', iso, [{ name: 'time', type: 'TIMESTAMP' }, { name: `f${String(index)}`, type: 'DOUBLE' }])] }]);
    }
    const files = catalog.files('db', 'cpu');
    expect(files.map((entry) => entry.columns?.[1]?.name)).toEqual(Array.from({ length: count }, (_, index) => `f${String(index)}`));
    expect(catalog.columns('db', 'cpu')).toHaveLength(count + 1);
  });

  it('brings a replica to the same state by deltas, and refuses a delta out of order', () => {
    const source = new FileCatalog();
    const replica = new FileCatalog();
    replica.loadSnapshot(source.snapshot());
    const first = source.change([{ kind: 'add', files: [file('db', 'cpu', times[0] ?? ''), file('other', 'mem', times[1] ?? '')] }]);
    const second = source.change([{ kind: 'drop-database', database: 'other' }]);
    expect(replica.applyDelta(second)).toBe(false);
    expect(replica.applyDelta(first)).toBe(true);
    expect(replica.applyDelta(second)).toBe(true);
    expect(replica.generation).toBe(source.generation);
    expect(replica.snapshot()).toEqual(source.snapshot());
  });

  it('tells a replica which measurements are not listed yet, and when they are', () => {
    const source = new FileCatalog();
    source.change([{ kind: 'declare', database: 'db', measurements: ['cpu', 'mem'] }]);
    source.change([{ kind: 'add', files: [file('db', 'cpu', times[0] ?? '')] }]);
    const replica = new FileCatalog();
    replica.loadSnapshot(source.snapshot());
    expect(replica.isLoaded('db', 'cpu')).toBe(false);
    expect(replica.unloadedMeasurements()).toEqual([
      ['db', 'cpu'],
      ['db', 'mem'],
    ]);
    expect(replica.applyDelta(source.change([{ kind: 'load', database: 'db', measurement: 'cpu', files: [file('db', 'cpu', times[1] ?? '')] }]))).toBe(true);
    expect(replica.isLoaded('db', 'cpu')).toBe(true);
    expect(replica.files('db', 'cpu')).toHaveLength(2);
    // A measurement listed without files is not one; one never declared counts as loaded.
    replica.applyDelta(source.change([{ kind: 'load', database: 'db', measurement: 'mem', files: [] }]));
    expect(replica.measurementNames('db')).toEqual(['cpu']);
    expect(replica.isLoaded('db', 'absent')).toBe(true);
    expect(replica.snapshot()).toEqual(source.snapshot());
  });

  it('gives back every key and fact exactly, in hour then key order, whether or not a key follows the naming', () => {
    const hourUs = micros('2025-01-01T00:00:00Z');
    const named = (unique: string, span: 'hour' | 'day', bytes = 100): CatalogFile => {
      const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs, nodeId: 'n1', unique, rows: 3, bytes, minTimeUs: hourUs + 5, maxTimeUs: hourUs + 9, writtenAtMs: 0, schemaId: schemaIdOf([]), span });
      const facts = parseFileKey(key);
      if (facts === null) throw new Error('unparsable key');
      return { ...facts, key, bytes: 100, columns: null };
    };
    const legacy = (name: string): CatalogFile => {
      const key = `db/cpu/2025/01/01/00/${name}`;
      const facts = parseFileKey(key);
      if (facts === null) throw new Error('unparsable key');
      return { ...facts, key, bytes: 7, columns: null };
    };
    const files = [
      // One order a prefix of another: the keys continue with `_` against `-`.
      named('w1', 'hour'),
      named('w1-c', 'hour'),
      // A day file sorts at its day's start, with the first hour's files.
      named('w2', 'day'),
      // A size that is not the name's: the key cannot be derived and is kept.
      named('w3', 'hour', 555),
      legacy('cpu_20250101_000000_w0-1-abc.parquet'),
      legacy('cpu_20250101_000000_w0-2-abc.parquet'),
    ];
    const source = new FileCatalog();
    source.change([{ kind: 'add', files: [...files].reverse() }]);
    const expected = [...files].sort((left, right) => (left.key < right.key ? -1 : 1));
    expect(source.files('db', 'cpu').map((entry) => entry.key)).toEqual(expected.map((entry) => entry.key));
    // Every fact a user reads, as the file came in (a snapshot holds plain copies).
    expect([...source.snapshot().files].sort((left, right) => (left.key < right.key ? -1 : 1))).toEqual(expected);
    // A snapshot survives a structured clone (what the query threads get) and rebuilds the same catalog.
    const replica = new FileCatalog();
    replica.loadSnapshot(structuredClone(source.snapshot()));
    expect(replica.files('db', 'cpu').map((entry) => entry.key)).toEqual(expected.map((entry) => entry.key));
    // A file published again is one file; one with the same order in another partition is another.
    source.change([{ kind: 'add', files: [files[1] as CatalogFile] }]);
    expect(source.size).toBe(files.length);
    const twin = named('w1', 'day');
    source.change([{ kind: 'add', files: [twin] }]);
    expect(source.size).toBe(files.length + 1);
    // Each is dropped by its own key, whether derived or kept.
    const dropped = [files[0], files[4]] as CatalogFile[];
    source.change([{ kind: 'drop-files', keys: dropped.map((entry) => entry.key) }]);
    const left = [...files.filter((entry) => !dropped.includes(entry)), twin].map((entry) => entry.key).sort();
    expect(source.files('db', 'cpu').map((entry) => entry.key)).toEqual(left);
    // Found by key without a scan, the dropped ones not at all.
    for (const key of left) expect(source.file('db', 'cpu', key)?.key).toBe(key);
    for (const entry of dropped) expect(source.file('db', 'cpu', entry.key)).toBeUndefined();
    expect(source.file('db', 'mem', twin.key)).toBeUndefined();
    expect(source.totals('db', 'cpu')).toMatchObject({ files: files.length - 1, bytes: 100 * 4 + 7 });
  });
});

describe('Storage', () => {
  async function storeWithFiles(): Promise<{ root: string; storage: Storage }> {
    const root = await tempDirectory('arc-storage-');
    const seed = await Storage.open({ root });
    for (const [database, measurement, iso] of [
      ['db', 'cpu', '2025-10-16T16:10:00Z'],
      ['db', 'cpu', '2025-10-16T17:10:00Z'],
      ['db', 'mem', '2025-10-16T16:10:00Z'],
      ['other', 'cpu', '2025-10-16T16:10:00Z'],
    ] as const) {
      await seed.backend.put(file(database, measurement, iso).key, Buffer.from('12345'));
    }
    // A file named before sizes were in names: its size is read from the store.
    await seed.backend.put('db/mem/2025/10/16/17/mem_20251016_170000_w0-1-abc.parquet', Buffer.from('1234567'));
    // Staged and stray files are not data files.
    await writeFile(path.join(root, 'db', 'cpu', '2025', '10', '16', '16', 'staged-1.parquet.tmp'), 'x');
    return { root, storage: await Storage.open({ root }) };
  }

  it('lists names at open and the files of each measurement when first needed', async () => {
    const { storage } = await storeWithFiles();
    expect(storage.databases()).toEqual(['db', 'other']);
    expect(storage.catalog.measurementNames('db')).toEqual(['cpu', 'mem']);
    // No file listed yet: a start costs the same with many files as with few.
    expect(storage.catalog.size).toBe(0);
    expect(storage.catalog.isLoaded('db', 'cpu')).toBe(false);
    expect(await storage.databaseUsage('db')).toEqual({
      name: 'db',
      measurements: [
        // Sizes as the names say (100 each): a listing reads no file's size.
        { name: 'cpu', fileCount: 2, sizeBytes: 200 },
        { name: 'mem', fileCount: 2, sizeBytes: 107 },
      ],
      fileCount: 4,
      sizeBytes: 307,
    });
    expect(storage.catalog.isLoaded('db', 'cpu')).toBe(true);
    expect(storage.catalog.isLoaded('other', 'cpu')).toBe(false);
    expect(await storage.databaseUsage('missing')).toBeNull();
    await storage.loadAll();
    expect(storage.catalog.size).toBe(5);
  });

  it('knows the columns of listed files from the schema objects their names point at; a damaged one leaves them unknown', async () => {
    const root = await tempDirectory('arc-storage-');
    const seed = await Storage.open({ root });
    const columns = [
      { name: 'time', type: 'TIMESTAMP' },
      { name: 'usage', type: 'DOUBLE' },
    ];
    await seed.backend.put(schemaKey('db', 'cpu', schemaIdOf(columns)), encodeSchema(columns));
    await seed.backend.put(file('db', 'cpu', '2025-10-16T16:10:00Z', columns).key, Buffer.from('12345'));
    const torn = [{ name: 'time', type: 'TIMESTAMP' }];
    await seed.backend.put(schemaKey('db', 'mem', schemaIdOf(torn)), Buffer.from('{"columns":[{"name":"time","type":"VARCHAR"}]}'));
    await seed.backend.put(file('db', 'mem', '2025-10-16T16:10:00Z', torn).key, Buffer.from('12345'));
    const storage = await Storage.open({ root });
    await storage.loadAll();
    expect(storage.catalog.columns('db', 'cpu')).toEqual(columns);
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(1);
    expect(storage.catalog.columns('db', 'mem')).toBeNull();
  });

  it('removes staged files a dead process left (written before the cut-off) when it lists their measurement, and no others', async () => {
    const { root } = await storeWithFiles();
    const hourDirectory = path.join(root, 'db', 'cpu', '2025', '10', '16', '16');
    const dead = path.join(hourDirectory, 'staged-dead.parquet.tmp');
    const live = path.join(hourDirectory, 'staged-live.parquet.tmp');
    await writeFile(dead, 'partial');
    await writeFile(live, 'being written');
    const cutOffMs = Date.now();
    for (const old of [dead, path.join(hourDirectory, 'staged-1.parquet.tmp')]) await utimes(old, new Date(cutOffMs - 60_000), new Date(cutOffMs - 60_000));
    await utimes(live, new Date(cutOffMs + 1_000), new Date(cutOffMs + 1_000));
    // Without a cut-off (anyone but the server after its WAL recovery) nothing staged is touched.
    await (await Storage.open({ root })).loadAll();
    expect((await readdir(hourDirectory)).filter((name) => name.endsWith('.tmp')).sort()).toEqual(['staged-1.parquet.tmp', 'staged-dead.parquet.tmp', 'staged-live.parquet.tmp']);
    const storage = await Storage.open({ root, removeStagedBeforeMs: cutOffMs });
    await storage.ensureLoaded('db', 'cpu');
    // staged-1 (storeWithFiles) is a dead process's too.
    expect((await readdir(hourDirectory)).filter((name) => name.endsWith('.tmp'))).toEqual(['staged-live.parquet.tmp']);
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(2);
  });

  it('lists a measurement once however many ask, keeps files published before its listing, and drops one found empty', async () => {
    const { root, storage } = await storeWithFiles();
    await mkdir(path.join(root, 'db', 'hollow', '2025', '10', '16', '16'), { recursive: true });
    const reopened = await Storage.open({ root });
    expect(reopened.catalog.measurementNames('db')).toEqual(['cpu', 'hollow', 'mem']);
    const early = file('db', 'cpu', '2025-10-16T18:10:00Z');
    reopened.filesPublished([{ key: early.key, bytes: early.bytes, columns: null }]);
    expect(reopened.catalog.isLoaded('db', 'cpu')).toBe(false);
    let listings = 0;
    const list = reopened.backend.list.bind(reopened.backend);
    reopened.backend.list = (...args) => {
      listings++;
      return list(...args);
    };
    await Promise.all([reopened.ensureLoaded('db', 'cpu'), reopened.ensureLoaded('db', 'cpu'), reopened.ensureLoaded('db', 'hollow')]);
    expect(listings).toBe(2);
    expect(reopened.catalog.files('db', 'cpu')).toHaveLength(3);
    expect(reopened.catalog.measurementNames('db')).toEqual(['cpu', 'mem']);
    expect(storage.catalog.hasMeasurement('db', 'hollow')).toBe(false);
  });

  it('refuses a database or measurement equal to an existing one but for case, naming it', async () => {
    const { root, storage } = await storeWithFiles();
    const refusal = await storage.createDatabase('DB').then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ArcError);
    expect(refusal).toMatchObject({ code: NAME_CASE_CONFLICT_CODE, details: { database: 'DB', existing: 'db' } });
    expect(storage.caseConflict('db', 'CPU')).toMatchObject({ code: NAME_CASE_CONFLICT_CODE, details: { measurement: 'CPU', existing: 'cpu' } });
    expect(storage.caseConflict('db', 'cpu')).toBeNull();
    await storage.createDatabase('empty');
    expect(storage.databases()).toContain('empty');
    // A created database survives a restart (its marker is listed), without a file.
    expect((await Storage.open({ root: root })).databases()).toContain('empty');
    await expect(storage.createDatabase('empty')).rejects.toMatchObject({ code: 'ARC_DATABASE_EXISTS' });
  });

  it('deletes measurements and databases from the store and the catalog, telling followers', async () => {
    const { root, storage } = await storeWithFiles();
    const events: CatalogEvent[] = [];
    storage.onChange((event) => events.push(event));
    expect(await storage.deleteMeasurement('db', 'cpu')).toEqual({ files: 2, bytes: 200 });
    expect(await storage.deleteDatabase('other')).toEqual({ files: 1, bytes: 100 });
    // Each is listed first (counted whole; no listing can bring a file back after the delete).
    expect(events.map((event) => (event.kind === 'delta' ? event.delta.changes[0]?.kind : event.kind))).toEqual(['load', 'drop-measurement', 'load', 'drop-database']);
    expect(storage.databases()).toEqual(['db']);
    const reopened = await Storage.open({ root: root });
    expect(reopened.databases()).toEqual(['db']);
    expect(reopened.catalog.measurementNames('db')).toEqual(['mem']);
    await reopened.ensureLoaded('db', 'mem');
    expect(reopened.catalog.totals('db', 'mem')).toMatchObject({ files: 2, bytes: 107 });
  });
});
