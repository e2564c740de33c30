// Proves the vitals gauges measure what they say: a thread without an event loop that worked 60 ms
// between two looks at its queue reports at least 60 ms of lag (sleeps not counted), and a thread
// whose event loop was blocked 60 ms reports that delay; both report a heap in use.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { defineTelemetry, PolledVitals, startThreadVitals, TelemetryBlock, VITAL_GAUGES, VITALS_SAMPLE_MS } from '../src/index.js';

const LAYOUT = defineTelemetry({ counters: [], gauges: [...VITAL_GAUGES] });
const BUSY_MS = 60;

function busy(milliseconds: number): void {
  const end = performance.now() + milliseconds;
  while (performance.now() < end) {
    // Spinning is the point: the thread does not look at its queue meanwhile.
  }
}

describe('thread vitals', () => {
  it('counts the longest stretch between two looks of a polling thread as its lag, sleeps left out', () => {
    const block = TelemetryBlock.create(LAYOUT, 1);
    const meter = block.claim(0);
    const windowMs = 50;
    const vitals = new PolledVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'), windowMs);
    vitals.looked();
    busy(BUSY_MS);
    // More than a window passed: this look publishes the stretch before it.
    vitals.looked();
    const lag = block.gaugeByThread('eventLoopLagSeconds')[0] ?? 0;
    expect(lag).toBeGreaterThanOrEqual(BUSY_MS / 1000);
    expect(block.gaugeByThread('heapUsedBytes')[0]).toBeGreaterThan(0);
    // Time spent between a look and a wake-up is a sleep (Atomics.wait): not lag. (Long, so that
    // the scheduler of a loaded machine cannot make the stretches around it as long.)
    const sleepMs = 400;
    vitals.looked();
    busy(sleepMs);
    vitals.woke();
    vitals.looked();
    expect(block.gaugeByThread('eventLoopLagSeconds')[0] ?? 1).toBeLessThan(sleepMs / 1000);
  });

  it('reports a blocked event loop as its delay', async () => {
    const block = TelemetryBlock.create(LAYOUT, 1);
    const meter = block.claim(0);
    const stop = startThreadVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
    try {
      // Blocks the loop between polls: the sampler does not measure the stretch before its first
      // tick, so one block right after the start could go unseen; the ones after it are not.
      await waitUntil('the blocked loop shows as lag', 5 * VITALS_SAMPLE_MS, () => {
        busy(BUSY_MS);
        return (block.gaugeByThread('eventLoopLagSeconds')[0] ?? 0) >= (BUSY_MS - 15) / 1000;
      });
      expect(block.gaugeByThread('heapUsedBytes')[0]).toBeGreaterThan(0);
    } finally {
      stop();
    }
  });
});
