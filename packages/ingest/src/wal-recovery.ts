import { type Config } from '@arc/config';
import { ErrorKind, type ArcErrorShape } from '@arc/errors';
import { openStorageBackend } from '@arc/storage';
import { deadLetterTotalsSync, deleteReplayedSegments, prepareRecovery, replaySegments, type DeadLetterReason, type RecoveryPlan, type ReplayEntry, type ReplayRefusal, type RequestEnvelope } from '@arc/wal';
import { PayloadFormat, precisionOfCode, type Completion, type RequestOptions } from './frames.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import { REPLAY_RETRY_DELAY_MS, REPLAY_ROOM_RETRIES_MAX } from './limits.js';
import type { Logger } from './logger.js';
import { ColumnarErrorCode } from '@arc/columnar';
import { WalErrorCode } from '@arc/wal';
import { WriterErrorCode } from '@arc/writer';

/** What the last start's WAL recovery did (GET /api/wal/status). */
export interface WalRecoveryReport {
  state: 'off' | 'replaying' | 'done' | 'failed';
  segments: number;
  entries: number;
  entriesReplayed: number;
  entriesUnreadable: number;
  /** Entries of this replay kept as dead letters (refused, or unreadable): never dropped. */
  entriesDeadLettered: number;
  /** Dead letters waiting in `<wal dir>/dead-letter/` once replay was done. */
  deadLetters: number;
  tailsTruncated: number;
  bytesTruncated: number;
  filesRolledForward: number;
  durationMs: number;
  error: string | null;
}

export function emptyRecoveryReport(): WalRecoveryReport {
  return { state: 'off', segments: 0, entries: 0, entriesReplayed: 0, entriesUnreadable: 0, entriesDeadLettered: 0, deadLetters: 0, tailsTruncated: 0, bytesTruncated: 0, filesRolledForward: 0, durationMs: 0, error: null };
}

/**
 * Step one, before any thread starts: the WAL directory is proven writable (else the start
 * fails with ARC_WAL_DIR_UNWRITABLE), journals and segments are read and repaired, committed
 * flushes rolled forward. Null with the WAL off.
 */
