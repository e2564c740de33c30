import assert from 'node:assert/strict';
import path from 'node:path';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import type { CatalogFile, Storage } from '@arc/storage';
import { DeleteCounter } from './delete-counter.js';
import { DeleteErrorCode } from './delete-error-codes.js';
import { ALL_TIME, intersectRanges, overlapsRange, type TimeRangeUs } from './delete-time-range.js';
import { DELETE_ATTEMPTS_MAX, DELETE_COUNT_FILES_PER_QUERY, DELETE_COUNT_MEMORY_LIMIT } from './limits.js';
import type { RewriteRequest } from './compactor.js';
import type { CompactionJob } from './types.js';

/**
 * Row deletes (README "Deleting data"): `POST /api/v1/delete`, InfluxQL DELETE / DROP SERIES and
 * InfluxDB 2's /api/v2/delete all end here. A delete
 *   1. checks the WHERE clause with DuckDB's parser and reads the time range it can match;
 *   2. flushes the measurement's buffered rows (only its own: other measurements stay buffered),
 *      so every row of it acknowledged before is in a file and the WAL's flush journal says so:
 *      no later flush or WAL replay brings a deleted row back;
 *   3. counts the matching rows of each file whose time range overlaps the clause's;
 *   4. refuses (400) when the count is over the confirmation threshold without `confirm`;
 *   5. rewrites each file holding matching rows without them (Compactor.rewrite: lease, replace
 *      manifest, atomic; a file left with no row is deleted; a file whose every row matches is
 *      deleted whole, unread, a day of them in one job), planning again from the catalog when
 *      compaction merged an input meanwhile.
 * Rows written after step 2 are not deleted: they were written after the delete.
 */

export interface DeleteRequest {
  readonly database: string;
  readonly measurement: string;
  /** A SQL expression over a row's columns: the rows where it is TRUE go. */
  readonly where: string;
  readonly dryRun: boolean;
  readonly confirm: boolean;
  /** Narrows the files counted (InfluxQL and /api/v2/delete know their range exactly); the clause still decides. */
  readonly timeRange?: TimeRangeUs;
  /** The HTTP request's id (X-Request-Id), by which a client finds its delete among the running ones. */
  readonly requestId?: string;
}

/** What a delete is doing: flushing the measurement's buffers, counting matches file by file, or rewriting the files that hold some. */
export type DeletePhase = 'flushing' | 'counting' | 'rewriting';

/** A delete in flight (GET /api/v1/delete/running): its phase and how far that phase got. */
export interface RunningDelete {
  readonly requestId: string | null;
  readonly database: string;
  readonly measurement: string;
  readonly dryRun: boolean;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly phase: DeletePhase;
  /** Files counted, or rewritten, of `filesTotal` (0 of 0 while flushing). */
  readonly filesDone: number;
  readonly filesTotal: number;
}

type Progress = { -readonly [K in keyof RunningDelete]: RunningDelete[K] };

export interface DeleteResult {
  readonly success: boolean;
  /** Rows removed (a dry run: rows the clause matches now). */
  readonly deletedCount: number;
  /** Files holding matching rows. */
  readonly affectedFiles: number;
  /** Files rewritten (or deleted whole) by this delete; 0 in a dry run. */
  readonly rewrittenFiles: number;
  readonly executionTimeMs: number;
  readonly dryRun: boolean;
  /** Base names of the affected files. */
  readonly filesProcessed: readonly string[];
  /** Base names of files whose rewrite failed (they are as they were). */
  readonly failedFiles: readonly string[];
}

/** The rewrite side: Compactor.rewrite. */
export interface DeleteRewriter {
  rewrite(request: RewriteRequest): Promise<CompactionJob[]>;
}

export interface RowDeleterOptions {
  readonly storage: Storage;
  readonly rewriter: DeleteRewriter;
  /** Flushes the writers' buffered rows of one measurement into files (null when done, else why not). */
  readonly flushWriters: (database: string, measurement: string) => Promise<ArcError | null>;
  /** `delete.confirmation_threshold`: matching rows above it need `confirm: true`. */
  readonly confirmationThreshold: number;
  readonly nowMs?: () => number;
}

