export { ENTRY_PAYLOAD_BYTES_MAX, SYNC_LATENCY_BUCKETS_MS, STREAM_ID_MAX } from './limits.js';
export {
  encodeEntry,
  encodeFileHeader,
  encodeRequestEntry,
  requestEntryParts,
  encodeCancelEntry,
  cancelledSeqOf,
  decodeRequestEnvelope,
  ENTRY_HEADER_BYTES,
  FILE_HEADER_BYTES,
} from './wal-format.js';
export type { RequestEnvelope } from './wal-format.js';
export { parseLogBytes, readLogFileSync, truncateFileSync } from './segment-reader.js';
export type { LogEntry, LogFileContents, TornTail } from './segment-reader.js';
export { segmentFileName, parseSegmentName, listSegmentsSync } from './segment-names.js';
export type { SegmentName } from './segment-names.js';
export { WalStream, SyncMode, walWriteFailed, syncDirectory } from './wal-stream.js';
export type { WalStreamOptions } from './wal-stream.js';
export { coverageKey, coveredSeqOf } from './coverage.js';
export { FlushJournal, journalFileName, readJournalsSync } from './flush-journal.js';
export type { FlushRecord, StagedFile, JournalState } from './flush-journal.js';
export { WalStatCell, SYNC_HISTOGRAM_BUCKETS, createWalStatsBuffer, walStatsCells, summarizeWalStats, requestRotation } from './wal-stats.js';
export type { WalStatsSummary } from './wal-stats.js';
export { ensureWalDirectorySync, prepareRecovery, replaySegments, deleteReplayedSegments } from './recovery.js';
export type { RecoveryPlan, RecoveredSegment, TruncatedTail, ReplayEntry, ReplayOutcome, ReplayRefusal, RecoveryLog } from './recovery.js';
export {
  DEAD_LETTER_DIRECTORY,
  deadLetterDirectory,
  deadLetterId,
  deadLetterTotals,
  deadLetterTotalsSync,
  hasDeadLetterSync,
  listDeadLettersSync,
  parseDeadLetterId,
  readDeadLetterSync,
  removeDeadLetterSync,
  writeDeadLetterSync,
} from './dead-letter.js';
export type { DeadLetter, DeadLetterEntry, DeadLetterReason } from './dead-letter.js';
export { WalErrorCode } from './error-codes.js';
export { listWalFiles } from './wal-files.js';
export type { WalFile, WalFiles } from './wal-files.js';
export { createSyncChannel, InlineSyncRunner, runSyncThread, ThreadSyncRunner } from './sync-runner.js';
export type { SyncOutcome, SyncRunner } from './sync-runner.js';
