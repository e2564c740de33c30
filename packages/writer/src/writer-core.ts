import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ColumnBatch, SchemaColumn } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { dataFileKey, encodeSchema, hourLastUs, partitionKey, schemaIdOf, schemaKey, type StorageBackend } from '@arc/storage';
import { isFlushDueByAge, isFlushDueBySize, nextRetryDelayMs, type FlushPolicy } from './flush-policy.js';
import { MeasurementBuffer, schemaOfBatches } from './measurement-buffer.js';
import type { MeasurementCensus } from './measurement-census.js';
import { hoursOf, parquetColumnsOf, type ParquetEncoder } from './parquet-encoder.js';
import { PREPARED_SETTLE_WAIT_MS_MAX, PUBLISH_CONCURRENCY_MAX, PUBLISHES_IN_FLIGHT_MAX } from './limits.js';
import { isStorageFull, storageFullError } from './storage-full.js';
import type { FlushJournal, FlushRecord } from '@arc/wal';
import type { BufferedColumn, DecoderToWriter, FlushedFile, LastCacheRequest, WalPosition, WriterStats, WriterVerdict } from './writer-messages.js';
import { LastValueCaches } from './last-value-cache.js';
import type { LastValueTable } from '@arc/columnar';
import { WriterErrorCode } from './error-codes.js';

export interface WriterCoreOptions {
  readonly writerIndex: number;
  readonly policy: FlushPolicy;
  /** Bytes of batches this writer may hold (buffered + prepared + flushing); above -> 503. */
  readonly bytesBufferedMax: number;
  readonly storage: StorageBackend;
  readonly encoder: ParquetEncoder;
  readonly onFlushed: (database: string, measurement: string, files: readonly FlushedFile[]) => void;
  /**
   * A buffer's schema grew (a new measurement, a new column): queries can then answer a measurement
   * that has rows but no file yet with the right columns and no rows.
   */
  readonly onSchema?: (database: string, measurement: string, schema: readonly SchemaColumn[]) => void;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
  readonly nowMs: () => number;
  /** With the WAL on: where each flush's WAL coverage is committed. */
  readonly journal?: FlushJournal;
  /** With the WAL on: a flush made (stream, database, measurement) durable up to seqMax. */
  readonly onWalCovered?: (stream: number, database: string, measurement: string, seqMax: number) => void;
  /** A flush's files are published, `seconds` after it began (metrics: the writer's telemetry block). */
  readonly onFlushTimed?: (seconds: number, files: readonly FlushedFile[]) => void;
  /**
   * A flush's batches are published and nothing here reads them again: their buffers may be
   * transferred away (the worker gives them back to the decoders that packed them).
   */
  readonly onBatchesPublished?: (batches: readonly ColumnBatch[]) => void;
  /** Counts measurements per database across writers; absent: no bound. */
  readonly census?: MeasurementCensus;
  /** ingest.max_measurements_per_database (with `census`). */
  readonly measurementsPerDatabaseMax?: number;
}

/** Measurements a request added to the census, per database (taken back if it is aborted). */
type CensusAdditions = ReadonlyMap<string, readonly string[]>;

interface StagedFile {
  readonly staging: string;
  readonly key: string;
  readonly rowCount: number;
  readonly byteCount: number;
  readonly columns: readonly BufferedColumn[];
}

/**
 * Bounds of the rows' time in each hour the batches touch, from each batch's own bounds clamped
 * to the hour: exact when no batch spans two hours (the usual case), else a bound that still
 * lies within the hour (what the storage catalog prunes by).
 */
function timeBoundsByHour(batches: readonly ColumnBatch[]): Map<number, [number, number]> {
  const bounds = new Map<number, [number, number]>();
  for (const batch of batches) {
    if (batch.rowCount === 0) continue;
    for (const hourUs of hoursOf([batch])) {
      const low = Math.max(batch.timeMinUs, hourUs);
      const high = Math.min(batch.timeMaxUs, hourLastUs(hourUs));
      const known = bounds.get(hourUs);
      bounds.set(hourUs, known === undefined ? [low, high] : [Math.min(known[0], low), Math.max(known[1], high)]);
    }
  }
  return bounds;
}

interface PreparedTxn {
  readonly buffers: MeasurementBuffer[];
  readonly byteCount: number;
  readonly additions: CensusAdditions;
}

function sameSchema(left: readonly SchemaColumn[], right: readonly SchemaColumn[] | null): boolean {
  if (right?.length !== left.length) return false;
  for (const [index, column] of left.entries()) {
    const other = right[index];
    assert.ok(other !== undefined, 'as many columns on the right as on the left');
    if (column.name !== other.name || column.type !== other.type) return false;
  }
  return true;
}

