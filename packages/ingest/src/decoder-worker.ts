import assert from 'node:assert/strict';
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { BatchBufferPool, type ColumnBatch } from '@arc/columnar';
import { type Config } from '@arc/config';
import { ArcError, ErrorKind, type ArcErrorShape } from '@arc/errors';
import { Doorbell, SpscRing } from '@arc/ring';
import { coverageKey, coveredSeqOf, encodeCancelEntry, encodeRequestEntry, requestEntryParts, ThreadSyncRunner, walStatsCells, WalStream, type RequestEnvelope } from '@arc/wal';
import { writerIndexFor, type DecoderToWriter, type WalPosition, type WriterToDecoder, type WriterVerdict } from '@arc/writer';
import { COMPLETION_FRAME_BYTES_MAX, decodeRequestHeader, encodeCompletion, precisionCode, type Completion, type RequestHeader } from './frames.js';
import { RequestDecoder } from './request-decoder.js';
import { DECODER_IDLE_WAIT_MS, DECODER_PENDING_REQUESTS_MAX, EXTERNAL_BODY_WAIT_MS_MAX } from './limits.js';
import { IngestErrorCode } from './ingest-error-codes.js';
import { WalErrorCode } from '@arc/wal';
import { PolledVitals, TelemetryBlock, type CounterCell, type GaugeCell } from '@arc/telemetry';
import { DECODER_TELEMETRY } from './decoder-telemetry.js';

/** What the main thread hands a decoder thread at start. */
export interface DecoderWorkerData {
  readonly decoderIndex: number;
  readonly config: Config;
  readonly requestRing: SharedArrayBuffer;
  readonly completionRing: SharedArrayBuffer;
  readonly doorbell: SharedArrayBuffer;
  readonly acceptorDoorbell: SharedArrayBuffer;
  /** Large bodies arrive here as transferred ArrayBuffers, in frame order. */
  readonly bodyPort: MessagePort;
  /** One port per writer (index = writer index). */
  readonly writerPorts: readonly MessagePort[];
  /** With the WAL on: this decoder's stream (its index). */
  readonly wal: DecoderWalSetup | null;
  /** The decoders' telemetry buffer (DECODER_TELEMETRY); this thread writes block `decoderIndex`. */
  readonly telemetry: SharedArrayBuffer;
}

