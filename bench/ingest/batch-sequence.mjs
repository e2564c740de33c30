// @ts-check
// The order in which the loader threads send the pool's batches: one sequence for every thread, a
// counter in shared memory. The n-th request of the run, whichever thread sends it, carries batch
// n mod N of the pool (N batches) at use floor(n / N), i.e. the rows [n x batch, (n + 1) x batch)
// of the TSBS stream, so the rows in flight are one contiguous stretch of it, as TSBS's own loader
// sends them (one reader hands the batches to its workers in file order) and as a real-time client
// does. With a cursor per thread, each thread walking its own half of the pool, the threads drifted
// apart by hours of TSBS time when one got more CPU than the other: an hour the server had flushed
// got a second file when the other thread's rows of it came (1.33 files per hour against 1.10 with
// one thread, docs/benchmarks.md), which a TSBS or real-time load does not make.
//
// A batch still in flight when its turn comes again (a request that waits out 503 back-offs while
// the others wrap around the pool) is skipped: that use of it is never sent, so every (batch, use)
// pair, i.e. every row key, goes out at most once.

/** Int32 slots before the per-batch ones: [0] the next sequence number. */
const HEADER_SLOTS = 1;

/**
 * One per run, shared by the loader threads (the SharedArrayBuffer travels in `workerData`).
 */
export class BatchSequence {
  /**
   * @param {number} batches N, the pool's batch count
   * @returns {SharedArrayBuffer} the state to hand to each thread's BatchSequence
   */
  static allocate(batches) {
    return new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (HEADER_SLOTS + 2 * batches));
  }

  /**
   * @param {SharedArrayBuffer} state from `allocate(batches)`
   * @param {number} batches
   */
  constructor(state, batches) {
    if (state.byteLength !== Int32Array.BYTES_PER_ELEMENT * (HEADER_SLOTS + 2 * batches)) {
      throw new Error(`batch sequence state of ${state.byteLength} bytes does not fit ${batches} batches`);
    }
    this.batches = batches;
    /** [0]: the next sequence number; then per batch 1 while a connection holds it, 0 when free. */
    this.slots = new Int32Array(state, 0, HEADER_SLOTS + batches);
    /** Per batch: the use whose times its bytes carry now (0: as encoded). Written by its holder only. */
    this.stampedUses = new Int32Array(state, Int32Array.BYTES_PER_ELEMENT * (HEADER_SLOTS + batches), batches);
  }

  /**
   * The next batch in the shared order and the use it is taken for, now held by the caller until
   * `release`; null when every batch is held (the pool too small for the connections).
   * @returns {{ batch: number, use: number } | null}
   */
  take() {
    for (let tries = 0; tries < this.batches; tries++) {
      const n = Atomics.add(this.slots, 0, 1);
      if (n < 0) throw new Error('batch sequence overflow (2^31 requests in one run)');
      const batch = n % this.batches;
      if (Atomics.compareExchange(this.slots, HEADER_SLOTS + batch, 0, 1) !== 0) continue; // still in flight: skip this use
      return { batch, use: Math.floor(n / this.batches) };
    }
    return null;
  }

  /** @param {number} batch */
  release(batch) {
    Atomics.store(this.slots, HEADER_SLOTS + batch, 0);
  }

  /**
   * The use whose times the held batch's bytes carry; the holder re-stamps them when it differs
   * from the use it took the batch for, then records it with `stamped`.
   * @param {number} batch
   */
  stampedUse(batch) {
    return Atomics.load(this.stampedUses, batch);
  }

  /**
   * @param {number} batch
   * @param {number} use
   */
  stamped(batch, use) {
    Atomics.store(this.stampedUses, batch, use);
  }
}
