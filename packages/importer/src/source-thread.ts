import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import type { ReadOptions, SourceChunk, SourceConnection, SourceReader, SourceType } from './source.js';

/**
 * The main thread's side of a job's source thread (source-worker.ts): one worker thread per running
 * execution, which loads the job's driver, connects to the source and builds line protocol. The
 * drivers parse answers and build text, which would stall the acceptor: they never run here. The
 * thread reads one chunk ahead of what it was asked for (`next`), so at most one chunk waits for the runner.
 */

export interface SourceWorkerData {
  readonly type: SourceType;
  readonly connection: SourceConnection;
  readonly source: Readonly<Record<string, unknown>>;
  readonly cursor: string | null;
  readonly options: Omit<ReadOptions, 'signal'>;
  /**
   * TEST ONLY: a module (file URL) whose default export is the SourceDriver to use instead of the
   * driver table's, so the thread can be tested with a driver that lives in a test directory.
   * Product code never sets it.
   */
  readonly driverModuleForTests: string | null;
}

export type SourceToMain =
  | { readonly kind: 'chunk'; readonly chunk: SourceChunk }
  | { readonly kind: 'end' }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string; readonly badRequest: boolean };

export interface MainToSource { readonly kind: 'next' }

const SOURCE_WORKER_URL = new URL('../dist/source-worker.js', import.meta.url);

function threadFailed(message: string): ArcError {
  return new ArcError(ErrorKind.internal, ImporterErrorCode.sourceFailed, message);
}

export class SourceThread implements SourceReader {
  private readonly worker: Worker;
  private pending: ((message: SourceToMain) => void) | null = null;
  /** The end the thread reported (end, failure, exit): every later `next` answers it. */
  private ended: SourceToMain | null = null;
  private closed = false;

  private constructor(data: SourceWorkerData, signal: AbortSignal) {
    this.worker = new Worker(SOURCE_WORKER_URL, { workerData: data, execArgv: workerExecArgv() });
    this.worker.on('message', (message: SourceToMain) => this.settle(message));
    this.worker.on('error', (error) => this.settle({ kind: 'failed', code: ImporterErrorCode.sourceFailed, message: `the job's source thread failed: ${error.message}`, badRequest: false }));
    this.worker.on('exit', (code) => this.settle({ kind: 'failed', code: ImporterErrorCode.sourceFailed, message: `the job's source thread exited (code ${String(code)})`, badRequest: false }));
    // A cancel ends a read in progress at once: the thread (and its sockets) goes.
    signal.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** Starts the thread; the driver opens the source when the first chunk is asked for. */
  static open(connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions, driverModuleForTests: string | null = null): SourceThread {
    const { signal, ...rest } = options;
    return new SourceThread({ type: connection.type, connection, source, cursor, options: rest, driverModuleForTests }, signal);
  }

  async next(): Promise<SourceChunk | null> {
    const message =
      this.ended ??
      (await new Promise<SourceToMain>((resolve) => {
        this.pending = resolve;
        this.worker.postMessage({ kind: 'next' } satisfies MainToSource);
      }));
    switch (message.kind) {
      case 'chunk':
        return message.chunk;
      case 'end':
        return null;
      case 'failed':
        throw message.badRequest ? new ArcError(ErrorKind.badRequest, message.code, message.message) : threadFailed(message.message);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settle({ kind: 'failed', code: ImporterErrorCode.cancelled, message: "the job's source thread was closed", badRequest: false });
    await this.worker.terminate();
  }

  private settle(message: SourceToMain): void {
    // Only the first end counts: an 'exit' after 'failed' is the same failure.
    if (this.ended !== null) return;
    if (message.kind !== 'chunk') this.ended = message;
    const pending = this.pending;
    this.pending = null;
    pending?.(message);
  }
}