export interface DecoderWalSetup {
  /** First seq this stream may use (recovery: above every seq already used). */
  readonly nextSeq: number;
  /** This stream's counters (createWalStatsBuffer). */
  readonly stats: SharedArrayBuffer;
  /** coverageKey -> seq already in durable Parquet, at start: replayed rows at or below are skipped. */
  readonly coverage: ReadonlyMap<string, number>;
  /** The channel to this stream's sync thread (createSyncChannel); null in the async mode (no syncs). */
  readonly syncChannel: SharedArrayBuffer | null;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(milliseconds: number): void {
  Atomics.wait(sleepCell, 0, 0, milliseconds);
}

interface PendingRequest {
  readonly requestId: number;
  readonly rowCount: number;
  readonly writerIndexes: readonly number[];
  /** Sent as prepare (commit or abort follows), not as a one-step append. */
  readonly prepared: boolean;
  awaiting: number;
  error: ArcErrorShape | null;
  /** WAL on, a new request: its entry, logged once every writer said yes. */
  readonly walEntry: Uint8Array | null;
  /** "database/measurement" of its batches (what its WAL entry touches). */
  readonly keys: readonly string[];
  /** A replayed entry: committed with its original position, never logged again. */
  readonly replay: WalPosition | null;
  /** A one-writer request appended after its entry was logged at this seq: a refusal cancels it. */
  readonly loggedSeq: number | null;
}

/**
 * What waits in the WAL's pending group for its write and sync:
 * - `prepared`: a multi-writer request every writer prepared; commit (or abort) follows the sync;
 * - `append`: a one-writer request, logged before any writer saw it; its `append` follows the sync;
 * - `cancel`: a cancel entry for a logged one-writer request its writer refused; the refusal is
 *   answered once the cancel is durable, so replay never applies a refused request.
 */
type LoggedRequest =
  | { readonly kind: 'prepared'; readonly txnId: number; readonly request: PendingRequest; readonly seq: number }
  | { readonly kind: 'append'; readonly seq: number; readonly requestId: number; readonly writerIndex: number; readonly batches: ColumnBatch[]; readonly rowCount: number }
  | { readonly kind: 'cancel'; readonly requestId: number; readonly error: ArcErrorShape };

/** A new request's WAL entry, before it is encoded (its body still in the ring frame). */
interface WalRequest {
  readonly timestampUs: number;
  readonly envelope: RequestEnvelope;
}

/** The batches of a request by the writer that owns them, and what the request touches. */
interface RoutedBatches {
  readonly byWriter: Map<number, ColumnBatch[]>;
  /** "database/measurement" of its batches (what its WAL entry touches). */
  readonly keys: string[];
  readonly rowCount: number;
}

/**
 * A decoder thread: takes request frames from its ring, decompresses and decodes them into
 * column batches, hands the batches to the writers that own their measurements, and answers
 * the acceptor through the completion ring once every writer has accepted (or one refused).
 *
 * With the WAL on, it owns one WAL stream. A request for one writer is logged first, and once its
 * group is written and synced it goes to its writer as one `append` carrying its WAL position;
 * the writer's yes is the 204, a refusal is cancelled in the WAL before it is answered. A request
 * spanning writers is prepared by each, logged, synced, then committed (two-phase). Replayed
 * entries (recovery) come through the ring too and are applied at their original position
 * without being logged again. docs/architecture.md draws both sequences.
 *
 * It sleeps in Atomics.wait on its doorbell, rung by the acceptor (new frame) and by writers
 * (a verdict on a port), so it needs no event loop; ports are read with receiveMessageOnPort.
 */
class DecoderThread {
  private readonly data: DecoderWorkerData;
  private readonly requests: SpscRing;
  private readonly completions: SpscRing;
  private readonly doorbell: Doorbell;
  private readonly acceptorDoorbell: Doorbell;
  private readonly decoder: RequestDecoder;
  private readonly pending = new Map<number, PendingRequest>();
  private txnSequence = 0;
  private readonly wal: WalStream | null;
  /** Requests logged in the WAL (written), waiting for their group's sync to start. */
  private logged: LoggedRequest[] = [];
  /** Requests of the group whose sync runs on the sync thread, in seq order. */
  private syncing: LoggedRequest[] = [];
  private readonly vitals: PolledVitals;
  private readonly requestsDecoded: CounterCell;
  private readonly rowsDecoded: CounterCell;
  /** Buffers the writers gave back once their rows were published: new batches are packed into them. */
  private readonly batchBuffers = new BatchBufferPool();
  private readonly batchBuffersReused: CounterCell;
  private readonly batchBufferPoolBytes: GaugeCell;
  private batchBuffersReusedSeen = 0;

  constructor(data: DecoderWorkerData) {
    this.data = data;
    this.decoder = new RequestDecoder(data.config, this.batchBuffers);
    const walConfig = data.config.wal;
    this.wal =
      data.wal === null
        ? null
        : new WalStream({
            directory: walConfig.dir,
            stream: data.decoderIndex,
            nextSeq: data.wal.nextSeq,
            syncMode: walConfig.syncMode,
            segmentBytesMax: walConfig.segmentBytesMax,
            segmentAgeMsMax: walConfig.segmentAgeMsMax,
            stats: walStatsCells(data.wal.stats),
            nowMs: Date.now,
            ...(data.wal.syncChannel === null ? {} : { syncRunner: new ThreadSyncRunner(data.wal.syncChannel) }),
          });
    this.requests = new SpscRing(data.requestRing);
    this.completions = new SpscRing(data.completionRing);
    // Every completion, whatever error it carries, must fit the ring (encodeCompletion bounds it).
    assert.ok(COMPLETION_FRAME_BYTES_MAX <= this.completions.payloadBytesMax, 'a completion frame fits the completion ring');
    this.doorbell = new Doorbell(data.doorbell);
    this.acceptorDoorbell = new Doorbell(data.acceptorDoorbell);
    const meter = new TelemetryBlock(DECODER_TELEMETRY, data.telemetry).claim(data.decoderIndex);
    this.vitals = new PolledVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
    this.requestsDecoded = meter.counter('requestsDecoded');
    this.rowsDecoded = meter.counter('rowsDecoded');
    this.batchBuffersReused = meter.counter('batchBuffersReused');
    this.batchBufferPoolBytes = meter.gauge('batchBufferPoolBytes');
  }

