// Test support: shortens fetch's headers timeout (five minutes in Node's fetch) while a test runs,
// so the test can prove a command still reports an answer whose head comes later than fetch would
// wait, without waiting five minutes: anything sent with fetch meanwhile gives up after the short
// timeout, a request that does not depend on fetch's timeout does not.

/** Where Node's fetch reads its dispatcher at each call (the key undici's setGlobalDispatcher writes). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  destroy(): Promise<void>;
}
type DispatcherClass = new (options: { readonly headersTimeout: number }) => Dispatcher;

/**
 * Runs `run` with fetch using a dispatcher whose headers timeout is `headersTimeoutMs` (fetch's
 * timers tick about once a second, so the timeout fires up to a second late), then restores it.
 */
export async function withFetchHeadersTimeout<T>(headersTimeoutMs: number, run: () => Promise<T>): Promise<T> {
  // Fetch makes its dispatcher (an undici Agent) on first use; a data: URL needs no server.
  await (await fetch('data:,')).text();
  const slots = globalThis as unknown as Record<symbol, Dispatcher | undefined>;
  const original = slots[GLOBAL_DISPATCHER];
  if (original === undefined) throw new Error("fetch's dispatcher is not where Node 20 keeps it: this helper needs updating");
  const short = new (original.constructor as DispatcherClass)({ headersTimeout: headersTimeoutMs });
  slots[GLOBAL_DISPATCHER] = short;
  try {
    return await run();
  } finally {
    slots[GLOBAL_DISPATCHER] = original;
    await short.destroy();
  }
}
