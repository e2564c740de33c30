// Proves that bench/query/select-one.mjs refuses bad usage with exit 2 and, against a spawned
// server, prints one JSON line whose latencies are ordered and positive, by running the script.
// Run `npm run build` first: the script spawns the built server.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const SCRIPT = new URL('../query/select-one.mjs', import.meta.url).pathname;

function runScript(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('select-one.mjs', () => {
  it.each([
    [['--requests', '0']],
    [['--requests', '1.5']],
    [['--warmup', '-1']],
    [['--url', 'http://127.0.0.1:1']],
  ])('refuses %j with exit 2', (args) => {
    const run = runScript(args);
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
  });

  it('times SELECT 1 against a spawned server', () => {
    const run = runScript(['--requests', '50', '--warmup', '5']);
    expect(run.status).toBe(0);
    const line = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(line).toMatchObject({ benchmark: 'select-1-closed-loop', sql: 'SELECT 1 AS one', requests: 50 });
    const { min_ms: min, median_ms: median, p99_ms: p99 } = line as { min_ms: number; median_ms: number; p99_ms: number };
    expect(min).toBeGreaterThan(0);
    expect(median).toBeGreaterThanOrEqual(min);
    expect(p99).toBeGreaterThanOrEqual(median);
  }, 120_000);
});
