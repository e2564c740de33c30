import assert from 'node:assert/strict';

/**
 * A shared counter that producers ring and one consumer sleeps on. A consumer that reads several
 * sources (the acceptor reading every decoder's completion ring; a decoder reading its request
 * ring and its writers' replies) sleeps on one doorbell instead of one per source.
 *
 * Read `current()` BEFORE draining the sources, then sleep with that value: a ring that happens
 * during the drain changes the counter, so the sleep returns at once and nothing is missed.
 *
 * Measured on Node 20.20: Atomics.waitAsync in a worker thread is not woken by Atomics.notify from
 * another thread (only its timeout fires), while waitAsync on the main thread and the blocking
 * Atomics.wait in workers both are. Hence `waitSync` for workers and `wait` for the main thread.
 */
export class Doorbell {
  readonly shared: SharedArrayBuffer;
  private readonly counter: Int32Array;
  /** Main thread (wait): the waitAsync pending and the value it waits to leave. */
  #listening: Promise<void> | null = null;
  #listeningFrom = 0;
  /** Main thread: ends the wait in progress (rung, or its time is up); null when none is. */
  #wake: (() => void) | null = null;
  #deadlineMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #timerDueMs = 0;

  static create(): Doorbell {
    return new Doorbell(new SharedArrayBuffer(4));
  }

  constructor(shared: SharedArrayBuffer) {
    this.shared = shared;
    this.counter = new Int32Array(shared, 0, 1);
  }

  ring(): void {
    Atomics.add(this.counter, 0, 1);
    Atomics.notify(this.counter, 0);
  }

  current(): number {
    return Atomics.load(this.counter, 0);
  }

  /** Worker threads: blocks until the counter differs from `seen` or `timeoutMs` passes. */
  waitSync(seen: number, timeoutMs: number): void {
    Atomics.wait(this.counter, 0, seen, timeoutMs);
  }

  /**
   * Main thread: resolves once the counter differs from `seen` or `timeoutMs` passes. One waiter
   * at a time (the owner's drain loop).
   *
   * The timeout is kept here, not given to Atomics.waitAsync: with one, every wait made V8 post a
   * delayed task, which Node turns into a libuv timer of its own plus a wake-up of the event
   * loop, and which stays scheduled for the whole timeout after the doorbell rang (thousands at
   * a time at a few thousand rings a second). Here one timer serves every wait: it is armed when
   * none is (or brought forward for a shorter timeout), and when it fires it ends the wait in
   * progress if that wait's time is up, else it is re-armed for the rest. A wait that times out
   * leaves its waitAsync pending; the next wait on the same value takes it over, so waiters never
   * pile up while the doorbell is silent.
   */
  async wait(seen: number, timeoutMs: number): Promise<void> {
    assert.equal(this.#wake, null, 'one main-thread wait at a time');
    if (!this.#listenFrom(seen)) return;
    this.#deadlineMs = performance.now() + timeoutMs;
    // A timer due later than this deadline (a longer timeout before) is brought forward.
    if (this.#timer !== null && this.#timerDueMs > this.#deadlineMs) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#timer === null) this.#arm(timeoutMs);
    try {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    } finally {
      this.#wake = null;
    }
  }

  /**
   * Makes sure a waitAsync for a change from `seen` is pending (made now, or left by a wait that
   * timed out); false if the counter moved already. A waitAsync left from an older value only
   * clears itself when it resolves: its ring is already counted, so it wakes nobody.
   */
  #listenFrom(seen: number): boolean {
    if (this.#listening !== null && this.#listeningFrom === seen) return true;
    const waited = Atomics.waitAsync(this.counter, 0, seen);
    if (!waited.async) return false;
    const listening: Promise<void> = waited.value.then(() => {
      if (this.#listening !== listening) return;
      this.#listening = null;
      this.#wake?.();
    });
    this.#listening = listening;
    this.#listeningFrom = seen;
    return true;
  }

  #checkDeadline(): void {
    this.#timer = null;
    const wake = this.#wake;
    // No wait in progress: no timer until the next wait.
    if (wake === null) return;
    const remainingMs = this.#deadlineMs - performance.now();
    if (remainingMs > 0) this.#arm(remainingMs);
    else wake();
  }

  #arm(delayMs: number): void {
    this.#timerDueMs = performance.now() + delayMs;
    this.#timer = setTimeout(() => this.#checkDeadline(), delayMs).unref();
  }
}
