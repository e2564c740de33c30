import assert from 'node:assert/strict';
import { DuckDBDateValue, DuckDBIntervalValue, DuckDBTimestampTZValue, DuckDBTimestampValue } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { DUCKDB_MEMORY_SQL } from '@arc/telemetry';
import { quoteIdentifier, quoteLiteral, TAGS_METADATA_KEY } from '@arc/columnar';
import { LocalStorage, type CatalogFile } from '@arc/storage';
import { CatalogReplica, MeasurementViews } from './catalog.js';
import { FilePins } from './cache-port.js';
import type { CachePortClient } from './cache-port.js';
import type { CatalogScan } from './catalog.js';
import { ControlBlock } from './control-block.js';
import { QueryErrorCode } from './error-codes.js';
import { classifyDuckDBError } from './errors.js';
import { encodeArrowAnswer } from './arrow-answer.js';
import { encodeCsvAnswer } from './csv-answer.js';
import { encodeJsonAnswer } from './json-answer.js';
import type { EncodedAnswer } from './json-answer.js';
import { encodeMsgpackAnswer } from './msgpack-answer.js';
import { BOUNDS_SQL_TEXTS_MAX, BUCKET_GRIDS_MAX, CANCEL_POLL_MS, INTERVAL_VALUES_MAX, KEPT_STATEMENTS_MAX, LAST_POINT_FILES_MIN, SERIES_READ_AHEAD_FILES_MAX, TOP_N_BUCKET_STARTS_MAX, ZONED_BOUND_CHECKS_MAX } from './limits.js';
import { openLockedInstance } from './locked-instance.js';
import type { LockedInstance } from './locked-instance.js';
import { StatementGuard } from './statement-guard.js';
import type { CheckedStatement } from './statement-guard.js';
import { planStatement } from './query-plan.js';
import type { BoundedTable, EmptyTable, MeasurementRef, StatementPlan } from './query-plan.js';
import { describeSql, showDatabasesSql, showTablesSql } from './show-answers.js';
import { applySplices, expressionEnd, qualifiedNameEnd } from './sql-splice.js';
import type { Splice } from './sql-splice.js';
import { clearLocations, earliestLocation, readsRelation, selectsNoRelation } from './sql-tree.js';
import type { SqlNode } from './sql-tree.js';
import { filesHaveColumns, prunedRelationSql, sameColumnsRelationSql } from './time-pruning.js';
import { clockMicros, clockPlusInterval, constantTimestampMicros, exactTimestampMicros } from './constant-time.js';
import type { ColumnSpec } from './time-pruning.js';
import type { EstimateTask, QueryTask, StreamTask, WorkerConfig } from './task-messages.js';
import { measurementSql } from './measurement-query.js';
import { mayCallLastCache } from './last-cache-name.js';
import { LastCacheTables, planLastCaches } from './last-cache-relation.js';
import type { LastCacheLoad } from './last-cache-relation.js';
import type { LastValueTable } from '@arc/columnar';
import { StreamSender } from './stream-sender.js';
import { bucketStartTree, isConstantTree, mayBeTopN, narrowedRelationSql, partitionEdge, planTopN, shapeOf, TopNAttempts } from './top-n.js';
import type { CounterCell, GaugeCell } from '@arc/telemetry';
import { mayBeSeriesWindow, planSeriesWindow } from './series-window.js';
import type { SeriesField, SeriesWindowPlan, TimeBoundNode } from './series-window.js';
import { SeriesCache } from './series-cache.js';
import type { FileSeries, SeriesFile } from './series-cache.js';
import { aggregateSeriesWindow } from './series-answer.js';
import type { BucketGrid, SeriesAnswerRows, WindowBounds } from './series-answer.js';
import type { AnswerRows } from './result-chunks.js';
import type { TopNPlan } from './top-n.js';
import { maxTimeByTag, mayBeLastPoint, maxTimeRangeSql, narrowedReferenceSql, planLastPoint, stepOneReferences, wholeReferences } from './last-point.js';
import type { LastPointPlan, WholeReference } from './last-point.js';

/**
 * The schema unqualified names resolve in when the default database has no data yet. `main` of
 * the in-memory catalog is always on DuckDB's search path anyway and Arc keeps it empty, so such
 * a query fails with DuckDB's "Table with name x does not exist".
 */
const EMPTY_SCHEMA = 'main';

interface TimeRange {
  /** Microseconds since the epoch, inclusive; null: unbounded. */
  readonly lower: bigint | null;
  readonly upper: bigint | null;
}

/** An encoded answer and the measurements the query read (for the answer cache). */
export interface EngineAnswer extends EncodedAnswer {
  readonly reads: readonly MeasurementRef[];
  readonly cacheable: boolean;
}

interface OpenedStatement {
  readonly kind: 'statement';
  readonly prepared: DuckDBPreparedStatement;
  /** True when the statement is one this thread keeps for the next query of its text (keptStatements): never destroyed after a run. */
  readonly kept: boolean;
  readonly reads: readonly MeasurementRef[];
  readonly cacheable: boolean;
}

/** A series window answered from the series cache (series-window.ts): no statement to run. */
interface OpenedSeries {
  readonly kind: 'series';
  readonly rows: SeriesAnswerRows;
  readonly reads: readonly MeasurementRef[];
  readonly cacheable: boolean;
}

/** What the series path publishes (arc_query_series_windows_total, arc_query_series_cache_bytes). */
export interface SeriesMeter {
  readonly answers: CounterCell;
  readonly cacheBytes: GaugeCell;
}

/** The instant a bucket's grid is read at (2001-09-09T01:46:40Z), and how many buckets on its check is. */
const GRID_PROBE_US = 1_000_000_000_000_000;
const GRID_CHECK_BUCKETS = 1000;

function cancelledError(): ArcError {
  return new ArcError(ErrorKind.internal, QueryErrorCode.aborted, 'Query cancelled');
}

/** One worker's DuckDB instance, its catalog of views and the query path through it. */
export class QueryEngine {
  private readonly locked: LockedInstance;
  private readonly guard: StatementGuard;
  private readonly config: WorkerConfig;
  private readonly control: ControlBlock;
  private readonly replica: CatalogReplica;
  private readonly views: MeasurementViews;
  /** Where files are read (file keys to paths). */
  private readonly store: LocalStorage;
  /** The running task's files made local and pinned before DuckDB reads them (object storage only). */
  private pins: FilePins = FilePins.none;
  /** Where this thread's tasks ask for their files on an object store (cache-port.ts). */
  private readonly cachePort: CachePortClient | null;
  /** The running task's awaited DuckDB calls in flight (whileWatching), which its cancel poll interrupts. */
  private watchedCalls = 0;
  private catalog: CatalogScan = new Map();
  private defaultSchema = '';
  /** Columns DuckDB described, by view, with the catalog version they were described at. */
  private readonly columnsByView = new Map<string, { readonly version: number; readonly columns: ColumnSpec[] }>();
  /** Column lists this thread gave files whose columns were unknown (viewColumns): not the files' own. */
  private readonly filledColumnLists = new WeakSet<readonly ColumnSpec[]>();
  /** `SELECT NULL` parsed once: the tree bound expressions are evaluated in. */
  private selectTree: SqlNode | null = null;
  /** parsesAs answers by bound text and tree (see there); cleared when it reaches its bound. */
  private readonly boundTextChecks = new Map<string, boolean>();
  /** SQL texts of bounds trees (see boundsSql); cleared when it reaches its bound. */
  private readonly boundsSqlByTree = new Map<string, string>();
  /** Prepared statements of SQL that reads no relation, by schema and text, least recently used first (keptStatement). */
  private readonly keptStatements = new Map<string, DuckDBPreparedStatement>();
  /** The temporary tables last_cache() reads (last-cache-relation.ts). */
  private readonly lastCacheTables = new LastCacheTables();
  /** LastCacheTables.generation the kept statements were prepared at (forgetReplacedLastCacheStatements). */
  private lastCacheGeneration = 0;
  /** Keys of the kept statements that read last_cache() tables. */
  private readonly lastCacheStatementKeys = new Set<string>();
  /** The connection memoryBytes reads on, opened at its first call. */
  private statsConnection: DuckDBConnection | null = null;
  /** Lower-cased names of DuckDB's functions that are not plain scalar ones (aggregates, macros): top-N plans (top-n.ts). */
  private readonly nonScalarFunctions: ReadonlySet<string>;
  /** Bucket starts by evaluated tree (bucketStart); cleared when it reaches its bound. */
  private readonly bucketStarts = new Map<string, bigint | null>();
  /** Fixed-width grids of bucket expressions by shape (bucketGrid), null: not one; cleared at its bound. */
  private readonly bucketGrids = new Map<string, BucketGrid | null>();
  /** Values of constant interval expressions, by tree (INTERVAL_VALUES_MAX). */
  private readonly intervalValues = new Map<string, DuckDBIntervalValue | null>();
  /** Files decoded for series windows (series-cache.ts). */
  private readonly seriesCache: SeriesCache;
  private seriesMeter: SeriesMeter | null = null;

