import { ArcError } from '@arc/errors';
import { ImporterErrorCode } from './error-codes.js';
import type { Execution, ExecutionError, Job, JobStore, PendingChunk } from './job-store.js';
import { JOB_CHUNK_BYTES_MAX, JOB_CHUNK_ROWS_DEFAULT, JOB_PROGRESS_WRITE_INTERVAL_MS } from './limits.js';
import type { ReadOptions, SourceChunk, SourceConnection, SourceReader } from './source.js';

/**
 * One execution of an import job: reads the source in time-ordered chunks (in the job's source
 * thread, source-thread.ts) and writes each into Arc through the normal ingest path, exactly once.
 *
 * Exactly once, chunk by chunk:
 *   1. Before a chunk is written, the destination's row count over the chunk's window (its
 *      measurements x [minTimeNs, maxTimeNs]) is taken (`preCount`) and the chunk is recorded as
 *      pending in the job store (cursor, window, row count, preCount), synchronously to disk.
 *   2. The chunk goes to ingest as one write (one WAL entry, atomic: all its rows or none).
 *   3. Once the write is acknowledged, one statement moves the checkpoint to the chunk's cursor,
 *      adds its counts and clears the pending record.
 *   A stop or crash between 2 and 3 leaves a pending chunk that may or may not be in Arc. The next
 *   run of the execution (a resume) settles it first: it flushes the window's measurements and
 *   counts the window again. count == preCount + rows: the chunk landed, the checkpoint moves to
 *   its cursor. count == preCount: it did not, reading starts again at the previous checkpoint.
 *   Anything else (other rows written into the window meanwhile, or a chunk that lost some rows to
 *   validation before the crash): the execution fails with ARC_IMPORT_IN_DOUBT naming the window,
 *   and nothing is written again; rows are never duplicated.
 * The counts see only flushed rows, so before a pre-count the window's measurements are flushed
 * when rows written and maybe still buffered can fall in it: at an execution's first chunk (an
 * earlier run's last rows) and when a chunk starts at or before the previous chunk's newest row
 * (chunks are in time order, so that is the only way they overlap). The counts trust a flush to
 * cover every acknowledged write; at a server's start that holds (WAL replay flushes before jobs
 * resume). Within one process, a short count before a write can only turn a later settle into
 * ARC_IMPORT_IN_DOUBT, never into a duplicate; a short count when settling a chunk whose write
 * failed in this process could re-read a chunk that landed, which is why a failed write fails the
 * execution rather than being retried on the spot.
 *
 * One chunk is in flight per job: the checkpoint is a single cursor, so a second chunk could only
 * be checkpointed after the first anyway; the source thread reads the next chunk meanwhile (one
 * ahead at most, never checkpointed before it is written). Cancel (or the server stopping) aborts the read in progress; a write in flight is
 * awaited and checkpointed, so a later resume continues from there.
 */

/** What a chunk's write answered: rows stored, and rows the decoders refused (bad lines). */
export interface SinkWriteResult {
  readonly rows: number;
  readonly rejected: number;
}

/** Arc's side of a job, implemented by the server over its ingest pipeline and query pool. */
export interface ImportSink {
  /**
   * One chunk as one ingest write into `database`; resolves once acknowledged. Rejects when Arc
   * refused it for a reason other than its rows (a writer failed, the server stopping): its rows
   * may or may not be in Arc then, which the pending record settles.
   */
  write(database: string, body: Uint8Array): Promise<SinkWriteResult>;
  /** Flushes the buffered rows of these measurements, so a count sees them. */
  flush(database: string, measurements: readonly string[]): Promise<void>;
  /** Rows of these measurements with minTimeNs <= time <= maxTimeNs (a measurement not yet made counts 0). */
  countRows(database: string, measurements: readonly string[], minTimeNs: bigint, maxTimeNs: bigint): Promise<number>;
}

/** Opens a reader of the job's source (product: a source thread; SourceThread.open). */
export type OpenSource = (connection: SourceConnection, source: Readonly<Record<string, unknown>>, cursor: string | null, options: ReadOptions) => SourceReader | Promise<SourceReader>;

export interface JobRunnerDeps {
  readonly store: JobStore;
  readonly sink: ImportSink;
  readonly openSource: OpenSource;
  /** Now in ms (tests pass a clock to see the rate and ETA move). */
  readonly nowMs?: () => number;
  /** Where a resume says how it settled an in-doubt chunk (the main thread's log). */
  readonly log?: (message: string) => void;
}

