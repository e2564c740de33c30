import { mkdir } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { StorageErrorCode } from './error-codes.js';
import { FileCatalog, type CatalogChange, type CatalogDelta, type CatalogFile, type CatalogSnapshot, type ColumnSpec } from './catalog.js';
import { STAGING_SUFFIX, databasePrefix, measurementPrefix, parseFileKey, type FileKeyFacts } from './layout.js';
import { decodeSchema, parseSchemaKey, schemaKey } from './schema-objects.js';
import { decodeManifest, encodeManifest, manifestKey, parseManifestKey, type ReplaceManifest } from './replacements.js';
import { CACHE_BYTES_MAX_DEFAULT, LIST_PAGE_KEYS_MAX, ORPHANED_MANIFEST_AGE_MS } from './limits.js';
import { LocalStorage } from './local-storage.js';
import { FileCache, type CachedFileRequest } from './file-cache.js';
import { S3Storage } from './s3-storage.js';
import { caseConflictError, caseVariantOf } from './names.js';
import type { StorageBackend } from './storage-backend.js';

/** Marks a database created empty (POST /api/v1/databases), so a listing finds it. */
const DATABASE_MARKER = '.arc-database';

/** A file a writer published, as its measurement event reports it. */
export interface PublishedFile {
  readonly key: string;
  readonly bytes: number;
  readonly columns: readonly ColumnSpec[] | null;
}

/** What the catalog's owner tells followers: a step, or (after a reload) the whole catalog. */
export type CatalogEvent = { readonly kind: 'delta'; readonly delta: CatalogDelta } | { readonly kind: 'snapshot'; readonly snapshot: CatalogSnapshot };

export interface MeasurementUsage {
  readonly name: string;
  readonly fileCount: number;
  readonly sizeBytes: number;
}

export interface DatabaseUsage extends MeasurementUsage {
  readonly measurements: readonly MeasurementUsage[];
}

export interface Removed {
  readonly files: number;
  readonly bytes: number;
}

/** A file staged for a replacement (its key names its final place: the staged file's directory). */
export interface StagedReplacementFile {
  readonly staging: string;
  readonly key: string;
  readonly columns: readonly ColumnSpec[] | null;
}

/** A committed replacement whose inputs still exist: finishReplacement deletes them. */
export interface Replacement {
  readonly manifestKey: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** The steps of a replacement, in order (tests stop a process at each). */
export type ReplacementStep = 'manifest-written' | 'output-published' | 'committed' | 'input-deleted' | 'finished';

export interface StorageOptions {
  /** Absolute root of the local store (made if missing). */
  readonly root: string;
  /** The store's backend (openStorageBackend); absent: local disk at `root`. */
  readonly backend?: StorageBackend;
  /**
   * Staged files (`*.tmp`) last written before this instant (ms) are left over by a process that
   * died mid-flush: a measurement's listing removes them. Only the server sets it, after WAL
   * recovery published what the flush journal committed; absent, staged files are left alone.
   */
  readonly removeStagedBeforeMs?: number;
  /** Object storage: bytes the local file cache may hold (storage.cache_max_gb); absent: CACHE_BYTES_MAX_DEFAULT. */
  readonly cacheMaxBytes?: number;
}

/** What acquireFiles gives back: unpins the files (call once, when the reader is done). */
export type ReleaseFiles = () => void;

const NOTHING_TO_RELEASE: ReleaseFiles = () => undefined;

/** Records what a change touched, for a refresh under way: file keys, `m:db/measurement`, `d:db`. */
function noteTouched(watch: Set<string>, change: CatalogChange): void {
  switch (change.kind) {
    case 'add':
      for (const file of change.files) watch.add(file.key);
      return;
    case 'drop-files':
      for (const key of change.keys) watch.add(key);
      return;
    case 'declare':
      return;
    case 'load':
    case 'drop-measurement':
      watch.add(`m:${change.database}/${change.measurement}`);
      return;
    case 'drop-database':
      watch.add(`d:${change.database}`);
      return;
  }
}

/** The catalog entry of a file just published under `key` (which follows the layout); `bytes` null: as its name says. */
function publishedFile(key: string, bytes: number | null, columns: readonly ColumnSpec[] | null): CatalogFile {
  const facts = parseFileKey(key);
  assert.ok(facts !== null, `a published key follows the layout: ${key}`);
  const size = bytes ?? facts.bytes;
  assert.ok(size !== null, `a published file's size is known: ${key}`);
  return { ...facts, key, bytes: size, columns };
}

/**
 * The front door to Arc's data: the layout, the backend and the file catalog. Every other
 * package asks here where files are, which exist, and to remove them (docs/architecture.md,
 * Storage). Runs on the main thread; query threads hold catalog replicas fed by onChange().
 */
export class Storage {
  readonly backend: StorageBackend;
  readonly catalog = new FileCatalog();
  /** Databases created empty (a marker object): listed although they hold no file. */
  private readonly declared = new Set<string>();
  private readonly listeners: ((event: CatalogEvent) => void)[] = [];
  /** Measurement listings under way, by "database/measurement". */
  private readonly loading = new Map<string, Promise<void>>();
  /** Keys and names this node changed while a refresh listing ran (see refresh). */
  private readonly refreshWatches = new Set<Set<string>>();
  /** The last listing queued: listings run one after another. */
  private loadTail: Promise<void> = Promise.resolve();