  private constructor(locked: LockedInstance, guard: StatementGuard, config: WorkerConfig, nonScalarFunctions: ReadonlySet<string>, cachePort: CachePortClient | null) {
    this.locked = locked;
    this.cachePort = cachePort;
    this.guard = guard;
    this.config = config;
    this.nonScalarFunctions = nonScalarFunctions;
    this.control = new ControlBlock(config.control);
    this.replica = new CatalogReplica(config.catalogChannel, config.catalogSnapshot);
    this.views = new MeasurementViews(locked.connection);
    this.store = new LocalStorage(config.dataRoot);
    this.seriesCache = new SeriesCache(config.seriesCacheBytes);
  }

  /** `cachePort`: the thread's port to the main thread's file cache (object storage; null in-process). */
  static async open(config: WorkerConfig, cachePort: CachePortClient | null = null): Promise<QueryEngine> {
    const locked = await openLockedInstance(config);
    const functions = await locked.connection.runAndReadAll("SELECT DISTINCT lower(function_name) FROM duckdb_functions() WHERE function_type <> 'scalar'");
    const nonScalar = new Set(functions.getRowsJS().flatMap(([name]) => (typeof name === 'string' ? [name] : [])));
    const engine = new QueryEngine(locked, await StatementGuard.create(locked.connection), config, nonScalar, cachePort);
    // Bounds evaluated as TIMESTAMPTZ are spliced in as TIMESTAMP: the same instant only in UTC.
    const timeZone = (await locked.connection.runAndReadAll("SELECT current_setting('TimeZone')")).getRowsJS()[0]?.[0];
    assert.equal(timeZone, 'UTC', 'query threads run with TimeZone UTC');
    await engine.refreshCatalog();
    return engine;
  }

  private get connection(): DuckDBConnection {
    return this.locked.connection;
  }

  /** Where the series path counts its answers and publishes its cache's bytes. */
  useSeriesMeter(meter: SeriesMeter): void {
    this.seriesMeter = meter;
    meter.cacheBytes.set(this.seriesCache.bytes);
  }

  /**
   * Bytes DuckDB's buffer manager holds for this thread's instance (arc_duckdb_memory_bytes), read
   * on a connection of its own so the read never interleaves with a task's statements.
   */
  async memoryBytes(): Promise<number> {
    this.statsConnection ??= await this.locked.instance.connect();
    const row = (await this.statsConnection.runAndReadAll(DUCKDB_MEMORY_SQL)).getRowsJS()[0];
    return Number(row?.[0] ?? 0);
  }

  /** Runs one query to an answer in the task's format (or to its row count); throws ArcError. */
  async run(task: QueryTask | EstimateTask): Promise<EngineAnswer> {
    return await this.asTask(task, () => this.runPinned(task));
  }

  /** Runs one query, sending its rows through the task's port as the consumer grants credit. */
  async stream(task: StreamTask): Promise<number> {
    return await this.asTask(task, () => this.streamPinned(task));
  }

  /**
   * Runs `work` as the thread's one task: the files it pins stay pinned, and one poll watches its
   * cancel slot, until its DuckDB work is over.
   */
  private async asTask<T>(task: QueryTask | EstimateTask | StreamTask, work: () => Promise<T>): Promise<T> {
    const isCancelled = (): boolean => this.control.isCancelled(task.slot);
    // A task that pins on an object store runs on a thread the pool gave a cache port (cache-port.ts).
    assert.ok(task.cacheTask === null || this.cachePort !== null, 'a task that pins files has a cache port');
    this.pins = task.cacheTask === null || this.cachePort === null ? FilePins.none : this.cachePort.pinsFor(task.cacheTask, isCancelled);
    // One cancel poll for the whole task, not a timer set and cleared around each awaited call.
    const connection = this.connection;
    const poll = setInterval(() => {
      if (this.watchedCalls > 0 && this.control.isCancelled(task.slot)) connection.interrupt();
    }, CANCEL_POLL_MS);
    try {
      return await work();
    } finally {
      clearInterval(poll);
      this.pins.releaseAll();
      this.pins = FilePins.none;
    }
  }

  private async runPinned(task: QueryTask | EstimateTask): Promise<EngineAnswer> {
    const startedAtMs = performance.now();
    // A top-N query runs first over its newest files, then wider until its answer is exact (top-n.ts).
    const topN = task.kind === 'query' ? new TopNAttempts() : null;
    for (;;) {
      const opened = await this.open(task, task.kind === 'estimate', topN);
      if (opened.kind === 'series') {
        assert.ok(task.kind === 'query', 'only a query is answered from the series cache');
        const encoded = await this.whileWatching(this.encode(opened.rows, task, startedAtMs));
        return { ...encoded, reads: opened.reads, cacheable: opened.cacheable };
      }
      try {
        const encoded =
          task.kind === 'estimate'
            ? await this.whileWatching(this.countRows(opened.prepared))
            : await this.whileWatching(this.encode(opened.prepared, task, startedAtMs));
        if (topN?.widens(encoded.rowCount) === true) continue;
        return { ...encoded, reads: opened.reads, cacheable: opened.cacheable };
      } catch (error) {
        throw this.failure(task.slot, error);
      } finally {
        if (!opened.kept) opened.prepared.destroySync();
      }
    }
  }

  private async streamPinned(task: StreamTask): Promise<number> {
    const opened = statementOf(await this.open(task, false));
    try {
      const result = await this.whileWatching(opened.prepared.stream());
      const sender = new StreamSender(task.port, () => this.control.isCancelled(task.slot));
      const rowCount = await this.whileWatching(sender.send(result, task.format, task.rowLimit));
      if (rowCount === null) throw cancelledError();
      return rowCount;
    } catch (error) {
      throw this.failure(task.slot, error);
    } finally {
      if (!opened.kept) opened.prepared.destroySync();
    }
  }

