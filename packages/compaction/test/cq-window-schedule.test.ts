// Proves the window arithmetic of a continuous query's schedule (window_offset, resample_every,
// resample_for) on worked examples, the 400s naming each bad schedule field, that a
// continuous_queries.db of schema version 1 opens with its queries' new fields null (the span
// rolled up too), and the rule of the span rolled up: the first window run in order starts it,
// as does, before that, an execute of a range reaching the next run's first window; an execute
// of a range reaching it lowers it, one leaving a gap does not; a failed window run in order
// raises it past that window, and a reset catch-up point clears it.
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { CQ_FILE_NAME, CqStore, continuousQuerySpec, type ContinuousQuerySpec, type CqExecutionRecord, cqSchedule, runAt, runsDue, windowAt, windowsCovering, windowsOfRuns, type ContinuousQueryFields, type CqWindow } from '../src/index.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const T0 = Date.parse('2026-01-10T00:00:00Z');

function schedule(interval: string, windowOffset: string | null = null, resampleEvery: string | null = null, resampleFor: string | null = null) {
  return cqSchedule({ interval, windowOffset, resampleEvery, resampleFor });
}

const at = (window: CqWindow): string => `${new Date(window.startMs).toISOString().slice(11, 16)}-${new Date(window.endMs).toISOString().slice(11, 16)}`;

describe('continuous query schedule', () => {
  it('defaults: a run every interval computes the one window that just closed', () => {
    const plain = schedule('1h');
    expect(plain).toEqual({ intervalMs: HOUR_MS, offsetMs: 0, everyMs: HOUR_MS, forMs: HOUR_MS });
    expect(runsDue(plain, T0, T0 + 3 * HOUR_MS + 5 * MINUTE_MS, 100)).toEqual([T0 + HOUR_MS, T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS]);
    expect(windowsOfRuns(plain, [T0 + HOUR_MS]).map(at)).toEqual(['00:00-01:00']);
  });

  it('window_offset shifts windows and runs from the epoch', () => {
    const shifted = schedule('1h', '15m');
    expect(at(windowAt(shifted, T0 + 10 * MINUTE_MS))).toBe('23:15-00:15');
    expect(at(windowAt(shifted, T0 + 15 * MINUTE_MS))).toBe('00:15-01:15');
    expect(windowsCovering(shifted, T0, T0 + 2 * HOUR_MS).map(at)).toEqual(['23:15-00:15', '00:15-01:15', '01:15-02:15']);
    expect(runAt(shifted, T0 + 2 * HOUR_MS)).toBe(T0 + HOUR_MS + 15 * MINUTE_MS);
    expect(windowsOfRuns(shifted, [T0 + HOUR_MS + 15 * MINUTE_MS]).map(at)).toEqual(['00:15-01:15']);
  });

  it('resample_every below the interval recomputes the open window at each run', () => {
    const often = schedule('1h', null, '15m');
    expect(often.forMs).toBe(HOUR_MS);
    expect(runsDue(often, T0, T0 + 31 * MINUTE_MS, 100)).toEqual([T0 + 15 * MINUTE_MS, T0 + 30 * MINUTE_MS]);
    // The run at 00:30 covers [23:30, 00:30): the closed 23:00 window and the open 00:00 one.
    expect(windowsOfRuns(often, [T0 + 30 * MINUTE_MS]).map(at)).toEqual(['23:00-00:00', '00:00-01:00']);
  });

  it('resample_every above the interval runs every EVERY over the EVERY span (FOR defaults to it)', () => {
    const seldom = schedule('10m', null, '30m');
    expect(seldom.forMs).toBe(30 * MINUTE_MS);
    expect(runsDue(seldom, T0, T0 + HOUR_MS, 100)).toEqual([T0 + 30 * MINUTE_MS, T0 + HOUR_MS]);
    expect(windowsOfRuns(seldom, [T0 + HOUR_MS]).map(at)).toEqual(['00:30-00:40', '00:40-00:50', '00:50-01:00']);
  });

  it('resample_for recomputes earlier windows at each run; missed runs share their windows once, in order', () => {
    const back = schedule('1h', null, null, '2h');
    expect(windowsOfRuns(back, [T0 + 3 * HOUR_MS]).map(at)).toEqual(['01:00-02:00', '02:00-03:00']);
    expect(windowsOfRuns(back, [T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS, T0 + 4 * HOUR_MS]).map(at)).toEqual(['00:00-01:00', '01:00-02:00', '02:00-03:00', '03:00-04:00']);
    expect(runsDue(back, T0, T0 + 10 * HOUR_MS, 3)).toEqual([T0 + HOUR_MS, T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS]);
  });
});

