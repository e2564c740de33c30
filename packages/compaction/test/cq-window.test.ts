// Proves continuous-query windows on a real store and merge thread: a window's rows equal the same
// SQL run by hand over the source files, a window run twice leaves one copy (its old rows
// replaced, not added to), late rows change the window's output when it runs again, the
// scheduler catches up missed windows in order and resumes after a restart from its stored
// point, windows of an idle source leave the store untouched, and queries that read another
// table, call a table function or are no SELECT are refused; retention_days and
// delete_source_after_days remove rows exactly at their cut-offs, never source rows whose windows
// the scheduler has not run yet, nor those before the query's first window until an execute of
// their range, contiguous with what it rolled up, rolls them up.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { quoteLiteral } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import { Storage } from '@arc/storage';
import { CQ_FILE_NAME, Compactor, ContinuousQueries, CqErrorCode, CqStore, type ContinuousQueryFields } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { duckdb, objectsUnder, putFile, type TestRow } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_MS = 3_600_000;
const HOUR_A_MS = Date.parse('2026-01-10T09:00:00Z');
const HOUR_B_MS = HOUR_A_MS + HOUR_MS;
const SECOND_US = 1_000_000;

const ROLLUP = "SELECT time_bucket(INTERVAL '10 minutes', time) AS time, host, avg(usage_user) AS usage_user, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface Clock {
  nowMs: number;
}

type FlushHook = NonNullable<ConstructorParameters<typeof ContinuousQueries>[0]['flushMeasurement']>;

async function setUp(clock: Clock, root?: string, flushMeasurement?: FlushHook) {
  const dataDir = root ?? (await tempDirectory('arc-cq-'));
  const storage = await Storage.open({ root: path.join(dataDir, 'data') });
  const compactor = Compactor.open({
    storage,
    config: { ...TEST_COMPACTION_CONFIG, enabled: false },
    historyPath: path.join(dataDir, 'compaction.db'),
    tempDirectory: path.join(dataDir, 'tmp'),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  const store = CqStore.open(path.join(dataDir, CQ_FILE_NAME));
  const cqs = new ContinuousQueries({ store, windows: compactor, storage, config: { enabled: true, latenessSeconds: 600 }, log: () => undefined, nowMs: () => clock.nowMs, ...(flushMeasurement === undefined ? {} : { flushMeasurement }) });
  closers.push(async () => {
    await cqs.close();
    await compactor.close();
  });
  return { dataDir, storage, compactor, cqs };
}

function rowsOf(hourMs: number, sequence: number, count: number): TestRow[] {
  return Array.from({ length: count }, (_, index) => ({ host: `h${String(index % 3)}`, timeUs: hourMs * 1000 + (index * 97 + sequence) * SECOND_US, usage_user: sequence * 100 + index }));
}

function fields(overrides: Partial<ContinuousQueryFields> = {}): ContinuousQueryFields {
  return { name: 'cpu_10m', database: 'db', source_measurement: 'cpu', destination_measurement: 'cpu_10m', query: ROLLUP, interval: '1h', ...overrides };
}

async function sql(storage: Storage, measurement: string, select: (table: string) => string): Promise<string[]> {
  const files = storage.catalog.files('db', measurement);
  if (files.length === 0) return [];
  const table = `read_parquet([${files.map((file) => quoteLiteral(storage.locationOf(file.key))).join(', ')}], union_by_name = true)`;
  const reader = await (await duckdb()).runAndReadAll(select(table));
  return reader.getRowObjectsJS().map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)));
}

const destinationRows = (storage: Storage): Promise<string[]> => sql(storage, 'cpu_10m', (table) => `SELECT epoch_us(time) AS t, host, usage_user, n FROM ${table} ORDER BY ALL`);
const handRollup = (storage: Storage, fromMs: number, toMs: number): Promise<string[]> =>
  sql(storage, 'cpu', (table) => `SELECT epoch_us(time_bucket(INTERVAL '10 minutes', time)) AS t, host, avg(usage_user) AS usage_user, count(*) AS n FROM ${table} WHERE time >= make_timestamp(${String(fromMs * 1000)}::BIGINT) AND time < make_timestamp(${String(toMs * 1000)}::BIGINT) GROUP BY ALL ORDER BY ALL`);

