import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '@arc/config';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { ServerErrorCode } from './error-codes.js';
import type { ImportChunk } from './import-feed.js';
import type { ImportShape } from './import-sql.js';

/**
 * The main thread's side of an import's reading thread (import-worker.ts): one thread per CSV or
 * Parquet import, which opens its own DuckDB instance, reads the spooled file and posts line
 * protocol chunks. The thread makes a chunk only when asked for one (`next`), so at most one
 * waits here while the feed has the others. This module never loads DuckDB.
 */

export interface ImportWorkerData extends ImportShape {
  readonly path: string;
  readonly format: 'csv' | 'parquet';
  readonly delimiter: string;
  readonly skipRows: number;
  /** The only directory the thread's DuckDB may read and spill to (the spool directory). */
  readonly directory: string;
  readonly memoryLimit: string;
  readonly threads: number;
  readonly chunkBytes: number;
}

/** A row the reading thread refused before ingest (its time is not a time): file row number and value. */
export interface RowRefusal {
  readonly row: number;
  readonly value: string;
}

export type WorkerToImport =
  | { readonly kind: 'chunk'; readonly body: Uint8Array; readonly numbers: Int32Array; readonly refused: readonly RowRefusal[]; readonly refusedCount: number }
  | { readonly kind: 'done'; readonly refused: readonly RowRefusal[]; readonly refusedCount: number; readonly columns: readonly string[] }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string }
  | { readonly kind: 'failed'; readonly message: string };

export interface ImportToWorker { readonly kind: 'next' }

const IMPORT_WORKER_URL = new URL('../dist/import-worker.js', import.meta.url);

/** What `next` yields: a chunk with the rows refused before it, or the end with the last refusals and the columns read. */
export type ReadStep =
  | { readonly kind: 'chunk'; readonly chunk: ImportChunk; readonly refused: readonly RowRefusal[]; readonly refusedCount: number }
  | { readonly kind: 'done'; readonly refused: readonly RowRefusal[]; readonly refusedCount: number; readonly columns: readonly string[] };

export class ImportReader {
  private readonly worker: Worker;
  private pending: ((message: WorkerToImport) => void) | null = null;
  private last: WorkerToImport | null = null;

  constructor(data: ImportWorkerData) {
    this.worker = new Worker(IMPORT_WORKER_URL, { workerData: data, execArgv: workerExecArgv() });
    this.worker.on('message', (message: WorkerToImport) => this.settle(message));
    this.worker.on('error', (error) => this.settle({ kind: 'failed', message: `the import's reading thread failed: ${error.message}` }));
    this.worker.on('exit', (code) => this.settle({ kind: 'failed', message: `the import's reading thread exited (code ${String(code)})` }));
  }

  /** The next chunk or the end; rejects with the 400 for an unreadable file or the 500 for a failed thread. */
  async next(): Promise<ReadStep> {
    const message = await new Promise<WorkerToImport>((resolve) => {
      this.pending = resolve;
      this.worker.postMessage({ kind: 'next' } satisfies ImportToWorker);
    });
    switch (message.kind) {
      case 'chunk':
        return { kind: 'chunk', chunk: { body: message.body, firstNumber: message.numbers[0] ?? 0, numbers: message.numbers }, refused: message.refused, refusedCount: message.refusedCount };
      case 'done':
        return message;
      case 'refused':
        throw badRequest(message.code, message.message);
      case 'failed':
        throw new ArcError(ErrorKind.internal, ServerErrorCode.importFailed, message.message);
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private settle(message: WorkerToImport): void {
    // Only the first end counts: an 'exit' after 'failed' is the same failure.
    if (this.last !== null && this.last.kind !== 'chunk') return;
    this.last = message;
    const pending = this.pending;
    this.pending = null;
    pending?.(message);
  }
}
