import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/**
 * What each compaction merge thread publishes: its vitals and its DuckDB instance's memory. Merge
 * threads start on first need, so each claims a free block (claimAny).
 */
export const MERGE_TELEMETRY = defineTelemetry({
  counters: [],
  gauges: [...VITAL_GAUGES, 'duckdbMemoryBytes'],
});

/** Blocks per concurrent job: a merge thread stopped (compaction closing) and started again claims a new one. */
export const MERGE_TELEMETRY_BLOCKS_PER_JOB = 2;
