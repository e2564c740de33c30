import type { ArcErrorShape } from '@arc/config';
import type { AnswerFormat } from './answer-format.js';
import type { MeasurementRef } from './query-plan.js';

/** What a worker needs to open its DuckDB instance; sent once as piscina's `workerData`. */
export interface WorkerConfig {
  readonly dataRoot: string;
  readonly duckdbThreads: number;
  readonly memoryLimit: string;
  readonly tempDirectory: string;
  /** The ControlBlock's buffer (catalog generation, task slots). */
  readonly control: SharedArrayBuffer;
}

export interface QueryTask {
  readonly kind: 'query';
  readonly sql: string;
  /** Default database: unqualified table names are looked up in it. */
  readonly database: string;
  /** The ControlBlock slot through which the pool cancels this task. */
  readonly slot: number;
  readonly format: AnswerFormat;
  /** Rows read from the result at most (the request's `limit`; Infinity when it gave none). */
  readonly rowLimit: number;
  /** Databases the caller may read (the token's list); null: every database. */
  readonly readableDatabases: readonly string[] | null;
}

/** Answers once the worker's DuckDB instance is open and locked down (QueryPool.ready). */
export interface PingTask {
  readonly kind: 'ping';
}

export type WorkerTask = QueryTask | PingTask;

/**
 * Errors cross the thread boundary as plain shapes (structured clone drops class identity), and
 * as return values rather than throws, so their kind and code survive.
 */
export type TaskResult =
  | { readonly ok: true; readonly body: Uint8Array; readonly rowCount: number; readonly reads: readonly MeasurementRef[] }
  | { readonly ok: false; readonly error: ArcErrorShape };
