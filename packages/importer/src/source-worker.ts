/**
 * A job's source thread: opens the job's driver (drivers.ts, by connection type) at the run's
 * cursor and posts one line protocol chunk each time the main thread asks (source-thread.ts), and
 * reads the following one meanwhile. The chunk's body is transferred, not copied. The main thread
 * ends a run by terminating the thread, which closes its sockets with it.
 */
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { ArcError, ErrorKind } from '@arc/errors';
import { driverFor } from './drivers.js';
import { ImporterErrorCode } from './error-codes.js';
import type { SourceDriver, SourceReader } from './source.js';
import type { MainToSource, SourceToMain, SourceWorkerData } from './source-thread.js';

const data = workerData as SourceWorkerData;
const port = parentPort;
assert.ok(port !== null, 'runs as a worker thread');
// Never aborted: a run ends by the thread's termination, which ends every read with it.
const abort = new AbortController();
let reader: Promise<SourceReader> | null = null;

async function loadDriver(): Promise<SourceDriver> {
  if (data.driverModuleForTests === null) return driverFor(data.type);
  // Test only (source-thread.ts SourceWorkerData): a driver from a test directory.
  const module = (await import(data.driverModuleForTests)) as { default: SourceDriver };
  return module.default;
}

function post(message: SourceToMain): void {
  assert.ok(port !== null, 'runs as a worker thread');
  if (message.kind === 'chunk') port.postMessage(message, [message.chunk.body.buffer as ArrayBuffer]);
  else port.postMessage(message);
}

function failure(error: unknown): SourceToMain {
  if (error instanceof ArcError) return { kind: 'failed', code: error.code, message: error.message, badRequest: error.kind === ErrorKind.badRequest };
  return { kind: 'failed', code: ImporterErrorCode.sourceFailed, message: error instanceof Error ? error.message : String(error), badRequest: false };
}

/** Reads the next chunk (or the end, or the failure) as the message that answers a `next`. */
async function read(): Promise<SourceToMain> {
  try {
    reader ??= loadDriver().then((driver) => driver.open(data.connection, data.source, data.cursor, { ...data.options, signal: abort.signal }));
    const chunk = await (await reader).next();
    if (chunk === null) return { kind: 'end' };
    // The body may be a view of a larger buffer: transfer only what is the chunk's.
    const own = chunk.body.byteOffset === 0 && chunk.body.byteLength === chunk.body.buffer.byteLength ? chunk.body : chunk.body.slice();
    return { kind: 'chunk', chunk: { ...chunk, body: own } };
  } catch (error) {
    return failure(error);
  }
}

/**
 * The chunk read ahead: once a chunk is posted, the next one is read while the main thread writes
 * it, so the source, this thread and the writers work at once instead of in turn. One chunk at
 * most waits here; a chunk read ahead and never asked for is dropped with the thread, and only
 * chunks the runner wrote are checkpointed, so reading ahead changes nothing a resume sees.
 */
let ahead: Promise<SourceToMain> | null = null;

port.on('message', (message: MainToSource) => {
  assert.equal(message.kind, 'next', 'the main thread only asks for chunks');
  const answer = ahead ?? read();
  ahead = null;
  void answer.then((settled) => {
    post(settled);
    if (settled.kind === 'chunk') ahead = read();
  });
});