/**
 * InfluxDB words its series bound the same way (`max-series-per-database limit exceeded`). A writer
 * sees only its share of a request, so the count may include measurements other writers are
 * adding for the same request (or others in flight); the message says so rather than guess.
 */
function tooManyMeasurements(database: string, count: number | null, countMax: number): ArcError {
  const state = count === null ? 'the server tracks too many databases to count another one' : `it has ${count} (counting writes in progress)`;
  return new ArcError(
    ErrorKind.badRequest,
    WriterErrorCode.tooManyMeasurementsInDatabase,
    `max-measurements-per-database limit exceeded: this request's new measurements would take database '${database}' past ${countMax} ` +
      `(ingest.max_measurements_per_database); ${state}; nothing was written`,
    { database, measurements_max: countMax, ...(count === null ? {} : { measurements: count }) },
  );
}

/** A write meeting a delete of its database or measurement in progress (docs/architecture.md). */
function beingDeleted(database: string, measurement: string, whole: boolean): ArcError {
  const what = whole ? `database '${database}'` : `measurement '${measurement}' of database '${database}'`;
  return new ArcError(ErrorKind.conflict, WriterErrorCode.beingDeleted, `${what} is being deleted; nothing of this request was written: retry once the delete has finished`, {
    database,
    ...(whole ? {} : { measurement }),
  });
}

function buffersFull(bytesBuffered: number): ArcError {
  return new ArcError(ErrorKind.unavailable, WriterErrorCode.buffersFull, `Write buffers are full (${bytesBuffered} bytes waiting for flush); retry later`);
}

/**
 * What a write gets while this writer's flushes fail for lack of disk space. The rows could not
 * land either, and buffering them would only fill memory, so they are refused at once. The text
 * names no path or measurement: the failing flush may belong to another database.
 */
function storageFullRefusal(): ArcError {
  return new ArcError(
    ErrorKind.unavailable,
    WriterErrorCode.storageFull,
    'The data disk is full: flushes to Parquet fail for lack of space, so writes are refused until one succeeds again; retry later',
  );
}

/** What a flush request answers when a flush it waited for failed (`last`: the latest failure). */
function flushFailedAnswer(last: ArcError | null): ArcError {
  const code = last?.code === WriterErrorCode.storageFull ? WriterErrorCode.storageFull : WriterErrorCode.flushFailed;
  return new ArcError(ErrorKind.unavailable, code, `Flush failed, rows stay buffered and are retried: ${last?.message ?? 'unknown error'}`);
}

/** A failed flush step as an ArcError; a full disk becomes ARC_STORAGE_FULL (storage-full.ts). */
function flushErrorOf(error: unknown): ArcError {
  if (error instanceof ArcError) return error;
  if (isStorageFull(error)) return storageFullError('a flush', error);
  return new ArcError(ErrorKind.internal, WriterErrorCode.flushFailed, String(error));
}

/**
 * Everything a writer thread does, without the thread: accepts batches (checking schema and
 * memory), keeps them per (database, measurement), and flushes them to Parquet one buffer at a
 * time through its DuckDB encoder. The worker entry only wires ports to it; tests drive it
 * directly.
 *
 * Invariants: a batch is either buffered, being flushed, or published, never dropped; a failed
 * flush puts its batches back and retries; memory held never exceeds `bytesBufferedMax` plus one
 * request; while flushes fail for lack of disk space (until one succeeds) every new request is
 * refused with ARC_STORAGE_FULL.
 */
