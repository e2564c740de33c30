import assert from 'node:assert/strict';
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { openSqliteFile } from './sqlite-file.js';
import { CompactionErrorCode } from './error-codes.js';
import { HISTORY_LIST_LIMIT_MAX } from './limits.js';
import { COMPACTION_TIERS, JOB_STATES, isCompactionTier } from './types.js';
import type { CompactionJob, CompactionStats, JobState } from './types.js';

/**
 * The job history lives in its own SQLite file, `<data_dir>/compaction.db`, apart from arc.db
 * (tokens): a job writes a row when it starts and when it ends, and those writes must never wait
 * on a token change, nor a token check on them.
 *
 * `PRAGMA user_version` is the schema's version: a file of a newer Arc is refused at open rather
 * than misread; an older version would be migrated here, in `open`, in one transaction.
 *
 * Column names avoid SQL keywords (`database`, `partition`, `trigger`). `seq` is the order in
 * which jobs were first recorded: an upsert keeps it, so a job recorded at its start and again at
 * its end keeps its place, and "newest first" is `seq DESC` whatever the clocks say.
 */
const HISTORY_SCHEMA_VERSION = 1;

/** The history's file in the data directory (`<data_dir>/compaction.db`). */
export const HISTORY_FILE_NAME = 'compaction.db';

