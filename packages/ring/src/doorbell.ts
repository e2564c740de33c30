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

  /** Main thread: resolves once the counter differs from `seen` or `timeoutMs` passes. */
  async wait(seen: number, timeoutMs: number): Promise<void> {
    const waited = Atomics.waitAsync(this.counter, 0, seen, timeoutMs);
    if (waited.async) await waited.value;
  }
}
