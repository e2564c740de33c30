// Proves compaction is crash-safe: a process running a job is killed (SIGKILL) at every step,
// before, during and after the commit and between input deletions; the next start's listing then
// finds every row exactly once (count and checksum of the rows equal the original), removes the
// dead job's staged files and manifest, takes over its partition lock (this node's, held by no
// job of the new process) without waiting for its lease, and compacts again.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CompactionConfig } from '@arc/config';
import { Storage } from '@arc/storage';
import { Compactor, type JobStep } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { objectsUnder, putFile, readRows } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./support/crash-child.mjs', import.meta.url));
const HOUR_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const STEPS: readonly JobStep[] = ['leased', 'merged', 'manifest-written', 'output-published', 'committed', 'input-deleted', 'finished'];

const CONFIG: CompactionConfig = TEST_COMPACTION_CONFIG;

function runChild(root: string, stopAt: JobStep): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, stopAt, JSON.stringify(CONFIG)], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

describe('compaction crash safety', () => {
  it.each(STEPS)('loses and doubles no row when the process dies at "%s"', async (step) => {
    // One level down: the history and temp files this test's compactors and the child keep beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-compaction-crash-'), 'store');
    const writer = await Storage.open({ root });
    for (let sequence = 1; sequence <= 3; sequence++) {
      const rows = Array.from({ length: 50 }, (_, index) => ({ host: `h${String(index % 5)}`, timeUs: HOUR_US + sequence * 1_000_000 + index * 1000, usage_user: sequence * 100 + index, usage_idle: index }));
      await putFile(writer, { sequence, writtenAtMs: Date.now() - 10_000 + sequence, rows });
    }
    const original = await readRows(writer);
    expect(original).toHaveLength(150);
    expect(await runChild(root, step)).toBe('SIGKILL');

    // The next start: everything the dead process left is older than this instant.
    const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
    await restarted.loadAll();
    expect(await readRows(restarted)).toEqual(original);
    const leftovers = (await objectsUnder(root)).filter((key) => key.endsWith('.tmp') || key.includes('/_replaced/'));
    expect(leftovers).toEqual([]);

    // A later write to the hour: the next job needs the partition whatever step the dead one
    // reached, so it must take over the dead job's lock (left on the store) before its lease ran out.
    const late = [{ host: 'late', timeUs: HOUR_US + 9_000_000, usage_user: 1, usage_idle: 1 }];
    await putFile(restarted, { sequence: 4, writtenAtMs: Date.now(), rows: late });
    const withLate = await readRows(restarted);
    expect(withLate).toHaveLength(151);
    const compactor = Compactor.open({
      storage: restarted,
      config: CONFIG,
      historyPath: path.join(root, '..', `${path.basename(root)}-history2.db`),
      tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp2`),
      queriesEnded: () => Promise.resolve(),
      log: () => undefined,
    });
    try {
      await compactor.trigger({ tier: 'hourly' });
      await compactor.idle();
      expect(compactor.history({ limit: 5 }).map((job) => job.state)).not.toContain('failed');
    } finally {
      await compactor.close();
    }
    expect(restarted.catalog.files('db', 'cpu')).toHaveLength(1);
    expect(await readRows(restarted)).toEqual(withLate);
    const parquet = (await objectsUnder(root)).filter((key) => key.endsWith('.parquet'));
    expect(parquet).toEqual(restarted.catalog.files('db', 'cpu').map((file) => file.key));
    expect((await objectsUnder(root)).filter((key) => key.includes('/_locks/') || key.includes('/_replaced/') || key.endsWith('.tmp'))).toEqual([]);
  });
});
