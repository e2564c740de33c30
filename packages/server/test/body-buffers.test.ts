// Proves the write bodies' buffer pool reuses a buffer given back for the next body of its size
// class (and only then), keeps no more than its byte bound, leaves large bodies alone, refuses a
// buffer given back twice, and that readBodyInto collects a body in a pooled buffer, gives back
// the one it refuses and the one it outgrows.
import type { HttpResponse } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { BodyBufferPool } from '../src/body-buffers.js';
import { BODY_BUFFER_BYTES_MIN, BODY_BUFFER_POOLED_BYTES_MAX, BODY_BUFFER_POOL_BYTES_MAX } from '../src/limits.js';
import { readBodyInto } from '../src/request-body.js';

describe('BodyBufferPool', () => {
  it('rounds a body up to its power-of-two class and hands a given-back buffer to the next body of that class', () => {
    const pool = new BodyBufferPool();
    const first = pool.take(45_000);
    expect(first.byteLength).toBe(BODY_BUFFER_BYTES_MIN);
    pool.give(first.subarray(0, 45_000));
    expect(pool.freeBytes).toBe(BODY_BUFFER_BYTES_MIN);
    const larger = pool.take(BODY_BUFFER_BYTES_MIN + 1);
    expect(larger.byteLength).toBe(2 * BODY_BUFFER_BYTES_MIN);
    expect(larger.buffer).not.toBe(first.buffer);
    const second = pool.take(10);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.freeBytes).toBe(0);
    // Taken and not given back: the next body gets fresh memory.
    expect(pool.take(10).buffer).not.toBe(first.buffer);
  });

  it('gives a body over the largest class memory of its own size and keeps none of it', () => {
    const pool = new BodyBufferPool();
    const large = pool.take(BODY_BUFFER_POOLED_BYTES_MAX + 1);
    expect(large.byteLength).toBe(BODY_BUFFER_POOLED_BYTES_MAX + 1);
    pool.give(large);
    expect(pool.freeBytes).toBe(0);
    // Memory of no pooled size (an empty body, a slice of Node's shared pool) is left to the GC too.
    pool.give(Buffer.alloc(0));
    pool.give(Buffer.from('abc'));
    expect(pool.freeBytes).toBe(0);
  });

  it('keeps at most BODY_BUFFER_POOL_BYTES_MAX of free buffers', () => {
    const pool = new BodyBufferPool();
    const count = BODY_BUFFER_POOL_BYTES_MAX / BODY_BUFFER_POOLED_BYTES_MAX + 2;
    const taken = Array.from({ length: count }, () => pool.take(BODY_BUFFER_POOLED_BYTES_MAX));
    for (const buffer of taken) pool.give(buffer);
    expect(pool.freeBytes).toBe(BODY_BUFFER_POOL_BYTES_MAX);
  });

  it('refuses a buffer given back twice (a programmer error)', () => {
    const pool = new BodyBufferPool();
    const body = pool.take(100);
    pool.give(body);
    expect(() => pool.give(body)).toThrow(/given back twice/);
  });
});

describe('readBodyInto', () => {
  function read(pool: BodyBufferPool, bytesMax: number, contentLength: string): { outcomes: (Uint8Array | ArcError)[]; send: (byteCount: number, isLast: boolean) => void } {
    let onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
    const res = { onData: (handler: typeof onData) => (onData = handler) } as unknown as HttpResponse;
    const outcomes: (Uint8Array | ArcError)[] = [];
    readBodyInto(res, { contentLength, closesConnection: false }, bytesMax, pool, (outcome) => outcomes.push(outcome));
    return { outcomes, send: (byteCount, isLast) => onData?.(new Uint8Array(byteCount).fill(0x62).buffer, isLast) };
  }

  it('collects a body in a pooled buffer: the one given back before serves it, bytes intact', () => {
    const pool = new BodyBufferPool();
    const kept = pool.take(1000);
    pool.give(kept);
    const upload = read(pool, 1_000_000, '3000');
    upload.send(1000, false);
    upload.send(2000, true);
    const [body] = upload.outcomes;
    expect(body).toBeInstanceOf(Uint8Array);
    expect((body as Uint8Array).byteLength).toBe(3000);
    expect((body as Uint8Array).buffer).toBe(kept.buffer);
    expect((body as Uint8Array).every((byte) => byte === 0x62)).toBe(true);
  });

  it('gives back the buffer of a body it refuses, and the one a body without a length outgrew', () => {
    const pool = new BodyBufferPool();
    const refused = read(pool, 2000, '2000');
    refused.send(1500, false);
    refused.send(1500, true);
    expect(refused.outcomes[0]).toBeInstanceOf(ArcError);
    expect(pool.freeBytes).toBe(BODY_BUFFER_BYTES_MIN);
    const unsized = read(pool, 1_000_000, '');
    unsized.send(BODY_BUFFER_BYTES_MIN, false);
    unsized.send(1, true);
    const body = unsized.outcomes[0] as Uint8Array;
    expect(body.byteLength).toBe(BODY_BUFFER_BYTES_MIN + 1);
    expect(body.every((byte) => byte === 0x62)).toBe(true);
    // The first buffer was outgrown and came back; the body's own is the caller's.
    expect(pool.freeBytes).toBe(BODY_BUFFER_BYTES_MIN);
  });
});
