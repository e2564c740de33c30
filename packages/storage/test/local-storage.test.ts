// Proves local storage stages files beside their final name and publishes them by rename, and
// refuses keys that would escape the data root.
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage, STAGING_SUFFIX } from '../src/index.js';

describe('LocalStorage', () => {
  it('stages, publishes and discards', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'arc-storage-'));
    const storage = new LocalStorage(root);
    const key = 'db/cpu/2025/10/16/16/cpu_20251016_160000_a.parquet';
    const staged = await storage.stagingPathFor(key);
    expect(staged.endsWith(STAGING_SUFFIX)).toBe(true);
    await writeFile(staged, 'bytes');
    await storage.publish(staged, key);
    expect(await readFile(path.join(root, key), 'utf8')).toBe('bytes');
    expect(await readdir(path.dirname(path.join(root, key)))).toEqual(['cpu_20251016_160000_a.parquet']);
    const other = await storage.stagingPathFor('db/cpu/x.parquet');
    await writeFile(other, 'x');
    await storage.discard(other);
    expect(await readdir(path.join(root, 'db/cpu'))).toEqual(['2025']);
  });

  it('refuses keys with .. or odd characters', () => {
    const storage = new LocalStorage('/tmp');
    expect(() => storage.pathOf('../etc/passwd')).toThrow(/escapes/);
    expect(() => storage.pathOf('a b.parquet')).toThrow(/unexpected characters/);
  });
});
