import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { packLastValueRows, quoteIdentifier, validateColumnName, type LastValue, type LastValueTable } from '@arc/columnar';
import type { IngestPipeline } from '@arc/ingest';
import type { QueryPool } from '@arc/query';
import { QueryErrorCode } from '@arc/query';
import type { CatalogEvent, Storage } from '@arc/storage';
import type { LastCacheDefinition, LastCacheRequest } from '@arc/writer';
import { ServerErrorCode } from './error-codes.js';
import { LAST_CACHE_COUNT_MAX, LAST_CACHE_TTL_SECONDS_DEFAULT } from './limits.js';
import type { LastCacheStore } from './last-cache-store.js';

/** What POST /api/v3/configure/last_cache asks for (InfluxDB 3's fields). */
export interface LastCacheSpec {
  readonly database: string;
  readonly measurement: string;
  readonly name?: string | undefined;
  readonly keyColumns?: readonly string[] | undefined;
  readonly valueColumns?: readonly string[] | undefined;
  readonly count?: number | undefined;
  readonly ttlSeconds?: number | undefined;
}

interface DescribedColumn {
  readonly name: string;
  readonly type: string;
  readonly role: string;
}

/** The SQL types whose values a seed reads back exactly as text (every other type is too). */
const BIGINT_TYPES: ReadonlySet<string> = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'INTEGER']);

/**
 * Last-value caches (InfluxDB 3's "last_cache"): definitions in a SQLite file, rows in the writer
 * thread owning each measurement. Runs on the main thread.
 *
 * Completeness: a cache is defined in its writer first (it takes the rows buffered or being
 * flushed at that moment, then every accepted batch), then seeded from the measurement's files by
 * one query (each key's newest rows), merged newest-wins. A row is in a file before the seed reads
 * the files, or buffered at the definition, or accepted after it: none is missed. Files removed
 * (a delete, retention, a continuous query's rewrite, compaction) make the cache be defined and
 * seeded again; queries wait for a seed under way.
 */
export class LastCacheService {
  private readonly store: LastCacheStore;
  private readonly pipeline: IngestPipeline;
  private readonly pool: QueryPool;
  private readonly definitions = new Map<string, LastCacheDefinition>();
  /** The seed of each cache under way (or done): queries of it wait for it. */
  private readonly seeded = new Map<string, Promise<void>>();
  private readonly log: (message: string) => void;

  constructor(store: LastCacheStore, pipeline: IngestPipeline, pool: QueryPool, storage: Storage, log: (message: string) => void) {
    this.store = store;
    this.pipeline = pipeline;
    this.pool = pool;
    this.log = log;
    for (const definition of store.list()) this.definitions.set(cacheKey(definition.database, definition.measurement, definition.name), definition);
    storage.onChange((event) => this.followCatalog(event));
  }

  /** Defines every stored cache in its writer and seeds it (after the WAL replay: see reseed). */
  start(): void {
    for (const definition of this.definitions.values()) this.reseed(definition);
  }

  list(database: string | null): LastCacheDefinition[] {
    return [...this.definitions.values()].filter((definition) => database === null || definition.database === database);
  }