  private readonly removeStagedBeforeMs: number | null;
  /** The local copies of an object store's files that DuckDB reads (file-cache.ts); null on local disk. */
  readonly cache: FileCache | null;

  private constructor(backend: StorageBackend, removeStagedBeforeMs: number | null, cache: FileCache | null) {
    this.backend = backend;
    this.removeStagedBeforeMs = removeStagedBeforeMs;
    this.cache = cache;
  }

  /**
   * Opens the store: lists its databases and measurements (two levels of the tree), not their
   * files, so a start costs the same with 100 files or 100,000. Each measurement's files are
   * listed the first time something needs them (ensureLoaded) or by loadAll in the background.
   */
  static async open(options: StorageOptions): Promise<Storage> {
    await mkdir(options.root, { recursive: true });
    const backend = options.backend ?? new LocalStorage(options.root);
    const cache =
      backend instanceof S3Storage
        ? await FileCache.open({
            directory: backend.cacheDir,
            bytesMax: options.cacheMaxBytes ?? CACHE_BYTES_MAX_DEFAULT,
            fetch: (key, destination, bytes) => backend.download(key, destination, bytes),
            removeStagedBeforeMs: options.removeStagedBeforeMs ?? null,
          })
        : null;
    const storage = new Storage(backend, options.removeStagedBeforeMs ?? null, cache);
    await storage.listNames();
    return storage;
  }

  get nodeId(): string {
    return this.backend.nodeId;
  }