/** What the endpoints need of deletes. */
export interface DeleteControl {
  readonly confirmationThreshold: number;
  deleteRows(request: DeleteRequest): Promise<DeleteResult>;
  /** The deletes in flight, oldest first. */
  running(): readonly RunningDelete[];
}

/** The matching rows per affected file, from the catalog as it is now. */
interface DeletePlan {
  readonly files: readonly CatalogFile[];
  readonly rows: readonly number[];
}

function baseNameOf(key: string): string {
  return path.posix.basename(key);
}

/** A leading `WHERE` is the clause's keyword, not part of the expression (Arc Go takes both). */
export function bareWhere(where: string): string {
  return where.replace(/^\s*where\s+/i, '');
}

export class RowDeleter implements DeleteControl {
  private readonly options: RowDeleterOptions;
  readonly confirmationThreshold: number;
  /** The deletes in flight, each's progress updated in place as it goes. */
  private readonly inFlight = new Set<Progress>();

  constructor(options: RowDeleterOptions) {
    assert.ok(Number.isSafeInteger(options.confirmationThreshold), 'the threshold is an integer');
    this.options = options;
    this.confirmationThreshold = options.confirmationThreshold;
  }

  async deleteRows(request: DeleteRequest): Promise<DeleteResult> {
    const startedMs = (this.options.nowMs ?? Date.now)();
    const invalid = validateDatabaseName(request.database) ?? validateMeasurementName(request.measurement);
    if (invalid !== null) throw invalid;
    const where = bareWhere(request.where);
    if (where.trim() === '') throw badRequest(DeleteErrorCode.badWhere, "A WHERE clause is required; to delete every row of the measurement use WHERE '1=1' with confirm=true (or DELETE /api/v1/databases/{db}/measurements/{m})");
    const progress: Progress = { requestId: request.requestId ?? null, database: request.database, measurement: request.measurement, dryRun: request.dryRun, startedAt: new Date(startedMs).toISOString(), phase: 'flushing', filesDone: 0, filesTotal: 0 };
    this.inFlight.add(progress);
    const counter = await DeleteCounter.start({ memoryLimit: DELETE_COUNT_MEMORY_LIMIT }).catch((error: unknown) => {
      this.inFlight.delete(progress);
      throw error;
    });
    try {
      const range = intersectRanges(await counter.check(where), request.timeRange ?? ALL_TIME);
      const flushed = await this.options.flushWriters(request.database, request.measurement);
      if (flushed !== null) throw flushed;
      const result = await this.run(counter, { ...request, where }, range, progress);
      return { ...result, executionTimeMs: (this.options.nowMs ?? Date.now)() - startedMs };
    } finally {
      this.inFlight.delete(progress);
      await counter.close();
    }
  }

  running(): readonly RunningDelete[] {
    return [...this.inFlight].map((progress) => ({ ...progress }));
  }

  private async run(counter: DeleteCounter, request: DeleteRequest, range: TimeRangeUs, progress: Progress): Promise<Omit<DeleteResult, 'executionTimeMs'>> {
    const first = await this.plan(counter, request, range, progress);
    const matched = first.rows.reduce((sum, rows) => sum + rows, 0);
    const filesProcessed = first.files.map((file) => baseNameOf(file.key));
    const summary = { dryRun: request.dryRun, affectedFiles: first.files.length, filesProcessed };
    if (request.dryRun) return { success: true, deletedCount: matched, rewrittenFiles: 0, failedFiles: [], ...summary };
    if (matched > this.confirmationThreshold && !request.confirm) {
      throw badRequest(DeleteErrorCode.confirmRequired, `Delete would affect ${String(matched)} rows (threshold: ${String(this.confirmationThreshold)}). Set confirm=true to proceed.`, {
        rows: matched,
        confirmation_threshold: this.confirmationThreshold,
      });
    }
    let plan = first;
    let deletedCount = 0;
    let rewrittenFiles = 0;
    for (let attempt = 1; ; attempt++) {
      const jobs = await this.rewrite(request, plan, progress);
      for (const job of jobs.filter((ended) => ended.state === 'succeeded')) {
        deletedCount += (job.inputRows ?? 0) - (job.outputRows ?? 0);
        rewrittenFiles += job.inputFiles;
      }
      if (jobs.every((job) => job.state === 'succeeded')) break;
      // An input merged or rewritten meanwhile: its rows are in another file now; count again.
      plan = await this.plan(counter, request, range, progress);
      if (plan.files.length === 0) break;
      if (attempt === DELETE_ATTEMPTS_MAX) {
        return { success: false, deletedCount, rewrittenFiles, failedFiles: plan.files.map((file) => baseNameOf(file.key)), ...summary };
      }
    }
    return { success: true, deletedCount, rewrittenFiles, failedFiles: [], ...summary };
  }

