import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdir, readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { ArcError, ErrorKind } from '@arc/errors';
import type { CatalogChange } from './catalog.js';
import { StorageErrorCode } from './error-codes.js';
import { DOWNLOAD_SUFFIX, STAGING_SUFFIX, databasePrefix, measurementPrefix, parseFileKey } from './layout.js';
import { CACHE_FETCHES_MAX, CACHE_ROOM_WAIT_MS, CACHE_TOUCH_INTERVAL_MS } from './limits.js';

/** Downloads `key` to `destination` (complete or not at all) and returns its size (S3Storage.download). */
export type FetchFile = (key: string, destination: string, expectedBytes: number) => Promise<number>;

/** A data file an acquire needs local: its key and its size (from its name or the catalog). */
export interface CachedFileRequest {
  readonly key: string;
  readonly bytes: number;
}

/** Files pinned for one reader until `FileCache.release`. */
export interface CacheLease {
  readonly id: number;
}

/** The cache's figures since the start (for /metrics). */
export interface FileCacheStats {
  readonly files: number;
  readonly bytes: number;
  readonly bytesMax: number;
  /** Files pinned by running queries and merges, and their bytes. */
  readonly pinnedFiles: number;
  readonly pinnedBytes: number;
  /** Files an acquire found local, and files it had to download. */
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly fetchedBytes: number;
  /** Acquires waiting for pinned files to be released before their files fit. */
  readonly waitingForRoom: number;
}

export interface FileCacheOptions {
  /** Absolute: the local copies live at `<directory>/<key>` (S3Storage.cachePathOf). */
  readonly directory: string;
  readonly bytesMax: number;
  readonly fetch: FetchFile;
  /** Staged files (`*.tmp`) written before this instant are a dead process's: removed at open. Null: left alone. */
  readonly removeStagedBeforeMs?: number | null;
  /** How long an acquire waits for pinned files to leave room (CACHE_ROOM_WAIT_MS). */
  readonly roomWaitMs?: number;
}

interface Entry {
  readonly key: string;
  readonly bytes: number;
  /** 'fetching': reserved and downloading; 'gone': out of the index (pins still count down). */
  state: 'fetching' | 'ready' | 'gone';
  pins: number;
  /** The catalog dropped it: deleted at its last release. */
  forgotten: boolean;
  /** Settles when the download ends (rejects with its error); null once ready. */
  fetched: Promise<void> | null;
  touchedAtMs: number;
}

interface HeldLease {
  readonly entries: readonly Entry[];
}

/**
 * The local copies of an object store's data files that queries and merges read (DuckDB reads
 * local files only). Owned by the main thread (Storage.cache); query threads ask through their
 * task's cache port. Bounded by bytes, least recently used first out; a file in use is pinned
 * and never evicted. Files come in three ways: written through by this node (a writer's or a
 * merge's publish renames the uploaded file to its cache path: admitSync), downloaded on a miss
 * (acquire; one download per key however many readers wait for it), or found at open.
 *
 * The bound counts files in the index plus downloads under way (their bytes are reserved before
 * they start), so the cache's files never exceed it; a write-through file is on disk a moment
 * before the catalog event admits it (and evicts to make room).
 */
export class FileCache {
  private readonly directory: string;
  private readonly bytesMax: number;
  private readonly fetchFile: FetchFile;
  private readonly roomWaitMs: number;
  /** In least recently used order (a use moves an entry to the end). */
  private readonly entries = new Map<string, Entry>();
  private readonly leases = new Map<number, HeldLease>();
  private nextLeaseId = 1;
  private bytesUsed = 0;
  private bytesPinned = 0;
  private filesPinned = 0;
  /** Acquires waiting for room: each re-checks when pins or entries go. */
  private roomWaiters: (() => void)[] = [];
  /** Deletes under way by key: a download waits for them first. */
  private readonly unlinking = new Map<string, Promise<void>>();
  private fetchesRunning = 0;
  private readonly fetchQueue: (() => void)[] = [];
  private readonly counts = { hits: 0, misses: 0, evictions: 0, fetchedBytes: 0 };