describe('continuous query schedule fields', () => {
  const base: ContinuousQueryFields = { name: 'r', database: 'db', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: 'SELECT 1 WHERE {start_time} < {end_time}', interval: '1h' };
  const cases: [Partial<ContinuousQueryFields>, string][] = [
    [{ window_offset: '1h' }, 'window_offset'],
    [{ window_offset: '90m' }, 'window_offset'],
    [{ window_offset: '1500ms' }, 'window_offset'],
    [{ window_offset: '-5m' }, 'window_offset'],
    [{ resample_every: '500ms' }, 'resample_every'],
    [{ resample_every: 'often' }, 'resample_every'],
    [{ resample_every: '40d' }, 'resample_every'],
    [{ resample_for: '30m' }, 'resample_for'],
    [{ resample_every: '2h', resample_for: '1h' }, 'resample_for'],
    [{ resample_for: '1001h' }, 'resample_for'],
    [{ destination_database: 'bad/name' }, 'destination_database'],
    [{ destination_measurement: 'cpu' }, 'destination_measurement'],
  ];
  it.each(cases)('%j is refused naming %s', (overrides, field) => {
    const refused = continuousQuerySpec({ ...base, ...overrides });
    expect(refused).toBeInstanceOf(ArcError);
    expect((refused as ArcError).message).toContain(`'${field}'`);
    expect((refused as ArcError).details).toMatchObject({ field });
  });

  it('accepts the edges, and the same measurement name in another database', () => {
    const spec = continuousQuerySpec({ ...base, destination_database: 'rollups', destination_measurement: 'cpu', window_offset: '59m59s', resample_every: '2h', resample_for: '2h' });
    expect(spec).not.toBeInstanceOf(ArcError);
    expect(spec).toMatchObject({ destinationDatabase: 'rollups', windowOffset: '59m59s', resampleEvery: '2h', resampleFor: '2h' });
  });
});

describe('continuous_queries.db schema version 1', () => {
  it('opens with the new fields null, its query on the default schedule', async () => {
    const dir = await tempDirectory('arc-cq-v1-');
    const file = path.join(dir, CQ_FILE_NAME);
    const v1 = new Database(file);
    v1.exec(`CREATE TABLE continuous_queries (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, description TEXT, database_name TEXT NOT NULL,
      source_measurement TEXT NOT NULL, destination_measurement TEXT NOT NULL, query TEXT NOT NULL, interval_text TEXT NOT NULL, interval_ms INTEGER NOT NULL CHECK (interval_ms > 0),
      retention_days INTEGER, delete_source_after_days INTEGER, is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)), last_processed_ms INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      INSERT INTO continuous_queries (name, database_name, source_measurement, destination_measurement, query, interval_text, interval_ms, is_active, last_processed_ms, created_at, updated_at)
      VALUES ('old', 'db', 'cpu', 'cpu_1h', 'SELECT 1', '1h', 3600000, 1, ${String(T0)}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
      PRAGMA user_version = 1;`);
    v1.close();
    const store = CqStore.open(file);
    try {
      const [old] = store.list();
      expect(old).toMatchObject({ name: 'old', destinationDatabase: null, destinationDatabaseName: 'db', windowOffset: null, resampleEvery: null, resampleFor: null, lastProcessedTime: new Date(T0).toISOString(), rolledUpFromTime: null });
      expect(old?.schedule).toEqual({ intervalMs: HOUR_MS, offsetMs: 0, everyMs: HOUR_MS, forMs: HOUR_MS });
      // Version 4's templates table is there, empty.
      expect(store.templates()).toEqual([]);
    } finally {
      store.close();
    }
  });
});

