import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { ArcError, ErrorKind, isArcError, type ArcErrorShape } from '@arc/errors';
import type { CacheLease, CachedFileRequest, FileCache } from '@arc/storage';
import { QueryErrorCode } from './error-codes.js';
import { CANCEL_POLL_MS } from './limits.js';

/**
 * A query thread's cache port: on an object store, DuckDB reads the local copies of files that
 * the main thread's file cache (FileCache, in @arc/storage) keeps, so before DuckDB touches a file
 * the task asks the main thread to make it local and pin it. Each thread makes one port when it
 * starts and posts it to the pool (`CachePortMessage`, through piscina's worker messages); every
 * task of the thread asks on it under the task's number, and the main thread releases what a task
 * still holds when the worker hands the task back, even if the worker died. A port made and
 * transferred with every task cost ~0.05-0.1 ms of each query on S3 (docs/benchmarks.md, "The
 * fixed cost of a series window").
 *
 *   worker -> main   { type: 'acquire', task, id, files: [{ key, bytes }] }
 *   main -> worker   { task, id, ok: true } | { task, id, ok: false, error: ArcErrorShape }
 *   worker -> main   { type: 'release', task, id }
 */
export type CacheRequest =
  | { readonly type: 'acquire'; readonly task: number; readonly id: number; readonly files: readonly CachedFileRequest[] }
  | { readonly type: 'release'; readonly task: number; readonly id: number };

export type CacheAnswer = { readonly task: number; readonly id: number; readonly ok: true } | { readonly task: number; readonly id: number; readonly ok: false; readonly error: ArcErrorShape };

/** What a query thread posts to the pool once, at its start: the main thread's end of its cache port. */
export interface CachePortMessage {
  readonly type: 'arc-cache-port';
  readonly port: MessagePort;
}

export function isCachePortMessage(message: unknown): message is CachePortMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'arc-cache-port';
}

function shapeOf(error: unknown): ArcErrorShape {
  if (isArcError(error)) return error.toShape();
  return new ArcError(ErrorKind.unavailable, QueryErrorCode.engine, `The file cache failed: ${error instanceof Error ? error.message : String(error)}`).toShape();
}

/** The leases one task holds, from its first acquire until the worker hands it back. */
class TaskLeases {
  readonly leases = new Map<number, { readonly lease: CacheLease; readonly bytes: number }>();
  // The task's files are distinct across its acquires (FilePins asks for each key once).
  bytesHeld = 0;
}

/**
 * The main thread's end of the query threads' cache ports: acquires and releases on the cache for
 * the task each request names. A task is served from `open(task)` until its session's `end()` (the
 * task is back), which releases every lease it still holds and any granted later; a request of a
 * task that is not open is not served.
 */
export class CachePortServer {
  readonly #cache: FileCache;
  readonly #tasks = new Map<number, TaskLeases>();
  readonly #ports = new Set<MessagePort>();

  constructor(cache: FileCache) {
    this.#cache = cache;
  }

