import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { workerExecArgv } from '@arc/config';
import { ArcError, ErrorKind, badRequest, truncateText } from '@arc/errors';
import type { ColumnSpec } from '@arc/storage';
import { CompactionErrorCode } from './error-codes.js';
import { MERGE_INPUT_FILES_MAX, MERGE_THREADS_MAX } from './limits.js';
import type { CqSource } from './cq-query-check.js';
import type { CqWindowResult, CqWindowTask } from './cq-window-worker.js';

/**
 * The main thread's side of the merge engine: a worker thread that owns one DuckDB instance and
 * runs one merge task at a time (merge-worker.ts). This module never loads DuckDB, so the
 * server's main thread stays light.
 */

export interface MergeTask {
  /** DuckDB-readable locations of the input Parquet files, OLDEST WRITE FIRST: for dedup a later input's value wins. */
  readonly inputs: readonly string[];
  /**
   * Staged output paths (local, ending in '.tmp', directory exists), in order; the job writes
   * 1..n of them (as many as the target size needs; n = outputPaths.length at most) and never
   * touches the rest.
   */
  readonly outputPaths: readonly string[];
  readonly dedup: boolean;
  readonly targetFileBytes: number;
  readonly rowGroupSize: number;
  /** zstd level */
  readonly compressionLevel: number;
  /**
   * A rewrite (deletes, retention, continuous-query windows): the input rows for which this SQL
   * expression over their columns is TRUE are left out (row-predicate.ts). The worker checks it
   * with DuckDB's parser first and refuses anything but a plain expression. Absent: every row.
   */
  readonly removeWhere?: string;
}

export interface MergedFile {
  readonly path: string;
  readonly rows: number;
  readonly minTimeUs: number;
  readonly maxTimeUs: number;
}

export interface MergeResult {
  /** The files written, in order (>= 1 unless inputRows is 0). */
  readonly outputs: readonly MergedFile[];
  /** The outputs' columns as DESCRIBE of read_parquet(output) names them (name, DuckDB type text). */
  readonly columns: readonly ColumnSpec[];
  /** Tag columns (union of the inputs' arc:tags, in first-seen order). */
  readonly tags: readonly string[];
  readonly inputRows: number;
  readonly outputRows: number;
}

/**
 * What the worker gets: the options and two shared cells it reads between pieces of DuckDB work:
 * STOP_CELL set to 1 (stop now) and PAUSE_CELL set to 1 (wait: ingest is busy).
 */
export interface MergeWorkerData extends MergeRunnerOptions {
  readonly stopFlag: Int32Array;
}
export const STOP_CELL = 0;
export const PAUSE_CELL = 1;

export interface MergeRunnerOptions {
  /** DuckDB memory_limit of the worker's instance (`'1GB'`). */
  readonly memoryLimit: string;
  /** DuckDB threads of the worker's instance. */
  readonly threads: number;
  /** Nice value of the worker thread and of DuckDB's threads (they inherit it): 0 leaves it. */
  readonly nice: number;
  /** Where DuckDB spills when a merge exceeds memoryLimit. */
  readonly tempDirectory: string;
  /** The merge threads' telemetry buffer (MERGE_TELEMETRY); the thread claims a block. Absent: it publishes nothing. */
  readonly telemetry?: SharedArrayBuffer;
}

/** What the worker's instance runs with, as DuckDB and the OS report it (for tests and diagnostics). */
export interface MergeWorkerSettings {
  readonly memoryLimit: string;
  readonly threads: number;
  readonly tempDirectory: string;
  /** The worker thread's own nice value. */
  readonly nice: number;
  /** DuckDB background threads (threads - 1) set to that nice value; 0 when nice is 0 or they could not be told apart. */
  readonly loweredThreads: number;
}

export type RunnerToWorker =
  | { readonly kind: 'run'; readonly task: MergeTask }
  | { readonly kind: 'check-predicate'; readonly removeWhere: string }
  | { readonly kind: 'count'; readonly inputs: readonly string[]; readonly removeWhere: string }
  | { readonly kind: 'settings' }
  /** A continuous query's SQL checked by DuckDB's parser (cq-query-check.ts); a window of one run (cq-window-worker.ts). */
  | { readonly kind: 'check-cq-query'; readonly query: string; readonly source: CqSource }
  | { readonly kind: 'cq-window'; readonly task: CqWindowTask }
  | { readonly kind: 'close' };

export type WorkerToRunner =
  | { readonly kind: 'ready' }
  | { readonly kind: 'merged'; readonly result: MergeResult }
  | { readonly kind: 'settings'; readonly settings: MergeWorkerSettings }
  /** A check-predicate, or a run's remove predicate, was refused (why); a run then touched no file. */
  | { readonly kind: 'predicate-refused'; readonly reason: string }
  | { readonly kind: 'predicate-checked' }
  /** A count's answer: the input rows the predicate matches. */
  | { readonly kind: 'counted'; readonly rows: number }
  /** A check-cq-query's answer: null when the query may run, else why not. */
  | { readonly kind: 'cq-query-checked'; readonly refusal: string | null }
  | { readonly kind: 'cq-window-computed'; readonly result: CqWindowResult }
  /** Opening DuckDB or a task failed; the worker removed what the task wrote and takes the next one. */
  | { readonly kind: 'failed'; readonly message: string };

