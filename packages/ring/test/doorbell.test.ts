// Proves the main thread's Doorbell.wait: it returns at once when the counter has moved, wakes on
// a ring from another thread, ends after its timeout when nobody rings (a short one after a long
// one too), and leaves at most one waiter registered however many waits time out in a row
// (Atomics.notify counts the waiters).
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Doorbell } from '../src/index.js';

/** Waiters Atomics.notify finds on the doorbell's counter (and wakes: they resolve harmlessly). */
function wakeWaiters(doorbell: Doorbell): number {
  return Atomics.notify(new Int32Array(doorbell.shared, 0, 1), 0);
}

describe('Doorbell.wait (main thread)', () => {
  it('returns at once when the counter moved since it was read', async () => {
    const doorbell = Doorbell.create();
    const seen = doorbell.current();
    doorbell.ring();
    const started = performance.now();
    await doorbell.wait(seen, 60_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('wakes on a ring from another thread, long before its timeout', async () => {
    const doorbell = Doorbell.create();
    const seen = doorbell.current();
    // The ring comes 20 ms later, so the wait most likely sleeps first; a ring before the wait
    // began is the "counter moved" case above, and the assertions hold either way.
    const ringer = new Worker(
      `const { workerData } = require('node:worker_threads');
       const counter = new Int32Array(workerData, 0, 1);
       setTimeout(() => { Atomics.add(counter, 0, 1); Atomics.notify(counter, 0); }, 20);`,
      { eval: true, workerData: doorbell.shared },
    );
    try {
      const started = performance.now();
      await doorbell.wait(seen, 60_000);
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(doorbell.current()).toBe(seen + 1);
    } finally {
      await ringer.terminate();
    }
  });

  it('ends after its timeout when nobody rings, and leaves one waiter after many timeouts', async () => {
    const doorbell = Doorbell.create();
    const seen = doorbell.current();
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      await doorbell.wait(seen, 20);
      // Timers may fire a little early or late; the wait lasted about its timeout, not until a ring.
      expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    }
    expect(doorbell.current()).toBe(seen);
    expect(wakeWaiters(doorbell)).toBeLessThanOrEqual(1);
  });

  it('keeps a short timeout after a long wait that a ring ended', async () => {
    const doorbell = Doorbell.create();
    const seen = doorbell.current();
    const long = doorbell.wait(seen, 60_000);
    setImmediate(() => doorbell.ring());
    await long;
    const started = performance.now();
    await doorbell.wait(doorbell.current(), 20);
    const waitedMs = performance.now() - started;
    expect(waitedMs).toBeGreaterThanOrEqual(15);
    expect(waitedMs).toBeLessThan(30_000);
  });

  it('after a timed-out wait, a ring ends the next wait on the same value', async () => {
    const doorbell = Doorbell.create();
    const seen = doorbell.current();
    await doorbell.wait(seen, 10);
    const woken = doorbell.wait(seen, 60_000);
    setImmediate(() => doorbell.ring());
    const started = performance.now();
    await woken;
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(wakeWaiters(doorbell)).toBe(0);
  });
});
