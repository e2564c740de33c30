// Kills a server with SIGKILL in the middle of a long run that an HTTP request started (a
// retention run, a delete's rewrites, a continuous query's windows), then starts a new server on
// the same data directory: what the crash tests of those features share.
import { waitUntil } from '../../../../test/support/poll-until.js';
import { startArc, type ArcProcess } from './arc-process.js';

/** How long a run may take to show that it is under way. */
const RUN_START_WAIT_MS = 30_000;
/**
 * How often `underWay` is asked: the run's steps take tens of milliseconds each, so a prompt
 * probe kills it among them rather than after its last (the poll is how the test sees progress
 * in another process: the server has no hook to stop itself at a step).
 */
const UNDER_WAY_POLL_MS = 10;

export interface KilledMidRun {
  /** The new server on the killed one's data directory (the caller stops it). */
  readonly arc: ArcProcess;
  /** The request was answered before the kill: the run had ended, nothing was cut short. */
  readonly answeredBeforeKill: boolean;
}

/**
 * Sends `request`, waits until `underWay` says the run has begun changing files (polled every
 * UNDER_WAY_POLL_MS), kills the server with SIGKILL and restarts it with `env` on its data
 * directory. The request's own failure (its connection cut by the kill) is expected and ignored.
 */
export async function killMidRun(arc: ArcProcess, env: Record<string, string>, what: string, request: () => Promise<unknown>, underWay: () => Promise<boolean>): Promise<KilledMidRun> {
  let answered = false;
  const running = request().then(
    () => (answered = true),
    () => undefined,
  );
  await waitUntil(`${what} is under way`, RUN_START_WAIT_MS, underWay, UNDER_WAY_POLL_MS);
  await arc.kill();
  await running;
  return { arc: await startArc(env, arc.dataDir), answeredBeforeKill: answered };
}
