import { expect } from 'vitest';
import type { ArcProcess } from './arc-process.js';

/** How much of the server's output a failed stop shows (its last lines hold the reason). */
const OUTPUT_SHOWN_CHARS = 4000;

/**
 * SIGTERM, then the exit code checked: 0 means every buffer was flushed. Anything else fails with
 * the server's last output, which says why (a crash by a signal, unflushed rows, a fatal error).
 */
export async function expectCleanStop(arc: ArcProcess): Promise<void> {
  const code = await arc.stop();
  expect(code, `arc stopped with exit code ${String(code)}; its last output:\n${arc.output().slice(-OUTPUT_SHOWN_CHARS)}`).toBe(0);
}

/** `expectCleanStop`, then the server's data directory removed, also when the stop was not clean. */
export async function expectCleanStopAndRemove(arc: ArcProcess): Promise<void> {
  try {
    await expectCleanStop(arc);
  } finally {
    await arc.cleanup();
  }
}
