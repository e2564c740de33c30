// Proves the last-value cache definitions file of a newer Arc is refused at open with its own code
// (the start is refused, the file left unread and unchanged), naming the file and both versions.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { LAST_CACHE_FILE_NAME, LastCacheStore } from '../src/last-cache-store.js';

describe('LastCacheStore', () => {
  let directory: string;
  let file: string;
  beforeEach(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'arc-last-cache-store-'));
    file = path.join(directory, LAST_CACHE_FILE_NAME);
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses a file written by a newer Arc with ARC_LAST_CACHE_STORE_NEWER, leaving its version alone', () => {
    LastCacheStore.open(file).close();
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    const message = new RegExp(`^Last cache store ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} has schema version 999, newer than this Arc's \\d+: run the newer Arc$`);
    expect(() => LastCacheStore.open(file)).toThrow(expect.objectContaining({ name: ArcError.name, code: 'ARC_LAST_CACHE_STORE_NEWER', message: expect.stringMatching(message) }));
    const reread = new Database(file, { readonly: true });
    expect(reread.pragma('user_version', { simple: true })).toBe(999);
    reread.close();
  });
});
