// Proves retention policies are checked and kept: a request body with a missing, mistyped,
// out-of-range or unknown field is a 400 naming the field (defaults filled otherwise), and the
// SQLite store creates, lists, updates and deletes policies across reopening a real file, with
// 409 on a name taken and 404 on an unknown id, keeps each policy's newest runs (gone with the
// policy), and refuses a file of a newer schema.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RETENTION_EXECUTIONS_KEPT, RETENTION_FILE_NAME, RetentionErrorCode, RetentionStore, parseRetentionPolicy, type RetentionExecutionRecord } from '@arc/compaction';

let directory = '';
let path = '';
let store: RetentionStore;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'arc-retention-'));
  path = join(directory, RETENTION_FILE_NAME);
  store = RetentionStore.open(path);
});
afterEach(() => {
  store.close();
  rmSync(directory, { recursive: true, force: true });
});

function refusal(run: () => unknown): unknown {
  try {
    run();
    return null;
  } catch (error) {
    const { code, kind, details } = error as { code?: unknown; kind?: unknown; details?: unknown };
    return { code, kind, details };
  }
}

const VALID = { name: 'raw-30d', database: 'metrics', measurement: 'cpu', retention_days: 30 };

describe('parseRetentionPolicy', () => {
  it('fills the defaults: buffer_days 7, active, every measurement when none is named', () => {
    expect(parseRetentionPolicy({ name: 'all', database: 'metrics', retention_days: 90 })).toEqual({ name: 'all', database: 'metrics', measurement: null, retentionDays: 90, bufferDays: 7, isActive: true });
    expect(parseRetentionPolicy({ ...VALID, buffer_days: 0, is_active: false })).toEqual({ name: 'raw-30d', database: 'metrics', measurement: 'cpu', retentionDays: 30, bufferDays: 0, isActive: false });
  });

  it.each([
    ['retention_days', { ...VALID, retention_days: 0 }],
    ['retention_days', { ...VALID, retention_days: 1.5 }],
    ['retention_days', { ...VALID, retention_days: '30' }],
    ['retention_days', { name: 'x', database: 'metrics' }],
    ['retention_days', { ...VALID, retention_days: 36_501 }],
    ['buffer_days', { ...VALID, buffer_days: -1 }],
    ['buffer_days', { ...VALID, buffer_days: 366 }],
    ['name', { ...VALID, name: '' }],
    ['name', { ...VALID, name: 'a/b' }],
    ['database', { ...VALID, database: '1bad' }],
    ['database', { ...VALID, database: undefined }],
    ['measurement', { ...VALID, measurement: 'bad name' }],
    ['measurement', { ...VALID, measurement: 5 }],
    ['is_active', { ...VALID, is_active: 'yes' }],
    ['retention_day', { ...VALID, retention_day: 3 }],
  ])('refuses a bad %s with 400 naming it', (field, body) => {
    expect(refusal(() => parseRetentionPolicy(body))).toEqual({ code: RetentionErrorCode.badPolicy, kind: 'bad_request', details: { field } });
  });

  it('refuses a body that is not an object', () => {
    for (const body of [null, [], 'x', 3]) expect(refusal(() => parseRetentionPolicy(body))).toMatchObject({ code: RetentionErrorCode.badPolicy, kind: 'bad_request' });
  });
});

