// Proves Compactor.countRemoved, a dry run's count: on real files it answers exactly the rows a
// rewrite with the same predicate removes (the rewrite then run and its rows compared), writes
// nothing, refuses a predicate that reads another table (400, as a rewrite does), and with one
// merge thread a count waiting behind a running count still gets its turn.
import { afterEach, describe, expect, it } from 'vitest';
import { CompactionErrorCode, type Compactor } from '../src/index.js';
import { objectsUnder, putFile, readRows, type TestRow } from './support/parquet-files.js';
import { openRewriteStore } from './support/rewrite-store.js';

const HOUR_US = Date.parse('2026-02-01T09:00:00Z') * 1000;
const SECOND_US = 1_000_000;

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

async function setUp() {
  const { root, storage, compactor } = await openRewriteStore('arc-count-', { maxConcurrentJobs: 1 });
  open.push(compactor);
  const rows: TestRow[] = Array.from({ length: 50 }, (_, index) => ({ host: `h${String(index % 5)}`, timeUs: HOUR_US + index * SECOND_US, usage_user: index, usage_idle: 0 }));
  const key = await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows });
  return { root, storage, compactor, key };
}

describe('Compactor.countRemoved', () => {
  it('counts exactly the rows the rewrite then removes, and writes nothing', async () => {
    const { root, storage, compactor, key } = await setUp();
    const request = { database: 'db', measurement: 'cpu', files: [key] };
    const removeWhere = `host = 'h1' OR usage_user >= 40`;
    const objects = await objectsUnder(root);
    // Two counts at once with one merge thread: the second waits for the thread, then runs.
    const [counted, again] = await Promise.all([compactor.countRemoved({ ...request, removeWhere }), compactor.countRemoved({ ...request, removeWhere: 'usage_user < 7' })]);
    expect(again).toBe(7);
    expect(await objectsUnder(root)).toEqual(objects);
    const before = (await readRows(storage)).length;
    const [job] = await compactor.rewrite({ ...request, removeWhere });
    expect(job?.state).toBe('succeeded');
    const after = (await readRows(storage)).length;
    // h1: indices 1, 6, ..., 36 (8 of them below 40) plus indices 40..49: 18 rows.
    expect(counted).toBe(18);
    expect(before - after).toBe(counted);
  });

  it('refuses a predicate that reads another table, as a rewrite does', async () => {
    const { compactor, key } = await setUp();
    const counting = compactor.countRemoved({ database: 'db', measurement: 'cpu', files: [key], removeWhere: 'host IN (SELECT name FROM sqlite_master)' });
    await expect(counting).rejects.toMatchObject({ code: CompactionErrorCode.badPredicate });
  });
});
