// Child process of pool-close.test.ts: the pool is closed while a query that would run for minutes
// is running. Prints the query's error code and exits 0 when the close interrupted it and ended
// the thread cleanly (without the interrupt, the close waits 30 s, then ends the thread inside DuckDB).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueryPool } from '@arc/query';

const POLL_MS = 5;
const directory = mkdtempSync(path.join(tmpdir(), 'arc-pool-close-'));
const pool = new QueryPool({ dataRoot: directory, threads: 1, duckdbThreads: 1, memoryLimit: '256MB', tempDirectory: path.join(directory, 'tmp'), queueSizeMax: 4, timeoutMs: 600_000 });
await pool.ready();
const answer = pool.run({ sql: 'SELECT sum(range % 7) FROM range(1000000000000)', database: 'default', format: 'json' }).then(
  () => 'answered',
  (error) => error.code,
);
// The pool announces no 'query started' event: its slot counts are polled until the query runs.
while (pool.stats().running === 0) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
await pool.close();
process.stdout.write(`${await answer}\n`);
rmSync(directory, { recursive: true, force: true });
