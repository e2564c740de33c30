import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { STREAM_ID_MAX } from './limits.js';

/**
 * Segment files are named `wal-<stream>-<first seq>.wal`: the stream is the decoder index that
 * appends to it (3 digits), the first seq the sequence number of its first entry (16 digits), so
 * a name sorts in append order and entry `i` of the file has seq `first seq + i`.
 */
const SEGMENT_NAME = /^wal-(\d{3})-(\d{16})\.wal$/;
/**
 * A stream's spare, `wal-<stream>.spare`: the next segment's file, zeroed and synced ahead, renamed
 * to its segment name when the stream rotates into it. It holds no entry: recovery removes it.
 */
const SPARE_NAME = /^wal-\d{3}\.spare$/;
const SEQ_DIGITS = 16;

export interface SegmentName {
  readonly stream: number;
  readonly firstSeq: number;
  readonly path: string;
}

export function segmentFileName(stream: number, firstSeq: number): string {
  assert.ok(Number.isInteger(stream) && stream >= 0 && stream <= STREAM_ID_MAX, 'stream id has 3 digits');
  assert.ok(Number.isSafeInteger(firstSeq) && firstSeq >= 1, 'sequence numbers start at 1');
  return `wal-${String(stream).padStart(3, '0')}-${String(firstSeq).padStart(SEQ_DIGITS, '0')}.wal`;
}

export function spareFileName(stream: number): string {
  assert.ok(Number.isInteger(stream) && stream >= 0 && stream <= STREAM_ID_MAX, 'stream id has 3 digits');
  return `wal-${String(stream).padStart(3, '0')}.spare`;
}

/** Spare files in a directory (left by a stop or a crash before their stream used them). */
export function listSparesSync(directory: string): string[] {
  return readdirSync(directory)
    .filter((name) => SPARE_NAME.test(name))
    .map((name) => path.join(directory, name));
}

export function parseSegmentName(directory: string, name: string): SegmentName | null {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return null;
  return { stream: Number(match[1]), firstSeq: Number(match[2]), path: path.join(directory, name) };
}

/** Segments in a directory, by stream then first seq (the order they were written in). */
export function listSegmentsSync(directory: string): SegmentName[] {
  const segments: SegmentName[] = [];
  for (const name of readdirSync(directory)) {
    const segment = parseSegmentName(directory, name);
    if (segment !== null) segments.push(segment);
  }
  return segments.sort((left, right) => left.stream - right.stream || left.firstSeq - right.firstSeq);
}
