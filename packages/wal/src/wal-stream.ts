import assert from 'node:assert/strict';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, renameSync, statfsSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import path from 'node:path';
import { type WalSyncMode } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { coveredSeqOf } from './coverage.js';
import { segmentFileName, spareFileName } from './segment-names.js';
import { SEGMENT_PREALLOCATED_BYTES_MAX, SPARE_FREE_SPACE_FACTOR } from './limits.js';
import { encodeFileHeader, FILE_HEADER_BYTES } from './wal-format.js';
import { InlineSyncRunner, type SyncRunner } from './sync-runner.js';
import { addToStatCell, recordSyncLatency, WalStatCell } from './wal-stats.js';
import { WalErrorCode } from './error-codes.js';

/** The config's sync modes by name. */
export const SyncMode = { fsync: 'fsync', fdatasync: 'fdatasync', async: 'async' } as const satisfies Record<WalSyncMode, WalSyncMode>;
export type SyncMode = WalSyncMode;

export interface WalStreamOptions {
  readonly directory: string;
  /** The decoder index that owns this stream (one appender per stream: no lock). */
  readonly stream: number;
  /** Sequence number of the next entry; above every seq this stream ever used. */
  readonly nextSeq: number;
  readonly syncMode: SyncMode;
  readonly segmentBytesMax: number;
  readonly segmentAgeMsMax: number;
  /** Cells of a WAL stats buffer (walStatsCells). */
  readonly stats: Float64Array;
  /** Wall clock, ms (segment ages and the oldest-unflushed age are reported as epoch times). */
  readonly nowMs: () => number;
  /** Where syncs run (default: on the calling thread, InlineSyncRunner with `syncMode`). */
  readonly syncRunner?: SyncRunner;
}

interface Segment {
  readonly path: string;
  readonly firstSeq: number;
  readonly createdAtMs: number;
  /** Last seq synced; firstSeq - 1 while none is. */
  lastSeq: number;
  /** Bytes written, synced or not: where the next entry goes. */
  bytes: number;
  /** Bytes synced (the header is at creation): a failed write or sync cuts the file back to here. */
  syncedBytes: number;
  /** The file's size: `bytes`, or more while entries go into zeroed space allocated ahead. */
  allocatedBytes: number;
  /** fd while this is the segment being appended to; -1 once closed. */
  fd: number;
  /** Per "database/measurement" its entries touch: the highest seq touching it. */
  readonly keySeqMax: Map<string, number>;
}

/** The next segment's file, being zeroed (or zeroed and synced) by the sync runner. */
interface Spare {
  readonly path: string;
  readonly fd: number;
  /** Its size once prepared: header, then zeros. */
  readonly bytes: number;
}

/** An entry written and not yet synced: what it touches ("database/measurement"). */
interface UnsyncedEntry {
  readonly keys: readonly string[];
}

export function walWriteFailed(reason: string): ArcError {
  return new ArcError(ErrorKind.unavailable, WalErrorCode.writeFailed, `Write-ahead log append failed, nothing of this request was accepted; retry later: ${reason}`);
}

/**
 * The appending side of one WAL stream, owned by one decoder thread. `append` writes an entry
 * into the page cache at once (so its bytes, a ring frame's, need not be kept or copied) and
 * assigns its seq; `startSync` hands every entry written since the last sync to one fdatasync
 * (the group commit; the caller decides when a group is due), which runs on the sync runner's
 * thread while the owner goes on decoding and appending the next group; `finishSync` says when
 * it is done. Nothing is durable, and nothing may be acknowledged, before its sync. Segments rotate by size and
 * age; a closed segment is deleted once every (database, measurement) its entries touched is
 * covered up to its last seq by durable Parquet (`onCovered`, from the writers' flush journals).
 *
 * With syncs on, a new segment goes into the stream's spare when it is ready: a file zeroed and
 * synced ahead by the sync runner, between syncs, up to the segment size. Entries then overwrite
 * allocated blocks and the file's size does not change, so an fdatasync flushes data blocks only
 * (an appended file's sync also commits its new size through the file system's journal). A
 * rotation never waits for the spare: one not ready yet leaves the new segment to grow as it is
 * written, and serves the next one.
 */