  /**
   * Rewrites the plan's files. A file whose every row matches (its count is the row count in its
   * name) is deleted whole instead, unread and in bulk (one job per day, rewrite-planner.ts): files
   * never change, so a file all of whose rows matched when counted still does.
   */
  private async rewrite(request: DeleteRequest, plan: DeletePlan, progress: Progress): Promise<CompactionJob[]> {
    Object.assign(progress, { phase: 'rewriting', filesDone: 0, filesTotal: plan.files.length });
    const whole: CatalogFile[] = [];
    const partial: CatalogFile[] = [];
    plan.files.forEach((file, index) => (file.rows !== null && plan.rows[index] === file.rows ? whole : partial).push(file));
    const dropped = await this.rewriteFiles(request, whole, null, progress);
    const rewritten = await this.rewriteFiles(request, partial, request.where, progress);
    return [...dropped, ...rewritten];
  }

  /** One rewrite of some of the plan's files; a file gone since the plan (409) fails the round, not the delete. */
  private async rewriteFiles(request: DeleteRequest, files: readonly CatalogFile[], removeWhere: string | null, progress: Progress): Promise<CompactionJob[]> {
    if (files.length === 0) return [];
    const onJobEnded = (job: CompactionJob): void => void (progress.filesDone += job.inputFiles);
    try {
      return await this.options.rewriter.rewrite({ database: request.database, measurement: request.measurement, files: files.map((file) => file.key), removeWhere, onJobEnded });
    } catch (error) {
      if (error instanceof ArcError && error.kind === ErrorKind.conflict) return files.map(() => ({ state: 'failed' }) as CompactionJob);
      throw error;
    }
  }

  /** The files of the range that hold matching rows, and how many each. */
  private async plan(counter: DeleteCounter, request: DeleteRequest, range: TimeRangeUs, progress: Progress): Promise<DeletePlan> {
    const { storage } = this.options;
    Object.assign(progress, { phase: 'counting', filesDone: 0, filesTotal: 0 });
    if (!storage.hasDatabase(request.database)) return { files: [], rows: [] };
    await storage.ensureLoaded(request.database, request.measurement);
    const candidates = storage.catalog.files(request.database, request.measurement).filter((file) => overlapsRange(file, range));
    progress.filesTotal = candidates.length;
    const files: CatalogFile[] = [];
    const rows: number[] = [];
    for (let start = 0; start < candidates.length; start += DELETE_COUNT_FILES_PER_QUERY) {
      const chunk = candidates.slice(start, start + DELETE_COUNT_FILES_PER_QUERY);
      // On an object store the files are downloaded into the file cache and pinned for the count.
      const release = await storage.acquireFiles(chunk);
      try {
        const counted = await counter.count(request.where, chunk.map((file) => storage.locationOf(file.key)));
        chunk.forEach((file, index) => {
          const matched = counted[index] ?? 0;
          if (matched === 0) return;
          files.push(file);
          rows.push(matched);
        });
      } finally {
        release();
      }
      progress.filesDone += chunk.length;
    }
    return { files, rows };
  }
}