  async create(spec: LastCacheSpec): Promise<LastCacheDefinition> {
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1 || count > LAST_CACHE_COUNT_MAX) {
      throw badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field 'count' must be a whole number from 1 to ${String(LAST_CACHE_COUNT_MAX)}`, { field: 'count' });
    }
    const ttlSeconds = spec.ttlSeconds ?? LAST_CACHE_TTL_SECONDS_DEFAULT;
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw badRequest(ServerErrorCode.badRequestBody, "Invalid request body: field 'ttl' must be a whole number of seconds, at least 1", { field: 'ttl' });
    // The rows acknowledged so far go to files first, so the columns (and tags) are known.
    const flushError = await this.pipeline.flushMeasurement(spec.database, spec.measurement);
    if (flushError !== null) throw flushError;
    const columns = await this.describe(spec.database, spec.measurement);
    if (columns === null) throw new ArcError(ErrorKind.notFound, ServerErrorCode.measurementNotFound, `Table '${spec.measurement}' not found in database '${spec.database}': write to it before creating its last cache`, { database: spec.database, table: spec.measurement });
    const keyColumns = spec.keyColumns ?? columns.filter((column) => column.role === 'tag').map((column) => column.name);
    if (keyColumns.length === 0) throw badRequest(ServerErrorCode.badRequestBody, `Table '${spec.measurement}' has no tags: name the cache's key_columns`, { field: 'key_columns' });
    for (const [field, names] of [['key_columns', keyColumns], ['value_columns', spec.valueColumns ?? []]] as const) {
      for (const name of names) {
        if (validateColumnName(name) !== null || !columns.some((column) => column.name === name)) {
          throw badRequest(ServerErrorCode.badRequestBody, `Invalid request body: field '${field}' names '${name}', which is not a column of table '${spec.measurement}'`, { field });
        }
      }
    }
    const name = spec.name ?? `${spec.measurement}_${keyColumns.join('_')}_last_cache`;
    const key = cacheKey(spec.database, spec.measurement, name);
    if (this.definitions.has(key)) {
      throw new ArcError(ErrorKind.conflict, ServerErrorCode.lastCacheExists, `A last cache named '${name}' exists already on table '${spec.measurement}'`, { database: spec.database, table: spec.measurement, name });
    }
    const definition: LastCacheDefinition = { database: spec.database, measurement: spec.measurement, name, keyColumns, valueColumns: spec.valueColumns ?? null, count, ttlSeconds };
    this.store.insertSync(definition);
    this.definitions.set(key, definition);
    this.reseed(definition);
    await this.seeded.get(key);
    return definition;
  }

  async delete(database: string, measurement: string, name: string): Promise<void> {
    const key = cacheKey(database, measurement, name);
    if (!this.definitions.has(key)) {
      throw new ArcError(ErrorKind.notFound, ServerErrorCode.lastCacheNotFound, `No last cache named '${name}' on table '${measurement}' of database '${database}'`, { database, table: measurement, name });
    }
    this.store.deleteSync(database, measurement, name);
    this.definitions.delete(key);
    this.seeded.delete(key);
    await this.ask(database, measurement, { op: 'drop', database, measurement, name });
  }

  /**
   * The rows of every cache of `database` (what last_cache() of a query in it may read), once
   * seeded; each measurement's caches come from its writer in one message.
   */
  async tablesOf(database: string): Promise<LastValueTable[]> {
    const byMeasurement = new Map<string, string[]>();
    const seeds: Promise<void>[] = [];
    for (const [key, definition] of this.definitions) {
      if (definition.database !== database) continue;
      const names = byMeasurement.get(definition.measurement) ?? [];
      names.push(definition.name);
      byMeasurement.set(definition.measurement, names);
      const seed = this.seeded.get(key);
      if (seed !== undefined) seeds.push(seed);
    }
    await Promise.all(seeds);
    const tables = await Promise.all([...byMeasurement].map(([measurement, names]) => this.ask(database, measurement, { op: 'read', database, measurement, names })));
    return tables.flat();
  }

  /**
   * Files of a cached measurement went away: rows answered from the cache may be gone. Marked at
   * once (a query that follows waits for the new seed), so a delete's answer is never followed by
   * a stale cache answer.
   */
  private followCatalog(event: CatalogEvent): void {
    if (this.definitions.size === 0) return;
    const touched = (database: string, measurement: string | null): void => {
      for (const definition of this.definitions.values()) {
        if (definition.database === database && (measurement === null || definition.measurement === measurement)) this.reseed(definition);
      }
    };
    if (event.kind === 'snapshot') {
      for (const definition of this.definitions.values()) this.reseed(definition);
      return;
    }
    for (const change of event.delta.changes) {
      if (change.kind === 'drop-database') touched(change.database, null);
      else if (change.kind === 'drop-measurement') touched(change.database, change.measurement);
      else if (change.kind === 'drop-files') {
        for (const key of change.keys) {
          const [database = '', measurement = ''] = key.split('/', 2);
          touched(database, measurement);
        }
      }
    }
  }

  /** Defines the cache afresh in its writer, then seeds it; after any seed of it under way. */
  private reseed(definition: LastCacheDefinition): void {
    const key = cacheKey(definition.database, definition.measurement, definition.name);
    const before = this.seeded.get(key) ?? Promise.resolve();
    const seeding = before.then(async () => {
      if (this.definitions.get(key) !== definition) return;
      await this.ask(definition.database, definition.measurement, { op: 'define', definition });
      const table = await this.seedTable(definition);
      if (table !== null) await this.ask(definition.database, definition.measurement, { op: 'seed', table });
    });
    const settled = seeding.catch((error: unknown) => this.log(`last cache '${definition.name}' of ${definition.database}.${definition.measurement}: seeding from the files failed, it holds only rows written since: ${String(error)}`));
    this.seeded.set(key, settled);
  }

