import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/**
 * What each query thread publishes in its telemetry block: its vitals, its DuckDB instance's
 * memory and its series path. Pool threads know no index of their own: each claims a free block (claimAny).
 */
export const QUERY_TELEMETRY = defineTelemetry({
  // Queries answered from the series cache (series-window.ts), and the bytes that cache holds.
  counters: ['seriesWindows'],
  gauges: [...VITAL_GAUGES, 'duckdbMemoryBytes', 'seriesCacheBytes'],
});

/**
 * Blocks per query thread: the pool replaces a thread that died, and the new one claims a block of
 * its own (the dead one's counts stay). Twice the threads covers as many replacements; past that
 * a new thread publishes nothing (a pool replacing threads that often has a bigger problem).
 */
export const QUERY_TELEMETRY_BLOCKS_PER_THREAD = 2;
