// Proves a query thread's cache port (cache-port.ts): a task's pins reach the main thread's file
// cache and come back as files on disk or as the cache's typed error (413 counting every file the
// task holds), each key is asked for once per task, tasks of one port are kept apart by number,
// and a task's pins are released by the task or, if it never does (a worker that died), when the
// main thread ends its session; driven over one port pair in one thread against a FileCache whose
// downloader writes zeros.
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { FileCache, StorageErrorCode, dataFileKey } from '@arc/storage';
import { CachePortClient, CachePortServer } from '../src/cache-port.js';
import type { FilePins } from '../src/cache-port.js';
import { QueryErrorCode } from '../src/error-codes.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_US = Date.parse('2025-03-04T05:00:00Z') * 1000;

function file(name: string, bytes = 30): { key: string; bytes: number } {
  const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs: HOUR_US, nodeId: 'n1', unique: `w0-${name}`, rows: 1, bytes, minTimeUs: HOUR_US, maxTimeUs: HOUR_US, writtenAtMs: Date.parse('2025-03-04T05:30:00Z'), schemaId: '0123456789abcdef', span: 'hour' });
  return { key, bytes };
}

const opened: { server: CachePortServer; client: CachePortClient }[] = [];
afterEach(() => {
  for (const { server, client } of opened.splice(0)) {
    server.close();
    client.port.close();
  }
});

interface PortPair {
  readonly cache: FileCache;
  readonly directory: string;
  readonly fetched: string[];
  readonly server: CachePortServer;
  readonly client: CachePortClient;
}

async function openPorts(bytesMax: number): Promise<PortPair> {
  const directory = await tempDirectory('arc-cache-port-');
  const fetched: string[] = [];
  const cache = await FileCache.open({
    directory,
    bytesMax,
    roomWaitMs: 60_000,
    fetch: async (key, destination, bytes) => {
      fetched.push(key);
      await mkdir(path.dirname(destination), { recursive: true });
      await writeFile(destination, new Uint8Array(bytes));
      return bytes;
    },
  });
  const { client, message } = CachePortClient.create();
  const server = new CachePortServer(cache);
  server.serve(message.port);
  opened.push({ server, client });
  return { cache, directory, fetched, server, client };
}

async function setUp(bytesMax: number): Promise<{ cache: FileCache; directory: string; fetched: string[]; pins: FilePins; session: { end(): void }; cancel: () => void }> {
  const { cache, directory, fetched, server, client } = await openPorts(bytesMax);
  let cancelled = false;
  const session = server.open(1);
  const pins = client.pinsFor(1, () => cancelled);
  return { cache, directory, fetched, pins, session, cancel: () => (cancelled = true) };
}

const UNTIL_DEADLINE_MS = 5000;

/** The project's wait on a condition (test/support/poll-until.ts), with this file's deadline. */
async function until(check: () => boolean, what: string): Promise<void> {
  await waitUntil(what, UNTIL_DEADLINE_MS, check, 5);
}

describe('the cache port', () => {
  it('makes the files local and pinned, asks for each key once, and releases them at the task end', async () => {
    const { cache, directory, fetched, pins } = await setUp(1000);
    await pins.pin([file('a'), file('b')]);
    expect(existsSync(path.join(directory, file('a').key))).toBe(true);
    expect(cache.stats()).toMatchObject({ pinnedFiles: 2, misses: 2 });
    await pins.pin([file('a'), file('c')]);
    expect(fetched).toEqual([file('a').key, file('b').key, file('c').key]);
    expect(cache.stats()).toMatchObject({ pinnedFiles: 3, hits: 0 });
    pins.releaseAll();
    await until(() => cache.stats().pinnedFiles === 0, 'the pins released');
  });

  it('answers the cache error as an ArcError, counting the files the task already holds', async () => {
    const { cache, pins } = await setUp(100);
    await pins.pin([file('a'), file('b')]);
    const error = await pins.pin([file('c'), file('d')]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ArcError);
    expect(error).toMatchObject({ kind: 'too_large', code: StorageErrorCode.cacheTooSmall });
    expect((error as Error).message).toContain('120 bytes');
    expect(cache.stats().pinnedFiles).toBe(2);
    pins.releaseAll();
    await until(() => cache.stats().pinnedFiles === 0, 'the pins released');
  });

  it('releases what a task still holds when the main thread ends its port', async () => {
    const { cache, pins, session } = await setUp(1000);
    await pins.pin([file('a')]);
    session.end();
    expect(cache.stats().pinnedFiles).toBe(0);
  });

  it('keeps the tasks of one port apart by number, one after the other and at once', async () => {
    const { cache, server, client } = await openPorts(1000);
    const first = server.open(7);
    const firstPins = client.pinsFor(7, () => false);
    await firstPins.pin([file('a')]);
    firstPins.releaseAll();
    first.end();
    await until(() => cache.stats().pinnedFiles === 0, 'the first task released');
    const [second, third] = [server.open(8), server.open(9)];
    const [secondPins, thirdPins] = [client.pinsFor(8, () => false), client.pinsFor(9, () => false)];
    await Promise.all([secondPins.pin([file('a'), file('b')]), thirdPins.pin([file('a')])]);
    expect(cache.stats().pinnedFiles).toBe(2);
    second.end();
    // The third task still holds its own pin of 'a'.
    await until(() => cache.stats().pinnedFiles === 1, 'the second task released');
    third.end();
    expect(cache.stats().pinnedFiles).toBe(0);
    thirdPins.releaseAll();
    secondPins.releaseAll();
  });

  it('serves no task that is not open: a number is asked under from open() to end()', async () => {
    const { cache, server, client } = await openPorts(1000);
    const session = server.open(3);
    session.end();
    let cancelled = false;
    const pins = client.pinsFor(3, () => cancelled);
    const waiting = pins.pin([file('a')]);
    cancelled = true;
    await expect(waiting).rejects.toMatchObject({ code: QueryErrorCode.aborted });
    expect(cache.stats()).toMatchObject({ pinnedFiles: 0, misses: 0 });
    pins.releaseAll();
  });

  it('stops waiting at a cancel, and the late grant is released at the end', async () => {
    const { cache, pins, session, cancel } = await setUp(100);
    const held = await cache.acquire([file('x'), file('y'), file('z')]);
    const waiting = pins.pin([file('a')]);
    cancel();
    await expect(waiting).rejects.toMatchObject({ code: QueryErrorCode.aborted });
    cache.release(held);
    await until(() => cache.stats().files === 3 && cache.stats().pinnedFiles <= 1, 'the late grant');
    session.end();
    await until(() => cache.stats().pinnedFiles === 0, 'every pin released');
  });
});
