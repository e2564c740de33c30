import assert from 'node:assert/strict';
import { compareWriteOrder, partitionPath, type CatalogFile } from '@arc/storage';
import { JOB_INPUT_FILES_MAX } from './limits.js';
import type { PlannedJob } from './planner.js';

/**
 * The jobs of a rewrite (a delete, retention's straddling files, a continuous query's window).
 * A file that is rewritten is its own job: its output takes its write position (as compaction's
 * outputs take their newest input's), so the write order of every row stays as it was. Merging
 * two files that other files of the partition sit between in write order would move the older
 * one's rows after those files, and a later deduplicating merge would let them win. Files
 * deleted whole (no predicate) have no output: one job per partition, never more than
 * JOB_INPUT_FILES_MAX inputs. The candidate's tier names the partition's size (hourly: an hour
 * directory, daily: a day directory); a rewrite is not recorded in compaction's history.
 */
export function planRewrite(files: readonly CatalogFile[], removeWhere: string | null): PlannedJob[] {
  if (removeWhere !== null) return [...files].sort(compareWriteOrder).map((file) => rewriteJob([file], removeWhere));
  const groups = new Map<string, CatalogFile[]>();
  for (const file of files) {
    const key = `${file.span}/${String(file.hourUs)}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [file]);
    else group.push(file);
  }
  const jobs: PlannedJob[] = [];
  for (const group of groups.values()) {
    const sorted = [...group].sort(compareWriteOrder);
    for (let start = 0; start < sorted.length; start += JOB_INPUT_FILES_MAX) jobs.push(rewriteJob(sorted.slice(start, start + JOB_INPUT_FILES_MAX), removeWhere));
  }
  return jobs;
}

function rewriteJob(inputs: readonly CatalogFile[], removeWhere: string | null): PlannedJob {
  const first = inputs[0];
  assert.ok(first !== undefined, 'a rewrite job has inputs');
  const { database, measurement, span, hourUs } = first;
  for (const input of inputs) assert.ok(input.database === database && input.measurement === measurement, 'a rewrite job is of one measurement');
  const bytes = inputs.reduce((sum, input) => sum + input.bytes, 0);
  const partition = partitionPath(span, hourUs);
  return { candidate: { database, measurement, tier: span === 'hour' ? 'hourly' : 'daily', partition, files: inputs.length, bytes }, span, partitionStartUs: hourUs, inputs, removeWhere };
}
