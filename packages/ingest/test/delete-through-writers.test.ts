// Proves that deleting a database or a measurement goes through the writers with writes in
// flight: rows acknowledged before the delete never reappear (not flushed after it, not replayed
// from a copy of the WAL taken right after it, as after a crash), every row submitted after it is
// kept, and the only refusal writes meet meanwhile is 409 ARC_BEING_DELETED. Drives a real IngestPipeline (threads, WAL on) without
// HTTP and reads the Parquet files back with DuckDB (the threads come from dist/: build first).
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { loadConfig, type Config } from '@arc/config';
import { PayloadFormat, type Completion } from '../src/frames.js';
import { IngestPipeline } from '../src/ingest-pipeline.js';
import type { Logger } from '../src/logger.js';
import { emptyRecoveryReport, prepareWal, replayWal } from '../src/wal-recovery.js';
import { waitUntil } from '../../../test/support/poll-until.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const packr = new Packr({ useRecords: false });

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'arc-delete-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * WAL on, two decoders and two writers; small flushes by size, so files appear during the run: 60
 * to 74 requests of 10 rows per measurement (when the delete starts) leave 100 to 240 buffered.
 */
function configIn(directory: string): Config {
  return loadConfig({
    cwd: directory,
    env: { ARC_DATA_DIR: directory, ARC_WAL_ENABLED: 'true', ARC_INGEST_DECODERS: '2', ARC_WRITER_THREADS: '2', ARC_WRITER_FLUSH_ROWS: '250', ARC_WRITER_FLUSH_AGE_MS: '3600000' },
  });
}

/** Which ids were acknowledged when, relative to the delete; every refusal's code. */
interface WriteLog {
  readonly ackedBeforeDelete: number[];
  readonly submittedAfterDelete: number[];
  readonly refusals: string[];
}

function submit(pipeline: IngestPipeline, database: string, rows: readonly object[]): Promise<Completion> {
  return new Promise((resolve, reject) => {
    const outcome = pipeline.submit({ format: PayloadFormat.msgpack, database, nowUs: Date.now() * 1000, precision: 'ns' }, packr.pack(rows), resolve);
    if (outcome === 'busy') reject(new Error('busy'));
  });
}

/** A request of 20 rows with ids from `id`, to measurements cpu and mem (two writers, often). */
function rowsFrom(id: number): object[] {
  return Array.from({ length: 20 }, (_, index) => ({ m: index % 2 === 0 ? 'cpu' : 'mem', t: 1_700_000_000_000 + id + index, fields: { id: id + index } }));
}

/** Where the delete is; `paused`: set while the delete runs to submit nothing new meanwhile. */
interface Phase {
  delete: 'before' | 'running' | 'after';
  paused: Promise<void> | null;
}

/**
 * Writes to `database` from four loops until `stop` resolves; records each request as
 * acknowledged before the delete began, or submitted after it was acknowledged.
 */
async function writeDuring(pipeline: IngestPipeline, database: string, phase: Phase, stop: Promise<void>, log: WriteLog): Promise<void> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  let nextId = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      if (phase.paused !== null) await phase.paused;
      const id = (nextId += 20);
      const submittedIn = phase.delete;
      const completion = await submit(pipeline, database, rowsFrom(id));
      if (completion.error !== null) {
        log.refusals.push(completion.error.code);
        continue;
      }
      if (submittedIn === 'after') log.submittedAfterDelete.push(id);
      else if (phase.delete === 'before') log.ackedBeforeDelete.push(id);
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
}

