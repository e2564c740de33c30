// Proves the compactor end to end on a real store and real merge threads: each tier merges the
// files it should (live: the newest run of an hour past live_max_files; hourly: a closed hour
// whole; daily: a day into a day file) and leaves the rest; answers are the same before and
// after, but for duplicates, where the latest write wins field by field, also against a file
// written after the job's inputs; inputs stay on disk until the queries that may read them
// ended; a partition whose lease another job holds is refused until the lease runs out (a skip
// for metrics); jobs land in the history with their figures.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CompactionConfig } from '@arc/config';
import { MICROS_PER_HOUR, Storage, isCompactedKey } from '@arc/storage';
import { Compactor, type CompactionJob, type JobResult, type JobStep } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { objectsUnder, putFile, readRows, writeRaw } from './support/parquet-files.js';
import { waitUntil } from '../../../test/support/poll-until.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const NOW_MS = Date.parse('2026-01-10T12:30:00Z');
const CURRENT_HOUR_US = Date.parse('2026-01-10T12:00:00Z') * 1000;
const CLOSED_HOUR_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const OLD_DAY_US = Date.parse('2026-01-07T00:00:00Z') * 1000;
const MINUTE_US = 60_000_000;

const CONFIG: CompactionConfig = { ...TEST_COMPACTION_CONFIG, liveMaxFiles: 4, leaseSeconds: 60 };

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

async function setUp(options: { config?: Partial<CompactionConfig>; queriesEnded?: () => Promise<void>; onStep?: (step: JobStep) => void; onJobEnded?: (job: CompactionJob, result: JobResult) => void; nowMs?: () => number } = {}) {
  // One level down: the history and temp files the compactor keeps beside the root are in the temp directory too.
  const root = path.join(await tempDirectory('arc-compactor-'), 'store');
  const storage = await Storage.open({ root });
  const compactor = Compactor.open({
    storage,
    config: { ...CONFIG, ...options.config },
    historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
    queriesEnded: options.queriesEnded ?? (() => Promise.resolve()),
    log: () => undefined,
    nowMs: options.nowMs ?? (() => NOW_MS),
    ...(options.onStep === undefined ? {} : { onStep: options.onStep }),
    ...(options.onJobEnded === undefined ? {} : { onJobEnded: options.onJobEnded }),
  });
  open.push(compactor);
  return { root, storage, compactor };
}

async function runAll(compactor: Compactor, tier?: 'live' | 'hourly' | 'daily'): Promise<void> {
  await compactor.trigger(tier === undefined ? {} : { tier });
  await compactor.idle();
}

