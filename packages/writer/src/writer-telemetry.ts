import { defineTelemetry, VITAL_GAUGES } from '@arc/telemetry';

/** Seconds a flush takes, encode to published files: 5 ms (a small local flush) to a minute (a large one to an object store). */
export const FLUSH_SECONDS_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Bytes of one Parquet file a flush writes: 1 KiB to 1 GiB by powers of four. */
export const FILE_BYTES_BUCKETS: readonly number[] = Array.from({ length: 11 }, (_, power) => 1024 * 4 ** power);

/**
 * What each writer thread publishes in its telemetry block (the main thread allocates one block
 * per writer, index = writer index, and reads it at scrape time).
 */
export const WRITER_TELEMETRY = defineTelemetry({
  counters: ['flushes', 'flushFailures', 'filesWritten', 'rowsFlushed'],
  gauges: [...VITAL_GAUGES, 'bufferedRows', 'bufferedBytes', 'duckdbMemoryBytes'],
  histograms: { flushSeconds: FLUSH_SECONDS_BUCKETS, fileSizeBytes: FILE_BYTES_BUCKETS },
});
export type WriterTelemetry = typeof WRITER_TELEMETRY;
