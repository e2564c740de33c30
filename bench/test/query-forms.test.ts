// Proves that bench/query/forms.mjs refuses bad usage with exit 2 and, over a small data dir laid
// out and named as Arc lays out its files, prints one line per form of lastpoint and of
// single-groupby-5-1-12, every form that answers the query with the statement's own answer, and a
// summary line.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runScript } from './run-script.js';

const SCRIPT = path.join(REPO_ROOT, 'bench', 'query', 'forms.mjs');
const HOUR_US = 3_600_000_000;
const START_US = Date.UTC(2016, 0, 1) * 1000;

describe('forms.mjs', () => {
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'arc-forms-test-'));
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    // Two hours of 100 hosts, a row per host every 10 s, one file per hour named with its time bounds.
    for (const hour of [0, 1]) {
      const directory = path.join(root, 'arc', 'bench_query', 'cpu', '2016', '01', '01', `0${String(hour)}`);
      mkdirSync(directory, { recursive: true });
      const minUs = START_US + hour * HOUR_US;
      const name = `20261206T000000_n1_a${String(hour)}_36000r_1b_${String(minUs)}_${String(minUs + HOUR_US - 10_000_000)}_15fd7f1888fdf2a3.parquet`;
      const fields = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait'].map((field, index) => `(i * ${String(index + 3)}) % 100 AS ${field}`).join(', ');
      await connection.run(
        `COPY (SELECT TIMESTAMP '2016-01-01 0${String(hour)}:00:00' + to_seconds((i // 100) * 10) AS time, 'host_' || (i % 100) AS hostname, ${fields}
         FROM range(36000) t(i)) TO '${path.join(directory, name)}' (FORMAT parquet)`,
      );
    }
    connection.closeSync();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it.each([[[]], [['--data-dir', '/nonexistent-arc-forms']], [['--data-dir', '.', '--query', 'high-cpu-all']]])('refuses %j with exit 2', async (args) => {
    const run = await runScript(SCRIPT, args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it.each([
    ['lastpoint', 100, ['view', 'plain-list', 'semi-join', 'inner-join', 'qualify', 'step-2-constants-in', 'step-2-constants-semi-join', 'step-2-narrowed-statement'], ['subquery-view', 'subquery-plain-list', 'step-2-rows-only']],
    ['single-groupby-5-1-12', 120, ['view', 'one-time-sorted-file', 'host-sorted-hour-files', 'compacted-file'], ['plain-list', 'where-only-count', 'hostname-only-count']],
  ])('times every form of %s, and the forms that answer it agree', async (query, rows, answering, parts) => {
    const run = await runScript(SCRIPT, ['--data-dir', path.join(root), '--query', query, '--rounds', '2', '--warmup', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const byForm = new Map(lines.filter((line) => 'form' in line).map((line) => [line.form, line]));
    expect([...byForm.keys()].sort()).toEqual([...answering, ...parts].sort());
    for (const form of answering) expect(byForm.get(form)).toMatchObject({ same_answer: true, rows });
    for (const form of parts) expect(byForm.get(form)?.same_answer).toBeNull();
    expect(byForm.get('plain-list')?.total_ms).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ summary: 'query-forms', query, rounds: 2 });
  }, 120_000);
});
