import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { STAGING_SUFFIX } from './layout.js';

/**
 * Staged files, as both backends make them: a fresh name in a local directory (the partition's
 * own directory on local disk, its cache directory for an object store), made durable before it
 * is published.
 */
export async function newStagingPath(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true });
  return path.join(directory, `staged-${randomBytes(8).toString('hex')}${STAGING_SUFFIX}`);
}

/** Makes a written staged file's bytes durable (fsync); returns its size in bytes. */
export async function sealStagedFile(stagingPath: string): Promise<number> {
  assert.ok(stagingPath.endsWith(STAGING_SUFFIX), 'only staged files are sealed');
  const handle = await open(stagingPath, 'r');
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}
