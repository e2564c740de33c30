import { BroadcastChannel } from 'node:worker_threads';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral, validateDatabaseName } from '@arc/columnar';
import { ArcError, ErrorKind, type ArcErrorShape } from '@arc/errors';
import { FileCatalog, queryableNames, type CatalogChange, type CatalogDelta, type CatalogSnapshot } from '@arc/storage';
import { QueryErrorCode } from './error-codes.js';
import { CATALOG_CATCH_UP_MS_MAX, CATALOG_LOAD_MS_MAX, DATABASES_MAX, MEASUREMENTS_PER_DATABASE_MAX } from './limits.js';

/**
 * Database names a DuckDB schema cannot stand for (measured): `main` is on every search path, so
 * its views would answer unqualified names of every other database; `memory` and `temp` are also
 * catalog names (qualified references become ambiguous); views cannot be created in
 * `information_schema` and `pg_catalog`. Such databases are not queryable (docs/decisions.md).
 */
const SCHEMA_RESERVED: ReadonlySet<string> = new Set(['main', 'memory', 'temp', 'system', 'information_schema', 'pg_catalog']);

/** Database -> measurements that have at least one complete Parquet file (queryable names only). */
export type CatalogScan = ReadonlyMap<string, ReadonlySet<string>>;

/** What the pool and the query threads say to each other about the catalog (one BroadcastChannel). */
export type CatalogMessage =
  | { readonly type: 'need-snapshot' }
  /** A thread needs every file of a measurement the catalog has not listed yet (Storage.ensureLoaded). */
  | { readonly type: 'need-measurement'; readonly database: string; readonly measurement: string }
  | { readonly type: 'load-failed'; readonly database: string; readonly measurement: string; readonly error: ArcErrorShape }
  | { readonly type: 'snapshot'; readonly snapshot: CatalogSnapshot }
  | { readonly type: 'delta'; readonly delta: CatalogDelta };

function isQueryableDatabase(name: string): boolean {
  return validateDatabaseName(name) === null && !SCHEMA_RESERVED.has(name.toLowerCase());
}

/**
 * A query thread's copy of the storage catalog (docs/architecture.md, Storage). The pool
 * broadcasts every delta before it moves the shared generation, so a thread that sees a newer
 * generation waits only for messages already on their way. A thread that starts late or missed a
 * delta asks for the whole catalog again.
 */
export class CatalogReplica {
  readonly files = new FileCatalog();
  private readonly channel: BroadcastChannel;
  private loaded = false;
  private readonly waiters = new Set<() => void>();
  /** The last failed listing per "database/measurement" (a later successful one makes it loaded). */
  private readonly loadFailures = new Map<string, ArcErrorShape>();
  private scanCache: { readonly namesVersion: number; readonly scan: CatalogScan } | null = null;
  /** Bumped when a measurement or database may have appeared or vanished. */
  private namesVersion = 0;

  constructor(channelName: string, initial: CatalogSnapshot | null) {
    this.channel = new BroadcastChannel(channelName);
    this.channel.onmessage = (event) => this.receive((event as { data: CatalogMessage }).data);
    // The channel must not keep the thread alive on its own.
    this.channel.unref();
    if (initial !== null) this.load(initial);
    else this.channel.postMessage({ type: 'need-snapshot' } satisfies CatalogMessage);
  }

