// Proves the protocol between decoders, writers and the WAL without HTTP: requests go through a
// real IngestPipeline (decoder and writer threads, WAL on), the WAL directory is copied while the
// server runs (a crash at that moment) and replayed into a fresh store, and the rows found there
// are exactly the acknowledged ones: one-writer requests (log, then append), multi-writer requests
// (prepare, log, commit; abort when one writer refuses), and a refused one-writer request, whose
// cancel keeps it out of replay.
// Runs the real threads in-process (their files come from dist/: build first).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { loadConfig, type Config } from '@arc/config';
import { listSegmentsSync, readLogFileSync, cancelledSeqOf } from '@arc/wal';
import { writerIndexFor } from '@arc/writer';
import { PayloadFormat, type Completion } from '../src/frames.js';
import { IngestPipeline } from '../src/ingest-pipeline.js';
import type { Logger } from '../src/logger.js';
import { emptyRecoveryReport, prepareWal, replayWal } from '../src/wal-recovery.js';
import { waitUntil } from '../../../test/support/poll-until.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const packr = new Packr({ useRecords: false });

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'arc-commit-protocol-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** WAL on, two writers, no flush by age during the test: every row stays buffered until asked. */
function configIn(directory: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    cwd: directory,
    env: { ARC_DATA_DIR: directory, ARC_WAL_ENABLED: 'true', ARC_INGEST_DECODERS: '1', ARC_WRITER_THREADS: '2', ARC_WRITER_FLUSH_AGE_MS: '3600000', ...extra },
  });
}

async function startWithWal(config: Config): Promise<IngestPipeline> {
  return IngestPipeline.start(config, quiet, await prepareWal(config, quiet), await Storage.open({ root: config.storage.parquetRoot }));
}

function submit(pipeline: IngestPipeline, rows: readonly object[]): Promise<Completion> {
  return new Promise((resolve, reject) => {
    const body = packr.pack(rows.length === 1 ? rows[0] : rows);
    const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database: 'proto', nowUs: Date.now() * 1000, precision: 'ns' }, body, resolve);
    if (outcome === 'busy') reject(new Error('busy'));
  });
}

/** How long a wait for the pipeline's state may take, and how often it is read (cheap, in memory). */
const WAIT_DEADLINE_MS = 10_000;
const WAIT_POLL_MS = 5;

const row = (measurement: string, index: number): object => ({ m: measurement, t: 1_700_000_000_000 + index, fields: { v: index } });

/** Two measurement names of database 'proto' owned by different writers (of 2). */
function measurementsOnTwoWriters(): [string, string] {
  const first = 'cpu';
  for (let index = 0; ; index++) {
    const other = `mem${index}`;
    if (writerIndexFor('proto', other, 2) !== writerIndexFor('proto', first, 2)) return [first, other];
  }
}

/** The copied WAL replayed into a fresh store; the rows that reached Parquet. */
async function replayCopy(walCopy: string, extra: Record<string, string> = {}): Promise<{ rows: number; replayed: number; deadLetters: number }> {
  const directory = path.dirname(walCopy);
  const config = configIn(directory, extra);
  expect(config.wal.dir).toBe(walCopy);
  const plan = await prepareWal(config, quiet);
  if (plan === null) throw new Error('the WAL is on');
  const pipeline = await IngestPipeline.start(config, quiet, plan, await Storage.open({ root: config.storage.parquetRoot }));
  const report = emptyRecoveryReport();
  await replayWal(plan, pipeline, report, quiet);
  expect(report.state).toBe('done');
  const rows = (await pipeline.writerStats()).reduce((sum, stats) => sum + stats.rowsFlushed, 0);
  await pipeline.shutdown();
  return { rows, replayed: report.entriesReplayed, deadLetters: report.deadLetters };
}

async function copyWal(config: Config, name: string): Promise<string> {
  const target = path.join(root, name, 'wal');
  await cp(config.wal.dir, target, { recursive: true });
  return target;
}

function cancelEntries(walDirectory: string): number[] {
  return listSegmentsSync(walDirectory).flatMap((segment) => readLogFileSync(segment.path).entries.map((entry) => cancelledSeqOf(entry.payload)).filter((seq) => seq !== null));
}

