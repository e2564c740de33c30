// Proves RowDeleter on a real store, merge threads and count thread: a dry run counts the matching
// rows per file and touches nothing; a delete removes exactly those rows and rewrites only the
// files holding them (time-range pruning leaves the others unread, a tag filter leaves files
// without a match unrewritten); over the threshold it needs confirm; the writers are flushed
// before the files are listed; injection attempts (another table, a second statement, a
// subquery, read_parquet, getenv) are refused with 400 before any file is read.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ArcError } from '@arc/errors';
import { Storage } from '@arc/storage';
import { Compactor, DeleteErrorCode, RowDeleter, timeRangeOfWhere } from '../src/index.js';
import { TEST_COMPACTION_CONFIG } from './support/compaction-config.js';
import { putFile, readRows, type TestRow } from './support/parquet-files.js';
import { tempDirectory } from '../../../test/support/temp-dir.js';

const HOUR_A_US = Date.parse('2026-01-10T09:00:00Z') * 1000;
const HOUR_B_US = Date.parse('2026-03-10T10:00:00Z') * 1000;
const SECOND_US = 1_000_000;

const open: Compactor[] = [];
afterEach(async () => {
  for (const compactor of open.splice(0)) await compactor.close();
});

async function setUp(threshold = 10_000) {
  // One level down: the history and temp files the compactor keeps beside the root are in the temp directory too.
  const root = path.join(await tempDirectory('arc-delete-'), 'store');
  const storage = await Storage.open({ root });
  const compactor = Compactor.open({
    storage,
    config: { ...TEST_COMPACTION_CONFIG, enabled: false },
    historyPath: path.join(root, '..', `${path.basename(root)}-history.db`),
    tempDirectory: path.join(root, '..', `${path.basename(root)}-tmp`),
    queriesEnded: () => Promise.resolve(),
    log: () => undefined,
  });
  open.push(compactor);
  const rowsOf = (hourUs: number, sequence: number, hosts: number): TestRow[] => Array.from({ length: 9 }, (_, index) => ({ host: `h${String(index % hosts)}`, timeUs: hourUs + (sequence * 100 + index) * SECOND_US, usage_user: sequence * 100 + index, usage_idle: index }));
  // File 1 has hosts h0..h2, file 2 only h0 (no h1 row: never rewritten by a delete of h1), file 3 is months later.
  const keys = [await putFile(storage, { sequence: 1, writtenAtMs: 1000, rows: rowsOf(HOUR_A_US, 1, 3) }), await putFile(storage, { sequence: 2, writtenAtMs: 2000, rows: rowsOf(HOUR_A_US, 2, 1) }), await putFile(storage, { sequence: 3, writtenAtMs: 3000, rows: rowsOf(HOUR_B_US, 3, 3) })];
  // The measurements flushed, as "database.measurement": the delete's own, nothing else.
  const flushed: string[] = [];
  const deleter = new RowDeleter({ storage, rewriter: compactor, flushWriters: (database, measurement) => { flushed.push(`${database}.${measurement}`); return Promise.resolve(null); }, confirmationThreshold: threshold });
  return { storage, compactor, keys, deleter, flushes: () => flushed.length, flushed };
}

function hostsAndValues(rows: readonly string[]): string[] {
  return rows.map((row) => { const { host, usage_user } = JSON.parse(row) as { host: string; usage_user: number }; return `${host}:${String(usage_user)}`; }).sort();
}

const scope = { database: 'db', measurement: 'cpu' } as const;

