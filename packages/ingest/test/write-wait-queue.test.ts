// Proves the acceptor's wait queue keeps its promises on its own (no threads): writes leave in
// arrival order (also one that came back from a decoder and waits again), the bytes held never
// pass the bound except for a lone request, deadlines take out exactly the expired writes from
// the front, and a stop takes every waiting write out with its bytes.
import { describe, expect, it } from 'vitest';
import { WriteWaitQueue, type WaitingWrite } from '../src/write-wait-queue.js';

interface Write extends WaitingWrite {
  readonly name: string;
}

const WAIT_MS = 100;

function write(name: string, arrivalSeq: number, bytes = 10): Write {
  return { name, arrivalSeq, bytes, deadlineMs: arrivalSeq * 10 + WAIT_MS };
}

function names(writes: readonly Write[]): string[] {
  return writes.map((entry) => entry.name);
}

/** Admits and parks each write (the pipeline's path when no ring can take it). */
function parked(queue: WriteWaitQueue<Write>, writes: readonly Write[]): void {
  for (const entry of writes) {
    expect(queue.admit(entry.bytes)).toBe(true);
    queue.park(entry);
  }
}

describe('WriteWaitQueue', () => {
  it('hands writes over first come, first served, and a write that came back waits ahead of later ones', () => {
    const queue = new WriteWaitQueue<Write>(1000);
    parked(queue, [write('a', 0), write('b', 1), write('c', 2)]);
    expect(queue.shift()?.name).toBe('a');
    expect(queue.shift()?.name).toBe('b');
    // 'a' went to a decoder, was refused for full buffers, and waits again: before 'c'.
    queue.park(write('a', 0));
    parked(queue, [write('d', 3)]);
    expect(queue.parkedCount).toBe(3);
    expect(queue.bytesParked).toBe(30);
    expect([queue.shift(), queue.shift(), queue.shift()].map((entry) => entry?.name)).toEqual(['a', 'c', 'd']);
    expect(queue.shift()).toBeUndefined();
    expect(queue.bytesParked).toBe(0);
  });

  it('admits writes while the bytes held (parked and in flight) fit the bound, and again after a release', () => {
    const queue = new WriteWaitQueue<Write>(100);
    expect(queue.admit(60)).toBe(true); // in flight
    expect(queue.admit(40)).toBe(true); // exactly at the bound
    expect(queue.admit(1)).toBe(false);
    expect(queue.bytesHeld).toBe(100);
    queue.release(60);
    expect(queue.admit(61)).toBe(false);
    expect(queue.admit(60)).toBe(true);
    expect(queue.bytesHeld).toBe(100);
    queue.release(100);
    expect(queue.bytesHeld).toBe(0);
  });

  it('always admits a lone write, even one larger than the bound, and nothing beside it', () => {
    const queue = new WriteWaitQueue<Write>(100);
    expect(queue.admit(500)).toBe(true);
    expect(queue.admit(1)).toBe(false);
    queue.release(500);
    expect(queue.admit(1)).toBe(true);
  });

  it('takes out exactly the writes whose deadline has passed, oldest first, and names the next deadline', () => {
    const queue = new WriteWaitQueue<Write>(1000);
    parked(queue, [write('a', 0), write('b', 1), write('c', 5)]);
    expect(queue.nextDeadlineMs()).toBe(100);
    expect(names(queue.takeExpired(99))).toEqual([]);
    expect(names(queue.takeExpired(110))).toEqual(['a', 'b']);
    expect(queue.nextDeadlineMs()).toBe(150);
    expect(queue.bytesParked).toBe(10);
    // Taken out is not released: their bytes stay held until they are answered.
    expect(queue.bytesHeld).toBe(30);
    expect(names(queue.takeExpired(1000))).toEqual(['c']);
    expect(queue.nextDeadlineMs()).toBeNull();
  });

  it('gives every waiting write back on a stop, in arrival order, leaving nothing parked', () => {
    const queue = new WriteWaitQueue<Write>(1000);
    parked(queue, [write('a', 0), write('b', 1), write('c', 2)]);
    expect(names(queue.takeAll())).toEqual(['a', 'b', 'c']);
    expect(queue.parkedCount).toBe(0);
    expect(queue.bytesParked).toBe(0);
    expect(queue.peek()).toBeUndefined();
    expect(queue.takeAll()).toEqual([]);
  });

  it('refuses to park a write it never admitted, or to release more than it holds', () => {
    const queue = new WriteWaitQueue<Write>(1000);
    expect(() => queue.park(write('a', 0))).toThrow(/admitted/);
    expect(queue.admit(10)).toBe(true);
    expect(() => queue.release(11)).toThrow(/admitted/);
  });
});
