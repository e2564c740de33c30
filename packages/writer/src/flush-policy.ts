import assert from 'node:assert/strict';

/**
 * When a buffer is flushed: on rows, bytes or age, whichever comes first (Arc's policy).
 * The age check runs on a timer a fraction of the flush age, so a buffer is flushed at most
 * `flushAgeMs * (1 + 1 / AGE_CHECKS_PER_FLUSH_AGE)` after its oldest row arrived.
 */
export const AGE_CHECKS_PER_FLUSH_AGE = 10;
/** Upper bound of the check interval, so large ages still notice full buffers of old data soon. */
export const AGE_CHECK_INTERVAL_MS_MAX = 500;
/** A failed flush is retried after this delay, doubling up to the maximum (disk full, EIO). */
export const FLUSH_RETRY_DELAY_MS_MIN = 100;
export const FLUSH_RETRY_DELAY_MS_MAX = 10_000;

export interface FlushPolicy {
  readonly flushRows: number;
  readonly flushBytesMax: number;
  readonly flushAgeMs: number;
}

export function isFlushDueBySize(policy: FlushPolicy, rowCount: number, byteCount: number): boolean {
  return rowCount >= policy.flushRows || byteCount >= policy.flushBytesMax;
}

export function isFlushDueByAge(policy: FlushPolicy, oldestAtMs: number, nowMs: number): boolean {
  return oldestAtMs > 0 && nowMs - oldestAtMs >= policy.flushAgeMs;
}

export function ageCheckIntervalMs(policy: FlushPolicy): number {
  assert.ok(policy.flushAgeMs > 0);
  return Math.max(1, Math.min(AGE_CHECK_INTERVAL_MS_MAX, Math.floor(policy.flushAgeMs / AGE_CHECKS_PER_FLUSH_AGE)));
}

export function nextRetryDelayMs(previousDelayMs: number): number {
  return Math.min(FLUSH_RETRY_DELAY_MS_MAX, Math.max(FLUSH_RETRY_DELAY_MS_MIN, previousDelayMs * 2));
}