  /**
   * Takes a task from SQL (or a measurement read) to a prepared statement: catalog up to date,
   * statement checked by DuckDB's parser, databases checked against the caller's, files pruned
   * to the time range, SHOW answered from the catalog. `counting` wraps it in a count(*).
   */
  private async open(
    task: QueryTask | EstimateTask | StreamTask,
    counting: boolean,
    topN: TopNAttempts | null = null,
    continued = false,
    stepOne: LastPointPlan | null = null,
  ): Promise<OpenedStatement | OpenedSeries> {
    // A wider run of a top-N query, or a step of a two-step one, continues the task: its slot is running already.
    const running = continued || (topN !== null && topN.attempt > 0) ? !this.control.isCancelled(task.slot) : this.control.start(task.slot);
    if (!running) throw cancelledError();
    // A step after the first plans on the catalog the first one did (last-point.ts checks it did not move).
    if (!continued) await this.refreshCatalog();
    await this.useDatabase(task.database);
    const readable = task.readableDatabases === null ? null : new Set(task.readableDatabases);
    const planOf = async (sql: string): Promise<{ checked: CheckedStatement; plan: StatementPlan }> => {
      const checked = await this.whileWatching(this.guard.check(sql));
      return { checked, plan: planStatement(checked.statement, { defaultDatabase: task.database, catalog: this.catalog, readable, pending: task.pending }) };
    };
    const firstSql = 'sql' in task.source ? task.source.sql : measurementSql(task.database, task.source.measurement, null);
    let { checked, plan } = await planOf(firstSql);
    // The first query of a measurement after a start waits for its files to be listed; a listing
    // that found it empty removed it, so the statement is planned again on the names as they are.
    if (await this.whileWatching(this.replica.whenLoaded(measurementsOf(plan, this.catalog)))) {
      await this.refreshCatalog();
      await this.useDatabase(task.database);
      ({ checked, plan } = await planOf(firstSql));
    }
    if ('measurement' in task.source) {
      // Planned once unchecked to resolve the measurement (and the caller's access) first.
      const columns = await this.viewColumns({ database: task.database, measurement: task.source.measurement.measurement });
      ({ checked, plan } = await planOf(measurementSql(task.database, task.source.measurement, columns)));
    }
    // A query's first run (topN is a query's) of a series window is answered from the series cache.
    if (task.kind === 'query' && topN?.attempt === 0 && !continued && !counting && checked.explainPrefix === '' && 'sql' in task.source && mayBeSeriesWindow(checked.statement)) {
      const series = await this.seriesWindow(task, checked.statement, plan);
      if (series !== null) return series;
    }
    if (topN !== null && topN.attempt === 0 && !counting && checked.explainPrefix === '') topN.plan = await this.topNPlan(checked.statement, plan, task.rowLimit);
    // A latest-rows statement runs its subquery first, then itself over the files its answer can be in (last-point.ts).
    let lastPoint: { readonly plan: LastPointPlan; readonly version: number } | null = null;
    const latest = !continued && !counting && topN?.plan == null && checked.explainPrefix === '' && 'sql' in task.source ? await this.lastPointPlan(checked.statement, plan) : null;
    // Over few files it runs in one step, its references over every file read without the view's
    // union by name; so does step 1 of two (its subquery), over more.
    const wholeReads = latest !== null && !latest.twoSteps ? wholeReferences(latest.plan) : stepOne === null ? [] : stepOneReferences(checked.statement, stepOne);
    const twoStep = latest?.twoSteps === true ? latest.plan : null;
    if (twoStep !== null) {
      const version = this.replica.files.measurementVersion(twoStep.read.database, twoStep.read.measurement);
      const narrowedSql = await this.lastPointSql(task, checked.sql, twoStep);
      if (narrowedSql !== null) {
        lastPoint = { plan: twoStep, version };
        ({ checked, plan } = await planOf(narrowedSql));
      }
    }
    // Reads whose every reference becomes its pruned files need no view (making one reads every footer).
    const viewless = new Set(plan.kind === 'select' ? plan.boundedOnly : []);
    // A top-N statement's one reference is narrowed to files (a run over every file reads the view: below).
    if (topN?.plan != null && plan.kind === 'select') for (const read of plan.reads) viewless.add(read);
    if (plan.kind === 'select') for (const read of plan.reads) if (!viewless.has(read)) await this.syncView(read);
    if (plan.kind === 'describe') await this.syncView(plan.table);
    const unspliced: MeasurementRef[] = [];
    const loads: LastCacheLoad[] = [];
    let sql = await this.whileWatching(this.executableSql(checked, plan, unspliced, task.database, task.lastCaches ?? [], loads, topN, wholeReads));
    for (const load of loads) await this.whileWatching(this.lastCacheTables.fill(this.connection, load));
    // A bound that evaluated to nothing left a reference in place: it reads the view after all.
    for (const read of viewless) if (unspliced.some((table) => table.database === read.database && table.measurement === read.measurement)) await this.syncView(read);
    if (lastPoint !== null) {
      const { database, measurement } = lastPoint.plan.read;
      // The files of both steps are picked: from one catalog version, or the statement runs as written.
      if (this.replica.files.measurementVersion(database, measurement) !== lastPoint.version) return await this.open({ ...task, source: { sql: firstSql } }, counting, topN, true);
    }
    if (counting) {
      if (checked.explainPrefix !== '') throw badRequest(QueryErrorCode.sqlForbidden, 'EXPLAIN has no rows to estimate', { statement_type: 'EXPLAIN' });
      sql = `SELECT count(*) AS estimated_rows FROM (${sql}\n) AS arc_estimate`;
    }
    const overLastCaches = this.readsOnlyLastCaches(plan, loads);
    const keep = plan.kind === 'select' && (selectsNoRelation(checked.statement) || overLastCaches);
    const { prepared, kept } = await this.whileWatching(keep ? this.keptStatement(sql, checked, overLastCaches) : this.freshStatement(sql, checked));
    if (this.control.isCancelled(task.slot)) {
      if (!kept) prepared.destroySync();
      throw cancelledError();
    }
    if (plan.kind === 'describe') return { kind: 'statement', prepared, kept, reads: [plan.table], cacheable: true };
    const select = plan.kind === 'select' ? plan : null;
    return { kind: 'statement', prepared, kept, reads: select?.reads ?? [], cacheable: select?.deterministic ?? false };
  }

  private async freshStatement(sql: string, checked: CheckedStatement): Promise<{ prepared: DuckDBPreparedStatement; kept: boolean }> {
    return { prepared: await this.guard.prepare(sql, checked), kept: false };
  }

  /**
   * The prepared statement of SQL that reads no relation (`SELECT 1`, `SELECT now()`) or only
   * last_cache() tables, kept by schema and text: a health check, a dashboard's constant panel or
   * its lastpoint panel then costs one DuckDB call, not two. Only such SQL is kept: DuckDB binds a
   * view's definition into the prepared plan and does not bind again when the view is replaced, so
   * a kept statement over a view would answer from the files of its first run. A statement over
   * last_cache() tables is kept until one of them is loaded again (LastCacheTables.generation):
   * DuckDB plans with the rows' statistics, so it never runs over rows newer than its plan.
   * Functions are evaluated at each run (now(), random()).
   */
  private async keptStatement(sql: string, checked: CheckedStatement, overLastCaches: boolean): Promise<{ prepared: DuckDBPreparedStatement; kept: boolean }> {
    this.forgetReplacedLastCacheStatements();
    const key = `${this.defaultSchema}\u0000${checked.explainPrefix}${sql}`;
    if (overLastCaches) this.lastCacheStatementKeys.add(key);
    const known = this.keptStatements.get(key);
    if (known !== undefined) {
      this.keptStatements.delete(key);
      this.keptStatements.set(key, known);
      return { prepared: known, kept: true };
    }
    const prepared = await this.guard.prepare(sql, checked);
    for (const [oldest, statement] of this.keptStatements) {
      if (this.keptStatements.size < KEPT_STATEMENTS_MAX) break;
      this.keptStatements.delete(oldest);
      this.lastCacheStatementKeys.delete(oldest);
      statement.destroySync();
    }
    this.keptStatements.set(key, prepared);
    return { prepared, kept: true };
  }

  /**
   * True when the statement's only relations are last_cache() tables (and table functions such as
   * range()): no measurement, so no view or file a kept statement could go stale on.
   */
  private readsOnlyLastCaches(plan: StatementPlan, loads: readonly LastCacheLoad[]): boolean {
    return plan.kind === 'select' && loads.length > 0 && plan.reads.length === 0 && plan.empty.length === 0;
  }

  /** Statements kept over last_cache() tables were planned over rows loaded since: destroyed. */
  private forgetReplacedLastCacheStatements(): void {
    const generation = this.lastCacheTables.generation;
    if (generation === this.lastCacheGeneration) return;
    for (const key of this.lastCacheStatementKeys) {
      this.keptStatements.get(key)?.destroySync();
      this.keptStatements.delete(key);
    }
    this.lastCacheStatementKeys.clear();
    this.lastCacheGeneration = generation;
  }

  /**
   * A series window's answer from the series cache (series-window.ts), or null: the statement
   * runs in DuckDB as written. Null too when a bound is not an exact instant, the bucket not a
   * fixed-width grid, a file in range has a column of another type than the series path reads
   * (FileSeries.serves), or the files would take more than the cache admits for one query.
   */
  private async seriesWindow(task: QueryTask, statement: SqlNode, plan: StatementPlan): Promise<OpenedSeries | null> {
    if (this.seriesCache.bytesMax === 0 || plan.kind !== 'select') return null;
    const [read] = plan.reads;
    if (read === undefined || this.catalog.get(read.database)?.has(read.measurement) !== true) return null;
    const columns = await this.viewColumns(read);
    const series = planSeriesWindow(statement, plan, columns);
    if (series === null) return null;
    const bounds = await this.windowBounds(series);
    if (bounds === null) return null;
    const grid = series.bucket === null ? null : await this.bucketGrid(series.bucket);
    if (series.bucket !== null && grid === null) return null;
    const inRange = this.replica.files.filesInRange(read.database, read.measurement, bounds.lowerUs, bounds.upperUs);
    const files = this.seriesFiles(inRange);
    if (files.length === 0 || files.length !== inRange.length || !this.seriesCache.admits(files, series.fields.length)) return null;
    const ahead = files.some((file) => !this.seriesCache.holds(file.key, series.tag)) ? this.readAheadFiles(read, series, bounds, files) : [];
    const loaded = await this.loadSeries(task, files, series.tag, series.fields, ahead);
    if (loaded === null) return null;
    if (this.control.isCancelled(task.slot)) throw cancelledError();
    const rows = aggregateSeriesWindow(loaded, series, bounds, grid);
    if (rows === null) return null;
    this.seriesMeter?.answers.add();
    return { kind: 'series', rows, reads: plan.reads, cacheable: plan.deterministic };
  }

