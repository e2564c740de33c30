// Proves that bench/query/floor.mjs refuses bad usage with exit 2 and, over a small data dir laid
// out as Arc lays it out, prints one line per variant whose answers agree (the same query over the
// hour files, one compacted file, a kept statement and an in-memory table) and a summary line.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runScript } from './run-script.js';

const SCRIPT = path.join(REPO_ROOT, 'bench', 'query', 'floor.mjs');

describe('floor.mjs', () => {
  let root: string;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), 'arc-floor-test-'));
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    // Two hours of 100 hosts, a row per host every 10 s, one file per hour (the columns the query reads).
    for (const hour of [0, 1]) {
      const directory = path.join(root, 'arc', 'bench_query', 'cpu', '2016', '01', '01', `0${String(hour)}`);
      mkdirSync(directory, { recursive: true });
      await connection.run(
        `COPY (SELECT TIMESTAMP '2016-01-01 0${String(hour)}:00:00' + to_seconds((i // 100) * 10) AS time, 'host_' || (i % 100) AS hostname, (i * 7) % 100 AS usage_user
         FROM range(36000) t(i)) TO '${path.join(directory, 'cpu_a.parquet')}' (FORMAT parquet)`,
      );
    }
    connection.closeSync();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it.each([[[]], [['--data-dir', '/nonexistent-arc-floor']], [['--data-dir', '.', '--rounds', '-1']]])('refuses %j with exit 2', async (args) => {
    const run = await runScript(SCRIPT, args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('times every variant over the files and agrees on the answers', async () => {
    const run = await runScript(SCRIPT, ['--data-dir', root, '--rounds', '3', '--warmup', '1']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const byVariant = new Map(lines.filter((line) => 'variant' in line).map((line) => [line.variant, line]));
    expect([...byVariant.keys()].sort()).toEqual(
      ['as-written', 'compacted', 'compacted-kept-statement', 'in-memory-table', 'one-host-hour', 'one-host-hour-in-memory', 'parse-new-text', 'select-1'].sort(),
    );
    const rows = ['as-written', 'compacted', 'compacted-kept-statement', 'in-memory-table'].map((name) => byVariant.get(name)?.rows);
    expect(new Set(rows).size).toBe(1);
    expect(rows[0]).toBeGreaterThanOrEqual(60);
    expect(byVariant.get('one-host-hour')?.rows).toBe(60);
    expect(byVariant.get('one-host-hour-in-memory')?.rows).toBe(60);
    expect(byVariant.get('select-1')?.rows).toBe(1);
    expect((byVariant.get('as-written')?.total_ms as { median: number }).median).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ summary: 'query-floor', hour_files: 2, one_host_hour_rows: 360 });
  }, 120_000);
});
