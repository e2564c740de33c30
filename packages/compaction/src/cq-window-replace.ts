import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { CompactionConfig } from '@arc/config';
import { ArcError, ErrorKind } from '@arc/errors';
import { TIME_COLUMN, quoteIdentifier } from '@arc/columnar';
import { MICROS_PER_HOUR, dataFileKey, encodeSchema, hourPartitionPath, parseFileKey, partitionKey, partitionPath, schemaIdOf, schemaKey, type CatalogFile, type ReplacementStep, type StagedReplacementFile, type Storage } from '@arc/storage';
import { CqErrorCode } from './cq-error-codes.js';
import type { CqSource } from './cq-query-check.js';
import type { CqOutputSlot, CqWindowResult } from './cq-window-worker.js';
import { LEASE_RENEWALS_PER_LEASE } from './limits.js';
import type { MergeRunner } from './merge-runner.js';
import { PartitionLease, isLease, type LeaseHolder } from './partition-lease.js';
import { planRewrite } from './rewrite-planner.js';

/**
 * One window of a continuous query, replaced in one step (docs/continuous-queries.md): the
 * query's rows of [start, end) are computed from the source's files, each destination file
 * holding rows of the window is rewritten without them, and one replace manifest swaps the old
 * destination files for the rewritten ones plus the window's new files. A reader (and a process
 * killed at any point, storage's manifests) sees the destination's old rows of the window or
 * the new ones, never both and never neither; running a window twice leaves one copy.
 *
 * The destination's day partitions of the window are leased first, as a compaction or rewrite
 * job leases them, so no other job merges the destination's files of the window meanwhile.
 */

export interface WindowReplaceRequest {
  readonly source: CqSource;
  /** Where the rows go: a measurement of the source's database, or of another (InfluxQL `INTO db..m`). */
  readonly destination: CqSource;
  /** The query with its placeholders filled (cq-definition.ts windowQuery). */
  readonly query: string;
  readonly windowStartUs: number;
  readonly windowEndUs: number;
  /** Computes and reports, changes nothing. */
  readonly dryRun: boolean;
}

export interface WindowReplaceResult {
  readonly recordsRead: number;
  readonly recordsWritten: number;
  /** Destination rows of the window that the new ones replaced (null when the files do not say). */
  readonly recordsRemoved: number | null;
  readonly filesWritten: number;
  readonly filesReplaced: number;
}

/** What the compactor lends a window: its store, settings, the window's merge thread and its file rewrites. */
export interface WindowHost {
  readonly storage: Storage;
  readonly config: CompactionConfig;
  readonly nowMs: () => number;
  readonly runner: MergeRunner;
  /** Jobs of this node that are alive: a lease they hold is never taken over. */
  readonly liveJobs: Set<string>;
  readonly queriesEnded: () => Promise<void>;
  /** Stages one destination file rewritten without the rows `removeWhere` matches (compactor's merge and naming). */
  readonly stageRewrite: (file: CatalogFile, stagingPaths: readonly string[], removeWhere: string) => Promise<StagedReplacementFile[]>;
  readonly onStep?: (step: WindowStep) => void;
}

/** The steps of a window, in order, as tests see them (crash tests stop the process at each). */
export type WindowStep = 'leased' | 'computed' | ReplacementStep;

function busy(holder: LeaseHolder): ArcError {
  return new ArcError(ErrorKind.conflict, CqErrorCode.windowBusy, `The window's partition is locked by job ${holder.job} of node ${holder.node}; the window runs again later`, { job: holder.job });
}

function timestampSql(us: number): string {
  return `make_timestamp(${String(us)}::BIGINT)`;
}

/** The remove predicate of the window's old destination rows. */
export function windowRemoveWhere(windowStartUs: number, windowEndUs: number): string {
  const time = quoteIdentifier(TIME_COLUMN);
  return `${time} >= ${timestampSql(windowStartUs)} AND ${time} < ${timestampSql(windowEndUs)}`;
}

/** The UTC days (`YYYY/MM/DD`) the window touches: the partitions to lease. */
function windowDays(windowStartUs: number, windowEndUs: number): string[] {
  const days = new Set<string>();
  for (let hourUs = windowStartUs - (windowStartUs % MICROS_PER_HOUR); hourUs < windowEndUs; hourUs += MICROS_PER_HOUR) days.add(partitionPath('day', hourUs));
  return [...days].sort();
}

function overlapping(files: readonly CatalogFile[], windowStartUs: number, windowEndUs: number): CatalogFile[] {
  return files.filter((file) => file.maxTimeUs >= windowStartUs && file.minTimeUs < windowEndUs);
}

