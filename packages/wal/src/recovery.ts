import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ArcError, ErrorKind } from '@arc/errors';
import { DEAD_LETTER_DIRECTORY, deadLetterId, hasDeadLetterSync, listDeadLetterIdsSync, parseDeadLetterId, writeDeadLetterSync, type DeadLetterReason } from './dead-letter.js';
import { coverageKey } from './coverage.js';
import { readJournalsSync, type JournalState, type StagedFile } from './flush-journal.js';
import { readLogFileSync, truncateFileSync } from './segment-reader.js';
import { listSegmentsSync, listSparesSync } from './segment-names.js';
import { cancelledSeqOf, decodeRequestEnvelope, type RequestEnvelope } from './wal-format.js';
import { syncDirectory } from './wal-stream.js';
import { WalErrorCode } from './error-codes.js';

export interface RecoveredSegment {
  readonly stream: number;
  readonly firstSeq: number;
  readonly path: string;
  readonly entryCount: number;
  readonly bytes: number;
}

export interface TruncatedTail {
  readonly path: string;
  readonly offset: number;
  readonly bytesDropped: number;
  readonly reason: string;
}

/** What recovery found before any replay: read and repaired, nothing replayed yet. */
export interface RecoveryPlan {
  readonly directory: string;
  readonly segments: readonly RecoveredSegment[];
  readonly entryCount: number;
  /** coverageKey -> seq: which entries are already in durable Parquet, per measurement. */
  readonly coverage: ReadonlyMap<string, number>;
  /** Per stream, the first seq new entries may use (above every seq in a segment or journal). */
  readonly nextSeqByStream: ReadonlyMap<number, number>;
  readonly truncated: readonly TruncatedTail[];
  /** Staged Parquet files a committed flush named, renamed into place now. */
  readonly filesRolledForward: number;
  /** Dead letters already in `<directory>/dead-letter/` before this replay. */
  readonly deadLettersBefore: number;
}

export interface ReplayEntry {
  readonly stream: number;
  readonly seq: number;
  readonly timestampUs: number;
  readonly envelope: RequestEnvelope;
}

export interface ReplayOutcome {
  readonly entriesReplayed: number;
  /** Entries with a valid checksum but no readable envelope (kept as dead letters too). */
  readonly entriesUnreadable: number;
  /** Entries of this replay kept as dead letters (refused, or unreadable). */
  readonly entriesDeadLettered: number;
  /**
   * Dead letters that could not be written (their entries are only in their segments): the
   * caller must keep the segments.
   */
  readonly deadLetterWriteFailures: number;
}

/** `submit`'s answer: null once the entry's rows are accepted, else why it cannot be applied. */
export type ReplayRefusal = DeadLetterReason | null;

export type RecoveryLog = (level: 'info' | 'warn' | 'error', message: string) => void;

function directoryUnusable(directory: string, error: unknown): ArcError {
  const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new ArcError(
    ErrorKind.internal,
    WalErrorCode.dirUnwritable,
    `The write-ahead log directory ${directory} cannot be written (${reason}); fix its permissions or set wal.dir, or set wal.enabled = false to run without a WAL`,
    { path: directory },
  );
}

/**
 * Creates the WAL directory and proves it is writable and syncable (a probe file written,
 * fsynced, renamed and removed). Throws ARC_WAL_DIR_UNWRITABLE: a server asked to run with a WAL
 * never starts without one.
 */
export function ensureWalDirectorySync(directory: string): void {
  const probe = path.join(directory, `.probe-${process.pid}`);
  try {
    mkdirSync(directory, { recursive: true });
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'arc');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(probe, `${probe}.renamed`);
    unlinkSync(`${probe}.renamed`);
    syncDirectory(directory);
  } catch (error) {
    throw directoryUnusable(directory, error);
  }
}

/** Renames into place every staged file a committed flush named (a crash hit between record and rename). */
async function rollForward(journals: JournalState, publish: (file: StagedFile) => Promise<void>): Promise<number> {
  let rolled = 0;
  for (const file of journals.files) {
    if (!existsSync(file.staging)) continue;
    await publish(file);
    rolled++;
  }
  return rolled;
}