  run(): void {
    for (;;) {
      const seen = this.doorbell.current();
      // One clock reading per look, for the vitals and the pool's trim.
      const nowMs = performance.now();
      this.vitals.looked(nowMs);
      this.batchBuffers.trim(nowMs);
      this.batchBufferPoolBytes.set(this.batchBuffers.pooledBytes);
      let worked = this.drainVerdicts();
      if (this.finishGroupSync()) worked = true;
      if (this.pending.size + this.logged.length + this.syncing.length < DECODER_PENDING_REQUESTS_MAX) {
        const frame = this.requests.peek();
        if (frame !== null) {
          this.processFrame(frame);
          worked = true;
        }
      }
      if (this.isGroupDue(worked)) {
        this.startGroupSync();
        worked = true;
      }
      if (worked) continue;
      this.wal?.maybeRotate();
      if (this.requests.isClosed() && this.pending.size === 0 && this.logged.length === 0 && this.syncing.length === 0 && this.requests.peek() === null) {
        this.wal?.close();
        return;
      }
      this.doorbell.waitSync(seen, DECODER_IDLE_WAIT_MS);
      this.vitals.woke();
    }
  }

  /**
   * Group commit: logged requests wait for their sync until this decoder has nothing else to do,
   * or the oldest has waited `group_commit_wait_ms`, or `group_commit_kb` wait, and the previous
   * group's sync is done (one sync at a time per stream). Under load many requests share one sync;
   * alone, a request is synced at once.
   */
  private isGroupDue(worked: boolean): boolean {
    const wal = this.wal;
    if (wal === null || this.logged.length === 0 || wal.syncInFlight) return false;
    if (!worked) return true;
    const { groupCommitWaitMs, groupCommitBytes } = this.data.config.wal;
    return wal.pendingBytes >= groupCommitBytes || Date.now() - wal.firstPendingAt >= groupCommitWaitMs;
  }

  /** Hands the logged group to the sync thread; the decoder goes on while it syncs. */
  private startGroupSync(): void {
    const wal = this.wal;
    assert.ok(wal !== null, 'only a WAL logs requests');
    assert.equal(this.syncing.length, 0, 'one group syncs at a time');
    if (!wal.startSync()) return;
    this.syncing = this.logged;
    this.logged = [];
    this.finishGroupSync();
  }

  /**
   * Once the running sync is done: in seq order (so each writer receives this stream's rows in
   * seq order), commits prepared requests and answers them, appends one-writer requests
   * (answered on their writer's verdict), answers refusals whose cancel is now durable. False
   * while it runs (or none does).
   */
  private finishGroupSync(): boolean {
    const wal = this.wal;
    if (!wal?.syncInFlight) return false;
    try {
      if (wal.finishSync() === null) return false;
    } catch (error) {
      this.failLoggedGroup(walFailureOf(error));
      return true;
    }
    const group = this.syncing;
    this.syncing = [];
    for (const logged of group) this.afterDurable(logged);
    return true;
  }

  /**
   * Writes an entry to the WAL and returns its seq (durable at its group's sync). A failed write
   * takes every unsynced entry out of the log with it (WalStream.append), so the logged and the
   * syncing groups fail too, and the failure is returned for the caller's own request.
   */
  private logEntry(entry: Uint8Array | readonly Uint8Array[], keys: readonly string[]): { readonly seq: number } | ArcErrorShape {
    assert.ok(this.wal !== null, 'only a WAL logs requests');
    try {
      return { seq: this.wal.append(entry, keys) };
    } catch (error) {
      const failure = walFailureOf(error);
      this.failLoggedGroup(failure);
      return failure;
    }
  }

  /** The unsynced groups are not in the log (their seqs were given back): none of them reaches a buffer. */
  private failLoggedGroup(failure: ArcErrorShape): void {
    const group = [...this.syncing, ...this.logged];
    this.syncing = [];
    this.logged = [];
    for (const logged of group) this.afterWriteFailed(logged, failure);
  }

  private afterDurable(logged: LoggedRequest): void {
    const stream = this.data.decoderIndex;
    switch (logged.kind) {
      case 'prepared': {
        const decision: DecoderToWriter = { kind: 'commit', txnId: logged.txnId, wal: { stream, seq: logged.seq } };
        for (const writerIndex of logged.request.writerIndexes) this.portOf(writerIndex).postMessage(decision);
        this.complete({ requestId: logged.request.requestId, rowCount: logged.request.rowCount, error: null });
        return;
      }
      case 'append': {
        const txnId = ++this.txnSequence;
        const message: DecoderToWriter = { kind: 'append', txnId, batches: logged.batches, wal: { stream, seq: logged.seq } };
        this.portOf(logged.writerIndex).postMessage(message, logged.batches.map((batch) => batch.buffer));
        this.pending.set(txnId, { requestId: logged.requestId, rowCount: logged.rowCount, writerIndexes: [logged.writerIndex], prepared: false, awaiting: 1, error: null, walEntry: null, keys: [], replay: null, loggedSeq: logged.seq });
        return;
      }
      case 'cancel':
        this.complete({ requestId: logged.requestId, rowCount: 0, error: logged.error });
        return;
    }
  }