describe('RowDeleter', () => {
  it('a dry run counts the matching rows of the files holding them and changes nothing', async () => {
    const { storage, deleter, keys, flushes, flushed } = await setUp();
    const before = await readRows(storage);
    const result = await deleter.deleteRows({ ...scope, where: "host = 'h1'", dryRun: true, confirm: false });
    expect(result).toMatchObject({ success: true, deletedCount: 6, affectedFiles: 2, rewrittenFiles: 0, dryRun: true });
    expect(result.filesProcessed).toEqual([keys[0], keys[2]].map((key) => path.posix.basename(key ?? '')));
    expect(await readRows(storage)).toEqual(before);
    expect(flushes()).toBe(1);
    expect(flushed).toEqual(['db.cpu']);
  });

  it('removes exactly the matching rows and rewrites only the files that hold some', async () => {
    const { storage, deleter, keys } = await setUp();
    const before = hostsAndValues(await readRows(storage));
    const result = await deleter.deleteRows({ ...scope, where: "WHERE host = 'h1'", dryRun: false, confirm: false });
    expect(result).toMatchObject({ success: true, deletedCount: 6, affectedFiles: 2, rewrittenFiles: 2, failedFiles: [] });
    expect(hostsAndValues(await readRows(storage))).toEqual(before.filter((row) => !row.startsWith('h1:')));
    // The file without an h1 row is the same file, untouched.
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).toContain(keys[1]);
  });

  it('reports its phase and files done while it runs, under the request id, and is gone from the list when it ended', async () => {
    const { storage, compactor } = await setUp();
    const seen: string[] = [];
    const deleter: RowDeleter = new RowDeleter({
      storage,
      confirmationThreshold: 10_000,
      flushWriters: () => {
        seen.push(JSON.stringify(deleter.running()));
        return Promise.resolve(null);
      },
      rewriter: {
        rewrite: (request) => {
          const snapshot = (): void => void seen.push(deleter.running().map((run) => `${run.phase} ${String(run.filesDone)}/${String(run.filesTotal)}`).join());
          snapshot();
          return compactor.rewrite({ ...request, onJobEnded: (job) => { request.onJobEnded?.(job); snapshot(); } });
        },
      },
    });
    const result = await deleter.deleteRows({ ...scope, where: "host = 'h1'", dryRun: false, confirm: false, requestId: 'req-1' });
    expect(result.rewrittenFiles).toBe(2);
    const [flushing, ...rewriting] = seen;
    expect(JSON.parse(flushing ?? '[]')).toEqual([{ requestId: 'req-1', database: 'db', measurement: 'cpu', dryRun: false, startedAt: expect.any(String) as unknown, phase: 'flushing', filesDone: 0, filesTotal: 0 }]);
    // Three files counted, two hold h1 rows: rewritten in two jobs (two partitions), each counted as it ends.
    expect(rewriting.slice(0, 1)).toEqual(['rewriting 0/2']);
    expect(rewriting.slice(1).sort()).toEqual(['rewriting 1/2', 'rewriting 2/2']);
    expect(deleter.running()).toEqual([]);
  });

  it('deletes whole, unread and in one job, the files whose every row matches, and rewrites the others', async () => {
    const { storage, compactor, keys } = await setUp();
    const requests: { files: number; removeWhere: string | null; jobs: number[] }[] = [];
    const deleter = new RowDeleter({
      storage,
      confirmationThreshold: 10_000,
      flushWriters: () => Promise.resolve(null),
      rewriter: {
        rewrite: async (request) => {
          const jobs = await compactor.rewrite(request);
          requests.push({ files: request.files.length, removeWhere: request.removeWhere, jobs: jobs.map((job) => job.inputFiles) });
          return jobs;
        },
      },
    });
    const before = hostsAndValues(await readRows(storage));
    // File 2 holds only h0 rows: all of it goes; file 1 loses its h0 rows; file 3 (months later) is not in range.
    const where = "time < '2026-02-01' AND host = 'h0'";
    const result = await deleter.deleteRows({ ...scope, where, dryRun: false, confirm: false });
    expect(result).toMatchObject({ success: true, deletedCount: 12, affectedFiles: 2, rewrittenFiles: 2, failedFiles: [] });
    expect(requests).toEqual([
      { files: 1, removeWhere: null, jobs: [1] },
      { files: 1, removeWhere: where, jobs: [1] },
    ]);
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).not.toContain(keys[1]);
    expect(hostsAndValues(await readRows(storage))).toEqual(before.filter((row) => !(row.startsWith('h0:') && Number(row.split(':')[1]) < 300)));
  });

  it('with a time bound, counts only the files in range and deletes a file left empty', async () => {
    const { storage, deleter, keys } = await setUp();
    const where = `time >= '2026-03-01' AND usage_idle >= 0`;
    const result = await deleter.deleteRows({ ...scope, where, dryRun: false, confirm: false });
    expect(result).toMatchObject({ deletedCount: 9, affectedFiles: 1, rewrittenFiles: 1 });
    expect(storage.catalog.files('db', 'cpu').map((file) => file.key)).toEqual([keys[0], keys[1]]);
  });

  it('never reads a file outside the clause\'s time range (pruning): an unreadable one there does not matter', async () => {
    const { storage, deleter, keys } = await setUp();
    // File 1 (January) becomes garbage: reading it would fail the count.
    await writeFile(storage.locationOf(keys[0] ?? ''), 'not parquet');
    const result = await deleter.deleteRows({ ...scope, where: "time >= '2026-03-01T00:00:00Z' AND host = 'h1'", dryRun: false, confirm: false });
    expect(result).toMatchObject({ success: true, deletedCount: 3, affectedFiles: 1, rewrittenFiles: 1 });
    const unpruned = await deleter.deleteRows({ ...scope, where: "host = 'h2'", dryRun: true, confirm: false }).catch((error: unknown) => error);
    expect((unpruned as ArcError).code).toBe(DeleteErrorCode.badWhere);
  });

  it('needs confirm over the threshold, naming the count and the threshold', async () => {
    const { storage, deleter } = await setUp(5);
    const before = await readRows(storage);
    const refused = await deleter.deleteRows({ ...scope, where: "host = 'h1'", dryRun: false, confirm: false }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ArcError);
    expect((refused as ArcError).code).toBe(DeleteErrorCode.confirmRequired);
    expect((refused as ArcError).message).toBe('Delete would affect 6 rows (threshold: 5). Set confirm=true to proceed.');
    expect(await readRows(storage)).toEqual(before);
    // A dry run over the threshold is answered; confirm lets the delete run.
    expect((await deleter.deleteRows({ ...scope, where: "host = 'h1'", dryRun: true, confirm: false })).deletedCount).toBe(6);
    expect((await deleter.deleteRows({ ...scope, where: "host = 'h1'", dryRun: false, confirm: true })).deletedCount).toBe(6);
  });

  it.each([
    ['another table', "host IN (SELECT host FROM other)"],
    ['a second statement', "1=1; DROP TABLE cpu"],
    ['a closing parenthesis', "1=1) OR (1=1"],
    ['read_parquet', "host IN (SELECT host FROM read_parquet('/etc/passwd'))"],
    ['a table function in an expression', "(SELECT count(*) FROM read_csv('/etc/passwd')) > 0"],
    ['getenv', "getenv('HOME') = host"],
    ['a window function', 'row_number() OVER () = 1'],
    ['a union', "host = 'h1' UNION SELECT 1"],
    ['empty', '   '],
  ])('refuses %s with 400 ARC_DELETE_BAD_WHERE and touches nothing', async (_name, where) => {
    const { storage, deleter, flushes } = await setUp();
    const before = await readRows(storage);
    const refused = await deleter.deleteRows({ ...scope, where, dryRun: false, confirm: true }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ArcError);
    expect((refused as ArcError).code).toBe(DeleteErrorCode.badWhere);
    expect((refused as ArcError).kind).toBe('bad_request');
    expect(await readRows(storage)).toEqual(before);
    expect(flushes()).toBe(0);
  });

  it('a column no file has is a 400, a measurement with no file deletes nothing', async () => {
    const { deleter } = await setUp();
    const refused = await deleter.deleteRows({ ...scope, where: "nosuch = 'x'", dryRun: true, confirm: false }).catch((error: unknown) => error);
    expect((refused as ArcError).code).toBe(DeleteErrorCode.badWhere);
    expect(await deleter.deleteRows({ database: 'db', measurement: 'nosuch', where: '1=1', dryRun: false, confirm: true })).toMatchObject({ success: true, deletedCount: 0, affectedFiles: 0 });
  });
});

