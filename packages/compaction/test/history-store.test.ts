// Proves the compaction job history keeps what it is told across reopening a real SQLite file in a
// temp directory: a job recorded at its start and end is one row in its first place, lists come
// newest first with their filters and pages, stats add up (duplicates = rows in - rows out) and
// survive pruning, and a file of a newer schema is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompactionHistory, CompactionErrorCode, HISTORY_FILE_NAME, HISTORY_LIST_LIMIT_MAX, type CompactionJob } from '@arc/compaction';
import { compactionJob as job } from './support/compaction-job.js';

let directory = '';
let path = '';
let history: CompactionHistory;


/** A job as it ends well: `inputRows` read, `outputRows` written. */
function succeeded(id: string, inputRows: number, outputRows: number, overrides: Partial<CompactionJob> = {}): CompactionJob {
  return job(id, {
    state: 'succeeded',
    inputRows,
    outputRows,
    outputFiles: 1,
    outputBytes: 400,
    startedAt: '2026-12-05T09:05:00.000Z',
    finishedAt: '2026-12-05T09:05:02.500Z',
    durationMs: 2500,
    ...overrides,
  });
}

function reopen(): void {
  history.close();
  history = CompactionHistory.open(path);
}

const ids = (jobs: readonly CompactionJob[]): string[] => jobs.map((listed) => listed.id);

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'arc-compaction-history-'));
  path = join(directory, HISTORY_FILE_NAME);
  history = CompactionHistory.open(path);
});

