import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import { workerExecArgv, type Config } from '@arc/config';
import { ArcError, ErrorKind, type ArcErrorShape } from '@arc/errors';
import { Doorbell, SpscRing } from '@arc/ring';
import { MeasurementCensus, WRITER_TELEMETRY, WRITER_WORKER_URL, WriterErrorCode, writerIndexFor, type LastCacheRequest, type MainToWriter, type MeasurementEvent, type WriterStats, type WriterToMain, type WriterWorkerData } from '@arc/writer';
import type { DataDeleter } from '@arc/storage';
import type { LastValueTable } from '@arc/columnar';
import { createSyncChannel, createWalStatsBuffer, summarizeWalStats, type RecoveryPlan, type ReplayEntry, type WalStatsSummary } from '@arc/wal';
import { decodeCompletion, encodeRequestHeader, markExternalBody, type Completion, type ReplayPosition, type RequestOptions } from './frames.js';
import type { DecoderWorkerData } from './decoder-worker.js';
import type { WalSyncWorkerData } from './wal-sync-worker.js';
import { ACCEPTOR_IDLE_WAIT_MS, COMPLETION_RING_BYTES, PREFERRED_DECODER_REQUESTS_MAX, SHUTDOWN_FLUSH_RETRY_DELAY_MS, THREAD_STOP_WAIT_MS } from './limits.js';
import type { Logger } from './logger.js';
import { IngestErrorCode } from './ingest-error-codes.js';
import { TelemetryBlock, type BlockOf } from '@arc/telemetry';
import { DECODER_TELEMETRY } from './decoder-telemetry.js';
import { WriteWaitQueue, type WaitingWrite } from './write-wait-queue.js';

const DECODER_WORKER_URL = new URL('../dist/decoder-worker.js', import.meta.url);
const WAL_SYNC_WORKER_URL = new URL('../dist/wal-sync-worker.js', import.meta.url);

export type CompletionHandler = (completion: Completion) => void;

interface DecoderHandle {
  readonly worker: Worker;
  /** With a WAL that syncs: the thread that runs this decoder's syncs. */
  readonly walSyncer: Worker | null;
  readonly requests: SpscRing;
  readonly completions: SpscRing;
  readonly doorbell: Doorbell;
  readonly bodyPort: import('node:worker_threads').MessagePort;
  /** Requests queued on it and not yet answered (what handOverOrder goes by). */
  inFlight: number;
}

/** 'queued': `onDone` will be called; 'busy': the bytes held for writes passed ingest.in_flight_max_mb. */
export type SubmitOutcome = 'queued' | 'busy';

/** How a write that waited for room ended: handed to a decoder (whatever its verdict), or answered 503. */
export type WaitOutcome = 'handed_over' | 'timed_out' | 'stopped';

/**
 * A write from its admission to its answer: parked in the wait queue or with a decoder. Its body
 * is kept until the verdict, since a request refused for full write buffers waits again.
 */
interface HeldWrite extends WaitingWrite {
  readonly options: RequestOptions;
  readonly body: Uint8Array;
  readonly onDone: CompletionHandler;
  /** Milliseconds parked so far, over every wait. */
  waitedMs: number;
  /** When the current wait began (performance.now()); null while not parked. */
  parkedAtMs: number | null;
  /** Whether it ever waited (a wait of 0 ms still counts). */
  waited: boolean;
  /** Flushes ended when it was last handed over: a refusal for full buffers after a later flush is retried at once. */
  flushesEndedAtHandOver: number;
}

/** What a shutdown left behind. */
export interface ShutdownReport {
  /** The last error of the final flush; null when every buffer was flushed. */
  readonly flushError: ArcError | null;
  /** Acknowledged rows the writers still held when they stopped: not in Parquet. */
  readonly rowsUnflushed: number;
  /** Writer threads that did not report before they were terminated: their rows are not counted. */
  readonly writersUnreported: number;
}

