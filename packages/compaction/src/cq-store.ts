import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { isUniqueViolation, openSqliteFile } from './sqlite-file.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { CqErrorCode } from './cq-error-codes.js';
import { cqSchedule, parseDurationMs, type ContinuousQuery, type ContinuousQuerySpec } from './cq-definition.js';
import { CQ_DEFINITIONS_MAX, CQ_EXECUTIONS_KEPT } from './limits.js';

/**
 * Continuous queries and their window runs live in their own SQLite file,
 * `<data_dir>/continuous_queries.db`, apart from compaction.db and retention.db: their schema
 * moves on its own. `PRAGMA user_version` is the schema's version (a newer file is refused).
 * `last_processed_ms` is the end of the last window the scheduler ran in order: after a restart
 * the scheduler resumes there (catch-up), so it is written in the same transaction as the run's
 * record, after the window's replacement committed. It is the last run time done in order:
 * with the default schedule (runs every interval, no offset) the end of the last window run.
 *
 * Version 2 added the schedule's columns (destination_database, window_offset, resample_every,
 * resample_for): a version-1 file gets them as NULL (the defaults, its queries run as before).
 *
 * Version 3 added `rolled_up_from_ms`, the start of the one contiguous span of windows the query
 * has rolled up, ending at its catch-up point: delete_source_after_days removes source rows only
 * inside it. The scheduler sets it to its first window's start (a successful run in order while
 * it is NULL); a successful execute of a range [a, b) with b >= it lowers it to a (while it is
 * NULL, b at or after the first window of the next run in order starts it at a); a window the
 * scheduler fails raises it to that window's end (the span no longer reaches past the gap); a change that
 * resets the catch-up point resets it to NULL. An older file's queries get NULL: no record proves
 * what they rolled up before (a query may have been inactive, its windows failed, its catch-up
 * point reset, the scheduler off, and runs older than CQ_EXECUTIONS_KEPT are gone), so the
 * window of their created_at could claim a span never rolled up. NULL makes the first window the
 * scheduler runs after the upgrade the start: source rows before it are kept until an execute
 * rolls them up.
 *
 * Version 4 added `cq_templates`: definitions a client keeps in another language (an InfluxQL
 * CREATE CONTINUOUS QUERY whose `*` or FROM /regex/ is expanded over the data), stored as that
 * client's text under a name it chooses. The store does not read them: the server re-expands
 * each into continuous queries as measurements, fields and tags appear. An older file gets the
 * table empty (CREATE TABLE IF NOT EXISTS).
 */
const CQ_SCHEMA_VERSION = 4;