  /**
   * The files sorted by `tag` with `fields` from the series cache (read now where not held, then
   * the files `ahead`), or null when one does not serve them as DuckDB reads it (FileSeries.serves).
   * Only the files the cache reads now must be local (object storage: pinned); the others answer
   * from memory.
   */
  private async loadSeries(
    task: QueryTask | StreamTask | EstimateTask,
    files: readonly (SeriesFile & { readonly catalogFile: CatalogFile })[],
    tag: string,
    fields: readonly SeriesField[],
    ahead: readonly (SeriesFile & { readonly catalogFile: CatalogFile })[] = [],
  ): Promise<FileSeries[] | null> {
    await this.pins.pin([...files, ...ahead].filter((file) => this.seriesCache.reads(file.key, tag, fields)).map((file) => file.catalogFile));
    const loaded = await this.seriesCache.load(files, tag, fields, (sql) => this.whileWatching(this.connection.run(sql)), ahead);
    this.seriesMeter?.cacheBytes.set(this.seriesCache.bytes);
    return loaded.every((file) => file.serves(tag, fields)) ? loaded : null;
  }

  /**
   * Catalog files as the series cache reads them; files whose names do not say their rows (named
   * before Arc counted them) are left out (the cache cannot estimate them: DuckDB reads them).
   */
  private seriesFiles(catalogFiles: readonly CatalogFile[]): (SeriesFile & { readonly catalogFile: CatalogFile })[] {
    return catalogFiles.flatMap((file) => {
      if (file.rows === null) return [];
      // A column list this thread filled in for a file of unknown columns is the view's, not the file's.
      const columns = file.columns === null || this.filledColumnLists.has(file.columns) ? null : file.columns;
      const measurement = `${file.database}\u0000${file.measurement}`;
      return [{ key: file.key, measurement, rows: file.rows, path: this.store.locationOf(file.key), columns, catalogFile: file }];
    });
  }

  /**
   * The files a series window that missed the cache reads ahead: the measurement's other files
   * the cache does not hold, nearest the window first, while the query's files and these stay
   * within what the cache admits for one query, at most SERIES_READ_AHEAD_FILES_MAX. A dashboard
   * or a benchmark moves its window over the same hours: one read then serves the next queries,
   * where each file read when first asked for costs a query ~15 ms on a fresh thread (docs/benchmarks.md).
   */
  private readAheadFiles(read: MeasurementRef, series: SeriesWindowPlan, bounds: WindowBounds, files: readonly SeriesFile[]): (SeriesFile & { readonly catalogFile: CatalogFile })[] {
    const wanted = new Set(files.map((file) => file.key));
    const distance = (file: CatalogFile): number => Math.max(0, file.minTimeUs - bounds.upperUs, bounds.lowerUs - file.maxTimeUs);
    const others = this.replica.files
      .files(read.database, read.measurement)
      .filter((file) => !wanted.has(file.key) && !this.seriesCache.holds(file.key, series.tag))
      .sort((left, right) => distance(left) - distance(right));
    const ahead: (SeriesFile & { readonly catalogFile: CatalogFile })[] = [];
    for (const file of this.seriesFiles(others)) {
      if (ahead.length >= SERIES_READ_AHEAD_FILES_MAX || !this.seriesCache.admits([...files, ...ahead, file], series.fields.length)) break;
      ahead.push(file);
    }
    return ahead;
  }

  /**
   * The window's inclusive bounds in µs, each bound an exact instant: a literal to the µs, or an
   * expression DuckDB evaluates to a TIMESTAMP, TIMESTAMPTZ or DATE (a finer type, a cast that
   * fails or a bound beyond 2^53 µs: null).
   */
  private async windowBounds(series: SeriesWindowPlan): Promise<WindowBounds | null> {
    const bounds: readonly TimeBoundNode[] = [...series.lower, ...series.upper];
    const values = await this.evaluateTimestamps(bounds.map((bound) => bound.node), exactTimestampMicros);
    let lowerUs = -Number.MAX_SAFE_INTEGER;
    let upperUs = Number.MAX_SAFE_INTEGER;
    for (const [index, bound] of bounds.entries()) {
      const evaluated = values[index];
      const value = evaluated?.exact === true ? evaluated.micros : null;
      if (value === null || value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) return null;
      const micros = Number(value);
      if (index < series.lower.length) lowerUs = Math.max(lowerUs, bound.exclusive ? micros + 1 : micros);
      else upperUs = Math.min(upperUs, bound.exclusive ? micros - 1 : micros);
    }
    return { lowerUs, upperUs };
  }

  /**
   * The fixed-width grid of a bucket expression, as DuckDB evaluates it: the start of the bucket
   * holding GRID_PROBE_US, the one before it (their distance is the width), and a check that the
   * start GRID_CHECK_BUCKETS buckets on is where the grid puts it. Null for a time_bucket of months
   * (their widths vary) or a width DuckDB refuses. Remembered by the expression's shape.
   */
  private async bucketGrid(bucket: SqlNode): Promise<BucketGrid | null> {
    const key = shapeOf(bucket);
    const known = this.bucketGrids.get(key);
    if (known !== undefined) return known;
    let grid: BucketGrid | null = null;
    const [width] = Array.isArray(bucket.children) ? (bucket.children as SqlNode[]) : [];
    const months = String(bucket.function_name).toLowerCase() === 'time_bucket' && width !== undefined ? await this.intervalMonths(width) : 0;
    const start = months === 0 ? await this.bucketStart(bucket, GRID_PROBE_US) : null;
    const previous = start === null ? null : await this.bucketStart(bucket, Number(start) - 1);
    if (start !== null && previous !== null && start > previous) {
      const widthUs = Number(start - previous);
      const checkUs = Number(start) + GRID_CHECK_BUCKETS * widthUs;
      if ((await this.bucketStart(bucket, checkUs + widthUs - 1)) === BigInt(checkUs)) grid = { originUs: Number(start), widthUs };
    }
    if (this.bucketGrids.size >= BUCKET_GRIDS_MAX) this.bucketGrids.clear();
    this.bucketGrids.set(key, grid);
    return grid;
  }

  /** The months of an INTERVAL expression (null: not an interval, or DuckDB refuses it). */
  private async intervalMonths(interval: SqlNode): Promise<number | null> {
    return (await this.intervalValue(interval))?.months ?? null;
  }

  /**
   * The value of a constant expression as DuckDB evaluates it when it is an INTERVAL (null: another
   * type, or DuckDB refuses it). Remembered by tree: it depends on nothing else.
   */
  private async intervalValue(interval: SqlNode): Promise<DuckDBIntervalValue | null> {
    // The key first: a `now() - INTERVAL 1 HOUR` bound asks for its interval on every query.
    const expression = structuredClone(interval);
    clearLocations(expression);
    const key = JSON.stringify(expression);
    const known = this.intervalValues.get(key);
    if (known !== undefined) return known;
    const statement = structuredClone(await this.selectTemplate()) as SqlNode & { select_list: SqlNode[] };
    statement.select_list = [expression];
    clearLocations(statement);
    let value: DuckDBIntervalValue | null;
    try {
      const selectSql = await this.boundsSql(statement);
      const evaluated = selectSql === null ? null : (await this.connection.runAndReadAll(selectSql)).getRows()[0]?.[0];
      value = evaluated instanceof DuckDBIntervalValue ? evaluated : null;
    } catch {
      value = null;
    }
    if (this.intervalValues.size >= INTERVAL_VALUES_MAX) this.intervalValues.clear();
    this.intervalValues.set(key, value);
    return value;
  }

