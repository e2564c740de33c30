import assert from 'node:assert/strict';
import { compareWriteOrder, partitionPath, type CatalogFile } from '@arc/storage';
import { JOB_INPUT_FILES_MAX } from './limits.js';
import type { PlannedJob } from './planner.js';

/**
 * The jobs of a rewrite (a delete, retention's straddling files, a continuous query's window):
 * one per partition of the files, never more than JOB_INPUT_FILES_MAX inputs each, inputs in
 * write order (the outputs take the newest input's write position, as compaction's do, so later
 * writes still win over them). The candidate's tier names the partition's size (hourly: an hour
 * directory, daily: a day directory); a rewrite is not recorded in compaction's history.
 */
export function planRewrite(files: readonly CatalogFile[], removeWhere: string | null): PlannedJob[] {
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