  private constructor(options: FileCacheOptions) {
    assert.ok(path.isAbsolute(options.directory), 'the cache directory is absolute');
    assert.ok(Number.isSafeInteger(options.bytesMax) && options.bytesMax > 0, 'the cache bound is a positive byte count');
    this.directory = options.directory;
    this.bytesMax = options.bytesMax;
    this.fetchFile = options.fetch;
    this.roomWaitMs = options.roomWaitMs ?? CACHE_ROOM_WAIT_MS;
  }

  /**
   * Indexes the files already in `directory` (a restart keeps the cache), oldest mtime first in
   * the LRU order, then evicts down to the bound (it may have been lowered). Removes what a dead
   * process left: temporary downloads, staged files older than `removeStagedBeforeMs`, and data
   * files whose size is not the one their name says (a damaged copy).
   */
  static async open(options: FileCacheOptions): Promise<FileCache> {
    const cache = new FileCache(options);
    await mkdir(options.directory, { recursive: true });
    const found: { key: string; bytes: number; mtimeMs: number }[] = [];
    for (const entry of await readdir(options.directory, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const indexed = await indexedFile(options.directory, file, options.removeStagedBeforeMs ?? null);
      if (indexed !== null) found.push(indexed);
    }
    found.sort((left, right) => left.mtimeMs - right.mtimeMs);
    for (const file of found) cache.insert(file.key, file.bytes, 'ready', file.mtimeMs);
    cache.evictToFit(0);
    return cache;
  }

  /** Where the local copy of `key` is (or will be). */
  pathOf(key: string): string {
    assert.ok(!path.isAbsolute(key) && !key.split('/').includes('..'), 'a cache key stays inside the cache');
    return path.join(this.directory, key);
  }

  /**
   * Takes in a file this node put at its cache path (a writer's or a merge's publish) if it is
   * there with its size; evicts unpinned files (this one last) until the bound holds. Blocks on
   * one stat: catalog events of published files are a few per flush.
   */
  admitSync(key: string, bytes: number): boolean {
    if (this.entries.has(key)) return true;
    let size: number;
    try {
      size = statSync(this.pathOf(key)).size;
    } catch {
      return false; // Not here: another node's file, downloaded when a reader needs it.
    }
    if (size !== bytes) return false;
    this.insert(key, bytes, 'ready', Date.now());
    this.evictToFit(0);
    return true;
  }

  /**
   * Makes the files local and pins them until `release`: those missing are downloaded (at most
   * CACHE_FETCHES_MAX at once over the whole cache), after evicting unpinned files least recently
   * used first. Throws 413 ARC_CACHE_TOO_SMALL when the files together exceed the bound, 503
   * ARC_CACHE_BUSY when pinned files leave no room within the wait, and a download's error
   * (409 ARC_OBJECT_GONE, 503 ARC_OBJECT_STORE_UNAVAILABLE / ARC_CACHE_CHECKSUM). `bytesHeld`:
   * what the same reader holds pinned already (other files), counted toward the 413.
   */
  async acquire(files: readonly CachedFileRequest[], bytesHeld = 0): Promise<CacheLease> {
    const wanted = distinctByKey(files);
    const bytesWanted = wanted.reduce((sum, file) => sum + file.bytes, 0);
    if (bytesHeld + bytesWanted > this.bytesMax) throw this.tooSmallError(bytesHeld + bytesWanted);
    const entries = await this.reserve(wanted);
    const downloads = entries.flatMap((entry) => (entry.fetched === null ? [] : [entry.fetched]));
    // Every download settled before any pin goes: an unpinned entry still downloading could be evicted.
    const failure = downloads.length === 0 ? undefined : (await Promise.allSettled(downloads)).find((outcome) => outcome.status === 'rejected');
    if (failure !== undefined) {
      for (const entry of entries) this.unpin(entry);
      throw failure.reason;
    }
    const id = this.nextLeaseId++;
    this.leases.set(id, { entries });
    return { id };
  }

  /** Unpins a lease's files (each may be evicted from now on); a second release is a no-op. */
  release(lease: CacheLease): void {
    const held = this.leases.get(lease.id);
    if (held === undefined) return;
    this.leases.delete(lease.id);
    const nowMs = Date.now();
    for (const entry of held.entries) {
      this.unpin(entry);
      if (entry.state === 'ready' && nowMs - entry.touchedAtMs >= CACHE_TOUCH_INTERVAL_MS) this.touch(entry, nowMs);
    }
  }

  /** The catalog dropped these files: their local copies go now, or at their last release when pinned. */
  forget(keys: readonly string[]): void {
    for (const key of keys) {
      const entry = this.entries.get(key);
      if (entry === undefined) this.unlink(key); // A write-through file not admitted yet, if any.
      else if (entry.pins > 0) entry.forgotten = true;
      else this.remove(entry, true);
    }
  }

  /** Forgets every file under a key prefix (a measurement or database deleted). */
  forgetPrefix(prefix: string): void {
    assert.ok(prefix.endsWith('/'), 'a directory prefix');
    this.forget([...this.entries.keys()].filter((key) => key.startsWith(prefix)));
  }

  /** Follows the catalog: published files admitted (when written through here), dropped ones forgotten. */
  applyCatalogChanges(changes: readonly CatalogChange[]): void {
    for (const change of changes) {
      if (change.kind === 'add') for (const file of change.files) this.admitSync(file.key, file.bytes);
      else if (change.kind === 'drop-files') this.forget(change.keys);
      else if (change.kind === 'drop-measurement') this.forgetPrefix(measurementPrefix(change.database, change.measurement));
      else if (change.kind === 'drop-database') this.forgetPrefix(databasePrefix(change.database));
    }
  }

  stats(): FileCacheStats {
    return { files: this.entries.size, bytes: this.bytesUsed, bytesMax: this.bytesMax, pinnedFiles: this.filesPinned, pinnedBytes: this.bytesPinned, ...this.counts, waitingForRoom: this.roomWaiters.length };
  }

  /**
   * Pins the wanted files that are here (or downloading) and reserves room for the rest, evicting
   * unpinned files; waits for releases while pinned files leave too little room. Nothing is
   * pinned while waiting, so two acquires cannot each hold what the other waits for.
   */
  private async reserve(wanted: readonly CachedFileRequest[]): Promise<Entry[]> {
    const deadlineMs = Date.now() + this.roomWaitMs;
    for (;;) {
      let bytesMissing = 0;
      let bytesUnpinnedHere = 0;
      for (const file of wanted) {
        const entry = this.entries.get(file.key);
        if (entry === undefined) bytesMissing += file.bytes;
        else if (entry.pins === 0) bytesUnpinnedHere += entry.bytes;
      }
      if (this.bytesPinned + bytesUnpinnedHere + bytesMissing <= this.bytesMax) return this.pinAndFetch(wanted, bytesMissing);
      if (!(await this.roomChanged(deadlineMs))) throw this.busyError(bytesMissing);
    }
  }

  /** The synchronous half of reserve: room is known to suffice, so nothing runs in between. */
  private pinAndFetch(wanted: readonly CachedFileRequest[], bytesMissing: number): Entry[] {
    const entries: Entry[] = [];
    const missing: CachedFileRequest[] = [];
    for (const file of wanted) {
      const entry = this.entries.get(file.key);
      if (entry === undefined) {
        missing.push(file);
        continue;
      }
      this.counts.hits++;
      this.pin(entry);
      this.moveToEnd(entry);
      entries.push(entry);
    }
    this.evictToFit(bytesMissing);
    for (const file of missing) {
      this.counts.misses++;
      const entry = this.insert(file.key, file.bytes, 'fetching', Date.now());
      this.pin(entry);
      entry.fetched = this.download(entry);
      entries.push(entry);
    }
    assert.ok(this.bytesUsed <= this.bytesMax, 'the cache holds its bound');
    return entries;
  }

  /** Downloads a reserved entry; on failure it leaves the index (its readers get the error). */
  private async download(entry: Entry): Promise<void> {
    await this.fetchSlot();
    try {
      // Evicted files are gone from the disk before a download takes their room (and an earlier copy of this key before it lands).
      await Promise.all(this.unlinking.values());
      const size = await this.fetchFile(entry.key, this.pathOf(entry.key), entry.bytes);
      assert.equal(size, entry.bytes, 'a download is checked against its expected size');
      this.counts.fetchedBytes += size;
      if (entry.state === 'fetching') entry.state = 'ready';
      entry.fetched = null;
    } catch (error) {
      if (entry.state !== 'gone') this.remove(entry, false);
      throw error;
    } finally {
      this.fetchDone();
    }
  }

  private async fetchSlot(): Promise<void> {
    if (this.fetchesRunning < CACHE_FETCHES_MAX) {
      this.fetchesRunning++;
      return;
    }
    // The slot passes straight from the download that ends to this one (fetchDone).
    await new Promise<void>((resolve) => this.fetchQueue.push(resolve));
  }

  private fetchDone(): void {
    const next = this.fetchQueue.shift();
    if (next !== undefined) next();
    else this.fetchesRunning--;
  }

  /** Evicts unpinned files, least recently used first, until `bytesIncoming` more fit. */
  private evictToFit(bytesIncoming: number): void {
    if (this.bytesUsed + bytesIncoming <= this.bytesMax) return;
    // Deleting the entry being visited is safe in a Map's iteration (no copy of a large index).
    for (const entry of this.entries.values()) {
      if (this.bytesUsed + bytesIncoming <= this.bytesMax) return;
      if (entry.pins > 0) continue;
      this.counts.evictions++;
      this.remove(entry, true);
    }
  }

  private insert(key: string, bytes: number, state: 'fetching' | 'ready', touchedAtMs: number): Entry {
    assert.ok(!this.entries.has(key), 'a key is indexed once');
    const entry: Entry = { key, bytes, state, pins: 0, forgotten: false, fetched: null, touchedAtMs };
    this.entries.set(key, entry);
    this.bytesUsed += bytes;
    return entry;
  }

  /** Takes an entry out of the index (its file deleted when `unlink`); readers waiting for room look again. */
  private remove(entry: Entry, unlink: boolean): void {
    assert.ok(entry.state !== 'gone', 'an entry leaves the index once');
    if (entry.pins > 0) {
      this.bytesPinned -= entry.bytes;
      this.filesPinned--;
    }
    entry.state = 'gone';
    this.entries.delete(entry.key);
    this.bytesUsed -= entry.bytes;
    if (unlink) this.unlink(entry.key);
    this.wakeRoomWaiters();
  }

  private pin(entry: Entry): void {
    if (entry.pins === 0) {
      this.bytesPinned += entry.bytes;
      this.filesPinned++;
    }
    entry.pins++;
  }

  private unpin(entry: Entry): void {
    assert.ok(entry.pins > 0, 'only a pinned entry is unpinned');
    entry.pins--;
    if (entry.pins > 0 || entry.state === 'gone') return;
    this.bytesPinned -= entry.bytes;
    this.filesPinned--;
    if (entry.forgotten) this.remove(entry, true);
    else this.wakeRoomWaiters();
  }

  private moveToEnd(entry: Entry): void {
    this.entries.delete(entry.key);
    this.entries.set(entry.key, entry);
  }

  /** Records the use in the file's mtime: the LRU order a restart rebuilds. */
  private touch(entry: Entry, nowMs: number): void {
    entry.touchedAtMs = nowMs;
    const seconds = nowMs / 1000;
    utimes(this.pathOf(entry.key), seconds, seconds).catch(() => undefined);
  }

  private unlink(key: string): void {
    const file = this.pathOf(key);
    const removing = rm(file, { force: true })
      .catch(() => undefined)
      .finally(() => {
        if (this.unlinking.get(key) === removing) this.unlinking.delete(key);
      });
    this.unlinking.set(key, removing);
  }

  /** Resolves true when pins or entries changed, false at the deadline. */
  private roomChanged(deadlineMs: number): Promise<boolean> {
    const waitMs = deadlineMs - Date.now();
    if (waitMs <= 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.roomWaiters = this.roomWaiters.filter((other) => other !== waiter);
        resolve(false);
      }, waitMs);
      this.roomWaiters.push(waiter);
    });
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const waiter of waiters) waiter();
  }

  private tooSmallError(bytes: number): ArcError {
    return new ArcError(
      ErrorKind.tooLarge,
      StorageErrorCode.cacheTooSmall,
      `The files this needs at once take ${formatBytes(bytes)}, more than the local file cache holds (${formatBytes(this.bytesMax)}, storage.cache_max_gb): raise storage.cache_max_gb or narrow the time range`,
      { bytes_needed: bytes, cache_bytes_max: this.bytesMax },
    );
  }

  private busyError(bytesMissing: number): ArcError {
    return new ArcError(
      ErrorKind.unavailable,
      StorageErrorCode.cacheBusy,
      `The local file cache (${formatBytes(this.bytesMax)}, storage.cache_max_gb) is held by other queries and merges: no room for ${formatBytes(bytesMissing)} within ${String(this.roomWaitMs / 1000)} s; retry later or raise storage.cache_max_gb`,
      { bytes_needed: bytesMissing, cache_bytes_max: this.bytesMax, cache_bytes_pinned: this.bytesPinned },
    );
  }
}

