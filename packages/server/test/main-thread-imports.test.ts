// Proves the main thread's imports stay light: loading `@arc/server` (what `arc serve` imports
// before it starts any thread) does not load DuckDB, which only writer and query threads use;
// loading it cost a few hundred ms of every start. Needs the built packages (`npx tsc -b packages/cli`).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

describe('the main thread', () => {
  it('does not load DuckDB when it imports the server', () => {
    const script = [
      "import { createRequire } from 'node:module';",
      "await import('@arc/server');",
      'const loaded = Object.keys(createRequire(import.meta.url).cache);',
      'console.log(JSON.stringify({ modules: loaded.length, duckdb: loaded.filter((name) => name.includes("@duckdb")) }));',
    ].join('\n');
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    const { modules, duckdb } = JSON.parse(output) as { modules: number; duckdb: string[] };
    // The probe works: CommonJS modules the server does load (uWS, better-sqlite3) are listed.
    expect(modules).toBeGreaterThan(0);
    expect(duckdb).toEqual([]);
  });
});