  /**
   * `now()` plus or minus a constant interval of no months, from the clock (milliseconds) and the
   * interval's value (DuckDB's, remembered): a stat panel's `time > now() - INTERVAL 1 HOUR` then
   * costs no DuckDB statement per query (~0.6 ms each on a thread of two DuckDB threads). DuckDB's
   * now() is its statement's start, an instant of the same request as this one; with the thread's
   * TimeZone UTC (asserted at open) a day is 24 hours. Undefined for any other expression, or an
   * interval of months (calendar arithmetic): DuckDB evaluates those.
   */
  private async clockBound(expression: SqlNode): Promise<EvaluatedBound | undefined> {
    const clock = clockPlusInterval(expression);
    if (clock === undefined) return undefined;
    if (clock.interval === null) return { micros: clockMicros(Date.now(), 1, 0, 0n), zoned: true, exact: true };
    if (!isConstantTree(clock.interval)) return undefined;
    const interval = await this.intervalValue(clock.interval);
    if (interval?.months !== 0) return undefined;
    return { micros: clockMicros(Date.now(), clock.sign, interval.days, interval.micros), zoned: true, exact: true };
  }

  /** The error to answer for a failure while running: a cancelled task's failure is the cancel. */
  private failure(slot: number, error: unknown): ArcError {
    if (this.control.isCancelled(slot)) return cancelledError();
    return error instanceof ArcError ? error : classifyDuckDBError(error);
  }

  private async countRows(prepared: DuckDBPreparedStatement): Promise<EncodedAnswer> {
    const reader = await prepared.runAndReadAll();
    const count = reader.getRows()[0]?.[0];
    assert.ok(typeof count === 'bigint', 'count(*) answers one BIGINT');
    return { body: new Uint8Array(0), rowCount: Number(count) };
  }

  /** The SQL to run for a checked statement: SHOW answers from the catalog, reads with pruned files. */
  private async executableSql(
    checked: CheckedStatement,
    plan: StatementPlan,
    unspliced: MeasurementRef[],
    database: string,
    lastCaches: readonly LastValueTable[],
    loads: LastCacheLoad[],
    topN: TopNAttempts | null,
    wholeReads: readonly WholeReference[],
  ): Promise<string> {
    switch (plan.kind) {
      case 'show-databases':
        return showDatabasesSql(plan.databases);
      case 'show-tables':
        return showTablesSql(this.replica.files, this.catalog, plan.databases);
      case 'describe':
        return this.describedSql(plan.table);
      case 'select':
        return this.rewrittenSql(checked.sql, plan.bounded, plan.empty, unspliced, topN, wholeReads, (text) => {
          if (!mayCallLastCache(checked.sql)) return [];
          const planned = planLastCaches(text, checked.statement, database, lastCaches, this.lastCacheTables);
          loads.push(...planned.loads);
          return planned.splices;
        });
    }
  }

  /**
   * Puts, in place of each measurement whose time the WHERE bounds, a relation over only the
   * files of the hours in range. Bounds that DuckDB cannot turn into a TIMESTAMP (compared with
   * a number, say) bound nothing; the WHERE itself still filters every row. A measurement with
   * rows buffered but no file yet becomes an empty relation of its columns. Bounded references
   * left in place go to `unspliced` (they read the measurement's view). The reference of a top-N
   * plan is narrowed to the rows on its edge's side (narrowedRelationSql). A reference in
   * `wholeReads` the WHERE does not bound reads every file of its measurement, plainly when they
   * all have its columns (else it reads the view).
   */
  private async rewrittenSql(
    sql: string,
    bounded: readonly BoundedTable[],
    empty: readonly EmptyTable[],
    unspliced: MeasurementRef[],
    topN: TopNAttempts | null,
    wholeReads: readonly WholeReference[],
    lastCaches: (text: Buffer) => Splice[],
  ): Promise<string> {
    const text = Buffer.from(sql);
    const splices: Splice[] = lastCaches(text);
    if (topN !== null) topN.narrowed = false;
    const narrowing = topN?.plan ?? null;
    const whole = wholeReads.filter((reference) => !bounded.some((table) => table.location === reference.location));
    if (bounded.length === 0 && empty.length === 0 && splices.length === 0 && narrowing === null && whole.length === 0) return sql;
    for (const table of empty) {
      const end = qualifiedNameEnd(text, table.location, table.tableName);
      // The view does not exist: without a replacement the query cannot bind at all.
      if (end === null) throw new ArcError(ErrorKind.internal, QueryErrorCode.engine, `Cannot locate table '${table.tableName}' in the SQL text`);
      const named = namedRelation(prunedRelationSql(table.columns, []), table);
      // `DESCRIBE cpu` takes a name or a query, never a subquery with an alias.
      splices.push({ start: table.location, end, text: table.bare ? `SELECT * FROM ${named}` : named });
    }
    const { ranges: bounds, zoned } = bounded.length === 0 ? { ranges: [], zoned: [] } : await this.evaluateBounds(bounded);
    splices.push(...(await this.zonedBoundSplices(text, zoned)));
    const prunedFiles: CatalogFile[] = [];
    const targets: { table: BoundedTable | TopNPlan['table']; range: TimeRange | undefined }[] = bounded.map((table, index) => ({ table, range: bounds[index] }));
    // A top-N reference the WHERE does not bound is narrowed all the same.
    if (narrowing !== null && !bounded.some((table) => table.location === narrowing.table.location)) targets.push({ table: narrowing.table, range: { lower: null, upper: null } });
    for (const { table, range } of targets) {
      const end = qualifiedNameEnd(text, table.location, table.tableName);
      const edge = range === undefined || end === null || topN === null || narrowing?.table.location !== table.location ? null : await this.narrowingEdge(narrowing, topN.attempt, range);
      if (range === undefined || (range.lower === null && range.upper === null && edge === null) || end === null) {
        unspliced.push(table);
        continue;
      }
      const lower = micros(range.lower);
      const upper = micros(range.upper);
      const descending = narrowing?.descending === true;
      const inRange =
        edge === null
          ? this.replica.files.filesInRange(table.database, table.measurement, lower, upper)
          : descending
            ? this.replica.files.filesInRange(table.database, table.measurement, Math.max(lower ?? -Infinity, Number(edge)), upper)
            : this.replica.files.filesInRange(table.database, table.measurement, lower, Math.min(upper ?? Infinity, Number(edge) - 1));
      prunedFiles.push(...inRange);
      const files = inRange.map((file) => this.store.locationOf(file.key));
      const columns = await this.viewColumns(table);
      const relation = this.readsPlainly(inRange, columns) ? sameColumnsRelationSql(files) : prunedRelationSql(columns, files);
      if (topN !== null && edge !== null) topN.narrowed = true;
      splices.push({ start: table.location, end, text: namedRelation(edge === null ? relation : narrowedRelationSql(relation, edge, descending), table) });
    }
    splices.push(...(await this.wholeReadSplices(text, whole, unspliced, prunedFiles)));
    // Only the files the time range kept are made local (object storage).
    await this.pins.pin(prunedFiles);
    return applySplices(text, splices);
  }

  /**
   * Whether `files` can be read as one plain list in place of the view: there are some, and each
   * has the view's columns in order (a list filled in from DuckDB's description does not count).
   */
  private readsPlainly(files: readonly CatalogFile[], columns: readonly ColumnSpec[]): boolean {
    return files.length > 0 && filesHaveColumns(files, columns, (list) => this.filledColumnLists.has(list));
  }

  /**
   * Each reference of `whole` as a plain read of every file of its measurement: the view reads
   * them unioned by name, which costs DuckDB more to plan and to run (last-point.ts). Only when
   * every file has the measurement's columns, in order; else the reference stays (it reads the
   * view) and goes to `unspliced`. One list of files per measurement, taken at once, for all its
   * references: the replica may take a delta at any await.
   */
  private async wholeReadSplices(text: Buffer, whole: readonly WholeReference[], unspliced: MeasurementRef[], readFiles: CatalogFile[]): Promise<Splice[]> {
    const filesByRead = new Map(whole.map((reference) => [`${reference.database}\u0000${reference.measurement}`, this.replica.files.files(reference.database, reference.measurement)]));
    const splices: Splice[] = [];
    for (const reference of whole) {
      const files = filesByRead.get(`${reference.database}\u0000${reference.measurement}`) ?? [];
      const end = qualifiedNameEnd(text, reference.location, reference.tableName);
      if (end === null || !this.readsPlainly(files, await this.viewColumns(reference))) {
        unspliced.push(reference);
        continue;
      }
      readFiles.push(...files);
      splices.push({ start: reference.location, end, text: namedRelation(sameColumnsRelationSql(files.map((file) => this.store.locationOf(file.key))), reference) });
    }
    return splices;
  }