  /** The group is not in the log (its seqs are given back): nothing of it reaches a buffer. */
  private afterWriteFailed(logged: LoggedRequest, failure: ArcErrorShape): void {
    switch (logged.kind) {
      case 'prepared':
        for (const writerIndex of logged.request.writerIndexes) this.portOf(writerIndex).postMessage({ kind: 'abort', txnId: logged.txnId } satisfies DecoderToWriter);
        this.complete({ requestId: logged.request.requestId, rowCount: 0, error: failure });
        return;
      case 'append':
        this.complete({ requestId: logged.requestId, rowCount: 0, error: failure });
        return;
      case 'cancel':
        // The refused request's entry stays in the log without its cancel: a restart would apply it.
        this.complete({ requestId: logged.requestId, rowCount: 0, error: cancelFailed(logged.error, failure) });
        return;
    }
  }

  private drainVerdicts(): boolean {
    let worked = false;
    for (const port of this.data.writerPorts) {
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        const message = received.message as WriterToDecoder;
        switch (message.kind) {
          case 'verdict':
            this.onVerdict(message);
            worked = true;
            break;
          case 'wal-covered':
            this.wal?.onCovered(`${message.database}/${message.measurement}`, message.seqMax);
            worked = true;
            break;
          case 'batch-buffers':
            for (const buffer of message.buffers) this.batchBuffers.give(buffer);
            break;
        }
      }
    }
    return worked;
  }

  private processFrame(frame: Uint8Array): void {
    const header = decodeRequestHeader(frame);
    const body = header.externalBody ? this.takeExternalBody() : frame.subarray(header.bodyOffset);
    this.handleRequest(header, body);
    // Batches are packed copies and the WAL entry is written or copied: the ring bytes are free.
    this.requests.release();
  }

  /** `body` (ring bytes) is read only until this returns. */
  private handleRequest(header: RequestHeader, body: Uint8Array): void {
    const decoded = this.decoder.decode(header, body);
    this.requestsDecoded.add();
    if (decoded instanceof ArcError) {
      this.complete({ requestId: header.requestId, rowCount: 0, error: decoded.toShape() });
      return;
    }
    const batches = header.replay === null ? decoded : this.notYetDurable(decoded, header.replay);
    // A replayed entry was acknowledged under the bounds of its time: never refused now.
    const tooMany = header.replay === null ? this.checkMeasurementCount(batches) : null;
    if (tooMany !== null) {
      this.complete({ requestId: header.requestId, rowCount: 0, error: tooMany.toShape() });
      return;
    }
    if (batches.length === 0) {
      this.complete({ requestId: header.requestId, rowCount: 0, error: null });
      return;
    }
    for (const batch of batches) this.rowsDecoded.add(batch.rowCount);
    this.batchBuffersReused.add(this.batchBuffers.reuses - this.batchBuffersReusedSeen);
    this.batchBuffersReusedSeen = this.batchBuffers.reuses;
    // The WAL entry holds the body as received (compressed or not), so replay re-runs this decode.
    const envelope = this.wal === null || header.replay !== null ? null : { database: header.database, format: header.format, precision: precisionCode(header.precision), body };
    this.dispatch(header.requestId, batches, envelope === null ? null : { timestampUs: header.nowUs, envelope }, header.replay);
  }

  /**
   * ingest.max_measurements_per_request: each distinct measurement is a writer buffer and a
   * Parquet file per flush, so a request of thousands keeps the writers busy for seconds (issue 11).
   * A set of the batches' measurements (a batch holds one measurement): no per-row cost.
   */
  private checkMeasurementCount(batches: readonly ColumnBatch[]): ArcError | null {
    const countMax = this.data.config.ingest.measurementsPerRequestMax;
    if (batches.length <= countMax) return null;
    const count = new Set(batches.map((batch) => batch.measurement)).size;
    if (count <= countMax) return null;
    return new ArcError(
      ErrorKind.badRequest,
      IngestErrorCode.tooManyMeasurements,
      `The request writes ${count} distinct measurements; at most ${countMax} per request (ingest.max_measurements_per_request): split it into smaller requests; nothing was written`,
      { measurements: count, measurements_max: countMax },
    );
  }

