import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '@arc/config';
import { ArcError, ErrorKind, badRequest, truncateText } from '@arc/errors';
import { DeleteErrorCode } from './delete-error-codes.js';
import type { TimeRangeUs } from './delete-time-range.js';

/**
 * The main thread's side of a delete's count thread (delete-count-worker.ts): one thread per
 * delete, started for it and closed after it. This module never loads DuckDB.
 */

export interface CountWorkerData {
  /** DuckDB memory_limit of the thread's instance. */
  readonly memoryLimit: string;
}

export type CounterToWorker =
  | { readonly kind: 'check'; readonly where: string }
  | { readonly kind: 'count'; readonly where: string; readonly files: readonly string[] }
  | { readonly kind: 'close' };

export type WorkerToCounter =
  | { readonly kind: 'ready' }
  | { readonly kind: 'checked'; readonly minUs: number; readonly maxUs: number }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'counted'; readonly rows: readonly number[] }
  | { readonly kind: 'failed'; readonly message: string };

/** The worker's compiled file: `../dist/` resolves to it from src/ (tests) and from dist/ alike. */
const COUNT_WORKER_URL = new URL('../dist/delete-count-worker.js', import.meta.url);

/** Characters of a refused WHERE clause quoted in its error message. */
const WHERE_QUOTED_CHARS = 200;

function countFailed(message: string): ArcError {
  return new ArcError(ErrorKind.internal, DeleteErrorCode.failed, message);
}

export class DeleteCounter {
  private readonly worker: Worker;
  private pending: ((message: WorkerToCounter) => void) | null = null;
  private exited = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (message: WorkerToCounter) => this.settle(message));
    worker.on('error', (error) => this.settle({ kind: 'failed', message: `the count thread failed: ${error.message}` }));
    worker.on('exit', (code) => {
      this.exited = true;
      this.settle({ kind: 'failed', message: `the count thread exited (code ${String(code)})` });
    });
  }

  /** Starts the thread and opens its DuckDB instance. */
  static async start(data: CountWorkerData): Promise<DeleteCounter> {
    const counter = new DeleteCounter(new Worker(COUNT_WORKER_URL, { workerData: data, execArgv: workerExecArgv() }));
    const opened = await counter.expect();
    if (opened.kind === 'ready') return counter;
    await counter.close();
    throw countFailed(`The count thread could not open DuckDB: ${opened.kind === 'failed' ? opened.message : opened.kind}`);
  }

  /**
   * Checks the WHERE clause with DuckDB's parser; resolves with the time range it can match,
   * rejects with 400 ARC_DELETE_BAD_WHERE naming why it is refused.
   */
  async check(where: string): Promise<TimeRangeUs> {
    const answer = await this.request({ kind: 'check', where });
    if (answer.kind === 'checked') return { minUs: answer.minUs, maxUs: answer.maxUs };
    if (answer.kind === 'refused') throw badRequest(DeleteErrorCode.badWhere, `The WHERE clause '${truncateText(where, WHERE_QUOTED_CHARS)}' is refused: ${answer.reason}`, { reason: answer.reason });
    throw countFailed(`Checking the WHERE clause failed: ${answer.kind === 'failed' ? answer.message : answer.kind}`);
  }

  /**
   * Rows the (checked) clause matches in each file, in order. A clause DuckDB cannot run on these
   * files (a column no file has, a type mismatch) is the caller's error: 400 ARC_DELETE_BAD_WHERE.
   */
  async count(where: string, files: readonly string[]): Promise<readonly number[]> {
    const answer = await this.request({ kind: 'count', where, files });
    if (answer.kind === 'counted') return answer.rows;
    if (answer.kind === 'failed') throw badRequest(DeleteErrorCode.badWhere, `The WHERE clause '${truncateText(where, WHERE_QUOTED_CHARS)}' cannot be evaluated on the measurement's rows: ${answer.message}`);
    throw countFailed(`Counting failed: ${answer.kind}`);
  }

  /** Closes DuckDB and ends the thread. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ kind: 'close' } satisfies CounterToWorker);
    await exit;
  }

  private async request(message: CounterToWorker): Promise<WorkerToCounter> {
    assert.equal(this.pending, null, 'one count request at a time');
    if (this.exited) throw countFailed('The count thread has exited');
    const answer = this.expect();
    this.worker.postMessage(message);
    return answer;
  }

  private expect(): Promise<WorkerToCounter> {
    return new Promise((resolve) => (this.pending = resolve));
  }

  private settle(message: WorkerToCounter): void {
    const pending = this.pending;
    this.pending = null;
    pending?.(message);
  }
}
