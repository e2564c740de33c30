// Proves Compactor.rewrite on a real store and merge threads: files of two partitions rewritten
// with a predicate keep exactly the rows it does not match (read back from the catalog's files
// by DuckDB), one job per partition, nothing in compaction's history; a rewrite keeping no row
// deletes its inputs without an output, and one with no predicate deletes them without reading
// them; a refused predicate (another table) is a 400 and leaves
// every file as it was; a file not in the catalog is a 409.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Storage } from '@arc/storage';
import { Compactor, CompactionErrorCode } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { objectsUnder, putFile, readRows, writeRaw, type TestRow } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_A_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const HOUR_B_US = Date.parse('2026-01-10T10:00:00Z') * 1000;
const SECOND_US = 1_000_000;

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

/** Three files (two in hour A, one in hour B), hosts h0..h2, usage_user = a distinct number per row. */
async function setUp() {
  // One level down: the history and temp files the compactor keeps beside the root are in the temp directory too.
  const root = path.join(await tempDirectory('arc-rewrite-'), 'store');
  const storage = await Storage.open({ root });
  const compactor = Compactor.open({
    storage,
    // Disabled: rewrites run whether compaction does or not.
    config: { ...TEST_COMPACTION_CONFIG, enabled: false },
    historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  open.push(compactor);
  const rowsOf = (hourUs: number, sequence: number): TestRow[] => Array.from({ length: 9 }, (_, index) => ({ host: `h${String(index % 3)}`, timeUs: hourUs + (sequence * 100 + index) * SECOND_US, usage_user: sequence * 100 + index, usage_idle: index }));
  const keys = [await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_US, 1) }), await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rowsOf(HOUR_A_US, 2) }), await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rowsOf(HOUR_B_US, 3) })];
  return { root, storage, compactor, keys };
}

function parsed(rows: readonly string[]): { host: string; usage_user: number }[] {
  return rows.map((row) => JSON.parse(row) as { host: string; usage_user: number });
}

describe('Compactor.rewrite', () => {
  it('keeps exactly the rows the predicate does not match, one job per file (its write position kept), none in the history', async () => {
    const { storage, compactor, keys } = await setUp();
    const before = parsed(await readRows(storage));
    const jobs = await compactor.rewrite({ database: 'db', measurement: 'cpu', files: keys, removeWhere: "host = 'h1' OR usage_user = 300" });
    expect(jobs.map((job) => [job.state, job.inputFiles, job.outputFiles])).toEqual([
      ['succeeded', 1, 1],
      ['succeeded', 1, 1],
      ['succeeded', 1, 1],
    ]);
    const expected = before.filter((row) => row.host !== 'h1' && row.usage_user !== 300);
    expect(expected).toHaveLength(17);
    expect(parsed(await readRows(storage))).toEqual(expected);
    // Each output sits where its input sat in the write order.
    const written = (key: string): string => key.split('/').at(-1)?.split('_').slice(0, 2).join('_') ?? '';
    expect(storage.catalog.files('db', 'cpu').map((file) => written(file.key)).sort()).toEqual(keys.map(written).sort());
    expect(compactor.history({ limit: 10 })).toEqual([]);
  });

  it('deletes the inputs without an output when no row is kept', async () => {
    const { root, storage, compactor, keys } = await setUp();
    const jobs = await compactor.rewrite({ database: 'db', measurement: 'cpu', files: keys.slice(0, 2), removeWhere: `time < make_timestamp(${String(HOUR_B_US)}::BIGINT)` });
    expect(jobs.map((job) => [job.state, job.outputFiles, job.outputRows])).toEqual([
      ['succeeded', 0, 0],
      ['succeeded', 0, 0],
    ]);
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).toEqual([keys[2]]);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.parquet'))).toEqual([keys[2]]);
    expect(await readRows(storage)).toHaveLength(9);
  });

  it('deletes files whole, unread, with no predicate (retention\'s expired files)', async () => {
    const { root, storage, compactor, keys } = await setUp();
    // Not Parquet any more: a read would fail the job.
    await writeRaw(root, keys[0] ?? '', 'not parquet');
    const jobs = await compactor.rewrite({ database: 'db', measurement: 'cpu', files: keys.slice(0, 2), removeWhere: null });
    expect(jobs.map((job) => [job.state, job.inputRows, job.outputFiles])).toEqual([['succeeded', 18, 0]]);
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).toEqual([keys[2]]);
    expect((await objectsUnder(root)).filter((key) => key.endsWith('.parquet') || key.endsWith('.tmp') || key.includes('/_replaced/'))).toEqual([keys[2]]);
  });

  it('refuses a predicate that reads another table (400) and a file not in the catalog (409), touching nothing', async () => {
    const { root, storage, compactor, keys } = await setUp();
    const dataObjects = async (): Promise<string[]> => (await objectsUnder(root)).filter((key) => key.startsWith('db/'));
    const objects = await dataObjects();
    const rows = await readRows(storage);
    await expect(compactor.rewrite({ database: 'db', measurement: 'cpu', files: keys, removeWhere: `host IN (SELECT host FROM read_parquet('${root}/**/*.parquet'))` })).rejects.toMatchObject({ code: CompactionErrorCode.badPredicate, kind: 'bad_request' });
    await expect(compactor.rewrite({ database: 'db', measurement: 'cpu', files: [`${keys[0] ?? ''}x`], removeWhere: 'true' })).rejects.toMatchObject({ code: CompactionErrorCode.jobFailed, kind: 'conflict' });
    expect(await dataObjects()).toEqual(objects);
    expect(await readRows(storage)).toEqual(rows);
  });
});