function scanSegments(directory: string, log: RecoveryLog): { segments: RecoveredSegment[]; truncated: TruncatedTail[] } {
  const segments: RecoveredSegment[] = [];
  const truncated: TruncatedTail[] = [];
  // A spare holds zeros only; the streams of this start prepare their own.
  for (const spare of listSparesSync(directory)) unlinkSync(spare);
  for (const name of listSegmentsSync(directory)) {
    // A zeroed tail (the unused part of a preallocated segment) is no torn tail: it stays, unreported.
    const contents = readLogFileSync(name.path);
    if (contents.tail !== null) {
      const tail = { path: name.path, offset: contents.tail.offset, bytesDropped: contents.fileBytes - contents.validBytes, reason: contents.tail.reason };
      truncated.push(tail);
      log('warn', `WAL ${name.path}: torn tail at byte ${tail.offset} (${tail.reason}); ${tail.bytesDropped} bytes cut, ${contents.entries.length} complete entries kept`);
      if (contents.headerProblem !== null) {
        // Not even a header: a crash right after the file was created. Nothing in it was acknowledged.
        unlinkSync(name.path);
        continue;
      }
      truncateFileSync(name.path, contents.validBytes);
    }
    segments.push({ stream: name.stream, firstSeq: name.firstSeq, path: name.path, entryCount: contents.entries.length, bytes: contents.validBytes });
  }
  return { segments, truncated };
}

function nextSeqs(segments: readonly RecoveredSegment[], coverage: ReadonlyMap<string, number>, deadLetterIds: readonly string[]): Map<number, number> {
  const next = new Map<number, number>();
  const raise = (stream: number, seq: number): void => {
    if ((next.get(stream) ?? 1) <= seq) next.set(stream, seq + 1);
  };
  // An empty segment still holds its name: new seqs start past its first seq, so no new segment collides with it.
  for (const segment of segments) raise(segment.stream, segment.firstSeq + Math.max(segment.entryCount, 1) - 1);
  for (const [key, seq] of coverage) raise(Number(key.split('/')[0]), seq);
  // A dead letter is named by its stream and seq: a new entry must never take its name.
  for (const id of deadLetterIds) {
    const parsed = parseDeadLetterId(id);
    if (parsed !== null) raise(parsed.stream, parsed.seq);
  }
  return next;
}

/**
 * Step one of recovery: journals read (torn tails cut), committed flushes rolled forward,
 * segments checked entry by entry (torn tails cut and logged, never fatal).
 */
export async function prepareRecovery(directory: string, publish: (file: StagedFile) => Promise<void>, log: RecoveryLog): Promise<RecoveryPlan> {
  ensureWalDirectorySync(directory);
  const journals = readJournalsSync(directory);
  for (const tail of journals.truncated) log('warn', `WAL flush journal ${tail.path}: torn tail at byte ${tail.offset} (${tail.reason}) cut; that flush was not committed`);
  const filesRolledForward = await rollForward(journals, publish);
  if (filesRolledForward > 0) log('info', `WAL recovery: ${filesRolledForward} staged Parquet files of committed flushes renamed into place`);
  const { segments, truncated } = scanSegments(directory, log);
  const entryCount = segments.reduce((sum, segment) => sum + segment.entryCount, 0);
  const deadLetterIds = listDeadLetterIdsSync(directory);
  return {
    directory,
    segments,
    entryCount,
    coverage: journals.coverage,
    nextSeqByStream: nextSeqs(segments, journals.coverage, deadLetterIds),
    truncated,
    filesRolledForward,
    deadLettersBefore: deadLetterIds.length,
  };
}

/**
 * Step two: hands every entry to `submit`, in seq order within a stream (streams in parallel),
 * one entry of a stream at a time: a writer must receive one stream's entries for a measurement
 * in seq order for the flush watermarks to be prefixes. `submit` resolves once the entry's rows
 * are accepted by the writers (it retries what a retry can cure itself) or with the reason it
 * cannot be applied: such an entry, and one whose payload is unreadable, is kept as a dead letter
 * (synced before the next entry of its stream), never dropped.
 */
