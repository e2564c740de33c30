// Proves a continuous-query window is crash-safe: a process re-running a window (late rows make
// its output change; the destination's hour file also holds the next window's rows, so it is
// rewritten, and the window's new rows go to a new file) is killed (SIGKILL) at every step; the
// next start's listing finds the destination's old rollup or the new one, whole, never a mix, a
// duplicate or a loss of the other window's rows, with no staged file or manifest left; the
// window run again then gives the new rollup. A window's first run (no destination file: a
// replacement with no input) killed at each step leaves no rollup or the whole new one.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { quoteLiteral } from '@arc/columnar';
import { Storage } from '@arc/storage';
import { Compactor, windowQuery, type WindowReplaceRequest, type WindowStep } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { duckdb, objectsUnder, putFile } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const CHILD = fileURLToPath(new URL('./support/cq-crash-child.mjs', import.meta.url));
const HOUR_MS = Date.parse('2026-01-10T09:00:00Z');
const HALF_HOUR_MS = 1_800_000;
const QUERY = "SELECT time_bucket(INTERVAL '10 minutes', time) AS time, host, sum(usage_user) AS s, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL";

function windowRequest(startMs: number): WindowReplaceRequest {
  return { source: { database: 'db', measurement: 'cpu' }, destination: { database: 'db', measurement: 'cpu_10m' }, query: windowQuery(QUERY, startMs, startMs + HALF_HOUR_MS), windowStartUs: startMs * 1000, windowEndUs: (startMs + HALF_HOUR_MS) * 1000, dryRun: false };
}

function openCompactor(storage: Storage, root: string, tag: string): Compactor {
  return Compactor.open({ storage, config: TEST_COMPACTION_CONFIG, historyPath: path.join(root, '..', `${path.basename(root)}-${tag}.db`), tempDirectory: path.join(root, '..', `${path.basename(root)}-${tag}`), queriesEnded: () => Promise.resolve(), log: () => undefined });
}

async function destination(storage: Storage): Promise<string[]> {
  const files = storage.catalog.files('db', 'cpu_10m');
  if (files.length === 0) return [];
  const list = files.map((file) => quoteLiteral(storage.locationOf(file.key))).join(', ');
  const reader = await (await duckdb()).runAndReadAll(`SELECT epoch_us(time) AS t, host, s, n FROM read_parquet([${list}], union_by_name = true) ORDER BY ALL`);
  return reader.getRowObjectsJS().map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)));
}

function runChild(root: string, stopAt: WindowStep, occurrence: number): Promise<NodeJS.Signals | number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, root, stopAt, String(occurrence), JSON.stringify(TEST_COMPACTION_CONFIG), JSON.stringify(windowRequest(HOUR_MS))], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
}

/** Both windows of the hour run once (one destination file), then late rows land in the first window; returns the rollups before and after. */
async function fill(root: string): Promise<{ old: string[]; fresh: string[] }> {
  const storage = await Storage.open({ root });
  const rows = (sequence: number, count: number) => Array.from({ length: count }, (_, index) => ({ host: `h${String(index % 3)}`, timeUs: (HOUR_MS + index * 60_000 + sequence * 1000) * 1000, usage_user: sequence * 100 + index }));
  await putFile(storage, { sequence: 1, writtenAtMs: Date.now() - 10_000, rows: rows(1, 60) });
  const compactor = openCompactor(storage, root, 'fill');
  try {
    await compactor.replaceWindow(windowRequest(HOUR_MS));
    await compactor.replaceWindow(windowRequest(HOUR_MS + HALF_HOUR_MS));
    // One file holding both windows (the hourly tier merges the two outputs), so the re-run must rewrite it.
    await compactor.trigger({ database: 'db', measurement: 'cpu_10m', tier: 'hourly' });
    await compactor.idle();
    expect(storage.catalog.files('db', 'cpu_10m')).toHaveLength(1);
    const old = await destination(storage);
    await putFile(storage, { sequence: 2, writtenAtMs: Date.now() - 5000, rows: rows(2, 20) });
    expect(old.some((row) => (JSON.parse(row) as { t: number }).t >= (HOUR_MS + HALF_HOUR_MS) * 1000)).toBe(true);
    return { old, fresh: await expectedAfter(storage, old) };
  } finally {
    await compactor.close();
  }
}

