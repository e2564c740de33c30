import Database from 'better-sqlite3';
import { ArcError, ErrorKind } from '@arc/errors';
import { HISTORY_BUSY_TIMEOUT_MS } from './limits.js';

/** One of the package's SQLite files (compaction history, retention policies, continuous queries). */
export interface SqliteFileSchema {
  /** Written to `user_version`; a file with a higher one was made by a newer Arc. */
  readonly version: number;
  /** Idempotent DDL (CREATE ... IF NOT EXISTS), run in one transaction at each open. */
  readonly sql: string;
  /** What the caller says a user wrote (FULL) versus what only describes past work (NORMAL). */
  readonly synchronous: 'FULL' | 'NORMAL';
  /** ON DELETE CASCADE is enforced only when SQLite is told. */
  readonly foreignKeys: boolean;
  /** What the file is, for the error naming it ("Retention store"). */
  readonly what: string;
  /** The stable code of the refusal of a file of a newer schema version (the start is refused). */
  readonly newerCode: string;
  /** Said after "run the newer Arc" when the file can also be set aside (", or move ..."). */
  readonly newerHint?: string;
}

/** A file of a newer Arc: its schema is unknown here, so it is neither read nor changed. */
function newerVersionError(path: string, version: number, schema: SqliteFileSchema): ArcError {
  return new ArcError(
    ErrorKind.unavailable,
    schema.newerCode,
    `${schema.what} ${path} has schema version ${String(version)}, newer than this Arc's ${String(schema.version)}: run the newer Arc${schema.newerHint ?? ''}`,
    { path, version },
  );
}

/** Opens (creating if needed) the file in WAL mode and brings its schema up; its directory must exist. */
export function openSqliteFile(path: string, schema: SqliteFileSchema): Database {
  const db = new Database(path, { timeout: HISTORY_BUSY_TIMEOUT_MS });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${schema.synchronous}`);
    if (schema.foreignKeys) db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > schema.version) throw newerVersionError(path, version, schema);
    db.transaction(() => {
      db.exec(schema.sql);
      db.pragma(`user_version = ${String(schema.version)}`);
    })();
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** A UNIQUE constraint refused the write (a name already taken). */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}
