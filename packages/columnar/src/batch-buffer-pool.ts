import assert from 'node:assert/strict';
import { BATCH_BUFFER_CLASSES_PER_DOUBLING, BATCH_BUFFER_POOL_BYTES_MAX, BATCH_BUFFER_SIZE_STEP_MIN } from './limits.js';

/**
 * The ArrayBuffers of packed batches, given back for reuse. A batch's buffer is transferred
 * from the decoder thread that packed it to the writer thread that buffers it; when a writer
 * dropped it after the flush, every buffer became garbage of the writer's isolate, and their
 * bytes (external memory to V8) started a full garbage collection of the writer every ~0.3 s
 * at half of peak load: the collection's threads and pause were where the slowest 1% of
 * requests waited (docs/benchmarks.md, "p99 at half of peak load"). Writers now transfer the
 * buffers back once their rows are published, and the decoder packs new batches into them.
 *
 * Buffers are allocated at a size class (at most 1/8 above what a batch needs), so buffers of
 * similar batches are interchangeable. A reused buffer is zeroed, as a new one is. The pool
 * keeps at most `bytesMax`; what comes back beyond that is left to the garbage collector.
 */
export class BatchBufferPool {
  private readonly bytesMax: number;
  private readonly free = new Map<number, ArrayBuffer[]>();
  private bytesPooled = 0;
  private reused = 0;

  constructor(bytesMax: number = BATCH_BUFFER_POOL_BYTES_MAX) {
    assert.ok(bytesMax >= 0);
    this.bytesMax = bytesMax;
  }

  /** A zeroed buffer of at least `byteLength` bytes (exactly its size class). */
  take(byteLength: number): ArrayBuffer {
    const size = batchBufferSizeClass(byteLength);
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return new ArrayBuffer(size);
    this.bytesPooled -= size;
    this.reused++;
    new Uint8Array(buffer).fill(0);
    return buffer;
  }

  /** Keeps `buffer` for a later take (not detached, of a size class, and room in the pool). */
  give(buffer: ArrayBuffer): void {
    const size = buffer.byteLength;
    // A detached buffer has byteLength 0; a buffer packed without the pool may be of any size.
    if (size === 0 || batchBufferSizeClass(size) !== size || this.bytesPooled + size > this.bytesMax) return;
    const list = this.free.get(size);
    if (list === undefined) this.free.set(size, [buffer]);
    else list.push(buffer);
    this.bytesPooled += size;
  }

  /** Bytes kept for reuse now. */
  get pooledBytes(): number {
    return this.bytesPooled;
  }

  /** Takes served from a given-back buffer since the pool was made. */
  get reuses(): number {
    return this.reused;
  }
}

/** The size a buffer of `byteLength` bytes is allocated at: the next size class. */
export function batchBufferSizeClass(byteLength: number): number {
  assert.ok(Number.isInteger(byteLength) && byteLength >= 0);
  if (byteLength <= BATCH_BUFFER_SIZE_STEP_MIN) return BATCH_BUFFER_SIZE_STEP_MIN;
  const step = Math.max(BATCH_BUFFER_SIZE_STEP_MIN, 2 ** Math.floor(Math.log2(byteLength)) / BATCH_BUFFER_CLASSES_PER_DOUBLING);
  return Math.ceil(byteLength / step) * step;
}