/** The ids in the Parquet files of `database` (each request's first id: a multiple of 20). */
async function idsOnDisk(parquetRoot: string, database: string, measurement = ''): Promise<Set<number>> {
  const directory = path.join(parquetRoot, database, measurement);
  const names = await readdir(directory, { recursive: true }).catch(() => [] as string[]);
  const files = names.filter((name) => name.endsWith('.parquet')).map((name) => `'${path.join(directory, name)}'`);
  if (files.length === 0) return new Set();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT DISTINCT id - id % 20 AS request FROM read_parquet([${files.join(', ')}])`);
    return new Set(reader.getRows().map((row) => Number(row[0])));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** How long a wait for the writers' progress may take, and how often it is read (cheap, in memory). */
const WAIT_DEADLINE_MS = 30_000;
const WAIT_POLL_MS = 5;

describe('deletes through the writers', () => {
  it('deletes a database under load: nothing acknowledged before comes back, nothing after is lost, even after a crash', async () => {
    const config = configIn(path.join(root, 'database'));
    const pipeline = await IngestPipeline.start(config, quiet, await prepareWal(config, quiet), await Storage.open({ root: config.storage.parquetRoot }));
    const log: WriteLog = { ackedBeforeDelete: [], submittedAfterDelete: [], refusals: [] };
    let resume = (): void => undefined;
    const phase: Phase = { delete: 'before', paused: null };
    let stopWrites = (): void => undefined;
    const writes = writeDuring(pipeline, 'gone', phase, new Promise<void>((resolve) => (stopWrites = resolve)), log);
    // Rows in files and in buffers (files every 250 rows per measurement, the rest buffered).
    await waitUntil('60 writes acknowledged before the delete', WAIT_DEADLINE_MS, () => log.ackedBeforeDelete.length >= 60, WAIT_POLL_MS);
    // The requests in flight now meet the delete; no new one starts until the WAL is copied, so no
    // flush after the delete can record coverage that would hide rows replay must not bring back.
    phase.paused = new Promise<void>((resolve) => (resume = resolve));
    phase.delete = 'running';
    expect(await pipeline.deleteDatabase('gone')).toBeNull();
    const walCopy = path.join(root, 'database-crash', 'wal');
    await cp(config.wal.dir, walCopy, { recursive: true });
    phase.delete = 'after';
    phase.paused = null;
    resume();
    await waitUntil('20 writes submitted after the delete began', WAIT_DEADLINE_MS, () => log.submittedAfterDelete.length >= 20, WAIT_POLL_MS);
    stopWrites();
    await writes;
    expect(await pipeline.shutdown()).toMatchObject({ flushError: null, rowsUnflushed: 0 });

    expect(new Set(log.refusals)).toEqual(new Set(log.refusals.length === 0 ? [] : ['ARC_BEING_DELETED']));
    const onDisk = await idsOnDisk(config.storage.parquetRoot, 'gone');
    for (const id of log.ackedBeforeDelete) expect(onDisk.has(id), `request ${id} acknowledged before the delete`).toBe(false);
    for (const id of log.submittedAfterDelete) expect(onDisk.has(id), `request ${id} submitted after the delete`).toBe(true);

    // A crash right after: the WAL replayed into an empty store brings back no row from before.
    const replayConfig = configIn(path.join(root, 'database-crash'));
    const plan = await prepareWal(replayConfig, quiet);
    const replayer = await IngestPipeline.start(replayConfig, quiet, plan, await Storage.open({ root: replayConfig.storage.parquetRoot }));
    const report = emptyRecoveryReport();
    if (plan !== null) await replayWal(plan, replayer, report, quiet);
    await replayer.shutdown();
    const replayed = await idsOnDisk(replayConfig.storage.parquetRoot, 'gone');
    for (const id of log.ackedBeforeDelete) expect(replayed.has(id), `request ${id} acknowledged before the delete, replayed`).toBe(false);
  });

  it('deletes one measurement under load and leaves the others alone', async () => {
    const config = configIn(path.join(root, 'measurement'));
    const pipeline = await IngestPipeline.start(config, quiet, await prepareWal(config, quiet), await Storage.open({ root: config.storage.parquetRoot }));
    const log: WriteLog = { ackedBeforeDelete: [], submittedAfterDelete: [], refusals: [] };
    // Writes go on while the delete runs: the ones it meets are refused, or land after it.
    const phase: Phase = { delete: 'before', paused: null };
    let stopWrites = (): void => undefined;
    const writes = writeDuring(pipeline, 'kept', phase, new Promise<void>((resolve) => (stopWrites = resolve)), log);
    await waitUntil('60 writes acknowledged before the delete', WAIT_DEADLINE_MS, () => log.ackedBeforeDelete.length >= 60, WAIT_POLL_MS);
    phase.delete = 'running';
    expect(await pipeline.deleteMeasurement('kept', 'cpu')).toBeNull();
    phase.delete = 'after';
    await waitUntil('20 writes submitted after the delete began', WAIT_DEADLINE_MS, () => log.submittedAfterDelete.length >= 20, WAIT_POLL_MS);
    stopWrites();
    await writes;
    expect(await pipeline.shutdown()).toMatchObject({ flushError: null, rowsUnflushed: 0 });

    expect(new Set(log.refusals)).toEqual(new Set(log.refusals.length === 0 ? [] : ['ARC_BEING_DELETED']));
    const cpu = await idsOnDisk(config.storage.parquetRoot, 'kept', 'cpu');
    const mem = await idsOnDisk(config.storage.parquetRoot, 'kept', 'mem');
    for (const id of log.ackedBeforeDelete) {
      expect(cpu.has(id), `cpu rows of request ${id} acknowledged before the delete`).toBe(false);
      expect(mem.has(id), `mem rows of request ${id}`).toBe(true);
    }
    for (const id of log.submittedAfterDelete) expect(cpu.has(id) && mem.has(id), `request ${id} submitted after the delete`).toBe(true);
  });
});