/** The store's file in the data directory. */
export const CQ_FILE_NAME = 'continuous_queries.db';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS continuous_queries (
  id                       INTEGER PRIMARY KEY AUTOINCREMENT,
  name                     TEXT NOT NULL UNIQUE,
  description              TEXT,
  database_name            TEXT NOT NULL,
  source_measurement       TEXT NOT NULL,
  destination_measurement  TEXT NOT NULL,
  query                    TEXT NOT NULL,
  interval_text            TEXT NOT NULL,
  interval_ms              INTEGER NOT NULL CHECK (interval_ms > 0),
  retention_days           INTEGER,
  delete_source_after_days INTEGER,
  is_active                INTEGER NOT NULL CHECK (is_active IN (0, 1)),
  destination_database     TEXT,
  window_offset            TEXT,
  resample_every           TEXT,
  resample_for             TEXT,
  last_processed_ms        INTEGER,
  rolled_up_from_ms        INTEGER,
  created_at               TEXT NOT NULL,
  updated_at               TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cq_executions (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  cq_id           INTEGER NOT NULL REFERENCES continuous_queries (id) ON DELETE CASCADE,
  execution_id    TEXT NOT NULL,
  trigger         TEXT NOT NULL CHECK (trigger IN ('schedule', 'late', 'manual')),
  status          TEXT NOT NULL CHECK (status IN ('completed', 'dry_run', 'failed')),
  start_time      TEXT NOT NULL,
  end_time        TEXT NOT NULL,
  records_read    INTEGER,
  records_written INTEGER,
  records_removed INTEGER,
  executed_at     TEXT NOT NULL,
  duration_ms     INTEGER NOT NULL,
  error           TEXT
);
CREATE INDEX IF NOT EXISTS cq_executions_cq ON cq_executions (cq_id, id);
CREATE TABLE IF NOT EXISTS cq_templates (
  name          TEXT PRIMARY KEY,
  database_name TEXT NOT NULL,
  statement     TEXT NOT NULL,
  created_at    TEXT NOT NULL
);
`;

/** The columns versions 2 and 3 added, with their types, for an older file (SQLite has no ADD COLUMN IF NOT EXISTS). */
const COLUMNS_ADDED = [
  ['destination_database', 'TEXT'],
  ['window_offset', 'TEXT'],
  ['resample_every', 'TEXT'],
  ['resample_for', 'TEXT'],
  ['rolled_up_from_ms', 'INTEGER'],
] as const;

function addMissingColumns(db: Database): void {
  const present = new Set((db.pragma('table_info(continuous_queries)') as { name: string }[]).map((column) => column.name));
  db.transaction(() => {
    for (const [column, type] of COLUMNS_ADDED) if (!present.has(column)) db.exec(`ALTER TABLE continuous_queries ADD COLUMN ${column} ${type}`);
  })();
}

/** Why a window ran: the schedule (in order, catch-up included), late data in a window already run, or a request. */
export type CqTrigger = 'schedule' | 'late' | 'manual';

/** One run of one window, as `GET /api/v1/continuous_queries/{id}/executions` lists it. */
export interface CqExecution {
  readonly id: number;
  readonly cqId: number;
  readonly executionId: string;
  readonly trigger: CqTrigger;
  readonly status: 'completed' | 'dry_run' | 'failed';
  readonly startTime: string;
  readonly endTime: string;
  /** Source rows the window's query read (from the files' row counts); null when it failed before. */
  readonly recordsRead: number | null;
  /** Rows the window wrote to the destination (a dry run: would write). */
  readonly recordsWritten: number | null;
  /** Destination rows of the window it replaced (a dry run: would replace). */
  readonly recordsRemoved: number | null;
  readonly executedAt: string;
  readonly durationMs: number;
  readonly error: string | null;
}

export type CqExecutionRecord = Omit<CqExecution, 'id'>;

/** A definition kept in a client's own language (cq_templates): the server expands it into continuous queries. */
export interface CqTemplate {
  readonly name: string;
  readonly database: string;
  readonly statement: string;
  readonly createdAt: string;
}

interface TemplateRow {
  readonly name: string;
  readonly database_name: string;
  readonly statement: string;
  readonly created_at: string;
}

interface CqRow {
  readonly id: number;
  readonly name: string;
  readonly description: string | null;
  readonly database_name: string;
  readonly source_measurement: string;
  readonly destination_measurement: string;
  readonly query: string;
  readonly interval_text: string;
  readonly interval_ms: number;
  readonly retention_days: number | null;
  readonly delete_source_after_days: number | null;
  readonly is_active: number;
  readonly destination_database: string | null;
  readonly window_offset: string | null;
  readonly resample_every: string | null;
  readonly resample_for: string | null;
  readonly last_processed_ms: number | null;
  readonly rolled_up_from_ms: number | null;
  readonly created_at: string;
  readonly updated_at: string;
}

interface ExecutionRow {
  readonly id: number;
  readonly cq_id: number;
  readonly execution_id: string;
  readonly trigger: CqTrigger;
  readonly status: CqExecution['status'];
  readonly start_time: string;
  readonly end_time: string;
  readonly records_read: number | null;
  readonly records_written: number | null;
  readonly records_removed: number | null;
  readonly executed_at: string;
  readonly duration_ms: number;
  readonly error: string | null;
}

function cqOf(row: CqRow): ContinuousQuery {
  const schedule = { interval: row.interval_text, windowOffset: row.window_offset, resampleEvery: row.resample_every, resampleFor: row.resample_for };
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    database: row.database_name,
    sourceMeasurement: row.source_measurement,
    destinationMeasurement: row.destination_measurement,
    query: row.query,
    interval: row.interval_text,
    intervalMs: row.interval_ms,
    retentionDays: row.retention_days,
    deleteSourceAfterDays: row.delete_source_after_days,
    isActive: row.is_active === 1,
    destinationDatabase: row.destination_database,
    destinationDatabaseName: row.destination_database ?? row.database_name,
    windowOffset: row.window_offset,
    resampleEvery: row.resample_every,
    resampleFor: row.resample_for,
    schedule: cqSchedule(schedule),
    lastProcessedTime: row.last_processed_ms === null ? null : new Date(row.last_processed_ms).toISOString(),
    rolledUpFromTime: row.rolled_up_from_ms === null ? null : new Date(row.rolled_up_from_ms).toISOString(),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function templateOf(row: TemplateRow): CqTemplate {
  return { name: row.name, database: row.database_name, statement: row.statement, createdAt: row.created_at };
}

function executionOf(row: ExecutionRow): CqExecution {
  return {
    id: row.id,
    cqId: row.cq_id,
    executionId: row.execution_id,
    trigger: row.trigger,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    recordsRead: row.records_read,
    recordsWritten: row.records_written,
    recordsRemoved: row.records_removed,
    executedAt: row.executed_at,
    durationMs: row.duration_ms,
    error: row.error,
  };
}

function paramsOf(spec: ContinuousQuerySpec): Record<string, string | number | null> {
  const intervalMs = parseDurationMs(spec.interval);
  assert.ok(intervalMs !== null, 'a spec has a checked interval');
  return {
    name: spec.name,
    description: spec.description,
    database_name: spec.database,
    source_measurement: spec.sourceMeasurement,
    destination_measurement: spec.destinationMeasurement,
    query: spec.query,
    interval_text: spec.interval,
    interval_ms: intervalMs,
    retention_days: spec.retentionDays,
    delete_source_after_days: spec.deleteSourceAfterDays,
    is_active: spec.isActive ? 1 : 0,
    destination_database: spec.destinationDatabase,
    window_offset: spec.windowOffset,
    resample_every: spec.resampleEvery,
    resample_for: spec.resampleFor,
  };
}

export function cqNotFound(id: number): ArcError {
  return new ArcError(ErrorKind.notFound, CqErrorCode.notFound, `No continuous query has id ${String(id)}`, { id });
}

function nameTaken(name: string): ArcError {
  return new ArcError(ErrorKind.conflict, CqErrorCode.nameTaken, `A continuous query named '${name}' exists already`, { name });
}


/** The continuous queries (CRUD of `/api/v1/continuous_queries`) and their window runs; specs come checked. */
export class CqStore {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #update: Statement;
  readonly #delete: Statement;
  readonly #get: Statement;
  readonly #getByName: Statement;
  readonly #list: Statement;
  readonly #count: Statement;
  readonly #setProcessed: Statement;
  readonly #startRolledUp: Statement;
  readonly #lowerRolledUp: Statement;
  readonly #raiseRolledUp: Statement;
  readonly #insertExecution: Statement;
  readonly #executions: Statement;
  readonly #pruneExecutions: Statement;
  readonly #insertTemplate: Statement;
  readonly #deleteTemplate: Statement;
  readonly #templates: Statement;
  readonly #countTemplates: Statement;

  private constructor(db: Database) {
    this.#db = db;
    const fields = 'name, description, database_name, source_measurement, destination_measurement, query, interval_text, interval_ms, retention_days, delete_source_after_days, is_active, destination_database, window_offset, resample_every, resample_for';
    this.#insert = db.prepare(
      `INSERT INTO continuous_queries (${fields}, created_at, updated_at)
       VALUES (@name, @description, @database_name, @source_measurement, @destination_measurement, @query, @interval_text, @interval_ms, @retention_days, @delete_source_after_days, @is_active, @destination_database, @window_offset, @resample_every, @resample_for, @now, @now) RETURNING *`,
    );
    // A changed interval, offset or run period moves the windows or the runs off the grid the
    // catch-up point lies on, as a changed source changes what they read: catch-up starts afresh
    // from now, and so does the span rolled up (the rows it covered were rolled up on another grid or read elsewhere).
    this.#update = db.prepare(
      `UPDATE continuous_queries SET name = @name, description = @description, database_name = @database_name, source_measurement = @source_measurement,
       destination_measurement = @destination_measurement, query = @query, interval_text = @interval_text,
       last_processed_ms = CASE WHEN interval_ms = @interval_ms AND database_name = @database_name AND source_measurement = @source_measurement
         AND window_offset IS @window_offset AND resample_every IS @resample_every THEN last_processed_ms ELSE NULL END,
       rolled_up_from_ms = CASE WHEN interval_ms = @interval_ms AND database_name = @database_name AND source_measurement = @source_measurement
         AND window_offset IS @window_offset AND resample_every IS @resample_every THEN rolled_up_from_ms ELSE NULL END,
       interval_ms = @interval_ms, retention_days = @retention_days, delete_source_after_days = @delete_source_after_days, is_active = @is_active,
       destination_database = @destination_database, window_offset = @window_offset, resample_every = @resample_every, resample_for = @resample_for, updated_at = @now
       WHERE id = @id RETURNING *`,
    );
    this.#delete = db.prepare('DELETE FROM continuous_queries WHERE id = @id');
    this.#get = db.prepare('SELECT * FROM continuous_queries WHERE id = @id');
    this.#getByName = db.prepare('SELECT * FROM continuous_queries WHERE name = @name');
    this.#list = db.prepare('SELECT * FROM continuous_queries ORDER BY id');
    this.#count = db.prepare('SELECT count(*) AS queries FROM continuous_queries');
    this.#setProcessed = db.prepare('UPDATE continuous_queries SET last_processed_ms = @last_processed_ms WHERE id = @id');
    this.#startRolledUp = db.prepare('UPDATE continuous_queries SET rolled_up_from_ms = @from_ms WHERE id = @id AND rolled_up_from_ms IS NULL');
    this.#lowerRolledUp = db.prepare(
      `UPDATE continuous_queries SET rolled_up_from_ms = @from_ms WHERE id = @id
       AND ((rolled_up_from_ms IS NULL AND @to_ms >= @next_from_ms) OR (@to_ms >= rolled_up_from_ms AND @from_ms < rolled_up_from_ms))`,
    );
    this.#raiseRolledUp = db.prepare('UPDATE continuous_queries SET rolled_up_from_ms = @to_ms WHERE id = @id AND rolled_up_from_ms IS NOT NULL AND rolled_up_from_ms < @to_ms');
    this.#insertExecution = db.prepare(
      `INSERT INTO cq_executions (cq_id, execution_id, trigger, status, start_time, end_time, records_read, records_written, records_removed, executed_at, duration_ms, error)
       VALUES (@cq_id, @execution_id, @trigger, @status, @start_time, @end_time, @records_read, @records_written, @records_removed, @executed_at, @duration_ms, @error) RETURNING *`,
    );
    this.#executions = db.prepare('SELECT * FROM cq_executions WHERE cq_id = @cq_id ORDER BY id DESC LIMIT @limit');
    this.#pruneExecutions = db.prepare('DELETE FROM cq_executions WHERE cq_id = @cq_id AND id <= (SELECT id FROM cq_executions WHERE cq_id = @cq_id ORDER BY id DESC LIMIT 1 OFFSET @keep)');
    this.#insertTemplate = db.prepare('INSERT INTO cq_templates (name, database_name, statement, created_at) VALUES (@name, @database_name, @statement, @now) RETURNING *');
    this.#deleteTemplate = db.prepare('DELETE FROM cq_templates WHERE name = @name');
    this.#templates = db.prepare('SELECT * FROM cq_templates ORDER BY created_at, name');
    this.#countTemplates = db.prepare('SELECT count(*) AS templates FROM cq_templates');
  }

  /** Opens (creating if needed) the file; its directory must exist (the data directory). */
  static open(path: string): CqStore {
    // FULL: a definition is configuration a user wrote, and last_processed_ms decides what catch-up reruns.
    const db = openSqliteFile(path, { version: CQ_SCHEMA_VERSION, sql: SCHEMA_SQL, synchronous: 'FULL', foreignKeys: true, what: 'Continuous query store', newerCode: CqErrorCode.storeVersion });
    try {
      addMissingColumns(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new CqStore(db);
  }

  /** Adds a query; 409 ARC_CQ_NAME_TAKEN or ARC_CQ_TOO_MANY. */
  create(spec: ContinuousQuerySpec, nowMs: number = Date.now()): ContinuousQuery {
    return this.#db.transaction(() => {
      const { queries } = this.#count.get() as { queries: number };
      if (queries >= CQ_DEFINITIONS_MAX) throw new ArcError(ErrorKind.conflict, CqErrorCode.tooMany, `There are ${String(queries)} continuous queries, the most Arc keeps: delete one first`, { limit: CQ_DEFINITIONS_MAX });
      return cqOf(this.#write(this.#insert, spec, { now: new Date(nowMs).toISOString() }));
    })();
  }

  /** Replaces every field of query `id`; 404 ARC_CQ_NOT_FOUND, 409 ARC_CQ_NAME_TAKEN. */
  update(id: number, spec: ContinuousQuerySpec, nowMs: number = Date.now()): ContinuousQuery {
    const row = this.#write(this.#update, spec, { id, now: new Date(nowMs).toISOString() }) as CqRow | undefined;
    if (row === undefined) throw cqNotFound(id);
    return cqOf(row);
  }

  #write(statement: Statement, spec: ContinuousQuerySpec, extra: Record<string, string | number>): CqRow {
    try {
      return statement.get({ ...paramsOf(spec), ...extra }) as CqRow;
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(spec.name);
      throw error;
    }
  }

  /** The query, or 404 ARC_CQ_NOT_FOUND. */
  get(id: number): ContinuousQuery {
    const row = this.#get.get({ id }) as CqRow | undefined;
    if (row === undefined) throw cqNotFound(id);
    return cqOf(row);
  }

  /** The query of that name, or null. */
  byName(name: string): ContinuousQuery | null {
    const row = this.#getByName.get({ name }) as CqRow | undefined;
    return row === undefined ? null : cqOf(row);
  }

  /** Every query, oldest first. */
  list(): ContinuousQuery[] {
    return (this.#list.all() as CqRow[]).map(cqOf);
  }

  /** Deletes query `id` and its runs, or 404 ARC_CQ_NOT_FOUND. */
  delete(id: number): void {
    assert.ok(Number.isSafeInteger(id), 'an id is an integer');
    if (this.#delete.run({ id }).changes === 0) throw cqNotFound(id);
  }

  /**
   * Records a window's run (and keeps the CQ_EXECUTIONS_KEPT newest); `processedEndMs` (a
   * scheduled run in order) moves the query's catch-up point in the same transaction, and so
   * does the span rolled up: a window run in order (`inOrder`: the scheduler's, or an execute of
   * the windows due) that completed starts it when there is none; one run in order or for late
   * rows that failed (never rolled up, or its late rows not) raises its start past the window,
   * so none of the window's source rows is removed before a run of it succeeds. (A failed
   * execute of a range leaves it: a window inside the span keeps the rollup it had.) A query
   * deleted meanwhile: nothing is recorded, null.
   */
  recordExecution(record: CqExecutionRecord, processedEndMs: number | null = null, inOrder = false): CqExecution | null {
    return this.#db.transaction(() => {
      if (this.#get.get({ id: record.cqId }) === undefined) return null;
      const row = this.#insertExecution.get({
        cq_id: record.cqId,
        execution_id: record.executionId,
        trigger: record.trigger,
        status: record.status,
        start_time: record.startTime,
        end_time: record.endTime,
        records_read: record.recordsRead,
        records_written: record.recordsWritten,
        records_removed: record.recordsRemoved,
        executed_at: record.executedAt,
        duration_ms: record.durationMs,
        error: record.error,
      }) as ExecutionRow;
      this.#pruneExecutions.run({ cq_id: record.cqId, keep: CQ_EXECUTIONS_KEPT });
      if (processedEndMs !== null) this.#setProcessed.run({ id: record.cqId, last_processed_ms: processedEndMs });
      if (record.status === 'failed' && (inOrder || record.trigger === 'late')) this.#raiseRolledUp.run({ id: record.cqId, to_ms: Date.parse(record.endTime) });
      else if (record.status === 'completed' && inOrder) this.#startRolledUp.run({ id: record.cqId, from_ms: Date.parse(record.startTime) });
      return executionOf(row);
    })();
  }

  /** Sets the catch-up point of a query (a new query starts at the window it was created in). */
  setProcessed(id: number, processedEndMs: number): void {
    this.#setProcessed.run({ id, last_processed_ms: processedEndMs });
  }

  /**
   * An execute of [fromMs, toMs) succeeded: the span rolled up starts at fromMs if the range
   * reaches it (toMs at or after its start); a range that leaves a gap changes nothing. A query
   * with no span yet has an empty one at `nextFromMs`, the first window its next run in order
   * computes (nextRunFromMs of the catch-up point as it is now): a range reaching that starts the
   * span, which the scheduler's runs continue (no source row at or after it is removed before
   * they ran: sourceCutoffMs).
   */
  extendRolledUp(id: number, fromMs: number, toMs: number, nextFromMs: number): void {
    assert.ok(fromMs < toMs, 'a range is not empty');
    this.#lowerRolledUp.run({ id, from_ms: fromMs, to_ms: toMs, next_from_ms: nextFromMs });
  }

  /** A query's window runs, newest first (404 when the query is gone). */
  executions(cqId: number, limit: number): CqExecution[] {
    assert.ok(Number.isSafeInteger(limit), 'limit is an integer');
    assert.ok(limit >= 1 && limit <= CQ_EXECUTIONS_KEPT, 'limit within CQ_EXECUTIONS_KEPT');
    this.get(cqId);
    return (this.#executions.all({ cq_id: cqId, limit }) as ExecutionRow[]).map(executionOf);
  }

  // ---- Templates ----

  /** Keeps a template; 409 ARC_CQ_NAME_TAKEN when one has the name, ARC_CQ_TOO_MANY past CQ_DEFINITIONS_MAX templates. */
  addTemplate(template: Omit<CqTemplate, 'createdAt'>, nowMs: number = Date.now()): CqTemplate {
    return this.#db.transaction(() => {
      const { templates } = this.#countTemplates.get() as { templates: number };
      if (templates >= CQ_DEFINITIONS_MAX) throw new ArcError(ErrorKind.conflict, CqErrorCode.tooMany, `There are ${String(templates)} continuous query templates, the most Arc keeps: delete one first`, { limit: CQ_DEFINITIONS_MAX });
      try {
        return templateOf(this.#insertTemplate.get({ name: template.name, database_name: template.database, statement: template.statement, now: new Date(nowMs).toISOString() }) as TemplateRow);
      } catch (error) {
        if (isUniqueViolation(error) || (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw nameTaken(template.name);
        throw error;
      }
    })();
  }

  /** Every template, oldest first. */
  templates(): CqTemplate[] {
    return (this.#templates.all() as TemplateRow[]).map(templateOf);
  }

  /** Deletes the template of that name; false when there was none. */
  removeTemplate(name: string): boolean {
    return this.#deleteTemplate.run({ name }).changes > 0;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