describe('continuous query windows', () => {
  it('writes the same rows as the SQL by hand, and a window run twice leaves one copy', async () => {
    const clock = { nowMs: HOUR_B_MS + 3 * HOUR_MS };
    const { storage, cqs } = await setUp(clock);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rowsOf(HOUR_B_MS, 2, 30) });
    const cq = await cqs.create(fields());
    const first = await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS + HOUR_MS, dryRun: false });
    expect(first.status).toBe('completed');
    expect(first.windows).toBe(2);
    expect(first.recordsRead).toBe(60);
    const expected = await handRollup(storage, HOUR_A_MS, HOUR_B_MS + HOUR_MS);
    expect(expected.length).toBeGreaterThan(6);
    expect(await destinationRows(storage)).toEqual(expected);
    // Again: the window's old rows are replaced, not added to.
    const again = await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS + HOUR_MS, dryRun: false });
    expect(again.executions.map((execution) => execution.recordsRemoved)).toEqual(first.executions.map((execution) => execution.recordsWritten));
    expect(await destinationRows(storage)).toEqual(expected);
    // Late rows in hour A: the window run again takes them in; hour B is untouched.
    await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rowsOf(HOUR_A_MS, 3, 12) });
    await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS, dryRun: false });
    expect(await destinationRows(storage)).toEqual(await handRollup(storage, HOUR_A_MS, HOUR_B_MS + HOUR_MS));
    expect(cqs.executions(cq.id, 10)).toHaveLength(5);
  });

  it('a dry run reports without writing', async () => {
    const clock = { nowMs: HOUR_B_MS + 3 * HOUR_MS };
    const { storage, cqs } = await setUp(clock);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    const cq = await cqs.create(fields());
    const dry = await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS, dryRun: true });
    expect(dry.status).toBe('dry_run');
    expect(dry.recordsWritten).toBe((await handRollup(storage, HOUR_A_MS, HOUR_B_MS)).length);
    expect(dry.executedQuery).toContain("time >= '2026-01-10T09:00:00Z' AND time < '2026-01-10T10:00:00Z'");
    expect(storage.catalog.files('db', 'cpu_10m')).toEqual([]);
  });

  it('the scheduler catches up missed windows in order and resumes after a restart', async () => {
    const clock = { nowMs: HOUR_A_MS + 60_000 };
    const first = await setUp(clock);
    await putFile(first.storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    await putFile(first.storage, { sequence: 2, writtenAtMs: 2000, rows: rowsOf(HOUR_B_MS, 2, 30) });
    const cq = await first.cqs.create(fields());
    await first.cqs.pass();
    expect(first.cqs.executions(cq.id, 10)).toEqual([]);
    // Down past two window ends: one pass runs both, oldest first.
    clock.nowMs = HOUR_B_MS + HOUR_MS + 5000;
    await first.cqs.pass();
    const runs = first.cqs.executions(cq.id, 10).reverse();
    expect(runs.map((run) => [run.trigger, run.status, run.startTime])).toEqual([
      ['schedule', 'completed', new Date(HOUR_A_MS).toISOString()],
      ['schedule', 'completed', new Date(HOUR_B_MS).toISOString()],
    ]);
    expect(first.cqs.get(cq.id).lastProcessedTime).toBe(new Date(HOUR_B_MS + HOUR_MS).toISOString());
    await closers.pop()?.();
    // A restart: the stored point is where catch-up resumes (nothing run twice), then the next window.
    const second = await setUp(clock, first.dataDir);
    await second.cqs.pass();
    expect(second.cqs.executions(cq.id, 10)).toHaveLength(2);
    clock.nowMs += 2 * HOUR_MS;
    await second.cqs.pass();
    expect(second.cqs.executions(cq.id, 10)).toHaveLength(4);
    expect(await destinationRows(second.storage)).toEqual(await handRollup(second.storage, HOUR_A_MS, HOUR_B_MS + HOUR_MS));
  });

  it('a query made with an earlier first window runs every window from the one holding it, in order', async () => {
    const clock = { nowMs: HOUR_B_MS + 30 * 60_000 };
    const { storage, cqs } = await setUp(clock);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    // Made in hour B, for rows from 20 minutes into hour A: hour A is its first window.
    const cq = await cqs.create(fields(), HOUR_A_MS + 20 * 60_000);
    expect(cq.lastProcessedTime).toBe(new Date(HOUR_A_MS).toISOString());
    await cqs.pass();
    expect(cqs.executions(cq.id, 10).map((run) => [run.trigger, run.status, run.startTime])).toEqual([['schedule', 'completed', new Date(HOUR_A_MS).toISOString()]]);
    expect(await destinationRows(storage)).toEqual(await handRollup(storage, HOUR_A_MS, HOUR_B_MS));
    // A first window after now is now's.
    const later = await cqs.create(fields({ name: 'later' }), HOUR_B_MS + 5 * HOUR_MS);
    expect(later.lastProcessedTime).toBe(new Date(HOUR_B_MS).toISOString());
  });

  it('runs windows of an idle source without touching the store', async () => {
    const clock = { nowMs: HOUR_A_MS + 60_000 };
    const { dataDir, cqs } = await setUp(clock);
    const cq = await cqs.create(fields());
    clock.nowMs = HOUR_B_MS + HOUR_MS + 1000;
    await cqs.pass();
    expect(cqs.executions(cq.id, 10).map((run) => [run.status, run.recordsWritten])).toEqual([
      ['completed', 0],
      ['completed', 0],
    ]);
    // No lock object, no staged file: the destination has no directory.
    expect(await readdir(path.join(dataDir, 'data'))).toEqual([]);
  });

  it('re-runs a window already run when late rows are published within the lateness', async () => {
    const clock = { nowMs: HOUR_A_MS + 60_000 };
    const { storage, cqs } = await setUp(clock);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    const cq = await cqs.create(fields());
    cqs.start();
    clock.nowMs = HOUR_B_MS + 1000;
    await cqs.pass();
    expect(cqs.executions(cq.id, 10)).toHaveLength(1);
    await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rowsOf(HOUR_A_MS, 2, 9) });
    await cqs.pass();
    expect(cqs.executions(cq.id, 10).map((run) => run.trigger)).toEqual(['late', 'schedule']);
    expect(await destinationRows(storage)).toEqual(await handRollup(storage, HOUR_A_MS, HOUR_B_MS));
    // Past the lateness: not re-run.
    clock.nowMs = HOUR_B_MS + 11 * 60_000;
    await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rowsOf(HOUR_A_MS, 3, 9) });
    await cqs.pass();
    expect(cqs.executions(cq.id, 10)).toHaveLength(2);
  });

  it('ignores files published after close (the final flush of a stopping server)', async () => {
    const clock = { nowMs: HOUR_A_MS + 60_000 };
    const { storage, cqs } = await setUp(clock);
    await cqs.create(fields());
    cqs.start();
    await cqs.close();
    // Its store is shut: a late-rows check now would throw out of the writer's flush report.
    await expect(putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) })).resolves.not.toThrow();
  });

  it.each([
    ['another table', 'SELECT time, usage_user FROM mem WHERE time >= {start_time} AND time < {end_time}', "reads 'mem'"],
    ['another database', 'SELECT time, usage_user FROM other.cpu WHERE time >= {start_time} AND time < {end_time}', "reads 'other.cpu'"],
    ['a table function', "SELECT * FROM cpu, read_csv('/etc/passwd') WHERE time >= {start_time} AND time < {end_time}", 'read_csv'],
    ['a volatile function', 'SELECT now() AS time FROM cpu WHERE time >= {start_time} AND time < {end_time}', 'now()'],
    ['no SELECT', 'DELETE FROM cpu WHERE time >= {start_time} AND time < {end_time}', 'not a SELECT'],
    ['no placeholders', 'SELECT time FROM cpu', 'placeholders'],
    ['bad SQL', 'SELEC time FROM cpu WHERE time >= {start_time} AND time < {end_time}', 'does not parse'],
  ])('refuses a query with %s', async (_label, query, message) => {
    const { cqs } = await setUp({ nowMs: HOUR_A_MS });
    const refused = await cqs.create(fields({ query })).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: CqErrorCode.badQuery });
    expect((refused as Error).message).toContain(message);
  });

  it('fails a window whose rows lie outside it, changing nothing', async () => {
    const clock = { nowMs: HOUR_B_MS + 3 * HOUR_MS };
    const { dataDir, storage, cqs } = await setUp(clock);
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    const cq = await cqs.create(fields({ query: "SELECT time_bucket(INTERVAL '1 day', time) AS time, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL" }));
    const result = await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS, dryRun: false });
    expect(result.status).toBe('failed');
    expect(result.executions[0]?.error).toContain('outside the window');
    expect(storage.catalog.files('db', 'cpu_10m')).toEqual([]);
    // Its staged outputs are gone too.
    expect((await objectsUnder(path.join(dataDir, 'data'))).filter((key) => key.endsWith('.tmp'))).toEqual([]);
  });

  it('applies retention_days to the destination and delete_source_after_days to rolled-up source rows, at their cut-offs', async () => {
    const NOW = Date.parse('2026-01-20T00:00:00Z');
    const clock = { nowMs: NOW - 240 * HOUR_MS };
    const { storage, cqs } = await setUp(clock);
    const cq = await cqs.create(fields({ retention_days: 3, delete_source_after_days: 2 }));
    // Pass 1 (at NOW) runs 100 of the 240 hourly windows due: the source is rolled up to C1.
    const C1 = NOW - 140 * HOUR_MS;
    // Pass 2 (an hour later) runs the next 100 (to NOW - 40 h): the source cut is now - 2 days,
    // the destination's now - 3 days.
    const C2 = NOW + HOUR_MS - 48 * HOUR_MS;
    const D2 = NOW + HOUR_MS - 72 * HOUR_MS;
    const NOT_ROLLED_UP = NOW - 72 * HOUR_MS + 15 * 60_000;
    const times = [...Array.from({ length: 40 }, (_, k) => NOW - 240 * HOUR_MS + k * 6 * HOUR_MS + 30 * 60_000), C1 - 0.001, C1, C2 - 0.001, C2, D2 - 0.001, D2, NOT_ROLLED_UP];
    for (const [sequence, timeMs] of times.entries()) await putFile(storage, { sequence: sequence + 1, writtenAtMs: 1000 + sequence, rows: [{ host: 'h0', timeUs: Math.round(timeMs * 1000), usage_user: sequence }] });
    const sourceTimes = async (): Promise<string[]> => sql(storage, 'cpu', (table) => `SELECT epoch_us(time) AS t FROM ${table} ORDER BY t`);
    const us = (ms: number): string => JSON.stringify({ t: Math.round(ms * 1000) });

    clock.nowMs = NOW;
    await cqs.pass();
    expect(cqs.get(cq.id).lastProcessedTime).toBe(new Date(C1).toISOString());
    const afterFirst = await sourceTimes();
    expect(afterFirst[0]).toBe(us(C1));
    expect(afterFirst).toContain(us(NOT_ROLLED_UP));
    expect(afterFirst).toHaveLength(times.filter((timeMs) => timeMs >= C1).length);
    // Every window run so far is older than 3 days.
    expect(await destinationRows(storage)).toEqual([]);

    const expected = await handRollup(storage, D2, NOW - 40 * HOUR_MS);
    clock.nowMs = NOW + HOUR_MS;
    await cqs.pass();
    expect(cqs.get(cq.id).lastProcessedTime).toBe(new Date(NOW - 40 * HOUR_MS).toISOString());
    const afterSecond = await sourceTimes();
    expect(afterSecond[0]).toBe(us(C2));
    expect(afterSecond).toHaveLength(times.filter((timeMs) => timeMs >= C2).length);
    expect(expected[0]).toContain(`"t":${String(D2 * 1000)}`);
    expect(await destinationRows(storage)).toEqual(expected);
  });

  it('flushes the destination before each window; a failed flush fails a manual window and is retried by the scheduler', async () => {
    const clock = { nowMs: HOUR_A_MS + 60_000 };
    const flushes: string[] = [];
    let flushError: ArcError | null = new ArcError(ErrorKind.unavailable, 'ARC_TEST_FLUSH_FAILED', 'the disk is full');
    const { storage, cqs } = await setUp(clock, undefined, (database, measurement) => {
      flushes.push(`${database}.${measurement}`);
      return Promise.resolve(flushError);
    });
    await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_MS, 1, 30) });
    const cq = await cqs.create(fields({ destination_database: 'rollups' }));
    const manual = await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS, dryRun: false });
    expect(manual.status).toBe('failed');
    expect(manual.executions.map((run) => [run.status, run.error])).toEqual([['failed', 'the disk is full']]);
    expect(flushes).toEqual(['rollups.cpu_10m']);
    // The window ends; the scheduler's pass meets the failed flush, records nothing and leaves the window for the next pass.
    const processedBefore = cqs.get(cq.id).lastProcessedTime;
    clock.nowMs = HOUR_B_MS + 5000;
    await cqs.pass();
    expect(flushes).toHaveLength(2);
    expect(cqs.executions(cq.id, 10)).toHaveLength(1);
    expect(cqs.get(cq.id).lastProcessedTime).toBe(processedBefore);
    flushError = null;
    await cqs.pass();
    expect(cqs.executions(cq.id, 10).map((run) => [run.trigger, run.status])).toEqual([['schedule', 'completed'], ['manual', 'failed']]);
    expect(cqs.get(cq.id).lastProcessedTime).toBe(new Date(HOUR_B_MS).toISOString());
    // A dry run writes nothing and so flushes nothing.
    await cqs.execute(cq.id, { startMs: HOUR_A_MS, endMs: HOUR_B_MS, dryRun: true });
    expect(flushes).toEqual(['rollups.cpu_10m', 'rollups.cpu_10m', 'rollups.cpu_10m']);
  });

  it('delete_source_after_days keeps source rows before the first window until an execute rolls them up contiguously', async () => {
    const NOW = Date.parse('2026-01-20T00:00:00Z');
    const clock = { nowMs: NOW - 60 * HOUR_MS };
    const { storage, cqs } = await setUp(clock);
    const cq = await cqs.create(fields({ delete_source_after_days: 1 }));
    // History the query never rolled up: in a range an execute rolls up apart from the rest
    // (a gap between), in one it rolls up contiguously, and the last instant before its first window.
    const GAPPED = NOW - 85 * HOUR_MS + 30 * 60_000;
    const BACKFILLED = NOW - 70 * HOUR_MS + 30 * 60_000;
    const JUST_BEFORE = NOW - 60 * HOUR_MS - 0.001;
    // Rolled up by the scheduler: from its first window's start, and one past the cut-offs (now - 1 day).
    const FIRST = NOW - 60 * HOUR_MS;
    const ROLLED_UP = NOW - 30 * HOUR_MS + 30 * 60_000;
    const KEPT = NOW - 20 * HOUR_MS;
    const times = [GAPPED, BACKFILLED, JUST_BEFORE, FIRST, ROLLED_UP, KEPT];
    for (const [sequence, timeMs] of times.entries()) await putFile(storage, { sequence: sequence + 1, writtenAtMs: 1000 + sequence, rows: [{ host: 'h0', timeUs: Math.round(timeMs * 1000), usage_user: sequence }] });
    const sourceTimes = async (): Promise<string[]> => sql(storage, 'cpu', (table) => `SELECT epoch_us(time) AS t FROM ${table} ORDER BY t`);
    const us = (ms: number): string => JSON.stringify({ t: Math.round(ms * 1000) });
    expect(cqs.get(cq.id).rolledUpFromTime).toBeNull();

    // The scheduler's first pass rolls up from the window the query was created in: only rows from there go.
    clock.nowMs = NOW;
    await cqs.pass();
    expect(cqs.get(cq.id).rolledUpFromTime).toBe(new Date(FIRST).toISOString());
    expect(await sourceTimes()).toEqual([GAPPED, BACKFILLED, JUST_BEFORE, KEPT].map(us));

    // An execute of a range that ends before the span leaves a gap: its rows are rolled up but stay.
    const gapped = await cqs.execute(cq.id, { startMs: NOW - 90 * HOUR_MS, endMs: NOW - 80 * HOUR_MS, dryRun: false });
    expect(gapped.status).toBe('completed');
    expect(cqs.get(cq.id).rolledUpFromTime).toBe(new Date(FIRST).toISOString());
    clock.nowMs = NOW + HOUR_MS;
    await cqs.pass();
    expect(await sourceTimes()).toEqual([GAPPED, BACKFILLED, JUST_BEFORE, KEPT].map(us));

    // One that ends at the span's start extends it: the rows it rolled up go at the next removal, the gapped range's stay.
    const backfill = await cqs.execute(cq.id, { startMs: NOW - 72 * HOUR_MS, endMs: FIRST, dryRun: false });
    expect(backfill.status).toBe('completed');
    expect(cqs.get(cq.id).rolledUpFromTime).toBe(new Date(NOW - 72 * HOUR_MS).toISOString());
    expect(await destinationRows(storage)).toContain(JSON.stringify({ t: BACKFILLED * 1000, host: 'h0', usage_user: 1, n: 1 }));
    clock.nowMs = NOW + 2 * HOUR_MS;
    await cqs.pass();
    expect(await sourceTimes()).toEqual([GAPPED, KEPT].map(us));
  });
});