describe('continuous query templates', () => {
  const spec = continuousQuerySpec({ name: 't', database: 'db', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: 'SELECT 1 WHERE {start_time} < {end_time}', interval: '1h' }) as ContinuousQuerySpec;

  it('are kept across a reopen under a unique name, listed oldest first, removed by name', async () => {
    const dir = await tempDirectory('arc-cq-templates-');
    const file = path.join(dir, CQ_FILE_NAME);
    const store = CqStore.open(file);
    try {
      store.addTemplate({ name: 'db.b', database: 'db', statement: 'CREATE CONTINUOUS QUERY b ON db BEGIN x END' }, T0);
      store.addTemplate({ name: 'db.a', database: 'db', statement: 'CREATE CONTINUOUS QUERY a ON db BEGIN y END' }, T0 + 1);
      const taken = (() => {
        try {
          store.addTemplate({ name: 'db.a', database: 'db', statement: 'other' }, T0 + 2);
          return null;
        } catch (error) {
          return error;
        }
      })();
      expect(taken).toBeInstanceOf(ArcError);
      expect((taken as ArcError).code).toBe('ARC_CQ_NAME_TAKEN');
    } finally {
      store.close();
    }
    const reopened = CqStore.open(file);
    try {
      expect(reopened.templates()).toEqual([
        { name: 'db.b', database: 'db', statement: 'CREATE CONTINUOUS QUERY b ON db BEGIN x END', createdAt: new Date(T0).toISOString() },
        { name: 'db.a', database: 'db', statement: 'CREATE CONTINUOUS QUERY a ON db BEGIN y END', createdAt: new Date(T0 + 1).toISOString() },
      ]);
      expect(reopened.removeTemplate('db.b')).toBe(true);
      expect(reopened.removeTemplate('db.b')).toBe(false);
      expect(reopened.templates().map((template) => template.name)).toEqual(['db.a']);
    } finally {
      reopened.close();
    }
  });

  it('an update of only the query text keeps the catch-up point and the span rolled up (a template re-expanded)', async () => {
    const dir = await tempDirectory('arc-cq-requery-');
    const store = CqStore.open(path.join(dir, CQ_FILE_NAME));
    try {
      const { id } = store.create(spec, T0);
      store.setProcessed(id, T0 + HOUR_MS);
      store.extendRolledUp(id, T0, T0 + HOUR_MS, T0 + HOUR_MS);
      const updated = store.update(id, { ...spec, query: 'SELECT 2 WHERE {start_time} < {end_time}' }, T0 + 2 * HOUR_MS);
      expect(updated).toMatchObject({ query: 'SELECT 2 WHERE {start_time} < {end_time}', lastProcessedTime: new Date(T0 + HOUR_MS).toISOString(), rolledUpFromTime: new Date(T0).toISOString() });
    } finally {
      store.close();
    }
  });
});

