/**
 * Coverage watermarks: per (stream, database, measurement), the highest WAL seq whose rows are in
 * durable Parquet. The flush journals record them, the WAL stream deletes covered segments by
 * them, and replay skips what they cover.
 */

/** Key of a coverage watermark. Database and measurement names never contain '/'. */
export function coverageKey(stream: number, database: string, measurement: string): string {
  return `${stream}/${database}/${measurement}`;
}

/**
 * Sequence numbers start at 1 (segmentFileName asserts it), so a key with no watermark yet is
 * covered up to 0: nothing of it is in durable Parquet.
 */
const NOTHING_COVERED_SEQ = 0;

/** The highest seq of `key` (a coverageKey) in durable Parquet; NOTHING_COVERED_SEQ when none is. */
export function coveredSeqOf(coverage: ReadonlyMap<string, number>, key: string): number {
  return coverage.get(key) ?? NOTHING_COVERED_SEQ;
}
