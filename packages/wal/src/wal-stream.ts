import assert from 'node:assert/strict';
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import path from 'node:path';
import { type WalSyncMode } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { coveredSeqOf } from './coverage.js';
import { segmentFileName } from './segment-names.js';
import { encodeFileHeader, FILE_HEADER_BYTES } from './wal-format.js';
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
}

interface Segment {
  readonly path: string;
  readonly firstSeq: number;
  readonly createdAtMs: number;
  /** Last seq written; firstSeq - 1 while empty. */
  lastSeq: number;
  bytes: number;
  /** fd while this is the segment being appended to; -1 once closed. */
  fd: number;
  /** Per "database/measurement" its entries touch: the highest seq touching it. */
  readonly keySeqMax: Map<string, number>;
}

interface PendingEntry {
  readonly bytes: Uint8Array;
  readonly keys: readonly string[];
}

export function walWriteFailed(reason: string): ArcError {
  return new ArcError(ErrorKind.unavailable, WalErrorCode.writeFailed, `Write-ahead log append failed, nothing of this request was accepted; retry later: ${reason}`);
}

/**
 * The appending side of one WAL stream, owned by one decoder thread. Entries are appended in
 * memory (`append` assigns their seq), then written and synced together (`writePending`): that
 * is the group commit, and the caller decides when a group is due. Segments rotate by size and
 * age; a closed segment is deleted once every (database, measurement) its entries touched is
 * covered up to its last seq by durable Parquet (`onCovered`, from the writers' flush journals).
 */
export class WalStream {
  private readonly options: WalStreamOptions;
  private readonly segments: Segment[] = [];
  private current: Segment | null = null;
  private pending: PendingEntry[] = [];
  private pendingBytesTotal = 0;
  private firstPendingAtMs = 0;
  private readonly covered = new Map<string, number>();
  /**
   * Written groups not yet wholly in Parquet, oldest first: when each was appended and what it
   * touched (for the oldest-unflushed age; bounded because full buffers refuse new writes).
   */
  private readonly unflushedGroups: { readonly atMs: number; readonly keySeqMax: Map<string, number> }[] = [];
  private nextSeqValue: number;

  constructor(options: WalStreamOptions) {
    assert.ok(Number.isSafeInteger(options.nextSeq) && options.nextSeq >= 1, 'seqs start at 1');
    assert.ok(options.segmentBytesMax > FILE_HEADER_BYTES, 'a segment holds more than its header');
    this.options = options;
    this.nextSeqValue = options.nextSeq;
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

  /** Wall-clock ms when the oldest entry waiting for its write was appended (0: none waits). */
  get firstPendingAt(): number {
    return this.firstPendingAtMs;
  }

  /** Queues an encoded entry; returns its seq. `keys`: the "database/measurement" it touches. */
  append(entry: Uint8Array, keys: readonly string[]): number {
    if (this.pending.length === 0) this.firstPendingAtMs = this.options.nowMs();
    this.pending.push({ bytes: entry, keys });
    this.pendingBytesTotal += entry.byteLength;
    return this.nextSeqValue++;
  }

  /**
   * Writes every queued entry with one writev and syncs per the sync mode. On failure nothing of
   * the group stays in the file (it is cut back) and the seqs are given back; throws ArcError.
   */
  writePending(): void {
    if (this.pending.length === 0) return;
    const group = this.pending;
    const groupBytes = this.pendingBytesTotal;
    const groupAtMs = this.firstPendingAtMs;
    this.pending = [];
    this.pendingBytesTotal = 0;
    this.firstPendingAtMs = 0;
    const firstSeq = this.nextSeqValue - group.length;
    let segment: Segment | null = null;
    try {
      segment = this.segmentForWrite(firstSeq);
      writeAllSync(segment.fd, group.map((entry) => entry.bytes), segment.bytes);
      this.syncSegment(segment);
    } catch (error) {
      this.nextSeqValue = firstSeq;
      if (segment !== null) this.cutBack(segment);
      const stats = this.options.stats;
      addToStatCell(stats, WalStatCell.writeErrors, 1);
      stats[WalStatCell.lastWriteErrorAtMs] = this.options.nowMs();
      throw walWriteFailed((error as Error).message);
    }
    segment.bytes += groupBytes;
    segment.lastSeq = firstSeq + group.length - 1;
    const groupKeySeqMax = new Map<string, number>();
    group.forEach((entry, index) => {
      for (const key of entry.keys) {
        segment.keySeqMax.set(key, firstSeq + index);
        groupKeySeqMax.set(key, firstSeq + index);
      }
    });
    if (groupKeySeqMax.size > 0) this.unflushedGroups.push({ atMs: groupAtMs, keySeqMax: groupKeySeqMax });
    const stats = this.options.stats;
    addToStatCell(stats, WalStatCell.entries, group.length);
    addToStatCell(stats, WalStatCell.bytes, groupBytes);
    this.maybeRotate();
    this.refreshStats();
  }

  /** The writers made "database/measurement" durable up to `seqMax` for this stream. */
  onCovered(key: string, seqMax: number): void {
    if (coveredSeqOf(this.covered, key) >= seqMax) return;
    this.covered.set(key, seqMax);
    this.deleteCoveredSegments();
    this.refreshStats();
  }

  /** Closes the current segment when it is too big, too old, or a cleanup asked for it. */
  maybeRotate(): void {
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

  /** Closes the open segment (shutdown). Queued entries must have been written. */
  close(): void {
    assert.equal(this.pending.length, 0, 'queued entries are written or failed before close');
    this.closeCurrent();
  }

  private segmentForWrite(firstSeq: number): Segment {
    if (this.current !== null) return this.current;
    const segmentPath = path.join(this.options.directory, segmentFileName(this.options.stream, firstSeq));
    const fd = openSync(segmentPath, 'wx');
    const segment: Segment = { path: segmentPath, firstSeq, createdAtMs: this.options.nowMs(), lastSeq: firstSeq - 1, bytes: 0, fd, keySeqMax: new Map() };
    try {
      writeAllSync(fd, [encodeFileHeader()], 0);
      segment.bytes = FILE_HEADER_BYTES;
      // The new name must survive a power loss as much as the entries in it.
      fsyncSync(fd);
      syncDirectory(this.options.directory);
    } catch (error) {
      closeSync(fd);
      unlinkSync(segmentPath);
      throw error;
    }
    this.current = segment;
    this.segments.push(segment);
    return segment;
  }

  private syncSegment(segment: Segment): void {
    const mode = this.options.syncMode;
    if (mode === SyncMode.async) return;
    const started = performance.now();
    if (mode === SyncMode.fsync) fsyncSync(segment.fd);
    else fdatasyncSync(segment.fd);
    recordSyncLatency(this.options.stats, performance.now() - started);
  }

  /** After a failed write: drop the partial group; if even that fails, seal the segment. */
  private cutBack(segment: Segment): void {
    if (segment.fd < 0) return;
    try {
      ftruncateSync(segment.fd, segment.bytes);
    } catch {
      // The torn bytes stay at the end of this segment, where recovery cuts them; write no more here.
      this.closeCurrent();
    }
  }

  private closeCurrent(): void {
    const segment = this.current;
    if (segment === null) return;
    this.current = null;
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