function jobIdOf(nowMs: number): string {
  return `q-${nowMs.toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Takes every lease of the window's days, or releases those taken and throws 409 ARC_CQ_WINDOW_BUSY. */
async function leaseDays(host: WindowHost, database: string, measurement: string, jobId: string, days: readonly string[]): Promise<PartitionLease[]> {
  const leaseMs = host.config.leaseSeconds * 1000;
  const isDead = (holder: LeaseHolder): boolean => holder.node === host.storage.nodeId && !host.liveJobs.has(holder.job);
  const leases: PartitionLease[] = [];
  for (const dayPath of days) {
    const lease = await PartitionLease.acquire(host.storage.backend, { database, measurement, dayPath, jobId }, leaseMs, host.nowMs, isDead);
    if (isLease(lease)) {
      leases.push(lease);
      continue;
    }
    for (const taken of leases) await taken.release().catch(() => undefined);
    throw busy(lease);
  }
  return leases;
}

/** One staging path per hour of the window, in the destination's hour directories. */
async function outputSlots(host: WindowHost, database: string, measurement: string, windowStartUs: number, windowEndUs: number): Promise<CqOutputSlot[]> {
  const slots: CqOutputSlot[] = [];
  for (let hourUs = windowStartUs - (windowStartUs % MICROS_PER_HOUR); hourUs < windowEndUs; hourUs += MICROS_PER_HOUR) {
    slots.push({ hourUs, path: await host.storage.backend.stagingPathIn(partitionKey(database, measurement, hourUs)) });
  }
  return slots;
}

/** The window's source rows computed and staged (no source file in the window: no rows, nothing read). */
async function compute(host: WindowHost, request: WindowReplaceRequest, slots: readonly CqOutputSlot[]): Promise<CqWindowResult> {
  const { source, windowStartUs, windowEndUs } = request;
  await host.storage.ensureLoaded(source.database, source.measurement);
  const sourceFiles = overlapping(host.storage.catalog.files(source.database, source.measurement), windowStartUs, windowEndUs);
  if (sourceFiles.length === 0) return { recordsRead: 0, rows: 0, files: [], columns: [], tags: [] };
  const release = await host.storage.acquireFiles(sourceFiles);
  try {
    return await host.runner.computeCqWindow({
      source,
      sourceInputs: sourceFiles.map((file) => host.storage.locationOf(file.key)),
      query: request.query,
      windowStartUs,
      windowEndUs,
      outputs: slots,
      compressionLevel: host.config.compressionLevel,
      rowGroupSize: host.config.rowGroupSize,
    });
  } catch (error) {
    if (error instanceof ArcError) throw new ArcError(ErrorKind.badRequest, CqErrorCode.windowFailed, `The continuous query's window ${hourPartitionPath(windowStartUs)} failed: ${error.message}`);
    throw error;
  } finally {
    release();
  }
}

/** Names the window's new files (written now by this node: they sort after every file written before). */
async function nameComputed(host: WindowHost, database: string, measurement: string, computed: CqWindowResult): Promise<StagedReplacementFile[]> {
  if (computed.files.length === 0) return [];
  const schemaId = schemaIdOf(computed.columns);
  await host.storage.backend.putIfAbsent(schemaKey(database, measurement, schemaId), encodeSchema(computed.columns));
  const writtenAtMs = host.nowMs();
  const staged: StagedReplacementFile[] = [];
  for (const file of computed.files) {
    const bytes = await host.storage.backend.sealStaged(file.path);
    const unique = `q${randomBytes(6).toString('hex')}`;
    const key = dataFileKey({ database, measurement, hourUs: file.hourUs, nodeId: host.storage.nodeId, unique, rows: file.rows, bytes, minTimeUs: file.minTimeUs, maxTimeUs: file.maxTimeUs, writtenAtMs, schemaId });
    staged.push({ staging: file.path, key, columns: computed.columns });
  }
  return staged;
}

/** Stages each old destination file of the window without its rows of the window (a file wholly inside goes without an output). */
async function stageOldFiles(host: WindowHost, request: WindowReplaceRequest, olds: readonly CatalogFile[], stagingPaths: string[]): Promise<StagedReplacementFile[]> {
  const removeWhere = windowRemoveWhere(request.windowStartUs, request.windowEndUs);
  const staged: StagedReplacementFile[] = [];
  for (const old of olds) {
    if (old.minTimeUs >= request.windowStartUs && old.maxTimeUs < request.windowEndUs) continue;
    const [planned] = planRewrite([old], removeWhere);
    assert.ok(planned !== undefined, 'a file is one rewrite job');
    const directory = `${request.destination.database}/${request.destination.measurement}/${partitionPath(old.span, old.hourUs)}`;
    const paths = [await host.storage.backend.stagingPathIn(directory), await host.storage.backend.stagingPathIn(directory)];
    stagingPaths.push(...paths);
    staged.push(...(await host.stageRewrite(old, paths, removeWhere)));
  }
  return staged;
}