describe('the commit protocol between decoders, writers and the WAL', () => {
  it('replays exactly the acknowledged rows of one-writer and multi-writer requests', async () => {
    const config = configIn(path.join(root, 'mixed'));
    const pipeline = await startWithWal(config);
    const [cpu, mem] = measurementsOnTwoWriters();
    const single = await submit(pipeline, [row(cpu, 1), row(cpu, 2)]);
    const spanning = await submit(pipeline, [row(cpu, 3), row(mem, 4), row(mem, 5)]);
    expect(single).toMatchObject({ error: null, rowCount: 2 });
    expect(spanning).toMatchObject({ error: null, rowCount: 3 });
    const walCopy = await copyWal(config, 'mixed-crash');
    await pipeline.shutdown();

    expect(await replayCopy(walCopy)).toEqual({ rows: 5, replayed: 2, deadLetters: 0 });
  });

  it('keeps a one-writer request its writer refused after it was logged out of replay (cancel entry)', async () => {
    // One measurement per database: the writer's census refuses a second one, and a replay,
    // which never applies that bound to acknowledged rows, would write it without the cancel.
    const limits = { ARC_INGEST_MAX_MEASUREMENTS_PER_DATABASE: '1' };
    const config = configIn(path.join(root, 'refused'), limits);
    const pipeline = await startWithWal(config);
    expect(await submit(pipeline, [row('cpu', 1)])).toMatchObject({ error: null, rowCount: 1 });
    const refused = await submit(pipeline, [row('disk', 2), row('disk', 3)]);
    expect(refused.error?.code).toBe('ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE');
    expect(cancelEntries(config.wal.dir)).toEqual([2]);
    const walCopy = await copyWal(config, 'refused-crash');
    // The refused entry holds nothing of 'disk': once 'cpu' is flushed no entry waits for Parquet
    // (else the WAL status would report entries waiting for a flush that never comes).
    expect(await pipeline.flushAll()).toBeNull();
    await waitUntil('no WAL entry waits for a flush', WAIT_DEADLINE_MS, () => pipeline.walStats().oldestUnflushedAtMs === 0, WAIT_POLL_MS);
    await pipeline.shutdown();

    expect(await replayCopy(walCopy, limits)).toEqual({ rows: 1, replayed: 1, deadLetters: 0 });
  });

  it('aborts a multi-writer request one writer refused: no writer keeps its rows, nothing is logged', async () => {
    const limits = { ARC_INGEST_MAX_MEASUREMENTS_PER_DATABASE: '1' };
    const config = configIn(path.join(root, 'aborted'), limits);
    const pipeline = await startWithWal(config);
    const [cpu, mem] = measurementsOnTwoWriters();
    expect(await submit(pipeline, [row(cpu, 1)])).toMatchObject({ error: null, rowCount: 1 });
    // The writer of `cpu` prepares its rows, the writer of `mem` refuses a second measurement.
    const refused = await submit(pipeline, [row(cpu, 2), row(mem, 3)]);
    expect(refused.error?.code).toBe('ARC_TOO_MANY_MEASUREMENTS_IN_DATABASE');
    const buffered = (await pipeline.writerStats()).reduce((sum, stats) => sum + stats.rowsBuffered, 0);
    expect(buffered).toBe(1);
    const walCopy = await copyWal(config, 'aborted-crash');
    await pipeline.shutdown();

    expect(await replayCopy(walCopy, limits)).toEqual({ rows: 1, replayed: 1, deadLetters: 0 });
  });

  it('does not replay rows already in Parquet (flush coverage), and replays the rest once', async () => {
    const config = configIn(path.join(root, 'covered'));
    const pipeline = await startWithWal(config);
    expect(await submit(pipeline, [row('cpu', 1), row('cpu', 2)])).toMatchObject({ error: null });
    expect(await pipeline.flushAll()).toBeNull();
    expect(await submit(pipeline, [row('cpu', 3)])).toMatchObject({ error: null });
    const walCopy = await copyWal(config, 'covered-crash');
    await pipeline.shutdown();

    // The copy's store lacks the first two rows' Parquet, but its journals (copied too) say they
    // were flushed: only the third row is replayed.
    const replay = await replayCopy(walCopy);
    expect(replay.rows).toBe(1);
  });
});