  private async ask(database: string, measurement: string, request: LastCacheRequest): Promise<LastValueTable[]> {
    const tables = await this.pipeline.lastCache(database, measurement, request);
    if (tables === null) throw new ArcError(ErrorKind.internal, ServerErrorCode.internal, `The writer thread of '${database}.${measurement}' failed`);
    return [...tables];
  }

  /** The measurement's columns (name, SQL type, role), or null when it has no file. */
  private async describe(database: string, measurement: string): Promise<DescribedColumn[] | null> {
    const rows = await this.queryRows(database, `DESCRIBE ${quoteIdentifier(database)}.${quoteIdentifier(measurement)}`);
    return rows?.map(([name, type, , , , role]) => ({ name: String(name), type: String(type), role: String(role) })) ?? null;
  }

  /** The newest `count` rows of each key in the measurement's files, as the writer merges them. */
  private async seedTable(definition: LastCacheDefinition): Promise<LastValueTable | null> {
    const described = await this.describe(definition.database, definition.measurement);
    if (described === null) return null;
    const wanted = (column: DescribedColumn): boolean =>
      column.name !== 'time' && (definition.keyColumns.includes(column.name) || definition.valueColumns === null || definition.valueColumns.includes(column.name));
    const columns = [...described.filter(wanted), { name: 'time', type: 'TIMESTAMP', role: 'time' }];
    const projections = columns.map((column) => (column.name === 'time' ? 'CAST(epoch_us("time") AS VARCHAR) AS "time"' : `CAST(${quoteIdentifier(column.name)} AS VARCHAR) AS ${quoteIdentifier(column.name)}`));
    const keys = definition.keyColumns.map(quoteIdentifier).join(', ');
    const sql =
      `SELECT ${projections.join(', ')} FROM ${quoteIdentifier(definition.database)}.${quoteIdentifier(definition.measurement)} ` +
      `QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY "time" DESC) <= ${String(definition.count)}`;
    const rows = (await this.queryRows(definition.database, sql)) ?? [];
    const { database, measurement, name } = definition;
    return { database, measurement, name, version: 0, columns: columns.map(({ name: column, type }) => ({ name: column, type })), rowsPacked: packLastValueRows(rows.map((row) => row.map((text, index) => valueOfText(text, columns[index]?.type ?? 'VARCHAR')))) };
  }

  /** A query's rows through the pool (JSON answer); null when the table or database does not exist. */
  private async queryRows(database: string, sql: string): Promise<unknown[][] | null> {
    try {
      const answer = await this.pool.run({ sql, database, format: 'json' });
      try {
        const parsed = JSON.parse(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength).toString('utf8')) as { data: unknown[][] };
        return parsed.data;
      } finally {
        answer.release();
      }
    } catch (error) {
      if (error instanceof ArcError && (error.code === QueryErrorCode.unknownTable || error.code === QueryErrorCode.unknownDatabase)) return null;
      throw error;
    }
  }
}

/** A value read back as text (the seed casts every column to VARCHAR) in the writer's representation. */
function valueOfText(text: unknown, type: string): LastValue {
  if (typeof text !== 'string') return null;
  if (type === 'TIMESTAMP') return Number(text);
  if (BIGINT_TYPES.has(type)) return BigInt(text);
  if (type === 'DOUBLE' || type === 'FLOAT') return doubleOfText(text);
  if (type === 'BOOLEAN') return text === 'true';
  return text;
}

/** DuckDB writes doubles as their shortest round-trip text, and inf, -inf, nan. */
function doubleOfText(text: string): number {
  if (text === 'inf') return Number.POSITIVE_INFINITY;
  if (text === '-inf') return Number.NEGATIVE_INFINITY;
  if (text === 'nan' || text === '-nan') return Number.NaN;
  return Number(text);
}

function cacheKey(database: string, measurement: string, name: string): string {
  return `${database}\u0000${measurement}\u0000${name}`;
}
