import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { isUniqueViolation, openSqliteFile } from './sqlite-file.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { RETENTION_EXECUTIONS_KEPT, RETENTION_POLICIES_MAX } from './limits.js';
import { RetentionErrorCode } from './retention-error-codes.js';
import type { RetentionPolicy, RetentionPolicySpec } from './retention-policy.js';

/**
 * Retention policies live in their own SQLite file, `<data_dir>/retention.db` (their runs'
 * history will sit beside them), apart from compaction.db: their schema moves on its own.
 * `PRAGMA user_version` is the schema's version, as in history-store.ts: a newer file is refused.
 * Column names avoid SQL keywords (`database`).
 */
const RETENTION_SCHEMA_VERSION = 1;

/** The policies' file in the data directory. */
export const RETENTION_FILE_NAME = 'retention.db';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS retention_policies (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  name             TEXT NOT NULL UNIQUE,
  database_name    TEXT NOT NULL,
  measurement_name TEXT,
  retention_days   INTEGER NOT NULL CHECK (retention_days > 0),
  buffer_days      INTEGER NOT NULL CHECK (buffer_days >= 0),
  is_active        INTEGER NOT NULL CHECK (is_active IN (0, 1)),
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS retention_executions (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  policy_id       INTEGER NOT NULL REFERENCES retention_policies (id) ON DELETE CASCADE,
  dry_run         INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  state           TEXT NOT NULL CHECK (state IN ('succeeded', 'failed')),
  cutoff          TEXT,
  measurements    INTEGER NOT NULL,
  files_dropped   INTEGER NOT NULL,
  files_rewritten INTEGER NOT NULL,
  rows_removed    INTEGER,
  bytes_removed   INTEGER NOT NULL,
  jobs_failed     INTEGER NOT NULL,
  started_at      TEXT NOT NULL,
  finished_at     TEXT NOT NULL,
  error           TEXT
);
CREATE INDEX IF NOT EXISTS retention_executions_policy ON retention_executions (policy_id, id);
`;

/** One run of a policy, as `GET /api/v1/retention/{id}/executions` lists it. */
export interface RetentionExecution {
  readonly id: number;
  readonly policyId: number;
  readonly dryRun: boolean;
  readonly state: 'succeeded' | 'failed';
  /** Null when the run failed before it had one. */
  readonly cutoff: string | null;
  readonly measurements: number;
  readonly filesDropped: number;
  readonly filesRewritten: number;
  readonly rowsRemoved: number | null;
  readonly bytesRemoved: number;
  readonly jobsFailed: number;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly error: string | null;
}

export type RetentionExecutionRecord = Omit<RetentionExecution, 'id'>;

interface ExecutionRow {
  readonly id: number;
  readonly policy_id: number;
  readonly dry_run: number;
  readonly state: 'succeeded' | 'failed';
  readonly cutoff: string | null;
  readonly measurements: number;
  readonly files_dropped: number;
  readonly files_rewritten: number;
  readonly rows_removed: number | null;
  readonly bytes_removed: number;
  readonly jobs_failed: number;
  readonly started_at: string;
  readonly finished_at: string;
  readonly error: string | null;
}

function executionOf(row: ExecutionRow): RetentionExecution {
  return {
    id: row.id,
    policyId: row.policy_id,
    dryRun: row.dry_run === 1,
    state: row.state,
    cutoff: row.cutoff,
    measurements: row.measurements,
    filesDropped: row.files_dropped,
    filesRewritten: row.files_rewritten,
    rowsRemoved: row.rows_removed,
    bytesRemoved: row.bytes_removed,
    jobsFailed: row.jobs_failed,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    error: row.error,
  };
}

interface PolicyRow {
  readonly id: number;
  readonly name: string;
  readonly database_name: string;
  readonly measurement_name: string | null;
  readonly retention_days: number;
  readonly buffer_days: number;
  readonly is_active: number;
  readonly created_at: string;
  readonly updated_at: string;
}

function policyOf(row: PolicyRow): RetentionPolicy {
  return {
    id: row.id,
    name: row.name,
    database: row.database_name,
    measurement: row.measurement_name,
    retentionDays: row.retention_days,
    bufferDays: row.buffer_days,
    isActive: row.is_active === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function paramsOf(spec: RetentionPolicySpec): Record<string, string | number | null> {
  return { name: spec.name, database_name: spec.database, measurement_name: spec.measurement, retention_days: spec.retentionDays, buffer_days: spec.bufferDays, is_active: spec.isActive ? 1 : 0 };
}

function nameTaken(name: string): ArcError {
  return new ArcError(ErrorKind.conflict, RetentionErrorCode.nameTaken, `A retention policy named '${name}' exists already`, { name });
}

export function retentionPolicyNotFound(id: number): ArcError {
  return new ArcError(ErrorKind.notFound, RetentionErrorCode.notFound, `No retention policy has id ${String(id)}`, { id });
}


/** The retention policies (CRUD of `/api/v1/retention`); specs come checked by parseRetentionPolicy. */
export class RetentionStore {
  readonly #db: Database;
  readonly #insert: Statement;
  readonly #update: Statement;
  readonly #delete: Statement;
  readonly #get: Statement;
  readonly #list: Statement;
  readonly #count: Statement;
  readonly #insertExecution: Statement;
  readonly #executions: Statement;
  readonly #pruneExecutions: Statement;
  readonly #lastRun: Statement;

  private constructor(db: Database) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT INTO retention_policies (name, database_name, measurement_name, retention_days, buffer_days, is_active, created_at, updated_at)
       VALUES (@name, @database_name, @measurement_name, @retention_days, @buffer_days, @is_active, @now, @now) RETURNING *`,
    );
    this.#update = db.prepare(
      `UPDATE retention_policies SET name = @name, database_name = @database_name, measurement_name = @measurement_name,
       retention_days = @retention_days, buffer_days = @buffer_days, is_active = @is_active, updated_at = @now WHERE id = @id RETURNING *`,
    );
    this.#delete = db.prepare('DELETE FROM retention_policies WHERE id = @id');
    this.#get = db.prepare('SELECT * FROM retention_policies WHERE id = @id');
    this.#list = db.prepare('SELECT * FROM retention_policies ORDER BY id');
    this.#count = db.prepare('SELECT count(*) AS policies FROM retention_policies');
    this.#insertExecution = db.prepare(
      `INSERT INTO retention_executions (policy_id, dry_run, state, cutoff, measurements, files_dropped, files_rewritten, rows_removed, bytes_removed, jobs_failed, started_at, finished_at, error)
       VALUES (@policy_id, @dry_run, @state, @cutoff, @measurements, @files_dropped, @files_rewritten, @rows_removed, @bytes_removed, @jobs_failed, @started_at, @finished_at, @error) RETURNING *`,
    );
    this.#executions = db.prepare('SELECT * FROM retention_executions WHERE policy_id = @policy_id ORDER BY id DESC LIMIT @limit');
    this.#lastRun = db.prepare('SELECT * FROM retention_executions WHERE policy_id = @policy_id AND dry_run = 0 ORDER BY id DESC LIMIT 1');
    this.#pruneExecutions = db.prepare('DELETE FROM retention_executions WHERE policy_id = @policy_id AND id <= (SELECT id FROM retention_executions WHERE policy_id = @policy_id ORDER BY id DESC LIMIT 1 OFFSET @keep)');
  }

  /** Opens (creating if needed) the file; its directory must exist (the data directory). */
  static open(path: string): RetentionStore {
    // FULL: a policy is configuration a user wrote; losing it at a power cut would keep data too long.
    // Deleting a policy deletes its runs (ON DELETE CASCADE, foreign keys on).
    return new RetentionStore(openSqliteFile(path, { version: RETENTION_SCHEMA_VERSION, sql: SCHEMA_SQL, synchronous: 'FULL', foreignKeys: true, what: 'Retention store', newerCode: RetentionErrorCode.storeVersion }));
  }

  /** Adds a policy; 409 ARC_RETENTION_NAME_TAKEN or ARC_RETENTION_TOO_MANY. */
  create(spec: RetentionPolicySpec, nowMs: number = Date.now()): RetentionPolicy {
    return this.#db.transaction(() => {
      const { policies } = this.#count.get() as { policies: number };
      if (policies >= RETENTION_POLICIES_MAX) throw new ArcError(ErrorKind.conflict, RetentionErrorCode.tooMany, `There are ${String(policies)} retention policies, the most Arc keeps: delete one first`, { limit: RETENTION_POLICIES_MAX });
      return policyOf(this.#write(this.#insert, spec, { now: new Date(nowMs).toISOString() }));
    })();
  }

  /** Replaces every field of policy `id`; 404 ARC_RETENTION_NOT_FOUND, 409 ARC_RETENTION_NAME_TAKEN. */
  update(id: number, spec: RetentionPolicySpec, nowMs: number = Date.now()): RetentionPolicy {
    const row = this.#write(this.#update, spec, { id, now: new Date(nowMs).toISOString() }) as PolicyRow | undefined;
    if (row === undefined) throw retentionPolicyNotFound(id);
    return policyOf(row);
  }

  #write(statement: Statement, spec: RetentionPolicySpec, extra: Record<string, string | number>): PolicyRow {
    try {
      return statement.get({ ...paramsOf(spec), ...extra }) as PolicyRow;
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(spec.name);
      throw error;
    }
  }

  /** The policy, or 404 ARC_RETENTION_NOT_FOUND. */
  get(id: number): RetentionPolicy {
    const row = this.#get.get({ id }) as PolicyRow | undefined;
    if (row === undefined) throw retentionPolicyNotFound(id);
    return policyOf(row);
  }

  /** Every policy, oldest first. */
  list(): RetentionPolicy[] {
    return (this.#list.all() as PolicyRow[]).map(policyOf);
  }

  /** Deletes policy `id`, or 404 ARC_RETENTION_NOT_FOUND. */
  delete(id: number): void {
    assert.ok(Number.isSafeInteger(id), 'a policy id is an integer');
    if (this.#delete.run({ id }).changes === 0) throw retentionPolicyNotFound(id);
  }

  /** Records a run of a policy (404 when the policy is gone) and keeps its RETENTION_EXECUTIONS_KEPT newest runs. */
  recordExecution(record: RetentionExecutionRecord): RetentionExecution {
    this.get(record.policyId);
    const row = this.#db.transaction(() => {
      const inserted = this.#insertExecution.get({
        policy_id: record.policyId,
        dry_run: record.dryRun ? 1 : 0,
        state: record.state,
        cutoff: record.cutoff,
        measurements: record.measurements,
        files_dropped: record.filesDropped,
        files_rewritten: record.filesRewritten,
        rows_removed: record.rowsRemoved,
        bytes_removed: record.bytesRemoved,
        jobs_failed: record.jobsFailed,
        started_at: record.startedAt,
        finished_at: record.finishedAt,
        error: record.error,
      }) as ExecutionRow;
      this.#pruneExecutions.run({ policy_id: record.policyId, keep: RETENTION_EXECUTIONS_KEPT });
      return inserted;
    })();
    return executionOf(row);
  }

  /** A policy's runs, newest first (404 when the policy is gone). */
  executions(policyId: number, limit: number): RetentionExecution[] {
    assert.ok(Number.isSafeInteger(limit), 'limit is an integer');
    assert.ok(limit >= 1 && limit <= RETENTION_EXECUTIONS_KEPT, 'limit within RETENTION_EXECUTIONS_KEPT');
    this.get(policyId);
    return (this.#executions.all({ policy_id: policyId, limit }) as ExecutionRow[]).map(executionOf);
  }

  /** A policy's newest run that was not dry (its last_execution_* fields), or null. */
  lastRun(policyId: number): RetentionExecution | null {
    const row = this.#lastRun.get({ policy_id: policyId }) as ExecutionRow | undefined;
    return row === undefined ? null : executionOf(row);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