  /**
   * The plan of a latest-rows statement (last-point.ts) and whether it runs in two steps, or null:
   * run as written. Over few files the second step costs what it saves (limits.ts).
   */
  private async lastPointPlan(statement: SqlNode, plan: StatementPlan): Promise<{ readonly plan: LastPointPlan; readonly twoSteps: boolean } | null> {
    if (plan.kind !== 'select' || !mayBeLastPoint(statement) || plan.reads.length !== 1) return null;
    const [read] = plan.reads;
    if (read === undefined || this.catalog.get(read.database)?.has(read.measurement) !== true) return null;
    const columns = await this.viewColumns(read);
    const latest = planLastPoint(statement, plan, columns, this.nonScalarFunctions);
    if (latest === null) return null;
    // Step 1 from the series cache costs next to nothing: two steps over any number of files.
    const files = this.replica.files.files(read.database, read.measurement);
    const fromCache = this.seriesCache.bytesMax > 0 && maxTimeByTag(latest, columns) !== null && files.every((file) => file.rows !== null);
    return { plan: latest, twoSteps: fromCache || files.length >= LAST_POINT_FILES_MIN };
  }

  /**
   * Step 1 of a two-step statement: its subquery's least and greatest max time, through the same
   * planning path as any query; then the statement's text with both references narrowed to them
   * (step 2). Step 1 from the series cache when it can answer it (maxTimesFromCache), else
   * through DuckDB. Null when step 1 fails (the statement runs as written, and reports its own error).
   */
  private async lastPointSql(task: QueryTask | StreamTask | EstimateTask, sql: string, plan: LastPointPlan): Promise<string | null> {
    const row = (await this.maxTimesFromCache(task, plan)) ?? (await this.maxTimesFromDuckDB(task, plan));
    if (row === undefined) return null;
    const [lowest, highest] = row;
    // No max time: the IN holds for no row. An empty range (lower above upper) keeps no file.
    const [lowerUs, upperUs] = typeof lowest === 'bigint' && typeof highest === 'bigint' ? [lowest - 1n, highest + 1n] : [1n, 0n];
    const text = Buffer.from(sql);
    const splices: Splice[] = [];
    for (const reference of plan.references) {
      const end = qualifiedNameEnd(text, reference.location, reference.tableName);
      if (end === null) return null;
      const narrowed = narrowedReferenceSql(text.toString('utf8', reference.location, end), lowerUs, upperUs);
      splices.push({ start: reference.location, end, text: namedRelation(narrowed, reference) });
    }
    return applySplices(text, splices);
  }

  /**
   * Step 1 from the series cache (maxTimeByTag): each tag's max time is the last row of its run
   * in each file (runs are sorted by time), the rows without the tag one group more, as in
   * DuckDB's GROUP BY. The least and greatest of those, µs, as step 1's row; [] when the
   * measurement has no row; undefined when the cache cannot answer (DuckDB runs step 1).
   */
  private async maxTimesFromCache(task: QueryTask | StreamTask | EstimateTask, plan: LastPointPlan): Promise<readonly unknown[] | undefined> {
    if (this.seriesCache.bytesMax === 0) return undefined;
    const tag = maxTimeByTag(plan, await this.viewColumns(plan.read));
    if (tag === null) return undefined;
    const catalogFiles = this.replica.files.files(plan.read.database, plan.read.measurement);
    const files = this.seriesFiles(catalogFiles);
    if (files.length !== catalogFiles.length || !this.seriesCache.admits(files, 0)) return undefined;
    const loaded = await this.loadSeries(task, files, tag, []);
    if (loaded === null) return undefined;
    const maxes = new Map<string | null, number>();
    for (const file of loaded) {
      for (const [value, run] of [...file.runs, [null, file.untagged] as const]) {
        if (run.end === run.start) continue;
        const last = file.time[run.end - 1] as number;
        maxes.set(value, Math.max(maxes.get(value) ?? -Infinity, last));
      }
    }
    this.seriesMeter?.answers.add();
    if (maxes.size === 0) return [];
    let lowest = Infinity;
    let highest = -Infinity;
    for (const max of maxes.values()) {
      lowest = Math.min(lowest, max);
      highest = Math.max(highest, max);
    }
    return [BigInt(lowest), BigInt(highest)];
  }

  /** Step 1 through DuckDB: its subquery's least and greatest max time (epoch µs); undefined when it fails. */
  private async maxTimesFromDuckDB(task: QueryTask | StreamTask | EstimateTask, plan: LastPointPlan): Promise<readonly unknown[] | undefined> {
    const tree = structuredClone(plan.subquery);
    clearLocations(tree);
    const subquerySql = await this.boundsSql(tree);
    if (subquerySql === null) return undefined;
    let row: readonly unknown[];
    try {
      const opened = statementOf(await this.open({ ...task, source: { sql: maxTimeRangeSql(subquerySql, plan) } }, false, null, true, plan));
      try {
        row = (await this.whileWatching(opened.prepared.runAndReadAll())).getRows()[0] ?? [];
      } finally {
        if (!opened.kept) opened.prepared.destroySync();
      }
    } catch (error) {
      if (this.control.isCancelled(task.slot)) throw cancelledError();
      if (error instanceof ArcError && error.kind !== ErrorKind.badRequest) throw error;
      return undefined;
    }
    return row;
  }

  /** The top-N plan of a statement (top-n.ts), or null: run as written. */
  private async topNPlan(statement: SqlNode, plan: StatementPlan, rowLimit: number): Promise<TopNPlan | null> {
    if (plan.kind !== 'select' || !mayBeTopN(statement) || plan.reads.length !== 1 || plan.empty.length > 0) return null;
    const [read] = plan.reads;
    if (read === undefined) return null;
    const topN = planTopN(statement, plan, { columns: await this.viewColumns(read), nonScalarFunctions: this.nonScalarFunctions });
    // An answer cut at the row limit could never show it had the LIMIT's rows.
    return topN !== null && topN.rowsWanted <= rowLimit ? topN : null;
  }

  /**
   * The edge of a narrowed run (a bucket start, µs), or null: read the whole range. It is the
   * bucket start at or before the partition edge (top-n.ts, partitionEdge), which must be a floor
   * of it and narrow something: an edge at or before every row in range (DESC), or after every
   * one (ASC), reads what the whole range does.
   */
  private async narrowingEdge(plan: TopNPlan, attempt: number, range: TimeRange): Promise<bigint | null> {
    const { database, measurement } = plan.table;
    const candidates = this.replica.files.filesInRange(database, measurement, micros(range.lower), micros(range.upper));
    const partitionEdgeUs = partitionEdge(candidates, plan.descending, attempt);
    if (partitionEdgeUs === null) return null;
    const edge = plan.bucket === null ? BigInt(partitionEdgeUs) : await this.bucketStart(plan.bucket, partitionEdgeUs);
    if (edge === null || edge > BigInt(partitionEdgeUs)) return null;
    // An edge the WHERE's own bound passes narrows nothing either.
    if (plan.descending) return candidates.some((file) => BigInt(file.minTimeUs) < edge) && (range.lower === null || edge > range.lower) ? edge : null;
    return candidates.some((file) => BigInt(file.maxTimeUs) >= edge) && (range.upper === null || edge <= range.upper) ? edge : null;
  }

  /** The start of the bucket holding the instant `micros`, as DuckDB evaluates the bucket; null when it does not evaluate. */
  private async bucketStart(bucket: SqlNode, instantUs: number): Promise<bigint | null> {
    const tree = bucketStartTree(await this.selectTemplate(), bucket, instantUs);
    clearLocations(tree);
    const key = JSON.stringify(tree);
    const known = this.bucketStarts.get(key);
    if (known !== undefined) return known;
    let start: bigint | null;
    try {
      const selectSql = await this.boundsSql(tree);
      const value = selectSql === null ? null : (await this.connection.runAndReadAll(selectSql)).getRows()[0]?.[0];
      start = value instanceof DuckDBTimestampValue ? value.micros : null;
    } catch {
      // A width DuckDB refuses (zero, negative) narrows nothing; the statement itself reports it.
      start = null;
    }
    if (this.bucketStarts.size >= TOP_N_BUCKET_STARTS_MAX) this.bucketStarts.clear();
    this.bucketStarts.set(key, start);
    return start;
  }