describe('the span a continuous query rolled up', () => {
  const spec = continuousQuerySpec({ name: 'r', database: 'db', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: 'SELECT 1 WHERE {start_time} < {end_time}', interval: '1h' }) as ContinuousQuerySpec;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const run = (cqId: number, trigger: CqExecutionRecord['trigger'], status: CqExecutionRecord['status'], startMs: number): CqExecutionRecord => ({
    cqId,
    executionId: 'cq-test',
    trigger,
    status,
    startTime: iso(startMs),
    endTime: iso(startMs + HOUR_MS),
    recordsRead: 0,
    recordsWritten: 0,
    recordsRemoved: 0,
    executedAt: iso(startMs + HOUR_MS),
    durationMs: 1,
    error: status === 'failed' ? 'boom' : null,
  });

  it('starts at the first window run in order, grows back only by ranges that reach it', async () => {
    const dir = await tempDirectory('arc-cq-rolled-up-');
    const store = CqStore.open(path.join(dir, CQ_FILE_NAME));
    try {
      const { id } = store.create(spec, T0);
      const from = (): string | null => store.get(id).rolledUpFromTime;
      // Before the scheduler ran a window, no span: an execute of a range ending before the first
      // window its next run computes (T0) does not start one.
      store.recordExecution(run(id, 'manual', 'completed', T0 - 5 * HOUR_MS));
      store.extendRolledUp(id, T0 - 5 * HOUR_MS, T0 - 4 * HOUR_MS, T0);
      expect(from()).toBeNull();
      // A window in order that failed leaves none either; the next that completed starts it.
      store.recordExecution(run(id, 'schedule', 'failed', T0), T0 + HOUR_MS, true);
      expect(from()).toBeNull();
      store.recordExecution(run(id, 'schedule', 'completed', T0 + HOUR_MS), T0 + 2 * HOUR_MS, true);
      expect(from()).toBe(iso(T0 + HOUR_MS));
      store.recordExecution(run(id, 'schedule', 'completed', T0 + 2 * HOUR_MS), T0 + 3 * HOUR_MS, true);
      expect(from()).toBe(iso(T0 + HOUR_MS));
      // A range ending an hour before the span leaves a gap: no change.
      store.extendRolledUp(id, T0 - 3 * HOUR_MS, T0, T0 + 3 * HOUR_MS);
      expect(from()).toBe(iso(T0 + HOUR_MS));
      // One ending at its start (contiguous) lowers it; one overlapping it too; one inside it changes nothing.
      store.extendRolledUp(id, T0, T0 + HOUR_MS, T0 + 3 * HOUR_MS);
      expect(from()).toBe(iso(T0));
      store.extendRolledUp(id, T0 - 3 * HOUR_MS, T0 + 2 * HOUR_MS, T0 + 3 * HOUR_MS);
      expect(from()).toBe(iso(T0 - 3 * HOUR_MS));
      store.extendRolledUp(id, T0 - HOUR_MS, T0 + HOUR_MS, T0 + 3 * HOUR_MS);
      expect(from()).toBe(iso(T0 - 3 * HOUR_MS));
      // A failed execute of a window inside the span keeps it (that window keeps its rollup)...
      store.recordExecution(run(id, 'manual', 'failed', T0 - 2 * HOUR_MS));
      expect(from()).toBe(iso(T0 - 3 * HOUR_MS));
      // ...a window run in order or for late rows that failed raises it past the window.
      store.recordExecution(run(id, 'schedule', 'failed', T0 + 3 * HOUR_MS), T0 + 4 * HOUR_MS, true);
      expect(from()).toBe(iso(T0 + 4 * HOUR_MS));
      store.recordExecution(run(id, 'late', 'failed', T0 + 4 * HOUR_MS));
      expect(from()).toBe(iso(T0 + 5 * HOUR_MS));
      // A change of the source resets the catch-up point and the span with it; a new description keeps both.
      store.update(id, { ...spec, description: 'hourly' }, T0);
      expect(from()).toBe(iso(T0 + 5 * HOUR_MS));
      store.update(id, { ...spec, sourceMeasurement: 'mem' }, T0);
      expect(store.get(id)).toMatchObject({ lastProcessedTime: null, rolledUpFromTime: null });
      // Then a range reaching the first window the next run computes starts the span: the runs continue it.
      store.extendRolledUp(id, T0 - 6 * HOUR_MS, T0 + 6 * HOUR_MS, T0 + 6 * HOUR_MS);
      expect(from()).toBe(iso(T0 - 6 * HOUR_MS));
    } finally {
      store.close();
    }
  });
});
