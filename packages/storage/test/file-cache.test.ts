// Proves the object-storage file cache (file-cache.ts) keeps its byte bound on disk, evicts least
// recently used unpinned files only, downloads a key once for concurrent readers, refuses with 413
// what cannot fit and with 503 what pinned files leave no room for, deletes forgotten files at
// their last release, and rebuilds its index at open (damaged and temporary files removed), by
// driving a FileCache over a temporary directory with a downloader the test controls.
import { mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { FileCache, Storage, StorageErrorCode, dataFileKey, type FetchFile } from '../src/index.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_US = Date.parse('2025-03-04T05:00:00Z') * 1000;

/** A data file key naming `bytes` as its size (the cache checks sizes against names). */
function keyOf(name: string, bytes: number): string {
  return dataFileKey({ database: 'db', measurement: 'cpu', hourUs: HOUR_US, nodeId: 'n1', unique: `w0-${name}`, rows: 1, bytes, minTimeUs: HOUR_US, maxTimeUs: HOUR_US, writtenAtMs: Date.parse('2025-03-04T05:30:00Z'), schemaId: '0123456789abcdef', span: 'hour' });
}

interface Downloader {
  readonly fetch: FetchFile;
  readonly fetched: string[];
  /** Bytes of data files on disk when each download wrote its file (before it counted). */
  readonly diskBytesSeen: number[];
  /** While set, downloads wait for open() before writing. */
  gate: Promise<void> | null;
  failing: Set<string>;
}

async function dataBytesUnder(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith('.parquet')) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

function downloader(directory: string): Downloader {
  const state: Downloader = {
    fetched: [],
    diskBytesSeen: [],
    gate: null,
    failing: new Set(),
    fetch: async (key, destination, expectedBytes) => {
      state.fetched.push(key);
      if (state.gate !== null) await state.gate;
      if (state.failing.has(key)) throw new ArcError('conflict', StorageErrorCode.objectGone, `'${key}' is not in the bucket any more`);
      await mkdir(path.dirname(destination), { recursive: true });
      await writeFile(destination, new Uint8Array(expectedBytes));
      state.diskBytesSeen.push(await dataBytesUnder(directory));
      return expectedBytes;
    },
  };
  return state;
}

async function openCache(bytesMax: number, options: { roomWaitMs?: number; removeStagedBeforeMs?: number } = {}): Promise<{ cache: FileCache; directory: string; downloads: Downloader }> {
  const directory = await tempDirectory('arc-file-cache-');
  const downloads = downloader(directory);
  const cache = await FileCache.open({ directory, bytesMax, fetch: downloads.fetch, ...options });
  return { cache, directory, downloads };
}

const UNTIL_DEADLINE_MS = 5000;

/** The project's wait on a condition (test/support/poll-until.ts), with this file's deadline. */
async function until(check: () => boolean, what: string): Promise<void> {
  await waitUntil(what, UNTIL_DEADLINE_MS, check, 5);
}

const file = (name: string, bytes = 30): { key: string; bytes: number } => ({ key: keyOf(name, bytes), bytes });

describe('FileCache', () => {
  it('never holds more bytes than its bound, in its index or on disk', async () => {
    const { cache, directory, downloads } = await openCache(100);
    for (let round = 0; round < 20; round++) {
      const lease = await cache.acquire([file(`a${String(round)}`), file(`b${String(round % 3)}`)]);
      expect(cache.stats().bytes).toBeLessThanOrEqual(100);
      cache.release(lease);
    }
    expect(Math.max(...downloads.diskBytesSeen)).toBeLessThanOrEqual(100);
    await until(() => cache.stats().bytes <= 100, 'the bound');
    expect(await dataBytesUnder(directory)).toBe(cache.stats().bytes);
    expect(cache.stats().evictions).toBeGreaterThan(0);
  });

  it('evicts the least recently used file first', async () => {
    const { cache, directory } = await openCache(100);
    for (const name of ['a', 'b', 'c']) cache.release(await cache.acquire([file(name)]));
    // A use of `a` makes `b` the least recently used.
    cache.release(await cache.acquire([file('a')]));
    cache.release(await cache.acquire([file('d')]));
    await until(() => !existsSync(path.join(directory, keyOf('b', 30))), 'b evicted');
    for (const name of ['a', 'c', 'd']) expect(existsSync(path.join(directory, keyOf(name, 30)))).toBe(true);
    expect(cache.stats()).toMatchObject({ files: 3, bytes: 90, hits: 1, misses: 4, evictions: 1 });
  });

  it('never evicts a pinned file, and waits for a release when pinned files leave no room', async () => {
    const { cache, directory } = await openCache(100, { roomWaitMs: 5000 });
    const held = await cache.acquire([file('a'), file('b')]);
    cache.release(await cache.acquire([file('c')]));
    // `d` needs room: only `c` is unpinned.
    const lease = await cache.acquire([file('d')]);
    expect(existsSync(path.join(directory, keyOf('a', 30)))).toBe(true);
    expect(existsSync(path.join(directory, keyOf('b', 30)))).toBe(true);
    await until(() => !existsSync(path.join(directory, keyOf('c', 30))), 'c evicted');
    // a, b, d pinned (90 of 100): `e` waits until a release.
    let acquired = false;
    const waiting = cache.acquire([file('e')]).then((next) => {
      acquired = true;
      return next;
    });
    // It is waiting for room (the cache counts it), not granted.
    await until(() => cache.stats().waitingForRoom === 1, 'e waiting for room');
    expect(acquired).toBe(false);
    cache.release(lease);
    cache.release(await waiting);
    expect(existsSync(path.join(directory, keyOf('a', 30)))).toBe(true);
    cache.release(held);
  });

  it('answers 503 ARC_CACHE_BUSY when pinned files leave no room before the deadline', async () => {
    const { cache } = await openCache(100, { roomWaitMs: 50 });
    const held = await cache.acquire([file('a'), file('b'), file('c')]);
    const error = await cache.acquire([file('d')]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArcError);
    expect(error).toMatchObject({ kind: 'unavailable', code: StorageErrorCode.cacheBusy });
    expect((error as Error).message).toContain('storage.cache_max_gb');
    cache.release(held);
    expect(cache.stats()).toMatchObject({ pinnedFiles: 0, pinnedBytes: 0 });
  });

  it('downloads a key once however many readers ask for it at once', async () => {
    const { cache, downloads } = await openCache(100);
    let open = (): void => undefined;
    downloads.gate = new Promise<void>((resolve) => (open = resolve));
    const readers = [cache.acquire([file('a')]), cache.acquire([file('a'), file('b')]), cache.acquire([file('a')])];
    await until(() => downloads.fetched.length === 2, 'the downloads to start');
    open();
    const leases = await Promise.all(readers);
    expect(downloads.fetched.sort()).toEqual([keyOf('a', 30), keyOf('b', 30)].sort());
    expect(cache.stats()).toMatchObject({ files: 2, pinnedFiles: 2, misses: 2, hits: 2, fetchedBytes: 60 });
    for (const lease of leases) cache.release(lease);
    expect(cache.stats().pinnedFiles).toBe(0);
  });

  it('answers 413 ARC_CACHE_TOO_SMALL naming the bytes and storage.cache_max_gb when the files of one acquire exceed the bound', async () => {
    const { cache, downloads } = await openCache(100);
    const error = await cache.acquire([file('a'), file('b'), file('c'), file('d')]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArcError);
    expect(error).toMatchObject({ kind: 'too_large', code: StorageErrorCode.cacheTooSmall, details: { bytes_needed: 120, cache_bytes_max: 100 } });
    expect((error as Error).message).toContain('120 bytes');
    expect((error as Error).message).toContain('storage.cache_max_gb');
    // What the same reader holds counts too.
    await expect(cache.acquire([file('a')], 90)).rejects.toMatchObject({ code: StorageErrorCode.cacheTooSmall });
    expect(downloads.fetched).toEqual([]);
    expect(cache.stats()).toMatchObject({ files: 0, bytes: 0 });
  });

  it('keeps a forgotten file until its last release, then deletes it', async () => {
    const { cache, directory } = await openCache(100);
    const first = await cache.acquire([file('a')]);
    const second = await cache.acquire([file('a')]);
    cache.forget([keyOf('a', 30)]);
    cache.release(first);
    expect(existsSync(path.join(directory, keyOf('a', 30)))).toBe(true);
    cache.release(second);
    await until(() => !existsSync(path.join(directory, keyOf('a', 30))), 'a deleted');
    expect(cache.stats()).toMatchObject({ files: 0, bytes: 0 });
  });

  it('passes a download failure to every reader waiting for it, frees its room, and downloads again later', async () => {
    const { cache, downloads } = await openCache(100);
    downloads.failing.add(keyOf('a', 30));
    const held = await cache.acquire([file('b')]);
    await expect(Promise.all([cache.acquire([file('a')]), cache.acquire([file('a'), file('c')])])).rejects.toMatchObject({ code: StorageErrorCode.objectGone });
    expect(downloads.fetched.filter((key) => key === keyOf('a', 30))).toHaveLength(1);
    await until(() => cache.stats().pinnedFiles === 1, 'pins of the failed acquires released');
    downloads.failing.clear();
    cache.release(await cache.acquire([file('a')]));
    expect(downloads.fetched.filter((key) => key === keyOf('a', 30))).toHaveLength(2);
    cache.release(held);
  });

  it('admits a file written through to its cache path, and evicts to keep the bound', async () => {
    const { cache, directory } = await openCache(100);
    for (const name of ['a', 'b', 'c']) cache.release(await cache.acquire([file(name)]));
    const key = keyOf('written', 30);
    expect(cache.admitSync(key, 30)).toBe(false); // Not there yet: another node's file.
    await mkdir(path.dirname(path.join(directory, key)), { recursive: true });
    await writeFile(path.join(directory, key), new Uint8Array(30));
    expect(cache.admitSync(key, 30)).toBe(true);
    expect(cache.stats()).toMatchObject({ files: 3, bytes: 90 });
    await until(() => !existsSync(path.join(directory, keyOf('a', 30))), 'a evicted');
  });

  it('indexes the files found at open by mtime, deleting damaged copies, temporary downloads and a dead process staged files', async () => {
    const directory = await tempDirectory('arc-file-cache-');
    const hourDirectory = path.join(directory, path.dirname(keyOf('x', 30)));
    await mkdir(hourDirectory, { recursive: true });
    const put = async (name: string, bytes: number, mtimeS: number): Promise<string> => {
      const target = path.join(hourDirectory, name);
      await writeFile(target, new Uint8Array(bytes));
      await utimes(target, mtimeS, mtimeS);
      return target;
    };
    const nowS = Date.now() / 1000;
    const older = await put(path.basename(keyOf('older', 30)), 30, nowS - 100);
    const newer = await put(path.basename(keyOf('newer', 30)), 30, nowS - 50);
    const damaged = await put(path.basename(keyOf('damaged', 30)), 12, nowS - 10);
    const download = await put(`${path.basename(keyOf('half', 30))}.abc123.download`, 7, nowS - 10);
    const staleStaged = await put('staged-0001.tmp', 5, nowS - 100);
    const liveStaged = await put('staged-0002.tmp', 5, nowS + 10);
    const downloads = downloader(directory);
    const cache = await FileCache.open({ directory, bytesMax: 70, fetch: downloads.fetch, removeStagedBeforeMs: Date.now() });
    expect(cache.stats()).toMatchObject({ files: 2, bytes: 60 });
    expect(existsSync(damaged)).toBe(false);
    expect(existsSync(download)).toBe(false);
    expect(existsSync(staleStaged)).toBe(false);
    expect(existsSync(liveStaged)).toBe(true);
    // A new file evicts the one with the oldest mtime; a found file is a hit.
    cache.release(await cache.acquire([file('third')]));
    await until(() => !existsSync(older), 'the older file evicted');
    expect(existsSync(newer)).toBe(true);
    cache.release(await cache.acquire([file('newer')]));
    expect(downloads.fetched).toEqual([keyOf('third', 30)]);
  });
});

describe('Storage.acquireFiles on local disk', () => {
  it('has no cache and gives a release that does nothing', async () => {
    const root = await tempDirectory('arc-file-cache-local-');
    const storage = await Storage.open({ root });
    expect(storage.cache).toBeNull();
    const release = await storage.acquireFiles([file('a')]);
    release();
    expect(existsSync(path.join(root, keyOf('a', 30)))).toBe(false);
  });
});
