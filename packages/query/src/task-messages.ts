import type { CatalogSnapshot } from '@arc/storage';
import type { LastValueTable } from '@arc/columnar';
import type { MessagePort } from 'node:worker_threads';
import type { ArcErrorShape } from '@arc/errors';
import type { AnswerFormat, StreamFormat } from './answer-format.js';
import type { AnswerCompression } from './answer-compression.js';
import type { MeasurementRef } from './query-plan.js';
import type { ColumnSpec } from './time-pruning.js';

/** What a worker needs to open its DuckDB instance; sent once as piscina's `workerData`. */
export interface WorkerConfig {
  readonly dataRoot: string;
  readonly duckdbThreads: number;
  readonly memoryLimit: string;
  readonly tempDirectory: string;
  /** The ControlBlock's buffer (catalog generation, task slots). */
  readonly control: SharedArrayBuffer;
  /** The BroadcastChannel the pool sends catalog deltas on (catalog.ts, CatalogMessage). */
  readonly catalogChannel: string;
  /** The catalog when the pool started, if it was loaded then; else the thread asks for it. */
  readonly catalogSnapshot: CatalogSnapshot | null;
  /** The query threads' telemetry buffer (QUERY_TELEMETRY); each thread claims a block. */
  readonly telemetry: SharedArrayBuffer;
  /** Milliseconds between two reads of the thread's DuckDB memory. */
  readonly memorySampleMs: number;
  /** Bytes of decoded files the thread keeps for series windows (series-cache.ts); 0: off. */
  readonly seriesCacheBytes: number;
  /** On an object store: the thread posts the pool a cache port when it starts (cache-port.ts). */
  readonly cachePort: boolean;
}

/**
 * `GET /query/{measurement}`: the engine builds the SQL itself after checking every column name
 * against the measurement's columns, so no request parameter ever becomes SQL text unchecked.
 */
export interface MeasurementQuery {
  readonly measurement: string;
  /** Columns to answer; empty: all. */
  readonly columns: readonly string[];
  /** RFC 3339 instants (already validated): time >= start, time < end. */
  readonly startTime: string | null;
  readonly endTime: string | null;
  readonly orderBy: string;
  readonly descending: boolean;
  readonly limit: number;
  readonly offset: number;
}

/** A measurement with rows but no Parquet file yet: queries see its columns and no rows. */
export interface PendingMeasurement {
  readonly database: string;
  readonly measurement: string;
  readonly columns: readonly ColumnSpec[];
}

/** User SQL, or a measurement read the engine turns into SQL. */
export type QuerySource = { readonly sql: string } | { readonly measurement: MeasurementQuery };

interface TaskBase {
  readonly source: QuerySource;
  /** Default database: unqualified table names are looked up in it. */
  readonly database: string;
  /** The ControlBlock slot through which the pool cancels this task. */
  readonly slot: number;
  /** Rows read from the result at most (the request's `limit`, or the row cap + 1; Infinity: none). */
  readonly rowLimit: number;
  /** Databases the caller may read (the token's list); null: every database. */
  readonly readableDatabases: readonly string[] | null;
  /** Measurements with rows buffered in writers but no file yet. */
  readonly pending: readonly PendingMeasurement[];
  /** On an object store: the number its thread's cache port asks under for the files it reads to be made local (cache-port.ts); null on local disk. */
  readonly cacheTask: number | null;
  /** The last-value caches of the default database, when the SQL calls last_cache() (last-cache-relation.ts). */
  readonly lastCaches?: readonly LastValueTable[];
}

/** An answer encoded whole in `format`. */
export interface QueryTask extends TaskBase {
  readonly kind: 'query';
  readonly format: AnswerFormat;
  /** Compress the answer this way (Arrow answers never are: they are read as they arrive). */
  readonly compression: AnswerCompression;
  /** Let DuckDB compute the whole result first (faster); false when a `limit` should stop it early. */
  readonly materialize: boolean;
}

/** The number of rows the statement would answer, without answering them. */
export interface EstimateTask extends TaskBase {
  readonly kind: 'estimate';
}

/** An answer sent in pieces through `port` (StreamMessage), as the consumer grants credit. */
export interface StreamTask extends TaskBase {
  readonly kind: 'stream';
  readonly format: StreamFormat;
  readonly port: MessagePort;
}

/** Answers once the worker's DuckDB instance is open and locked down (QueryPool.ready). */
export interface PingTask {
  readonly kind: 'ping';
}

export type WorkerTask = QueryTask | EstimateTask | StreamTask | PingTask;

/** Worker -> pool on a stream's port. */
export type StreamMessage = { readonly type: 'piece'; readonly bytes: Uint8Array } | { readonly type: 'end'; readonly rowCount: number };

/** Pool -> worker on a stream's port: one more piece may be sent, or stop. */
export type StreamControl = { readonly type: 'credit' } | { readonly type: 'cancel' };

/**
 * Errors cross the thread boundary as plain shapes (structured clone drops class identity), and
 * as return values rather than throws, so their kind and code survive.
 */
export type TaskResult =
  | {
      readonly ok: true;
      readonly body: Uint8Array;
      readonly rowCount: number;
      readonly reads: readonly MeasurementRef[];
      /** False when the statement calls a function whose value changes between runs (now(), random()). */
      readonly cacheable: boolean;
      /** How `body` is compressed; null: not at all. */
      readonly contentEncoding: 'gzip' | 'zstd' | null;
    }
  | { readonly ok: false; readonly error: ArcErrorShape };
