import assert from 'node:assert/strict';
import { open, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { STAGING_SUFFIX, type StorageBackend } from './storage-backend.js';

const KEY_PATTERN = /^[A-Za-z0-9_\-./]+$/;

/**
 * Local disk, the embedded default. Files are staged next to their final name (same directory,
 * so the rename is atomic on one filesystem) and the directory is fsynced after the rename so
 * the new name is durable too.
 */
export class LocalStorage implements StorageBackend {
  readonly kind = 'local' as const;
  readonly root: string;

  constructor(root: string) {
    assert.ok(path.isAbsolute(root), 'storage root must be absolute');
    this.root = root;
  }

  pathOf(key: string): string {
    assert.ok(KEY_PATTERN.test(key), 'storage key has unexpected characters');
    assert.ok(!key.split('/').includes('..'), 'storage key escapes the root');
    return path.join(this.root, key);
  }

  async stagingPathFor(key: string): Promise<string> {
    const finalPath = this.pathOf(key);
    await mkdir(path.dirname(finalPath), { recursive: true });
    return finalPath + STAGING_SUFFIX;
  }

  async publish(stagingPath: string, key: string): Promise<void> {
    const finalPath = this.pathOf(key);
    assert.equal(stagingPath, finalPath + STAGING_SUFFIX);
    await rename(stagingPath, finalPath);
    await fsyncDirectory(path.dirname(finalPath));
  }

  async discard(stagingPath: string): Promise<void> {
    assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are discarded');
    await rm(stagingPath, { force: true });
  }
}

export async function fsyncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