/** The worker's compiled file: `../dist/` resolves to it from src/ (tests) and from dist/ alike. */
const MERGE_WORKER_URL = new URL('../dist/merge-worker.js', import.meta.url);

interface Pending {
  readonly resolve: (message: WorkerToRunner) => void;
  readonly reject: (error: ArcError) => void;
}

function jobFailed(message: string, details?: Record<string, string | number | boolean>): ArcError {
  return new ArcError(ErrorKind.internal, CompactionErrorCode.jobFailed, message, details);
}

/** Characters of a refused predicate quoted in its error message. */
const PREDICATE_QUOTED_CHARS = 200;

/** 400 ARC_COMPACTION_BAD_PREDICATE naming the predicate (its start) and why it is refused. */
function badPredicate(removeWhere: string, reason: string): ArcError {
  return badRequest(CompactionErrorCode.badPredicate, `The predicate '${truncateText(removeWhere, PREDICATE_QUOTED_CHARS)}' is refused: ${reason}`, { reason });
}

function assertTask(task: MergeTask): void {
  assert.ok(task.inputs.length >= 1, 'a merge has inputs');
  assert.ok(task.inputs.length <= MERGE_INPUT_FILES_MAX, 'inputs within limit');
  assert.equal(new Set(task.inputs).size, task.inputs.length, 'input files are distinct');
  assert.ok(task.outputPaths.length >= 1, 'a merge has an output path');
  for (const path of task.outputPaths) assert.ok(path.endsWith('.tmp'), 'outputs are staged files');
  assert.equal(new Set(task.outputPaths).size, task.outputPaths.length, 'output paths are distinct');
  assert.ok(task.targetFileBytes > 0, 'target file size positive');
  assert.ok(Number.isInteger(task.rowGroupSize), 'row group size is an integer');
  assert.ok(task.rowGroupSize > 0, 'row group size positive');
  assert.ok(Number.isInteger(task.compressionLevel), 'zstd level is an integer');
}

export class MergeRunner {
  private readonly worker: Worker;
  private readonly stopFlag: Int32Array;
  private pending: Pending | null = null;
  private exited = false;

  private constructor(worker: Worker, stopFlag: Int32Array) {
    this.worker = worker;
    this.stopFlag = stopFlag;
    worker.on('message', (message: WorkerToRunner) => {
      this.settle().resolve(message);
    });
    // An uncaught exception in the worker (a broken invariant) ends it: 'error', then 'exit'.
    worker.on('error', (error) => {
      this.pending?.reject(jobFailed(`The merge worker failed: ${error.message}`));
      this.pending = null;
    });
    worker.on('exit', (code) => {
      this.exited = true;
      this.pending?.reject(jobFailed(`The merge worker exited (code ${String(code)})`));
      this.pending = null;
    });
  }

  /** Starts the worker and opens its DuckDB instance; rejects with ARC_COMPACTION_JOB_FAILED if that fails. */
  static async start(options: MergeRunnerOptions): Promise<MergeRunner> {
    assert.ok(Number.isInteger(options.threads), 'threads is an integer');
    assert.ok(options.threads >= 1, 'threads at least 1');
    assert.ok(options.threads <= MERGE_THREADS_MAX, 'threads within limit');
    assert.ok(Number.isInteger(options.nice), 'nice is an integer');
    const stopFlag = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const workerData: MergeWorkerData = { ...options, stopFlag };
    const worker = new Worker(MERGE_WORKER_URL, { workerData, execArgv: workerExecArgv() });
    const runner = new MergeRunner(worker, stopFlag);
    const opened = await runner.expect();
    if (opened.kind === 'ready') return runner;
    if (opened.kind !== 'failed') assert.fail('the worker opens ready or failed');
    await runner.close();
    throw jobFailed(`The merge worker could not open DuckDB: ${opened.message}`);
  }

  /**
   * Merges the task's inputs into 1..n of its output paths. One task at a time. Rejects with
   * ARC_COMPACTION_JOB_FAILED when DuckDB fails (a missing or unreadable input, a full disk), after
   * the worker removed every output it wrote; the runner then takes the next task.
   */
  async run(task: MergeTask): Promise<MergeResult> {
    assertTask(task);
    const answer = await this.request({ kind: 'run', task });
    if (answer.kind === 'merged') return answer.result;
    if (answer.kind === 'predicate-refused') throw badPredicate(task.removeWhere ?? '', answer.reason);
    if (answer.kind !== 'failed') assert.fail('a run is answered merged, refused or failed');
    throw jobFailed(`Merging ${String(task.inputs.length)} files failed: ${answer.message}`, { inputs: task.inputs.length, firstInput: task.inputs[0] ?? '' });
  }