export class WalStream {
  private readonly options: WalStreamOptions;
  private readonly segments: Segment[] = [];
  private current: Segment | null = null;
  private pending: UnsyncedEntry[] = [];
  /** The group whose sync runs (startSync), with the segment bytes it ends at; null: none runs. */
  private syncing: { readonly group: UnsyncedEntry[]; readonly atMs: number; readonly bytes: number; readonly segmentBytes: number } | null = null;
  private readonly syncRunner: SyncRunner;
  /** The runner holds a sync whose outcome is not yet taken. */
  private syncRunning = false;
  private pendingBytesTotal = 0;
  private firstPendingAtMs = 0;
  private readonly covered = new Map<string, number>();
  /**
   * Written groups not yet wholly in Parquet, oldest first: when each was appended and what it
   * touched (for the oldest-unflushed age; bounded because full buffers refuse new writes).
   */
  private readonly unflushedGroups: { readonly atMs: number; readonly keySeqMax: Map<string, number> }[] = [];
  private nextSeqValue: number;
  /** The next segment's file being prepared; null in the async mode (no syncs to spare). */
  private spare: Spare | null = null;

  constructor(options: WalStreamOptions) {
    assert.ok(Number.isSafeInteger(options.nextSeq) && options.nextSeq >= 1, 'seqs start at 1');
    assert.ok(options.segmentBytesMax > FILE_HEADER_BYTES, 'a segment holds more than its header');
    this.options = options;
    this.nextSeqValue = options.nextSeq;
    this.syncRunner = options.syncRunner ?? new InlineSyncRunner(options.syncMode);
  }

  /** A group's sync runs (startSync) and its outcome is not yet taken (finishSync). */
  get syncInFlight(): boolean {
    return this.syncing !== null;
  }

