// Proves import jobs copy each source row into a real running Arc exactly once, counted back by
// SQL: across a crash between a chunk's write and its checkpoint (landed or not), a cancel and a
// resume, a failing source, since_last_run, a window changed meanwhile (in doubt: nothing written
// twice), a scheduled run skipped while one runs, and with the source read in its own thread.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollUntil, waitUntil } from '../../../test/support/poll-until.js';
import { startArc, type ArcProcess } from '../../server/test/support/arc-process.js';
import { expectCleanStopAndRemove } from '../../server/test/support/clean-stop.js';
import { ImportJobs, type ConnectionLookup, type ImportConnection, type JobInput } from '../src/import-jobs.js';
import type { ImportSink, OpenSource, SinkWriteResult } from '../src/job-runner.js';
import { JobStore } from '../src/job-store.js';
import { SourceThread } from '../src/source-thread.js';
import type { SourceDriver } from '../src/source.js';
import { arrayDriver } from './support/array-driver.mjs';
import { ArcHttpSink } from './support/arc-http-sink.js';

const driver: SourceDriver = arrayDriver;
const DRIVER_MODULE = new URL('./support/array-driver.mjs', import.meta.url).href;
const BASE_NS = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
const CONNECTION: ImportConnection = { id: 1, name: 'memory', type: 'http-json', settings: {}, secret: null };
const connections: ConnectionLookup = { get: (id) => (id === CONNECTION.id ? CONNECTION : null), active: () => null };
const inProcess: OpenSource = (connection, source, cursor, options) => driver.open(connection, source, cursor, options);
const WAIT_MS = 30_000;

/** Rows one second apart (two per instant from `sharedFrom` on, so chunks share boundary instants). */
function rowsOf(count: number, sharedFrom = Number.MAX_SAFE_INTEGER): { m: string; t: string; v: number }[] {
  return Array.from({ length: count }, (_, index) => {
    const second = index < sharedFrom ? index : sharedFrom + Math.floor((index - sharedFrom) / 2);
    return { m: 'cpu', t: (BASE_NS + BigInt(second) * 1_000_000_000n).toString(), v: index };
  });
}

function jobInput(database: string, source: Record<string, unknown>, extra: Partial<JobInput> = {}): JobInput {
  return { name: database, connection_id: 1, type: 'http-json', source, database, chunk_rows: 10, ...extra };
}

/** A sink that dies at its `crashAt`-th write: after writing it to Arc (landed) or before, then never answers. */
class CrashingSink implements ImportSink {
  private readonly inner: ArcHttpSink;
  private readonly crashAt: number;
  private readonly landed: boolean;
  private writeCount = 0;
  readonly crashed: Promise<void>;
  private reached: () => void = () => undefined;

  constructor(inner: ArcHttpSink, crashAt: number, landed: boolean) {
    this.inner = inner;
    this.crashAt = crashAt;
    this.landed = landed;
    this.crashed = new Promise((resolve) => (this.reached = resolve));
  }

