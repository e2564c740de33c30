import assert from 'node:assert/strict';
import { ArcError, ErrorKind } from '@arc/errors';
import { isUniqueViolation, openSqliteFile } from '@arc/compaction';
import { ImporterErrorCode } from './error-codes.js';
import { JOB_ERROR_MESSAGE_CHARS_MAX, JOB_EXECUTIONS_KEPT } from './limits.js';
import type { SourceType } from './source.js';

/**
 * Import jobs and their executions live in `<data_dir>/import_jobs.db` (same store pattern as the
 * compaction history and the retention policies: `PRAGMA user_version` is the schema's version).
 * Synchronous FULL: an execution's checkpoint is the promise that its rows are in Arc, so it is on
 * disk before the next chunk is read.
 *
 * Times of rows (range bounds, the newest row written) are ns since the epoch, stored as decimal
 * text (beyond 2^53, so neither REAL nor a JS number holds them).
 */
const JOB_SCHEMA_VERSION = 1;

export const JOB_STORE_FILE_NAME = 'import_jobs.db';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS jobs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  name           TEXT NOT NULL UNIQUE,
  connection_id  INTEGER,
  source_type    TEXT NOT NULL,
  source         TEXT NOT NULL,
  database_name  TEXT NOT NULL,
  range_start_ns TEXT,
  range_end_ns   TEXT,
  since_last_run INTEGER NOT NULL,
  schedule       TEXT,
  enabled        INTEGER NOT NULL,
  chunk_rows     INTEGER,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS executions (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id          INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  status          TEXT NOT NULL,
  trigger_kind    TEXT NOT NULL,
  resumes         INTEGER,
  started_at      TEXT NOT NULL,
  finished_at     TEXT,
  rows_written    INTEGER NOT NULL DEFAULT 0,
  rows_rejected   INTEGER NOT NULL DEFAULT 0,
  bytes_read      INTEGER NOT NULL DEFAULT 0,
  chunk_count     INTEGER NOT NULL DEFAULT 0,
  progress        REAL,
  eta_seconds     REAL,
  rows_per_second REAL NOT NULL DEFAULT 0,
  checkpoint      TEXT,
  pending         TEXT,
  max_time_ns     TEXT,
  range_start_ns  TEXT,
  range_end_ns    TEXT,
  error_code      TEXT,
  error_message   TEXT
);
CREATE INDEX IF NOT EXISTS executions_by_job ON executions (job_id, id);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
`;

export const EXECUTION_STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted', 'skipped'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export const EXECUTION_TRIGGERS = ['manual', 'schedule', 'resume'] as const;
export type ExecutionTrigger = (typeof EXECUTION_TRIGGERS)[number];

/** What a job is made of (POST / PUT bodies, checked). */
export interface JobSpec {
  readonly name: string;
  readonly connectionId: number | null;
  readonly type: SourceType;
  readonly source: Readonly<Record<string, unknown>>;
  readonly database: string;
  readonly rangeStartNs: bigint | null;
  readonly rangeEndNs: bigint | null;
  readonly sinceLastRun: boolean;
  readonly schedule: string | null;
  readonly enabled: boolean;
  readonly chunkRows: number | null;
}

export interface Job extends JobSpec {
  readonly id: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/**
 * A chunk handed to ingest and not yet checkpointed: what the runner needs to tell, after a crash,
 * whether it landed (job-runner.ts). `preCount` is the destination's count over the window before
 * the write.
 */
export interface PendingChunk {
  readonly cursor: string;
  readonly minTimeNs: bigint;
  readonly maxTimeNs: bigint;
  readonly measurements: readonly string[];
  readonly rowCount: number;
  readonly sourceBytes: number;
  readonly progress: number | null;
  readonly preCount: number;
}

export interface ExecutionError {
  readonly code: string;
  readonly message: string;
}

export interface Execution {
  readonly id: number;
  readonly jobId: number;
  readonly status: ExecutionStatus;
  readonly trigger: ExecutionTrigger;
  /** The execution this one continues (trigger 'resume'), or null. */
  readonly resumes: number | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly rows: number;
  readonly rowsRejected: number;
  readonly bytes: number;
  readonly chunks: number;
  readonly progress: number | null;
  readonly etaSeconds: number | null;
  readonly rowsPerSecond: number;
  /** The cursor after the last chunk acknowledged (the driver's text), or null before the first. */
  readonly checkpoint: string | null;
  readonly pending: PendingChunk | null;
  /** The newest row time written by this execution and the ones it continues (since_last_run starts there). */
  readonly maxTimeNs: bigint | null;
  readonly rangeStartNs: bigint | null;
  readonly rangeEndNs: bigint | null;
  readonly error: ExecutionError | null;
}

/** What a new execution starts from: its range, and for a resume the state of the one it continues. */
export interface ExecutionStart {
  readonly jobId: number;
  readonly trigger: ExecutionTrigger;
  readonly rangeStartNs: bigint | null;
  readonly rangeEndNs: bigint | null;
  readonly resumes: Execution | null;
}

/** A chunk acknowledged by ingest: the checkpoint moves to its cursor and the counts grow. */
export interface ChunkDone {
  readonly cursor: string;
  readonly rows: number;
  readonly rowsRejected: number;
  readonly sourceBytes: number;
  readonly maxTimeNs: bigint;
  readonly progress: number | null;
}

interface JobRow {
  id: number;
  name: string;
  connection_id: number | null;
  source_type: string;
  source: string;
  database_name: string;
  range_start_ns: string | null;
  range_end_ns: string | null;
  since_last_run: number;
  schedule: string | null;
  enabled: number;
  chunk_rows: number | null;
  created_at: string;
  updated_at: string;
}

interface ExecutionRow {
  id: number;
  job_id: number;
  status: string;
  trigger_kind: string;
  resumes: number | null;
  started_at: string;
  finished_at: string | null;
  rows_written: number;
  rows_rejected: number;
  bytes_read: number;
  chunk_count: number;
  progress: number | null;
  eta_seconds: number | null;
  rows_per_second: number;
  checkpoint: string | null;
  pending: string | null;
  max_time_ns: string | null;
  range_start_ns: string | null;
  range_end_ns: string | null;
  error_code: string | null;
  error_message: string | null;
}

interface PendingJson {
  cursor: string;
  min_time_ns: string;
  max_time_ns: string;
  measurements: string[];
  row_count: number;
  source_bytes: number;
  progress: number | null;
  pre_count: number;
}

const nsText = (value: bigint | null): string | null => (value === null ? null : value.toString());
const nsOf = (text: string | null): bigint | null => (text === null ? null : BigInt(text));

function jobOf(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    connectionId: row.connection_id,
    type: row.source_type as SourceType,
    source: JSON.parse(row.source) as Record<string, unknown>,
    database: row.database_name,
    rangeStartNs: nsOf(row.range_start_ns),
    rangeEndNs: nsOf(row.range_end_ns),
    sinceLastRun: row.since_last_run === 1,
    schedule: row.schedule,
    enabled: row.enabled === 1,
    chunkRows: row.chunk_rows,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function pendingText(pending: PendingChunk | null): string | null {
  if (pending === null) return null;
  const json: PendingJson = {
    cursor: pending.cursor,
    min_time_ns: pending.minTimeNs.toString(),
    max_time_ns: pending.maxTimeNs.toString(),
    measurements: [...pending.measurements],
    row_count: pending.rowCount,
    source_bytes: pending.sourceBytes,
    progress: pending.progress,
    pre_count: pending.preCount,
  };
  return JSON.stringify(json);
}

function pendingOf(text: string | null): PendingChunk | null {
  if (text === null) return null;
  const json = JSON.parse(text) as PendingJson;
  return {
    cursor: json.cursor,
    minTimeNs: BigInt(json.min_time_ns),
    maxTimeNs: BigInt(json.max_time_ns),
    measurements: json.measurements,
    rowCount: json.row_count,
    sourceBytes: json.source_bytes,
    progress: json.progress,
    preCount: json.pre_count,
  };
}

function executionOf(row: ExecutionRow): Execution {
  return {
    id: row.id,
    jobId: row.job_id,
    status: row.status as ExecutionStatus,
    trigger: row.trigger_kind as ExecutionTrigger,
    resumes: row.resumes,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    rows: row.rows_written,
    rowsRejected: row.rows_rejected,
    bytes: row.bytes_read,
    chunks: row.chunk_count,
    progress: row.progress,
    etaSeconds: row.eta_seconds,
    rowsPerSecond: row.rows_per_second,
    checkpoint: row.checkpoint,
    pending: pendingOf(row.pending),
    maxTimeNs: nsOf(row.max_time_ns),
    rangeStartNs: nsOf(row.range_start_ns),
    rangeEndNs: nsOf(row.range_end_ns),
    error: row.error_code === null ? null : { code: row.error_code, message: row.error_message ?? '' },
  };
}

export function jobNotFound(id: number): ArcError {
  return new ArcError(ErrorKind.notFound, ImporterErrorCode.jobNotFound, `import job ${String(id)} not found`, { job_id: id });
}

function nameTaken(name: string): ArcError {
  return new ArcError(ErrorKind.conflict, ImporterErrorCode.jobNameTaken, `an import job named '${name}' exists`, { field: 'name', name });
}

const nowText = (): string => new Date().toISOString();

export class JobStore {
  private readonly db: ReturnType<typeof openSqliteFile>;

  private constructor(db: ReturnType<typeof openSqliteFile>) {
    this.db = db;
  }

  static open(path: string): JobStore {
    return new JobStore(
      openSqliteFile(path, {
        version: JOB_SCHEMA_VERSION,
        sql: SCHEMA_SQL,
        synchronous: 'FULL',
        foreignKeys: true,
        what: 'Import job store',
        newerCode: ImporterErrorCode.storeNewer,
      }),
    );
  }

  close(): void {
    this.db.close();
  }

  // Jobs.

  list(): Job[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY id').all() as JobRow[]).map(jobOf);
  }

  get(id: number): Job | null {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row === undefined ? null : jobOf(row);
  }

  /** Throws 409 ARC_IMPORT_JOB_NAME_TAKEN when another job has the name. */
  create(spec: JobSpec): Job {
    const at = nowText();
    try {
      const result = this.db
        .prepare('INSERT INTO jobs (name, connection_id, source_type, source, database_name, range_start_ns, range_end_ns, since_last_run, schedule, enabled, chunk_rows, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(spec.name, spec.connectionId, spec.type, JSON.stringify(spec.source), spec.database, nsText(spec.rangeStartNs), nsText(spec.rangeEndNs), spec.sinceLastRun ? 1 : 0, spec.schedule, spec.enabled ? 1 : 0, spec.chunkRows, at, at);
      const job = this.get(Number(result.lastInsertRowid));
      assert.ok(job !== null, 'the job just inserted is there');
      return job;
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(spec.name);
      throw error;
    }
  }

  /** Every field replaced; throws 404 for an unknown id, 409 for a name taken. */
  update(id: number, spec: JobSpec): Job {
    try {
      const result = this.db
        .prepare('UPDATE jobs SET name = ?, connection_id = ?, source_type = ?, source = ?, database_name = ?, range_start_ns = ?, range_end_ns = ?, since_last_run = ?, schedule = ?, enabled = ?, chunk_rows = ?, updated_at = ? WHERE id = ?')
        .run(spec.name, spec.connectionId, spec.type, JSON.stringify(spec.source), spec.database, nsText(spec.rangeStartNs), nsText(spec.rangeEndNs), spec.sinceLastRun ? 1 : 0, spec.schedule, spec.enabled ? 1 : 0, spec.chunkRows, nowText(), id);
      if (result.changes === 0) throw jobNotFound(id);
    } catch (error) {
      if (isUniqueViolation(error)) throw nameTaken(spec.name);
      throw error;
    }
    const job = this.get(id);
    assert.ok(job !== null, 'the job just updated is there');
    return job;
  }

  /** Removes the job and its executions; false when there was no such job. */
  delete(id: number): boolean {
    return this.db.prepare('DELETE FROM jobs WHERE id = ?').run(id).changes > 0;
  }

  /** The names of the jobs reading through connection `connectionId` (a connection in use cannot be deleted). */
  jobsUsing(connectionId: number): string[] {
    return (this.db.prepare('SELECT name FROM jobs WHERE connection_id = ? ORDER BY id').all(connectionId) as { name: string }[]).map((row) => row.name);
  }

  // Executions.

  execution(id: number): Execution | null {
    const row = this.db.prepare('SELECT * FROM executions WHERE id = ?').get(id) as ExecutionRow | undefined;
    return row === undefined ? null : executionOf(row);
  }

  /** The job's executions, newest first. */
  executions(jobId: number, limit: number): Execution[] {
    return (this.db.prepare('SELECT * FROM executions WHERE job_id = ? ORDER BY id DESC LIMIT ?').all(jobId, limit) as ExecutionRow[]).map(executionOf);
  }

  lastExecution(jobId: number): Execution | null {
    return this.executions(jobId, 1)[0] ?? null;
  }

  /** The newest execution that succeeded having written rows (since_last_run starts after its newest row). */
  lastSucceededWithRows(jobId: number): Execution | null {
    const row = this.db.prepare("SELECT * FROM executions WHERE job_id = ? AND status = 'succeeded' AND max_time_ns IS NOT NULL ORDER BY id DESC LIMIT 1").get(jobId) as ExecutionRow | undefined;
    return row === undefined ? null : executionOf(row);
  }

  /** Executions in one status, oldest first (all jobs). */
  withStatus(status: ExecutionStatus): Execution[] {
    return (this.db.prepare('SELECT * FROM executions WHERE status = ? ORDER BY id').all(status) as ExecutionRow[]).map(executionOf);
  }

  /** The newest executions of every job that ended (any status but running), newest first. */
  recent(limit: number): Execution[] {
    return (this.db.prepare("SELECT * FROM executions WHERE status <> 'running' ORDER BY id DESC LIMIT ?").all(limit) as ExecutionRow[]).map(executionOf);
  }

  /**
   * A new running execution. A resume carries over what the one it continues had reached (its
   * checkpoint, in-doubt chunk, counts and newest row), so its rows are counted once across both.
   * The job's history beyond JOB_EXECUTIONS_KEPT is trimmed in the same transaction.
   */
  start(start: ExecutionStart): Execution {
    const from = start.resumes;
    const id = this.db.transaction(() => {
      const result = this.db
        .prepare(
          'INSERT INTO executions (job_id, status, trigger_kind, resumes, started_at, rows_written, rows_rejected, bytes_read, chunk_count, progress, checkpoint, pending, max_time_ns, range_start_ns, range_end_ns) ' +
            "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(start.jobId, start.trigger, from?.id ?? null, nowText(), from?.rows ?? 0, from?.rowsRejected ?? 0, from?.bytes ?? 0, from?.chunks ?? 0, from?.progress ?? null, from?.checkpoint ?? null, pendingText(from?.pending ?? null), nsText(from?.maxTimeNs ?? null), nsText(start.rangeStartNs), nsText(start.rangeEndNs));
      // The resumed execution no longer holds the in-doubt chunk: its settling is the new one's.
      if (from !== null) this.db.prepare('UPDATE executions SET pending = NULL WHERE id = ?').run(from.id);
      this.trim(start.jobId);
      return Number(result.lastInsertRowid);
    })();
    const execution = this.execution(id);
    assert.ok(execution !== null, 'the execution just inserted is there');
    return execution;
  }

  /** A run that did not start (a scheduled run while one runs): recorded as skipped, with why. */
  recordSkipped(jobId: number, trigger: ExecutionTrigger, error: ExecutionError): Execution {
    const at = nowText();
    const id = this.db.transaction(() => {
      const result = this.db
        .prepare("INSERT INTO executions (job_id, status, trigger_kind, started_at, finished_at, error_code, error_message) VALUES (?, 'skipped', ?, ?, ?, ?, ?)")
        .run(jobId, trigger, at, at, error.code, error.message.slice(0, JOB_ERROR_MESSAGE_CHARS_MAX));
      this.trim(jobId);
      return Number(result.lastInsertRowid);
    })();
    const execution = this.execution(id);
    assert.ok(execution !== null, 'the execution just inserted is there');
    return execution;
  }

  private trim(jobId: number): void {
    this.db.prepare("DELETE FROM executions WHERE job_id = ? AND status <> 'running' AND id NOT IN (SELECT id FROM executions WHERE job_id = ? ORDER BY id DESC LIMIT ?)").run(jobId, jobId, JOB_EXECUTIONS_KEPT);
  }

  /** The chunk about to be written (before the write: a crash after it finds the record). */
  setPending(executionId: number, pending: PendingChunk): void {
    this.db.prepare('UPDATE executions SET pending = ? WHERE id = ?').run(pendingText(pending), executionId);
  }

  /** The in-doubt chunk did not land: it is read again from the checkpoint. */
  clearPending(executionId: number): void {
    this.db.prepare('UPDATE executions SET pending = NULL WHERE id = ?').run(executionId);
  }

  /** One statement (atomic): the checkpoint moves to the chunk's cursor, counts grow, the pending record goes. */
  checkpoint(executionId: number, done: ChunkDone): void {
    this.db
      .prepare(
        'UPDATE executions SET checkpoint = ?, pending = NULL, rows_written = rows_written + ?, rows_rejected = rows_rejected + ?, bytes_read = bytes_read + ?, chunk_count = chunk_count + 1, ' +
          'progress = ?, max_time_ns = CASE WHEN max_time_ns IS NULL OR CAST(max_time_ns AS INTEGER) < CAST(? AS INTEGER) THEN ? ELSE max_time_ns END WHERE id = ?',
      )
      .run(done.cursor, done.rows, done.rowsRejected, done.sourceBytes, done.progress, done.maxTimeNs.toString(), done.maxTimeNs.toString(), executionId);
  }

  updateRate(executionId: number, rowsPerSecond: number, etaSeconds: number | null): void {
    this.db.prepare('UPDATE executions SET rows_per_second = ?, eta_seconds = ? WHERE id = ?').run(rowsPerSecond, etaSeconds, executionId);
  }

  finish(executionId: number, status: Exclude<ExecutionStatus, 'running' | 'skipped'>, error: ExecutionError | null): Execution {
    this.db
      .prepare("UPDATE executions SET status = ?, finished_at = ?, eta_seconds = NULL, error_code = ?, error_message = ?, progress = CASE WHEN ? = 'succeeded' THEN 1 ELSE progress END WHERE id = ?")
      .run(status, nowText(), error?.code ?? null, error === null ? null : error.message.slice(0, JOB_ERROR_MESSAGE_CHARS_MAX), status, executionId);
    const execution = this.execution(executionId);
    assert.ok(execution !== null, 'the execution is there');
    return execution;
  }

  /**
   * At a start: executions left running by a process that stopped or died become 'interrupted'.
   * Returns them (the service resumes each).
   */
  interruptRunning(): Execution[] {
    const running = this.withStatus('running');
    const finish = this.db.prepare("UPDATE executions SET status = 'interrupted', finished_at = ?, eta_seconds = NULL WHERE id = ?");
    this.db.transaction(() => {
      for (const execution of running) finish.run(nowText(), execution.id);
    })();
    return running.map((execution) => ({ ...execution, status: 'interrupted' as const }));
  }
}
