import { closeSync, fdatasyncSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { ENTRY_PAYLOAD_BYTES_MAX } from './limits.js';
import { ENTRY_HEADER_BYTES, FILE_HEADER_BYTES, fileHeaderProblem } from './wal-format.js';

export interface LogEntry {
  /** Byte offset of the entry header in the file. */
  readonly offset: number;
  readonly timestampUs: number;
  /** A view into the file's bytes. */
  readonly payload: Uint8Array;
}

/** Where the valid part of a log file ends and why (null: the file ends cleanly). */
export interface TornTail {
  readonly offset: number;
  readonly reason: string;
}

export interface LogFileContents {
  readonly entries: LogEntry[];
  /** Bytes of header and complete, checksummed entries: everything after them is the tail. */
  readonly validBytes: number;
  readonly fileBytes: number;
  /**
   * Zero bytes after the last entry up to the end of the file: space preallocated for entries
   * never written (a clean end, not a torn tail). 0 when the file ends at its last entry.
   */
  readonly zeroedTailBytes: number;
  readonly tail: TornTail | null;
  /** The file header is missing or wrong (no entry is trusted then). */
  readonly headerProblem: string | null;
}

const ZERO_CHUNK = new Uint8Array(64 * 1024);

/** True when every byte of `bytes` from `offset` on is zero (at an entry, its length's bytes end it). */
function zeroFrom(bytes: Uint8Array, offset: number): boolean {
  for (let start = offset; start < bytes.byteLength; start += ZERO_CHUNK.byteLength) {
    const end = Math.min(start + ZERO_CHUNK.byteLength, bytes.byteLength);
    if (Buffer.compare(bytes.subarray(start, end), ZERO_CHUNK.subarray(0, end - start)) !== 0) return false;
  }
  return true;
}

/**
 * Reads entries until the first one that is incomplete or fails its checksum. A crash tears at
 * most the entries being written, always at the end, so everything after the first bad entry is
 * treated as torn: it is reported, never trusted. Zeros from an entry boundary to the end of the
 * file are the unused part of a preallocated segment: the entries end there, nothing is torn.
 */
export function parseLogBytes(bytes: Uint8Array): LogFileContents {
  const headerProblem = fileHeaderProblem(bytes);
  if (headerProblem !== null) return { entries: [], validBytes: 0, fileBytes: bytes.byteLength, zeroedTailBytes: 0, tail: { offset: 0, reason: headerProblem }, headerProblem };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: LogEntry[] = [];
  let offset = FILE_HEADER_BYTES;
  let tail: TornTail | null = null;
  let zeroedTailBytes = 0;
  while (offset < bytes.byteLength) {
    if (zeroFrom(bytes, offset)) {
      zeroedTailBytes = bytes.byteLength - offset;
      break;
    }
    if (bytes.byteLength - offset < ENTRY_HEADER_BYTES) {
      tail = { offset, reason: `entry header cut short (${bytes.byteLength - offset} of ${ENTRY_HEADER_BYTES} bytes)` };
      break;
    }
    const payloadBytes = view.getUint32(offset, false);
    const payloadStart = offset + ENTRY_HEADER_BYTES;
    if (payloadBytes === 0) {
      tail = { offset, reason: 'entry length 0 (no entry is empty) before bytes that are not zero' };
      break;
    }
    if (payloadBytes > ENTRY_PAYLOAD_BYTES_MAX) {
      tail = { offset, reason: `entry length ${payloadBytes} exceeds the maximum` };
      break;
    }
    if (payloadStart + payloadBytes > bytes.byteLength) {
      tail = { offset, reason: `entry payload cut short (${bytes.byteLength - payloadStart} of ${payloadBytes} bytes)` };
      break;
    }
    const payload = bytes.subarray(payloadStart, payloadStart + payloadBytes);
    if (crc32(payload) !== view.getUint32(offset + 12, false)) {
      tail = { offset, reason: 'entry checksum mismatch' };
      break;
    }
    entries.push({ offset, timestampUs: Number(view.getBigUint64(offset + 4, false)), payload });
    offset = payloadStart + payloadBytes;
  }
  return { entries, validBytes: tail === null ? bytes.byteLength - zeroedTailBytes : tail.offset, fileBytes: bytes.byteLength, zeroedTailBytes, tail, headerProblem: null };
}

export function readLogFileSync(path: string): LogFileContents {
  return parseLogBytes(readFileSync(path));
}

/** Cuts a file back to `validBytes` and makes the new length durable. */
export function truncateFileSync(path: string, validBytes: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, validBytes);
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