  /** Follows every catalog change from now on. */
  onChange(listener: (event: CatalogEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Rebuilds the catalog from a listing of the store (on request, when files were put in place
   * by hand): every measurement is listed again before this resolves.
   */
  async reload(): Promise<void> {
    await this.loadTail;
    await this.listNames();
    await this.loadAll();
  }

  /**
   * Resolves once the catalog holds every file of the measurement: listed now (behind any
   * listing already running: one at a time, so a local listing's walk is never repeated per page)
   * unless it was. A measurement that does not exist resolves at once.
   */
  ensureLoaded(database: string, measurement: string): Promise<void> {
    if (this.catalog.isLoaded(database, measurement)) return Promise.resolve();
    const key = `${database}/${measurement}`;
    const known = this.loading.get(key);
    if (known !== undefined) return known;
    const listed = this.loadTail.then(() => this.loadMeasurement(database, measurement));
    this.loadTail = listed.catch(() => undefined);
    const loading = listed.finally(() => this.loading.delete(key));
    this.loading.set(key, loading);
    return loading;
  }

  /** Every measurement of the database loaded (usage figures count every file). */
  async ensureDatabaseLoaded(database: string): Promise<void> {
    for (const measurement of this.catalog.measurementNames(database)) await this.ensureLoaded(database, measurement);
  }

  /**
   * Lists every measurement not listed yet, one at a time, yielding to other work between them
   * (a query's ensureLoaded goes ahead of the rest); resolves when the catalog is complete.
   */
  async loadAll(): Promise<void> {
    for (;;) {
      const unloaded = this.catalog.unloadedMeasurements();
      if (unloaded.length === 0) return;
      for (const [database, measurement] of unloaded) {
        await this.ensureLoaded(database, measurement);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Databases created empty (markers) and every measurement, as the store lists them now. */
  private async listedNames(): Promise<{ readonly declared: ReadonlySet<string>; readonly measurements: readonly (readonly [string, string])[] }> {
    const declared = new Set<string>();
    const measurements: (readonly [string, string])[] = [];
    for (const database of (await this.backend.listChildren('')).directories) {
      if (validateDatabaseName(database) !== null) continue;
      const children = await this.backend.listChildren(databasePrefix(database));
      if (children.objects.includes(DATABASE_MARKER)) declared.add(database);
      for (const measurement of children.directories) if (validateMeasurementName(measurement) === null) measurements.push([database, measurement]);
    }
    return { declared, measurements };
  }

  /** Databases (with markers) and their measurements: the catalog's names, every measurement unloaded. */
  private async listNames(): Promise<void> {
    const { declared, measurements: unloaded } = await this.listedNames();
    this.declared.clear();
    for (const database of declared) this.declared.add(database);
    this.catalog.loadSnapshot({ generation: this.catalog.generation + 1, files: [], unloaded });
    this.emit({ kind: 'snapshot', snapshot: this.catalog.snapshot() });
  }

  /**
   * One measurement's listing into the catalog. Sizes come from the names (or one stat each for
   * files named before sizes were), columns from the measurement's schema objects.
   */
  private async loadMeasurement(database: string, measurement: string): Promise<void> {
    // Loaded meanwhile, or dropped (then it is "loaded": nothing to list).
    if (this.catalog.isLoaded(database, measurement)) return;
    const { files } = await this.listFiles(database, measurement, () => null, false);
    this.change([{ kind: 'load', database, measurement, files }]);
  }

  /**
   * The measurement's files as the store lists them now: replace manifests followed (and settled
   * when orphaned), stale staged files removed, columns from schema objects. `knownColumns` gives
   * a file's columns when the catalog has them already (a refresh reads no schema twice).
   */
  private async listFiles(database: string, measurement: string, knownColumns: (key: string) => readonly ColumnSpec[] | null, underLease: boolean): Promise<{ files: CatalogFile[]; inDoubt: Set<string> }> {
    const listed: { readonly facts: FileKeyFacts; readonly key: string; readonly bytes: number }[] = [];
    const schemaIds: string[] = [];
    const staged: string[] = [];
    const manifests: string[] = [];
    let token: string | null = null;
    do {
      const page = await this.backend.list(measurementPrefix(database, measurement), token, LIST_PAGE_KEYS_MAX, false);
      for (const object of page.objects) {
        const facts = parseFileKey(object.key);
        if (facts === null) {
          const schema = parseSchemaKey(object.key);
          if (schema !== null) schemaIds.push(schema.id);
          else if (parseManifestKey(object.key) !== null) manifests.push(object.key);
          else if (object.key.endsWith(STAGING_SUFFIX)) staged.push(object.key);
          continue;
        }
        const bytes = facts.bytes ?? object.size ?? (await this.backend.sizeOf(object.key));
        // Deleted since the listing: not a file any more.
        if (bytes !== null) listed.push({ facts, key: object.key, bytes });
      }
      token = page.continuationToken;
    } while (token !== null);
    await this.removeStaleStaged(staged);
    const { excluded: replaced, inDoubt } = await this.settleManifests(manifests, new Set(listed.map((file) => file.key)), underLease);
    const kept = listed.filter(({ key }) => !replaced.has(key));
    const columnsById = new Map<string, readonly ColumnSpec[] | null>();
    const files: CatalogFile[] = [];
    for (const { facts, key, bytes } of kept) {
      let columns = knownColumns(key);
      if (columns === null && facts.schemaId !== null && schemaIds.includes(facts.schemaId)) {
        if (!columnsById.has(facts.schemaId)) columnsById.set(facts.schemaId, await this.readSchema(database, measurement, facts.schemaId));
        columns = columnsById.get(facts.schemaId) ?? null;
      }
      files.push({ ...facts, key, bytes, columns });
    }
    return { files, inDoubt };
  }

  /**
   * Lists the store again and takes in what other nodes changed (several nodes on one bucket,
   * docs/scale-out.md): their new databases, measurements and files, and what they compacted or
   * deleted. What this node itself added or dropped while the listing ran wins over the listing
   * (which may predate it). A refresh that finds nothing new changes nothing (no generation).
   * One at a time, queued behind any listing under way.
   */
  async refresh(): Promise<void> {
    await this.watchingChanges(async (watch) => {
      const names = await this.listedNames();
      const listedDatabases = new Set([...names.declared, ...names.measurements.map(([database]) => database)]);
      for (const database of names.declared) if (!watch.has(`d:${database}`)) this.declared.add(database);
      for (const database of [...this.declared]) if (!listedDatabases.has(database) && !watch.has(`c:${database}`)) this.declared.delete(database);
      const listedPairs = new Set(names.measurements.map(([database, measurement]) => `${database}/${measurement}`));
      const changes: CatalogChange[] = [];
      for (const database of this.catalog.databaseNames()) {
        for (const measurement of this.catalog.measurementNames(database)) {
          const pair = `${database}/${measurement}`;
          if (!listedPairs.has(pair) && !watch.has(`m:${pair}`) && !watch.has(`d:${database}`)) changes.push({ kind: 'drop-measurement', database, measurement });
        }
      }
      const fresh = names.measurements.filter(([database, measurement]) => !this.catalog.hasMeasurement(database, measurement) && !watch.has(`d:${database}`) && !watch.has(`m:${database}/${measurement}`));
      for (const [database, measurement] of fresh) changes.push({ kind: 'declare', database, measurements: [measurement] });
      if (changes.length > 0) this.change(changes);
      for (const database of this.catalog.databaseNames()) {
        for (const measurement of this.catalog.measurementNames(database)) {
          if (!this.catalog.isLoaded(database, measurement)) await this.ensureLoaded(database, measurement);
          else await this.refreshMeasurement(database, measurement, watch);
        }
      }
    });
  }

  /**
   * Runs a relisting behind any listing under way, with `watch` collecting what this node changes
   * meanwhile (noteTouched): those changes win over the listing, which may predate them.
   */
  private async watchingChanges<T>(run: (watch: ReadonlySet<string>) => Promise<T>): Promise<T> {
    const watch = new Set<string>();
    this.refreshWatches.add(watch);
    try {
      await this.loadTail;
      return await run(watch);
    } finally {
      this.refreshWatches.delete(watch);
    }
  }

  /**
   * Brings one measurement's files up to date with the store before work that must see what other
   * nodes did (a compaction job, right after taking its partition's lease: a job of another node
   * may have merged the inputs it planned). Call it holding the partition's lease: another node's
   * committed replacement is finished now (its inputs deleted), so its outputs can be merged on
   * without its inputs ever counting again. Returns the files "in doubt": inputs of another node's
   * replacement not committed yet (its job may still commit it), which no job may merge. Nothing to
   * do on local disk (one node).
   */
  async relist(database: string, measurement: string): Promise<ReadonlySet<string>> {
    if (this.backend.kind === 'local') return new Set();
    await this.ensureLoaded(database, measurement);
    return await this.watchingChanges((watch) => this.refreshMeasurement(database, measurement, watch, true));
  }

  /** One loaded measurement listed again: files added and dropped by others applied as a delta. */
  private async refreshMeasurement(database: string, measurement: string, watch: ReadonlySet<string>, underLease = false): Promise<ReadonlySet<string>> {
    const current = new Map(this.catalog.files(database, measurement).map((file) => [file.key, file]));
    const { files: listed, inDoubt } = await this.listFiles(database, measurement, (key) => current.get(key)?.columns ?? null, underLease);
    // Dropped or deleted here meanwhile: the delete wins over a listing that may predate it.
    if (watch.has(`m:${database}/${measurement}`) || watch.has(`d:${database}`)) return inDoubt;
    const listedKeys = new Set(listed.map((file) => file.key));
    const added = listed.filter((file) => !current.has(file.key) && !watch.has(file.key));
    const dropped = [...current.keys()].filter((key) => !listedKeys.has(key) && !watch.has(key));
    const changes: CatalogChange[] = [];
    if (added.length > 0) changes.push({ kind: 'add', files: added });
    if (dropped.length > 0) changes.push({ kind: 'drop-files', keys: dropped });
    if (changes.length > 0) this.change(changes);
    return inDoubt;
  }

  /** Runs refresh() every `intervalMs` until the returned stop is called (object storage: other nodes' files). */
  startRefreshing(intervalMs: number, onError: (error: unknown) => void): () => Promise<void> {
    assert.ok(intervalMs > 0, 'a refresh interval');
    let stopped = false;
    let running: Promise<void> = Promise.resolve();
    const tick = (): void => {
      if (stopped) return;
      running = this.refresh()
        .catch(onError)
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        });
    };
    let timer = setTimeout(tick, intervalMs);
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    };
  }

  /**
   * The keys a listing must not take as files, by the replace manifests it found (replacements.ts):
   * a committed replacement's inputs, an uncommitted one's outputs. A manifest a dead process left
   * (written before `removeStagedBeforeMs`) is settled now: the inputs of a committed one deleted,
   * the outputs of an uncommitted one, then the manifest. `underLease` (a compaction job holding
   * the partition): another node's committed manifest is finished too, and the inputs of its
   * uncommitted ones are returned as in doubt.
   */
  private async settleManifests(keys: readonly string[], listed: ReadonlySet<string>, underLease: boolean): Promise<{ excluded: Set<string>; inDoubt: Set<string> }> {
    const excluded = new Set<string>();
    const inDoubt = new Set<string>();
    for (const key of keys) {
      let manifest: ReplaceManifest | null;
      try {
        manifest = decodeManifest(await this.backend.get(key));
      } catch {
        continue; // Deleted since the listing: its replacement finished.
      }
      const committed = manifest?.outputs.every((output) => listed.has(output)) === true;
      const notFiles = manifest === null ? [] : committed ? manifest.inputs : manifest.outputs;
      for (const notFile of notFiles) excluded.add(notFile);
      const othersLive = manifest !== null && manifest.node !== null && manifest.node !== this.nodeId;
      const finishable = committed && underLease && othersLive;
      if (!finishable && !(await this.orphaned(key, manifest))) {
        if (!committed && othersLive && manifest !== null) for (const input of manifest.inputs) inDoubt.add(input);
        continue;
      }
      await this.backend.deleteMany(notFiles);
      await this.backend.deleteMany([key]);
    }
    return { excluded, inDoubt };
  }

  /**
   * True when no live job will finish the manifest: this node's previous process wrote it, or
   * another node wrote it so long ago (ORPHANED_MANIFEST_AGE_MS) that its job is dead. Another
   * node's recent manifest is left alone: its job may be publishing right now (the listing already
   * keeps its files right; settling is only the clean-up).
   */
  private async orphaned(key: string, manifest: ReplaceManifest | null): Promise<boolean> {
    const node = manifest?.node ?? this.nodeId;
    if (node === this.nodeId) return await this.leftByDeadProcess(key);
    const modifiedAtMs = await this.backend.modifiedAtMs(key);
    return modifiedAtMs !== null && modifiedAtMs < Date.now() - ORPHANED_MANIFEST_AGE_MS;
  }

  /** True when the object was last written before `removeStagedBeforeMs`: by a process that died. */
  private async leftByDeadProcess(key: string): Promise<boolean> {
    if (this.removeStagedBeforeMs === null) return false;
    const modifiedAtMs = await this.backend.modifiedAtMs(key);
    return modifiedAtMs !== null && modifiedAtMs < this.removeStagedBeforeMs;
  }

  /**
   * Replaces files of one measurement by others (or adds files, `inputs` empty) in one step for every reader: the manifest is
   * written, the outputs published, then the catalog swaps inputs for outputs in one generation.
   * The inputs stay on the store until finishReplacement (queries planned with them may still read
   * them). `onStep` sees each step done (crash tests stop the process there).
   */
  async replaceFiles(id: string, inputs: readonly string[], outputs: readonly StagedReplacementFile[], onStep?: (step: ReplacementStep) => void): Promise<Replacement> {
    // No inputs: files added in one step (a continuous query's first output of a window).
    assert.ok(inputs.length > 0 || outputs.length > 0, 'a replacement replaces or adds files');
    const first = parseFileKey(inputs[0] ?? (outputs[0] as StagedReplacementFile).key);
    assert.ok(first !== null, 'inputs are data files');
    const { database, measurement } = first;
    if (!this.catalog.isLoaded(database, measurement)) throw new ArcError(ErrorKind.conflict, StorageErrorCode.replacedFileGone, `${database}.${measurement} is being listed again: its files are replaced later`, { database, measurement });
    const gone = inputs.find((input) => this.catalog.file(database, measurement, input) === undefined);
    if (gone !== undefined) throw new ArcError(ErrorKind.conflict, StorageErrorCode.replacedFileGone, `A file to replace is not in the catalog any more (deleted meanwhile): ${gone}`, { key: gone });
    const published = outputs.map((output) => {
      const file = publishedFile(output.key, null, output.columns);
      assert.ok(file.database === database && file.measurement === measurement, 'outputs are files of the measurement');
      return file;
    });
    const key = manifestKey(database, measurement, id);
    await this.backend.put(key, encodeManifest({ inputs, outputs: outputs.map((output) => output.key), node: this.nodeId }));
    onStep?.('manifest-written');
    const publishedKeys: string[] = [];
    try {
      for (const output of outputs) {
        await this.backend.publish(output.staging, output.key);
        publishedKeys.push(output.key);
        onStep?.('output-published');
      }
    } catch (error) {
      // Not committed: undone (or, if this fails too, settled by a later listing).
      await this.backend.deleteMany([...publishedKeys, key]).catch(() => undefined);
      throw error;
    }
    this.change([
      { kind: 'add', files: published },
      { kind: 'drop-files', keys: inputs },
    ]);
    onStep?.('committed');
    return { manifestKey: key, inputs, outputs: outputs.map((output) => output.key) };
  }

  /**
   * Deletes a committed replacement's inputs, then its manifest (call when no query reads the
   * inputs). The inputs go in one deleteMany (on an object store a request per 1,000 keys, not one
   * per file); the manifest only after them, so a crash in between leaves the manifest that tells
   * the next listing the remaining inputs are not files.
   */
  async finishReplacement(replacement: Replacement, onStep?: (step: ReplacementStep) => void): Promise<void> {
    await this.backend.deleteMany(replacement.inputs);
    onStep?.('input-deleted');
    await this.backend.deleteMany([replacement.manifestKey]);
    onStep?.('finished');
  }

  /** Removes the staged files written before `removeStagedBeforeMs` (a dead process's partial flushes). */
  private async removeStaleStaged(keys: readonly string[]): Promise<void> {
    const stale: string[] = [];
    for (const key of keys) if (await this.leftByDeadProcess(key)) stale.push(key);
    if (stale.length > 0) await this.backend.deleteMany(stale);
  }

  /** A schema object's columns; null when it is missing or damaged (the files' footers say). */
  private async readSchema(database: string, measurement: string, id: string): Promise<readonly ColumnSpec[] | null> {
    try {
      return decodeSchema(await this.backend.get(schemaKey(database, measurement, id)), id);
    } catch {
      return null;
    }
  }

  /** Writers published these files (their measurement events): the catalog takes them in. */
  filesPublished(published: readonly PublishedFile[]): void {
    const files = published.map((file) => publishedFile(file.key, file.bytes, file.columns));
    if (files.length > 0) this.change([{ kind: 'add', files }]);
  }

  /** Databases with files or created empty, sorted. */
  databases(): string[] {
    return [...new Set([...this.catalog.databaseNames(), ...this.declared])].sort();
  }

  hasDatabase(database: string): boolean {
    return this.declared.has(database) || this.catalog.hasDatabase(database);
  }

  /** Files and bytes of the database and each of its measurements (listed first); null when it does not exist. */
  async databaseUsage(database: string): Promise<DatabaseUsage | null> {
    if (!this.hasDatabase(database)) return null;
    await this.ensureDatabaseLoaded(database);
    const measurements = this.catalog.measurementNames(database).map((name) => {
      const totals = this.catalog.totals(database, name);
      return { name, fileCount: totals.files, sizeBytes: totals.bytes };
    });
    return {
      name: database,
      measurements,
      fileCount: measurements.reduce((sum, entry) => sum + entry.fileCount, 0),
      sizeBytes: measurements.reduce((sum, entry) => sum + entry.sizeBytes, 0),
    };
  }

  /** 409 when `database` (or `measurement` in it) equals an existing name but for case (names.ts). */
  caseConflict(database: string, measurement?: string): ArcError | null {
    const existingDatabase = caseVariantOf(this.databases(), database);
    if (existingDatabase !== null) return caseConflictError('database', database, existingDatabase);
    if (measurement === undefined) return null;
    const existingMeasurement = caseVariantOf(this.catalog.measurementNames(database), measurement);
    return existingMeasurement === null ? null : caseConflictError('measurement', measurement, existingMeasurement);
  }

  /** Creates an empty database; 409 when it (or a name equal but for case) exists. */
  async createDatabase(database: string): Promise<void> {
    const badName = validateDatabaseName(database);
    if (badName !== null) throw badName;
    const conflict = this.caseConflict(database);
    if (conflict !== null) throw conflict;
    if (this.hasDatabase(database)) throw new ArcError(ErrorKind.conflict, StorageErrorCode.databaseExists, `Database '${database}' already exists`, { database });
    await this.backend.putIfAbsent(`${database}/${DATABASE_MARKER}`, new Uint8Array(0));
    this.declared.add(database);
    for (const watch of this.refreshWatches) watch.add(`c:${database}`);
  }

  /** Removes every file of the database, then it from the catalog (generation bumped). */
  async deleteDatabase(database: string): Promise<Removed> {
    assert.equal(validateDatabaseName(database), null, 'a valid database name');
    // Listed first: counted whole, and no listing can add a file after the delete.
    await this.ensureDatabaseLoaded(database);
    const removed = this.usageOf(this.catalog.measurementNames(database).map((measurement) => this.catalog.files(database, measurement)));
    await this.backend.deletePrefix(databasePrefix(database));
    this.declared.delete(database);
    this.change([{ kind: 'drop-database', database }]);
    return removed;
  }

  /** Removes every file of the measurement, then it from the catalog (generation bumped). */
  async deleteMeasurement(database: string, measurement: string): Promise<Removed> {
    assert.equal(validateDatabaseName(database), null, 'a valid database name');
    assert.equal(validateMeasurementName(measurement), null, 'a valid measurement name');
    await this.ensureLoaded(database, measurement);
    const removed = this.usageOf([this.catalog.files(database, measurement)]);
    await this.backend.deletePrefix(measurementPrefix(database, measurement));
    this.change([{ kind: 'drop-measurement', database, measurement }]);
    return removed;
  }

  /** Removes single files (compaction, retention), then them from the catalog. */
  async deleteFiles(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      const facts = parseFileKey(key);
      assert.ok(facts !== null, 'only data files are deleted one by one');
      // A listing still to come would find the file again if it ran before the delete.
      await this.ensureLoaded(facts.database, facts.measurement);
    }
    await this.backend.deleteMany(keys);
    this.change([{ kind: 'drop-files', keys }]);
  }

  /** Where DuckDB reads a file (on an object store: its cached copy, made local by acquireFiles). */
  locationOf(key: string): string {
    return this.backend.locationOf(key);
  }

  /**
   * Makes the files local and keeps them so until the returned function is called (on an object
   * store: downloaded into the file cache and pinned; file-cache.ts says what it throws). Local
   * disk: nothing to do.
   */
  async acquireFiles(files: readonly CachedFileRequest[]): Promise<ReleaseFiles> {
    const cache = this.cache;
    if (cache === null || files.length === 0) return NOTHING_TO_RELEASE;
    const lease = await cache.acquire(files);
    return () => cache.release(lease);
  }

  private usageOf(lists: readonly (readonly CatalogFile[])[]): Removed {
    let files = 0;
    let bytes = 0;
    for (const list of lists) {
      files += list.length;
      for (const file of list) bytes += file.bytes;
    }
    return { files, bytes };
  }

  private change(changes: readonly CatalogChange[]): void {
    for (const watch of this.refreshWatches) for (const change of changes) noteTouched(watch, change);
    this.emit({ kind: 'delta', delta: this.catalog.change(changes) });
    this.cache?.applyCatalogChanges(changes);
  }

  private emit(event: CatalogEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
