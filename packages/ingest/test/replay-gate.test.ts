// Proves the replay gate lets a refused WAL entry retry truly alone: `alone` starts only once every
// entry in flight has left, no entry enters while it runs, two `alone` calls never overlap, and
// everything waiting resumes afterwards; plus the envelope checks that turn a bad tag into a reason.
import { describe, expect, it } from 'vitest';
import { PayloadFormat } from '../src/frames.js';
import { envelopeOptions, ReplayGate } from '../src/wal-recovery.js';

/** Resolves once `condition` holds (polled on the microtask/timer queue), or fails after a deadline. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition never held');
    // Poll interval under the deadline above.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('ReplayGate', () => {
  it('runs alone after the entries in flight and before any new one', async () => {
    const gate = new ReplayGate();
    const events: string[] = [];
    await gate.enter();
    await gate.enter();
    let aloneDone = false;
    const alone = gate.alone(async () => {
      events.push('alone start');
      // Work that takes time, so that a late entry could overtake it if the gate let it.
      await new Promise((resolve) => setTimeout(resolve, 5));
      events.push('alone end');
      return 42;
    });
    const late = gate.enter().then(() => events.push('late entered'));
    void alone.then(() => (aloneDone = true));
    // Proving that nothing happens takes waiting: a little time for `alone` to start if the gate were broken.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(events).toEqual([]); // two entries still in flight
    gate.leave();
    events.push('first left');
    gate.leave();
    events.push('second left');
    expect(await alone).toBe(42);
    await late;
    await until(() => aloneDone);
    expect(events).toEqual(['first left', 'second left', 'alone start', 'alone end', 'late entered']);
    gate.leave();
  });

  it('never overlaps two alone calls', async () => {
    const gate = new ReplayGate();
    let running = 0;
    let most = 0;
    const task = async (): Promise<void> => {
      running++;
      most = Math.max(most, running);
      // Work that takes time, so that two overlapping calls would be seen running at once.
      await new Promise((resolve) => setTimeout(resolve, 3));
      running--;
    };
    await Promise.all([gate.alone(task), gate.alone(task), gate.alone(task)]);
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
