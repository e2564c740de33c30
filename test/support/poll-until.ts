// Test support shared by every package's tests: waiting for something to happen without a fixed
// sleep. A test names what it waits for and a deadline; the poll interval only bounds how late
// the wait notices the event, never whether the test passes.

/** How often a probe runs when the caller names no interval: cheap probes, prompt notice. */
const POLL_INTERVAL_MS_DEFAULT = 20;

export interface PollOutcome<T> {
  /** The probe's value that `done` accepted. */
  readonly value: T;
  /** How long the wait took, in whole milliseconds. */
  readonly ms: number;
}

/**
 * Calls `probe` until `done` accepts its value or `deadlineMs` passes; resolves with that value and
 * how long it took, or rejects naming `what` and the last value seen. A probe that throws fails
 * the wait at once (an error is not a "not yet").
 */
export async function pollUntil<T>(
  what: string,
  deadlineMs: number,
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  intervalMs = POLL_INTERVAL_MS_DEFAULT,
): Promise<PollOutcome<T>> {
  const startedAt = performance.now();
  for (;;) {
    const value = await probe();
    if (done(value)) return { value, ms: Math.round(performance.now() - startedAt) };
    if (performance.now() - startedAt > deadlineMs) throw new Error(`${what}: not reached within ${String(deadlineMs)} ms, last seen ${JSON.stringify(value)}`);
    // The probe's pace while the event has not come (see the top): how late it is noticed, not whether.
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once `condition` holds, or rejects naming `what` after `deadlineMs`. */
export async function waitUntil(what: string, deadlineMs: number, condition: () => boolean | Promise<boolean>, intervalMs = POLL_INTERVAL_MS_DEFAULT): Promise<void> {
  await pollUntil(what, deadlineMs, condition, (held) => held, intervalMs);
}