export class WriterCore {
  private readonly options: WriterCoreOptions;
  private readonly buffers = new Map<string, MeasurementBuffer>();
  private readonly preparedTxns = new Map<string, PreparedTxn>();
  /** flushAll calls waiting for the transactions prepared when they began. */
  private readonly settleWaiters = new Set<{ waiting: Set<string>; done: () => void }>();
  private readonly flushQueue: MeasurementBuffer[] = [];
  /** The flush being encoded and committed (one at a time per writer). */
  private flushing: Promise<void> | null = null;
  /** The buffer whose flush `flushing` is (a delete waits for it to end before dropping rows). */
  private flushingBuffer: MeasurementBuffer | null = null;
  /**
   * Committed flushes whose files are being published (uploaded, on an object store), with their
   * buffer: the next flush is encoded meanwhile, up to PUBLISHES_IN_FLIGHT_MAX of them; each
   * one's bookkeeping (rows released, files announced, WAL entries covered) runs in flush order.
   */
  private readonly publishing = new Map<Promise<void>, MeasurementBuffer>();
  /** Journal records of committed flushes still publishing (a journal compaction keeps them). */
  private readonly unpublishedRecords = new Set<FlushRecord>();
  /** The bookkeeping of the last committed flush: the next one's runs after it. */
  private publishTail: Promise<void> = Promise.resolve();
  /** A wake-up of pumpFlushes is waiting for a publish to end (at PUBLISHES_IN_FLIGHT_MAX). */
  private pumpWaiting = false;
  /** Deletes in progress: whole databases, and "database/measurement" keys. */
  private readonly deletingDatabases = new Set<string>();
  private readonly deletingMeasurements = new Set<string>();
  private bytesBuffered = 0;
  private fileSequence = 0;
  /** Keys of the schema objects this writer stored (or found stored). */
  private readonly schemaObjectsStored = new Set<string>();
  private retryDelayMs = 0;
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private lastFlushError: ArcError | null = null;
  /** The last flush failed for lack of disk space (set by it, cleared by the next success). */
  private storageFull = false;
  /** After stop(): nothing new is flushed (the thread is closing its encoder). */
  private stopped = false;
  private counters = { flushes: 0, flushFailures: 0, rowsFlushed: 0, filesWritten: 0 };
  /** Database -> measurements of this writer's share that the census counts (or found on disk). */
  private readonly counted = new Map<string, Set<string>>();
  private censusEpoch = 0;
  /** Last-value caches of the measurements this writer owns: fed by every accepted batch. */
  private readonly lastValues = new LastValueCaches();

  constructor(options: WriterCoreOptions) {
    this.options = options;
  }

  get policy(): FlushPolicy {
    return this.options.policy;
  }

  handle(decoderIndex: number, message: DecoderToWriter): WriterVerdict | null {
    switch (message.kind) {
      case 'append': {
        const refusal = this.accept(message.batches, null, message.replayed === true, message.wal ?? null);
        if (refusal !== null && message.wal !== undefined && message.replayed !== true) this.coverRefusedEntry(message.batches, message.wal);
        return this.verdict(message.txnId, refusal);
      }
      case 'prepare':
        return this.verdict(message.txnId, this.accept(message.batches, `${decoderIndex}:${message.txnId}`, message.replayed === true));
      case 'commit':
        this.finishPrepared(`${decoderIndex}:${message.txnId}`, true, message.wal ?? null);
        return null;
      case 'abort':
        this.finishPrepared(`${decoderIndex}:${message.txnId}`, false, null);
        return null;
    }
  }

  /** A request about last-value caches (writer-messages.ts LastCacheRequest); reads answer tables. */
  lastCache(request: LastCacheRequest): LastValueTable[] {
    const nowMs = this.options.nowMs();
    switch (request.op) {
      case 'define': {
        const { database, measurement } = request.definition;
        this.lastValues.define(request.definition, this.buffers.get(`${database}/${measurement}`)?.batchesHeld() ?? [], nowMs);
        return [];
      }
      case 'drop':
        this.lastValues.drop(request.database, request.measurement, request.name);
        return [];
      case 'seed':
        this.lastValues.seed(request.table, nowMs);
        return [];
      case 'read':
        return this.lastValues.tables(request.database, request.measurement, request.names, nowMs);
    }
  }

  /** Flushes buffers that are due by age (called on a timer). */
  tick(): void {
    const nowMs = this.options.nowMs();
    for (const buffer of this.buffers.values()) {
      if (isFlushDueByAge(this.options.policy, buffer.oldestAtMs, nowMs)) this.enqueueFlush(buffer);
    }
  }

  /**
   * Flushes every buffered row; resolves with the error if a flush failed meanwhile. Requests
   * this writer prepared are waited for first: a decoder answers 204 right after posting their
   * commits, and this flush request travels on another port, so it can overtake a commit whose
   * rows the client was already told are written.
   */
  async flushAll(): Promise<ArcError | null> {
    await this.settlePrepared();
    const failuresBefore = this.counters.flushFailures;
    for (const buffer of this.buffers.values()) this.enqueueFlush(buffer);
    await this.flushesEnded();
    return this.counters.flushFailures > failuresBefore ? flushFailedAnswer(this.lastFlushError) : null;
  }

  /**
   * flushAll for one (database, measurement): resolves once every row of it acknowledged before
   * the call is in a published file and, with the WAL on, in the flush journal (a delete needs no
   * more, and other measurements stay buffered). Flushes of other buffers queued ahead of it are
   * waited for, not added.
   */
  async flushMeasurement(database: string, measurement: string): Promise<ArcError | null> {
    await this.settlePrepared();
    const buffer = this.buffers.get(`${database}/${measurement}`);
    if (buffer === undefined) return null;
    const failuresBefore = buffer.flushFailures;
    this.enqueueFlush(buffer);
    await this.flushesOfEnded((candidate) => candidate === buffer, true);
    return buffer.flushFailures > failuresBefore ? flushFailedAnswer(buffer.lastFlushError) : null;
  }