describe('timeRangeOfWhere', () => {
  const tree = (lower: unknown, upper: unknown) => ({ minUs: lower, maxUs: upper });
  const comparison = (type: string, left: unknown, right: unknown) => ({ class: 'COMPARISON', type, left, right });
  const time = { class: 'COLUMN_REF', column_names: ['time'] };
  const text = (value: string) => ({ class: 'CONSTANT', value: { is_null: false, value } });
  const micros = (iso: string) => Date.parse(iso) * 1000;

  it('reads top-level bounds on time (mirrored, casts, make_timestamp), widened by how far DuckDB may read a literal', () => {
    const where = {
      class: 'CONJUNCTION',
      type: 'CONJUNCTION_AND',
      children: [comparison('COMPARE_GREATERTHANOREQUALTO', time, text('2026-01-01')), comparison('COMPARE_GREATERTHAN', { class: 'CAST', child: text('2026-02-01T00:00:00Z') }, time)],
    };
    // No zone: 15 hours either way; a zone: 1 ms.
    expect(timeRangeOfWhere(where)).toEqual(tree(micros('2026-01-01T00:00:00Z') - 15 * 3600 * SECOND_US, micros('2026-02-01T00:00:00Z') + 1000));
    const exact = comparison('COMPARE_LESSTHANOREQUALTO', time, { class: 'FUNCTION', function_name: 'make_timestamp', children: [{ class: 'CAST', child: { class: 'CONSTANT', value: { is_null: false, value: 5 } } }] });
    expect(timeRangeOfWhere(exact)).toEqual(tree(Number.NEGATIVE_INFINITY, 5));
    const or = { class: 'CONJUNCTION', type: 'CONJUNCTION_OR', children: where.children };
    expect(timeRangeOfWhere(or)).toEqual(tree(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY));
  });
});
