import assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ArcError, ErrorKind } from '@arc/errors';
import { ServerErrorCode } from './error-codes.js';

/**
 * One Arc process per data directory. Two processes on one directory each replay the same WAL
 * after a crash (every row twice) and collide on WAL file names, so the second must not start.
 *
 * The lock is an OS advisory lock held through SQLite: `arc.lock` is a SQLite database whose
 * first write transaction takes SQLite's exclusive lock, a POSIX lock, and switches to EXCLUSIVE
 * locking mode inside it, so SQLite keeps the lock until the connection closes. The kernel drops
 * that lock when the process dies, kill -9 included, so a crash never leaves a stale lock; a PID
 * file alone would. Who holds the lock is
 * written next to it in `arc.lock.owner` (the database itself cannot be read by the loser).
 */
const LOCK_FILE = 'arc.lock';
const OWNER_FILE = 'arc.lock.owner';

/** SQLite's answer when another connection (here: another process) holds the lock. */
const SQLITE_BUSY = 'SQLITE_BUSY';

/**
 * How long a taker retries a busy lock before it reports the holder. A held lock is held for the
 * holder's life, so waiting never frees it; the wait is for two processes starting at once, which
 * climb SQLite's lock ladder together (each holds SHARED while it asks for EXCLUSIVE): without a
 * retry both get SQLITE_BUSY and neither starts (32 of 100 such races here), with it SQLite's busy
 * handler lets one step back, so exactly one wins.
 */
const LOCK_RACE_WAIT_MS = 1000;

/** The process holding a data directory, as it wrote itself down. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
}

/**
 * Every lock this process holds. A better-sqlite3 connection that is garbage collected closes, and
 * closing it drops the OS lock, so a caller that let go of its DataDirLock would lose the directory
 * without a word. Held here, a lock lasts until `release()` or exit, as documented.
 */
const HELD_LOCKS = new Set<Database>();

function readOwner(dataDir: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path.join(dataDir, OWNER_FILE), 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string' || typeof owner.startedAt !== 'string') return null;
    return { pid: owner.pid, host: owner.host, startedAt: owner.startedAt };
  } catch {
    // Not written yet (the holder is starting this very moment) or unreadable.
    return null;
  }
}

function lockedError(dataDir: string, owner: LockOwner | null): ArcError {
  const holder = owner === null ? 'another process (it has not written its name yet)' : `pid ${String(owner.pid)} on host ${owner.host}, started ${owner.startedAt}`;
  return new ArcError(
    ErrorKind.unavailable,
    ServerErrorCode.dataDirLocked,
    `Data directory ${dataDir} is in use by another Arc process: ${holder}. Stop that process, or give this one another storage.data_dir`,
    owner === null ? { data_dir: dataDir } : { data_dir: dataDir, pid: owner.pid, host: owner.host, started_at: owner.startedAt },
  );
}

function isBusy(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === SQLITE_BUSY;
}

/** The data directory's lock, held by this process until `release()` or exit. */
export class DataDirLock {
  readonly dataDir: string;
  #database: Database | null;

  private constructor(dataDir: string, database: Database) {
    this.dataDir = dataDir;
    this.#database = database;
  }

  /** Takes the lock of an existing directory at once, or throws ARC_DATA_DIR_LOCKED naming the holder. */
  static acquire(dataDir: string): DataDirLock {
    const database = new Database(path.join(dataDir, LOCK_FILE), { timeout: LOCK_RACE_WAIT_MS });
    try {
      // The exclusive lock first, in the normal locking mode: a taker that meets a busy lock gives
      // its shared one back before it retries, so two takers at once cannot hold each other off.
      database.exec('BEGIN EXCLUSIVE');
      // Then EXCLUSIVE locking mode: the lock is kept past the commit, never given back.
      database.pragma('locking_mode = EXCLUSIVE');
      database.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (' + String(process.pid) + '); COMMIT');
    } catch (error) {
      database.close();
      if (isBusy(error)) throw lockedError(dataDir, readOwner(dataDir));
      throw error;
    }
    const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    const ownerPath = path.join(dataDir, OWNER_FILE);
    writeFileSync(`${ownerPath}.tmp`, `${JSON.stringify(owner)}\n`);
    renameSync(`${ownerPath}.tmp`, ownerPath);
    HELD_LOCKS.add(database);
    return new DataDirLock(dataDir, database);
  }

  get held(): boolean {
    return this.#database !== null;
  }

  /** Gives the directory up (a stopped server in a process that goes on, such as a test). */
  release(): void {
    const database = this.#database;
    if (database === null) return;
    this.#database = null;
    HELD_LOCKS.delete(database);
    assert.ok(database.open, 'lock database closed behind the lock');
    database.close();
  }
}
