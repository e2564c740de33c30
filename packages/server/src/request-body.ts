import type { HttpResponse } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { BODY_PREALLOCATE_BYTES_MAX, BODY_PROGRESS_BYTES, BODY_PROGRESS_WINDOW_MS, LINGER_BYTES_MAX, LINGER_IDLE_MS, LINGER_TIME_MS } from './limits.js';
import type { RequestInfo } from './request-info.js';
import { ProtocolErrorCode } from '@arc/protocol';
import { ServerErrorCode } from './error-codes.js';
import { FRESH_BODY_BUFFERS, type BodyAllocator } from './body-buffers.js';

/** What readBody needs of the request head. */
export type BodyRequest = Pick<RequestInfo, 'contentLength' | 'closesConnection'>;

/**
 * Collects a request body from uWS chunks (copied: uWS reuses the chunk memory after the
 * callback), refusing it as soon as it passes `bytesMax` (413) rather than after buffering it,
 * and refusing an upload too slow to finish before uWS would drop the connection (408).
 * A refusal on a connection that closes after the answer comes only once the rest of the body has
 * been read and dropped (see LINGER_BYTES_MAX). `onDone` is called exactly once.
 */
export function readBody(res: HttpResponse, request: BodyRequest, bytesMax: number, onDone: (body: Uint8Array | ArcError) => void): void {
  readBodyInto(res, request, bytesMax, FRESH_BODY_BUFFERS, onDone);
}

/** An empty body, and the buffer of a body no longer collected. */
const NO_BYTES = Buffer.alloc(0);

/**
 * readBody collecting the body in memory from `buffers`: a body handed to `onDone` is the
 * caller's to give back; one refused or dropped is given back here.
 */
export function readBodyInto(res: HttpResponse, request: BodyRequest, bytesMax: number, buffers: BodyAllocator, onDone: (body: Uint8Array | ArcError) => void): void {
  const declared = request.contentLength === '' ? -1 : Number(request.contentLength);
  // Trust Content-Length only up to a point: a client declaring 100 MB and sending nothing must
  // not make the acceptor allocate 100 MB. Larger bodies grow the buffer as bytes arrive.
  let body = declared > 0 && declared <= bytesMax ? buffers.take(Math.min(declared, BODY_PREALLOCATE_BYTES_MAX)) : NO_BYTES;
  let length = 0;
  let done = false;
  let linger: Linger | null = null;
  const drop = (): void => {
    buffers.give(body);
    body = NO_BYTES;
  };
  const finish = (outcome: Uint8Array | ArcError): void => {
    done = true;
    pace.stop();
    linger?.stop();
    if (outcome instanceof ArcError) drop();
    body = NO_BYTES;
    onDone(outcome);
  };
  /** A keep-alive connection is answered now (uWS drops the rest); else the rest is drained first. */
  const refuse = (refusal: ArcError, bodyEnded: boolean): void => {
    if (bodyEnded || !request.closesConnection) return finish(refusal);
    drop();
    linger = new Linger(() => {
      if (!done) finish(refusal);
    });
  };
  // After an abort uWS sends no more chunks: the pace then fires within a window and the
  // caller's answer is dropped (its response state is aborted), releasing the buffer. While
  // lingering it ends the drain before uWS's own slow-upload close would.
  const pace = new UploadPace(() => {
    if (done) return;
    if (linger === null) finish(tooSlow());
    else linger.end();
  });
  res.onData((chunk, isLast) => {
    if (done) return;
    pace.received(chunk.byteLength);
    if (linger !== null) {
      linger.received(chunk.byteLength, isLast);
      return;
    }
    if (length + chunk.byteLength > bytesMax) {
      refuse(tooLarge(bytesMax), isLast);
      return;
    }
    const bytes = new Uint8Array(chunk);
    if (length + bytes.byteLength > body.byteLength) {
      const grown = buffers.take(Math.max(body.byteLength * 2, length + bytes.byteLength, 64 * 1024));
      grown.set(body.subarray(0, length));
      buffers.give(body);
      body = grown;
    }
    body.set(bytes, length);
    length += bytes.byteLength;
    if (isLast) finish(body.subarray(0, length));
  });
  if (declared > bytesMax) refuse(tooLarge(bytesMax), false);
}

/**
 * The drain of a refused body before its answer (see LINGER_BYTES_MAX): `onEnd` runs once, when
 * the body ends, LINGER_BYTES_MAX have been dropped, LINGER_TIME_MS have passed, or no byte came
 * for LINGER_IDLE_MS. One timer, re-armed only when it fires.
 */
class Linger {
  private readonly startMs = Date.now();
  private lastByteMs = this.startMs;
  private droppedBytes = 0;
  private ended = false;
  private timer: NodeJS.Timeout;
  private readonly onEnd: () => void;

  constructor(onEnd: () => void) {
    this.onEnd = onEnd;
    this.timer = setTimeout(() => this.check(), LINGER_IDLE_MS);
  }

  received(byteCount: number, isLast: boolean): void {
    this.droppedBytes += byteCount;
    this.lastByteMs = Date.now();
    if (isLast || this.droppedBytes >= LINGER_BYTES_MAX) this.end();
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stop();
    this.onEnd();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    const endMs = Math.min(this.startMs + LINGER_TIME_MS, this.lastByteMs + LINGER_IDLE_MS);
    const remainingMs = endMs - Date.now();
    if (remainingMs > 0) this.timer = setTimeout(() => this.check(), remainingMs);
    else this.end();
  }
}

/**
 * uWS's slow-upload count (see BODY_PROGRESS_BYTES), kept in step with it: a window opens when
 * the body starts and again after every BODY_PROGRESS_BYTES received; `onLate` runs when a window
 * passes BODY_PROGRESS_WINDOW_MS, before uWS would close the connection without an answer. One
 * timer per body, re-armed only when it fires, so chunks cost no timer work.
 */
class UploadPace {
  private windowStartMs = Date.now();
  private windowBytes = 0;
  private timer: NodeJS.Timeout;
  private readonly onLate: () => void;

  constructor(onLate: () => void) {
    this.onLate = onLate;
    this.timer = setTimeout(() => this.check(), BODY_PROGRESS_WINDOW_MS);
  }

  received(byteCount: number): void {
    this.windowBytes += byteCount;
    if (this.windowBytes < BODY_PROGRESS_BYTES) return;
    this.windowBytes = 0;
    this.windowStartMs = Date.now();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private check(): void {
    const remainingMs = this.windowStartMs + BODY_PROGRESS_WINDOW_MS - Date.now();
    if (remainingMs > 0) this.timer = setTimeout(() => this.check(), remainingMs);
    else this.onLate();
  }
}

function tooLarge(bytesMax: number): ArcError {
  return new ArcError(ErrorKind.tooLarge, ProtocolErrorCode.payloadTooLarge, `Request body exceeds ${bytesMax} bytes`, { limit_bytes: bytesMax });
}

function tooSlow(): ArcError {
  return new ArcError(
    ErrorKind.requestTimeout,
    ServerErrorCode.bodyTooSlow,
    `Request body too slow: every ${BODY_PROGRESS_BYTES} bytes (or the whole body, if smaller) must arrive within ${BODY_PROGRESS_WINDOW_MS} ms`,
    { progress_bytes: BODY_PROGRESS_BYTES, window_ms: BODY_PROGRESS_WINDOW_MS },
  );
}
