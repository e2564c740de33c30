// Proves the query pool's bounded queue over HTTP: with one query thread and one queue place,
// a third concurrent query is refused at once with 503 and Retry-After, and the server answers
// again once the running queries end (by timeout: 504, DuckDB interrupted).
import { describe, expect, it } from 'vitest';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_QUERY_QUEUE_MAX: '1', ARC_QUERY_TIMEOUT_SECONDS: '2' });

async function postQuery(sql: string): Promise<Response> {
  return fetch(`${shared.arc.url}/query`, {
    method: 'POST',
    headers: { ...shared.client.authHeaders(), 'Content-Type': 'application/json' },
    body: JSON.stringify({ sql }),
  });
}

describe('query queue bound', () => {
  it('answers 503 with Retry-After past the queue, then serves again', async () => {
    const slow = 'SELECT count(*) FROM range(1000000000000)';
    const running = postQuery(slow);
    // Let the first query reach the worker before the second queues behind it. A fixed wait, because
    // no HTTP answer tells that a query was taken by a worker or queued; if the wait is too short
    // the assertions below fail (the test cannot pass by accident).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const queued = postQuery(slow);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await postQuery('SELECT 1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(await refused.json()).toMatchObject({ success: false, code: 'ARC_QUERY_QUEUE_FULL' });
    expect((await running).status).toBe(504);
    expect((await queued).status).toBe(504);
    const after = await postQuery('SELECT 1');
    expect(after.status).toBe(200);
  });
});