afterEach(() => {
  history.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('CompactionHistory', () => {
  it('reads back every field of a job after the file is reopened', () => {
    const failed = job('c-1', {
      tier: 'live',
      trigger: 'manual',
      state: 'failed',
      inputRows: 5,
      startedAt: '2026-12-05T09:00:00.000Z',
      finishedAt: '2026-12-05T09:00:01.000Z',
      durationMs: 1000,
      error: 'IO Error: disk full',
    });
    history.record(failed);
    reopen();
    expect(history.list({ limit: 10 })).toEqual([failed]);
  });

  it('keeps one row per job id: the end replaces the start, in the start\'s place', () => {
    history.record(job('c-a', { state: 'running', startedAt: '2026-12-05T09:00:00.000Z' }));
    history.record(job('c-b', { state: 'running' }));
    history.record(succeeded('c-a', 100, 90));
    reopen();
    const listed = history.list({ limit: 10 });
    // Newest first by first record: c-b was recorded after c-a, although c-a was written last.
    expect(ids(listed)).toEqual(['c-b', 'c-a']);
    expect(listed[1]).toEqual(succeeded('c-a', 100, 90));
  });

  it('lists newest first, filtered by database and measurement, limited and paged with before', () => {
    history.record(job('c-1', { database: 'metrics', measurement: 'cpu' }));
    history.record(job('c-2', { database: 'metrics', measurement: 'mem' }));
    history.record(job('c-3', { database: 'logs', measurement: 'cpu' }));
    history.record(job('c-4', { database: 'metrics', measurement: 'cpu' }));
    history.record(job('c-5', { database: 'metrics', measurement: 'cpu' }));
    expect(ids(history.list({ limit: 10 }))).toEqual(['c-5', 'c-4', 'c-3', 'c-2', 'c-1']);
    expect(ids(history.list({ limit: 2 }))).toEqual(['c-5', 'c-4']);
    expect(ids(history.list({ limit: 10, database: 'metrics' }))).toEqual(['c-5', 'c-4', 'c-2', 'c-1']);
    expect(ids(history.list({ limit: 10, measurement: 'cpu' }))).toEqual(['c-5', 'c-4', 'c-3', 'c-1']);
    expect(ids(history.list({ limit: 10, database: 'metrics', measurement: 'cpu' }))).toEqual(['c-5', 'c-4', 'c-1']);
    expect(ids(history.list({ limit: 2, database: 'metrics', measurement: 'cpu', before: 'c-4' }))).toEqual(['c-1']);
    expect(ids(history.list({ limit: 2, before: 'c-4' }))).toEqual(['c-3', 'c-2']);
    expect(history.list({ limit: 10, before: 'c-unknown' })).toEqual([]);
    expect(history.list({ limit: 10, database: 'nothing' })).toEqual([]);
  });

  it('refuses a limit outside 1..HISTORY_LIST_LIMIT_MAX (the route checks it first)', () => {
    expect(() => history.list({ limit: 0 })).toThrow(/limit/);
    expect(() => history.list({ limit: HISTORY_LIST_LIMIT_MAX + 1 })).toThrow(/limit/);
    expect(() => history.list({ limit: 1.5 })).toThrow(/limit/);
  });

  it('adds up stats over succeeded jobs, with duplicates removed equal to rows in - rows out', () => {
    expect(history.stats()).toEqual({ jobsSucceeded: 0, jobsFailed: 0, filesIn: 0, filesOut: 0, bytesIn: 0, bytesOut: 0, rowsIn: 0, rowsOut: 0, duplicatesRemoved: 0 });
    // Recorded at its start, then at its end: counted once, as it ended.
    history.record(job('c-1', { state: 'running', inputFiles: 12, inputBytes: 5000 }));
    history.record(succeeded('c-1', 1000, 900, { inputFiles: 12, inputBytes: 5000, outputFiles: 1, outputBytes: 3000 }));
    // Recorded twice as ended (the second corrects the first): the second counts, once.
    history.record(succeeded('c-2', 600, 550, { inputFiles: 4, inputBytes: 800, outputFiles: 1, outputBytes: 500 }));
    history.record(succeeded('c-2', 500, 500, { inputFiles: 3, inputBytes: 700, outputFiles: 2, outputBytes: 600 }));
    // A failed job's inputs stay: only its count moves.
    history.record(job('c-3', { state: 'failed', inputFiles: 99, inputBytes: 99_999, inputRows: 77, error: 'boom' }));
    // Running and queued jobs count nowhere yet.
    history.record(job('c-4', { state: 'running', inputFiles: 50 }));
    history.record(job('c-5'));
    // A succeeded job whose row counts are unknown adds files and bytes, not rows.
    history.record(job('c-6', { state: 'succeeded', inputFiles: 4, inputBytes: 40, outputFiles: 1, outputBytes: 30, inputRows: 10 }));
    reopen();
    const stats = history.stats();
    expect(stats).toEqual({ jobsSucceeded: 3, jobsFailed: 1, filesIn: 19, filesOut: 4, bytesIn: 5740, bytesOut: 3630, rowsIn: 1500, rowsOut: 1400, duplicatesRemoved: 100 });
    expect(stats.duplicatesRemoved).toBe(stats.rowsIn - stats.rowsOut);
  });

  it('prunes the ended jobs older than the newest ones, keeping running ones and the totals', () => {
    history.record(job('c-1', { state: 'running' }));
    history.record(succeeded('c-2', 100, 80, { inputFiles: 5 }));
    history.record(job('c-3', { state: 'failed', error: 'boom' }));
    history.record(succeeded('c-4', 10, 10, { inputFiles: 2 }));
    history.record(succeeded('c-5', 30, 25, { inputFiles: 3 }));
    const before = history.stats();
    expect(history.prune(2)).toBe(2);
    expect(ids(history.list({ limit: 10 }))).toEqual(['c-5', 'c-4', 'c-1']);
    expect(history.stats()).toEqual(before);
    // Nothing more to prune with 2 kept; a prune of everything ended leaves the running job.
    expect(history.prune(2)).toBe(0);
    expect(history.prune(0)).toBe(2);
    expect(ids(history.list({ limit: 10 }))).toEqual(['c-1']);
    reopen();
    expect(history.stats()).toEqual(before);
    // The running job ends after the prune: it counts once.
    history.record(succeeded('c-1', 7, 6, { inputFiles: 1 }));
    expect(history.stats()).toMatchObject({ jobsSucceeded: 4, jobsFailed: 1, filesIn: 11, rowsIn: 147, rowsOut: 121, duplicatesRemoved: 26 });
  });

  it('refuses a record that breaks the row\'s rules (a programmer error)', () => {
    expect(() => history.record(job('c-x', { inputFiles: -1 }))).toThrow(/inputFiles/);
    expect(() => history.record(job(''))).toThrow(/id/);
    expect(() => history.record(job('c-y', { state: 'lost' as never }))).toThrow(/CHECK/);
  });

  it('refuses a history file of a newer schema, and leaves it as it was', () => {
    history.close();
    const raw = new Database(path);
    raw.pragma('user_version = 99');
    raw.close();
    let thrown: unknown = null;
    try {
      history = CompactionHistory.open(path);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: CompactionErrorCode.historyVersion, message: expect.stringContaining('schema version 99') as unknown });
    const check = new Database(path);
    expect(check.pragma('user_version', { simple: true })).toBe(99);
    check.close();
    // afterEach closes `history`: give it a store of its own.
    history = CompactionHistory.open(join(directory, 'other.db'));
  });
});
