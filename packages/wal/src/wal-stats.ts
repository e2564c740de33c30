import assert from 'node:assert/strict';
import { SYNC_LATENCY_BUCKETS_MS } from './limits.js';

/**
 * Counters of one WAL stream, in a SharedArrayBuffer: the decoder thread that owns the stream
 * writes them, the main thread reads them for /api/wal/stats without a message round trip.
 * Float64 cells: exact integers up to 2^53, aligned 8-byte stores (never torn on x86-64/arm64).
 * One cell goes the other way: the main thread sets `rotateRequested` (POST /api/wal/cleanup).
 */
export const WalStatCell = {
  entries: 0,
  bytes: 1,
  syncs: 2,
  syncMsTotal: 3,
  syncMsMax: 4,
  segmentsLive: 5,
  segmentsDeleted: 6,
  /** Epoch ms of the oldest entry not yet in durable Parquet; 0 when every entry is. */
  oldestUnflushedAtMs: 7,
  bytesLive: 8,
  rotations: 9,
  writeErrors: 10,
  lastWriteErrorAtMs: 11,
  rotateRequested: 12,
  histogramStart: 13,
} as const;

/** One bucket per bound plus one for slower syncs. */
export const SYNC_HISTOGRAM_BUCKETS = SYNC_LATENCY_BUCKETS_MS.length + 1;
const CELL_COUNT = WalStatCell.histogramStart + SYNC_HISTOGRAM_BUCKETS;

export function createWalStatsBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELL_COUNT * Float64Array.BYTES_PER_ELEMENT);
}

export function walStatsCells(shared: SharedArrayBuffer): Float64Array {
  const cells = new Float64Array(shared);
  assert.equal(cells.length, CELL_COUNT, 'a WAL stats buffer');
  return cells;
}

/** The value of one cell; the cell index is one of WalStatCell's, inside the buffer by construction. */
export function statCell(cells: Float64Array, cell: number): number {
  const value = cells[cell];
  assert.ok(value !== undefined, 'a WAL stat cell inside the buffer');
  return value;
}

export function addToStatCell(cells: Float64Array, cell: number, amount: number): void {
  cells[cell] = statCell(cells, cell) + amount;
}

export function recordSyncLatency(cells: Float64Array, milliseconds: number): void {
  addToStatCell(cells, WalStatCell.syncs, 1);
  addToStatCell(cells, WalStatCell.syncMsTotal, milliseconds);
  cells[WalStatCell.syncMsMax] = Math.max(statCell(cells, WalStatCell.syncMsMax), milliseconds);
  let bucket = SYNC_LATENCY_BUCKETS_MS.findIndex((bound) => milliseconds <= bound);
  if (bucket < 0) bucket = SYNC_LATENCY_BUCKETS_MS.length;
  addToStatCell(cells, WalStatCell.histogramStart + bucket, 1);
}

export interface WalStatsSummary {
  readonly entries: number;
  readonly bytes: number;
  readonly syncs: number;
  readonly syncMsTotal: number;
  readonly syncMsMax: number;
  readonly segmentsLive: number;
  readonly segmentsDeleted: number;
  readonly bytesLive: number;
  readonly rotations: number;
  readonly writeErrors: number;
  /** Epoch ms, 0 when none. */
  readonly oldestUnflushedAtMs: number;
  readonly lastWriteErrorAtMs: number;
  /** Counts per bucket; bucket i holds syncs up to SYNC_LATENCY_BUCKETS_MS[i] ms, the last the rest. */
  readonly syncHistogram: readonly number[];
}

/** Sums the counters of every stream (oldest age: the oldest of all). */
export function summarizeWalStats(buffers: readonly SharedArrayBuffer[]): WalStatsSummary {
  const total = new Float64Array(CELL_COUNT);
  let oldest = 0;
  let lastError = 0;
  let syncMsMax = 0;
  for (const shared of buffers) {
    const cells = walStatsCells(shared);
    for (let index = 0; index < CELL_COUNT; index++) addToStatCell(total, index, statCell(cells, index));
    const streamOldest = statCell(cells, WalStatCell.oldestUnflushedAtMs);
    if (streamOldest > 0 && (oldest === 0 || streamOldest < oldest)) oldest = streamOldest;
    lastError = Math.max(lastError, statCell(cells, WalStatCell.lastWriteErrorAtMs));
    syncMsMax = Math.max(syncMsMax, statCell(cells, WalStatCell.syncMsMax));
  }
  total[WalStatCell.syncMsMax] = syncMsMax;
  const cell = (index: number): number => statCell(total, index);
  return {
    entries: cell(WalStatCell.entries),
    bytes: cell(WalStatCell.bytes),
    syncs: cell(WalStatCell.syncs),
    syncMsTotal: cell(WalStatCell.syncMsTotal),
    syncMsMax: cell(WalStatCell.syncMsMax),
    segmentsLive: cell(WalStatCell.segmentsLive),
    segmentsDeleted: cell(WalStatCell.segmentsDeleted),
    bytesLive: cell(WalStatCell.bytesLive),
    rotations: cell(WalStatCell.rotations),
    writeErrors: cell(WalStatCell.writeErrors),
    oldestUnflushedAtMs: oldest,
    lastWriteErrorAtMs: lastError,
    syncHistogram: Array.from(total.subarray(WalStatCell.histogramStart)),
  };
}

/** Asks every stream to close its current segment at its next chance (cleanup). */
export function requestRotation(buffers: readonly SharedArrayBuffer[]): void {
  for (const shared of buffers) walStatsCells(shared)[WalStatCell.rotateRequested] = 1;
}
