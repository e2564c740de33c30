import assert from 'node:assert/strict';
import { setPriority } from 'node:os';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import type { ColumnBatch } from '@arc/columnar';
import { ArcError, type ArcErrorShape, type Config } from '@arc/config';
import { JsonDecoder, LineProtocolDecoder, MsgpackDecoder, decompressBody } from '@arc/protocol';
import { Doorbell, SpscRing } from '@arc/ring';
import { writerIndexFor, type DecoderToWriter, type WriterVerdict } from '@arc/writer';
import { decodeRequestHeader, encodeCompletion, PayloadFormat, type Completion, type RequestHeader } from './frames.js';
import { DECODER_IDLE_WAIT_MS, DECODER_PENDING_REQUESTS_MAX, EXTERNAL_BODY_WAIT_MS_MAX } from './limits.js';

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
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepSync(milliseconds: number): void {
  Atomics.wait(sleepCell, 0, 0, milliseconds);
}

interface PendingRequest {
  readonly requestId: number;
  readonly rowCount: number;
  readonly writerIndexes: readonly number[];
  awaiting: number;
  error: ArcErrorShape | null;
}

/**
 * A decoder thread: takes request frames from its ring, decompresses and decodes them into
 * column batches, hands the batches to the writers that own their measurements, and answers
 * the acceptor through the completion ring once every writer has accepted (or one refused).
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
  private readonly msgpack = new MsgpackDecoder();
  private readonly lineProtocol = new LineProtocolDecoder();
  private readonly json = new JsonDecoder();
  private readonly pending = new Map<number, PendingRequest>();
  private txnSequence = 0;

  constructor(data: DecoderWorkerData) {
    this.data = data;
    this.requests = new SpscRing(data.requestRing);
    this.completions = new SpscRing(data.completionRing);
    this.doorbell = new Doorbell(data.doorbell);
    this.acceptorDoorbell = new Doorbell(data.acceptorDoorbell);
  }

  run(): void {
    for (;;) {
      const seen = this.doorbell.current();
      let worked = this.drainVerdicts();
      if (this.pending.size < DECODER_PENDING_REQUESTS_MAX) {
        const frame = this.requests.peek();
        if (frame !== null) {
          this.processFrame(frame);
          worked = true;
        }
      }
      if (worked) continue;
      if (this.requests.isClosed() && this.pending.size === 0 && this.requests.peek() === null) return;
      this.doorbell.waitSync(seen, DECODER_IDLE_WAIT_MS);
    }
  }

  private drainVerdicts(): boolean {
    let worked = false;
    for (const port of this.data.writerPorts) {
      for (let received = receiveMessageOnPort(port); received !== undefined; received = receiveMessageOnPort(port)) {
        this.onVerdict(received.message as WriterVerdict);
        worked = true;
      }
    }
    return worked;
  }

  private processFrame(frame: Uint8Array): void {
    const header = decodeRequestHeader(frame);
    const body = header.externalBody ? this.takeExternalBody() : frame.subarray(header.bodyOffset);
    const batches = this.decode(header, body);
    // Batches are packed copies: the ring bytes are no longer needed.
    this.requests.release();
    if (batches instanceof ArcError) {
      this.complete({ requestId: header.requestId, rowCount: 0, error: batches.toShape() });
      return;
    }
    this.dispatch(header.requestId, batches);
  }

  private decode(header: RequestHeader, body: Uint8Array): ColumnBatch[] | ArcError {
    const decompressed = decompressBody(body, this.data.config.server.bodyBytesMax);
    if (decompressed instanceof ArcError) return decompressed;
    const { database, nowUs } = header;
    const rowContext = { database, nowUs, defaultHost: this.data.config.ingest.defaultHost };
    let result;
    switch (header.format) {
      case PayloadFormat.lineProtocol:
        result = this.lineProtocol.decode(decompressed, { database, nowUs, precision: header.precision });
        break;
      case PayloadFormat.json:
        result = this.json.decode(decompressed, rowContext);
        break;
      case PayloadFormat.msgpack:
        result = this.msgpack.decode(decompressed, rowContext);
        break;
    }
    return result.ok ? result.batches : result.error;
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

  /** Sends each writer its batches: one `append`, or `prepare` to each when several are involved. */
  private dispatch(requestId: number, batches: ColumnBatch[]): void {
    const writerCount = this.data.writerPorts.length;
    const byWriter = new Map<number, ColumnBatch[]>();
    let rowCount = 0;
    for (const batch of batches) {
      const writerIndex = writerIndexFor(batch.database, batch.measurement, writerCount);
      const list = byWriter.get(writerIndex) ?? [];
      list.push(batch);
      byWriter.set(writerIndex, list);
      rowCount += batch.rowCount;
    }
    const txnId = ++this.txnSequence;
    const kind = byWriter.size === 1 ? 'append' : 'prepare';
    for (const [writerIndex, writerBatches] of byWriter) {
      const message: DecoderToWriter = { kind, txnId, batches: writerBatches };
      this.portOf(writerIndex).postMessage(message, writerBatches.map((batch) => batch.buffer));
    }
    this.pending.set(txnId, { requestId, rowCount, writerIndexes: [...byWriter.keys()], awaiting: byWriter.size, error: null });
  }

  private onVerdict(verdict: WriterVerdict): void {
    const request = this.pending.get(verdict.txnId);
    assert.ok(request !== undefined, 'a verdict answers a pending request');
    request.awaiting--;
    if (verdict.error !== null && request.error === null) request.error = verdict.error;
    if (request.awaiting > 0) return;
    this.pending.delete(verdict.txnId);
    if (request.writerIndexes.length > 1) {
      const decision: DecoderToWriter = { kind: request.error === null ? 'commit' : 'abort', txnId: verdict.txnId };
      for (const writerIndex of request.writerIndexes) this.portOf(writerIndex).postMessage(decision);
    }
    this.complete({ requestId: request.requestId, rowCount: request.error === null ? request.rowCount : 0, error: request.error });
  }

  private complete(completion: Completion): void {
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