  /**
   * Checks a rewrite's remove predicate with the worker's DuckDB parser (no file is read): resolves
   * when run() would take it, rejects with 400 ARC_COMPACTION_BAD_PREDICATE saying why not.
   */
  async checkPredicate(removeWhere: string): Promise<void> {
    const answer = await this.request({ kind: 'check-predicate', removeWhere });
    if (answer.kind === 'predicate-refused') throw badPredicate(removeWhere, answer.reason);
    if (answer.kind === 'failed') throw jobFailed(`Checking a predicate failed: ${answer.message}`);
    if (answer.kind !== 'predicate-checked') assert.fail('a check is answered checked, refused or failed');
  }

  /**
   * How many rows of `inputs` a rewrite with `removeWhere` would leave out, read (no file is
   * written): a dry run's count. The predicate is checked as for run(): 400
   * ARC_COMPACTION_BAD_PREDICATE when refused; ARC_COMPACTION_JOB_FAILED when DuckDB fails.
   */
  async countRows(inputs: readonly string[], removeWhere: string): Promise<number> {
    assert.ok(inputs.length >= 1, 'a count has inputs');
    assert.ok(inputs.length <= MERGE_INPUT_FILES_MAX, 'inputs within limit');
    const answer = await this.request({ kind: 'count', inputs, removeWhere });
    if (answer.kind === 'counted') return answer.rows;
    if (answer.kind === 'predicate-refused') throw badPredicate(removeWhere, answer.reason);
    if (answer.kind !== 'failed') assert.fail('a count is answered counted, refused or failed');
    throw jobFailed(`Counting the rows of ${String(inputs.length)} files failed: ${answer.message}`, { inputs: inputs.length, firstInput: inputs[0] ?? '' });
  }

  /** Why DuckDB's parser refuses a continuous query's SQL (cq-query-check.ts), or null when it may run. */
  async checkCqQuery(query: string, source: CqSource): Promise<string | null> {
    const answer = await this.request({ kind: 'check-cq-query', query, source });
    if (answer.kind === 'failed') throw jobFailed(`Checking a continuous query failed: ${answer.message}`);
    if (answer.kind !== 'cq-query-checked') assert.fail('a query check is answered checked or failed');
    return answer.refusal;
  }

  /**
   * Runs a continuous query's window and stages its rows (cq-window-worker.ts). Rejects with
   * ARC_COMPACTION_JOB_FAILED carrying DuckDB's or the check's message; nothing is left staged.
   */
  async computeCqWindow(task: CqWindowTask): Promise<CqWindowResult> {
    assert.ok(task.sourceInputs.length >= 1, 'a window reads files');
    assert.ok(task.windowStartUs < task.windowEndUs, 'a window is not empty');
    const answer = await this.request({ kind: 'cq-window', task });
    if (answer.kind === 'failed') throw jobFailed(answer.message);
    if (answer.kind !== 'cq-window-computed') assert.fail('a window is answered computed or failed');
    return answer.result;
  }

  /** The worker's DuckDB settings and nice value. */
  async settings(): Promise<MergeWorkerSettings> {
    const answer = await this.request({ kind: 'settings' });
    if (answer.kind !== 'settings') assert.fail('settings are answered with settings');
    return answer.settings;
  }

  /**
   * Ends the worker soon, a task in flight too: the worker sees the stop flag between two pieces of
   * DuckDB work, abandons the statement, removes what the task wrote and answers it failed (so a
   * server's stop never waits for a whole merge). Never Worker.terminate(): ending a thread while
   * DuckDB's native code runs on it can bring the whole process down.
   */
  async terminate(): Promise<void> {
    Atomics.store(this.stopFlag, STOP_CELL, 1);
    // A paused merge wakes to see the stop.
    Atomics.notify(this.stopFlag, PAUSE_CELL);
    await this.close();
  }

  /**
   * Holds the merge in flight (and the next) between two pieces of DuckDB work while `paused`:
   * ingest is busy, and the merge would take CPU, disk and memory bandwidth from it.
   */
  setPaused(paused: boolean): void {
    Atomics.store(this.stopFlag, PAUSE_CELL, paused ? 1 : 0);
    if (!paused) Atomics.notify(this.stopFlag, PAUSE_CELL);
  }

  /** Closes DuckDB and ends the worker. A task in flight is waited for. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    const message: RunnerToWorker = { kind: 'close' };
    this.worker.postMessage(message);
    await exit;
  }

  private async request(message: RunnerToWorker): Promise<WorkerToRunner> {
    assert.equal(this.pending, null, 'one merge request at a time');
    if (this.exited) throw jobFailed('The merge worker has exited');
    const answer = this.expect();
    this.worker.postMessage(message);
    return answer;
  }

  private expect(): Promise<WorkerToRunner> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
    });
  }

  private settle(): Pending {
    const pending = this.pending;
    assert.ok(pending !== null, 'the worker answers only requests');
    this.pending = null;
    return pending;
  }
}