/**
 * Rows of the old files inside the window, from their names: all their rows less what the
 * rewrites kept. A dry run does not rewrite: null when a file straddles the window (its share is
 * unknown) or a name carries no row count.
 */
function rowsRemovedOf(olds: readonly CatalogFile[], window: { readonly windowStartUs: number; readonly windowEndUs: number }, keptRows: number | null): number | null {
  let rows = 0;
  for (const old of olds) {
    const inside = old.minTimeUs >= window.windowStartUs && old.maxTimeUs < window.windowEndUs;
    if (old.rows === null || (keptRows === null && !inside)) return null;
    rows += old.rows;
  }
  return rows - (keptRows ?? 0);
}

/**
 * Runs one window (see the module comment). Throws 409 ARC_CQ_WINDOW_BUSY when another job holds
 * a partition of the window (nothing changed), 400 ARC_CQ_WINDOW_FAILED when the query fails.
 */
export async function replaceWindow(host: WindowHost, request: WindowReplaceRequest): Promise<WindowReplaceResult> {
  const { database, measurement: destination } = request.destination;
  const jobId = jobIdOf(host.nowMs());
  host.liveJobs.add(jobId);
  const stagingPaths: string[] = [];
  let leases: PartitionLease[] = [];
  let renewal: NodeJS.Timeout | null = null;
  try {
    await host.storage.ensureLoaded(database, destination);
    await host.storage.ensureLoaded(request.source.database, request.source.measurement);
    // No row to read and none to replace: no lease, no lock object, nothing staged (an idle
    // source costs its queries nothing per window, and makes no destination directory).
    const inWindow = (of: CqSource): number => overlapping(host.storage.catalog.files(of.database, of.measurement), request.windowStartUs, request.windowEndUs).length;
    if (inWindow(request.source) === 0 && inWindow(request.destination) === 0) return { recordsRead: 0, recordsWritten: 0, recordsRemoved: 0, filesWritten: 0, filesReplaced: 0 };
    if (!request.dryRun) {
      leases = await leaseDays(host, database, destination, jobId, windowDays(request.windowStartUs, request.windowEndUs));
      renewal = setInterval(() => leases.forEach((lease) => void lease.renew().catch(() => undefined)), (host.config.leaseSeconds * 1000) / LEASE_RENEWALS_PER_LEASE);
      renewal.unref();
      host.onStep?.('leased');
      await host.storage.relist(database, destination);
    }
    const slots = await outputSlots(host, database, destination, request.windowStartUs, request.windowEndUs);
    stagingPaths.push(...slots.map((slot) => slot.path));
    const computed = await compute(host, request, slots);
    const olds = overlapping(host.storage.catalog.files(database, destination), request.windowStartUs, request.windowEndUs);
    if (request.dryRun) return { recordsRead: computed.recordsRead, recordsWritten: computed.rows, recordsRemoved: rowsRemovedOf(olds, request, null), filesWritten: computed.files.length, filesReplaced: olds.length };
    const newFiles = await nameComputed(host, database, destination, computed);
    const rewritten = await stageOldFiles(host, request, olds, stagingPaths);
    host.onStep?.('computed');
    const rewrittenRows = rewritten.reduce((sum, file) => sum + (parseFileKey(file.key)?.rows ?? 0), 0);
    const result = { recordsRead: computed.recordsRead, recordsWritten: computed.rows, recordsRemoved: rowsRemovedOf(olds, request, rewrittenRows), filesWritten: newFiles.length, filesReplaced: olds.length };
    if (olds.length === 0 && newFiles.length === 0) return result;
    for (const lease of leases) if (!(await lease.holds())) throw new ArcError(ErrorKind.conflict, CqErrorCode.windowBusy, 'The window\'s partition lease ran out before the commit; the window runs again later');
    const replacement = await host.storage.replaceFiles(jobId, olds.map((file) => file.key), [...rewritten, ...newFiles], (step) => host.onStep?.(step));
    await host.queriesEnded();
    await host.storage.finishReplacement(replacement, (step) => host.onStep?.(step));
    return result;
  } finally {
    if (renewal !== null) clearInterval(renewal);
    for (const lease of leases) await lease.release().catch(() => undefined);
    // Published outputs are not staged any more; the rest (unused slots, or a failed window's) go.
    for (const path of stagingPaths) await host.storage.backend.discard(path).catch(() => undefined);
    host.liveJobs.delete(jobId);
  }
}

