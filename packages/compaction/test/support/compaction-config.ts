// The compaction configuration of the package's tests: arc.conf's defaults, except that jobs come
// from triggers only (schedules that never fire during a test) and merges run small and unniced.
import type { CompactionConfig } from '@arc/config';

export const TEST_COMPACTION_CONFIG: CompactionConfig = {
  enabled: true,
  dedup: true,
  liveMaxFiles: 16,
  liveIntervalSeconds: 3600,
  minAgeHours: 1,
  minFiles: 2,
  dailyMinAgeHours: 24,
  targetFileBytes: 512 * 1024 * 1024,
  rowGroupSize: 122_880,
  compressionLevel: 3,
  memoryLimit: '256MB',
  threads: 1,
  maxConcurrentJobs: 1,
  hourlySchedule: '0 0 1 1 *',
  dailySchedule: '0 0 1 1 *',
  leaseSeconds: 600,
  nice: 0,
};
