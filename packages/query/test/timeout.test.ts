// Proves a query past its timeout, or whose client went away, is rejected with the right code and
// interrupted inside DuckDB so its worker answers the next query, that a full queue refuses
// at once instead of growing, and that stats() counts each of these; one worker thread, so a
// stuck worker would fail the next query.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueryPool } from '../src/index.js';
import { pollUntil, waitUntil } from '../../../test/support/poll-until.js';
import { DataDir, query, queryError } from './fixtures.js';

/** Runs for minutes unless interrupted. */
const HEAVY_SQL = 'SELECT count(*) FROM range(100000000) a, range(100000) b';
/**
 * Long enough that a trivial query never hits it on a loaded machine (tests of other packages run
 * alongside), far shorter than HEAVY_SQL, which needs minutes: a worker left running HEAVY_SQL
 * would make the follow-up query time out.
 */
const TIMEOUT_MS = 1000;
/** A worker takes a task within milliseconds; the bound is for a loaded machine. */
const START_DEADLINE_MS = 10_000;

let dir: DataDir;

beforeAll(async () => {
  dir = await DataDir.create();
});

afterAll(() => {
  dir.remove();
});

describe('timeouts and aborts', () => {
  let pool: QueryPool;

  beforeAll(async () => {
    pool = dir.pool({ threads: 1, duckdbThreads: 1, timeoutMs: TIMEOUT_MS, queueSizeMax: 1 });
    await pool.ready();
  });

  afterAll(async () => {
    await pool.close();
  });

  it('rejects a query past timeoutMs with ARC_QUERY_TIMEOUT and answers the next one', async () => {
    const error = await queryError(pool, HEAVY_SQL);
    expect(error.kind).toBe('timeout');
    expect(error.code).toBe('ARC_QUERY_TIMEOUT');
    // The next query has the same budget: it only makes it if the heavy one was interrupted.
    expect((await query(pool, 'SELECT 42 AS answer')).data).toEqual([[42]]);
  });

  it('interrupts a query whose client went away', async () => {
    const controller = new AbortController();
    const before = pool.stats();
    const running = pool.run({ sql: HEAVY_SQL, database: 'default', format: 'json' }, controller.signal);
    // Aborted while DuckDB runs it (not while queued): only then is there something to interrupt.
    await waitUntil('the heavy query running', START_DEADLINE_MS, () => pool.stats().running === 1);
    controller.abort();
    await expect(running).rejects.toMatchObject({ code: 'ARC_QUERY_ABORTED' });
    expect(pool.stats().aborted).toBe(before.aborted + 1);
    expect((await query(pool, 'SELECT 7 AS answer')).data).toEqual([[7]]);
  });

  it('refuses an already aborted request without running it', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(pool.run({ sql: 'SELECT 1', database: 'default', format: 'json' }, controller.signal)).rejects.toMatchObject({
      code: 'ARC_QUERY_ABORTED',
    });
  });

  it('refuses with ARC_QUERY_QUEUE_FULL once the worker and the queue are taken, and counts it all in stats()', async () => {
    const before = pool.stats();
    expect(before).toMatchObject({ threads: 1, queueSizeMax: 1, running: 0, queued: 0 });
    const first = queryError(pool, HEAVY_SQL);
    await waitUntil('the first query running', START_DEADLINE_MS, () => pool.stats().running === 1);
    const second = queryError(pool, HEAVY_SQL);
    expect(pool.stats()).toMatchObject({ running: 1, queued: 1 });
    const refused = await queryError(pool, 'SELECT 1');
    expect(refused.kind).toBe('unavailable');
    expect(refused.code).toBe('ARC_QUERY_QUEUE_FULL');
    expect(pool.stats().refused).toBe(before.refused + 1);
    expect((await first).code).toBe('ARC_QUERY_TIMEOUT');
    expect((await second).code).toBe('ARC_QUERY_TIMEOUT');
    // Both were given up on at their timeout; they leave the pool once DuckDB has stopped them.
    const { value: after } = await pollUntil('both heavy queries handed back', START_DEADLINE_MS, () => pool.stats(), (stats) => stats.completed === before.completed + 2);
    expect(after).toMatchObject({ running: 0, queued: 0, cancelling: 0, timedOut: before.timedOut + 2 });
  });
});