  /** A replayed entry's batches whose measurement is not yet in Parquet up to this entry. */
  private notYetDurable(batches: ColumnBatch[], replay: WalPosition): ColumnBatch[] {
    const coverage = this.data.wal?.coverage;
    assert.ok(coverage !== undefined, 'replays happen with the WAL on');
    return batches.filter((batch) => coveredSeqOf(coverage, coverageKey(replay.stream, batch.database, batch.measurement)) < replay.seq);
  }

  private takeExternalBody(): Uint8Array {
    // The acceptor posts the body before it publishes the frame, so it is normally here already.
    const deadline = Date.now() + EXTERNAL_BODY_WAIT_MS_MAX;
    for (;;) {
      const received = receiveMessageOnPort(this.data.bodyPort);
      if (received !== undefined) return new Uint8Array(received.message as ArrayBuffer);
      assert.ok(Date.now() < deadline, 'external body never arrived');
      sleepSync(1);
    }
  }

  /**
   * Sends each writer its batches. One writer: a new request with the WAL on is logged first
   * (its body written from the ring, not copied) and appended once durable (logBeforeAppend);
   * otherwise one `append` (a replay's carries its original position). Several writers: `prepare`
   * to each; commit or abort follows once every writer answered and, with the WAL on, the entry
   * (a copy: the ring frame is gone by then) is logged and synced.
   */
  private dispatch(requestId: number, batches: ColumnBatch[], walRequest: WalRequest | null, replay: WalPosition | null): void {
    const { byWriter, keys, rowCount } = this.route(batches);
    const only = byWriter.size === 1 ? [...byWriter][0] : undefined;
    if (only !== undefined && walRequest !== null) {
      this.logBeforeAppend(requestId, only[0], only[1], rowCount, requestEntryParts(walRequest.timestampUs, walRequest.envelope), keys);
      return;
    }
    const walEntry = walRequest === null ? null : encodeRequestEntry(walRequest.timestampUs, walRequest.envelope);
    const txnId = ++this.txnSequence;
    const prepared = byWriter.size > 1;
    for (const [writerIndex, writerBatches] of byWriter) {
      const message: DecoderToWriter = prepared
        ? { kind: 'prepare', txnId, batches: writerBatches, replayed: replay !== null }
        : { kind: 'append', txnId, batches: writerBatches, replayed: replay !== null, ...(replay === null ? {} : { wal: replay }) };
      this.portOf(writerIndex).postMessage(message, writerBatches.map((batch) => batch.buffer));
    }
    this.pending.set(txnId, { requestId, rowCount, writerIndexes: [...byWriter.keys()], prepared, awaiting: byWriter.size, error: null, walEntry, keys, replay, loggedSeq: null });
  }

  private route(batches: readonly ColumnBatch[]): RoutedBatches {
    const writerCount = this.data.writerPorts.length;
    const byWriter = new Map<number, ColumnBatch[]>();
    const keys = new Set<string>();
    let rowCount = 0;
    for (const batch of batches) {
      const writerIndex = writerIndexFor(batch.database, batch.measurement, writerCount);
      const list = byWriter.get(writerIndex) ?? [];
      list.push(batch);
      byWriter.set(writerIndex, list);
      keys.add(`${batch.database}/${batch.measurement}`);
      rowCount += batch.rowCount;
    }
    return { byWriter, keys: [...keys], rowCount };
  }

  /**
   * A one-writer request needs no agreement between writers, so it skips the two-phase commit:
   * its entry joins the pending group now and its batches wait here; once the group is durable
   * they go to the writer as one `append` with their position (finishGroupSync).
   */
  private logBeforeAppend(requestId: number, writerIndex: number, batches: ColumnBatch[], rowCount: number, walEntry: readonly Uint8Array[], keys: readonly string[]): void {
    const logged = this.logEntry(walEntry, keys);
    if (!('seq' in logged)) {
      this.complete({ requestId, rowCount: 0, error: logged });
      return;
    }
    this.logged.push({ kind: 'append', seq: logged.seq, requestId, writerIndex, batches, rowCount });
  }