  /**
   * Stops flushing before the thread closes its encoder: no retry or new flush starts after this,
   * and it resolves once the flush under way has ended. Rows still buffered stay counted in
   * `stats().rowsBuffered` (what a shutdown reports as not written).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    for (const buffer of this.flushQueue.splice(0)) buffer.flushQueued = false;
    // A flush that throws has already been reported by its own rejection; here it only has to end.
    await this.flushesEnded().catch(() => undefined);
  }

  /**
   * Resolves once no flush of a buffer that `matches` is being encoded or published, nor (with
   * `queued`) waiting in the flush queue. A failed flush ends too (its retry is a later flush).
   */
  private async flushesOfEnded(matches: (buffer: MeasurementBuffer) => boolean, queued: boolean): Promise<void> {
    for (;;) {
      // A queued flush starts only after the one being encoded, or (at PUBLISHES_IN_FLIGHT_MAX)
      // after some publish: until it has started, any of them may be what it waits for.
      const waitingInQueue = queued && this.flushQueue.some(matches);
      if (this.flushing !== null && (waitingInQueue || (this.flushingBuffer !== null && matches(this.flushingBuffer)))) {
        await this.flushing.catch(() => undefined);
        continue;
      }
      const publishes = [...this.publishing].filter(([, buffer]) => waitingInQueue || matches(buffer)).map(([publish]) => publish.catch(() => undefined));
      if (publishes.length === 0) return;
      await Promise.race(publishes);
    }
  }

  /** Resolves once no flush is being encoded or published (and none was queued meanwhile). */
  private async flushesEnded(): Promise<void> {
    for (;;) {
      if (this.flushing !== null) await this.flushing;
      else if (this.publishing.size > 0) await Promise.all(this.publishing.keys());
      else return;
    }
  }

  stats(): WriterStats {
    let rowsBuffered = 0;
    for (const buffer of this.buffers.values()) rowsBuffered += buffer.rowCount;
    return { rowsBuffered, bytesBuffered: this.bytesBuffered, buffers: this.buffers.size, ...this.counters };
  }

  private verdict(txnId: number, error: ArcError | null): WriterVerdict {
    return { kind: 'verdict', txnId, error: error === null ? null : error.toShape() };
  }

  /**
   * Checks every batch of a request, then buffers all of them (or prepares them) or none.
   * `replayed`: rows of the WAL, acknowledged before, never refused by the measurement bound.
   * `wal`: an appended request's durable WAL entry (its rows then count for the flush journal).
   */
  private accept(batches: readonly ColumnBatch[], preparedKey: string | null, replayed: boolean, wal: WalPosition | null = null): ArcError | null {
    if (this.storageFull) return storageFullRefusal();
    const deleted = this.refusedByDelete(batches);
    if (deleted !== null) return deleted;
    let byteCount = 0;
    for (const batch of batches) byteCount += batch.buffer.byteLength;
    if (this.bytesBuffered + byteCount > this.options.bytesBufferedMax) {
      for (const buffer of this.buffers.values()) this.enqueueFlush(buffer);
      return buffersFull(this.bytesBuffered);
    }
    // Before any buffer is made: requests refused for their new measurements leave nothing behind.
    const additions = this.addToCensus(batches, replayed);
    if (additions instanceof ArcError) return additions;
    const schemas: SchemaColumn[][] = [];
    const targets: MeasurementBuffer[] = [];
    for (const batch of batches) {
      const buffer = this.bufferFor(batch.database, batch.measurement);
      const schema = buffer.check(batch);
      if (schema instanceof ArcError) {
        this.removeFromCensus(additions);
        return schema;
      }
      schemas.push(schema);
      targets.push(buffer);
    }
    const nowMs = this.options.nowMs();
    this.bytesBuffered += byteCount;
    batches.forEach((batch, index) => {
      const buffer = targets[index];
      const schema = schemas[index];
      assert.ok(buffer !== undefined && schema !== undefined);
      if (preparedKey === null) {
        buffer.add(batch, schema, nowMs, wal);
        this.lastValues.observe(batch, nowMs);
        this.reportSchema(buffer);
        if (isFlushDueBySize(this.options.policy, buffer.rowCount, buffer.byteCount)) this.enqueueFlush(buffer);
      } else {
        buffer.schema = schema;
        buffer.prepared.set(preparedKey, batch);
      }
    });
    if (preparedKey !== null) this.preparedTxns.set(preparedKey, { buffers: targets, byteCount, additions });
    return null;
  }