describe('RetentionStore', () => {
  it('creates, lists, updates and deletes policies, kept across reopening', () => {
    const created = store.create(parseRetentionPolicy(VALID), Date.parse('2026-12-05T10:00:00Z'));
    expect(created).toEqual({ id: 1, name: 'raw-30d', database: 'metrics', measurement: 'cpu', retentionDays: 30, bufferDays: 7, isActive: true, createdAt: '2026-12-05T10:00:00.000Z', updatedAt: '2026-12-05T10:00:00.000Z' });
    const all = store.create(parseRetentionPolicy({ name: 'all', database: 'metrics', retention_days: 365 }));
    store.close();
    store = RetentionStore.open(path);
    expect(store.list().map((policy) => policy.name)).toEqual(['raw-30d', 'all']);
    const updated = store.update(created.id, parseRetentionPolicy({ ...VALID, retention_days: 14, is_active: false }), Date.parse('2026-12-05T11:00:00Z'));
    expect(updated).toMatchObject({ id: 1, retentionDays: 14, isActive: false, createdAt: '2026-12-05T10:00:00.000Z', updatedAt: '2026-12-05T11:00:00.000Z' });
    expect(store.get(created.id)).toEqual(updated);
    store.delete(all.id);
    expect(store.list()).toEqual([updated]);
  });

  it('answers 409 for a name taken (create and rename) and 404 for an unknown id', () => {
    const first = store.create(parseRetentionPolicy(VALID));
    const second = store.create(parseRetentionPolicy({ ...VALID, name: 'other' }));
    expect(refusal(() => store.create(parseRetentionPolicy(VALID)))).toEqual({ code: RetentionErrorCode.nameTaken, kind: 'conflict', details: { name: 'raw-30d' } });
    expect(refusal(() => store.update(second.id, parseRetentionPolicy(VALID)))).toMatchObject({ code: RetentionErrorCode.nameTaken, kind: 'conflict' });
    expect(refusal(() => store.get(99))).toMatchObject({ code: RetentionErrorCode.notFound, kind: 'not_found' });
    expect(refusal(() => store.update(99, parseRetentionPolicy(VALID)))).toMatchObject({ code: RetentionErrorCode.notFound, kind: 'not_found' });
    expect(refusal(() => store.delete(99))).toMatchObject({ code: RetentionErrorCode.notFound, kind: 'not_found' });
    expect(store.list().map((policy) => policy.id)).toEqual([first.id, second.id]);
  });

  it('records runs per policy, newest first, keeps the newest RETENTION_EXECUTIONS_KEPT, and drops them with the policy', () => {
    const policy = store.create(parseRetentionPolicy(VALID));
    const other = store.create(parseRetentionPolicy({ ...VALID, name: 'other' }));
    const run = (policyId: number, filesDropped: number): RetentionExecutionRecord => ({
      policyId,
      dryRun: false,
      state: 'succeeded',
      cutoff: '2026-11-05T00:00:00.000Z',
      measurements: 1,
      filesDropped,
      filesRewritten: 1,
      rowsRemoved: null,
      bytesRemoved: 100,
      jobsFailed: 0,
      startedAt: '2026-12-05T10:00:00.000Z',
      finishedAt: '2026-12-05T10:00:01.000Z',
      error: null,
    });
    const first = store.recordExecution(run(policy.id, 1));
    expect(first).toEqual({ id: first.id, ...run(policy.id, 1) });
    store.recordExecution(run(other.id, 7));
    for (let index = 2; index <= RETENTION_EXECUTIONS_KEPT + 1; index++) store.recordExecution(run(policy.id, index));
    const listed = store.executions(policy.id, RETENTION_EXECUTIONS_KEPT);
    expect(listed).toHaveLength(RETENTION_EXECUTIONS_KEPT);
    expect([listed[0]?.filesDropped, listed.at(-1)?.filesDropped]).toEqual([RETENTION_EXECUTIONS_KEPT + 1, 2]);
    expect(store.executions(other.id, 10).map((execution) => execution.filesDropped)).toEqual([7]);
    store.delete(policy.id);
    expect(refusal(() => store.executions(policy.id, 10))).toMatchObject({ code: RetentionErrorCode.notFound });
    expect(refusal(() => store.recordExecution(run(policy.id, 1)))).toMatchObject({ code: RetentionErrorCode.notFound });
    store.close();
    const db = new Database(path);
    expect(db.prepare('SELECT policy_id, count(*) AS runs FROM retention_executions GROUP BY policy_id').all()).toEqual([{ policy_id: other.id, runs: 1 }]);
    db.close();
    store = RetentionStore.open(path);
  });

  it('refuses a file of a newer schema', () => {
    store.close();
    const db = new Database(path);
    db.pragma('user_version = 2');
    db.close();
    expect(refusal(() => (store = RetentionStore.open(path)))).toMatchObject({ code: RetentionErrorCode.storeVersion, kind: 'unavailable' });
    store = RetentionStore.open(join(directory, 'other.db'));
  });
});
