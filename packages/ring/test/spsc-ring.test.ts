// Proves the SPSC ring keeps frames whole, in order and never overwritten: single-threaded edge
// cases (full ring, wrap-around, oversize frames) and a two-thread stress run with checksums,
// the consumer sleeping on a Doorbell between frames.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Doorbell, SpscRing } from '../src/index.js';

function frame(seed: number, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (seed * 31 + i) & 0xff;
  return out;
}

describe('SpscRing', () => {
  it('returns frames in order with their exact bytes, across wrap-arounds', () => {
    const ring = SpscRing.create(4096);
    for (let seed = 0; seed < 500; seed++) {
      const bytes = 1 + ((seed * 97) % ring.payloadBytesMax);
      expect(ring.tryWrite([frame(seed, bytes)])).toBe(true);
      const got = ring.peek();
      expect(got).not.toBeNull();
      expect(Buffer.from(got ?? new Uint8Array()).equals(Buffer.from(frame(seed, bytes)))).toBe(true);
      ring.release();
      expect(ring.peek()).toBeNull();
    }
    expect(ring.usedBytes()).toBe(0);
  });

  it('refuses a frame when full instead of overwriting unread bytes', () => {
    const ring = SpscRing.create(4096);
    let written = 0;
    while (ring.tryWrite([frame(written, 500)])) written++;
    expect(written).toBeGreaterThanOrEqual(7);
    for (let seed = 0; seed < written; seed++) {
      const got = ring.peek();
      expect(Buffer.from(got ?? new Uint8Array()).equals(Buffer.from(frame(seed, 500)))).toBe(true);
      ring.release();
    }
    expect(ring.peek()).toBeNull();
    expect(ring.tryWrite([frame(1, 500)])).toBe(true);
  });

  it('concatenates parts into one frame', () => {
    const ring = SpscRing.create(4096);
    expect(ring.tryWrite([Uint8Array.of(1, 2), Uint8Array.of(), Uint8Array.of(3)])).toBe(true);
    expect([...(ring.peek() ?? [])]).toEqual([1, 2, 3]);
  });

  it('copies views at an offset of their memory and Buffers (a body from a pool) byte for byte', () => {
    const ring = SpscRing.create(4096);
    const view = Uint8Array.of(9, 8, 7, 6, 5).subarray(1, 4);
    const pooled = Buffer.from([0, 0, 4, 3, 0]).subarray(2, 4);
    expect(ring.tryWrite([view, pooled, Uint8Array.of(2)])).toBe(true);
    expect([...(ring.peek() ?? [])]).toEqual([8, 7, 6, 4, 3, 2]);
  });

  it('asserts on a frame larger than payloadBytesMax (a programmer error)', () => {
    const ring = SpscRing.create(4096);
    expect(() => ring.tryWrite([new Uint8Array(ring.payloadBytesMax + 1)])).toThrow(/payloadBytesMax/);
  });

  it('moves 20,000 frames between two threads without loss or corruption', async () => {
    const ring = SpscRing.create(1 << 16);
    const doorbell = Doorbell.create();
    const ringModule = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const frames = 20_000;
    const consumer = new Worker(
      `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.ringModule).then(({ SpscRing, Doorbell }) => {
        const ring = new SpscRing(workerData.shared);
        const doorbell = new Doorbell(workerData.doorbell);
        let count = 0, checksum = 0, bad = 0;
        while (count < workerData.frames) {
          const seen = doorbell.current();
          const payload = ring.peek();
          if (payload === null) { doorbell.waitSync(seen, 1000); continue; }
          const seed = payload[0] | (payload[1] << 8) | (payload[2] << 16);
          if (seed !== count) bad++;
          for (let i = 3; i < payload.length; i++) if (payload[i] !== ((seed + i) & 0xff)) bad++;
          checksum = (checksum + payload.length) | 0;
          ring.release();
          count++;
        }
        parentPort.postMessage({ count, checksum, bad });
      }).catch((error) => parentPort.postMessage({ error: String(error) }));
      `,
      { eval: true, workerData: { shared: ring.shared, doorbell: doorbell.shared, ringModule, frames } },
    );
    const result = new Promise<{ count: number; checksum: number; bad: number }>((resolve, reject) => {
      consumer.once('message', resolve);
      consumer.once('error', reject);
    });
    let expectedChecksum = 0;
    // An object, not a local: the finally callback sets it while the loop awaits.
    const consumerState = { done: false };
    void result.finally(() => (consumerState.done = true));
    for (let seed = 0; seed < frames && !consumerState.done; ) {
      const bytes = 3 + ((seed * 7919) % 3000);
      const payload = new Uint8Array(bytes);
      payload[0] = seed & 0xff;
      payload[1] = (seed >> 8) & 0xff;
      payload[2] = (seed >> 16) & 0xff;
      for (let i = 3; i < bytes; i++) payload[i] = (seed + i) & 0xff;
      if (ring.tryWrite([payload])) {
        doorbell.ring();
        expectedChecksum = (expectedChecksum + bytes) | 0;
        seed++;
      } else {
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(await result).toEqual({ count: frames, checksum: expectedChecksum, bad: 0 });
    await consumer.terminate();
  });
});
