import type { CompactionJob } from '@arc/compaction';

/** A queued hourly job of metrics.cpu with nothing known yet but its inputs; `overrides` set the rest. */
export function compactionJob(id: string, overrides: Partial<CompactionJob> = {}): CompactionJob {
  return {
    id,
    database: 'metrics',
    measurement: 'cpu',
    tier: 'hourly',
    partition: '2026/12/05/08',
    state: 'queued',
    trigger: 'schedule',
    inputFiles: 10,
    inputBytes: 1000,
    inputRows: null,
    outputRows: null,
    outputFiles: null,
    outputBytes: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    error: null,
    ...overrides,
  };
}