export async function prepareWal(config: Config, log: Logger): Promise<RecoveryPlan | null> {
  if (!config.wal.enabled) return null;
  const storage = openStorageBackend(config.storage);
  const plan = await prepareRecovery(config.wal.dir, (file) => storage.publish(file.staging, file.key), (level, message) => log[level](message));
  if (plan.entryCount > 0) log.info(`WAL recovery: ${plan.entryCount} entries in ${plan.segments.length} segments to replay from ${plan.directory}`);
  return plan;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Replayed entries of different streams run side by side (shared); an entry refused beside them is
 * retried alone (exclusive): once the entries in flight are answered, with no new one let in, so
 * nothing another stream replays can slip into the buffers between the flush and the retry.
 */
export class ReplayGate {
  private active = 0;
  private exclusive: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  async enter(): Promise<void> {
    while (this.exclusive !== null) await this.exclusive;
    this.active++;
  }

  leave(): void {
    this.active--;
    if (this.active === 0) this.drained?.();
  }

  async alone<T>(task: () => Promise<T>): Promise<T> {
    while (this.exclusive !== null) await this.exclusive;
    let release = (): void => undefined;
    this.exclusive = new Promise<void>((resolve) => (release = resolve));
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = null;
    try {
      return await task();
    } finally {
      this.exclusive = null;
      release();
    }
  }
}

const PAYLOAD_FORMATS: ReadonlySet<number> = new Set(Object.values(PayloadFormat));

/** The request options a logged envelope was accepted with (its arrival time as "now"), or why it has none. */
export function envelopeOptions(envelope: RequestEnvelope, timestampUs: number): RequestOptions | DeadLetterReason {
  const precision = precisionOfCode(envelope.precision);
  if (precision === null) return { code: WalErrorCode.entryUnreadable, message: `unknown line protocol precision code ${envelope.precision} in the entry` };
  if (!PAYLOAD_FORMATS.has(envelope.format)) return { code: WalErrorCode.entryUnreadable, message: `unknown payload format tag ${envelope.format} in the entry` };
  return { format: envelope.format as PayloadFormat, database: envelope.database, nowUs: timestampUs, precision };
}

/** Queues a replay until a ring takes it (a full ring is momentary), then its verdict. */
async function replayTaken(pipeline: IngestPipeline, entry: ReplayEntry, options: RequestOptions): Promise<Completion> {
  for (;;) {
    const completion = await pipeline.replayOnce(entry, options);
    if (completion !== null) return completion;
    await sleep(REPLAY_RETRY_DELAY_MS);
  }
}

/**
 * The last try of a refused entry, alone and against empty buffers: what it met beside the others
 * (rows another stream replayed before it, in an order other than at ingest; buffers full of
 * them) is gone, so it lands as it did at ingest, in a file of its own schema, as after a flush.
 * A refusal now is the entry's own (a limit lowered, a decoder grown stricter since).
 */
async function replayAlone(pipeline: IngestPipeline, entry: ReplayEntry, options: RequestOptions): Promise<ReplayRefusal> {
  const flushError = await pipeline.flushAll();
  const completion = await replayTaken(pipeline, entry, options);
  if (completion.error === null) return null;
  const when = flushError === null ? 'refused alone, after every buffer was flushed' : `refused; the buffers could not be flushed first: ${flushError.message}`;
  return { code: completion.error.code, message: `${completion.error.message} (${when})` };
}

/** The writers' refusals, which depend on what other entries put in the buffers first. */
const BUFFER_REFUSAL_CODES: ReadonlySet<string> = new Set([WriterErrorCode.schemaConflict, ColumnarErrorCode.tooManyColumns, WriterErrorCode.buffersFull]);

/**
 * A decoder's refusal (a body it cannot decompress or parse, an input limit) depends on the entry
 * alone: a try alone would only cost a flush of every buffer.
 */
function isEntrysOwnRefusal(error: ArcErrorShape): boolean {
  return (error.kind === ErrorKind.badRequest || error.kind === ErrorKind.tooLarge) && !BUFFER_REFUSAL_CODES.has(error.code);
}

/**
 * Replays one entry; null once its rows are accepted, else why it cannot be applied (it then
 * becomes a dead letter). Room refusals are retried beside the other streams for a while; the
 * writers' other refusals, and room lasting too long, get a last try alone; a decoder's refusal
 * is final at once.
 */
export async function replayEntry(pipeline: IngestPipeline, gate: ReplayGate, entry: ReplayEntry, log: Logger): Promise<ReplayRefusal> {
  const options = envelopeOptions(entry.envelope, entry.timestampUs);
  if ('code' in options) return options;
  for (let roomRetries = 0; ; roomRetries++) {
    await gate.enter();
    let completion: Completion;
    try {
      completion = await replayTaken(pipeline, entry, options);
    } finally {
      gate.leave();
    }
    if (completion.error === null) return null;
    if (completion.error.kind === ErrorKind.unavailable && roomRetries < REPLAY_ROOM_RETRIES_MAX) {
      await sleep(REPLAY_RETRY_DELAY_MS);
      continue;
    }
    if (isEntrysOwnRefusal(completion.error)) return { code: completion.error.code, message: completion.error.message };
    log.warn(`WAL stream ${entry.stream} seq ${entry.seq} refused beside the other streams' replays (${completion.error.code}: ${completion.error.message}); retried alone after a flush`);
    return gate.alone(() => replayAlone(pipeline, entry, options));
  }
}

/**
 * Step two, with the threads running and before /ready answers 200: every entry is replayed
 * through the decoders (rows already in Parquet skipped), an entry that cannot be applied is kept
 * as a dead letter, everything is flushed, and only then are the replayed segments deleted. A
 * failed flush (or a dead letter that could not be written) keeps the segments (the next start
 * replays them again, still exactly once: the journals say what is already in Parquet, and an
 * entry already kept as a dead letter stays one).
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
    deadLetters: plan.deadLettersBefore,
  });
  const gate = new ReplayGate();
  const outcome = await replaySegments(plan, (entry) => replayEntry(pipeline, gate, entry, log), (level, message) => log[level](message));
  report.entriesReplayed = outcome.entriesReplayed;
  report.entriesUnreadable = outcome.entriesUnreadable;
  report.entriesDeadLettered = outcome.entriesDeadLettered;
  report.deadLetters = deadLetterTotalsSync(plan.directory).entries;
  const flushError = plan.entryCount === 0 ? null : await pipeline.flushAll();
  report.durationMs = Math.round(performance.now() - started);
  const failure =
    flushError !== null
      ? `replayed rows could not be flushed (they stay buffered and retried; segments kept): ${flushError.message}`
      : outcome.deadLetterWriteFailures > 0
        ? `${outcome.deadLetterWriteFailures} refused entries could not be kept as dead letters (segments kept; they are replayed again at the next start)`
        : null;
  if (failure !== null) {
    report.state = 'failed';
    report.error = failure;
    log.error(`WAL recovery: ${failure}`);
    return;
  }
  deleteReplayedSegments(plan);
  report.state = 'done';
  if (plan.entryCount > 0) log.info(`WAL recovery: ${outcome.entriesReplayed} entries replayed and flushed in ${report.durationMs} ms, ${outcome.entriesDeadLettered} kept as dead letters; replayed segments deleted`);
  if (report.deadLetters > 0) log.error(`WAL recovery: ${report.deadLetters} acknowledged entries wait in ${plan.directory}/dead-letter/ (GET /api/v1/wal/dead-letter lists them, POST /api/v1/wal/dead-letter/replay re-applies them)`);
}
