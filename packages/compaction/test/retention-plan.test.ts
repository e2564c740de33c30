// Proves a retention run's plan from the catalog: files wholly before the cut-off are dropped,
// files after it left, a file straddling it rewritten; and that rewriting the straddling file
// with retentionRemoveWhere through Compactor.rewrite keeps exactly the rows at or after the
// cut-off (the row exactly at it included), read back from the store by DuckDB. Its range variant
// (a continuous query's source removal): of files before, straddling the lower bound, inside,
// straddling the upper bound and after a range, only the inside one is dropped and the two
// straddling ones rewritten, keeping exactly the rows outside [from, to) (the row at `from`
// removed, the one at `to` kept); without a lower bound the plan is retention's.
import { afterEach, describe, expect, it } from 'vitest';
import { MICROS_PER_DAY } from '@arc/storage';
import { type Compactor, planRangeRemoval, planRetention, rangeRemoveWhere, retentionCutoffUs, retentionRemoveWhere } from '../src/index.js';
import { putFile, readRows, type TestRow } from './support/parquet-files.js';
import { openRewriteStore } from './support/rewrite-store.js';

const HOUR_US = 3_600_000_000;
const DAY_1_US = Date.parse('2026-01-01T00:00:00Z') * 1000;
const SECOND_US = 1_000_000;

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

function rows(startUs: number, count: number, stepUs: number): TestRow[] {
  return Array.from({ length: count }, (_, index) => ({ host: `h${String(index % 2)}`, timeUs: startUs + index * stepUs, usage_user: index, usage_idle: 0 }));
}

describe('retention plan', () => {
  it('computes the cut-off from retention_days + buffer_days', () => {
    const nowMs = Date.parse('2026-02-01T00:00:00Z');
    expect(retentionCutoffUs({ retentionDays: 30, bufferDays: 1 }, nowMs)).toBe(nowMs * 1000 - 31 * MICROS_PER_DAY);
  });

  it('drops expired files, rewrites the straddling one to exactly the rows at or after the cut-off', async () => {
    const { storage, compactor } = await openRewriteStore('arc-retention-plan-');
    open.push(compactor);
    const cutoffUs = DAY_1_US + 10 * HOUR_US + 30 * SECOND_US;
    const expired = await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rows(DAY_1_US + 9 * HOUR_US, 10, SECOND_US) });
    // Seconds 0..59 of hour 10: 30 rows before the cut-off, the one at it and 29 after.
    const straddling = await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rows(DAY_1_US + 10 * HOUR_US, 60, SECOND_US) });
    const kept = await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rows(DAY_1_US + 11 * HOUR_US, 10, SECOND_US) });
    const plan = planRetention(storage.catalog.files('db', 'cpu'), cutoffUs);
    expect({ drop: plan.drop.map((file) => file.key), rewrite: plan.rewrite.map((file) => file.key), dropRows: plan.dropRows }).toEqual({ drop: [expired], rewrite: [straddling], dropRows: 10 });
    expect(plan.dropBytes).toBe(plan.drop[0]?.bytes);

    const before = (await readRows(storage)).map((row) => JSON.parse(row) as { t: number });
    await compactor.rewrite({ database: 'db', measurement: 'cpu', files: [straddling], removeWhere: retentionRemoveWhere(cutoffUs) });
    await compactor.rewrite({ database: 'db', measurement: 'cpu', files: [expired], removeWhere: null });
    const after = (await readRows(storage)).map((row) => JSON.parse(row) as { t: number });
    expect(after).toEqual(before.filter((row) => row.t >= cutoffUs));
    expect(after).toHaveLength(40);
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).toContain(kept);
    expect(planRetention(storage.catalog.files('db', 'cpu'), cutoffUs)).toMatchObject({ drop: [], rewrite: [] });
  });
});

describe('retention plan of a range', () => {
  it('drops the files inside, rewrites those straddling either bound to exactly the rows outside', async () => {
    const { storage, compactor } = await openRewriteStore('arc-range-plan-');
    open.push(compactor);
    const fromUs = DAY_1_US + 10 * HOUR_US + 20 * SECOND_US;
    const toUs = DAY_1_US + 12 * HOUR_US + 40 * SECOND_US;
    const before = await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rows(DAY_1_US + 9 * HOUR_US, 10, SECOND_US) });
    // Seconds 0..59 of hour 10: 20 rows before `from`, the one at it and 39 after.
    const straddlingFrom = await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rows(DAY_1_US + 10 * HOUR_US, 60, SECOND_US) });
    const inside = await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rows(DAY_1_US + 11 * HOUR_US, 10, SECOND_US) });
    // Seconds 0..59 of hour 12: 40 rows before `to` (removed), the one at it and 19 after (kept).
    const straddlingTo = await putFile(storage, { sequence: 4, writtenAtMs: 4000, rows: rows(DAY_1_US + 12 * HOUR_US, 60, SECOND_US) });
    const after = await putFile(storage, { sequence: 5, writtenAtMs: 5000, rows: rows(DAY_1_US + 13 * HOUR_US, 10, SECOND_US) });
    const files = storage.catalog.files('db', 'cpu');
    const plan = planRangeRemoval(files, fromUs, toUs);
    expect({ drop: plan.drop.map((file) => file.key), rewrite: plan.rewrite.map((file) => file.key).sort(), dropRows: plan.dropRows }).toEqual({ drop: [inside], rewrite: [straddlingFrom, straddlingTo].sort(), dropRows: 10 });
    // No lower bound: retention's plan; an empty range: nothing.
    expect(planRangeRemoval(files, null, toUs)).toEqual(planRetention(files, toUs));
    expect(planRangeRemoval(files, toUs, toUs)).toMatchObject({ drop: [], rewrite: [] });

    const rowsBefore = (await readRows(storage)).map((row) => JSON.parse(row) as { t: number });
    await compactor.rewrite({ database: 'db', measurement: 'cpu', files: [straddlingFrom], removeWhere: rangeRemoveWhere(fromUs, toUs) });
    await compactor.rewrite({ database: 'db', measurement: 'cpu', files: [straddlingTo], removeWhere: rangeRemoveWhere(fromUs, toUs) });
    await compactor.rewrite({ database: 'db', measurement: 'cpu', files: [inside], removeWhere: null });
    const rowsAfter = (await readRows(storage)).map((row) => JSON.parse(row) as { t: number });
    expect(rowsAfter).toEqual(rowsBefore.filter((row) => row.t < fromUs || row.t >= toUs));
    expect(rowsAfter).toHaveLength(10 + 20 + 20 + 10);
    const keys = storage.catalog.files('db', 'cpu').map((file) => file.key);
    expect(keys).toEqual(expect.arrayContaining([before, after]));
    expect(planRangeRemoval(storage.catalog.files('db', 'cpu'), fromUs, toUs)).toMatchObject({ drop: [], rewrite: [] });
  });
});