  /**
   * Counts the request's measurements that are new to their database (neither counted by this
   * writer nor on disk) into the census, all or none, and claims their names in the store
   * (refused when equal to an existing name but for case). Costs a set lookup per batch; a
   * measurement seen for the first time also costs one stat of its directory, a new one two
   * directory listings.
   */
  private addToCensus(batches: readonly ColumnBatch[], replayed: boolean): CensusAdditions | ArcError {
    const census = this.options.census;
    if (census === undefined) return new Map();
    if (census.epoch() !== this.censusEpoch) {
      this.censusEpoch = census.epoch();
      this.counted.clear();
    }
    const fresh = new Map<string, Set<string>>();
    for (const { database, measurement } of batches) {
      let counted = this.counted.get(database);
      if (counted === undefined) this.counted.set(database, (counted = new Set()));
      if (counted.has(measurement)) continue;
      if (census.isOnDisk(database, measurement)) {
        counted.add(measurement);
        continue;
      }
      let added = fresh.get(database);
      if (added === undefined) fresh.set(database, (added = new Set()));
      added.add(measurement);
    }
    const countMax = this.options.measurementsPerDatabaseMax ?? Number.MAX_SAFE_INTEGER;
    const reserved = new Map<string, readonly string[]>();
    for (const [database, measurements] of fresh) {
      const verdict = census.reserve(database, measurements.size, countMax, replayed);
      if (!verdict.ok) {
        this.removeFromCensus(reserved);
        return tooManyMeasurements(database, verdict.count, countMax);
      }
      reserved.set(database, [...measurements]);
      // Names equal to existing ones but for case are refused (storage's rule); acknowledged rows
      // replayed from the WAL are taken whatever their names.
      const conflict = replayed ? null : census.claim(database, [...measurements]);
      if (conflict !== null) {
        // This database's names were not claimed: only its count is taken back.
        census.release(database, measurements.size);
        reserved.delete(database);
        this.removeFromCensus(reserved);
        return conflict;
      }
      for (const measurement of measurements) this.counted.get(database)?.add(measurement);
    }
    return reserved;
  }

  /** An aborted request's new measurements are not the database's after all. */
  private removeFromCensus(additions: CensusAdditions): void {
    for (const [database, measurements] of additions) {
      this.options.census?.release(database, measurements.length);
      this.options.census?.unclaim(database, measurements);
      for (const measurement of measurements) this.counted.get(database)?.delete(measurement);
    }
  }

  /** Resolves once every transaction prepared now is committed or aborted (or after a bound). */
  private settlePrepared(): Promise<void> {
    if (this.preparedTxns.size === 0) return Promise.resolve();
    const waiting = new Set(this.preparedTxns.keys());
    return new Promise<void>((resolve) => {
      const waiter = { waiting, done: (): void => undefined };
      const timer = setTimeout(() => waiter.done(), PREPARED_SETTLE_WAIT_MS_MAX);
      waiter.done = (): void => {
        clearTimeout(timer);
        this.settleWaiters.delete(waiter);
        resolve();
      };
      this.settleWaiters.add(waiter);
    });
  }

  private finishPrepared(key: string, commit: boolean, wal: WalPosition | null): void {
    const txn = this.preparedTxns.get(key);
    if (txn === undefined) return; // the prepare was refused: nothing was held
    this.preparedTxns.delete(key);
    for (const waiter of [...this.settleWaiters]) {
      waiter.waiting.delete(key);
      if (waiter.waiting.size === 0) waiter.done();
    }
    const nowMs = this.options.nowMs();
    for (const buffer of txn.buffers) {
      const batch = buffer.prepared.get(key);
      assert.ok(batch !== undefined, 'prepared batch is held until commit or abort');
      buffer.prepared.delete(key);
      if (commit) {
        buffer.add(batch, buffer.schema, nowMs, wal);
        this.lastValues.observe(batch, nowMs);
        this.reportSchema(buffer);
        if (isFlushDueBySize(this.options.policy, buffer.rowCount, buffer.byteCount)) this.enqueueFlush(buffer);
      } else {
        buffer.recomputeSchema();
      }
    }
    if (!commit) {
      this.bytesBuffered -= txn.byteCount;
      this.removeFromCensus(txn.additions);
    }
  }