  /**
   * Evaluates every bound expression: literals in JS (constantTimestampMicros), the rest in one
   * DuckDB query; a bound that does not evaluate is dropped. Also names the bounds DuckDB
   * evaluated to a TIMESTAMP WITH TIME ZONE (see zonedBoundSplices).
   */
  private async evaluateBounds(bounded: readonly BoundedTable[]): Promise<{ ranges: TimeRange[]; zoned: ZonedBound[] }> {
    const expressions = bounded.flatMap((table) => [...table.lower, ...table.upper]);
    const values = await this.evaluateTimestamps(expressions, constantTimestampMicros);
    const zoned: ZonedBound[] = [];
    for (const [index, bound] of values.entries()) {
      const expression = expressions[index];
      if (bound.zoned && bound.micros !== null && expression !== undefined) zoned.push({ expression, micros: bound.micros });
    }
    return { ranges: timeRanges(bounded, values.map((bound) => bound.micros)), zoned };
  }

  /**
   * Puts the value of each bound DuckDB evaluated to a TIMESTAMP WITH TIME ZONE (now() - INTERVAL
   * 1 HOUR) in place of its text, as a TIMESTAMP: compared with one, DuckDB casts every row's
   * `time` to TIMESTAMPTZ (as costly as the scan itself) and cannot use the files' min/max. The
   * instant is the same (the thread's TimeZone is UTC, asserted at open), and now() is the one
   * taken when the bounds were evaluated, milliseconds before the statement runs (DuckDB takes it
   * once per statement too). A bound whose text cannot be located exactly is left as written.
   */
  private async zonedBoundSplices(sql: Buffer, bounds: readonly ZonedBound[]): Promise<Splice[]> {
    const splices: Splice[] = [];
    for (const { expression, micros } of bounds) {
      if (readsRelation(expression)) continue;
      const start = earliestLocation(expression);
      const end = start === null ? null : expressionEnd(sql, start);
      if (start === null || end === null) continue;
      if (splices.some((splice) => splice.start < end && start < splice.end)) continue;
      if (!(await this.parsesAs(sql.toString('utf8', start, end), expression))) continue;
      splices.push({ start, end, text: `make_timestamp(${micros.toString()}::BIGINT)` });
    }
    return splices;
  }

  /**
   * Whether `text` alone parses to exactly `expression` (locations aside). Remembered by text and
   * tree: a dashboard sends the same few bounds (`now() - INTERVAL 1 HOUR`) with every refresh, and
   * each check is a parse in DuckDB.
   */
  private async parsesAs(text: string, expression: SqlNode): Promise<boolean> {
    const template = await this.selectTemplate();
    const expected = structuredClone(template) as SqlNode & { select_list: SqlNode[] };
    expected.select_list = [structuredClone(expression)];
    clearLocations(expected);
    const expectedJson = JSON.stringify(expected);
    const key = `${text}\u0000${expectedJson}`;
    const known = this.boundTextChecks.get(key);
    if (known !== undefined) return known;
    const reader = await this.connection.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [`SELECT ${text}`]);
    const serialized = reader.getRowsJS()[0]?.[0];
    let parses = false;
    if (typeof serialized === 'string') {
      const tree = JSON.parse(serialized) as { error?: boolean; statements?: { node: SqlNode }[] };
      const [parsed, ...more] = tree.statements ?? [];
      if (tree.error !== true && parsed !== undefined && more.length === 0) {
        clearLocations(parsed.node);
        parses = JSON.stringify(parsed.node) === expectedJson;
      }
    }
    if (this.boundTextChecks.size >= ZONED_BOUND_CHECKS_MAX) this.boundTextChecks.clear();
    this.boundTextChecks.set(key, parses);
    return parses;
  }

  /** `SELECT NULL` parsed once: the tree bound expressions are evaluated in. */
  private async selectTemplate(): Promise<SqlNode> {
    this.selectTree ??= (await this.guard.check('SELECT NULL')).statement;
    return this.selectTree;
  }

  /**
   * Each bound expression's value: a literal `literal` reads in JS (constant-time.ts), `now()` and
   * an interval from the clock (clockBound), the rest in one DuckDB statement; when that statement
   * fails, the rest have no value (a bound that does not evaluate prunes nothing).
   */
  private async evaluateTimestamps(expressions: readonly SqlNode[], literal: (node: SqlNode) => bigint | undefined): Promise<EvaluatedBound[]> {
    const known: (EvaluatedBound | undefined)[] = [];
    for (const expression of expressions) {
      const micros = literal(expression);
      known.push(micros === undefined ? await this.clockBound(expression) : { micros, zoned: false, exact: true });
    }
    const rest = expressions.filter((_, index) => known[index] === undefined);
    let evaluated: EvaluatedBound[];
    try {
      evaluated = rest.length === 0 ? [] : await this.evaluateInDuckDB(rest);
    } catch {
      evaluated = rest.map(() => ({ micros: null, zoned: false, exact: false }));
    }
    let next = 0;
    return known.map((bound) => bound ?? (evaluated[next++] as EvaluatedBound));
  }

  /** `SELECT TRY_CAST(e AS TIMESTAMP), ..., e, ...` built as a tree from the user's own expressions. */
  private async evaluateInDuckDB(expressions: readonly SqlNode[]): Promise<EvaluatedBound[]> {
    const statement = structuredClone(await this.selectTemplate()) as SqlNode & { select_list: SqlNode[] };
    // Each expression as a TIMESTAMP, then as itself (its type tells whether it has a time zone).
    const casts = expressions.map((expression) => ({
      class: 'CAST',
      type: 'OPERATOR_CAST',
      alias: '',
      query_location: 0,
      child: structuredClone(expression),
      cast_type: { id: 'TIMESTAMP', type_info: null },
      try_cast: true,
    }));
    statement.select_list = [...casts, ...expressions.map((expression) => structuredClone(expression))];
    clearLocations(statement);
    const selectSql = await this.boundsSql(statement);
    if (selectSql === null) return expressions.map(() => ({ micros: null, zoned: false, exact: false }));
    const row = (await this.connection.runAndReadAll(selectSql)).getRows()[0] ?? [];
    return expressions.map((_, index) => {
      const value = row[index];
      const own = row[expressions.length + index];
      const exact = own instanceof DuckDBTimestampValue || own instanceof DuckDBTimestampTZValue || own instanceof DuckDBDateValue;
      return { micros: value instanceof DuckDBTimestampValue ? value.micros : null, zoned: own instanceof DuckDBTimestampTZValue, exact };
    });
  }

  /**
   * The SQL text of a statement's tree (its locations cleared), made by DuckDB and remembered by
   * tree: a dashboard sends the same bounds (`now() - INTERVAL 1 HOUR`) with every refresh, so
   * each refresh skips one DuckDB call. The text depends on nothing but the tree; its value is
   * evaluated anew at each run.
   */
  private async boundsSql(statement: SqlNode): Promise<string | null> {
    const tree = JSON.stringify({ error: false, statements: [{ node: statement, named_param_map: [] }] });
    const known = this.boundsSqlByTree.get(tree);
    if (known !== undefined) return known;
    const deserialized = await this.connection.runAndReadAll('SELECT json_deserialize_sql($1::JSON)', [tree]);
    const selectSql = deserialized.getRowsJS()[0]?.[0];
    if (typeof selectSql !== 'string') return null;
    if (this.boundsSqlByTree.size >= BOUNDS_SQL_TEXTS_MAX) this.boundsSqlByTree.clear();
    this.boundsSqlByTree.set(tree, selectSql);
    return selectSql;
  }

  /** DESCRIBE of a measurement as it is now, with its tags (the union of its files' `arc:tags`). */
  private async describedSql(table: MeasurementRef): Promise<string> {
    const columns = await this.describeView(table);
    const catalogFiles = this.replica.files.files(table.database, table.measurement);
    await this.pins.pin(catalogFiles);
    const files = catalogFiles.map((file) => quoteLiteral(this.store.locationOf(file.key)));
    if (files.length === 0) return describeSql(columns, new Set());
    const tagLists = await this.connection.runAndReadAll(
      `SELECT DISTINCT decode(value) FROM parquet_kv_metadata([${files.join(', ')}]) WHERE decode(key) = ${quoteLiteral(TAGS_METADATA_KEY)}`,
    );
    const tags = new Set<string>();
    for (const [text] of tagLists.getRowsJS()) {
      // decode() gives VARCHAR; anything else is not Arc's metadata.
      if (typeof text !== 'string') continue;
      try {
        const names: unknown = JSON.parse(text);
        if (Array.isArray(names)) for (const name of names) if (typeof name === 'string') tags.add(name);
      } catch {
        // A file without Arc's metadata (or with other metadata) names no tags.
      }
    }
    return describeSql(columns, tags);
  }

  /**
   * The measurement's columns: from the catalog when it knows every file's (files written since
   * the start), else described by DuckDB from the footers once per catalog version and recorded
   * in this thread's catalog, so files added later need no footer read.
   */
  private async viewColumns(table: MeasurementRef): Promise<ColumnSpec[]> {
    const fromCatalog = this.replica.files.columns(table.database, table.measurement);
    if (fromCatalog !== null) return [...fromCatalog];
    const key = `${table.database}\u0000${table.measurement}`;
    const version = this.replica.files.measurementVersion(table.database, table.measurement);
    const known = this.columnsByView.get(key);
    if (known?.version === version) return known.columns;
    await this.syncView(table);
    const columns = await this.describeView(table);
    this.columnsByView.set(key, { version, columns });
    // The files given this list stand in for their own columns, which may be fewer (filesHaveColumns).
    this.filledColumnLists.add(columns);
    this.replica.files.fillColumns(table.database, table.measurement, columns);
    return columns;
  }

  /** Points the measurement's view at its files in the catalog (catalog.ts, MeasurementViews). */
  private async syncView(table: MeasurementRef): Promise<void> {
    const version = this.replica.files.measurementVersion(table.database, table.measurement);
    if (version < 0 || this.catalog.get(table.database)?.has(table.measurement) !== true) return;
    const files = this.replica.files.files(table.database, table.measurement);
    // A query reading the view reads every file of it: made local (object storage) even when the view is current.
    await this.pins.pin(files);
    // The common case, checked before the paths are built (thousands of them).
    if (this.views.isCurrent(table.database, table.measurement, version)) return;
    await this.views.sync(table.database, table.measurement, version, files.map((file) => this.store.locationOf(file.key)));
  }

  /** The view's columns as DuckDB describes them now (every file's schema, unioned by name). */
  private async describeView(table: MeasurementRef): Promise<ColumnSpec[]> {
    const reader = await this.connection.runAndReadAll(`DESCRIBE ${quoteIdentifier(table.database)}.${quoteIdentifier(table.measurement)}`);
    return reader.getRowObjectsJS().map((row) => {
      const { column_name: name, column_type: type } = row;
      assert.ok(typeof name === 'string' && typeof type === 'string', 'DESCRIBE names columns and types as VARCHAR');
      return { name, type };
    });
  }

  /**
   * Materializes the result, then encodes it chunk by chunk, unless the request gave a `limit`:
   * then it streams, so DuckDB stops once the rows are read. Measured in-process (2 threads):
   * a filter over a Parquet file answering 41K rows took 47-54 ms materialized against 112-124 ms
   * streamed (a streaming result hands out 211 part-filled chunks instead of 21 full ones and
   * runs its last pipeline on one thread); 1M generated rows took 366-524 ms against 556-756 ms.
   * (`getChunk(i)` on a materialized result is slow; `fetchChunk()` on it is not.)
   */
  private async encode(source: DuckDBPreparedStatement | AnswerRows, task: QueryTask, startedAtMs: number): Promise<EncodedAnswer> {
    const result = 'fetchChunk' in source ? source : task.materialize ? await source.run() : await source.stream();
    const isCancelled = (): boolean => this.control.isCancelled(task.slot);
    const answer = await encodeAnswer(result, task, startedAtMs, isCancelled);
    if (answer === null) throw cancelledError();
    return answer;
  }

  /**
   * Brings this thread's catalog to the pool's generation (the deltas are already on their way,
   * see CatalogReplica) and the schemas to its databases. Views follow lazily (syncView).
   */
  private async refreshCatalog(): Promise<void> {
    await this.replica.reach(this.control.generation());
    const scan = this.replica.scan();
    if (scan === this.catalog) return;
    const dropped = await this.views.applyScan(scan);
    this.catalog = scan;
    // A dropped schema may be the search path's (or come back later): set it again on the next
    // query. Otherwise it stands: under real-time ingest the catalog changes several times a
    // second, and `SET schema` is a DuckDB statement (~0.3 ms) before each query.
    if (dropped) this.defaultSchema = '';
  }

  /**
   * Points unqualified table names at the default database. `SET schema` is a session setting,
   * so it still works after `lock_configuration`; users cannot send SET themselves (the guard
   * refuses it), so the connection's schema is always the one set here.
   */
  private async useDatabase(database: string): Promise<void> {
    const schema = this.catalog.has(database) ? database : EMPTY_SCHEMA;
    if (schema === this.defaultSchema) return;
    await this.connection.run(`SET schema = ${quoteLiteral(schema)}`);
    this.defaultSchema = schema;
  }

  /**
   * Awaits DuckDB work under the task's cancel poll (asTask): once the task is cancelled, the
   * poll interrupts the connection on every tick while such work is in flight. Repeating matters:
   * an interrupt that lands before DuckDB has begun the statement is reset when the statement begins.
   */
  private async whileWatching<T>(work: Promise<T>): Promise<T> {
    this.watchedCalls++;
    try {
      return await work;
    } finally {
      this.watchedCalls--;
    }
  }
}