/** Why a run stopped early: a user's cancel, or the server stopping (the execution is resumed at the next start). */
export type StopReason = 'cancelled' | 'interrupted';

export class JobRunStopped extends Error {
  readonly reason: StopReason;
  constructor(reason: StopReason) {
    super(`the import job's execution was ${reason}`);
    this.reason = reason;
  }
}

function errorOf(error: unknown, fallbackCode: string): ExecutionError {
  if (error instanceof ArcError) return { code: error.code, message: error.message };
  return { code: fallbackCode, message: error instanceof Error ? error.message : String(error) };
}

function windowText(pending: PendingChunk): string {
  return `${pending.measurements.join(', ')} from ${pending.minTimeNs.toString()} to ${pending.maxTimeNs.toString()} ns`;
}

/** A failure of one step, with the code the execution records. */
class StepFailed extends Error {
  readonly failure: ExecutionError;
  constructor(failure: ExecutionError) {
    super(failure.message);
    this.failure = failure;
  }
}

/** Runs `execution` (already started in the store) to its end and returns it as stored. */
export async function runExecution(deps: JobRunnerDeps, job: Job, execution: Execution, connection: SourceConnection, signal: AbortSignal): Promise<Execution> {
  const run = new ExecutionRun(deps, job, execution, signal);
  try {
    await run.settlePending();
    await run.copy(connection);
    return deps.store.finish(execution.id, 'succeeded', null);
  } catch (error) {
    // A stopped run ends as stopped even when its last step failed on the way (a write refused by
    // the server stopping): its pending chunk, if any, is settled by the resume. An in-doubt
    // window is the exception: resuming cannot settle it either.
    const inDoubt = error instanceof StepFailed && error.failure.code === ImporterErrorCode.inDoubt;
    if (signal.aborted && !inDoubt) return deps.store.finish(execution.id, stopReasonOf(signal), stopReasonOf(signal) === 'cancelled' ? { code: ImporterErrorCode.cancelled, message: 'cancelled' } : null);
    if (error instanceof StepFailed) return deps.store.finish(execution.id, 'failed', error.failure);
    return deps.store.finish(execution.id, 'failed', errorOf(error, ImporterErrorCode.sourceFailed));
  }
}

function stopReasonOf(signal: AbortSignal): StopReason {
  return signal.reason instanceof JobRunStopped ? signal.reason.reason : 'cancelled';
}

class ExecutionRun {
  private readonly deps: JobRunnerDeps;
  private readonly job: Job;
  private readonly executionId: number;
  private readonly signal: AbortSignal;
  private readonly nowMs: () => number;
  private readonly startedMs: number;
  private readonly progressAtStart: number;
  private readonly rangeStartNs: bigint | null;
  private readonly rangeEndNs: bigint | null;
  private checkpoint: string | null;
  private pending: PendingChunk | null;
  /** The newest row time written by this run and maybe still buffered by the writers; null before the first chunk. */
  private newestWrittenNs: bigint | null = null;
  private rowsThisRun = 0;
  private rateWrittenMs = 0;

  constructor(deps: JobRunnerDeps, job: Job, execution: Execution, signal: AbortSignal) {
    this.deps = deps;
    this.job = job;
    this.executionId = execution.id;
    this.signal = signal;
    this.nowMs = deps.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
    this.progressAtStart = execution.progress ?? 0;
    this.rangeStartNs = execution.rangeStartNs;
    this.rangeEndNs = execution.rangeEndNs;
    this.checkpoint = execution.checkpoint;
    this.pending = execution.pending;
  }

  /** The in-doubt chunk left by a stop or crash (see the header): landed, not landed, or a failure. */
  async settlePending(): Promise<void> {
    const pending = this.pending;
    if (pending === null) return;
    const { sink, store } = this.deps;
    const count = await this.arcStep(async () => {
      await sink.flush(this.job.database, pending.measurements);
      return sink.countRows(this.job.database, pending.measurements, pending.minTimeNs, pending.maxTimeNs);
    });
    const settled = count === pending.preCount + pending.rowCount ? 'landed: the checkpoint moves past it' : count === pending.preCount ? 'did not land: it is read again' : 'cannot be told';
    this.deps.log?.(`import job '${this.job.name}' execution ${String(this.executionId)}: the chunk in doubt (${String(pending.rowCount)} rows, ${windowText(pending)}) ${settled}; the window holds ${String(count)} rows, ${String(pending.preCount)} before it`);
    if (count === pending.preCount + pending.rowCount) {
      store.checkpoint(this.executionId, { cursor: pending.cursor, rows: pending.rowCount, rowsRejected: 0, sourceBytes: pending.sourceBytes, maxTimeNs: pending.maxTimeNs, progress: pending.progress });
      this.checkpoint = pending.cursor;
    } else if (count === pending.preCount) {
      store.clearPending(this.executionId);
    } else {
      throw new StepFailed({
        code: ImporterErrorCode.inDoubt,
        message: `a chunk of ${String(pending.rowCount)} rows written before a stop cannot be told landed or not: ${windowText(pending)} holds ${String(count)} rows, neither ${String(pending.preCount)} (before it) nor ${String(pending.preCount + pending.rowCount)} (with it); nothing was written again`,
      });
    }
    this.pending = null;
  }