  /**
   * A logged request this writer refused (its decoder cancels it in the WAL) holds nothing of its
   * measurements, yet its seq would keep their WAL segment (and the oldest-unflushed age) waiting
   * for a flush that may never come. Every earlier entry of the stream for such a measurement is
   * in its buffer or in Parquet (the decoder posts in seq order), so: with rows buffered, the next
   * flush covers this seq too; with nothing buffered, held or flushing, it is covered now.
   */
  private coverRefusedEntry(batches: readonly ColumnBatch[], wal: WalPosition): void {
    for (const { database, measurement } of batches) {
      const buffer = this.buffers.get(`${database}/${measurement}`);
      const idle = buffer === undefined || (buffer.rowCount === 0 && buffer.prepared.size === 0 && this.flushingBuffer !== buffer);
      if (idle) this.options.onWalCovered?.(wal.stream, database, measurement, wal.seq);
      else buffer.noteWalSeq(wal.stream, wal.seq);
    }
  }

  /** Two set lookups per batch, only while a delete runs. */
  private refusedByDelete(batches: readonly ColumnBatch[]): ArcError | null {
    if (this.deletingDatabases.size === 0 && this.deletingMeasurements.size === 0) return null;
    for (const { database, measurement } of batches) {
      if (this.deletingDatabases.has(database)) return beingDeleted(database, measurement, true);
      if (this.deletingMeasurements.has(`${database}/${measurement}`)) return beingDeleted(database, measurement, false);
    }
    return null;
  }

  /**
   * Starts a delete of a database (`measurement` null) or of one measurement: batches for it are
   * refused from now on; once the requests prepared before have settled and a flush of it under
   * way has ended, its buffered rows are dropped, so nothing of it is flushed after the files go.
   * Resolves with an error when the rows could not be dropped safely (the delete must not go on).
   */
  async beginDelete(database: string, measurement: string | null): Promise<ArcError | null> {
    if (measurement === null) this.deletingDatabases.add(database);
    else this.deletingMeasurements.add(`${database}/${measurement}`);
    await this.settlePrepared();
    await this.flushesOfEnded((buffer) => this.isDeleted(buffer, database, measurement), false);
    const refusal = this.dropBuffers(database, measurement);
    if (refusal === null) this.lastValues.clear(database, measurement);
    return refusal;
  }

  /** The delete is over (done or failed): writes for the name are accepted again. */
  endDelete(database: string, measurement: string | null): void {
    if (measurement === null) this.deletingDatabases.delete(database);
    else this.deletingMeasurements.delete(`${database}/${measurement}`);
    // The name's schema objects went with its files: the next flush of it stores its own again.
    const prefix = measurement === null ? `${database}/` : `${database}/${measurement}/`;
    for (const key of this.schemaObjectsStored) if (key.startsWith(prefix)) this.schemaObjectsStored.delete(key);
  }

  private isDeleted(buffer: MeasurementBuffer, database: string, measurement: string | null): boolean {
    return buffer.database === database && (measurement === null || buffer.measurement === measurement);
  }

  /**
   * Drops the buffered rows of the deleted name. With the WAL on, their entries are recorded as
   * covered in the flush journal first (as a flush without files would), so a restart does not
   * replay rows from before the delete into the deleted name.
   */
  private dropBuffers(database: string, measurement: string | null): ArcError | null {
    for (const [key, buffer] of this.buffers) {
      if (!this.isDeleted(buffer, database, measurement)) continue;
      if (buffer.prepared.size > 0) {
        return new ArcError(ErrorKind.unavailable, WriterErrorCode.deleteBusy, `Writes to '${key}' prepared before the delete are still undecided; nothing was deleted: retry the delete`);
      }
      const { batches, walSeqMax } = buffer.take();
      try {
        if (walSeqMax.size > 0) this.options.journal?.recordSync({ database: buffer.database, measurement: buffer.measurement, covers: [...walSeqMax], files: [] });
      } catch (error) {
        buffer.restore(batches, walSeqMax, this.options.nowMs());
        return flushErrorOf(error);
      }
      for (const batch of batches) this.bytesBuffered -= batch.buffer.byteLength;
      const queued = this.flushQueue.indexOf(buffer);
      if (queued >= 0) this.flushQueue.splice(queued, 1);
      buffer.flushQueued = false;
      this.buffers.delete(key);
      for (const [stream, seqMax] of walSeqMax) this.options.onWalCovered?.(stream, buffer.database, buffer.measurement, seqMax);
    }
    return null;
  }

  /** Tells onSchema about a buffer's schema once per change (a few name compares per request). */
  private reportSchema(buffer: MeasurementBuffer): void {
    if (this.options.onSchema === undefined || sameSchema(buffer.schema, buffer.reportedSchema)) return;
    buffer.reportedSchema = buffer.schema;
    this.options.onSchema(buffer.database, buffer.measurement, buffer.schema);
  }

  private bufferFor(database: string, measurement: string): MeasurementBuffer {
    const key = `${database}/${measurement}`;
    let buffer = this.buffers.get(key);
    if (buffer === undefined) {
      buffer = new MeasurementBuffer(database, measurement);
      this.buffers.set(key, buffer);
    }
    return buffer;
  }

