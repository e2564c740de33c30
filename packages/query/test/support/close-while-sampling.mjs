// Child process of pool-close.test.ts: a pool whose thread reads its DuckDB memory every
// millisecond (so a read is almost always in flight), closed right after a query. Exit code 0
// means the close ended the thread cleanly; a read cut off by the close aborts the process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { QueryPool } from '@arc/query';

const directory = mkdtempSync(path.join(tmpdir(), 'arc-pool-close-'));
const pool = new QueryPool({
  dataRoot: directory,
  threads: 1,
  duckdbThreads: 1,
  memoryLimit: '256MB',
  tempDirectory: path.join(directory, 'tmp'),
  queueSizeMax: 4,
  timeoutMs: 30_000,
  memorySampleMs: 1,
});
await pool.ready();
await pool.run({ sql: 'SELECT 42 AS answer', database: 'default', format: 'json' });
await pool.close();
rmSync(directory, { recursive: true, force: true });
process.stdout.write('closed\n');