  private onVerdict(verdict: WriterVerdict): void {
    const request = this.pending.get(verdict.txnId);
    assert.ok(request !== undefined, 'a verdict answers a pending request');
    request.awaiting--;
    if (verdict.error !== null && request.error === null) request.error = verdict.error;
    if (request.awaiting > 0) return;
    this.pending.delete(verdict.txnId);
    if (request.loggedSeq !== null && request.error !== null) {
      this.cancelLogged(request.requestId, request.loggedSeq, request.error);
      return;
    }
    if (request.error === null && request.walEntry !== null) {
      const logged = this.logEntry(request.walEntry, request.keys);
      if ('seq' in logged) this.logged.push({ kind: 'prepared', txnId: verdict.txnId, request, seq: logged.seq });
      else this.afterWriteFailed({ kind: 'prepared', txnId: verdict.txnId, request, seq: 0 }, logged);
      return;
    }
    if (request.prepared) {
      const decision: DecoderToWriter =
        request.error !== null ? { kind: 'abort', txnId: verdict.txnId } : request.replay === null ? { kind: 'commit', txnId: verdict.txnId } : { kind: 'commit', txnId: verdict.txnId, wal: request.replay };
      for (const writerIndex of request.writerIndexes) this.portOf(writerIndex).postMessage(decision);
    }
    this.complete({ requestId: request.requestId, rowCount: request.error === null ? request.rowCount : 0, error: request.error });
  }

  /**
   * The writer refused a request already in the log: a cancel entry joins the pending group, and
   * the refusal is answered once it is durable, so a restart never applies what was refused.
   */
  private cancelLogged(requestId: number, seq: number, error: ArcErrorShape): void {
    const logged = this.logEntry(encodeCancelEntry(Date.now() * 1000, seq), []);
    if ('seq' in logged) this.logged.push({ kind: 'cancel', requestId, error });
    else this.afterWriteFailed({ kind: 'cancel', requestId, error }, logged);
  }

  private complete(completion: Completion): void {
    // Bounded (COMPLETION_FRAME_BYTES_MAX): an error echoing any input still makes one frame.
    const frame = encodeCompletion(completion);
    // The acceptor drains completions continuously; a full ring only means it is momentarily busy.
    while (!this.completions.tryWrite([frame])) {
      this.acceptorDoorbell.ring();
      sleepSync(1);
    }
    this.acceptorDoorbell.ring();
  }

  private portOf(writerIndex: number): MessagePort {
    const port = this.data.writerPorts[writerIndex];
    assert.ok(port !== undefined, 'a port per writer');
    return port;
  }
}

/** What a failed WAL write or sync answers its requests with. */
function walFailureOf(error: unknown): ArcErrorShape {
  return error instanceof ArcError ? error.toShape() : new ArcError(ErrorKind.internal, WalErrorCode.writeFailed, String(error)).toShape();
}

/** A refusal whose cancel could not be logged: the request may be applied at the next start. */
function cancelFailed(refusal: ArcErrorShape, failure: ArcErrorShape): ArcErrorShape {
  return {
    kind: ErrorKind.internal,
    code: IngestErrorCode.walCancelFailed,
    message: `The request was refused (${refusal.code}: ${refusal.message}) after its write-ahead log entry was written, and the entry could not be cancelled (${failure.message}): it may be applied when the server restarts`,
  };
}

/**
 * Decoders are many and parallel; the writer owning a busy measurement is one serial thread. With
 * every thread at the same priority the kernel gives that writer 1/(decoders + writers + 1) of
 * the CPU under load, it falls behind and buffers fill (measured: 503s at ~420K rows/s). Linux
 * keeps the nice value per thread, so a decoder lowers its own and leaves the writer its core.
 */
function lowerOwnPriority(nice: number): void {
  if (nice === 0) return;
  try {
    setPriority(nice); // pid 0: on Linux, the calling thread
  } catch {
    // Not permitted or not supported: run at normal priority.
  }
}

function main(): void {
  assert.ok(parentPort !== null, 'decoder-worker runs as a worker thread');
  const data = workerData as DecoderWorkerData;
  lowerOwnPriority(data.config.ingest.decoderNice);
  parentPort.postMessage({ kind: 'ready', decoderIndex: data.decoderIndex });
  new DecoderThread(data).run();
  for (const port of data.writerPorts) port.close();
  data.bodyPort.close();
  parentPort.postMessage({ kind: 'closed', decoderIndex: data.decoderIndex });
}

main();
