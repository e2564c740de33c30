// Proves the job store keeps jobs and executions across reopenings of its SQLite file: names are
// unique, a checkpoint and its counts move in one statement, a pending chunk survives a reopen, a
// resume carries over what it continues, running executions become interrupted at the next open,
// and history is trimmed to JOB_EXECUTIONS_KEPT; a file of a newer Arc is refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { ArcError } from '@arc/errors';
import { errorOf } from './support/arc-error-of.js';
import { JobStore, type JobSpec } from '../src/job-store.js';
import { JOB_EXECUTIONS_KEPT } from '../src/limits.js';

const spec: JobSpec = {
  name: 'cpu-copy',
  connectionId: 3,
  type: 'influx1',
  source: { measurements: ['cpu'] },
  database: 'metrics',
  rangeStartNs: 1_700_000_000_000_000_000n,
  rangeEndNs: 9_007_199_254_740_993_000n,
  sinceLastRun: false,
  schedule: '*/5 * * * *',
  enabled: true,
  chunkRows: 1000,
};

let directory = '';
let file = '';
beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'arc-job-store-'));
  file = path.join(directory, 'import_jobs.db');
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('JobStore', () => {
  it('keeps a job as given, ns beyond 2^53 included, and refuses a second job of the same name', () => {
    const store = JobStore.open(file);
    const job = store.create(spec);
    store.close();
    const reopened = JobStore.open(file);
    expect(reopened.get(job.id)).toMatchObject({ ...spec, id: job.id });
    expect(() => reopened.create(spec)).toThrow(ArcError);
    try {
      reopened.create(spec);
    } catch (error) {
      expect((error as ArcError).code).toBe('ARC_IMPORT_JOB_NAME_TAKEN');
    }
    expect(reopened.jobsUsing(3)).toEqual(['cpu-copy']);
    expect(reopened.jobsUsing(4)).toEqual([]);
    reopened.close();
  });

  it('moves the checkpoint and the counts together, and keeps a pending chunk across a reopen', () => {
    const store = JobStore.open(file);
    const job = store.create(spec);
    const execution = store.start({ jobId: job.id, trigger: 'manual', rangeStartNs: 10n, rangeEndNs: 20n, resumes: null });
    store.checkpoint(execution.id, { cursor: '{"next":5}', rows: 5, rowsRejected: 1, sourceBytes: 100, maxTimeNs: 14n, progress: 0.5 });
    store.setPending(execution.id, { cursor: '{"next":9}', minTimeNs: 15n, maxTimeNs: 18n, measurements: ['cpu'], rowCount: 4, sourceBytes: 80, progress: 0.9, preCount: 7 });
    store.close();
    const reopened = JobStore.open(file);
    const [interrupted] = reopened.interruptRunning();
    expect(interrupted).toMatchObject({ id: execution.id, status: 'interrupted', checkpoint: '{"next":5}', rows: 5, rowsRejected: 1, bytes: 100, chunks: 1, maxTimeNs: 14n, progress: 0.5, rangeStartNs: 10n, rangeEndNs: 20n });
    expect(interrupted?.pending).toEqual({ cursor: '{"next":9}', minTimeNs: 15n, maxTimeNs: 18n, measurements: ['cpu'], rowCount: 4, sourceBytes: 80, progress: 0.9, preCount: 7 });
    expect(reopened.execution(execution.id)?.status).toBe('interrupted');
    // A resume carries the checkpoint, the counts and the in-doubt chunk; the old one no longer holds it.
    const resumed = reopened.start({ jobId: job.id, trigger: 'resume', rangeStartNs: 10n, rangeEndNs: 20n, resumes: interrupted ?? null });
    expect(resumed).toMatchObject({ status: 'running', trigger: 'resume', resumes: execution.id, checkpoint: '{"next":5}', rows: 5, maxTimeNs: 14n });
    expect(resumed.pending?.preCount).toBe(7);
    expect(reopened.execution(execution.id)?.pending).toBeNull();
    reopened.checkpoint(resumed.id, { cursor: '{"next":9}', rows: 4, rowsRejected: 0, sourceBytes: 80, maxTimeNs: 18n, progress: 0.9 });
    const finished = reopened.finish(resumed.id, 'succeeded', null);
    expect(finished).toMatchObject({ status: 'succeeded', rows: 9, chunks: 2, maxTimeNs: 18n, progress: 1, pending: null, error: null });
    expect(reopened.lastSucceededWithRows(job.id)?.id).toBe(resumed.id);
    reopened.close();
  });

  it('refuses a file written by a newer Arc with ARC_IMPORT_STORE_NEWER naming the file', () => {
    JobStore.open(file).close();
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    const caught = errorOf(() => JobStore.open(file));
    expect(caught).toBeInstanceOf(ArcError);
    expect(caught.code).toBe('ARC_IMPORT_STORE_NEWER');
    expect(caught.message).toContain(file);
  });

  it('lists executions newest first, keeps JOB_EXECUTIONS_KEPT per job, and removes them with the job', () => {
    const store = JobStore.open(file);
    const job = store.create(spec);
    for (let index = 0; index < JOB_EXECUTIONS_KEPT + 5; index++) {
      const execution = store.start({ jobId: job.id, trigger: 'manual', rangeStartNs: null, rangeEndNs: null, resumes: null });
      store.finish(execution.id, 'failed', { code: 'ARC_IMPORT_SOURCE_FAILED', message: `run ${String(index)}` });
    }
    store.recordSkipped(job.id, 'schedule', { code: 'ARC_IMPORT_JOB_RUNNING', message: 'skipped' });
    const listed = store.executions(job.id, 1000);
    expect(listed).toHaveLength(JOB_EXECUTIONS_KEPT);
    expect(listed[0]).toMatchObject({ status: 'skipped', trigger: 'schedule', error: { code: 'ARC_IMPORT_JOB_RUNNING', message: 'skipped' } });
    expect(listed[1]?.error?.message).toBe(`run ${String(JOB_EXECUTIONS_KEPT + 4)}`);
    expect(store.delete(job.id)).toBe(true);
    expect(store.executions(job.id, 1000)).toEqual([]);
    expect(store.delete(job.id)).toBe(false);
    store.close();
  });
});
