import type { Config } from '@arc/config';
import { LocalStorage } from '@arc/storage';
import { deleteReplayedSegments, prepareRecovery, replaySegments, type RecoveryPlan } from '@arc/wal';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { Logger } from './log.js';

/** What the last start's WAL recovery did (GET /api/wal/status). */
export interface WalRecoveryReport {
  state: 'off' | 'replaying' | 'done' | 'failed';
  segments: number;
  entries: number;
  entriesReplayed: number;
  entriesUnreadable: number;
  tailsTruncated: number;
  bytesTruncated: number;
  filesRolledForward: number;
  durationMs: number;
  error: string | null;
}

export function emptyRecoveryReport(): WalRecoveryReport {
  return { state: 'off', segments: 0, entries: 0, entriesReplayed: 0, entriesUnreadable: 0, tailsTruncated: 0, bytesTruncated: 0, filesRolledForward: 0, durationMs: 0, error: null };
}

/**
 * Step one, before any thread starts: the WAL directory is proven writable (else the start
 * fails with ARC_WAL_DIR_UNWRITABLE), journals and segments are read and repaired, committed
 * flushes rolled forward. Null with the WAL off.
 */
export async function prepareWal(config: Config, log: Logger): Promise<RecoveryPlan | null> {
  if (!config.wal.enabled) return null;
  const storage = new LocalStorage(config.storage.parquetRoot);
  const plan = await prepareRecovery(config.wal.dir, (file) => storage.publish(file.staging, file.key), (level, message) => log[level](message));
  if (plan.entryCount > 0) log.info(`WAL recovery: ${plan.entryCount} entries in ${plan.segments.length} segments to replay from ${plan.directory}`);
  return plan;
}

/**
 * Step two, with the threads running and before /ready answers 200: every entry is replayed
 * through the decoders (rows already in Parquet skipped), everything is flushed, and only then
 * are the replayed segments deleted. A failed flush keeps the segments (the next start replays
 * them again, still exactly once: the journals say what is already in Parquet).
 */
export async function replayWal(plan: RecoveryPlan, pipeline: IngestPipeline, report: WalRecoveryReport, log: Logger): Promise<void> {
  const started = performance.now();
  Object.assign(report, {
    state: 'replaying',
    segments: plan.segments.length,
    entries: plan.entryCount,
    tailsTruncated: plan.truncated.length,
    bytesTruncated: plan.truncated.reduce((sum, tail) => sum + tail.bytesDropped, 0),
    filesRolledForward: plan.filesRolledForward,
  });
  const outcome = await replaySegments(plan, (entry) => pipeline.replay(entry), (level, message) => log[level](message));
  report.entriesReplayed = outcome.entriesReplayed;
  report.entriesUnreadable = outcome.entriesUnreadable;
  const flushError = plan.entryCount === 0 ? null : await pipeline.flushAll();
  report.durationMs = Math.round(performance.now() - started);
  if (flushError !== null) {
    report.state = 'failed';
    report.error = `replayed rows could not be flushed (they stay buffered and retried; segments kept): ${flushError.message}`;
    log.error(`WAL recovery: ${report.error}`);
    return;
  }
  deleteReplayedSegments(plan);
  report.state = 'done';
  if (plan.entryCount > 0) log.info(`WAL recovery: ${outcome.entriesReplayed} entries replayed and flushed in ${report.durationMs} ms; replayed segments deleted`);
}
