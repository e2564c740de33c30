// @ts-check
// Arc's compaction endpoints as the bench scripts use them (README "Compaction"): trigger jobs,
// wait until none is queued or running and the triggered ones are in the history, read the
// history. Used by bench/compaction/compaction.mjs and bench/query/query.mjs --compact.
import { describeError, sleep } from './arc-server.mjs';

/** The server answers 404/405 on the compaction routes: it was built without compaction. */
export class CompactionUnavailable extends Error {}

/** Jobs listed by one history read; more than one trigger's worth on the bench's data. */
export const HISTORY_LIMIT = 1000;
/** Poll interval while waiting for jobs: short next to a job's seconds, light on the server. */
const POLL_MS = 250;
const ENDED = new Set(['succeeded', 'failed']);

/**
 * @param {string} url
 * @param {string} token
 * @param {'GET' | 'POST'} method
 * @param {string} pathname
 * @param {unknown} [body]
 * @returns {Promise<any>} the JSON answer
 */
export async function compactionCall(url, token, method, pathname, body) {
  let res;
  let text;
  try {
    res = await fetch(`${url}${pathname}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    text = await res.text();
  } catch (err) {
    throw new Error(`${method} ${pathname}: ${describeError(err)}`, { cause: err });
  }
  if (res.status === 404 || res.status === 405) {
    throw new CompactionUnavailable(
      `${method} ${pathname} -> ${res.status}: this server has no compaction endpoints (a build without packages/compaction?)`,
    );
  }
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${pathname} -> ${res.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${method} ${pathname} -> ${res.status}: not JSON: ${text.slice(0, 200)}`);
  }
}

/**
 * `POST /api/compaction/trigger`: the jobs it queued (none when nothing in scope is a candidate).
 * @param {string} url
 * @param {string} token
 * @param {{ database?: string, measurement?: string, tier?: 'live' | 'hourly' | 'daily' }} scope
 * @returns {Promise<any[]>}
 */
export async function triggerCompaction(url, token, scope) {
  const body = await compactionCall(url, token, 'POST', '/api/compaction/trigger', scope);
  if (!Array.isArray(body?.jobs)) throw new Error(`POST /api/compaction/trigger: no "jobs" array in ${JSON.stringify(body).slice(0, 200)}`);
  return body.jobs;
}

/**
 * The newest `limit` ended jobs (newest first).
 * @param {string} url
 * @param {string} token
 * @param {number} [limit]
 * @returns {Promise<any[]>}
 */
export async function compactionHistory(url, token, limit = HISTORY_LIMIT) {
  const body = await compactionCall(url, token, 'GET', `/api/compaction/history?limit=${limit}`);
  return Array.isArray(body?.jobs) ? body.jobs : [];
}

/**
 * Waits until `GET /api/compaction/jobs` lists none and every job of `ids` is in the history
 * (ended); the ended jobs of `ids`. Throws after `timeoutS`.
 * @param {string} url
 * @param {string} token
 * @param {readonly string[]} ids
 * @param {number} timeoutS
 * @returns {Promise<any[]>}
 */
export async function waitForJobs(url, token, ids, timeoutS) {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const active = await compactionCall(url, token, 'GET', '/api/compaction/jobs');
    const activeJobs = Array.isArray(active?.jobs) ? active.jobs : [];
    /** @type {string} */
    let waitingFor;
    if (activeJobs.length === 0) {
      const ended = (await compactionHistory(url, token)).filter((j) => ids.includes(j.id) && ENDED.has(j.state));
      if (ended.length === ids.length) return ended;
      waitingFor = `${ids.length - ended.length} of ${ids.length} jobs not in the history yet`;
    } else {
      waitingFor = `${activeJobs.length} jobs queued or running`;
    }
    if (Date.now() > deadline) throw new Error(`compaction jobs not done after ${timeoutS} s (${waitingFor})`);
    // The server's job list is polled: across HTTP there is no event to wait on.
    await sleep(POLL_MS);
  }
}

/**
 * The jobs of a history by tier and state, with their files and rows in and out.
 * @param {readonly any[]} jobs
 */
export function jobTotals(jobs) {
  const sum = (/** @type {(j: any) => unknown} */ f) => jobs.reduce((a, j) => a + (Number(f(j)) || 0), 0);
  /** @type {Record<string, number>} */
  const byTier = {};
  for (const j of jobs) byTier[String(j.tier)] = (byTier[String(j.tier)] ?? 0) + 1;
  return {
    by_tier: byTier,
    succeeded: jobs.filter((j) => j.state === 'succeeded').length,
    failed: jobs.filter((j) => j.state === 'failed').length,
    // Listed but not ended (a history may list the job running now).
    unfinished: jobs.filter((j) => !ENDED.has(j.state)).length,
    input_files: sum((j) => j.inputFiles),
    output_files: sum((j) => j.outputFiles),
    input_rows: sum((j) => j.inputRows),
    output_rows: sum((j) => j.outputRows),
    duration_ms: sum((j) => j.durationMs),
  };
}
