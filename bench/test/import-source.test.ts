// Proves that bench/ingest/import-source.mjs refuses bad usage with exit 2 and, with a real influxd
// (skipped without one; CI installs it), imports its smoke rows through Arc's connection and job
// routes and reads every one back, by running the script. Run `npm run build` first.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runScript } from './run-script.js';

const SCRIPT = 'bench/ingest/import-source.mjs';
const influxdHere = spawnSync('influxd', ['version']).status === 0;

describe('import-source.mjs', () => {
  it.each([[['--rows', '0']], [['--runs', '1.5']], [['--source', 'mysql']]])('refuses %j with exit 2', async (args) => {
    const run = await runScript(SCRIPT, args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
  });

  it.skipIf(!influxdHere)('imports 2,000 rows from influxd through a job and reads them all back', async () => {
    const run = await runScript(SCRIPT, ['--rows', '2000', '--runs', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const line = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({ bench: 'import-source', source: 'influx1', rows: 2000, rows_rejected: 0, read_back: 2000, read_back_ok: true });
    expect(line.rows_per_s).toBeGreaterThan(0);
    expect(line.server_cpu_s).toBeGreaterThan(0);
  }, 120_000);
});
