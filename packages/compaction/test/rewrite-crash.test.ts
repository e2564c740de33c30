// Proves a rewrite is crash-safe: a process rewriting three files without the rows of one host
// (or without any row, or deleting them whole unread: three hours' files in one job) is killed (SIGKILL) at every step of its
// first job; the next start's listing finds that job's files either whole as they were or
// exactly rewritten (old state before the commit point, new state from it on) and the other
// files untouched, never a mix, a loss or a duplicate, with no staged file or manifest
// left; running the rewrite again then gives exactly the kept rows and takes over the dead
// job's partition lock.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { Compactor, type JobStep } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { objectsUnder, putFile, readRows } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./support/crash-child.mjs', import.meta.url));
const HOUR_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const HOUR_SPAN_US = 3_600_000_000;
const REMOVE_HOST = "host = 'h1'";
const REMOVE_ALL = 'usage_idle >= 0';
/** The child's word for a rewrite with no predicate: the files deleted whole, unread. */
const DROP_WHOLE = 'DROP';

function runChild(root: string, stopAt: JobStep, removeWhere: string): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, stopAt, JSON.stringify(TEST_COMPACTION_CONFIG), removeWhere], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

interface Filled {
  readonly original: string[];
  /** The rows left once the whole rewrite ran. */
  readonly kept: string[];
  /** The rows left once the first job ran: a rewrite with a predicate has a job per file (the oldest first), a drop one job. */
  readonly firstJobDone: string[];
}

/**
 * Rows of hosts h0..h4, three files of three hours of one day (usage_user 100.., 200.., 300.. by
 * file): a drop deletes the three partitions' files in one job, so they go together or not at all.
 */
async function fill(root: string, removeWhere: string): Promise<Filled> {
  const storage = await Storage.open({ root });
  for (let sequence = 1; sequence <= 3; sequence++) {
    const rows = Array.from({ length: 50 }, (_, index) => ({ host: `h${String(index % 5)}`, timeUs: HOUR_US + (sequence - 1) * HOUR_SPAN_US + sequence * 1_000_000 + index * 1000, usage_user: sequence * 100 + index, usage_idle: index }));
    await putFile(storage, { sequence, writtenAtMs: Date.now() - 10_000 + sequence, rows });
  }
  const original = await readRows(storage);
  const removed = (row: string): boolean => removeWhere !== REMOVE_HOST || (JSON.parse(row) as { host: string }).host === 'h1';
  const inFirstFile = (row: string): boolean => removeWhere === DROP_WHOLE || (JSON.parse(row) as { usage_user: number }).usage_user < 200;
  return { original, kept: original.filter((row) => !removed(row)), firstJobDone: original.filter((row) => !(removed(row) && inFirstFile(row))) };
}

async function rewriteAgain(storage: Storage, root: string, removeWhere: string): Promise<void> {
  const compactor = Compactor.open({
    storage,
    config: TEST_COMPACTION_CONFIG,
    historyPath: path.join(root, '..', `${path.basename(root)}-history2.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp2`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  try {
    const files = storage.catalog.files('db', 'cpu').map((file) => file.key);
    if (files.length === 0) return;
    const jobs = await compactor.rewrite({ database: 'db', measurement: 'cpu', files, removeWhere: removeWhere === DROP_WHOLE ? null : removeWhere });
    expect(new Set(jobs.map((job) => job.state))).toEqual(new Set(['succeeded']));
  } finally {
    await compactor.close();
  }
}

const CASES: readonly (readonly [JobStep, string, 'old' | 'new'])[] = [
  ['leased', REMOVE_HOST, 'old'],
  ['merged', REMOVE_HOST, 'old'],
  ['manifest-written', REMOVE_HOST, 'old'],
  ['output-published', REMOVE_HOST, 'new'],
  ['committed', REMOVE_HOST, 'new'],
  ['input-deleted', REMOVE_HOST, 'new'],
  ['finished', REMOVE_HOST, 'new'],
  ['merged', REMOVE_ALL, 'old'],
  // No output: the manifest is the commit point (a manifest whose outputs all exist is committed).
  ['manifest-written', REMOVE_ALL, 'new'],
  ['input-deleted', REMOVE_ALL, 'new'],
  ['leased', DROP_WHOLE, 'old'],
  ['manifest-written', DROP_WHOLE, 'new'],
  ['input-deleted', DROP_WHOLE, 'new'],
  ['finished', DROP_WHOLE, 'new'],
];

describe('rewrite crash safety', () => {
  it.each(CASES)('dies at "%s" rewriting without %s: the %s state, whole', async (step, removeWhere, state) => {
    // One level down: the history and temp files this test's compactors and the child keep beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-rewrite-crash-'), 'store');
    const { original, kept, firstJobDone } = await fill(root, removeWhere);
    expect(await runChild(root, step, removeWhere)).toBe('SIGKILL');

    const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
    await restarted.loadAll();
    expect(await readRows(restarted)).toEqual(state === 'old' ? original : firstJobDone);
    const leftovers = (await objectsUnder(root)).filter((key) => key.endsWith('.tmp') || key.includes('/_replaced/'));
    expect(leftovers).toEqual([]);

    await rewriteAgain(restarted, root, removeWhere);
    expect(await readRows(restarted)).toEqual(kept);
    const parquet = (await objectsUnder(root)).filter((key) => key.endsWith('.parquet'));
    expect(parquet).toEqual(restarted.catalog.files('db', 'cpu').map((file) => file.key));
    expect((await objectsUnder(root)).filter((key) => key.includes('/_replaced/') || key.endsWith('.tmp'))).toEqual([]);
    // The dead job's partition lock is taken over (and released) by the next job there; with no
    // file left there is no next job, and the lock stays until one comes (its lease runs out).
    if (kept.length > 0) expect((await objectsUnder(root)).filter((key) => key.includes('/_locks/'))).toEqual([]);
  });
});