export async function replaySegments(plan: RecoveryPlan, submit: (entry: ReplayEntry) => Promise<ReplayRefusal>, log: RecoveryLog): Promise<ReplayOutcome> {
  const byStream = new Map<number, RecoveredSegment[]>();
  for (const segment of plan.segments) byStream.set(segment.stream, [...(byStream.get(segment.stream) ?? []), segment]);
  const outcome = { entriesReplayed: 0, entriesUnreadable: 0, entriesDeadLettered: 0, deadLetterWriteFailures: 0 };
  await Promise.all(
    [...byStream.values()].map(async (segments) => {
      const cancelled = cancelledSeqs(segments);
      for (const segment of segments) {
        const contents = readLogFileSync(segment.path);
        for (const [index, entry] of contents.entries.entries()) {
          const seq = segment.firstSeq + index;
          if (cancelled.has(seq) || cancelledSeqOf(entry.payload) !== null) continue;
          if (isDeadLetter(plan.directory, segment.stream, seq)) {
            outcome.entriesDeadLettered++;
            log('warn', `WAL stream ${segment.stream} seq ${seq} is already dead letter ${deadLetterId(segment.stream, seq)}; left there, not replayed`);
            continue;
          }
          const envelope = decodeRequestEnvelope(entry.payload);
          let refusal: ReplayRefusal;
          if (typeof envelope === 'string') {
            outcome.entriesUnreadable++;
            refusal = { code: WalErrorCode.entryUnreadable, message: `the entry has a valid checksum but ${envelope}` };
          } else {
            refusal = await submit({ stream: segment.stream, seq, timestampUs: entry.timestampUs, envelope });
          }
          if (refusal === null) {
            outcome.entriesReplayed++;
            continue;
          }
          const alreadyInParquet = typeof envelope === 'string' ? [] : coveredMeasurements(plan.coverage, segment.stream, envelope.database, seq);
          keepDeadLetter(plan.directory, { stream: segment.stream, seq, timestampUs: entry.timestampUs, payload: entry.payload }, refusal, alreadyInParquet, outcome, log);
        }
      }
    }),
  );
  return outcome;
}

/**
 * The seqs of a stream's entries that a later cancel entry names: requests logged before their one
 * writer refused them (answered with that refusal), never to be applied. A first read of the
 * stream's segments, because a cancel follows the entry it cancels.
 */
function cancelledSeqs(segments: readonly RecoveredSegment[]): Set<number> {
  const cancelled = new Set<number>();
  for (const segment of segments) {
    for (const entry of readLogFileSync(segment.path).entries) {
      const seq = cancelledSeqOf(entry.payload);
      if (seq !== null) cancelled.add(seq);
    }
  }
  return cancelled;
}

/**
 * An entry met again (its segment was kept because the last replay's flush failed) that is already
 * a dead letter stays one and is not replayed: the dead letter is where it lives now (replaying it
 * as well would apply it twice once the dead letter is re-applied, and coverage recorded since may
 * even make replay skip its rows).
 */
function isDeadLetter(directory: string, stream: number, seq: number): boolean {
  return hasDeadLetterSync(directory, deadLetterId(stream, seq));
}

/**
 * Measurements of `database` whose rows of entry (stream, seq) were in Parquet before this replay
 * (coverage at start: what this replay flushes comes from later entries, not from this one).
 */
function coveredMeasurements(coverage: ReadonlyMap<string, number>, stream: number, database: string, seq: number): string[] {
  const prefix = coverageKey(stream, database, '');
  return [...coverage].filter(([key, covered]) => key.startsWith(prefix) && covered >= seq).map(([key]) => key.slice(prefix.length));
}

function keepDeadLetter(
  directory: string,
  entry: { readonly stream: number; readonly seq: number; readonly timestampUs: number; readonly payload: Uint8Array },
  refusal: DeadLetterReason,
  alreadyInParquet: readonly string[],
  outcome: { entriesDeadLettered: number; deadLetterWriteFailures: number },
  log: RecoveryLog,
): void {
  const where = `WAL stream ${entry.stream} seq ${entry.seq}`;
  try {
    const written = writeDeadLetterSync(directory, entry, refusal, alreadyInParquet);
    outcome.entriesDeadLettered++;
    log('error', `${where} could not be replayed (${refusal.code}: ${refusal.message}); ${written ? 'kept' : 'already kept'} as dead letter ${deadLetterId(entry.stream, entry.seq)} in ${path.join(directory, DEAD_LETTER_DIRECTORY)} (list: GET /api/v1/wal/dead-letter, re-apply: POST /api/v1/wal/dead-letter/replay)`);
  } catch (error) {
    outcome.deadLetterWriteFailures++;
    log('error', `${where} could not be replayed (${refusal.code}: ${refusal.message}) nor kept as a dead letter (${(error as Error).message}); its segment is kept for the next start`);
  }
}

/** Step three, once every replayed row is in durable Parquet: the replayed segments go. */
export function deleteReplayedSegments(plan: RecoveryPlan): void {
  for (const segment of plan.segments) {
    if (existsSync(segment.path)) unlinkSync(segment.path);
  }
  syncDirectory(plan.directory);
}
