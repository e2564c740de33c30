// Proves a running query whose client went away, or whose timeout passed, is stopped inside
// DuckDB within a second: the pool's own count of tasks not yet handed back by a worker drops to
// zero within a second of the abort, for a long join and for scans building, per row, the
// largest string or list a bounded function may build (DuckDB looks at an interrupt between
// vectors only, so these are the slowest vectors a query can make it wait for).
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { DataDir } from './fixtures.js';

const LONG_QUERIES = [
  'SELECT count(*) FROM range(100000000) a, range(100000) b',
  "SELECT sum(length(repeat('x', 16384 - (i % 2)))) FROM range(1000000000) t(i)",
  "SELECT sum(length(lpad('x', (16384 - (i % 2))::INTEGER, 'y'))) FROM range(1000000000) t(i)",
  'SELECT sum(len(range(4096 - (i % 2)))) FROM range(1000000000) t(i)',
];
/** The promise: an abandoned query stops holding a worker (and its memory) within this. */
const STOP_MS_MAX = 1000;
/** How long the query runs before it is abandoned: well into its execution, not its planning. */
const RUNNING_MS = 500;
/** A fine poll: the waits below measure the STOP_MS_MAX promise, so they must notice promptly. */
const POLL_MS = 5;
const TIMEOUT_MS = 2000;

let dir: DataDir;
let pool: QueryPool;


beforeAll(async () => {
  dir = await DataDir.create();
  pool = dir.pool({ threads: 1, duckdbThreads: 1, timeoutMs: TIMEOUT_MS, queueSizeMax: 1, memoryLimit: '256MB' });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('an abandoned query stops within a second', () => {
  it.each(LONG_QUERIES)('after the client went away: %s', async (sql) => {
    const controller = new AbortController();
    const running = pool.run({ sql, database: 'default', format: 'json' }, controller.signal);
    const startedAt = performance.now();
    await waitUntil('the query running for a while', 10_000, () => pool.tasksRunning === 1 && performance.now() - startedAt >= RUNNING_MS, POLL_MS);
    controller.abort();
    const abortedAt = performance.now();
    await expect(running).rejects.toMatchObject({ code: 'ARC_QUERY_ABORTED' });
    await waitUntil('the aborted query handed back', 30_000, () => pool.tasksInFlight === 0, POLL_MS);
    expect(performance.now() - abortedAt).toBeLessThan(STOP_MS_MAX);
  });

  it.each(LONG_QUERIES)('after its timeout: %s', async (sql) => {
    const running = pool.run({ sql, database: 'default', format: 'json' });
    await expect(running).rejects.toMatchObject({ code: 'ARC_QUERY_TIMEOUT' });
    const timedOutAt = performance.now();
    await waitUntil('the timed-out query handed back', 30_000, () => pool.tasksInFlight === 0, POLL_MS);
    expect(performance.now() - timedOutAt).toBeLessThan(STOP_MS_MAX);
  });
});