  private enqueueFlush(buffer: MeasurementBuffer): void {
    if (this.stopped || buffer.flushQueued || buffer.rowCount === 0) return;
    buffer.flushQueued = true;
    this.flushQueue.push(buffer);
    this.pumpFlushes();
  }

  private pumpFlushes(): void {
    if (this.flushing !== null) return;
    if (this.publishing.size >= PUBLISHES_IN_FLIGHT_MAX) {
      // Woken when a publish ends: memory stays bounded by bytesBufferedMax meanwhile.
      if (this.pumpWaiting) return;
      this.pumpWaiting = true;
      void Promise.race(this.publishing.keys()).then(() => {
        this.pumpWaiting = false;
        this.pumpFlushes();
      });
      return;
    }
    const next = this.flushQueue.shift();
    if (next === undefined) return;
    this.flushingBuffer = next;
    this.flushing = this.flushBuffer(next).finally(() => {
      this.flushing = null;
      this.flushingBuffer = null;
      this.pumpFlushes();
    });
  }

  private async flushBuffer(buffer: MeasurementBuffer): Promise<void> {
    buffer.flushQueued = false;
    const { batches, walSeqMax } = buffer.take();
    if (batches.length === 0) return;
    const startedMs = this.options.nowMs();
    let byteCount = 0;
    for (const batch of batches) byteCount += batch.buffer.byteLength;
    let staged: StagedFile[];
    let record: FlushRecord | null;
    try {
      staged = await this.stageFiles(buffer.database, buffer.measurement, batches);
      record = await this.commitFlush(buffer, staged, walSeqMax);
    } catch (error) {
      buffer.restore(batches, walSeqMax, this.options.nowMs());
      this.flushFailed(buffer, flushErrorOf(error));
      return;
    }
    // Committed: its files are published while the next flush is encoded (an upload to an object
    // store is a round trip during which this thread would otherwise encode nothing); what follows
    // a publish runs in flush order, as when flushes ran one after the other.
    if (record !== null) this.unpublishedRecords.add(record);
    const uploads = this.publishAll(staged);
    const previous = this.publishTail;
    const publish = (async () => {
      const files = await uploads;
      // An earlier flush's failure is its own (flushAll sees it through that flush's promise).
      await previous.catch(() => undefined);
      if (record !== null) this.unpublishedRecords.delete(record);
      this.finishFlush(buffer, batches, walSeqMax, byteCount, files);
      this.options.onFlushTimed?.((this.options.nowMs() - startedMs) / 1000, files);
      this.options.onBatchesPublished?.(batches);
    })();
    this.publishTail = publish;
    this.publishing.set(publish, buffer);
    publish.then(
      () => this.publishing.delete(publish),
      () => this.publishing.delete(publish),
    );
  }

  /** A flush's files are published: its rows leave the buffers and every follower is told. */
  private finishFlush(buffer: MeasurementBuffer, batches: readonly ColumnBatch[], walSeqMax: ReadonlyMap<number, number>, byteCount: number, files: readonly FlushedFile[]): void {
    this.options.journal?.compactIfDue([...this.unpublishedRecords.values()]);
    buffer.published(batches);
    this.bytesBuffered -= byteCount;
    this.counters.flushes++;
    this.counters.filesWritten += files.length;
    for (const file of files) this.counters.rowsFlushed += file.rowCount;
    this.retryDelayMs = 0;
    if (this.storageFull) this.options.log('info', 'a flush succeeded again: writes are accepted again');
    this.storageFull = false;
    this.options.onFlushed(buffer.database, buffer.measurement, files);
    for (const [stream, seqMax] of walSeqMax) this.options.onWalCovered?.(stream, buffer.database, buffer.measurement, seqMax);
  }

