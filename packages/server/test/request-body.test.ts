// Proves readBody's pace follows uWS's slow-upload count on a fake response and fake clock: a
// body stalled or short of 160 KiB per 6 s gets one 408, every 160 KiB opens a new window, a body
// that finishes leaves no timer behind, and a body over its limit gets one 413.
import type { HttpResponse } from 'uWebSockets.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ArcError, ErrorKind } from '@arc/config';
import { BODY_PROGRESS_BYTES, BODY_PROGRESS_WINDOW_MS } from '../src/limits.js';
import { readBody } from '../src/request-body.js';

interface FakeUpload {
  readonly outcomes: (Uint8Array | ArcError)[];
  send(byteCount: number, isLast?: boolean): void;
}

function startRead(bytesMax = 10 * 1024 * 1024): FakeUpload {
  let onData: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null;
  const res = { onData: (handler: typeof onData) => (onData = handler) } as unknown as HttpResponse;
  const outcomes: (Uint8Array | ArcError)[] = [];
  readBody(res, '', bytesMax, (outcome) => outcomes.push(outcome));
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
});
