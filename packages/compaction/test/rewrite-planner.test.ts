// Proves how a rewrite's files become jobs, on synthetic catalogs: files dropped whole (no
// predicate) go in bulk, one job per day (the lease's scope) holding every file of that day, hour
// and day partitions together, never more than JOB_INPUT_FILES_MAX inputs; files rewritten with a
// predicate stay one job each, in write order; and a retention plan of a few days of hour files
// plus a straddling one is one drop job per day and one rewrite job for the straddling file.
import { describe, expect, it } from 'vitest';
import { MICROS_PER_DAY, MICROS_PER_HOUR, dataFileKey, parseFileKey, type CatalogFile } from '@arc/storage';
import { JOB_INPUT_FILES_MAX } from '../src/limits.js';
import { lockPartitionOf } from '../src/planner.js';
import { planRetention } from '../src/retention-plan.js';
import { planRewrite } from '../src/rewrite-planner.js';

const DAY_1_US = Date.parse('2026-03-01T00:00:00Z') * 1000;
const SCHEMA_ID = '0123456789abcdef';

let sequence = 0;
function file(hourUs: number, options: { span?: 'hour' | 'day'; minTimeUs?: number; maxTimeUs?: number } = {}): CatalogFile {
  sequence++;
  const key = dataFileKey({
    database: 'db',
    measurement: 'cpu',
    hourUs,
    span: options.span ?? 'hour',
    nodeId: 'n1',
    unique: `w0-${String(sequence).padStart(6, '0')}-000000`,
    rows: 2,
    bytes: 100,
    minTimeUs: options.minTimeUs ?? hourUs,
    maxTimeUs: options.maxTimeUs ?? hourUs + 1,
    writtenAtMs: 1000 + sequence,
    schemaId: SCHEMA_ID,
  });
  const facts = parseFileKey(key);
  if (facts === null) throw new Error('a data file key');
  return { ...facts, key, bytes: 100, columns: null };
}

function hourFiles(dayUs: number, hours: number): CatalogFile[] {
  return Array.from({ length: hours }, (_, hour) => file(dayUs + hour * MICROS_PER_HOUR));
}

describe('planRewrite', () => {
  it('drops a day of files in one job, whatever their partitions: one lease, one manifest', () => {
    const day1 = hourFiles(DAY_1_US, 24);
    const day1Compacted = file(DAY_1_US, { span: 'day' });
    const day2 = hourFiles(DAY_1_US + MICROS_PER_DAY, 5);
    // Out of order on purpose: jobs come out by day, inputs in write order.
    const jobs = planRewrite([...day2, day1Compacted, ...day1].reverse(), null);
    expect(jobs.map((job) => [job.candidate.partition, job.candidate.tier, job.span, job.inputs.length, job.removeWhere])).toEqual([
      ['2026/03/01', 'daily', 'day', 25, null],
      ['2026/03/02', 'daily', 'day', 5, null],
    ]);
    expect(jobs[0]?.inputs.map((input) => input.key).sort()).toEqual([...day1, day1Compacted].map((input) => input.key).sort());
    expect(jobs[1]?.inputs.map((input) => input.key)).toEqual(day2.map((input) => input.key));
    expect(jobs.map((job) => lockPartitionOf(job))).toEqual(['2026/03/01', '2026/03/02']);
    expect(jobs.map((job) => [job.candidate.files, job.candidate.bytes])).toEqual([
      [25, 2500],
      [5, 500],
    ]);
  });

  it('names the hour when a drop job\'s files are all of one hour', () => {
    const files = [file(DAY_1_US + 3 * MICROS_PER_HOUR), file(DAY_1_US + 3 * MICROS_PER_HOUR)];
    expect(planRewrite(files, null).map((job) => [job.candidate.partition, job.candidate.tier, job.span, job.partitionStartUs, job.inputs.length])).toEqual([['2026/03/01/03', 'hourly', 'hour', DAY_1_US + 3 * MICROS_PER_HOUR, 2]]);
  });

  it('splits a day with more files than a job takes', () => {
    const files = Array.from({ length: JOB_INPUT_FILES_MAX + 3 }, (_, index) => file(DAY_1_US + (index % 24) * MICROS_PER_HOUR));
    expect(planRewrite(files, null).map((job) => [job.candidate.partition, job.inputs.length])).toEqual([
      ['2026/03/01', JOB_INPUT_FILES_MAX],
      ['2026/03/01', 3],
    ]);
  });

  it('rewrites each file with a predicate in a job of its own, in write order', () => {
    const files = hourFiles(DAY_1_US, 3);
    const jobs = planRewrite([...files].reverse(), "host = 'a'");
    expect(jobs.map((job) => [job.inputs.map((input) => input.key), job.candidate.partition, job.removeWhere])).toEqual(files.map((input, hour) => [[input.key], `2026/03/01/0${String(hour)}`, "host = 'a'"]));
  });

  it('turns a retention plan of three days of hour files and a straddling one into a drop job per day and one rewrite', () => {
    const expired = [...hourFiles(DAY_1_US, 24), ...hourFiles(DAY_1_US + MICROS_PER_DAY, 24), ...hourFiles(DAY_1_US + 2 * MICROS_PER_DAY, 10)];
    const straddlingHourUs = DAY_1_US + 2 * MICROS_PER_DAY + 10 * MICROS_PER_HOUR;
    const straddling = file(straddlingHourUs, { minTimeUs: straddlingHourUs, maxTimeUs: straddlingHourUs + 59 * 60_000_000 });
    const kept = hourFiles(DAY_1_US + 2 * MICROS_PER_DAY + 11 * MICROS_PER_HOUR, 5);
    const plan = planRetention([...expired, straddling, ...kept], straddlingHourUs + 30 * 60_000_000);
    expect(plan.drop.map((input) => input.key)).toEqual(expired.map((input) => input.key));
    expect(plan.rewrite.map((input) => input.key)).toEqual([straddling.key]);
    expect(planRewrite(plan.drop, null).map((job) => [job.candidate.partition, job.inputs.length])).toEqual([
      ['2026/03/01', 24],
      ['2026/03/02', 24],
      ['2026/03/03', 10],
    ]);
    expect(planRewrite(plan.rewrite, 'time < x').map((job) => [job.candidate.partition, job.inputs.length])).toEqual([['2026/03/03/10', 1]]);
  });
});
