import assert from 'node:assert/strict';
import { BODY_BUFFER_BYTES_MIN, BODY_BUFFER_POOLED_BYTES_MAX, BODY_BUFFER_POOL_BYTES_MAX } from './limits.js';

/** Where readBody gets the memory a body is collected in, and gives back what it dropped. */
export interface BodyAllocator {
  /** A buffer of at least `bytes` bytes, its contents undefined. */
  take(bytes: number): Buffer;
  /** Memory from `take` that nothing refers to any more. */
  give(body: Uint8Array): void;
}

/** Fresh memory per body: for routes whose bodies are parsed and dropped (the GC takes them back). */
export const FRESH_BODY_BUFFERS: BodyAllocator = {
  take: (bytes) => Buffer.allocUnsafe(bytes),
  give: () => undefined,
};

/**
 * Write bodies, reused. A write's body lives from its first chunk to its verdict (its bytes are
 * copied into a decoder's ring and kept for a retry until then); allocated fresh, every body was
 * an ArrayBuffer of its own, ~2,000 of ~45 KiB a second with 1,000-row requests: external memory
 * that made V8 run a full mark-compact on the acceptor every fraction of a second. Here a body
 * is collected in a power-of-two buffer of BODY_BUFFER_BYTES_MIN up to
 * BODY_BUFFER_POOLED_BYTES_MAX, handed back with `give` once nothing refers to it any more, and
 * kept for the next body of its size class while the kept buffers stay under
 * BODY_BUFFER_POOL_BYTES_MAX. Larger bodies get memory of their own size, as before.
 */
export class BodyBufferPool implements BodyAllocator {
  /** Free buffers by size class: index i holds buffers of BODY_BUFFER_BYTES_MIN << i bytes. */
  readonly #free: Buffer[][] = [];
  #freeBytes = 0;

  take(bytes: number): Buffer {
    if (bytes > BODY_BUFFER_POOLED_BYTES_MAX) return Buffer.allocUnsafeSlow(bytes);
    const classIndex = sizeClassOf(bytes);
    const kept = this.#free[classIndex]?.pop();
    if (kept === undefined) return Buffer.allocUnsafeSlow(BODY_BUFFER_BYTES_MIN << classIndex);
    this.#freeBytes -= kept.byteLength;
    return kept;
  }

  /**
   * Takes back the memory of a body from `take` (any view of it): the caller and everything it
   * handed the body to are done with it. Memory not from a pooled size class is left to the GC.
   */
  give(body: Uint8Array): void {
    const buffer = body.buffer;
    if (!(buffer instanceof ArrayBuffer) || !isPooledSize(buffer.byteLength)) return;
    if (this.#freeBytes + buffer.byteLength > BODY_BUFFER_POOL_BYTES_MAX) return;
    const whole = Buffer.from(buffer);
    const classIndex = sizeClassOf(buffer.byteLength);
    const free = (this.#free[classIndex] ??= []);
    assert.ok(!free.some((kept) => kept.buffer === buffer), 'a body buffer given back twice');
    free.push(whole);
    this.#freeBytes += buffer.byteLength;
  }

  /** Bytes kept for reuse now. */
  get freeBytes(): number {
    return this.#freeBytes;
  }
}

/** The size class (0 for BODY_BUFFER_BYTES_MIN, 1 for twice that, ...) that holds `bytes`. */
function sizeClassOf(bytes: number): number {
  let classIndex = 0;
  while (BODY_BUFFER_BYTES_MIN << classIndex < bytes) classIndex++;
  return classIndex;
}

function isPooledSize(byteLength: number): boolean {
  return byteLength >= BODY_BUFFER_BYTES_MIN && byteLength <= BODY_BUFFER_POOLED_BYTES_MAX && (byteLength & (byteLength - 1)) === 0;
}
