// Proves the replay gate lets a refused WAL entry retry truly alone: `alone` starts only once every
// entry in flight has left, no entry enters while it runs, two `alone` calls never overlap, and
// everything waiting resumes afterwards; plus the envelope checks that turn a bad tag into a reason.
// The tasks end when the test says so (latches), so the order never depends on timing.
import { describe, expect, it } from 'vitest';
import { PayloadFormat } from '../src/frames.js';
import { envelopeOptions, ReplayGate } from '../src/wal-recovery.js';

/**
 * Lets every promise that can settle settle: the gate is promises only (no timers, no I/O), so
 * after one macrotask turn it has done all it can until the test acts again.
 */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A task the test ends when it chooses, so "while it runs" is a state, not a duration. */
function latch(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('ReplayGate', () => {
  it('runs alone after the entries in flight and before any new one', async () => {
    const gate = new ReplayGate();
    const events: string[] = [];
    await gate.enter();
    await gate.enter();
    const work = latch();
    const alone = gate.alone(async () => {
      events.push('alone start');
      await work.promise;
      events.push('alone end');
      return 42;
    });
    const late = gate.enter().then(() => events.push('late entered'));
    await settle();
    expect(events).toEqual([]); // two entries still in flight
    gate.leave();
    events.push('first left');
    gate.leave();
    events.push('second left');
    await settle();
    // `alone` runs; the late entry must wait for it however long it takes.
    expect(events).toEqual(['first left', 'second left', 'alone start']);
    work.open();
    expect(await alone).toBe(42);
    await late;
    expect(events).toEqual(['first left', 'second left', 'alone start', 'alone end', 'late entered']);
    gate.leave();
  });

  it('never overlaps two alone calls', async () => {
    const gate = new ReplayGate();
    const works = [latch(), latch(), latch()];
    let running = 0;
    let most = 0;
    const task = (index: number) => async (): Promise<void> => {
      running++;
      most = Math.max(most, running);
      await works[index]?.promise;
      running--;
    };
    const all = Promise.all(works.map((_, index) => gate.alone(task(index))));
    for (const work of works) {
      await settle();
      // Exactly one runs, however long: a second call overlapping it would show here.
      expect(running).toBe(1);
      work.open();
    }
    await all;
    expect(most).toBe(1);
  });
});

describe('envelopeOptions', () => {
  it('gives the logged request options, or why they cannot be rebuilt', () => {
    const body = new Uint8Array();
    expect(envelopeOptions({ database: 'db', format: PayloadFormat.lineProtocol, precision: 2, body }, 7)).toEqual({ format: PayloadFormat.lineProtocol, database: 'db', nowUs: 7, precision: 'ms' });
    expect(envelopeOptions({ database: 'db', format: 9, precision: 0, body }, 7)).toMatchObject({ code: 'ARC_WAL_ENTRY_UNREADABLE', message: expect.stringMatching(/format tag 9/) });
    expect(envelopeOptions({ database: 'db', format: PayloadFormat.json, precision: 15, body }, 7)).toMatchObject({ code: 'ARC_WAL_ENTRY_UNREADABLE', message: expect.stringMatching(/precision code 15/) });
  });
});
