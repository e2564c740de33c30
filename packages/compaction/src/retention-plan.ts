import assert from 'node:assert/strict';
import { TIME_COLUMN, quoteIdentifier } from '@arc/columnar';
import { MICROS_PER_DAY, type CatalogFile } from '@arc/storage';
import type { RetentionPolicySpec } from './retention-policy.js';

/**
 * What one run of a retention policy does to a measurement's files, decided from the catalog
 * alone (each file's time bounds are in its name): a file whose newest row is older than the
 * cut-off is deleted whole (Compactor.rewrite with no predicate: unread, through the lease and a
 * replace manifest); a file whose oldest row is at or after it is left; a file that
 * straddles it is rewritten without the rows before it (Compactor.rewrite with
 * retentionRemoveWhere), atomically like compaction. A name without bounds gives its partition's
 * bounds, which only ever makes a file look wider: never a kept row deleted.
 */
export interface RetentionPlan {
  /** Wholly expired: deleted. */
  readonly drop: readonly CatalogFile[];
  /** Straddling the cut-off: rewritten without the expired rows. */
  readonly rewrite: readonly CatalogFile[];
  /** What the drops remove (a dry run shows it; rows null when a name does not say). */
  readonly dropBytes: number;
  readonly dropRows: number | null;
}

/** The instant (µs) before which a policy's run removes rows: now - (retention_days + buffer_days) days. */
export function retentionCutoffUs(policy: Pick<RetentionPolicySpec, 'retentionDays' | 'bufferDays'>, nowMs: number): number {
  assert.ok(Number.isSafeInteger(nowMs), 'now is whole milliseconds');
  return nowMs * 1000 - (policy.retentionDays + policy.bufferDays) * MICROS_PER_DAY;
}

/** The remove predicate of a straddling file's rewrite: the rows older than the cut-off. */
export function retentionRemoveWhere(cutoffUs: number): string {
  assert.ok(Number.isSafeInteger(cutoffUs), 'the cut-off is whole microseconds');
  return `${quoteIdentifier(TIME_COLUMN)} < make_timestamp(${String(cutoffUs)}::BIGINT)`;
}

export function planRetention(files: readonly CatalogFile[], cutoffUs: number): RetentionPlan {
  const drop = files.filter((file) => file.maxTimeUs < cutoffUs);
  const rewrite = files.filter((file) => file.minTimeUs < cutoffUs && file.maxTimeUs >= cutoffUs);
  const dropBytes = drop.reduce((sum, file) => sum + file.bytes, 0);
  const dropRows = drop.every((file) => file.rows !== null) ? drop.reduce((sum, file) => sum + (file.rows ?? 0), 0) : null;
  return { drop, rewrite, dropBytes, dropRows };
}