  /** Keeps the rows (restored by the caller), notes a full disk, and schedules the retry. */
  private flushFailed(buffer: MeasurementBuffer, error: ArcError): void {
    this.counters.flushFailures++;
    this.lastFlushError = error;
    buffer.flushFailures++;
    buffer.lastFlushError = error;
    // Only a success clears it: another kind of failure says nothing about the free space.
    if (error.code === WriterErrorCode.storageFull && !this.storageFull) {
      this.storageFull = true;
      this.options.log('warn', `the data disk is full: new writes are refused with ${WriterErrorCode.storageFull} until a flush succeeds`);
    }
    this.retryDelayMs = nextRetryDelayMs(this.retryDelayMs);
    this.options.log('error', `flush of ${buffer.database}.${buffer.measurement} failed (retry in ${this.retryDelayMs} ms): ${error.message}`);
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.enqueueFlush(buffer);
    }, this.retryDelayMs);
    timer.unref();
    this.retryTimers.add(timer);
  }

  /**
   * Encodes one Parquet file per hour into staging paths (fsynced). Encoding is all-or-nothing:
   * the encoder removes partial output.
   */
  private async stageFiles(database: string, measurement: string, batches: readonly ColumnBatch[]): Promise<StagedFile[]> {
    const storage = this.options.storage;
    const stagingByHour = new Map<number, string>();
    for (const hourUs of hoursOf(batches)) stagingByHour.set(hourUs, await storage.stagingPathIn(partitionKey(database, measurement, hourUs)));
    const schema = schemaOfBatches(batches);
    const encoded = await this.options.encoder.encode(batches, schema, (hourStartUs) => {
      const staging = stagingByHour.get(hourStartUs);
      assert.ok(staging !== undefined, 'a staging path for every hour');
      return staging;
    });
    const columns = parquetColumnsOf(schema);
    const schemaId = schemaIdOf(columns);
    await this.storeSchemaObject(database, measurement, schemaId, columns);
    const writtenAtMs = Date.now();
    const bounds = timeBoundsByHour(batches);
    return encoded.map((file) => {
      const [minTimeUs, maxTimeUs] = bounds.get(file.hourStartUs) ?? [];
      assert.ok(minTimeUs !== undefined && maxTimeUs !== undefined, 'encoded hours are the hours asked for');
      const key = dataFileKey({ database, measurement, hourUs: file.hourStartUs, nodeId: storage.nodeId, unique: this.uniqueSuffix(), rows: file.rowCount, bytes: file.byteCount, minTimeUs, maxTimeUs, writtenAtMs, schemaId });
      return { staging: file.path, key, rowCount: file.rowCount, byteCount: file.byteCount, columns };
    });
  }

  /**
   * Stores the column set a file's name refers to, before the file is published (so a listing
   * that finds the file finds its columns: storage's schema objects). Once per writer and schema.
   */
  private async storeSchemaObject(database: string, measurement: string, schemaId: string, columns: readonly BufferedColumn[]): Promise<void> {
    const key = schemaKey(database, measurement, schemaId);
    if (this.schemaObjectsStored.has(key)) return;
    await this.options.storage.put(key, encodeSchema(columns));
    this.schemaObjectsStored.add(key);
  }

  /**
   * With the WAL on, the journal record naming the staged files and the WAL entries they hold is
   * the commit point: once synced, recovery renames the files even if this thread dies now. If
   * the record cannot be written, the staged files go and the rows stay buffered.
   */
  private async commitFlush(buffer: MeasurementBuffer, staged: readonly StagedFile[], walSeqMax: ReadonlyMap<number, number>): Promise<FlushRecord | null> {
    const journal = this.options.journal;
    if (journal === undefined || walSeqMax.size === 0) return null;
    const record: FlushRecord = { database: buffer.database, measurement: buffer.measurement, covers: [...walSeqMax], files: staged.map(({ staging, key }) => ({ staging, key })) };
    try {
      journal.recordSync(record);
      return record;
    } catch (error) {
      await Promise.all(staged.map((file) => this.options.storage.discard(file.staging)));
      if (isStorageFull(error)) throw storageFullError('writing the flush journal', error);
      throw new ArcError(ErrorKind.unavailable, WriterErrorCode.flushFailed, `flush journal write failed: ${(error as Error).message}`);
    }
  }

  /**
   * Renames every staged file into place. The flush is committed (staged files are durable, and
   * with the WAL on the journal names them), so a failed rename is retried, never undone.
   */
  private async publishAll(staged: readonly StagedFile[]): Promise<FlushedFile[]> {
    // The files of one flush (one per hour it spans) go several at a time: on an object store each
    // is an upload; a backfill's flush can span hundreds of hours.
    const files: FlushedFile[] = new Array<FlushedFile>(staged.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      for (let index = next++; index < staged.length; index = next++) files[index] = await this.publishOne(staged[index] as StagedFile);
    };
    await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY_MAX, staged.length) }, lane));
    return files;
  }

  private async publishOne(file: StagedFile): Promise<FlushedFile> {
    let delayMs = 0;
    for (;;) {
      try {
        await this.options.storage.publish(file.staging, file.key);
        return { key: file.key, rowCount: file.rowCount, byteCount: file.byteCount, columns: file.columns };
      } catch (error) {
        delayMs = nextRetryDelayMs(delayMs);
        this.options.log('error', `publishing ${file.key} failed (retry in ${delayMs} ms): ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private uniqueSuffix(): string {
    this.fileSequence++;
    return `w${this.options.writerIndex}-${this.fileSequence.toString(36).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
  }
}