  get nextSeq(): number {
    return this.nextSeqValue;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  get pendingBytes(): number {
    return this.pendingBytesTotal;
  }

  /** Wall-clock ms when the oldest entry waiting for its sync was appended (0: none waits). */
  get firstPendingAt(): number {
    return this.firstPendingAtMs;
  }

  /**
   * Writes an encoded entry (one buffer, or parts written back to back) after the last one and
   * returns its seq; it is durable once `syncPending` returns. `keys`: the "database/measurement"
   * it touches. On failure every entry not yet synced is cut from the file and its seq given back
   * (the caller fails their requests too); throws ArcError.
   */
  append(entry: Uint8Array | readonly Uint8Array[], keys: readonly string[]): number {
    const parts = entry instanceof Uint8Array ? [entry] : entry;
    let entryBytes = 0;
    for (const part of parts) entryBytes += part.byteLength;
    let segment: Segment | null = null;
    try {
      segment = this.segmentForWrite(this.nextSeqValue);
      writeAllSync(segment.fd, parts, segment.bytes);
    } catch (error) {
      throw this.failUnsynced(segment, error);
    }
    segment.bytes += entryBytes;
    segment.allocatedBytes = Math.max(segment.allocatedBytes, segment.bytes);
    if (this.pending.length === 0) this.firstPendingAtMs = this.options.nowMs();
    this.pending.push({ keys });
    this.pendingBytesTotal += entryBytes;
    return this.nextSeqValue++;
  }

  /** Syncs every entry written so far and waits for it (tests, shutdown); throws ArcError. */
  syncPending(): void {
    if (this.syncing !== null) this.finishSync(true);
    if (this.startSync()) this.finishSync(true);
  }

  /** Starts the sync of every entry written since the last one; false when one runs or none waits. */
  startSync(): boolean {
    if (this.syncing !== null || this.pending.length === 0) return false;
    const segment = this.current;
    assert.ok(segment !== null, 'written entries are in the open segment');
    this.syncing = { group: this.pending, atMs: this.firstPendingAtMs, bytes: this.pendingBytesTotal, segmentBytes: segment.bytes };
    this.pending = [];
    this.pendingBytesTotal = 0;
    this.firstPendingAtMs = 0;
    if (this.options.syncMode === SyncMode.async) return true;
    this.syncRunner.start(segment.fd);
    this.syncRunning = true;
    return true;
  }

  /**
   * The running sync's outcome: null while it runs (unless `wait`), else how many entries it made
   * durable. On failure every unsynced entry (this group and any written since) is cut from the
   * file and its seq given back; throws ArcError.
   */
  finishSync(wait = false): number | null {
    const syncing = this.syncing;
    assert.ok(syncing !== null, 'a sync was started');
    const segment = this.current;
    assert.ok(segment !== null, 'a syncing group is in the open segment');
    if (this.options.syncMode !== SyncMode.async) {
      const outcome = wait ? this.syncRunner.wait() : this.syncRunner.poll();
      if (outcome === null) return null;
      this.syncRunning = false;
      if (outcome.error !== null) throw this.failUnsynced(segment, new Error(outcome.error));
      recordSyncLatency(this.options.stats, outcome.milliseconds);
    }
    this.syncing = null;
    const group = syncing.group;
    const firstSeq = this.nextSeqValue - this.pending.length - group.length;
    segment.syncedBytes = syncing.segmentBytes;
    segment.lastSeq = firstSeq + group.length - 1;
    const groupKeySeqMax = new Map<string, number>();
    group.forEach((entry, index) => {
      for (const key of entry.keys) {
        segment.keySeqMax.set(key, firstSeq + index);
        groupKeySeqMax.set(key, firstSeq + index);
      }
    });
    if (groupKeySeqMax.size > 0) this.unflushedGroups.push({ atMs: syncing.atMs, keySeqMax: groupKeySeqMax });
    const stats = this.options.stats;
    addToStatCell(stats, WalStatCell.entries, group.length);
    addToStatCell(stats, WalStatCell.bytes, syncing.bytes);
    this.maybeRotate();
    this.refreshStats();
    return group.length;
  }

  /** After a failed write or sync: the unsynced entries leave the file and give their seqs back. */
  private failUnsynced(segment: Segment | null, error: unknown): ArcError {
    // A running sync must end before the file is cut (or closed) under it; its outcome no longer matters.
    if (this.syncRunning) this.syncRunner.wait();
    this.syncRunning = false;
    this.nextSeqValue -= this.pending.length + (this.syncing?.group.length ?? 0);
    this.syncing = null;
    this.pending = [];
    this.pendingBytesTotal = 0;
    this.firstPendingAtMs = 0;
    if (segment !== null) this.cutBack(segment);
    const stats = this.options.stats;
    addToStatCell(stats, WalStatCell.writeErrors, 1);
    stats[WalStatCell.lastWriteErrorAtMs] = this.options.nowMs();
    return walWriteFailed((error as Error).message);
  }

  /** The writers made "database/measurement" durable up to `seqMax` for this stream. */
  onCovered(key: string, seqMax: number): void {
    if (coveredSeqOf(this.covered, key) >= seqMax) return;
    this.covered.set(key, seqMax);
    this.deleteCoveredSegments();
    this.refreshStats();
  }

  /**
   * Closes the current segment when it is too big, too old, or a cleanup asked for it; never
   * while entries in it wait for their sync (syncPending rotates after its sync).
   */
  maybeRotate(): void {
    this.dropFailedSpare();
    if (this.pending.length > 0 || this.syncing !== null) return;
    const stats = this.options.stats;
    const requested = stats[WalStatCell.rotateRequested] === 1;
    stats[WalStatCell.rotateRequested] = 0;
    const segment = this.current;
    if (segment === null) return;
    const tooOld = this.options.nowMs() - segment.createdAtMs >= this.options.segmentAgeMsMax;
    if (!requested && !tooOld && segment.bytes < this.options.segmentBytesMax) return;
    this.closeCurrent();
    addToStatCell(stats, WalStatCell.rotations, 1);
    this.deleteCoveredSegments();
    this.refreshStats();
  }

  /** Closes the open segment (shutdown). Written entries must have been synced or failed. */
  close(): void {
    assert.equal(this.pending.length, 0, 'written entries are synced or failed before close');
    assert.equal(this.syncing, null, 'no sync runs at close');
    this.closeCurrent();
    const spare = this.spare;
    if (spare !== null) {
      this.syncRunner.cancelPreallocation();
      this.dropSpare(spare);
    }
    this.syncRunner.close();
  }

  private segmentForWrite(firstSeq: number): Segment {
    if (this.current !== null) return this.current;
    const segmentPath = path.join(this.options.directory, segmentFileName(this.options.stream, firstSeq));
    const segment = this.segmentFromSpare(segmentPath, firstSeq) ?? this.createSegment(segmentPath, firstSeq);
    this.current = segment;
    this.segments.push(segment);
    this.prepareSpare();
    return segment;
  }

  /**
   * The spare, zeroed and synced, renamed to the new segment's name; null when there is none
   * ready (the caller creates the segment as an empty file, never waiting for the spare).
   */
  private segmentFromSpare(segmentPath: string, firstSeq: number): Segment | null {
    const spare = this.spare;
    if (spare === null) return null;
    const prepared = this.syncRunner.preallocationDone();
    if (prepared === null) return null;
    this.spare = null;
    if (!prepared) {
      this.dropSpare(spare);
      return null;
    }
    try {
      // Never over a segment (the 'wx' open of an empty one refuses too); only this stream names
      // its segments, so nothing comes between the check and the rename.
      if (existsSync(segmentPath)) throw new Error(`segment ${segmentPath} exists already`);
      renameSync(spare.path, segmentPath);
    } catch (error) {
      this.dropSpare(spare);
      throw error;
    }
    try {
      // The new name must survive a power loss as much as the entries in it.
      syncDirectory(this.options.directory);
    } catch (error) {
      // As for an empty segment: the name goes, so the seq given back can name the next one.
      closeSync(spare.fd);
      unlinkSync(segmentPath);
      throw error;
    }
    return { path: segmentPath, firstSeq, createdAtMs: this.options.nowMs(), lastSeq: firstSeq - 1, bytes: FILE_HEADER_BYTES, syncedBytes: FILE_HEADER_BYTES, allocatedBytes: spare.bytes, fd: spare.fd, keySeqMax: new Map() };
  }

  /**
   * Opens the next spare and has the sync runner zero it. A spare only saves work: one that cannot
   * be opened or prepared is dropped, and the next segment is created and grown as it is written.
   */
  private prepareSpare(): void {
    if (this.options.syncMode === SyncMode.async || this.spare !== null) return;
    const spareBytes = Math.min(this.options.segmentBytesMax, SEGMENT_PREALLOCATED_BYTES_MAX);
    if (!hasRoomForSpare(this.options.directory, spareBytes)) return;
    const sparePath = path.join(this.options.directory, spareFileName(this.options.stream));
    let fd: number;
    try {
      fd = openSync(sparePath, 'w');
    } catch {
      return;
    }
    const spare: Spare = { path: sparePath, fd, bytes: spareBytes };
    try {
      writeAllSync(fd, [encodeFileHeader()], 0);
    } catch {
      this.dropSpare(spare);
      return;
    }
    this.spare = spare;
    this.syncRunner.startPreallocation(fd, FILE_HEADER_BYTES, spare.bytes);
  }

  /** A spare whose preparation failed (a full disk) gives its space back at once, not at the next rotation. */
  private dropFailedSpare(): void {
    const spare = this.spare;
    if (spare === null || this.syncRunner.preallocationDone() !== false) return;
    this.spare = null;
    this.dropSpare(spare);
  }

  /** Closes and removes a spare the sync runner no longer touches (removal is best effort: recovery removes spares). */
  private dropSpare(spare: Spare): void {
    closeSync(spare.fd);
    try {
      unlinkSync(spare.path);
    } catch {
      // The next start removes it.
    }
  }

  private createSegment(segmentPath: string, firstSeq: number): Segment {
    const fd = openSync(segmentPath, 'wx');
    const segment: Segment = { path: segmentPath, firstSeq, createdAtMs: this.options.nowMs(), lastSeq: firstSeq - 1, bytes: 0, syncedBytes: 0, allocatedBytes: 0, fd, keySeqMax: new Map() };
    try {
      writeAllSync(fd, [encodeFileHeader()], 0);
      segment.bytes = FILE_HEADER_BYTES;
      segment.syncedBytes = FILE_HEADER_BYTES;
      segment.allocatedBytes = FILE_HEADER_BYTES;
      // The new name must survive a power loss as much as the entries in it.
      fsyncSync(fd);
      syncDirectory(this.options.directory);
    } catch (error) {
      closeSync(fd);
      unlinkSync(segmentPath);
      throw error;
    }
    return segment;
  }

  /** After a failed write or sync: drop the unsynced entries; if even that fails, seal the segment. */
  private cutBack(segment: Segment): void {
    if (segment.fd < 0) return;
    segment.bytes = segment.syncedBytes;
    try {
      // Zeroed space allocated ahead goes too: what follows grows the file (the sync commits its size).
      ftruncateSync(segment.fd, segment.syncedBytes);
      segment.allocatedBytes = segment.syncedBytes;
    } catch {
      // The torn bytes stay at the end of this segment, where recovery cuts them; write no more here.
      this.closeCurrent();
    }
  }

  private closeCurrent(): void {
    const segment = this.current;
    if (segment === null) return;
    this.current = null;
    if (segment.allocatedBytes > segment.bytes) {
      try {
        ftruncateSync(segment.fd, segment.bytes);
        segment.allocatedBytes = segment.bytes;
      } catch {
        // Only disk space: recovery reads zeros after the last entry as the segment's clean end.
      }
    }
    closeSync(segment.fd);
    segment.fd = -1;
  }

  private isCovered(segment: { readonly keySeqMax: ReadonlyMap<string, number> }): boolean {
    for (const [key, seqMax] of segment.keySeqMax) {
      if (coveredSeqOf(this.covered, key) < seqMax) return false;
    }
    return true;
  }

  private deleteCoveredSegments(): void {
    for (let index = 0; index < this.segments.length; ) {
      const segment = this.segments[index];
      assert.ok(segment !== undefined);
      if (segment.fd >= 0 || !this.isCovered(segment)) {
        index++;
        continue;
      }
      unlinkSync(segment.path);
      this.segments.splice(index, 1);
      const stats = this.options.stats;
      addToStatCell(stats, WalStatCell.segmentsDeleted, 1);
    }
  }

  private refreshStats(): void {
    const stats = this.options.stats;
    let bytesLive = 0;
    for (const segment of this.segments) bytesLive += segment.bytes;
    let oldest = this.unflushedGroups[0];
    while (oldest !== undefined && this.isCovered(oldest)) {
      this.unflushedGroups.shift();
      oldest = this.unflushedGroups[0];
    }
    stats[WalStatCell.segmentsLive] = this.segments.length;
    stats[WalStatCell.bytesLive] = bytesLive;
    // The cell's documented value when every entry is in durable Parquet: 0.
    stats[WalStatCell.oldestUnflushedAtMs] = oldest === undefined ? 0 : oldest.atMs;
  }
}

/**
 * A spare is prepared only while the file system keeps SPARE_FREE_SPACE_FACTOR times its size
 * free: zeros written ahead must not take the space the entries and the Parquet files need.
 */
function hasRoomForSpare(directory: string, spareBytes: number): boolean {
  try {
    const space = statfsSync(directory);
    return space.bavail * space.bsize >= SPARE_FREE_SPACE_FACTOR * spareBytes;
  } catch {
    return false;
  }
}

/** writev at `position` until every byte is written (writev may write less than asked). */
function writeAllSync(fd: number, buffers: readonly Uint8Array[], position: number): void {
  let total = 0;
  for (const buffer of buffers) total += buffer.byteLength;
  let written = writevSync(fd, buffers, position);
  if (written === total) return;
  const rest = Buffer.concat(buffers.map((buffer) => Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength))).subarray(written);
  let offset = 0;
  while (offset < rest.byteLength) {
    const count = writeSync(fd, rest, offset, rest.byteLength - offset, position + written);
    offset += count;
    written += count;
  }
}

/** fsync of a directory, so names created or removed in it are durable. */
export function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