describe('Compactor', () => {
  it('merges a closed hour whole, deduplicating field by field with the latest write winning', async () => {
    const { storage, compactor } = await setUp();
    const t = CLOSED_HOUR_US + MINUTE_US;
    await putFile(storage, { sequence: 1, writtenAtMs: NOW_MS - 3000, rows: [{ host: 'a', timeUs: t, usage_user: 1, usage_idle: 90 }, { host: 'b', timeUs: t, usage_user: 5, usage_idle: 50 }] });
    // A retry of host a with only usage_user set, and a NULL-tag row.
    await putFile(storage, { sequence: 2, writtenAtMs: NOW_MS - 2000, rows: [{ host: 'a', timeUs: t, usage_user: 2, usage_idle: null }, { host: null, timeUs: t, usage_user: 7 }] });
    await putFile(storage, { sequence: 3, writtenAtMs: NOW_MS - 1000, rows: [{ host: null, timeUs: t, usage_user: 8 }, { host: 'b', timeUs: t + 1, usage_user: 6, usage_idle: 40 }] });
    expect(await readRows(storage)).toHaveLength(6);
    await runAll(compactor, 'hourly');
    const files = storage.catalog.files('db', 'cpu');
    expect(files).toHaveLength(1);
    expect(isCompactedKey(files[0]?.key ?? '')).toBe(true);
    expect(files[0]?.rows).toBe(4);
    expect(await readRows(storage)).toEqual([
      JSON.stringify({ host: 'a', t, usage_user: 2, usage_idle: 90 }),
      JSON.stringify({ host: 'b', t, usage_user: 5, usage_idle: 50 }),
      JSON.stringify({ host: 'b', t: t + 1, usage_user: 6, usage_idle: 40 }),
      JSON.stringify({ host: null, t, usage_user: 8, usage_idle: null }),
    ]);
    const [job] = compactor.history({ limit: 10 });
    expect(job).toMatchObject({ state: 'succeeded', tier: 'hourly', partition: '2026/01/10/09', inputFiles: 3, outputFiles: 1, inputRows: 6, outputRows: 4 });
    expect(compactor.stats()).toMatchObject({ jobsSucceeded: 1, duplicatesRemoved: 2 });
  });

  it('keeps a write made after a compaction winning over the compacted file, and widens an int column to double', async () => {
    const { storage, compactor } = await setUp();
    const t = CLOSED_HOUR_US + 2 * MINUTE_US;
    await putFile(storage, { sequence: 1, writtenAtMs: NOW_MS - 3000, rows: [{ host: 'a', timeUs: t, usage_user: 1, usage_idle: 90 }], fieldType: 'BIGINT' });
    await putFile(storage, { sequence: 2, writtenAtMs: NOW_MS - 2000, rows: [{ host: 'a', timeUs: t, usage_user: 2.5, usage_idle: null }] });
    await runAll(compactor, 'hourly');
    // Written after the job's inputs: a later write than anything in the compacted file.
    await putFile(storage, { sequence: 3, writtenAtMs: NOW_MS - 1000, rows: [{ host: 'a', timeUs: t, usage_user: null, usage_idle: 10 }] });
    await runAll(compactor, 'hourly');
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(1);
    expect(await readRows(storage)).toEqual([JSON.stringify({ host: 'a', t, usage_user: 2.5, usage_idle: 10 })]);
    expect(storage.catalog.files('db', 'cpu')[0]?.columns).toContainEqual({ name: 'usage_user', type: 'DOUBLE' });
  });

  it('merges the newest small files of the live hour past live_max_files and leaves the closed-hour tiers alone', async () => {
    const { storage, compactor } = await setUp();
    for (let sequence = 1; sequence <= 6; sequence++) {
      await putFile(storage, { sequence, writtenAtMs: NOW_MS - 10_000 + sequence, rows: [{ host: 'a', timeUs: CURRENT_HOUR_US + sequence * MINUTE_US, usage_user: sequence, usage_idle: 0 }] });
    }
    const before = await readRows(storage);
    expect(await compactor.candidates({ tier: 'hourly' })).toEqual([]);
    await runAll(compactor);
    const files = storage.catalog.files('db', 'cpu');
    expect(files.length).toBeLessThanOrEqual(CONFIG.liveMaxFiles);
    expect(files.some((file) => isCompactedKey(file.key))).toBe(true);
    expect(await readRows(storage)).toEqual(before);
    expect(compactor.history({ limit: 10 }).map((job) => job.tier)).toEqual(['live']);
  });

  it('merges files that landed while the hour was merging once that merge ends, without another write', async () => {
    // The first job waits at its commit (queries still reading the inputs) while four more files
    // land; a live pass in that time finds the hour busy. Each live pass reads the clock once at
    // its start (nothing else does while the job waits: the lease renews every 20 s).
    let clockReads = 0;
    let commitReached: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => (commitReached = resolve));
    let endQueries: () => void = () => undefined;
    const queriesEnded = new Promise<void>((resolve) => (endQueries = resolve));
    let firstJob = true;
    const { storage, compactor } = await setUp({
      config: { liveIntervalSeconds: 1 },
      nowMs: () => {
        clockReads++;
        return NOW_MS;
      },
      queriesEnded: () => {
        if (!firstJob) return Promise.resolve();
        firstJob = false;
        commitReached();
        return queriesEnded;
      },
    });
    const put = (sequence: number): Promise<string> => putFile(storage, { sequence, writtenAtMs: NOW_MS - 10_000 + sequence, rows: [{ host: 'a', timeUs: CURRENT_HOUR_US + sequence * MINUTE_US, usage_user: sequence, usage_idle: 0 }] });
    for (let sequence = 1; sequence <= 6; sequence++) await put(sequence);
    const before = await readRows(storage);
    await atCommit;
    for (let sequence = 7; sequence <= 10; sequence++) await put(sequence);
    const readsAfterPuts = clockReads;
    await waitUntil('a live pass ran while the first job held its partition', 10_000, () => clockReads >= readsAfterPuts + 2);
    endQueries();
    await waitUntil('the hour holds at most live_max_files files', 10_000, () => storage.catalog.files('db', 'cpu').length <= CONFIG.liveMaxFiles);
    await compactor.idle();
    expect(compactor.history({ limit: 10 }).map((job) => [job.tier, job.state])).toEqual([
      ['live', 'succeeded'],
      ['live', 'succeeded'],
    ]);
    const rowsAfter = await readRows(storage);
    expect(rowsAfter).toHaveLength(10);
    for (const row of before) expect(rowsAfter).toContain(row);
  });

  it('turns a day older than daily_min_age_hours into a day file found by any range of its hours', async () => {
    const { root, storage, compactor } = await setUp();
    for (let hour = 0; hour < 3; hour++) {
      await putFile(storage, { sequence: hour + 1, writtenAtMs: NOW_MS - 5000 + hour, rows: [{ host: 'a', timeUs: OLD_DAY_US + (hour * 5 + 1) * MICROS_PER_HOUR, usage_user: hour, usage_idle: 1 }] });
    }
    const before = await readRows(storage);
    await runAll(compactor, 'daily');
    const files = storage.catalog.files('db', 'cpu');
    expect(files.map((file) => file.span)).toEqual(['day']);
    expect(files[0]?.key.startsWith('db/cpu/2026/01/07/2')).toBe(true);
    expect(await readRows(storage)).toEqual(before);
    expect(storage.catalog.filesInRange('db', 'cpu', OLD_DAY_US + 6 * MICROS_PER_HOUR, OLD_DAY_US + 6 * MICROS_PER_HOUR + 1)).toHaveLength(1);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.parquet'))).toEqual([files[0]?.key]);
  });

  it('deletes the inputs only once the queries submitted before the commit ended', async () => {
    let endQueries: () => void = () => undefined;
    const queriesEnded = new Promise<void>((resolve) => (endQueries = resolve));
    const steps: JobStep[] = [];
    let committed: () => void = () => undefined;
    const atCommit = new Promise<void>((resolve) => (committed = resolve));
    const { root, storage, compactor } = await setUp({
      queriesEnded: () => queriesEnded,
      onStep: (step) => {
        steps.push(step);
        if (step === 'committed') committed();
      },
    });
    const inputs = [
      await putFile(storage, { sequence: 1, writtenAtMs: NOW_MS - 2000, rows: [{ host: 'a', timeUs: CLOSED_HOUR_US, usage_user: 1, usage_idle: 1 }] }),
      await putFile(storage, { sequence: 2, writtenAtMs: NOW_MS - 1000, rows: [{ host: 'b', timeUs: CLOSED_HOUR_US, usage_user: 2, usage_idle: 2 }] }),
    ];
    await compactor.trigger({ tier: 'hourly' });
    await atCommit;
    const onDisk = await objectsUnder(root);
    for (const input of inputs) expect(onDisk).toContain(input);
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).not.toContain(inputs[0]);
    endQueries();
    await compactor.idle();
    const after = await objectsUnder(root);
    for (const input of inputs) expect(after).not.toContain(input);
    expect(after.filter((key) => key.includes('/_replaced/') || key.includes('/_locks/') || key.endsWith('.tmp'))).toEqual([]);
    expect(steps).toEqual(['leased', 'merged', 'manifest-written', 'output-published', 'committed', 'input-deleted', 'finished']);
  });

  it('refuses a partition whose lease another job holds, and takes it over once the lease ran out', async () => {
    const ended: { result: JobResult; inputBytes: number; outputBytes: number | null }[] = [];
    const { root, storage, compactor } = await setUp({ onJobEnded: (job, result) => ended.push({ result, inputBytes: job.inputBytes, outputBytes: job.outputBytes }) });
    await putFile(storage, { sequence: 1, writtenAtMs: NOW_MS - 2000, rows: [{ host: 'a', timeUs: CLOSED_HOUR_US, usage_user: 1, usage_idle: 1 }] });
    await putFile(storage, { sequence: 2, writtenAtMs: NOW_MS - 1000, rows: [{ host: 'b', timeUs: CLOSED_HOUR_US, usage_user: 2, usage_idle: 2 }] });
    const lock = 'db/cpu/_locks/2026-01-10.json';
    await writeRaw(root, lock, JSON.stringify({ node: 'other', job: 'c-other', expiresAtMs: NOW_MS + 60_000 }));
    await runAll(compactor, 'hourly');
    expect(compactor.history({ limit: 1 })[0]).toMatchObject({ state: 'failed' });
    expect(compactor.history({ limit: 1 })[0]?.error).toMatch(/locked by job c-other of node other/);
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(2);
    await writeRaw(root, lock, JSON.stringify({ node: 'other', job: 'c-other', expiresAtMs: NOW_MS - 1 }));
    await runAll(compactor, 'hourly');
    expect(compactor.history({ limit: 1 })[0]).toMatchObject({ state: 'succeeded' });
    expect(storage.catalog.files('db', 'cpu')).toHaveLength(1);
    expect(await objectsUnder(root)).not.toContain(lock);
    // Metrics see the refusal as a skip (another holder), the takeover as a success with its bytes.
    expect(ended.map((job) => job.result)).toEqual(['skipped', 'succeeded']);
    expect(ended[1]?.inputBytes).toBeGreaterThan(0);
    expect(ended[1]?.outputBytes).toBeGreaterThan(0);
    // The merge thread published into a block of the compactor's telemetry buffer.
    expect(compactor.telemetry.claimedThreads()).toEqual([0]);
    await waitUntil('the merge thread publishes its heap', 10_000, () => (compactor.telemetry.gaugeByThread('heapUsedBytes')[0] ?? 0) > 0);
  });

  it('refuses a trigger when compaction is disabled', async () => {
    const { compactor } = await setUp({ config: { enabled: false } });
    await expect(compactor.trigger({})).rejects.toMatchObject({ code: 'ARC_COMPACTION_DISABLED' });
  });
});

