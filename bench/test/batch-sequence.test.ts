// Proves the loader threads' shared batch order (bench/ingest/batch-sequence.mjs): whichever
// thread takes the n-th batch, it is batch n mod N at use floor(n / N); a batch still held when its
// turn comes again is skipped, so no (batch, use) goes out twice; and real threads taking at once
// share one sequence without a gap or a repeat.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { BatchSequence } from '../ingest/batch-sequence.mjs';

const SEQUENCE_MODULE = new URL('../ingest/batch-sequence.mjs', import.meta.url).href;

describe('BatchSequence', () => {
  it('hands out the batches in one order however unevenly the takers take', () => {
    const batches = 5;
    const state = BatchSequence.allocate(batches);
    const fast = new BatchSequence(state, batches);
    const slow = new BatchSequence(state, batches);
    const taken: string[] = [];
    for (let round = 0; round < 6; round++) {
      for (const taker of [fast, fast, fast, slow]) {
        const next = taker.take();
        expect(next).not.toBeNull();
        taken.push(`${next!.batch}@${next!.use}`);
        taker.release(next!.batch);
      }
    }
    expect(taken).toEqual(Array.from({ length: 24 }, (_, n) => `${n % batches}@${Math.floor(n / batches)}`));
  });

  it('skips a batch still held when its turn comes again, and returns null when all are held', () => {
    const batches = 3;
    const sequence = new BatchSequence(BatchSequence.allocate(batches), batches);
    const held = sequence.take();
    expect(held).toEqual({ batch: 0, use: 0 });
    expect(sequence.take()).toEqual({ batch: 1, use: 0 });
    sequence.release(1);
    expect(sequence.take()).toEqual({ batch: 2, use: 0 });
    sequence.release(2);
    // Batch 0's use 1 is skipped (still in flight): batch 1's use 1 comes next.
    expect(sequence.take()).toEqual({ batch: 1, use: 1 });
    expect(sequence.take()).toEqual({ batch: 2, use: 1 });
    expect(sequence.take()).toBeNull(); // 0, 1 and 2 held
    sequence.release(0);
    sequence.release(1);
    sequence.release(2);
    expect(sequence.take()).toEqual({ batch: 0, use: 3 }); // the null's tries used up use 2 of each
  });

  it('shares which use each batch is stamped for', () => {
    const state = BatchSequence.allocate(2);
    const one = new BatchSequence(state, 2);
    const other = new BatchSequence(state, 2);
    expect(other.stampedUse(1)).toBe(0); // as encoded
    one.stamped(1, 7);
    expect(other.stampedUse(1)).toBe(7);
    expect(other.stampedUse(0)).toBe(0);
    expect(() => new BatchSequence(state, 3)).toThrow('does not fit 3 batches');
  });

  it('is one sequence across threads taking at once: no number twice, none missing', async () => {
    // More batches than takes: no turn can come round to a batch another thread still holds (a
    // thread descheduled while holding one would make the others skip it), so the numbers handed
    // out must be exactly 0..n-1.
    const batches = 1 << 20;
    const takesPerThread = 20_000;
    const state = BatchSequence.allocate(batches);
    const source = `
      import { workerData, parentPort } from 'node:worker_threads';
      const { BatchSequence } = await import(workerData.module);
      const sequence = new BatchSequence(workerData.state, workerData.batches);
      const numbers = new Int32Array(workerData.takes);
      for (let i = 0; i < numbers.length; i++) {
        const next = sequence.take();
        numbers[i] = next.use * workerData.batches + next.batch;
        sequence.release(next.batch);
      }
      parentPort.postMessage(numbers, [numbers.buffer]);`;
    const run = () =>
      new Promise<Int32Array>((resolve, reject) => {
        const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(source)}`), {
          workerData: { module: SEQUENCE_MODULE, state, batches, takes: takesPerThread },
        });
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    const results = await Promise.all([run(), run(), run()]);
    const all = results.flatMap((numbers) => [...numbers]).sort((a, b) => a - b);
    expect(all).toHaveLength(3 * takesPerThread);
    expect(all.every((number, index) => number === index)).toBe(true);
    for (const numbers of results) expect(numbers.every((number, i) => i === 0 || number > numbers[i - 1]!)).toBe(true);
  });
});
