// Proves a telemetry block adds up exactly: eight worker threads each increment their own block
// (counters, a histogram, a gauge) with no lock while the main thread reads; the reader's sums
// equal what the threads counted, histogram buckets fall at Prometheus' `le` bounds, and blocks
// are claimed by one thread each.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { defineTelemetry, TelemetryBlock } from '../src/index.js';

const LAYOUT = defineTelemetry({
  counters: ['requests', 'bytes'],
  gauges: ['depth'],
  histograms: { seconds: [0.01, 0.1, 1] },
});

describe('TelemetryBlock', () => {
  it('sums counters and histograms over threads, lists gauges per thread', () => {
    const block = TelemetryBlock.create(LAYOUT, 3);
    const meters = [block.claim(0), block.claim(1), block.claim(2)];
    meters.forEach((meter, index) => {
      meter.counter('requests').add(index + 1);
      meter.counter('bytes').add(1000 * (index + 1));
      meter.gauge('depth').set(index * 10);
    });
    expect(block.counterTotal('requests')).toBe(6);
    expect(block.counterTotal('bytes')).toBe(6000);
    expect(block.counterByThread('requests')).toEqual([1, 2, 3]);
    expect(block.gaugeByThread('depth')).toEqual([0, 10, 20]);
  });

  it('puts an observation in the first bucket whose bound is at least the value', () => {
    const block = TelemetryBlock.create(LAYOUT, 1);
    const seconds = block.claim(0).histogram('seconds');
    // 0.01 is <= 0.01 (le is inclusive); 0.0100001 is not.
    for (const value of [0, 0.01, 0.0100001, 0.1, 0.5, 1, 2, 100]) seconds.observe(value);
    const snapshot = block.histogram('seconds');
    expect(snapshot.bounds).toEqual([0.01, 0.1, 1]);
    expect(snapshot.cumulative).toEqual([2, 4, 6, 8]);
    expect(snapshot.count).toBe(8);
    expect(snapshot.sum).toBeCloseTo(0 + 0.01 + 0.0100001 + 0.1 + 0.5 + 1 + 2 + 100, 9);
  });

  it('gives each block to one thread: a second claim of an index fails, claimAny takes the free ones', () => {
    const block = TelemetryBlock.create(LAYOUT, 2);
    block.claim(1);
    expect(() => block.claim(1)).toThrow(/one thread per block/);
    expect(block.claimAny()?.threadIndex).toBe(0);
    expect(block.claimAny()).toBeNull();
    expect(block.claimedThreads()).toEqual([0, 1]);
  });

  it('rebuilds the same view from the shared buffer alone (what a worker receives)', () => {
    const block = TelemetryBlock.create(LAYOUT, 5);
    const other = new TelemetryBlock(LAYOUT, block.shared);
    other.claim(4).counter('requests').add(7);
    expect(other.threadCount).toBe(5);
    expect(block.counterTotal('requests')).toBe(7);
    expect(() => new TelemetryBlock(LAYOUT, new SharedArrayBuffer(12))).toThrow();
  });

  it('refuses layouts with unsorted bounds or a name used twice', () => {
    expect(() => defineTelemetry({ counters: [], gauges: [], histograms: { h: [1, 1] } })).toThrow(/ascend/);
    expect(() => defineTelemetry({ counters: ['a'], gauges: ['a'] })).toThrow(/unique/);
  });

  it('adds up exactly with eight threads incrementing at once while the main thread reads', async () => {
    const threads = 8;
    const increments = 200_000;
    const block = TelemetryBlock.create(LAYOUT, threads);
    const telemetryModule = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.telemetryModule).then(({ defineTelemetry, TelemetryBlock }) => {
        const layout = defineTelemetry({ counters: ['requests', 'bytes'], gauges: ['depth'], histograms: { seconds: [0.01, 0.1, 1] } });
        const meter = new TelemetryBlock(layout, workerData.shared).claimAny();
        const requests = meter.counter('requests');
        const bytes = meter.counter('bytes');
        const seconds = meter.histogram('seconds');
        for (let i = 0; i < workerData.increments; i++) {
          requests.add();
          bytes.add(3);
          seconds.observe((i % 4) * 0.05);
        }
        meter.gauge('depth').set(meter.threadIndex + 1);
        parentPort.postMessage('done');
      });
    `;
    const workers = Array.from({ length: threads }, () => new Worker(source, { eval: true, workerData: { shared: block.shared, increments, telemetryModule } }));
    const finished = Promise.all(workers.map((worker) => new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    })));
    // Reads while the threads write never go down (a torn or lost store would show as a drop).
    let last = 0;
    const state = { settled: false };
    void finished.finally(() => (state.settled = true));
    while (!state.settled) {
      const now = block.counterTotal('requests');
      expect(now).toBeGreaterThanOrEqual(last);
      last = now;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await finished;
    await Promise.all(workers.map((worker) => worker.terminate()));
    expect(block.counterTotal('requests')).toBe(threads * increments);
    expect(block.counterTotal('bytes')).toBe(threads * increments * 3);
    const seconds = block.histogram('seconds');
    // Values 0, 0.05, 0.1, 0.15 in turn: a quarter <= 0.01, three quarters <= 0.1 (0.1 included), all <= 1.
    expect(seconds.cumulative).toEqual([threads * increments / 4, threads * increments * 3 / 4, threads * increments, threads * increments]);
    expect(seconds.count).toBe(threads * increments);
    expect([...block.gaugeByThread('depth')].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
