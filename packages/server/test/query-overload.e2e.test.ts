// Proves the query pool's bounded queue over HTTP: with one query thread and one queue place,
// a third concurrent query is refused at once with 503 and Retry-After, and the server answers
// again once the running queries end (by timeout: 504, DuckDB interrupted). Each step waits on
// GET /metrics/query-pool, which also has to count every one of these outcomes.
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../test/support/poll-until.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_QUERY_QUEUE_MAX: '1', ARC_QUERY_TIMEOUT_SECONDS: '2' });
/** A query thread takes a query within milliseconds; the bound is for a loaded machine. */
const POOL_DEADLINE_MS = 10_000;

interface QueryPoolMetrics {
  threads: number;
  queue_max: number;
  running: number;
  queued: number;
  cancelling: number;
  completed: number;
  refused: number;
  timed_out: number;
  aborted: number;
}

async function postQuery(sql: string): Promise<Response> {
  return fetch(`${shared.arc.url}/query`, {
    method: 'POST',
    headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
}

async function poolMetrics(): Promise<QueryPoolMetrics> {
  const answer = await shared.client.get('/metrics/query-pool', shared.client.authHeaders());
  expect(answer.status).toBe(200);
  return answer.json() as QueryPoolMetrics;
}

function poolReaches(what: string, done: (metrics: QueryPoolMetrics) => boolean): Promise<QueryPoolMetrics> {
  return pollUntil(what, POOL_DEADLINE_MS, poolMetrics, done).then((outcome) => outcome.value);
}

describe('query queue bound', () => {
  it('answers 503 with Retry-After past the queue, then serves again', async () => {
    const before = await poolMetrics();
    expect(before).toMatchObject({ threads: 1, queue_max: 1, running: 0, queued: 0 });
    const slow = 'SELECT count(*) FROM range(1000000000000)';
    const running = postQuery(slow);
    await poolReaches('the first query running', (metrics) => metrics.running === 1);
    const queued = postQuery(slow);
    await poolReaches('the second query queued', (metrics) => metrics.queued === 1);
    const refused = await postQuery('SELECT 1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ success: false, code: 'ARC_QUERY_QUEUE_FULL' });
    expect((await poolMetrics()).refused).toBe(before.refused + 1);
    expect((await running).status).toBe(504);
    expect((await queued).status).toBe(504);
    // A timed-out query holds its place until DuckDB has stopped it: wait for both to leave.
    const after = await poolReaches('both slow queries handed back', (metrics) => metrics.completed === before.completed + 2);
    expect(after).toMatchObject({ running: 0, queued: 0, cancelling: 0, timed_out: before.timed_out + 2 });
    expect((await postQuery('SELECT 1')).status).toBe(200);
  });

  it('answers /metrics/query-pool only with a token', async () => {
    expect((await fetch(`${shared.arc.url}/metrics/query-pool`)).status).toBe(401);
  });
});
