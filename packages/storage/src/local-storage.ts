import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STAGING_SUFFIX, assertStorageKey } from './layout.js';
import { newStagingPath, sealStagedFile } from './staging.js';
import { WALK_SLICE_MS } from './limits.js';
import { localNodeIdSync } from './node-id.js';
import type { ByteRange, ListPage, ListedChildren, StorageBackend, StoredObject, VersionedObject } from './storage-backend.js';


function entriesOfSync(directory: string): Dirent[] {
  try {
    return readdirSync(directory, { withFileTypes: true });
  } catch {
    // Missing, or removed (retention, delete) between listing and reading: it holds nothing.
    return [];
  }
}

/**
 * Local disk, the embedded default. Files are staged in their final directory (so the rename is
 * atomic on one filesystem) and the directory is fsynced after the rename so the new name is
 * durable too. Listing walks the directories: the one data-dir walk in Arc.
 */
export class LocalStorage implements StorageBackend {
  readonly kind = 'local' as const;
  readonly root: string;
  private nodeIdValue: string | null = null;
  private lastWalk: { readonly prefix: string; readonly keys: readonly string[] } | null = null;
  /** Conditional writes of this process, one at a time per key (a data directory has one process: data-dir-lock). */
  private readonly conditionalTails = new Map<string, Promise<unknown>>();

  /** `nodeId` null: the data directory's own (node-id.ts), read on first use. */
  constructor(root: string, nodeId: string | null = null) {
    assert.ok(path.isAbsolute(root), 'storage root must be absolute');
    this.root = root;
    this.nodeIdValue = nodeId;
  }

  /** This data directory's node id (node-id.ts), made on first use. */
  get nodeId(): string {
    this.nodeIdValue ??= localNodeIdSync(this.root);
    return this.nodeIdValue;
  }

  pathOf(key: string): string {
    assertStorageKey(key);
    return path.join(this.root, key);
  }

  locationOf(key: string): string {
    return this.pathOf(key);
  }

  /**
   * Every file under `prefix` in key order, paged; the token is the last key of the previous
   * page. A first page walks the directories; later pages reuse that walk (kept for the last
   * prefix listed), so paging through 100,000 files walks once.
   */
  async list(prefix: string, continuationToken: string | null, limit: number, sizes = true): Promise<ListPage> {
    assert.ok(Number.isInteger(limit) && limit > 0, 'a page holds at least one key');
    const reuse = continuationToken !== null && this.lastWalk?.prefix === prefix;
    const keys = reuse && this.lastWalk !== null ? this.lastWalk.keys : await this.keysUnder(prefix);
    this.lastWalk = { prefix, keys };
    const start = continuationToken === null ? 0 : upperBound(keys, continuationToken);
    const pageKeys = keys.slice(start, start + limit);
    const objects = sizes ? sizesOf(this.root, pageKeys) : pageKeys.map((key) => ({ key, size: null }));
    const last = pageKeys.at(-1);
    if (start + limit >= keys.length) this.lastWalk = null;
    return { objects, continuationToken: start + limit < keys.length && last !== undefined ? last : null };
  }

