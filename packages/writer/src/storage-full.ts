import { ArcError, ErrorKind, readDuckDBError } from '@arc/errors';
import { WriterErrorCode } from './error-codes.js';

/**
 * Whether a failed flush failed for lack of room on the data disk. The writer refuses new rows
 * while that is so (they could not land either), so the decision is made here, once, for every
 * step of a flush: staging directories, DuckDB's COPY and spill files, fsync, the flush journal.
 */

/** Node's errno codes for "no room": the filesystem is full, or the user's quota is. */
const NO_ROOM_ERRNO_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/** How many `cause` links are followed: wrappers are one or two deep; a cycle must not loop. */
const CAUSE_DEPTH_MAX = 4;

function errnoCodeOf(error: unknown): string | null {
  if (typeof error !== 'object' || error === null || !('code' in error)) return null;
  return typeof error.code === 'string' ? error.code : null;
}

/** True when `error` (or the error it wraps as `cause`) says the disk has no room. */
export function isStorageFull(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < CAUSE_DEPTH_MAX; depth++) {
    if (current instanceof ArcError) return current.code === WriterErrorCode.storageFull;
    const code = errnoCodeOf(current);
    if (code !== null && NO_ROOM_ERRNO_CODES.has(code)) return true;
    if (!(current instanceof Error)) return false;
    // DuckDB's errors carry text only: readDuckDBError is the one place that reads it.
    if (readDuckDBError(current).diskFull) return true;
    current = current.cause;
  }
  return false;
}

/**
 * The error of a flush step that failed for lack of room: logged, and answered (503) to
 * POST /write/flush; writes get storageFullRefusal (writer-core.ts), which names no path.
 */
export function storageFullError(step: string, cause: unknown, details?: Record<string, string | number | boolean>): ArcError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ArcError(
    ErrorKind.unavailable,
    WriterErrorCode.storageFull,
    `The data disk is full: ${step} failed (${reason})`,
    details,
  );
}
