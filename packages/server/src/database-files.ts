import type { DatabaseUsage, MeasurementUsage } from '@arc/storage';

/**
 * What the databases API reports, from the storage catalog (packages/storage): committed files
 * only, no disk read per request.
 */

const BYTES_PER_MB = 1024 * 1024;

function sizeMb(bytes: number): number {
  return Math.round((bytes / BYTES_PER_MB) * 1000) / 1000;
}

/** A database as the API shows it: `{name, measurement_count, file_count, total_size_bytes, total_size_mb}`. */
export function databaseJson(usage: DatabaseUsage): Record<string, string | number> {
  return {
    name: usage.name,
    measurement_count: usage.measurements.length,
    file_count: usage.fileCount,
    total_size_bytes: usage.sizeBytes,
    total_size_mb: sizeMb(usage.sizeBytes),
  };
}

export function measurementJson(usage: MeasurementUsage): Record<string, string | number> {
  return { name: usage.name, file_count: usage.fileCount, total_size_bytes: usage.sizeBytes, total_size_mb: sizeMb(usage.sizeBytes) };
}
