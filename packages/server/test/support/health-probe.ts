import { expect } from 'vitest';
import type { ArcClient } from './arc-client.js';

export interface HealthProbe {
  /** Stops probing; the slowest answer in milliseconds and how many answers there were. */
  stop(): Promise<{ slowestMs: number; probes: number }>;
}

/** Asks GET /health back to back (each must answer 200) until stopped. */
export function probeHealth(client: ArcClient): HealthProbe {
  // An object, not a local: stop() clears `running` while the loop awaits an answer.
  const state = { running: true };
  let slowestMs = 0;
  let probes = 0;
  const loop = (async () => {
    while (state.running) {
      const startedAt = performance.now();
      expect((await client.get('/health')).status).toBe(200);
      slowestMs = Math.max(slowestMs, performance.now() - startedAt);
      probes += 1;
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return { slowestMs, probes };
    },
  };
}
