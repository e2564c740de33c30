import assert from 'node:assert/strict';
import { compareWriteOrder, dayStartUs, partitionPath, type CatalogFile, type PartitionSpan } from '@arc/storage';
import { JOB_INPUT_FILES_MAX } from './limits.js';
import { lockPartitionOf, type PlannedJob } from './planner.js';

/**
 * The jobs of a rewrite (a delete, retention's straddling files, a continuous query's window).
 * A file that is rewritten is its own job: its output takes its write position (as compaction's
 * outputs take their newest input's), so the write order of every row stays as it was. Merging
 * two files that other files of the partition sit between in write order would move the older
 * one's rows after those files, and a later deduplicating merge would let them win.
 *
 * Files deleted whole (no predicate) have no output, so nothing orders them: they go in bulk, one
 * job per lease scope (a day: the partition lock every job of that day takes, planner.ts
 * lockPartitionOf), never more than JOB_INPUT_FILES_MAX inputs. Such a job takes one lease,
 * writes one replace manifest, makes one catalog change and deletes its inputs in batches: on an
 * object store every one of those is a round trip, and a job per hour file cost ~0.4 s each
 * (docs/benchmarks.md, "Retention drops"). The candidate's tier names the partition's size
 * (hourly: an hour directory, daily: a day directory, or a day's drops spanning several hours);
 * a rewrite is not recorded in compaction's history.
 */
export function planRewrite(files: readonly CatalogFile[], removeWhere: string | null): PlannedJob[] {
  if (removeWhere !== null) return [...files].sort(compareWriteOrder).map((file) => rewriteJob([file], file.span, file.hourUs, removeWhere));
  return planDrops(files);
}

/** Files deleted whole: one job per day (the lease's scope), at most JOB_INPUT_FILES_MAX inputs each. */
function planDrops(files: readonly CatalogFile[]): PlannedJob[] {
  const byDay = new Map<number, CatalogFile[]>();
  for (const file of files) {
    const dayUs = dayStartUs(file.hourUs);
    const group = byDay.get(dayUs);
    if (group === undefined) byDay.set(dayUs, [file]);
    else group.push(file);
  }
  const jobs: PlannedJob[] = [];
  for (const [dayUs, group] of [...byDay].sort(([a], [b]) => a - b)) {
    const sorted = [...group].sort(compareWriteOrder);
    for (let start = 0; start < sorted.length; start += JOB_INPUT_FILES_MAX) {
      const inputs = sorted.slice(start, start + JOB_INPUT_FILES_MAX);
      const first = inputs[0];
      assert.ok(first !== undefined, 'a drop job has inputs');
      // Inputs of one partition name it; of several hours of the day, the day.
      const onePartition = inputs.every((input) => input.span === first.span && input.hourUs === first.hourUs);
      jobs.push(onePartition ? rewriteJob(inputs, first.span, first.hourUs, null) : rewriteJob(inputs, 'day', dayUs, null));
    }
  }
  return jobs;
}

function rewriteJob(inputs: readonly CatalogFile[], span: PartitionSpan, partitionStartUs: number, removeWhere: string | null): PlannedJob {
  const first = inputs[0];
  assert.ok(first !== undefined, 'a rewrite job has inputs');
  const { database, measurement } = first;
  for (const input of inputs) assert.ok(input.database === database && input.measurement === measurement, 'a rewrite job is of one measurement');
  const bytes = inputs.reduce((sum, input) => sum + input.bytes, 0);
  const partition = partitionPath(span, partitionStartUs);
  const job: PlannedJob = { candidate: { database, measurement, tier: span === 'hour' ? 'hourly' : 'daily', partition, files: inputs.length, bytes }, span, partitionStartUs, inputs, removeWhere };
  for (const input of inputs) assert.ok(lockPartitionOf(job) === partitionPath('day', input.hourUs), 'a rewrite job holds the lease of each input');
  return job;
}
