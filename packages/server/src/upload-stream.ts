import type { HttpResponse } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { ProtocolErrorCode } from '@arc/protocol';
import { IMPORT_UPLOAD_QUEUE_BYTES_MAX } from './limits.js';
import { MultipartFile, multipartBoundary } from './multipart-file.js';

/**
 * A request body read as a stream, for uploads too large to hold (file imports): chunks are copied
 * out of uWS (it reuses their memory) into a queue the consumer pulls from with `next()`; when the
 * queue passes IMPORT_UPLOAD_QUEUE_BYTES_MAX the socket is paused (uWS stops reading it, TCP slows
 * the client) and resumed once the consumer has caught up. A multipart/form-data body yields only
 * its `file` part (Arc Go's import routes take the file that way); any other body is the file.
 *
 * Not readBody (request-body.ts): that one collects a whole body up to a limit, for writes.
 */
export class UploadStream {
  private readonly res: HttpResponse;
  private readonly bytesMax: number;
  private readonly multipart: MultipartFile | null;
  private readonly queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private ended = false;
  private failure: ArcError | null = null;
  private paused = false;
  private closed = false;
  private wake: (() => void) | null = null;
  /** Body bytes received so far (multipart framing included). */
  receivedBytes = 0;

  constructor(res: HttpResponse, contentType: string, bytesMax: number) {
    this.res = res;
    this.bytesMax = bytesMax;
    const boundary = multipartBoundary(contentType);
    this.multipart = boundary === null ? null : new MultipartFile(boundary);
    res.onData((chunk, isLast) => this.received(chunk, isLast));
  }

  /** The next bytes of the file, null at its end, or why the upload cannot be read. */
  async next(): Promise<Uint8Array | null | ArcError> {
    for (;;) {
      const bytes = this.queue.shift();
      if (bytes !== undefined) {
        this.queuedBytes -= bytes.byteLength;
        if (this.paused && this.queuedBytes <= IMPORT_UPLOAD_QUEUE_BYTES_MAX / 2 && !this.closed) {
          this.paused = false;
          this.res.resume();
        }
        return bytes;
      }
      if (this.failure !== null) return this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /** The client hung up (or the answer went out early): wake the consumer, touch `res` no more. */
  close(reason: ArcError): void {
    this.closed = true;
    this.failure ??= reason;
    this.signal();
  }

  private received(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.closed || this.failure !== null) return;
    this.receivedBytes += chunk.byteLength;
    if (this.receivedBytes > this.bytesMax) return this.fail(tooLarge(this.bytesMax));
    const copy = new Uint8Array(chunk.byteLength);
    copy.set(new Uint8Array(chunk));
    const parts = this.multipart === null ? [copy] : this.multipart.push(copy);
    if (parts instanceof ArcError) return this.fail(parts);
    for (const part of parts) {
      this.queue.push(part);
      this.queuedBytes += part.byteLength;
    }
    if (isLast) {
      const unfinished = this.multipart?.finish() ?? null;
      if (unfinished !== null) return this.fail(unfinished);
      this.ended = true;
    } else if (!this.paused && this.queuedBytes > IMPORT_UPLOAD_QUEUE_BYTES_MAX) {
      this.paused = true;
      this.res.pause();
    }
    this.signal();
  }

  private fail(error: ArcError): void {
    this.failure = error;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

function tooLarge(bytesMax: number): ArcError {
  return new ArcError(ErrorKind.tooLarge, ProtocolErrorCode.payloadTooLarge, `Import upload exceeds ${bytesMax} bytes`, { limit_bytes: bytesMax });
}