/**
 * One file found in the cache directory at open, or null: temporary downloads and stale staged
 * files are deleted, live staged files and other objects skipped, damaged copies deleted.
 */
async function indexedFile(directory: string, file: string, removeStagedBeforeMs: number | null): Promise<{ key: string; bytes: number; mtimeMs: number } | null> {
  if (file.endsWith(DOWNLOAD_SUFFIX)) {
    await rm(file, { force: true });
    return null;
  }
  const facts = await stat(file).catch(() => null);
  if (facts === null) return null;
  if (file.endsWith(STAGING_SUFFIX)) {
    // A writer of this process may be writing it (staged files live here too): only a dead one's go.
    if (removeStagedBeforeMs !== null && facts.mtimeMs < removeStagedBeforeMs) await rm(file, { force: true });
    return null;
  }
  const key = path.relative(directory, file).split(path.sep).join('/');
  const named = parseFileKey(key);
  if (named === null) return null;
  if (named.bytes !== null && named.bytes !== facts.size) {
    await rm(file, { force: true });
    return null;
  }
  return { key, bytes: facts.size, mtimeMs: facts.mtimeMs };
}

function distinctByKey(files: readonly CachedFileRequest[]): CachedFileRequest[] {
  const byKey = new Map<string, CachedFileRequest>();
  for (const file of files) {
    assert.ok(Number.isSafeInteger(file.bytes) && file.bytes >= 0, 'a file size is a byte count');
    byKey.set(file.key, file);
  }
  return [...byKey.values()];
}

function formatBytes(bytes: number): string {
  if (bytes < 1_000_000) return `${String(bytes)} bytes`;
  return `${(bytes / 1e9).toFixed(bytes < 1e9 ? 4 : 2)} GB (${String(bytes)} bytes)`;
}
