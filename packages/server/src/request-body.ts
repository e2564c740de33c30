import type { HttpResponse } from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/config';
import { BODY_PREALLOCATE_BYTES_MAX } from './limits.js';

/**
 * Collects a request body from uWS chunks (copied: uWS reuses the chunk memory after the
 * callback), refusing it as soon as it passes `bytesMax` (413) rather than after buffering it.
 */
export function readBody(res: HttpResponse, contentLength: string, bytesMax: number, onDone: (body: Uint8Array | ArcError) => void): void {
  const declared = contentLength === '' ? -1 : Number(contentLength);
  if (declared > bytesMax) {
    onDone(tooLarge(bytesMax));
    return;
  }
  // Trust Content-Length only up to a point: a client declaring 100 MB and sending nothing must
  // not make the acceptor allocate 100 MB. Larger bodies grow the buffer as bytes arrive.
  let body = Buffer.allocUnsafe(declared > 0 ? Math.min(declared, BODY_PREALLOCATE_BYTES_MAX) : 0);
  let length = 0;
  let failed = false;
  res.onData((chunk, isLast) => {
    if (failed) return;
    const bytes = new Uint8Array(chunk);
    if (length + bytes.byteLength > bytesMax) {
      failed = true;
      onDone(tooLarge(bytesMax));
      return;
    }
    if (length + bytes.byteLength > body.byteLength) {
      const grown = Buffer.allocUnsafe(Math.max(body.byteLength * 2, length + bytes.byteLength, 64 * 1024));
      grown.set(body.subarray(0, length));
      body = grown;
    }
    body.set(bytes, length);
    length += bytes.byteLength;
    if (isLast) onDone(body.subarray(0, length));
  });
}

function tooLarge(bytesMax: number): ArcError {
  return new ArcError(ErrorKind.tooLarge, 'ARC_PAYLOAD_TOO_LARGE', `Request body exceeds ${bytesMax} bytes`, { limit_bytes: bytesMax });
}
