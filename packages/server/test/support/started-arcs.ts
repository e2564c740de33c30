// Servers a test file starts on its own (several per test, restarts on one data directory): each
// is killed and its data directory removed after the test that started it.
import { afterEach } from 'vitest';
import { startArc, type ArcProcess } from './arc-process.js';

export interface StartedArcs {
  /** What the current test started, killed and removed after it (a test may hand one over itself). */
  readonly started: ArcProcess[];
  // Function properties, not methods: test files destructure them (`const { start } = ...`).
  readonly start: (env: Record<string, string>, dataDir?: string) => Promise<ArcProcess>;
  /** Kills the server (no flush) and starts a new one on the same data directory. */
  readonly crashAndRestart: (arc: ArcProcess, env: Record<string, string>) => Promise<ArcProcess>;
}

/** Call at the top of a test file: registers the afterEach that stops what each test started. */
export function useStartedArcs(): StartedArcs {
  const started: ArcProcess[] = [];
  afterEach(async () => {
    const ended = started.splice(0);
    // Every server first, then the directories: servers of one test may share a data directory,
    // and one still running would write into it again (its lock, its stores) after its removal.
    for (const arc of ended) await arc.kill();
    for (const arc of ended) await arc.cleanup();
  });
  const start = async (env: Record<string, string>, dataDir?: string): Promise<ArcProcess> => {
    const arc = await startArc(env, dataDir);
    started.push(arc);
    return arc;
  };
  return {
    started,
    start,
    crashAndRestart: async (arc, env) => {
      await arc.kill();
      started.splice(started.indexOf(arc), 1);
      return start(env, arc.dataDir);
    },
  };
}