  /**
   * Keys of the files under `prefix` (a directory prefix ending in '/', or '' for all), sorted.
   * Directories are read synchronously (measured over 10,000 hour directories on the loaded 2-core
   * machine, an asynchronous walk, a libuv thread-pool hop per directory, took 3.5 s and this one
   * a tenth of it), in slices of WALK_SLICE_MS between which the event loop runs: a listing of a
   * large measurement in the background never holds requests up for longer than a slice.
   */
  private async keysUnder(prefix: string): Promise<string[]> {
    assert.ok(prefix === '' || prefix.endsWith('/'), 'local listings take directory prefixes');
    const keys: string[] = [];
    const directories = [prefix.replace(/\/$/, '')];
    let sliceStartedAt = performance.now();
    for (let relative = directories.pop(); relative !== undefined; relative = directories.pop()) {
      for (const entry of entriesOfSync(path.join(this.root, relative))) {
        const key = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isDirectory()) directories.push(key);
        else if (entry.isFile()) keys.push(key);
      }
      if (performance.now() - sliceStartedAt >= WALK_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceStartedAt = performance.now();
      }
    }
    return keys.sort();
  }

  listChildren(prefix: string): Promise<ListedChildren> {
    assert.ok(prefix === '' || prefix.endsWith('/'), 'local listings take directory prefixes');
    const directories: string[] = [];
    const objects: string[] = [];
    for (const entry of entriesOfSync(path.join(this.root, prefix))) {
      if (entry.isDirectory()) directories.push(entry.name);
      else if (entry.isFile()) objects.push(entry.name);
    }
    return Promise.resolve({ directories: directories.sort(), objects: objects.sort() });
  }

  async modifiedAtMs(key: string): Promise<number | null> {
    return await stat(this.pathOf(key)).then(
      (info) => info.mtimeMs,
      () => null,
    );
  }

  async sizeOf(key: string): Promise<number | null> {
    return await stat(this.pathOf(key)).then(
      (info) => info.size,
      () => null,
    );
  }

  async get(key: string, range?: ByteRange): Promise<Uint8Array> {
    if (range === undefined) return await readFile(this.pathOf(key));
    assert.ok(range.start >= 0 && range.end >= range.start, 'a byte range is ordered');
    const handle = await open(this.pathOf(key), 'r');
    try {
      const buffer = Buffer.alloc(range.end - range.start + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, range.start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  async put(key: string, body: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    const staging = await this.stagingPathIn(path.posix.dirname(key));
    try {
      await writeFile(staging, body);
      // Bytes durable before the name: a crash never leaves the key naming a partial object.
      await this.sealStaged(staging);
      await this.publish(staging, key);
    } catch (error) {
      await this.discard(staging);
      throw error;
    }
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const finalPath = this.pathOf(key);
    await mkdir(path.dirname(finalPath), { recursive: true });
    try {
      // O_EXCL: the create fails if the name exists, atomically (If-None-Match on an object store).
      await writeFile(finalPath, body, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    await fsyncDirectory(path.dirname(finalPath));
    return true;
  }

  async getVersioned(key: string): Promise<VersionedObject | null> {
    try {
      const bytes = await readFile(this.pathOf(key));
      return { bytes, version: versionOf(bytes) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** Compare-and-swap on the content's hash, serialized per key within the process. */
  putIfVersion(key: string, body: Uint8Array, version: string): Promise<boolean> {
    const run = async (): Promise<boolean> => {
      const current = await this.getVersioned(key);
      if (current?.version !== version) return false;
      await this.put(key, body);
      return true;
    };
    const previous = this.conditionalTails.get(key) ?? Promise.resolve();
    const result = previous.then(run, run);
    const tail = result.catch(() => undefined);
    this.conditionalTails.set(key, tail);
    void tail.then(() => {
      if (this.conditionalTails.get(key) === tail) this.conditionalTails.delete(key);
    });
    return result;
  }

  /** The root is a directory this process can write. */
  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = path.join(this.root, `.arc-check-${randomBytes(4).toString('hex')}${STAGING_SUFFIX}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // force: a key that does not exist is not an error; one unlink per key, no batch on a file system.
    for (const key of keys) await rm(this.pathOf(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    assert.ok(prefix.endsWith('/') && prefix.length > 1, 'a directory prefix, never the root');
    await rm(this.pathOf(prefix.slice(0, -1)), { recursive: true, force: true });
  }

  async stagingPathIn(directoryKey: string): Promise<string> {
    return await newStagingPath(this.pathOf(directoryKey));
  }

  async sealStaged(stagingPath: string): Promise<number> {
    return await sealStagedFile(stagingPath);
  }

  async publish(stagingPath: string, key: string): Promise<void> {
    const finalPath = this.pathOf(key);
    assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are published');
    assert.equal(path.dirname(stagingPath), path.dirname(finalPath), 'a file is staged in its final directory');
    await rename(stagingPath, finalPath);
    await fsyncDirectory(path.dirname(finalPath));
  }

  async discard(stagingPath: string): Promise<void> {
    assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are discarded');
    await rm(stagingPath, { force: true });
  }
}

/** A local object's version: its content's hash (leases and metadata objects are small). */
function versionOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** Index of the first key after `token` in sorted `keys`. */
function upperBound(keys: readonly string[], token: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    // low <= middle < high <= keys.length: in range.
    if ((keys[middle] as string) <= token) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Sizes of the files, in order; a file removed since the walk is left out (synchronous, as the walk). */
function sizesOf(root: string, keys: readonly string[]): StoredObject[] {
  const objects: StoredObject[] = [];
  for (const key of keys) {
    try {
      objects.push({ key, size: statSync(path.join(root, key)).size });
    } catch {
      // Removed since the walk.
    }
  }
  return objects;
}

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
