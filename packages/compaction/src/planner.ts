import assert from 'node:assert/strict';
import type { CompactionConfig } from '@arc/config';
import { MICROS_PER_HOUR, compareWriteOrder, dayStartUs, isCompactedKey, partitionPath, spanMicros, type CatalogFile, type PartitionSpan } from '@arc/storage';
import { JOB_INPUT_FILES_MAX, LIVE_RUN_GROWTH_FACTOR } from './limits.js';
import type { CompactionCandidate, CompactionTier } from './types.js';

/**
 * Which files to merge (docs/architecture.md, Compaction). Pure: the measurement's files and the
 * time in, jobs out. Every job's inputs are a contiguous run of its partition's files in write
 * order, so the output can take the place of its newest input and "the latest write wins" holds
 * for every file left out (storage's layout: compactedUnique).
 *
 * - live: an hour holding more than `live_max_files` files merges its newest small files: going back
 *   from the newest file, an older one joins while it is at most LIVE_RUN_GROWTH_FACTOR times the
 *   run so far. Files merge like a binary counter, each row is rewritten O(log n) times in an
 *   hour, and the hour holds about live_max_files + log2(flushes per hour) files at most; past
 *   twice live_max_files the whole hour is merged.
 * - hourly: an hour that ended at least `min_age_hours` ago with at least `min_files` files is
 *   merged whole, unless it is merged already (compacted files only, no more than its size needs).
 * - daily: a day that ended at least `daily_min_age_hours` ago becomes day files the same way.
 */

export type PlannerConfig = Pick<CompactionConfig, 'liveMaxFiles' | 'minAgeHours' | 'minFiles' | 'dailyMinAgeHours' | 'targetFileBytes'>;

/** A job to run: its candidate (what the endpoints show) and its inputs, oldest write first. */
export interface PlannedJob {
  readonly candidate: CompactionCandidate;
  readonly span: PartitionSpan;
  /** Start of the output's partition (hour or day), µs. */
  readonly partitionStartUs: number;
  readonly inputs: readonly CatalogFile[];
  /**
   * A rewrite (rewrite-planner.ts): the rows this predicate matches are left out; null: every
   * row goes, and the files are deleted without being read. Absent: a compaction.
   */
  readonly removeWhere?: string | null;
}

/** The partition lock a job takes: its day, so no two tiers ever merge the same files at once. */
export function lockPartitionOf(job: PlannedJob): string {
  return partitionPath('day', job.partitionStartUs);
}

function groupBy<K>(files: readonly CatalogFile[], keyOf: (file: CatalogFile) => K): Map<K, CatalogFile[]> {
  const groups = new Map<K, CatalogFile[]>();
  for (const file of files) {
    const group = groups.get(keyOf(file));
    if (group === undefined) groups.set(keyOf(file), [file]);
    else group.push(file);
  }
  return groups;
}

function bytesOf(files: readonly CatalogFile[]): number {
  return files.reduce((sum, file) => sum + file.bytes, 0);
}

/** True when merging the files again would write the same: compacted already, no more files than their size needs. */
function alreadyMerged(files: readonly CatalogFile[], span: PartitionSpan, targetFileBytes: number): boolean {
  if (!files.every((file) => file.span === span && isCompactedKey(file.key))) return false;
  return files.length <= Math.max(1, Math.ceil(bytesOf(files) / targetFileBytes));
}

function job(tier: CompactionTier, span: PartitionSpan, partitionStartUs: number, inputs: readonly CatalogFile[]): PlannedJob {
  assert.ok(inputs.length >= 2, 'a job merges at least two files');
  const first = inputs[0] as CatalogFile;
  const candidate: CompactionCandidate = {
    database: first.database,
    measurement: first.measurement,
    tier,
    partition: partitionPath(span, partitionStartUs),
    files: inputs.length,
    bytes: bytesOf(inputs),
  };
  return { candidate, span, partitionStartUs, inputs };
}

/** The newest run of the hour's files (write order) that the live tier merges; empty: none to merge. */
export function liveRun(ordered: readonly CatalogFile[], liveMaxFiles: number): readonly CatalogFile[] {
  if (ordered.length <= liveMaxFiles) return [];
  if (ordered.length > 2 * liveMaxFiles) return ordered.slice(-JOB_INPUT_FILES_MAX);
  let start = ordered.length - 1;
  let runBytes = (ordered[start] as CatalogFile).bytes;
  while (start > 0 && ordered.length - start < JOB_INPUT_FILES_MAX) {
    const older = ordered[start - 1] as CatalogFile;
    if (older.bytes > LIVE_RUN_GROWTH_FACTOR * runBytes) break;
    start--;
    runBytes += older.bytes;
  }
  return ordered.length - start >= 2 ? ordered.slice(start) : [];
}

/**
 * The jobs of one measurement's files for the tiers asked, at `nowUs`. A day that the daily tier
 * merges is left to it by the other tiers (one job covers it).
 */
export function planMeasurement(files: readonly CatalogFile[], tiers: ReadonlySet<CompactionTier>, nowUs: number, config: PlannerConfig): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  const dailyDays = new Set<number>();
  const ordered = [...files].sort(compareWriteOrder);
  if (tiers.has('daily')) {
    const dayEndMaxUs = nowUs - config.dailyMinAgeHours * MICROS_PER_HOUR;
    for (const [dayUs, dayFiles] of groupBy(ordered, (file) => dayStartUs(file.hourUs))) {
      if (dayUs + spanMicros('day') > dayEndMaxUs || dayFiles.length < config.minFiles) continue;
      if (alreadyMerged(dayFiles, 'day', config.targetFileBytes)) continue;
      dailyDays.add(dayUs);
      jobs.push(job('daily', 'day', dayUs, dayFiles.slice(-JOB_INPUT_FILES_MAX)));
    }
  }
  const hourFiles = ordered.filter((file) => file.span === 'hour' && !dailyDays.has(dayStartUs(file.hourUs)));
  const hourEndMaxUs = nowUs - config.minAgeHours * MICROS_PER_HOUR;
  for (const [hourUs, inHour] of groupBy(hourFiles, (file) => file.hourUs)) {
    const closed = hourUs + MICROS_PER_HOUR <= hourEndMaxUs;
    if (tiers.has('hourly') && closed && inHour.length >= config.minFiles && !alreadyMerged(inHour, 'hour', config.targetFileBytes)) {
      jobs.push(job('hourly', 'hour', hourUs, inHour.slice(-JOB_INPUT_FILES_MAX)));
      continue;
    }
    if (!tiers.has('live')) continue;
    const run = liveRun(inHour, config.liveMaxFiles);
    if (run.length > 0) jobs.push(job('live', 'hour', hourUs, run));
  }
  return jobs;
}