  /** Resolves once the replica is at `generation` or later; throws after CATALOG_CATCH_UP_MS_MAX. */
  async reach(generation: number): Promise<void> {
    if (this.loaded && this.files.generation >= generation) return;
    const deadline = Date.now() + CATALOG_CATCH_UP_MS_MAX;
    while (!this.loaded || this.files.generation < generation) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ArcError(ErrorKind.unavailable, QueryErrorCode.engine, `The query thread's file catalog did not catch up with generation ${String(generation)}`);
      await this.nextMessage(left);
    }
  }

  /** Resolves at the next catalog message this thread receives, or after `timeoutMs`. */
  private nextMessage(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.add(done);
    });
  }

  /**
   * Resolves once this replica holds every file of the measurements (after a start, storage lists
   * a measurement's files when first needed): asks the pool for the listings, then waits for the
   * deltas. True when it waited (a listing may have found a measurement empty: plan again).
   * Throws the listing's error, or 503 after CATALOG_LOAD_MS_MAX.
   */
  async whenLoaded(tables: readonly { readonly database: string; readonly measurement: string }[]): Promise<boolean> {
    let missing = tables.filter((table) => !this.files.isLoaded(table.database, table.measurement));
    if (missing.length === 0) return false;
    for (const table of missing) this.loadFailures.delete(`${table.database}/${table.measurement}`);
    for (const table of missing) this.channel.postMessage({ type: 'need-measurement', database: table.database, measurement: table.measurement } satisfies CatalogMessage);
    const deadline = Date.now() + CATALOG_LOAD_MS_MAX;
    while (missing.length > 0) {
      for (const table of missing) {
        const failure = this.loadFailures.get(`${table.database}/${table.measurement}`);
        if (failure !== undefined) throw ArcError.fromShape(failure);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new ArcError(ErrorKind.unavailable, QueryErrorCode.engine, `The files of ${missing.map((table) => `${table.database}.${table.measurement}`).join(', ')} are still being listed: retry shortly`);
      await this.nextMessage(left);
      missing = missing.filter((table) => !this.files.isLoaded(table.database, table.measurement));
    }
    return true;
  }

  /** Databases and their measurements as SQL sees them: of names equal but for case, the first (names rule). */
  scan(): CatalogScan {
    if (this.scanCache?.namesVersion === this.namesVersion) return this.scanCache.scan;
    const scan = new Map<string, ReadonlySet<string>>();
    for (const database of queryableNames(this.files.databaseNames()).filter(isQueryableDatabase).slice(0, DATABASES_MAX)) {
      scan.set(database, new Set(queryableNames(this.files.measurementNames(database)).slice(0, MEASUREMENTS_PER_DATABASE_MAX)));
    }
    this.scanCache = { namesVersion: this.namesVersion, scan };
    return scan;
  }

  close(): void {
    this.channel.close();
  }

  private receive(message: CatalogMessage): void {
    if (message.type === 'load-failed') {
      this.loadFailures.set(`${message.database}/${message.measurement}`, message.error);
    } else if (message.type === 'snapshot') {
      if (!this.loaded || message.snapshot.generation > this.files.generation) this.load(message.snapshot);
    } else if (message.type === 'delta' && this.loaded) {
      if (message.delta.generation <= this.files.generation) return;
      if (this.files.applyDelta(message.delta)) {
        if (message.delta.changes.some((change) => this.changesNames(change))) this.namesVersion++;
      } else {
        // A delta was missed (this thread started after it was sent): ask for everything.
        this.channel.postMessage({ type: 'need-snapshot' } satisfies CatalogMessage);
      }
    }
    for (const wake of [...this.waiters]) {
      this.waiters.delete(wake);
      wake();
    }
  }

  /**
   * True when the change (already applied) may have added or removed a name: a file of a name
   * the scan does not list, a listing that found a measurement empty, any drop or declaration.
   */
  private changesNames(change: CatalogChange): boolean {
    switch (change.kind) {
      case 'add':
        return change.files.some((file) => this.isNewName(file.database, file.measurement));
      case 'load':
        return !this.files.hasMeasurement(change.database, change.measurement);
      default:
        return true;
    }
  }

  /** True when the scan does not list the measurement yet (its first file just arrived). */
  private isNewName(database: string, measurement: string): boolean {
    return this.scanCache?.scan.get(database)?.has(measurement) !== true;
  }

  private load(snapshot: CatalogSnapshot): void {
    this.files.loadSnapshot(snapshot);
    this.loaded = true;
    this.namesVersion++;
  }
}

/** The DuckDB variable holding a view's file list (views read `getvariable(...)`, see MeasurementViews). */
function filesVariable(id: number): string {
  return `arc_files_${String(id)}`;
}

/**
 * The measurement views of one DuckDB connection. A view reads
 * `read_parquet(getvariable('arc_files_<n>'), union_by_name = true)`: its file list is a
 * variable set from the catalog, so new files cost a `SET VARIABLE` before the next query that
 * reads the measurement (never a directory glob, never a view rebuilt on every file). Schemas are
 * made for every database at once (cheap); a view is made the first time a query reads it
 * (making one reads every file's footer).
 */
export class MeasurementViews {
  private readonly connection: DuckDBConnection;
  private schemas = new Set<string>();
  /** View key -> its variable id and the catalog version its file list was set from. */
  private readonly views = new Map<string, { readonly id: number; version: number }>();
  private nextId = 0;

  constructor(connection: DuckDBConnection) {
    this.connection = connection;
  }

  /** Creates schemas of new databases and drops those (and views) no longer in `scan`; true when it dropped a schema. */
  async applyScan(scan: CatalogScan): Promise<boolean> {
    let dropped = false;
    for (const schema of this.schemas) {
      if (scan.has(schema)) continue;
      dropped = true;
      await this.connection.run(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      for (const key of this.views.keys()) if (key.startsWith(`${schema}\u0000`)) this.views.delete(key);
    }
    for (const [key] of this.views) {
      const [database = '', measurement = ''] = key.split('\u0000');
      if (scan.get(database)?.has(measurement) === true) continue;
      await this.connection.run(`DROP VIEW IF EXISTS ${quoteIdentifier(database)}.${quoteIdentifier(measurement)}`);
      this.views.delete(key);
    }
    for (const database of scan.keys()) if (!this.schemas.has(database)) await this.connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(database)}`);
    this.schemas = new Set(scan.keys());
    return dropped;
  }

  /**
   * Brings the view of a measurement to its files at catalog `version`: sets its file list, and
   * makes the view the first time. False when DuckDB cannot read the files (the view stays out).
   */
  /** True when the measurement's view reads its files at catalog `version` already. */
  isCurrent(database: string, measurement: string, version: number): boolean {
    return this.views.get(`${database}\u0000${measurement}`)?.version === version;
  }

  async sync(database: string, measurement: string, version: number, locations: readonly string[]): Promise<boolean> {
    const key = `${database}\u0000${measurement}`;
    const known = this.views.get(key);
    if (known?.version === version) return true;
    const id = known?.id ?? this.nextId++;
    await this.connection.run(`SET VARIABLE ${filesVariable(id)} = [${locations.map(quoteLiteral).join(', ')}]::VARCHAR[]`);
    if (known !== undefined) {
      known.version = version;
      return true;
    }
    try {
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${quoteIdentifier(database)}.${quoteIdentifier(measurement)} AS ` +
          `SELECT * FROM read_parquet(getvariable(${quoteLiteral(filesVariable(id))}), union_by_name = true)`,
      );
    } catch {
      return false;
    }
    this.views.set(key, { id, version });
    return true;
  }
}