/** The measurements whose files the statement needs listed: those it reads, or those SHOW TABLES counts. */
function measurementsOf(plan: StatementPlan, scan: CatalogScan): MeasurementRef[] {
  switch (plan.kind) {
    case 'select':
      return [...plan.reads];
    case 'describe':
      return [plan.table];
    case 'show-tables':
      return plan.databases.flatMap((database) => [...(scan.get(database) ?? [])].map((measurement) => ({ database, measurement })));
    case 'show-databases':
      return [];
  }
}

/** A bound DuckDB evaluated: its value as a TIMESTAMP (null: none), and whether it was a TIMESTAMPTZ. */
interface EvaluatedBound {
  readonly micros: bigint | null;
  readonly zoned: boolean;
  /** The expression is of a type whose value is a whole µs instant (TIMESTAMP, TIMESTAMPTZ, DATE): its TIMESTAMP is the value itself. */
  readonly exact: boolean;
}

/** An opened statement, where only a statement can be (a stream, a step of a two-step query). */
function statementOf(opened: OpenedStatement | OpenedSeries): OpenedStatement {
  assert.ok(opened.kind === 'statement', 'only a query is answered from the series cache');
  return opened;
}

/** A bound expression of type TIMESTAMP WITH TIME ZONE and its value as a TIMESTAMP. */
interface ZonedBound {
  readonly expression: SqlNode;
  readonly micros: bigint;
}

/** Each table's range from its bounds' values (in the order of evaluateBounds); unknown values bound nothing. */
function timeRanges(bounded: readonly BoundedTable[], values: readonly (bigint | null | undefined)[]): TimeRange[] {
  let position = 0;
  const take = (count: number): (bigint | null | undefined)[] => values.slice(position, (position += count));
  const known = (value: bigint | null | undefined): value is bigint => typeof value === 'bigint';
  return bounded.map((table) => {
    const lowers = take(table.lower.length).filter(known);
    // `time < x`: the last instant in range is x - 1 µs (so `< 04:00:00` leaves hour 04 out).
    const uppers = take(table.upper.length)
      .map((value, index) => (known(value) && table.upperExclusive[index] === true ? value - 1n : value))
      .filter(known);
    return {
      lower: lowers.length === 0 ? null : lowers.reduce((left, right) => (right > left ? right : left)),
      upper: uppers.length === 0 ? null : uppers.reduce((left, right) => (right < left ? right : left)),
    };
  });
}

/** A time bound in µs as the catalog compares it (doubles: exact to the µs until year 2255, bounds beyond only widen). */
function micros(value: bigint | null): number | null {
  return value === null ? null : Number(value);
}

/** A relation standing in for a table name: it keeps the name as its alias unless the SQL gave one. */
function namedRelation(relation: string, table: { readonly hasAlias: boolean; readonly tableName: string }): string {
  return table.hasAlias ? relation : `${relation} AS ${quoteIdentifier(table.tableName)}`;
}

function encodeAnswer(result: AnswerRows, task: QueryTask, startedAtMs: number, isCancelled: () => boolean): Promise<EncodedAnswer | null> {
  switch (task.format) {
    case 'json':
      return encodeJsonAnswer(result, startedAtMs, task.rowLimit, isCancelled);
    case 'csv':
      return encodeCsvAnswer(result, task.rowLimit, isCancelled);
    case 'arrow':
      return encodeArrowAnswer(result, task.rowLimit, isCancelled);
    case 'msgpack':
      return encodeMsgpackAnswer(result, startedAtMs, task.rowLimit, isCancelled);
  }
}