/** The rollup once the first window ran again: its rows from the source now, the second window's as they were. */
async function expectedAfter(storage: Storage, old: string[]): Promise<string[]> {
  const files = storage.catalog.files('db', 'cpu');
  const list = files.map((file) => quoteLiteral(storage.locationOf(file.key))).join(', ');
  const endUs = (HOUR_MS + HALF_HOUR_MS) * 1000;
  const reader = await (await duckdb()).runAndReadAll(`SELECT epoch_us(time_bucket(INTERVAL '10 minutes', time)) AS t, host, sum(usage_user) AS s, count(*) AS n FROM read_parquet([${list}]) WHERE time < make_timestamp(${String(endUs)}::BIGINT) GROUP BY ALL`);
  const first = reader.getRowObjectsJS().map((row) => JSON.stringify(row, (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)));
  const second = old.filter((row) => (JSON.parse(row) as { t: number }).t >= endUs);
  return [...first, ...second].sort();
}

const CASES: readonly (readonly [WindowStep, number, 'old' | 'new'])[] = [
  ['leased', 1, 'old'],
  ['computed', 1, 'old'],
  ['manifest-written', 1, 'old'],
  // Two outputs (the rewritten file, the window's new file): the commit point is the last one published.
  ['output-published', 1, 'old'],
  ['output-published', 2, 'new'],
  ['committed', 1, 'new'],
  ['input-deleted', 1, 'new'],
  ['finished', 1, 'new'],
];

describe('continuous query window crash safety', () => {
  it.each(CASES)('dies at "%s" (#%d) re-running a window: the %s state, whole', async (step, occurrence, state) => {
    // One level down: the history and temp files this test's compactors and the child keep beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-cq-crash-'), 'store');
    const { old, fresh } = await fill(root);
    expect(fresh).not.toEqual(old);
    expect(await runChild(root, step, occurrence)).toBe('SIGKILL');

    const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
    await restarted.loadAll();
    expect(await destination(restarted)).toEqual(state === 'old' ? old : fresh);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.tmp') || key.includes('/_replaced/'))).toEqual([]);

    const compactor = openCompactor(restarted, root, 'again');
    try {
      await compactor.replaceWindow(windowRequest(HOUR_MS));
    } finally {
      await compactor.close();
    }
    expect(await destination(restarted)).toEqual(fresh);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.parquet') && key.includes('cpu_10m')).sort()).toEqual(restarted.catalog.files('db', 'cpu_10m').map((file) => file.key).sort());
  });
});

/** The window's first run: no destination file yet, so the replacement has no input and one output. */
async function fillFirst(root: string): Promise<{ old: string[]; fresh: string[] }> {
  const storage = await Storage.open({ root });
  const rows = Array.from({ length: 60 }, (_, index) => ({ host: `h${String(index % 3)}`, timeUs: (HOUR_MS + index * 60_000) * 1000, usage_user: index }));
  await putFile(storage, { sequence: 1, writtenAtMs: Date.now() - 10_000, rows });
  return { old: [], fresh: await expectedAfter(storage, []) };
}

describe('continuous query first window crash safety', () => {
  it.each([
    ['computed', 'old'],
    ['manifest-written', 'old'],
    ['output-published', 'new'],
    ['finished', 'new'],
  ] as const)('dies at "%s" of a first run (nothing to replace): the %s state', async (step, state) => {
    // One level down: the history and temp files this test's compactors and the child keep beside the root are in the temp directory too.
    const root = path.join(await tempDirectory('arc-cq-crash-first-'), 'store');
    const { old, fresh } = await fillFirst(root);
    expect(fresh.length).toBeGreaterThan(0);
    expect(await runChild(root, step, 1)).toBe('SIGKILL');
    const restarted = await Storage.open({ root, removeStagedBeforeMs: Date.now() });
    await restarted.loadAll();
    expect(await destination(restarted)).toEqual(state === 'old' ? old : fresh);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.tmp') || key.includes('/_replaced/'))).toEqual([]);
  });
});
