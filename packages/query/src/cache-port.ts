import type { MessagePort } from 'node:worker_threads';
import { ArcError, ErrorKind, isArcError, type ArcErrorShape } from '@arc/errors';
import type { CacheLease, CachedFileRequest, FileCache } from '@arc/storage';
import { QueryErrorCode } from './error-codes.js';
import { CANCEL_POLL_MS } from './limits.js';

/**
 * A query task's cache port: on an object store, DuckDB reads the local copies of files that the
 * main thread's file cache (FileCache, in @arc/storage) keeps, so before DuckDB touches a file the
 * task asks the main thread to make it local and pin it. Each task gets a port of its own
 * (transferred with the task, null on local disk: then no message at all), and the main thread
 * releases what the task still holds when the worker hands the task back, even if the worker died.
 *
 *   worker -> main   { type: 'acquire', id, files: [{ key, bytes }] }
 *   main -> worker   { id, ok: true } | { id, ok: false, error: ArcErrorShape }
 *   worker -> main   { type: 'release', id }
 */
export type CacheRequest = { readonly type: 'acquire'; readonly id: number; readonly files: readonly CachedFileRequest[] } | { readonly type: 'release'; readonly id: number };

export type CacheAnswer = { readonly id: number; readonly ok: true } | { readonly id: number; readonly ok: false; readonly error: ArcErrorShape };

function shapeOf(error: unknown): ArcErrorShape {
  if (isArcError(error)) return error.toShape();
  return new ArcError(ErrorKind.unavailable, QueryErrorCode.engine, `The file cache failed: ${error instanceof Error ? error.message : String(error)}`).toShape();
}

/**
 * The main thread's end of one task's port: acquires and releases on the cache. `end()` (the
 * task is back) releases every lease still held and any granted later, and closes the port.
 */
export function serveCachePort(port: MessagePort, cache: FileCache): { end(): void } {
  const leases = new Map<number, { readonly lease: CacheLease; readonly bytes: number }>();
  // The task's files are distinct across its acquires (FilePins asks for each key once).
  let bytesHeld = 0;
  let ended = false;
  port.on('message', (request: CacheRequest) => {
    if (request.type === 'release') {
      const held = leases.get(request.id);
      leases.delete(request.id);
      if (held !== undefined) {
        bytesHeld -= held.bytes;
        cache.release(held.lease);
      }
      return;
    }
    const bytes = request.files.reduce((sum, file) => sum + file.bytes, 0);
    cache.acquire(request.files, bytesHeld).then(
      (lease) => {
        if (ended) return cache.release(lease);
        bytesHeld += bytes;
        leases.set(request.id, { lease, bytes });
        port.postMessage({ id: request.id, ok: true } satisfies CacheAnswer);
      },
      (error: unknown) => {
        if (!ended) port.postMessage({ id: request.id, ok: false, error: shapeOf(error) } satisfies CacheAnswer);
      },
    );
  });
  return {
    end(): void {
      if (ended) return;
      ended = true;
      for (const { lease } of leases.values()) cache.release(lease);
      leases.clear();
      port.close();
    },
  };
}

function cancelledError(): ArcError {
  return new ArcError(ErrorKind.internal, QueryErrorCode.aborted, 'Query cancelled');
}

/**
 * The worker's end of one task's port: `pin(files)` resolves once the files are local and pinned
 * (rejects with the cache's error, or at a cancel of the task); `releaseAll()` when the task's
 * DuckDB work is over. Without a port (local disk) both do nothing.
 */
export class FilePins {
  private readonly port: MessagePort | null;
  private readonly isCancelled: () => boolean;
  private nextId = 1;
  private readonly granted: number[] = [];
  /** Keys this task asked for already: a view and a DESCRIBE of one measurement pin its files once. */
  private readonly asked = new Set<string>();
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: ArcError) => void }>();

  constructor(port: MessagePort | null, isCancelled: () => boolean) {
    this.port = port;
    this.isCancelled = isCancelled;
    port?.on('message', (answer: CacheAnswer) => this.answered(answer));
  }

  static readonly none = new FilePins(null, () => false);

  async pin(files: readonly CachedFileRequest[]): Promise<void> {
    const port = this.port;
    if (port === null) return;
    const fresh: CachedFileRequest[] = [];
    for (const { key, bytes } of files) {
      if (this.asked.has(key)) continue;
      this.asked.add(key);
      fresh.push({ key, bytes });
    }
    if (fresh.length === 0) return;
    const id = this.nextId++;
    const answered = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    port.postMessage({ type: 'acquire', id, files: fresh } satisfies CacheRequest);
    // Downloads may take a while: a cancelled task stops waiting (the main thread releases what
    // it grants later when the task is back).
    const timer = setInterval(() => {
      if (!this.isCancelled()) return;
      const waiter = this.waiting.get(id);
      this.waiting.delete(id);
      waiter?.reject(cancelledError());
    }, CANCEL_POLL_MS);
    try {
      await answered;
    } finally {
      clearInterval(timer);
    }
  }

  releaseAll(): void {
    const port = this.port;
    if (port === null) return;
    for (const id of this.granted) port.postMessage({ type: 'release', id } satisfies CacheRequest);
    this.granted.length = 0;
    for (const waiter of this.waiting.values()) waiter.reject(cancelledError());
    this.waiting.clear();
  }

  private answered(answer: CacheAnswer): void {
    const waiter = this.waiting.get(answer.id);
    this.waiting.delete(answer.id);
    if (answer.ok) {
      // Granted after the task stopped waiting: held until releaseAll or the task's end.
      this.granted.push(answer.id);
      waiter?.resolve();
    } else {
      waiter?.reject(ArcError.fromShape(answer.error));
    }
  }
}