  /** Serves one thread's port until it closes (the thread ended) or `close()`. */
  serve(port: MessagePort): void {
    this.#ports.add(port);
    port.on('message', (request: CacheRequest) => this.#handle(port, request));
    port.once('close', () => this.#ports.delete(port));
    // The port never keeps the process alive: the pool and its threads do.
    port.unref();
  }

  /** Opens task `task` for requests; `end()` when the worker hands it back. */
  open(task: number): { end(): void } {
    assert.ok(!this.#tasks.has(task), 'a task number is opened once');
    const leases = new TaskLeases();
    this.#tasks.set(task, leases);
    return {
      end: (): void => {
        if (this.#tasks.get(task) !== leases) return;
        this.#tasks.delete(task);
        for (const { lease } of leases.leases.values()) this.#cache.release(lease);
        leases.leases.clear();
      },
    };
  }

  close(): void {
    for (const port of this.#ports) port.close();
    this.#ports.clear();
  }

  #handle(port: MessagePort, request: CacheRequest): void {
    const leases = this.#tasks.get(request.task);
    if (leases === undefined) return;
    if (request.type === 'release') {
      const held = leases.leases.get(request.id);
      leases.leases.delete(request.id);
      if (held !== undefined) {
        leases.bytesHeld -= held.bytes;
        this.#cache.release(held.lease);
      }
      return;
    }
    const bytes = request.files.reduce((sum, file) => sum + file.bytes, 0);
    this.#cache.acquire(request.files, leases.bytesHeld).then(
      (lease) => {
        if (this.#tasks.get(request.task) !== leases) return this.#cache.release(lease);
        leases.bytesHeld += bytes;
        leases.leases.set(request.id, { lease, bytes });
        port.postMessage({ task: request.task, id: request.id, ok: true } satisfies CacheAnswer);
      },
      (error: unknown) => {
        if (this.#tasks.get(request.task) === leases) port.postMessage({ task: request.task, id: request.id, ok: false, error: shapeOf(error) } satisfies CacheAnswer);
      },
    );
  }
}

function cancelledError(): ArcError {
  return new ArcError(ErrorKind.internal, QueryErrorCode.aborted, 'Query cancelled');
}

/**
 * A query thread's end of its cache port: hands each answer to the pins of the task it names
 * (an answer for a task that is over finds none and is dropped).
 */
export class CachePortClient {
  readonly port: MessagePort;
  readonly #pins = new Map<number, FilePins>();

  constructor(port: MessagePort) {
    this.port = port;
    port.on('message', (answer: CacheAnswer) => this.#pins.get(answer.task)?.answered(answer));
    // The thread lives for its tasks, not for this port.
    port.unref();
  }

  /**
   * A thread's port pair: the client for this thread and the message that gives the pool its end
   * (post it with the port in the transfer list).
   */
  static create(): { client: CachePortClient; message: CachePortMessage } {
    const channel = new MessageChannel();
    return { client: new CachePortClient(channel.port1), message: { type: 'arc-cache-port', port: channel.port2 } };
  }

  /** Pins for task `task`, answered until their `releaseAll()`. */
  pinsFor(task: number, isCancelled: () => boolean): FilePins {
    const pins = new FilePins(this, task, isCancelled);
    this.#pins.set(task, pins);
    return pins;
  }

  forget(task: number): void {
    this.#pins.delete(task);
  }
}

/**
 * One task's pins: `pin(files)` resolves once the files are local and pinned (rejects with the
 * cache's error, or at a cancel of the task); `releaseAll()` when the task's DuckDB work is over.
 * `FilePins.none` (local disk) does nothing.
 */
export class FilePins {
  private readonly client: CachePortClient | null;
  private readonly task: number;
  private readonly isCancelled: () => boolean;
  private nextId = 1;
  private readonly granted: number[] = [];
  /** Keys this task asked for already: a view and a DESCRIBE of one measurement pin its files once. */
  private readonly asked = new Set<string>();
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: ArcError) => void }>();

  constructor(client: CachePortClient | null, task: number, isCancelled: () => boolean) {
    this.client = client;
    this.task = task;
    this.isCancelled = isCancelled;
  }

  static readonly none = new FilePins(null, 0, () => false);

  async pin(files: readonly CachedFileRequest[]): Promise<void> {
    const client = this.client;
    if (client === null) return;
    const fresh: CachedFileRequest[] = [];
    for (const { key, bytes } of files) {
      if (this.asked.has(key)) continue;
      this.asked.add(key);
      fresh.push({ key, bytes });
    }
    if (fresh.length === 0) return;
    const id = this.nextId++;
    const answered = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    client.port.postMessage({ type: 'acquire', task: this.task, id, files: fresh } satisfies CacheRequest);
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
    const client = this.client;
    if (client === null) return;
    for (const id of this.granted) client.port.postMessage({ type: 'release', task: this.task, id } satisfies CacheRequest);
    this.granted.length = 0;
    for (const waiter of this.waiting.values()) waiter.reject(cancelledError());
    this.waiting.clear();
    client.forget(this.task);
  }

  /** An answer of the main thread for this task (CachePortClient routes it here). */
  answered(answer: CacheAnswer): void {
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
