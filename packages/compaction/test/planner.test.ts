// Proves the planner on synthetic catalogs: an hour of flushes under the live tier never holds more
// than live_max_files plus a few files and rewrites each byte O(log n) times; the hourly tier takes
// closed hours only and leaves merged ones alone; the daily tier takes days old enough and keeps
// the other tiers off them; every job's inputs are a contiguous run in write order.
import { describe, expect, it } from 'vitest';
import { MICROS_PER_HOUR, compareWriteOrder, dataFileKey, parseFileKey, type CatalogFile } from '@arc/storage';
import { liveRun, planMeasurement, type PlannerConfig } from '../src/planner.js';

const CONFIG: PlannerConfig = { liveMaxFiles: 16, minAgeHours: 1, minFiles: 2, dailyMinAgeHours: 24, targetFileBytes: 512 * 1024 * 1024 };
const HOUR_US = Date.parse('2026-02-03T10:00:00Z') * 1000;
const SCHEMA_ID = '0123456789abcdef';

let sequence = 0;
function file(hourUs: number, bytes: number, options: { compacted?: boolean; span?: 'hour' | 'day' } = {}): CatalogFile {
  sequence++;
  const unique = `w0-${String(sequence).padStart(6, '0')}-000000${options.compacted === true ? '-c1' : ''}`;
  const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs, span: options.span ?? 'hour', nodeId: 'n1', unique, rows: 1, bytes, minTimeUs: hourUs, maxTimeUs: hourUs, writtenAtMs: Date.parse('2026-02-03T10:00:00Z'), schemaId: SCHEMA_ID });
  const facts = parseFileKey(key);
  if (facts === null) throw new Error('parsed');
  return { ...facts, key, bytes, columns: null };
}

describe('planner', () => {
  it('keeps a live hour of 720 flushes at most live_max_files + log2(720) files, rewriting each byte O(log n) times', () => {
    let files: CatalogFile[] = [];
    let maxFiles = 0;
    let bytesWritten = 0;
    const flushBytes = 1000;
    for (let flush = 0; flush < 720; flush++) {
      files.push(file(HOUR_US, flushBytes));
      for (;;) {
        const run = liveRun(files, CONFIG.liveMaxFiles);
        if (run.length === 0) break;
        const runBytes = run.reduce((sum, entry) => sum + entry.bytes, 0);
        bytesWritten += runBytes;
        // The output takes the newest input's place: the end of the list.
        files = [...files.slice(0, files.length - run.length), file(HOUR_US, runBytes, { compacted: true })];
      }
      maxFiles = Math.max(maxFiles, files.length);
    }
    expect(maxFiles).toBeLessThanOrEqual(CONFIG.liveMaxFiles + Math.ceil(Math.log2(720)));
    expect(files.reduce((sum, entry) => sum + entry.bytes, 0)).toBe(720 * flushBytes);
    expect(bytesWritten / (720 * flushBytes)).toBeLessThanOrEqual(Math.log2(720) + 1);
  });

  it('merges a contiguous newest run only, and the whole hour once it holds twice live_max_files', () => {
    const big = file(HOUR_US, 1_000_000, { compacted: true });
    const small = Array.from({ length: 17 }, () => file(HOUR_US, 10));
    expect(liveRun([big, ...small], 16)).toEqual(small);
    expect(liveRun([big, ...small.slice(0, 15)], 16)).toEqual([]);
    const many = Array.from({ length: 33 }, (_, index) => file(HOUR_US, 10 ** (index % 4)));
    expect(liveRun(many, 16)).toHaveLength(33);
  });

  it('takes closed hours whole in the hourly tier, not the open one, and not an hour merged already', () => {
    const nowUs = HOUR_US + 3 * MICROS_PER_HOUR + 1;
    const closed = [file(HOUR_US, 10), file(HOUR_US, 20)];
    const merged = [file(HOUR_US + MICROS_PER_HOUR, 10, { compacted: true })];
    const open = [file(HOUR_US + 3 * MICROS_PER_HOUR, 10), file(HOUR_US + 3 * MICROS_PER_HOUR, 10)];
    const jobs = planMeasurement([...open, ...merged, ...closed], new Set(['hourly']), nowUs, CONFIG);
    expect(jobs.map((job) => [job.candidate.tier, job.candidate.partition, job.candidate.files])).toEqual([['hourly', '2026/02/03/10', 2]]);
    expect(jobs[0]?.inputs.map((input) => input.key)).toEqual([...closed].sort(compareWriteOrder).map((input) => input.key));
  });

  it('turns a day old enough into one daily job and keeps the hourly tier off its hours', () => {
    const dayUs = Date.parse('2026-02-01T00:00:00Z') * 1000;
    const nowUs = Date.parse('2026-02-03T10:00:00Z') * 1000;
    const files = [file(dayUs + MICROS_PER_HOUR, 10), file(dayUs + MICROS_PER_HOUR, 10), file(dayUs + 5 * MICROS_PER_HOUR, 10)];
    const jobs = planMeasurement(files, new Set(['hourly', 'daily']), nowUs, CONFIG);
    expect(jobs.map((job) => [job.candidate.tier, job.candidate.partition, job.candidate.files, job.span])).toEqual([['daily', '2026/02/01', 3, 'day']]);
    // A day merged already (one day file) is left alone; one that is too young is not a candidate.
    expect(planMeasurement([file(dayUs, 10, { compacted: true, span: 'day' })], new Set(['daily']), nowUs, CONFIG)).toEqual([]);
    expect(planMeasurement(files, new Set(['daily']), dayUs + 30 * MICROS_PER_HOUR, CONFIG)).toEqual([]);
  });
});
