// Proves readBody's pace follows uWS's slow-upload count on a fake response and fake clock: a
// body stalled or short of 160 KiB per 6 s gets one 408, every 160 KiB opens a new window, a body
// that finishes leaves no timer behind, and a body over its limit gets one 413: at once on a
// keep-alive connection, and on one that closes after the answer only when the rest of the body
// has been dropped or a lingering bound (bytes, idle time, total time) is reached.
import type { HttpResponse } from 'uWebSockets.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArcError, ErrorKind } from '@arc/errors';
import { BODY_PROGRESS_BYTES, BODY_PROGRESS_WINDOW_MS, LINGER_BYTES_MAX, LINGER_IDLE_MS, LINGER_TIME_MS } from '../src/limits.js';
import { readBody } from '../src/request-body.js';

interface FakeUpload {
  readonly outcomes: (Uint8Array | ArcError)[];
  send(byteCount: number, isLast?: boolean): void;
}

function startRead(bytesMax = 10 * 1024 * 1024, contentLength = '', closesConnection = false): FakeUpload {
  let onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
  const res = { onData: (handler: typeof onData) => (onData = handler) } as unknown as HttpResponse;
  const outcomes: (Uint8Array | ArcError)[] = [];
  readBody(res, { contentLength, closesConnection }, bytesMax, (outcome) => outcomes.push(outcome));
  return {
    outcomes,
    send: (byteCount, isLast = false) => onData?.(new Uint8Array(byteCount).fill(0x61).buffer, isLast),
  };
}

function expectTimeout(outcomes: readonly (Uint8Array | ArcError)[]): void {
  expect(outcomes).toHaveLength(1);
  const [outcome] = outcomes;
  expect(outcome).toBeInstanceOf(ArcError);
  expect((outcome as ArcError).kind).toBe(ErrorKind.requestTimeout);
  expect((outcome as ArcError).code).toBe('ARC_BODY_TOO_SLOW');
}

describe('readBody', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands over a body sent in chunks and leaves no timer', () => {
    const upload = startRead();
    upload.send(1000);
    upload.send(24, true);
    expect(upload.outcomes).toHaveLength(1);
    expect((upload.outcomes[0] as Uint8Array).byteLength).toBe(1024);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers 408 once when a body stalls for a whole window, and ignores later chunks', () => {
    const upload = startRead();
    upload.send(1000);
    vi.advanceTimersByTime(BODY_PROGRESS_WINDOW_MS - 1);
    expect(upload.outcomes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expectTimeout(upload.outcomes);
    upload.send(10, true);
    expect(upload.outcomes).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('opens a new window after every 160 KiB, and times out a trickle below it', () => {
    const upload = startRead();
    vi.advanceTimersByTime(5000);
    upload.send(BODY_PROGRESS_BYTES);
    // The window restarted at 5 s: at 10.999 s still in time.
    vi.advanceTimersByTime(BODY_PROGRESS_WINDOW_MS - 1);
    upload.send(BODY_PROGRESS_BYTES - 1);
    expect(upload.outcomes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expectTimeout(upload.outcomes);
  });

  it('answers 413 once when the body passes its limit, and stops the pace', () => {
    const upload = startRead(100);
    upload.send(60);
    upload.send(60);
    upload.send(10, true);
    expect(upload.outcomes).toHaveLength(1);
    expect((upload.outcomes[0] as ArcError).kind).toBe(ErrorKind.tooLarge);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers 413 on a closing connection only when the rest of the body has arrived, and drops it', () => {
    const upload = startRead(100, '', true);
    upload.send(60);
    upload.send(60);
    upload.send(BODY_PROGRESS_BYTES);
    expect(upload.outcomes).toHaveLength(0);
    upload.send(10, true);
    expectTooLarge(upload.outcomes);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers a declared body over the limit at once on keep-alive, after the drain on a closing connection', () => {
    const keepAlive = startRead(100, '1000');
    expectTooLarge(keepAlive.outcomes);
    expect(vi.getTimerCount()).toBe(0);
    const closing = startRead(100, '1000', true);
    closing.send(500);
    expect(closing.outcomes).toHaveLength(0);
    closing.send(500, true);
    expectTooLarge(closing.outcomes);
  });

  it('ends the drain after LINGER_BYTES_MAX bytes', () => {
    const upload = startRead(100, String(10 * LINGER_BYTES_MAX), true);
    upload.send(LINGER_BYTES_MAX - 1);
    expect(upload.outcomes).toHaveLength(0);
    upload.send(1);
    expectTooLarge(upload.outcomes);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends the drain after LINGER_IDLE_MS without a byte (a client waiting for the answer)', () => {
    const upload = startRead(100, '1000', true);
    vi.advanceTimersByTime(LINGER_IDLE_MS - 1);
    expect(upload.outcomes).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expectTooLarge(upload.outcomes);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends the drain after LINGER_TIME_MS, however steadily the body keeps coming', () => {
    const upload = startRead(100, String(LINGER_BYTES_MAX), true);
    for (let elapsedMs = 0; elapsedMs < LINGER_TIME_MS - 500; elapsedMs += 500) {
      upload.send(BODY_PROGRESS_BYTES);
      vi.advanceTimersByTime(500);
    }
    expect(upload.outcomes).toHaveLength(0);
    vi.advanceTimersByTime(500);
    expectTooLarge(upload.outcomes);
    expect(vi.getTimerCount()).toBe(0);
  });
});

function expectTooLarge(outcomes: readonly (Uint8Array | ArcError)[]): void {
  expect(outcomes).toHaveLength(1);
  expect((outcomes[0] as ArcError).code).toBe('ARC_PAYLOAD_TOO_LARGE');
}
