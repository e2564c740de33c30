// Proves a retention run on a real store: a dry run lists the files, rows and bytes it would
// remove (the straddling file's expired rows counted by a merge thread) and changes nothing; the run then removes exactly the rows before the
// cut-off (an expired file dropped, a straddling one rewritten), leaves another measurement of
// the database alone, and a second run finds nothing to do.
import { afterEach, describe, expect, it } from 'vitest';
import { MICROS_PER_DAY } from '@arc/storage';
import { parseRetentionPolicy, runRetention, type Compactor } from '../src/index.js';
import { putFile, readRows, type TestRow } from './support/parquet-files.js';
import { openRewriteStore } from './support/rewrite-store.js';

const HOUR_US = 3_600_000_000;
const SECOND_US = 1_000_000;
const DAY_US = Date.parse('2026-01-01T00:00:00Z') * 1000;
/** The cut-off: 10:00:30 of that day; a policy of 1 day + 0 buffer days run a day later. */
const CUTOFF_US = DAY_US + 10 * HOUR_US + 30 * SECOND_US;
const NOW_MS = (CUTOFF_US + MICROS_PER_DAY) / 1000;

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

function rows(startUs: number, count: number): TestRow[] {
  return Array.from({ length: count }, (_, index) => ({ host: 'h', timeUs: startUs + index * SECOND_US, usage_user: index, usage_idle: 0 }));
}

describe('runRetention', () => {
  it('dry-runs, then removes exactly the expired rows of its measurement, then has nothing to do', async () => {
    const { storage, compactor } = await openRewriteStore('arc-retention-run-');
    open.push(compactor);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rows(DAY_US + 9 * HOUR_US, 10) });
    await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rows(DAY_US + 10 * HOUR_US, 60) });
    await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rows(DAY_US + 11 * HOUR_US, 10) });
    await putFile(storage, { measurement: 'mem', sequence: 4, writtenAtMs: 4000, rows: rows(DAY_US + 9 * HOUR_US, 10) });
    const policy = parseRetentionPolicy({ name: 'cpu-1d', database: 'db', measurement: 'cpu', retention_days: 1, buffer_days: 0 });
    const before = (await readRows(storage)).map((row) => JSON.parse(row) as { t: number });
    const mem = await readRows(storage, 'mem');

    const dry = await runRetention(policy, storage, compactor, { nowMs: NOW_MS, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, cutoff: '2026-01-01T10:00:30.000Z', measurements: 1, affectedMeasurements: ['cpu'], filesDropped: 1, filesRewritten: 1, rowsRemoved: 40, jobsFailed: 0, filesTruncated: false });
    const [dropped, straddling] = storage.catalog.files('db', 'cpu');
    expect(dry.files).toEqual([
      { measurement: 'cpu', key: dropped?.key, action: 'drop', rows: 10, bytes: dropped?.bytes },
      { measurement: 'cpu', key: straddling?.key, action: 'rewrite', rows: 30, bytes: straddling?.bytes },
    ]);
    expect(dry.bytesRemoved).toBe(dropped?.bytes);
    expect(dry.bytesRewritten).toBe(straddling?.bytes);
    expect((await readRows(storage)).map((row) => JSON.parse(row) as { t: number })).toEqual(before);

    const run = await runRetention(policy, storage, compactor, { nowMs: NOW_MS, dryRun: false });
    expect(run).toMatchObject({ dryRun: false, measurements: 1, filesDropped: 1, filesRewritten: 1, rowsRemoved: 40, jobsFailed: 0 });
    expect((await readRows(storage)).map((row) => JSON.parse(row) as { t: number })).toEqual(before.filter((row) => row.t >= CUTOFF_US));
    expect(await readRows(storage, 'mem')).toEqual(mem);

    const again = await runRetention(policy, storage, compactor, { nowMs: NOW_MS, dryRun: false });
    expect(again).toMatchObject({ filesDropped: 0, filesRewritten: 0, rowsRemoved: 0, bytesRemoved: 0 });
  });
});
