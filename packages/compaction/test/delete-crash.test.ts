// Proves a row delete is crash-safe: a process deleting one host's rows from three files is
// killed (SIGKILL) at each step of its first rewrite job; the next start's listing finds the
// rows as they were or with that file's matching rows gone (never a mix, a loss of a kept row or
// a duplicate), no staged file or manifest left; the same delete run again then leaves exactly
// the kept rows, and a dry run of it finds nothing more to delete.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { Compactor, RowDeleter, type JobStep } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { objectsUnder, putFile, readRows } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./support/delete-crash-child.mjs', import.meta.url));
const HOUR_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const WHERE = "host = 'h1'";

function runChild(root: string, stopAt: JobStep): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, stopAt, JSON.stringify(TEST_COMPACTION_CONFIG), WHERE], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

const hostOf = (row: string): string => (JSON.parse(row) as { host: string }).host;
const fileOf = (row: string): number => Math.floor((JSON.parse(row) as { usage_user: number }).usage_user / 100);

async function deleteAgain(storage: Storage, root: string, dryRun: boolean) {
  const compactor = Compactor.open({
    storage,
    config: TEST_COMPACTION_CONFIG,
    historyPath: path.join(root, '..', `${path.basename(root)}-history2.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp2`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  try {
    const deleter = new RowDeleter({ storage, rewriter: compactor, flushWriters: () => Promise.resolve(null), confirmationThreshold: 10_000 });
    return await deleter.deleteRows({ database: 'db', measurement: 'cpu', where: WHERE, dryRun, confirm: true });
  } finally {
    await compactor.close();
  }
}

const STEPS: readonly (readonly [JobStep, 'old' | 'new'])[] = [
  ['leased', 'old'],
  ['merged', 'old'],
  ['manifest-written', 'old'],
  ['output-published', 'new'],
  ['committed', 'new'],
  ['finished', 'new'],
];

describe('delete crash safety', () => {
  it.each(STEPS)('dies at "%s" of its first rewrite: the %s state of that file, whole', async (step, state) => {
    // One level down: the history and temp files this test's compactors and the child keep beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-delete-crash-'), 'store');
    const storage = await Storage.open({ root });
    for (let sequence = 1; sequence <= 3; sequence++) {
      const rows = Array.from({ length: 50 }, (_, index) => ({ host: `h${String(index % 5)}`, timeUs: HOUR_US + sequence * 1_000_000 + index * 1000, usage_user: sequence * 100 + index, usage_idle: index }));
      await putFile(storage, { sequence, writtenAtMs: Date.now() - 10_000 + sequence, rows });
    }
    const original = await readRows(storage);
    const kept = original.filter((row) => hostOf(row) !== 'h1');
    // Jobs run oldest file first: the first one is file 1's.
    const firstJobDone = original.filter((row) => !(hostOf(row) === 'h1' && fileOf(row) === 1));
    expect(await runChild(root, step)).toBe('SIGKILL');

    const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
    await restarted.loadAll();
    expect(await readRows(restarted)).toEqual(state === 'old' ? original : firstJobDone);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.tmp') || key.includes('/_replaced/'))).toEqual([]);

    const again = await deleteAgain(restarted, root, false);
    expect(again.deletedCount).toBe(state === 'old' ? 30 : 20);
    expect(await readRows(restarted)).toEqual(kept);
    expect((await deleteAgain(restarted, root, true)).deletedCount).toBe(0);
  });
});