  async write(database: string, body: Uint8Array): Promise<SinkWriteResult> {
    this.writeCount += 1;
    if (this.writeCount < this.crashAt) return this.inner.write(database, body);
    if (this.landed) await this.inner.write(database, body);
    this.reached();
    return new Promise(() => undefined);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  countRows(database: string, measurements: readonly string[], minTimeNs: bigint, maxTimeNs: bigint): Promise<number> {
    return this.inner.countRows(database, measurements, minTimeNs, maxTimeNs);
  }
}

let arc: ArcProcess | null = null;
let sink: ArcHttpSink;
let directory = '';

beforeAll(async () => {
  arc = await startArc();
  sink = new ArcHttpSink(arc.url);
  directory = await mkdtemp(path.join(tmpdir(), 'arc-job-runner-'));
});
afterAll(async () => {
  if (arc !== null) {
    await expectCleanStopAndRemove(arc);
  }
  await rm(directory, { recursive: true, force: true });
});

function jobsOver(store: JobStore, jobSink: ImportSink = sink, openSource: OpenSource = inProcess): ImportJobs {
  return new ImportJobs({ store, sink: jobSink, connections, log: () => undefined, openSource, driverFor: () => driver });
}

/**
 * Flushes and counts until `database`.cpu holds `rowCount` rows. Repeated because a flush can
 * answer before an acknowledged write's rows reach their writer (server/test/support/flush-until.ts);
 * a duplicate would show as more rows and fail the wait.
 */
async function expectRowsIn(database: string, rowCount: number): Promise<void> {
  await pollUntil(
    `${database}.cpu holds ${String(rowCount)} rows`,
    WAIT_MS,
    async () => {
      await sink.flush();
      return sink.countAll(database, 'cpu');
    },
    (seen) => seen === rowCount,
    50,
  );
}

describe('an import job', () => {
  for (const landed of [true, false]) {
    it(`writes each row once after a crash between a chunk's write and its checkpoint (the chunk ${landed ? 'landed' : 'did not land'})`, async () => {
      const file = path.join(directory, `crash-${String(landed)}.db`);
      const database = `crash_${String(landed)}`;
      const before = JobStore.open(file);
      const job = jobsOver(before).create(jobInput(database, { rows: rowsOf(100, 40) }));
      const crashing = new CrashingSink(sink, 4, landed);
      jobsOver(before, crashing).run(job.id, false);
      await crashing.crashed;
      // The process is gone: its store is left with the execution running and the 4th chunk pending.
      before.close();
      // A restarted server has replayed and flushed every acknowledged write before jobs resume.
      await expectRowsIn(database, landed ? 40 : 30);
      const store = JobStore.open(file);
      const jobs = jobsOver(store);
      jobs.start();
      const resumed = await jobs.settled(job.id);
      expect(resumed).toMatchObject({ status: 'succeeded', trigger: 'resume', rows: 100, chunks: 10, error: null });
      expect(store.executions(job.id, 10).map((execution) => execution.status)).toEqual(['succeeded', 'interrupted']);
      await expectRowsIn(database, 100);
      store.close();
    });
  }

  it('fails in doubt, writing nothing twice, when the window of a chunk written before a crash changed meanwhile', async () => {
    const file = path.join(directory, 'doubt.db');
    const database = 'doubt';
    const before = JobStore.open(file);
    const job = jobsOver(before).create(jobInput(database, { rows: rowsOf(50) }));
    const crashing = new CrashingSink(sink, 2, true);
    jobsOver(before, crashing).run(job.id, false);
    await crashing.crashed;
    before.close();
    // Another writer put a row into the pending chunk's window (rows 10..19).
    await sink.write(database, new TextEncoder().encode(`cpu v=-1 ${(BASE_NS + 15n * 1_000_000_000n).toString()}\n`));
    await expectRowsIn(database, 21);
    const store = JobStore.open(file);
    const jobs = jobsOver(store);
    jobs.start();
    const resumed = await jobs.settled(job.id);
    expect(resumed?.status).toBe('failed');
    expect(resumed?.error?.code).toBe('ARC_IMPORT_IN_DOUBT');
    expect(resumed?.error?.message).toContain(`cpu from ${(BASE_NS + 10n * 1_000_000_000n).toString()} to ${(BASE_NS + 19n * 1_000_000_000n).toString()} ns holds 11 rows, neither 0 (before it) nor 10 (with it)`);
    await expectRowsIn(database, 21);
    store.close();
  });

  it('stops at a cancel with its chunks checkpointed, and a resume writes the rest once', async () => {
    const store = JobStore.open(path.join(directory, 'cancel.db'));
    const jobs = jobsOver(store);
    const input = jobInput('cancelled', { rows: rowsOf(60), pause_at_chunk: 3 });
    const job = jobs.create(input);
    jobs.run(job.id, false);
    await waitUntil('two chunks checkpointed', WAIT_MS, () => store.lastExecution(job.id)?.chunks === 2);
    const cancelled = await jobs.cancel(job.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', rows: 20, error: { code: 'ARC_IMPORT_CANCELLED' } });
    await expectRowsIn('cancelled', 20);
    await expect(jobs.cancel(job.id)).rejects.toMatchObject({ code: 'ARC_IMPORT_JOB_NOT_RUNNING' });
    jobs.update(job.id, { ...input, source: { rows: rowsOf(60) } });
    const resumed = jobs.run(job.id, true);
    expect(resumed).toMatchObject({ trigger: 'resume', resumes: cancelled.id, rows: 20 });
    expect(() => jobs.run(job.id, false)).toThrow(expect.objectContaining({ code: 'ARC_IMPORT_JOB_RUNNING' }) as Error);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 60, chunks: 6, progress: 1 });
    await expectRowsIn('cancelled', 60);
    expect(() => jobs.run(job.id, true)).toThrow(expect.objectContaining({ code: 'ARC_IMPORT_NOTHING_TO_RESUME' }) as Error);
    store.close();
  });

  it("records a failing source's error, keeps what it wrote, and a resume continues from there", async () => {
    const store = JobStore.open(path.join(directory, 'failing.db'));
    const jobs = jobsOver(store);
    const input = jobInput('failing', { rows: rowsOf(30), fail_at_chunk: 2 });
    const job = jobs.create(input);
    jobs.run(job.id, false);
    const failed = await jobs.settled(job.id);
    expect(failed).toMatchObject({ status: 'failed', rows: 10, error: { code: 'ARC_IMPORT_SOURCE_FAILED', message: 'the test source refused chunk 2' } });
    jobs.update(job.id, { ...input, source: { rows: rowsOf(30) } });
    jobs.run(job.id, true);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 30 });
    await expectRowsIn('failing', 30);
    store.close();
  });

  it('reads since the last run: only rows after the newest one written, never one twice', async () => {
    const store = JobStore.open(path.join(directory, 'since.db'));
    const jobs = jobsOver(store);
    const input = jobInput('since', { rows: rowsOf(25) }, { range: { since_last_run: true } });
    const job = jobs.create(input);
    jobs.run(job.id, false);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 25, rangeStartNs: null });
    jobs.update(job.id, { ...input, source: { rows: rowsOf(42) } });
    jobs.run(job.id, false);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 17, rangeStartNs: BASE_NS + 24n * 1_000_000_000n + 1n });
    jobs.run(job.id, false);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 0 });
    await expectRowsIn('since', 42);
    store.close();
  });

  it('skips and records a scheduled run while the job runs', async () => {
    const store = JobStore.open(path.join(directory, 'schedule.db'));
    const jobs = jobsOver(store);
    const job = jobs.create(jobInput('scheduled', { rows: rowsOf(20), pause_at_chunk: 1 }, { schedule: '* * * * * *' }));
    jobs.start();
    // Every second: the first run starts and pauses, the next one finds it running.
    await waitUntil('a scheduled run skipped', WAIT_MS, () => store.executions(job.id, 10).some((execution) => execution.status === 'skipped'));
    const skipped = store.executions(job.id, 10).find((execution) => execution.status === 'skipped');
    expect(skipped).toMatchObject({ trigger: 'schedule', error: { code: 'ARC_IMPORT_JOB_RUNNING' } });
    expect(jobs.monitoring()).toMatchObject({ running: [{ job: { id: job.id } }], scheduled: [{ jobId: job.id, schedule: '* * * * * *' }] });
    await jobs.stop();
    expect(store.lastExecution(job.id)?.status).toBe('skipped');
    expect(store.executions(job.id, 10).find((execution) => execution.trigger === 'schedule' && execution.status !== 'skipped')?.status).toBe('interrupted');
    store.close();
  });

  it('reads its source in a source thread, which a cancel ends mid-read', async () => {
    const store = JobStore.open(path.join(directory, 'thread.db'));
    const threaded: OpenSource = (connection, source, cursor, options) => SourceThread.open(connection, source, cursor, options, DRIVER_MODULE);
    const jobs = jobsOver(store, sink, threaded);
    const input = jobInput('threaded', { rows: rowsOf(45), pause_at_chunk: 3 });
    const job = jobs.create(input);
    jobs.run(job.id, false);
    await waitUntil('two chunks checkpointed', WAIT_MS, () => store.lastExecution(job.id)?.chunks === 2);
    expect(await jobs.cancel(job.id)).toMatchObject({ status: 'cancelled', rows: 20 });
    jobs.update(job.id, { ...input, source: { rows: rowsOf(45) } });
    jobs.run(job.id, true);
    expect(await jobs.settled(job.id)).toMatchObject({ status: 'succeeded', rows: 45, chunks: 5 });
    await expectRowsIn('threaded', 45);
    store.close();
  });
});