const quotedList = (values: readonly string[]): string => values.map((value) => `'${value}'`).join(', ');

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS compaction_jobs (
  seq              INTEGER PRIMARY KEY AUTOINCREMENT,
  id               TEXT NOT NULL UNIQUE,
  database_name    TEXT NOT NULL,
  measurement_name TEXT NOT NULL,
  tier             TEXT NOT NULL CHECK (tier IN (${quotedList(COMPACTION_TIERS)})),
  partition_path   TEXT NOT NULL,
  state            TEXT NOT NULL CHECK (state IN (${quotedList(JOB_STATES)})),
  started_by       TEXT NOT NULL CHECK (started_by IN ('schedule', 'manual')),
  input_files      INTEGER NOT NULL,
  input_bytes      INTEGER NOT NULL,
  input_rows       INTEGER,
  output_rows      INTEGER,
  output_files     INTEGER,
  output_bytes     INTEGER,
  started_at       TEXT,
  finished_at      TEXT,
  duration_ms      INTEGER,
  error            TEXT
);
CREATE INDEX IF NOT EXISTS compaction_jobs_scope ON compaction_jobs (database_name, measurement_name, seq);
CREATE TABLE IF NOT EXISTS compaction_totals (
  singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
  jobs_succeeded     INTEGER NOT NULL,
  jobs_failed        INTEGER NOT NULL,
  files_in           INTEGER NOT NULL,
  files_out          INTEGER NOT NULL,
  bytes_in           INTEGER NOT NULL,
  bytes_out          INTEGER NOT NULL,
  rows_in            INTEGER NOT NULL,
  rows_out           INTEGER NOT NULL,
  duplicates_removed INTEGER NOT NULL
);
INSERT OR IGNORE INTO compaction_totals VALUES (1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
`;

const UPSERT_SQL = `
INSERT INTO compaction_jobs (id, database_name, measurement_name, tier, partition_path, state, started_by, input_files, input_bytes,
  input_rows, output_rows, output_files, output_bytes, started_at, finished_at, duration_ms, error)
VALUES (@id, @database_name, @measurement_name, @tier, @partition_path, @state, @started_by, @input_files, @input_bytes,
  @input_rows, @output_rows, @output_files, @output_bytes, @started_at, @finished_at, @duration_ms, @error)
ON CONFLICT (id) DO UPDATE SET
  database_name = excluded.database_name, measurement_name = excluded.measurement_name, tier = excluded.tier,
  partition_path = excluded.partition_path, state = excluded.state, started_by = excluded.started_by,
  input_files = excluded.input_files, input_bytes = excluded.input_bytes, input_rows = excluded.input_rows,
  output_rows = excluded.output_rows, output_files = excluded.output_files, output_bytes = excluded.output_bytes,
  started_at = excluded.started_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, error = excluded.error
`;

/**
 * Totals over the rows `where` selects. Files, bytes and rows count succeeded jobs only (a failed
 * job leaves its inputs as they were); rows only where both counts are known, so that
 * duplicates_removed is exactly rows_in - rows_out.
 */
function aggregateSql(where: string): string {
  const succeeded = "state = 'succeeded'";
  const rowsKnown = `${succeeded} AND input_rows IS NOT NULL AND output_rows IS NOT NULL`;
  return `
SELECT
  COALESCE(SUM(state = 'succeeded'), 0) AS jobs_succeeded,
  COALESCE(SUM(state = 'failed'), 0) AS jobs_failed,
  COALESCE(SUM(CASE WHEN ${succeeded} THEN input_files END), 0) AS files_in,
  COALESCE(SUM(CASE WHEN ${succeeded} THEN output_files END), 0) AS files_out,
  COALESCE(SUM(CASE WHEN ${succeeded} THEN input_bytes END), 0) AS bytes_in,
  COALESCE(SUM(CASE WHEN ${succeeded} THEN output_bytes END), 0) AS bytes_out,
  COALESCE(SUM(CASE WHEN ${rowsKnown} THEN input_rows END), 0) AS rows_in,
  COALESCE(SUM(CASE WHEN ${rowsKnown} THEN output_rows END), 0) AS rows_out,
  COALESCE(SUM(CASE WHEN ${rowsKnown} THEN input_rows - output_rows END), 0) AS duplicates_removed
FROM compaction_jobs WHERE ${where}`;
}

const TOTAL_COLUMNS = ['jobs_succeeded', 'jobs_failed', 'files_in', 'files_out', 'bytes_in', 'bytes_out', 'rows_in', 'rows_out', 'duplicates_removed'] as const;
type TotalsRow = Record<(typeof TOTAL_COLUMNS)[number], number>;

/**
 * The stats are kept in one row, moved by each record (its old row's share out, its new row's in,
 * both read with aggregateSql in the same transaction): reading them costs one row whatever the
 * history holds (aggregating 100,000 jobs took 50 ms, too long for the thread that answers
 * HTTP), and pruning leaves them as they are, "since the history began".
 */
const ADD_TOTALS_SQL = `
UPDATE compaction_totals SET ${TOTAL_COLUMNS.map((column) => `${column} = ${column} + @sign * @${column}`).join(', ')} WHERE singleton = 1`;

const ENDED_STATES = quotedList(['succeeded', 'failed']);
/** Ended jobs older than the `keep` newest (a queued or running job stays until it ends). */
const PRUNABLE_WHERE = `state IN (${ENDED_STATES}) AND seq <= (SELECT seq FROM compaction_jobs ORDER BY seq DESC LIMIT 1 OFFSET @keep)`;

/** The WHERE condition of each list filter (their parameters are named as the filters). */
const LIST_CONDITIONS = {
  database: 'database_name = @database',
  measurement: 'measurement_name = @measurement',
  before: 'seq < (SELECT seq FROM compaction_jobs WHERE id = @before)',
} as const;
type ListFilter = keyof typeof LIST_CONDITIONS;

interface JobRow {
  readonly id: string;
  readonly database_name: string;
  readonly measurement_name: string;
  readonly tier: string;
  readonly partition_path: string;
  readonly state: string;
  readonly started_by: string;
  readonly input_files: number;
  readonly input_bytes: number;
  readonly input_rows: number | null;
  readonly output_rows: number | null;
  readonly output_files: number | null;
  readonly output_bytes: number | null;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly duration_ms: number | null;
  readonly error: string | null;
}

function rowOf(job: CompactionJob): JobRow {
  return {
    id: job.id,
    database_name: job.database,
    measurement_name: job.measurement,
    tier: job.tier,
    partition_path: job.partition,
    state: job.state,
    started_by: job.trigger,
    input_files: job.inputFiles,
    input_bytes: job.inputBytes,
    input_rows: job.inputRows,
    output_rows: job.outputRows,
    output_files: job.outputFiles,
    output_bytes: job.outputBytes,
    started_at: job.startedAt,
    finished_at: job.finishedAt,
    duration_ms: job.durationMs,
    error: job.error,
  };
}

/** The CHECK constraints hold every stored row to these sets. */
function jobOf(row: JobRow): CompactionJob {
  assert.ok(isCompactionTier(row.tier), 'the tier column is checked');
  assert.ok((JOB_STATES as readonly string[]).includes(row.state), 'the state column is checked');
  assert.ok(row.started_by === 'schedule' || row.started_by === 'manual', 'the started_by column is checked');
  return {
    id: row.id,
    database: row.database_name,
    measurement: row.measurement_name,
    tier: row.tier,
    partition: row.partition_path,
    state: row.state as JobState,
    trigger: row.started_by,
    inputFiles: row.input_files,
    inputBytes: row.input_bytes,
    inputRows: row.input_rows,
    outputRows: row.output_rows,
    outputFiles: row.output_files,
    outputBytes: row.output_bytes,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
    error: row.error,
  };
}

const isCount = (value: number | null): boolean => value === null || (Number.isSafeInteger(value) && value >= 0);

function assertRecordable(job: CompactionJob): void {
  assert.ok(job.id.length > 0, 'a job has an id');
  assert.ok(isCount(job.inputFiles), 'inputFiles is a count');
  assert.ok(isCount(job.inputBytes), 'inputBytes is a count');
  assert.ok(isCount(job.inputRows), 'inputRows is a count');
  assert.ok(isCount(job.outputRows), 'outputRows is a count');
  assert.ok(isCount(job.outputFiles), 'outputFiles is a count');
  assert.ok(isCount(job.outputBytes), 'outputBytes is a count');
  assert.ok(isCount(job.durationMs), 'durationMs is a count');
}

export interface HistoryListOptions {
  /** 1..HISTORY_LIST_LIMIT_MAX. */
  readonly limit: number;
  readonly database?: string;
  readonly measurement?: string;
  /**
   * A job id: only jobs first recorded before it (the next page after a page that ended with it).
   * An id no longer in the history gives an empty page: pruning removes the oldest jobs first,
   * so every job older than a pruned one is gone too.
   */
  readonly before?: string;
}


/** Creates the schema of a new file and stamps its version (version 1 is the first: nothing to migrate). */

/** The history of compaction jobs (README "Compaction"): what the history and stats endpoints read. */
export class CompactionHistory {
  readonly #db: Database;
  readonly #upsert: Statement;
  readonly #jobTotals: Statement;
  readonly #addTotals: Statement;
  readonly #totals: Statement;
  readonly #prune: Statement;
  /** One statement per combination of list filters, prepared on first use. */
  readonly #lists = new Map<string, Statement>();

  private constructor(db: Database) {
    this.#db = db;
    this.#upsert = db.prepare(UPSERT_SQL);
    this.#jobTotals = db.prepare(aggregateSql('id = @id'));
    this.#addTotals = db.prepare(ADD_TOTALS_SQL);
    this.#totals = db.prepare(`SELECT ${TOTAL_COLUMNS.join(', ')} FROM compaction_totals WHERE singleton = 1`);
    this.#prune = db.prepare(`DELETE FROM compaction_jobs WHERE ${PRUNABLE_WHERE}`);
  }

  /** Opens (creating if needed) the history file; its directory must exist (the data directory). */
  static open(path: string): CompactionHistory {
    // NORMAL sync in WAL mode may lose the last rows at a power loss: the history describes
    // jobs, the data's safety never depends on it, and a job's two writes stay cheap.
    return new CompactionHistory(openSqliteFile(path, { version: HISTORY_SCHEMA_VERSION, sql: SCHEMA_SQL, synchronous: 'NORMAL', foreignKeys: false, what: 'Compaction history', newerCode: CompactionErrorCode.historyVersion, newerHint: ', or move the file away to start a new history' }));
  }

  /** Inserts the job, or replaces the row of the same id (a job is recorded at its start and its end). */
  record(job: CompactionJob): void {
    assertRecordable(job);
    this.#db.transaction(() => {
      this.#moveTotals(job.id, -1);
      this.#upsert.run(rowOf(job));
      this.#moveTotals(job.id, 1);
    })();
  }

  /** Adds (sign 1) or takes out (sign -1) the share of job `id`'s row in the stats (none when absent). */
  #moveTotals(id: string, sign: 1 | -1): void {
    const share = this.#jobTotals.get({ id }) as TotalsRow;
    this.#addTotals.run({ ...share, sign });
  }

  /** Jobs newest first (by when they were first recorded), filtered. */
  list(options: HistoryListOptions): CompactionJob[] {
    assert.ok(Number.isSafeInteger(options.limit), 'limit is an integer');
    assert.ok(options.limit >= 1 && options.limit <= HISTORY_LIST_LIMIT_MAX, 'limit is within HISTORY_LIST_LIMIT_MAX');
    const filters: Partial<Record<ListFilter, string>> = {
      ...(options.database === undefined ? {} : { database: options.database }),
      ...(options.measurement === undefined ? {} : { measurement: options.measurement }),
      ...(options.before === undefined ? {} : { before: options.before }),
    };
    const rows = this.#listStatement(Object.keys(filters) as ListFilter[]).all({ ...filters, limit: options.limit }) as JobRow[];
    return rows.map(jobOf);
  }

  #listStatement(filterKeys: readonly ListFilter[]): Statement {
    const key = filterKeys.join(',');
    let statement = this.#lists.get(key);
    if (statement === undefined) {
      const conditions = filterKeys.map((filter) => LIST_CONDITIONS[filter]);
      const where = conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
      statement = this.#db.prepare(`SELECT * FROM compaction_jobs ${where} ORDER BY seq DESC LIMIT @limit`);
      this.#lists.set(key, statement);
    }
    return statement;
  }

  /** Totals since the history began (pruned jobs included). */
  stats(): CompactionStats {
    const totals = this.#totals.get() as TotalsRow;
    return {
      jobsSucceeded: totals.jobs_succeeded,
      jobsFailed: totals.jobs_failed,
      filesIn: totals.files_in,
      filesOut: totals.files_out,
      bytesIn: totals.bytes_in,
      bytesOut: totals.bytes_out,
      rowsIn: totals.rows_in,
      rowsOut: totals.rows_out,
      duplicatesRemoved: totals.duplicates_removed,
    };
  }

  /**
   * Deletes the ended jobs older than the `keepNewest` newest jobs; the stats keep counting
   * them. Returns the jobs deleted.
   */
  prune(keepNewest: number): number {
    assert.ok(Number.isSafeInteger(keepNewest), 'keepNewest is an integer');
    assert.ok(keepNewest >= 0, 'keepNewest is not negative');
    return this.#prune.run({ keep: keepNewest }).changes;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