  /** Reads the source from the checkpoint to the range's end, one chunk written and checkpointed at a time. */
  async copy(connection: SourceConnection): Promise<void> {
    this.throwIfStopped();
    const options: ReadOptions = {
      startNs: this.rangeStartNs,
      endNs: this.rangeEndNs,
      chunkBytesMax: JOB_CHUNK_BYTES_MAX,
      chunkRowsMax: this.job.chunkRows ?? JOB_CHUNK_ROWS_DEFAULT,
      signal: this.signal,
    };
    const reader = await this.deps.openSource(connection, this.job.source, this.checkpoint, options);
    try {
      for (;;) {
        const chunk = await reader.next();
        this.throwIfStopped();
        if (chunk === null) return;
        await this.write(chunk);
        this.throwIfStopped();
      }
    } finally {
      await reader.close();
    }
  }

  private throwIfStopped(): void {
    if (this.signal.aborted) throw new JobRunStopped(stopReasonOf(this.signal));
  }

  private async write(chunk: SourceChunk): Promise<void> {
    if (chunk.rowCount === 0) return;
    const { sink, store } = this.deps;
    const database = this.job.database;
    const mayHoldBuffered = this.newestWrittenNs === null || chunk.minTimeNs <= this.newestWrittenNs;
    const preCount = await this.arcStep(async () => {
      if (mayHoldBuffered) await sink.flush(database, chunk.measurements);
      return sink.countRows(database, chunk.measurements, chunk.minTimeNs, chunk.maxTimeNs);
    });
    const pending: PendingChunk = { cursor: chunk.cursor, minTimeNs: chunk.minTimeNs, maxTimeNs: chunk.maxTimeNs, measurements: chunk.measurements, rowCount: chunk.rowCount, sourceBytes: chunk.sourceBytes, progress: chunk.progress, preCount };
    store.setPending(this.executionId, pending);
    // Not abortable: a cancel waits for this write's verdict, so the checkpoint says where it ended.
    const result = await this.arcStep(() => sink.write(database, chunk.body), ImporterErrorCode.writeFailed);
    store.checkpoint(this.executionId, { cursor: chunk.cursor, rows: result.rows, rowsRejected: result.rejected, sourceBytes: chunk.sourceBytes, maxTimeNs: chunk.maxTimeNs, progress: chunk.progress });
    this.checkpoint = chunk.cursor;
    this.newestWrittenNs = chunk.maxTimeNs;
    this.rowsThisRun += result.rows;
    this.noteRate(chunk.progress);
  }

  /** A step against Arc (count, flush, write); its failure fails the execution with its code. */
  private async arcStep<T>(step: () => Promise<T>, fallbackCode: string = ImporterErrorCode.writeFailed): Promise<T> {
    try {
      return await step();
    } catch (error) {
      throw new StepFailed(errorOf(error, fallbackCode));
    }
  }

  /** Rows per second of this run and the ETA from the progress it made; stored at most every JOB_PROGRESS_WRITE_INTERVAL_MS. */
  private noteRate(progress: number | null): void {
    const now = this.nowMs();
    if (now - this.rateWrittenMs < JOB_PROGRESS_WRITE_INTERVAL_MS) return;
    this.rateWrittenMs = now;
    const elapsedSeconds = Math.max(now - this.startedMs, 1) / 1000;
    const gained = progress === null ? 0 : progress - this.progressAtStart;
    const etaSeconds = progress === null || gained <= 0 ? null : (elapsedSeconds * (1 - progress)) / gained;
    this.deps.store.updateRate(this.executionId, this.rowsThisRun / elapsedSeconds, etaSeconds);
  }
}
