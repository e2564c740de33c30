import assert from 'node:assert/strict';
import { BATCH_BUFFER_CLASSES_PER_DOUBLING, BATCH_BUFFER_POOL_BYTES_MAX, BATCH_BUFFER_POOL_TRIM_MS, BATCH_BUFFER_SIZE_STEP_MIN } from './limits.js';

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
 * keeps at most `bytesMax`; what comes back beyond that is left to the garbage collector, and
 * `trim` lets go of what stays unused (the owner calls it on its loop).
 */
export class BatchBufferPool {
  private readonly bytesMax: number;
  private readonly free = new Map<number, ArrayBuffer[]>();
  private readonly trimEveryMs: number;
  private bytesPooled = 0;
  /** The fewest bytes pooled since the last trim: what nobody took through the interval. */
  private lowWaterBytes = 0;
  private lastTrimMs: number | null = null;
  private reused = 0;

  constructor(bytesMax: number = BATCH_BUFFER_POOL_BYTES_MAX, trimEveryMs: number = BATCH_BUFFER_POOL_TRIM_MS) {
    assert.ok(bytesMax >= 0);
    assert.ok(trimEveryMs > 0);
    this.bytesMax = bytesMax;
    this.trimEveryMs = trimEveryMs;
  }

  /** A zeroed buffer of at least `byteLength` bytes (exactly its size class). */
  take(byteLength: number): ArrayBuffer {
    const size = batchBufferSizeClass(byteLength);
    const buffer = this.free.get(size)?.pop();
    if (buffer === undefined) return new ArrayBuffer(size);
    this.bytesPooled -= size;
    this.lowWaterBytes = Math.min(this.lowWaterBytes, this.bytesPooled);
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

  /**
   * Once every `trimEveryMs` (`nowMs` from one monotonic clock; the first call only starts the
   * clock): lets go of half of the bytes that stayed in the pool through the whole interval
   * (whole buffers, rounded up, so a quiet pool ends empty): a pool filled by a burst shrinks once
   * the bursts are over, and a steady load keeps what it takes. Cheap to call on every loop.
   */
  trim(nowMs: number): void {
    if (this.lastTrimMs !== null && nowMs - this.lastTrimMs < this.trimEveryMs) return;
    let excess = this.lastTrimMs === null ? 0 : Math.floor(this.lowWaterBytes / 2);
    this.lastTrimMs = nowMs;
    for (const [size, list] of this.free) {
      while (excess > 0 && list.length > 0) {
        list.pop();
        this.bytesPooled -= size;
        excess -= size;
      }
      if (list.length === 0) this.free.delete(size);
      if (excess <= 0) break;
    }
    this.lowWaterBytes = this.bytesPooled;
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
