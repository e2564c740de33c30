// Proves the local backend: files are staged in their final directory and published by rename,
// listings page through every file in key order with sizes, ranges read the right bytes, a
// conditional put refuses an existing key, deletes remove what they name, and keys that would
// escape the data root are refused.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalStorage, STAGING_SUFFIX } from '../src/index.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

async function freshRoot(): Promise<string> {
  return await tempDirectory('arc-storage-');
}

describe('LocalStorage', () => {
  it('stages, publishes and discards', async () => {
    const root = await freshRoot();
    const storage = new LocalStorage(root);
    const key = 'db/cpu/2025/10/16/16/cpu_20251016_160000_a.parquet';
    const staged = await storage.stagingPathIn('db/cpu/2025/10/16/16');
    expect(staged.endsWith(STAGING_SUFFIX)).toBe(true);
    await writeFile(staged, 'bytes');
    // Sealed (fsynced) before its publish; the size is what was written. Only staged files are.
    expect(await storage.sealStaged(staged)).toBe(5);
    await expect(storage.sealStaged(path.join(root, 'other.parquet'))).rejects.toThrow(/only staged files/);
    await storage.publish(staged, key);
    expect(await readFile(path.join(root, key), 'utf8')).toBe('bytes');
    expect(await readdir(path.dirname(path.join(root, key)))).toEqual(['cpu_20251016_160000_a.parquet']);
    const other = await storage.stagingPathIn('db/cpu');
    await writeFile(other, 'x');
    await storage.discard(other);
    expect(await readdir(path.join(root, 'db/cpu'))).toEqual(['2025']);
    await expect(storage.publish(await storage.stagingPathIn('db/other'), key)).rejects.toThrow(/final directory/);
  });

  it('lists in pages with sizes, reads ranges, puts only if absent, deletes', async () => {
    const root = await freshRoot();
    const storage = new LocalStorage(root);
    const keys = Array.from({ length: 25 }, (_, index) => `db/m${String(index % 3)}/f${String(index).padStart(2, '0')}.bin`);
    for (const key of keys) await storage.put(key, Buffer.from(key));
    const listed: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const page = await storage.list('db/', token, 10);
      for (const object of page.objects) {
        expect(object.size).toBe(Buffer.byteLength(object.key));
        listed.push(object.key);
      }
      token = page.continuationToken;
      pages++;
    } while (token !== null);
    expect(pages).toBe(3);
    expect(listed).toEqual([...keys].sort());
    expect((await storage.list('db/m1/', null, 100)).objects).toHaveLength(8);
    expect(Buffer.from(await storage.get('db/m0/f00.bin', { start: 3, end: 5 })).toString()).toBe('m0/');
    expect(await storage.putIfAbsent('db/m0/f00.bin', Buffer.from('other'))).toBe(false);
    expect(await storage.putIfAbsent('db/new.bin', Buffer.from('new'))).toBe(true);
    await storage.deleteMany(['db/new.bin', 'db/missing.bin']);
    expect(await storage.sizeOf('db/new.bin')).toBeNull();
    await storage.deletePrefix('db/m1/');
    expect((await storage.list('db/', null, 100)).objects.map((object) => object.key).some((key) => key.startsWith('db/m1/'))).toBe(false);
  });

  it('keeps one node id per data directory', async () => {
    const root = await freshRoot();
    const first = new LocalStorage(root).nodeId;
    expect(first).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    expect(new LocalStorage(root).nodeId).toBe(first);
    expect(new LocalStorage(await freshRoot()).nodeId).not.toBe(first);
  });

  it('refuses keys with .. or odd characters', () => {
    const storage = new LocalStorage('/tmp');
    expect(() => storage.pathOf('../etc/passwd')).toThrow(/escapes/);
    expect(() => storage.pathOf('a b.parquet')).toThrow(/unexpected characters/);
  });
});
