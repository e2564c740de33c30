// Test support: shortens fetch's headers timeout (five minutes in Node's fetch) while a test runs,
// so the test can prove a command still reports an answer whose head comes later than fetch would
// wait, without waiting five minutes: anything sent with fetch meanwhile gives up after the short
// timeout, a request that does not depend on fetch's timeout does not.
import { expect } from 'vitest';

/**
 * Fetch's headers timeout inside withShortFetchHeadersTimeout. Fetch's timers tick about once a
 * second, so it fires up to a second late: a test waits about a second for it.
 */
const FETCH_HEADERS_TIMEOUT_MS_SHORT = 100;

/** Where Node's fetch reads its dispatcher at each call (the key undici's setGlobalDispatcher writes). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  destroy(): Promise<void>;
}
type DispatcherClass = new (options: { readonly headersTimeout: number }) => Dispatcher;

/** Runs `run` with fetch giving up on an answer's head after FETCH_HEADERS_TIMEOUT_MS_SHORT, then restores fetch. */
export async function withShortFetchHeadersTimeout<T>(run: () => Promise<T>): Promise<T> {
  // Fetch makes its dispatcher (an undici Agent) on first use; a data: URL needs no server.
  await (await fetch('data:,')).text();
  const slots = globalThis as unknown as Record<symbol, Dispatcher | undefined>;
  const original = slots[GLOBAL_DISPATCHER];
  if (original === undefined) throw new Error("fetch's dispatcher is not where Node 20 keeps it: this helper needs updating");
  const short = new (original.constructor as DispatcherClass)({ headersTimeout: FETCH_HEADERS_TIMEOUT_MS_SHORT });
  slots[GLOBAL_DISPATCHER] = short;
  try {
    return await run();
  } finally {
    slots[GLOBAL_DISPATCHER] = original;
    await short.destroy();
  }
}

/**
 * POSTs to `url` with fetch and resolves once fetch gave up waiting for the head. Called while
 * the server holds a command's request sent earlier, it returns when that request has waited
 * longer than fetch would have.
 */
export async function fetchGivesUpOn(url: string): Promise<void> {
  await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toMatchObject({ cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } });
}