/** The first message `accept`s; rejects if the worker fails or exits first (never hangs on a dead thread). */
function waitFor<T>(worker: Worker, accept: (message: T) => boolean): Promise<T> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: T): void => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new Error(`thread exited with code ${code}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** Resolves after `milliseconds`, without keeping the process alive. */
function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds).unref());
}

const decoderFailed = (decoderIndex: number): ArcErrorShape => ({
  kind: ErrorKind.internal,
  code: IngestErrorCode.decoderFailed,
  message: `Decoder thread ${decoderIndex} failed while handling this request; the server is stopping`,
});

const waitTimedOut = (waitMsMax: number, waitingFor: string): ArcErrorShape => ({
  kind: ErrorKind.unavailable,
  code: IngestErrorCode.waitTimedOut,
  message: `The write waited ${waitMsMax} ms (ingest.wait_max_ms) for ${waitingFor}; nothing was written; retry later`,
});

const stoppedWhileWaiting = (): ArcErrorShape => ({
  kind: ErrorKind.unavailable,
  code: IngestErrorCode.stoppedWhileWaiting,
  message: 'The server is stopping; the write was still waiting for room and nothing of it was written',
});

/**
 * How many decoders the acceptor hands requests to first: one per CPU keeps a thread awake across
 * requests instead of waking another per request, with the WAL on or off. When a decoder waited
 * for its own WAL syncs, spreading over every decoder let the syncs overlap (one per CPU made
 * WAL-on ingest 0.74 of WAL-off where spreading gave 0.95: docs/benchmarks.md, "Decoder and
 * writer per-request cost"). Since the syncs run on each decoder's sync thread, one per CPU costs
 * less CPU per row than spreading (0.83 of WAL-off's rows per CPU-second against 0.78 in 3 of 3
 * interleaved pairs) and groups more entries per sync (~2 against ~1.1): docs/benchmarks.md,
 * "WAL on vs off", 2026-12-06. A preferred decoder whose syncs lag has requests in flight, and
 * the others take the overflow (PREFERRED_DECODER_REQUESTS_MAX).
 */
export function preferredDecoders(): number {
  return availableParallelism();
}

/**
 * The main thread's side of ingestion: starts the writer and decoder threads, wires a port
 * between every decoder and every writer, hands request bodies to decoders through their rings
 * (first to one decoder per CPU, up to PREFERRED_DECODER_REQUESTS_MAX each, then round-robin,
 * skipping full rings; a write no ring or buffer can take yet waits in a bounded queue) and
 * delivers their verdicts from the completion rings.
 */
export class IngestPipeline {
  private readonly config: Config;
  private readonly log: Logger;
  private readonly decoders: DecoderHandle[] = [];
  private readonly writers: Worker[] = [];
  private readonly acceptorDoorbell = Doorbell.create();
  private readonly census: MeasurementCensus;
  private readonly waiting = new Map<number, { readonly decoderIndex: number; readonly onDone: CompletionHandler }>();
  private readonly controlReplies = new Map<number, { readonly writer: Worker; readonly resolve: (message: WriterToMain | null) => void }>();
  private readonly fatalListeners: ((reason: string) => void)[] = [];
  private stopping = false;
  private readonly measurementListeners: ((events: readonly MeasurementEvent[]) => void)[] = [];
  private nextRequestId = 1;
  private nextControlId = 1;
  private nextDecoder = 0;
  /** Decoders handOver prefers (preferredDecoders); the rest take the overflow. */
  private readonly preferredDecoderCount: number;
  /** Where the search for the least busy preferred decoder starts (ties take turns). */
  private nextPreferredDecoder = 0;
  /** Writes waiting for room, and the bytes of every write not yet answered (ingest.in_flight_max_mb). */
  private readonly writesWaiting: WriteWaitQueue<HeldWrite>;
  private nextArrivalSeq = 0;
  /** A write came back refused for full write buffers and no flush has ended since: the queue waits for one. */
  private buffersFull = false;
  /** Flushes the writers reported as ended (their rows left the buffers). */
  private flushesEnded = 0;
  /** One timer, for the oldest waiting write's deadline (the earliest). */
  private deadlineTimer: NodeJS.Timeout | null = null;
  private deadlineTimerAtMs: number | null = null;
  private readonly waitListeners: ((waitedMs: number, outcome: WaitOutcome) => void)[] = [];
  /** Callers waiting for room after a 'busy' (whenRoom). */
  private roomWaiters: (() => void)[] = [];
  private draining = true;
  private drainLoop: Promise<void> = Promise.resolve();
  /** The threads' metrics, one block per thread, read at scrape time (null before the threads start). */
  #telemetry: { readonly decoders: BlockOf<typeof DECODER_TELEMETRY>; readonly writers: BlockOf<typeof WRITER_TELEMETRY> } | null = null;
  /** With the WAL on: what recovery found, and one stats buffer per decoder (= WAL stream). */
  private readonly walPlan: RecoveryPlan | null;
  readonly walStatsBuffers: SharedArrayBuffer[] = [];
  /** Removes a deleted name's files once the writers dropped what they buffered of it. */
  private readonly deleter: DataDeleter;
  /** Names with a delete in progress ("database/" or "database/measurement"). */
  private readonly deletesInProgress = new Set<string>();

  private constructor(config: Config, log: Logger, walPlan: RecoveryPlan | null, deleter: DataDeleter) {
    this.config = config;
    this.preferredDecoderCount = preferredDecoders();
    this.log = log;
    this.walPlan = walPlan;
    this.deleter = deleter;
    this.census = MeasurementCensus.create(config.storage.parquetRoot);
    this.writesWaiting = new WriteWaitQueue(config.ingest.inFlightBytesMax);
  }

  /**
   * `walPlan`: the recovery plan when the WAL is on (decoders continue each stream's seqs).
   * `deleter`: where deletes of databases and measurements end (storage).
   */
  static async start(config: Config, log: Logger, walPlan: RecoveryPlan | null, deleter: DataDeleter): Promise<IngestPipeline> {
    assert.equal(walPlan !== null, config.wal.enabled, 'a recovery plan exactly when the WAL is on');
    const pipeline = new IngestPipeline(config, log, walPlan, deleter);
    await pipeline.startThreads();
    pipeline.drainLoop = pipeline.drainCompletions();
    return pipeline;
  }

  get decoderCount(): number {
    return this.decoders.length;
  }

  get writerCount(): number {
    return this.writers.length;
  }

  /** Requests not yet answered: with a decoder, or waiting for room. */
  get inFlight(): number {
    return this.waiting.size + this.writesWaiting.parkedCount;
  }

  /** Writes waiting for a decoder ring or for write buffers to drain. */
  get writesParked(): number {
    return this.writesWaiting.parkedCount;
  }

  /** Body bytes of writes not yet answered (waiting plus with a decoder), bounded by ingest.in_flight_max_mb. */
  get writeBytesHeld(): number {
    return this.writesWaiting.bytesHeld;
  }

  /** A write that waited for room left the wait: how long it waited in all, and how it left. */
  onWaitEnded(listener: (waitedMs: number, outcome: WaitOutcome) => void): void {
    this.waitListeners.push(listener);
  }

  /** The decoders' and the writers' telemetry blocks (block index = thread index). */
  get telemetry(): { readonly decoders: BlockOf<typeof DECODER_TELEMETRY>; readonly writers: BlockOf<typeof WRITER_TELEMETRY> } {
    assert.ok(this.#telemetry !== null, 'the threads have started');
    return this.#telemetry;
  }

  /** How full each decoder's request ring is, 0 to 1 (index = decoder index). */
  ringUsedRatios(): number[] {
    return this.decoders.map((decoder) => decoder.requests.usedBytes() / decoder.requests.capacityBytes);
  }

  /**
   * Writers' news about measurements, in order per writer and in batches: new files are in place
   * ('flushed'), buffered rows of a (database, measurement) got a new schema ('schema': a new
   * measurement, a new column). A batch may hold thousands of events: listeners do O(1) work each.
   */
  onMeasurementEvents(listener: (events: readonly MeasurementEvent[]) => void): void {
    this.measurementListeners.push(listener);
  }

  /**
   * A thread died (a programmer error: decoders and writers turn bad input and failed flushes
   * into values). Its waiting requests have been answered with 500; the owner should stop.
   */
  onFatal(listener: (reason: string) => void): void {
    this.fatalListeners.push(listener);
  }

  private threadDied(name: string, code: number, decoderIndex: number | null): void {
    if (this.stopping) return;
    const reason = `${name} exited unexpectedly (code ${code})`;
    this.log.error(reason);
    if (decoderIndex !== null) {
      for (const [requestId, waiting] of this.waiting) {
        if (waiting.decoderIndex !== decoderIndex) continue;
        this.waiting.delete(requestId);
        const decoder = this.decoders[decoderIndex];
        assert.ok(decoder !== undefined, 'a waiting request names a started decoder');
        decoder.inFlight--;
        waiting.onDone({ requestId, rowCount: 0, error: decoderFailed(decoderIndex) });
      }
    }
    for (const listener of this.fatalListeners) listener(reason);
  }

  /**
   * Hands one request body to a decoder, or parks it until a ring has room (a decoder answered)
   * and the write buffers can take it (a flush ended): first come, first served, each for at most
   * ingest.wait_max_ms. `onDone` is called exactly once, with the verdict (503
   * ARC_INGEST_WAIT_TIMEOUT after the wait). 'busy' means the bytes held for writes would pass
   * ingest.in_flight_max_mb (or the pipeline is stopping): nothing was queued and `onDone` will
   * not be called.
   */
  submit(options: RequestOptions, body: Uint8Array, onDone: CompletionHandler): SubmitOutcome {
    if (this.stopping || !this.writesWaiting.admit(body.byteLength)) return 'busy';
    const nowMs = performance.now();
    const held: HeldWrite = {
      options,
      body,
      onDone,
      bytes: body.byteLength,
      arrivalSeq: this.nextArrivalSeq++,
      deadlineMs: nowMs + this.config.ingest.waitMsMax,
      waitedMs: 0,
      parkedAtMs: null,
      waited: false,
      flushesEndedAtHandOver: 0,
    };
    // Behind writes already waiting (first come, first served), and not into full buffers.
    if (this.writesWaiting.parkedCount > 0 || this.buffersFull || !this.handOver(held)) this.park(held, nowMs);
    return 'queued';
  }

  /** Queues a held write on a decoder with room (handOverOrder); false when every ring is full. */
  private handOver(held: HeldWrite): boolean {
    const decoderIndex = this.queue(held.options, held.body, null, this.handOverOrder(), (completion) => this.settle(held, completion));
    if (decoderIndex === null) return false;
    held.flushesEndedAtHandOver = this.flushesEnded;
    return true;
  }

  /**
   * The decoders to try, in order: first the least busy of the preferred ones (one per CPU, the
   * lowest indexes; ties in turn) while it holds fewer than PREFERRED_DECODER_REQUESTS_MAX requests, so that
   * each CPU keeps one decoder thread awake across requests instead of every request waking
   * another thread; then the extra decoders round-robin (they take the overflow: a burst, a
   * decoder blocked in a WAL sync), then the other preferred ones.
   */
  private handOverOrder(): number[] {
    const count = this.decoders.length;
    const preferredCount = Math.min(this.preferredDecoderCount, count);
    let preferred = -1;
    let preferredInFlight = PREFERRED_DECODER_REQUESTS_MAX;
    // Ties go round-robin: requests one at a time still take turns (and WAL streams with them).
    for (let attempt = 0; attempt < preferredCount; attempt++) {
      const decoderIndex = (this.nextPreferredDecoder + attempt) % preferredCount;
      const decoder = this.decoders[decoderIndex];
      assert.ok(decoder !== undefined);
      if (decoder.worker.threadId < 0 || decoder.inFlight >= preferredInFlight) continue;
      preferred = decoderIndex;
      preferredInFlight = decoder.inFlight;
    }
    if (preferred >= 0) this.nextPreferredDecoder = (preferred + 1) % preferredCount;
    const order = preferred < 0 ? [] : [preferred];
    // The extra decoders round-robin, then the preferred ones (full to their share, or dead).
    for (let attempt = 0; attempt < count; attempt++) {
      const decoderIndex = (this.nextDecoder + attempt) % count;
      if (decoderIndex >= preferredCount) order.push(decoderIndex);
    }
    for (let decoderIndex = 0; decoderIndex < preferredCount; decoderIndex++) if (decoderIndex !== preferred) order.push(decoderIndex);
    this.nextDecoder = (this.nextDecoder + 1) % count;
    return order;
  }

  private park(held: HeldWrite, nowMs: number): void {
    held.parkedAtMs = nowMs;
    held.waited = true;
    this.writesWaiting.park(held);
    this.armDeadline();
  }

  /** Ends a held write's current wait (it was handed over or is being answered). */
  private unpark(held: HeldWrite, nowMs: number): void {
    assert.ok(held.parkedAtMs !== null, 'a parked write');
    held.waitedMs += nowMs - held.parkedAtMs;
    held.parkedAtMs = null;
  }

  /**
   * A decoder's verdict on a held write. A refusal for full write buffers wrote nothing (a request
   * is all or nothing, and its WAL entry is cancelled), so the write waits again in its arrival
   * place until a flush ends; the other verdicts are the answer.
   */
  private settle(held: HeldWrite, completion: Completion): void {
    if (completion.error?.code === WriterErrorCode.buffersFull && !this.stopping) {
      const nowMs = performance.now();
      if (nowMs < held.deadlineMs) {
        // A flush that ended since the hand-over may have made the room already: retry at once.
        if (this.flushesEnded === held.flushesEndedAtHandOver) this.buffersFull = true;
        this.park(held, nowMs);
        this.pump();
        return;
      }
      this.finish(held, { requestId: completion.requestId, rowCount: 0, error: waitTimedOut(this.config.ingest.waitMsMax, 'the write buffers to drain') }, 'timed_out');
      this.retryWithoutFlush();
      return;
    }
    this.finish(held, completion, 'handed_over');
  }

  /** Answers a held write: its bytes are released and a wait, if any, is reported. */
  private finish(held: HeldWrite, completion: Completion, outcome: WaitOutcome): void {
    assert.ok(held.parkedAtMs === null, 'a write is answered after its wait ended');
    this.writesWaiting.release(held.bytes);
    if (held.waited) for (const listener of this.waitListeners) listener(held.waitedMs, outcome);
    held.onDone(completion);
    this.wakeRoomWaiters();
  }

  /**
   * Resolves when a write held by the pipeline is answered (its bytes no longer count against
   * ingest.in_flight_max_mb), or at once while stopping: what a caller whose `submit` answered
   * 'busy' waits on before offering again (the imports), instead of polling on a timer.
   */
  whenRoom(): Promise<void> {
    if (this.stopping || this.writesWaiting.bytesHeld === 0) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Hands waiting writes over, oldest first, while rings take them and the buffers are not known
   * to be full. Runs on the events that make room: a decoder's verdict (its ring has drained),
   * a writer's flush ending (its buffers have), a write coming back.
   */
  private pump(): void {
    if (this.stopping) return;
    for (let held = this.writesWaiting.peek(); held !== undefined && !this.buffersFull; held = this.writesWaiting.peek()) {
      if (!this.handOver(held)) break;
      this.writesWaiting.shift();
      this.unpark(held, performance.now());
    }
    this.armDeadline();
  }

  /**
   * A timer for the oldest waiting write's deadline: a deadline is a moment, not an event any
   * thread signals, so this is the one wait here that needs a clock.
   */
  private armDeadline(): void {
    const deadlineMs = this.writesWaiting.nextDeadlineMs();
    if (deadlineMs === this.deadlineTimerAtMs) return;
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlineTimerAtMs = deadlineMs;
    if (deadlineMs === null) return;
    this.deadlineTimer = setTimeout(() => this.expireWaits(), Math.max(0, Math.ceil(deadlineMs - performance.now())));
    this.deadlineTimer.unref();
  }

  /** Answers 503 to every write whose deadline has passed. */
  private expireWaits(): void {
    this.deadlineTimer = null;
    this.deadlineTimerAtMs = null;
    const nowMs = performance.now();
    const expired = this.writesWaiting.takeExpired(nowMs);
    for (const held of expired) {
      this.unpark(held, nowMs);
      const waitingFor = this.buffersFull ? 'the write buffers to drain' : 'a decoder ring';
      this.finish(held, { requestId: 0, rowCount: 0, error: waitTimedOut(this.config.ingest.waitMsMax, waitingFor) }, 'timed_out');
    }
    if (expired.length > 0 && this.buffersFull) this.retryWithoutFlush();
    this.armDeadline();
  }

  /**
   * A write timed out waiting for a flush that never ended: the buffers may have room that no
   * flush announced (a refused batch larger than a writer's share, a prepared request aborted),
   * so the next writes are tried rather than left to wait for an event that may not come.
   */
  private retryWithoutFlush(): void {
    this.buffersFull = false;
    this.pump();
  }

  /** A stop: every waiting write is answered 503 (nothing of it was written). */
  private answerWaiting(): void {
    const nowMs = performance.now();
    for (const held of this.writesWaiting.takeAll()) {
      this.unpark(held, nowMs);
      this.finish(held, { requestId: 0, rowCount: 0, error: stoppedWhileWaiting() }, 'stopped');
    }
    this.armDeadline();
  }

  /** A writer's flush ended: its buffers have room again. */
  private flushEnded(): void {
    this.flushesEnded++;
    this.buffersFull = false;
    this.pump();
  }

  /** Queues on the first decoder of `order` with room; its index, or null. */
  private queue(options: RequestOptions, body: Uint8Array, replay: ReplayPosition | null, order: readonly number[], onDone: CompletionHandler): number | null {
    const requestId = this.nextRequestId;
    this.nextRequestId = (this.nextRequestId % 0xfffffffe) + 1;
    // Every ring has the same capacity, so the header is built once for all attempts.
    const header = encodeRequestHeader(requestId, false, options, replay);
    const external = header.byteLength + body.byteLength > this.framePayloadBytesMax;
    if (external) markExternalBody(header);
    for (const decoderIndex of order) {
      const decoder = this.decoders[decoderIndex];
      assert.ok(decoder !== undefined);
      if (decoder.worker.threadId < 0) continue; // a dead decoder's ring is never read again
      if (this.tryQueue(decoder, header, external, body)) {
        this.waiting.set(requestId, { decoderIndex, onDone });
        decoder.inFlight++;
        decoder.doorbell.ring();
        return decoderIndex;
      }
    }
    return null;
  }

  /**
   * Queues one WAL entry on the decoder of its stream's residue (one decoder per stream keeps a
   * stream's entries in seq order); resolves with the verdict, or null when that ring was full.
   * What to do with a refusal is recovery's business (wal-recovery.ts).
   */
  replayOnce(entry: ReplayEntry, options: RequestOptions): Promise<Completion | null> {
    const decoderIndex = entry.stream % this.decoders.length;
    return new Promise<Completion | null>((resolve) => {
      if (this.queue(options, entry.envelope.body, entry, [decoderIndex], resolve) === null) resolve(null);
    });
  }

  /** A database was deleted: its measurements are counted afresh (ingest.max_measurements_per_database). */
  forgetDatabase(database: string): void {
    this.census.forget(database);
  }

  /**
   * Deletes a database through the writers, then storage: while it runs, writes to it are refused
   * with ARC_BEING_DELETED (409); requests prepared before it are settled first; the writers drop
   * its buffered rows (none is flushed after the files go); then the deleter removes the files.
   * Null once done, else why nothing (or not everything) was deleted.
   */
  deleteDatabase(database: string): Promise<ArcError | null> {
    return this.deleteThroughWriters(database, null, () => this.deleter.deleteDatabase(database));
  }

  /** deleteDatabase for one measurement of a database. */
  deleteMeasurement(database: string, measurement: string): Promise<ArcError | null> {
    return this.deleteThroughWriters(database, measurement, () => this.deleter.deleteMeasurement(database, measurement));
  }

  private async deleteThroughWriters(database: string, measurement: string | null, remove: () => Promise<unknown>): Promise<ArcError | null> {
    // The database itself (measurement null) or one of its measurements: names hold no '/'.
    const name = measurement === null ? database : `${database}/${measurement}`;
    if (this.deletesInProgress.has(name)) {
      return new ArcError(ErrorKind.conflict, IngestErrorCode.deleteInProgress, `A delete of '${name}' is already running; wait for it to finish`, { database, ...(measurement === null ? {} : { measurement }) });
    }
    this.deletesInProgress.add(name);
    try {
      const replies = await Promise.all(this.writers.map((writer) => this.askWriter(writer, (requestId) => ({ kind: 'delete-begin', requestId, database, measurement }))));
      for (const reply of replies) {
        if (reply === null) return new ArcError(ErrorKind.internal, IngestErrorCode.writerFailed, 'A writer thread failed; nothing was deleted');
        if (reply.kind === 'delete-ready' && reply.error !== null) return ArcError.fromShape(reply.error);
      }
      await remove();
      return null;
    } catch (error) {
      return new ArcError(ErrorKind.internal, IngestErrorCode.deleteFailed, `The writers dropped the rows of '${name}' but its files could not all be removed: ${(error as Error).message}`);
    } finally {
      for (const writer of this.writers) {
        if (writer.threadId >= 0) writer.postMessage({ kind: 'delete-end', database, measurement } satisfies MainToWriter);
      }
      this.deletesInProgress.delete(name);
    }
  }

  /** Rings every decoder's doorbell (they notice a requested WAL rotation without waiting). */
  wakeDecoders(): void {
    for (const decoder of this.decoders) decoder.doorbell.ring();
  }

  /** Counters of every WAL stream together (zeros with the WAL off). */
  walStats(): WalStatsSummary {
    return summarizeWalStats(this.walStatsBuffers);
  }

  private tryQueue(decoder: DecoderHandle, header: Uint8Array, external: boolean, body: Uint8Array): boolean {
    if (!external) return decoder.requests.tryWrite([header, body]);
    // Too large for a frame: the body travels as a transferred ArrayBuffer on the body port,
    // posted before the frame is published (room is checked first; only we add to the ring).
    if (!decoder.requests.hasRoomFor(header.byteLength)) return false;
    const copy = new Uint8Array(body.byteLength);
    copy.set(body);
    decoder.bodyPort.postMessage(copy.buffer, [copy.buffer]);
    assert.ok(decoder.requests.tryWrite([header]), 'room was checked');
    return true;
  }

  /** Largest frame payload of the decoder rings (all rings are created with one capacity). */
  private get framePayloadBytesMax(): number {
    const first = this.decoders[0];
    assert.ok(first !== undefined, 'the pipeline has decoders');
    return first.requests.payloadBytesMax;
  }


  /** Flushes every writer's buffers; resolves when the files are durable (or a flush failed). */
  async flushAll(): Promise<ArcError | null> {
    const replies = await Promise.all(this.writers.map((writer) => this.askWriter(writer, (requestId) => ({ kind: 'flush-all', requestId }))));
    for (const reply of replies) {
      if (reply === null) return new ArcError(ErrorKind.internal, IngestErrorCode.writerFailed, 'A writer thread failed; its buffered rows could not be flushed');
      if (reply.kind === 'flush-all-done' && reply.error !== null) return ArcError.fromShape(reply.error);
    }
    return null;
  }

  /**
   * Flushes the buffered rows of one (database, measurement): only the writer owning the name is
   * asked, and other measurements stay buffered. Resolves when its files are durable and the WAL's
   * flush journal covers them (or a flush failed).
   */
  async flushMeasurement(database: string, measurement: string): Promise<ArcError | null> {
    const writer = this.writers[writerIndexFor(database, measurement, this.writers.length)];
    assert.ok(writer !== undefined, 'the owning writer exists');
    const reply = await this.askWriter(writer, (requestId) => ({ kind: 'flush-measurement', requestId, database, measurement }));
    if (reply === null) return new ArcError(ErrorKind.internal, IngestErrorCode.writerFailed, `A writer thread failed; the buffered rows of '${database}.${measurement}' could not be flushed`);
    return reply.kind === 'flush-done' && reply.error !== null ? ArcError.fromShape(reply.error) : null;
  }

  /**
   * A request about the last-value caches of (database, measurement), to the writer owning it
   * (writer-messages.ts LastCacheRequest); null when that writer is dead.
   */
  async lastCache(database: string, measurement: string, request: LastCacheRequest): Promise<readonly LastValueTable[] | null> {
    const writer = this.writers[writerIndexFor(database, measurement, this.writers.length)];
    assert.ok(writer !== undefined, 'the owning writer exists');
    const reply = await this.askWriter(writer, (requestId) => ({ kind: 'last-cache', requestId, request }));
    return reply?.kind === 'last-cache-done' ? reply.tables : null;
  }

  async writerStats(): Promise<WriterStats[]> {
    const replies = await Promise.all(this.writers.map((writer) => this.askWriter(writer, (requestId) => ({ kind: 'stats', requestId }))));
    return replies.flatMap((reply) => (reply?.kind === 'stats' ? [reply.stats] : []));
  }

  /**
   * Stops the decoders once their rings are empty, flushes and stops the writers. Every wait is
   * bounded: a failing flush is retried for `server.shutdown_flush_retry_seconds`, and a thread
   * that does not answer within THREAD_STOP_WAIT_MS is terminated.
   */
  async shutdown(): Promise<ShutdownReport> {
    this.stopping = true;
    this.answerWaiting();
    this.wakeRoomWaiters();
    await Promise.all(
      this.decoders.map((decoder) => {
        const closed = waitFor<{ kind: string }>(decoder.worker, (message) => message.kind === 'closed');
        decoder.requests.close();
        decoder.doorbell.ring();
        return Promise.race([closed.catch(() => undefined), delay(THREAD_STOP_WAIT_MS)]);
      }),
    );
    this.draining = false;
    this.acceptorDoorbell.ring();
    await this.drainLoop;
    this.drainOnce();
    const flushError = await this.finalFlush(this.config.server.shutdownFlushRetrySeconds * 1000);
    const left = await this.stopWriters();
    const decoderThreads = this.decoders.flatMap((decoder) => (decoder.walSyncer === null ? [decoder.worker] : [decoder.worker, decoder.walSyncer]));
    await Promise.all([...this.writers, ...decoderThreads].map((worker) => worker.terminate()));
    return { flushError, ...left };
  }

  /**
   * Flushes every writer, retrying a failure until `retryMs` have passed: a full disk being
   * cleared must not turn a stop into lost rows. A dead writer is not retried (its rows are gone).
   */
  private async finalFlush(retryMs: number): Promise<ArcError | null> {
    const deadline = performance.now() + retryMs;
    for (;;) {
      const error = await this.flushAll();
      if (error === null) return null;
      const leftMs = deadline - performance.now();
      if (leftMs <= 0 || error.code === IngestErrorCode.writerFailed) return error;
      this.log.warn(`final flush failed (${error.code}), retrying for up to ${Math.ceil(leftMs / 1000)} s more: ${error.message}`);
      await delay(Math.min(SHUTDOWN_FLUSH_RETRY_DELAY_MS, leftMs));
    }
  }

  /** Asks every writer to stop; sums the rows they still held (the writers that answered). */
  private async stopWriters(): Promise<{ rowsUnflushed: number; writersUnreported: number }> {
    const replies = await Promise.all(
      this.writers.map((writer) => {
        const closed = waitFor<WriterToMain>(writer, (message) => message.kind === 'closed');
        writer.postMessage({ kind: 'shutdown' } satisfies MainToWriter);
        return Promise.race([closed.catch(() => null), delay(THREAD_STOP_WAIT_MS).then(() => null)]);
      }),
    );
    let rowsUnflushed = 0;
    let writersUnreported = 0;
    for (const reply of replies) {
      if (reply?.kind === 'closed') rowsUnflushed += reply.rowsUnflushed;
      else writersUnreported++;
    }
    return { rowsUnflushed, writersUnreported };
  }

  /** Sends a control message; resolves with the reply, or null when the writer is dead or dies. */
  private askWriter(writer: Worker, build: (requestId: number) => MainToWriter): Promise<WriterToMain | null> {
    if (writer.threadId < 0) return Promise.resolve(null);
    const requestId = this.nextControlId++;
    return new Promise((resolve) => {
      this.controlReplies.set(requestId, { writer, resolve });
      writer.postMessage(build(requestId));
    });
  }

  private forgetWriterReplies(writer: Worker): void {
    for (const [requestId, pending] of this.controlReplies) {
      if (pending.writer !== writer) continue;
      this.controlReplies.delete(requestId);
      pending.resolve(null);
    }
  }

  private async startThreads(): Promise<void> {
    const { writer: writerConfig, ingest } = this.config;
    const decoderCount = ingest.decoders;
    const writerCount = writerConfig.threads;
    const decoderDoorbells = Array.from({ length: decoderCount }, () => Doorbell.create());
    const telemetry = { decoders: TelemetryBlock.create(DECODER_TELEMETRY, decoderCount), writers: TelemetryBlock.create(WRITER_TELEMETRY, writerCount) };
    this.#telemetry = telemetry;
    // channels[d][w]: port1 for decoder d, port2 for writer w.
    const channels = Array.from({ length: decoderCount }, () => Array.from({ length: writerCount }, () => new MessageChannel()));
    const writerReady: Promise<WriterToMain>[] = [];
    for (let writerIndex = 0; writerIndex < writerCount; writerIndex++) {
      const decoderPorts = channels.map((row) => row[writerIndex]?.port2).filter((port) => port !== undefined);
      const workerData: WriterWorkerData = {
        writerIndex,
        writerCount,
        config: this.config,
        decoderPorts,
        decoderDoorbells: decoderDoorbells.map((doorbell) => doorbell.shared),
        census: this.census.shared,
        telemetry: telemetry.writers.shared,
      };
      const worker = new Worker(WRITER_WORKER_URL, {
        workerData,
        transferList: [...decoderPorts],
        name: `arc-writer-${writerIndex}`,
        execArgv: workerExecArgv(),
      });
      worker.on('message', (message: WriterToMain) => this.onWriterMessage(message));
      worker.on('error', (error) => this.log.error(`writer ${writerIndex} crashed: ${error.stack ?? error.message}`));
      worker.on('exit', (code) => {
        this.forgetWriterReplies(worker);
        this.threadDied(`writer ${writerIndex}`, code, null);
      });
      writerReady.push(waitFor<WriterToMain>(worker, (message) => message.kind === 'ready' || message.kind === 'init-failed'));
      this.writers.push(worker);
    }
    for (const reply of await Promise.all(writerReady)) {
      if (reply.kind === 'init-failed') throw new Error(reply.message);
    }
    const decoderReady: Promise<unknown>[] = [];
    for (let decoderIndex = 0; decoderIndex < decoderCount; decoderIndex++) {
      const handle = this.startDecoder(decoderIndex, decoderDoorbells[decoderIndex], channels[decoderIndex], telemetry.decoders.shared);
      decoderReady.push(waitFor<{ kind: string }>(handle.worker, (message) => message.kind === 'ready'));
      this.decoders.push(handle);
    }
    await Promise.all(decoderReady);
  }

  private startDecoder(decoderIndex: number, doorbell: Doorbell | undefined, row: MessageChannel[] | undefined, telemetry: SharedArrayBuffer): DecoderHandle {
    assert.ok(doorbell !== undefined && row !== undefined);
    const requests = SpscRing.create(this.config.ingest.ringBytes);
    const completions = SpscRing.create(COMPLETION_RING_BYTES);
    const bodyChannel = new MessageChannel();
    const writerPorts = row.map((channel) => channel.port1);
    const walStats = createWalStatsBuffer();
    if (this.walPlan !== null) this.walStatsBuffers.push(walStats);
    const syncChannel = this.walPlan === null || this.config.wal.syncMode === 'async' ? null : createSyncChannel();
    const workerData: DecoderWorkerData = {
      decoderIndex,
      config: this.config,
      wal:
        this.walPlan === null
          ? null
          : { nextSeq: this.walPlan.nextSeqByStream.get(decoderIndex) ?? 1, stats: walStats, coverage: new Map(this.walPlan.coverage), syncChannel },
      requestRing: requests.shared,
      completionRing: completions.shared,
      doorbell: doorbell.shared,
      acceptorDoorbell: this.acceptorDoorbell.shared,
      bodyPort: bodyChannel.port2,
      writerPorts,
      telemetry,
    };
    const worker = new Worker(DECODER_WORKER_URL, {
      workerData,
      transferList: [bodyChannel.port2, ...writerPorts],
      name: `arc-decoder-${decoderIndex}`,
      execArgv: workerExecArgv(),
    });
    worker.on('error', (error) => this.log.error(`decoder ${decoderIndex} crashed: ${error.stack ?? error.message}`));
    worker.on('exit', (code) => this.threadDied(`decoder ${decoderIndex}`, code, decoderIndex));
    const walSyncer = syncChannel === null ? null : this.startWalSyncer(decoderIndex, syncChannel, doorbell);
    return { worker, walSyncer, requests, completions, doorbell, bodyPort: bodyChannel.port1, inFlight: 0 };
  }

  /** The thread that runs a decoder's WAL syncs while the decoder decodes on (wal-sync-worker.ts). */
  private startWalSyncer(decoderIndex: number, channel: SharedArrayBuffer, decoderDoorbell: Doorbell): Worker {
    const workerData: WalSyncWorkerData = { channel, decoderDoorbell: decoderDoorbell.shared, syncMode: this.config.wal.syncMode };
    const worker = new Worker(WAL_SYNC_WORKER_URL, { workerData, name: `arc-wal-sync-${decoderIndex}`, execArgv: workerExecArgv() });
    worker.on('error', (error) => this.log.error(`WAL sync thread ${decoderIndex} crashed: ${error.stack ?? error.message}`));
    // It ends on its own only once its decoder closed the stream (shutdown); before that, the decoder's syncs would never end.
    worker.on('exit', (code) => this.threadDied(`WAL sync thread ${decoderIndex}`, code, decoderIndex));
    return worker;
  }

  private onWriterMessage(message: WriterToMain): void {
    switch (message.kind) {
      case 'measurements':
        for (const listener of this.measurementListeners) listener(message.events);
        if (message.events.some((event) => event.kind === 'flushed')) this.flushEnded();
        return;
      case 'flush-all-done':
      case 'flush-done':
      case 'delete-ready':
      case 'last-cache-done':
      case 'stats': {
        const pending = this.controlReplies.get(message.requestId);
        this.controlReplies.delete(message.requestId);
        pending?.resolve(message);
        return;
      }
      case 'log':
        this.log[message.level](message.message);
        return;
      default:
        return;
    }
  }

  private async drainCompletions(): Promise<void> {
    while (this.draining) {
      const seen = this.acceptorDoorbell.current();
      this.drainOnce();
      await this.acceptorDoorbell.wait(seen, ACCEPTOR_IDLE_WAIT_MS);
    }
  }

  private drainOnce(): void {
    for (const decoder of this.decoders) {
      for (let frame = decoder.completions.peek(); frame !== null; frame = decoder.completions.peek()) {
        const completion = decodeCompletion(frame);
        decoder.completions.release();
        const waiting = this.waiting.get(completion.requestId);
        assert.ok(waiting !== undefined, 'a completion answers a waiting request');
        this.waiting.delete(completion.requestId);
        decoder.inFlight--;
        waiting.onDone(completion);
      }
    }
    // Verdicts mean rings have drained: waiting writes may fit now.
    this.pump();
  }
}

