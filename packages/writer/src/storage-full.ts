import { ArcError, ErrorKind } from '@arc/errors';

/**
 * Whether a failed flush failed for lack of room on the data disk. The writer refuses new rows
 * while that is so (they could not land either), so the decision is made here, once, for every
 * step of a flush: staging directories, DuckDB's COPY and spill files, fsync, the flush journal.
 */

/** Stable code of the 503 a write gets while flushes fail for lack of disk space. */
export const STORAGE_FULL_CODE = 'ARC_STORAGE_FULL';

/** Node's errno codes for "no room": the filesystem is full, or the user's quota is. */
const NO_ROOM_ERRNO_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/**
 * DuckDB's errors reach JavaScript as plain `Error`s with text only (the Node binding does not
 * expose `duckdb_error_data_error_type`), so this is the one place that reads their text. An IO
 * Error carries the OS's strerror ("No space left on device", "Disk quota exceeded"); a spill past
 * `max_temp_directory_size` is an "Out of Memory Error: failed to offload data block ...", which
 * is the disk being full, not memory: the encoder sets that limit (limits.ts,
 * ENCODER_TEMP_DIRECTORY_SIZE_MAX) so that only a full disk can reach it.
 */
const DUCKDB_NO_ROOM_PATTERNS: readonly RegExp[] = [/No space left on device/, /Disk quota exceeded/, /failed to offload data block/];

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
    if (current instanceof ArcError) return current.code === STORAGE_FULL_CODE;
    const code = errnoCodeOf(current);
    if (code !== null && NO_ROOM_ERRNO_CODES.has(code)) return true;
    if (!(current instanceof Error)) return false;
    const message = current.message;
    if (DUCKDB_NO_ROOM_PATTERNS.some((pattern) => pattern.test(message))) return true;
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
    STORAGE_FULL_CODE,
    `The data disk is full: ${step} failed (${reason})`,
    details,
  );
}
