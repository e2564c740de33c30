import { expectCleanStopAndRemove } from './clean-stop.js';
import { afterAll, beforeAll } from 'vitest';
import { ArcClient } from './arc-client.js';
import { startArc, type ArcProcess } from './arc-process.js';

export interface SharedArc {
  readonly arc: ArcProcess;
  readonly client: ArcClient;
}

/**
 * One server for a whole test file: started before the first test, stopped after the last, and
 * its SIGTERM exit code checked (0: every buffer flushed). Read `.arc` / `.client` inside tests.
 */
export function useSharedArc(env: Record<string, string> = {}): SharedArc {
  let arc: ArcProcess | null = null;
  let client: ArcClient | null = null;
  beforeAll(async () => {
    arc = await startArc(env);
    client = new ArcClient(arc.url);
  });
  afterAll(async () => {
    if (arc === null) return;
    await expectCleanStopAndRemove(arc);
  });
  return {
    get arc(): ArcProcess {
      if (arc === null) throw new Error('the shared server is not started yet');
      return arc;
    },
    get client(): ArcClient {
      if (client === null) throw new Error('the shared server is not started yet');
      return client;
    },
  };
}
