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
  return planRangeRemoval(files, null, cutoffUs);
}

/** The remove predicate of a file straddling a bound of [fromUs, toUs): the rows inside the range. */
export function rangeRemoveWhere(fromUs: number, toUs: number): string {
  assert.ok(Number.isSafeInteger(fromUs), 'the range start is whole microseconds');
  assert.ok(fromUs < toUs, 'the range is not empty');
  return `${quoteIdentifier(TIME_COLUMN)} >= make_timestamp(${String(fromUs)}::BIGINT) AND ${retentionRemoveWhere(toUs)}`;
}

/**
 * The plan that removes the rows in [fromUs, toUs) (fromUs null: every row before toUs, which is
 * retention's plan): a file wholly inside the range is dropped; one holding rows inside it and
 * rows outside (straddling either bound) is rewritten without the rows inside
 * (rangeRemoveWhere, or retentionRemoveWhere when there is no lower bound); the rest are left.
 * A continuous query's source removal bounds it below by what the query rolled up.
 */
export function planRangeRemoval(files: readonly CatalogFile[], fromUs: number | null, toUs: number): RetentionPlan {
  if (fromUs !== null && fromUs >= toUs) return { drop: [], rewrite: [], dropBytes: 0, dropRows: 0 };
  const lowerUs = fromUs ?? Number.NEGATIVE_INFINITY;
  const overlaps = (file: CatalogFile): boolean => file.maxTimeUs >= lowerUs && file.minTimeUs < toUs;
  const inside = (file: CatalogFile): boolean => file.minTimeUs >= lowerUs && file.maxTimeUs < toUs;
  const drop = files.filter((file) => inside(file));
  const rewrite = files.filter((file) => overlaps(file) && !inside(file));
  const dropBytes = drop.reduce((sum, file) => sum + file.bytes, 0);
  const dropRows = drop.every((file) => file.rows !== null) ? drop.reduce((sum, file) => sum + (file.rows ?? 0), 0) : null;
  return { drop, rewrite, dropBytes, dropRows };
}
