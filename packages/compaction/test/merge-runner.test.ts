// Proves the merge engine writes what compaction promises: inputs with different schemas merged
// into zstd Parquet sorted by tags then time (so one host's rows sit in few row groups: the
// others are never read), split into contiguous outputs at the target size, facts exact, and a
// failed job leaves no output and a usable runner; real MergeRunners on the built worker, outputs
// read back by a separate DuckDB instance.
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isArcError } from '@arc/errors';
import { quoteLiteral } from '@arc/columnar';
import { CompactionErrorCode } from '../src/error-codes.js';
import { MergeRunner, type MergeResult, type MergeTask } from '../src/merge-runner.js';
import { T0_US, SECOND_US, poisonRowGroups, readSql, rowsSql, useMergeFixture } from './merge-fixtures.js';
import { pollUntil } from '../../../test/support/poll-until.js';

const fixture = useMergeFixture('arc-merge-runner-');

async function mergedRows(result: MergeResult): Promise<Record<string, unknown>[]> {
  const paths = result.outputs.map((output) => output.path);
  return fixture.rows(
    `SELECT ((epoch_us(time) - ${String(T0_US)}) // ${String(SECOND_US)})::INTEGER AS s, * EXCLUDE (time) ` +
      `FROM ${readSql(paths)} ORDER BY file_index, file_row_number`,
  );
}

async function expectJobFailed(promise: Promise<unknown>, messagePart: string): Promise<void> {
  const error: unknown = await promise.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(isArcError(error) ? { code: error.code, found: error.message.includes(messagePart) } : error).toEqual({
    code: CompactionErrorCode.jobFailed,
    found: true,
  });
}

/** `rows` rows of `hosts` hosts over consecutive seconds from `secondStart`, every host each second. */
function hostsSql(hosts: number, seconds: number, secondStart: number): string {
  return (
    `SELECT make_timestamp((${String(T0_US)} + (${String(secondStart)} + i // ${String(hosts)}) * ${String(SECOND_US)})::BIGINT) AS time, ` +
    `'h' || (i % ${String(hosts)}) AS host, (i % 1000)::DOUBLE AS v FROM range(${String(hosts * seconds)}) r(i)`
  );
}

describe('MergeRunner', () => {
  it('merges inputs of different schemas (a column added later, BIGINT widened to DOUBLE) sorted by tags then time', async () => {
    const older = await fixture.writeInput('schema-1.parquet', rowsSql([['host', 'VARCHAR'], ['v', 'BIGINT']], [[10, 'b', 1], [5, 'a', 2], [0, 'b', 3], [20, 'a', 4]]), ['host']);
    const newerColumns = [['host', 'VARCHAR'], ['region', 'VARCHAR'], ['v', 'DOUBLE'], ['temp', 'DOUBLE']] as const;
    const newer = await fixture.writeInput('schema-2.parquet', rowsSql(newerColumns, [[3, 'a', 'eu', 1.5, 20], [1, 'a', null, 2.5, null], [2, 'c', 'us', 3.5, 21]]), ['host', 'region']);
    const result = await fixture.runner.run(fixture.task([older, newer], { dedup: false }));
    expect(await mergedRows(result)).toEqual([
      { s: 3, host: 'a', v: 1.5, region: 'eu', temp: 20 },
      { s: 1, host: 'a', v: 2.5, region: null, temp: null },
      { s: 5, host: 'a', v: 2, region: null, temp: null },
      { s: 20, host: 'a', v: 4, region: null, temp: null },
      { s: 0, host: 'b', v: 3, region: null, temp: null },
      { s: 10, host: 'b', v: 1, region: null, temp: null },
      { s: 2, host: 'c', v: 3.5, region: 'us', temp: 21 },
    ]);
    const task = fixture.task([]);
    expect(result).toEqual({
      outputs: [{ path: result.outputs[0]?.path, rows: 7, minTimeUs: T0_US, maxTimeUs: T0_US + 20 * SECOND_US }],
      columns: [
        { name: 'time', type: 'TIMESTAMP' },
        { name: 'host', type: 'VARCHAR' },
        { name: 'v', type: 'DOUBLE' },
        { name: 'region', type: 'VARCHAR' },
        { name: 'temp', type: 'DOUBLE' },
      ],
      tags: ['host', 'region'],
      inputRows: 7,
      outputRows: 7,
    });
    expect(path.basename(result.outputs[0]?.path ?? '')).toBe(path.basename(task.outputPaths[0] ?? '-'));
    const output = quoteLiteral(result.outputs[0]?.path ?? '');
    const codecs = await fixture.rows(`SELECT DISTINCT compression FROM parquet_metadata(${output})`);
    expect(codecs).toEqual([{ compression: 'ZSTD' }]);
    const kv = await fixture.rows(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${output})`);
    expect(kv).toEqual([{ key: 'arc:tags', value: '["host","region"]' }]);
  });

  it('puts one host of 50 in at most 2 of 25 row groups: a filter on it never reads the others', async () => {
    // Ten files of real-time ingest: each second every host, so every input row group holds all 50.
    const inputs: string[] = [];
    for (let file = 0; file < 10; file++) inputs.push(await fixture.writeInput(`hosts-${String(file)}.parquet`, hostsSql(50, 100, file * 100), ['host']));
    const result = await fixture.runner.run(fixture.task(inputs, { rowGroupSize: 2048 }));
    expect(result.outputRows).toBe(50_000);
    const output = result.outputs[0]?.path ?? '';
    const groups = await fixture.rows(
      `SELECT row_group_id AS id, row_group_num_rows AS rows, stats_min AS min, stats_max AS max ` +
        `FROM parquet_metadata(${quoteLiteral(output)}) WHERE path_in_schema = 'host' ORDER BY id`,
    );
    expect(groups).toHaveLength(25);
    expect(groups.every((group) => Number(group['rows']) <= 2048)).toBe(true);
    const withH7 = groups.filter((group) => String(group['min']) <= 'h7' && 'h7' <= String(group['max'])).map((group) => Number(group['id']));
    expect(withH7.length).toBeLessThanOrEqual(2);
    const inputGroups = await fixture.rows(`SELECT count(*) FILTER (WHERE stats_min <= 'h7' AND 'h7' <= stats_max) AS with_h7, count(*) AS all FROM parquet_metadata(${quoteLiteral(inputs[0] ?? '')}) WHERE path_in_schema = 'host'`);
    expect(inputGroups).toEqual([{ with_h7: 1n, all: 1n }]);

    // The filter is pushed into the Parquet scan, which skips a row group by its host statistics:
    // with every other row group's pages overwritten, the query still answers, and a full scan fails.
    const [plan] = await fixture.rows(`EXPLAIN (ANALYZE, FORMAT json) SELECT count(*) FROM read_parquet(${quoteLiteral(output)}) WHERE host = 'h7'`);
    expect(scanOf(JSON.parse(String(plan?.['explain_value'])) as ProfileNode)?.extra_info).toMatchObject({ Function: 'READ_PARQUET', Filters: "host='h7'" });
    const poisoned = path.join(fixture.root, 'poisoned.parquet');
    await copyFile(output, poisoned);
    await poisonRowGroups(fixture.db, poisoned, groups.map((group) => Number(group['id'])).filter((id) => !withH7.includes(id)));
    const h7 = await fixture.rows(`SELECT count(*) AS rows, sum(v) AS total FROM read_parquet(${quoteLiteral(poisoned)}) WHERE host = 'h7'`);
    expect(h7).toEqual([{ rows: 1000n, total: (await fixture.rows(`SELECT sum(v) AS total FROM ${readSql(inputs)} WHERE host = 'h7'`))[0]?.['total'] }]);
    await expect(fixture.rows(`SELECT sum(v) FROM read_parquet(${quoteLiteral(poisoned)})`)).rejects.toThrow();
  });

  it('splits a merge larger than the target into contiguous outputs with exact facts, touching no other path', async () => {
    const random = (seed: number): string =>
      `SELECT make_timestamp((${String(T0_US)} + i * ${String(SECOND_US)})::BIGINT) AS time, 'h' || (i % 20) AS host, hash(i + ${String(seed)}) % 1000000 / 7.0 AS v, hash(i * 3 + ${String(seed)})::DOUBLE AS w FROM range(20000) r(i)`;
    const inputs = [await fixture.writeInput('split-1.parquet', random(1), ['host']), await fixture.writeInput('split-2.parquet', random(2), ['host'])];
    const whole = await fixture.runner.run(fixture.task(inputs, { dedup: false }));
    expect(whole.outputs).toHaveLength(1);
    const wholeBytes = (await stat(whole.outputs[0]?.path ?? '')).size;
    const targetFileBytes = Math.ceil(wholeBytes / 3.5);
    const base = fixture.task(inputs, { dedup: false, targetFileBytes });
    const task: MergeTask = { ...base, outputPaths: [...base.outputPaths, ...base.outputPaths.map((file) => file.replace('out-', 'more-'))] };
    const split = await fixture.runner.run(task);
    // ceil(3.5) = 4 outputs: the first four paths, in order; nothing else in the directory.
    expect(split.outputs.map((output) => output.path)).toEqual(task.outputPaths.slice(0, 4));
    expect((await readdir(path.dirname(task.outputPaths[0] ?? ''))).sort()).toEqual(task.outputPaths.slice(0, 4).map((file) => path.basename(file)).sort());
    expect(await mergedRows(split)).toEqual(await mergedRows(whole));
    for (const output of split.outputs) {
      const [facts] = await fixture.rows(`SELECT count(*) AS rows, epoch_us(min(time)) AS min, epoch_us(max(time)) AS max FROM read_parquet(${quoteLiteral(output.path)})`);
      expect({ rows: output.rows, min: output.minTimeUs, max: output.maxTimeUs }).toEqual({ rows: Number(facts?.['rows']), min: Number(facts?.['min']), max: Number(facts?.['max']) });
      expect((await stat(output.path)).size).toBeLessThan(targetFileBytes * 1.25);
    }
    expect(split).toMatchObject({ inputRows: 40_000, outputRows: 40_000, columns: whole.columns, tags: ['host'] });
    // A target far too small: as many outputs as paths, no more.
    const capped = await fixture.runner.run(fixture.task(inputs, { dedup: false, targetFileBytes: 1000 }));
    expect(capped.outputs).toHaveLength(4);
    expect(await mergedRows(capped)).toEqual(await mergedRows(whole));
  });

  it('writes one output when the inputs exceed the target but their merge does not (duplicates removed)', async () => {
    // The same rows twice: a client's retry of a whole batch.
    const inputs = [await fixture.writeInput('fits-1.parquet', hostsSql(20, 500, 0), ['host']), await fixture.writeInput('fits-2.parquet', hostsSql(20, 500, 0), ['host'])];
    const single = await fixture.runner.run(fixture.task([inputs[0] ?? '']));
    const targetFileBytes = Math.ceil((await stat(single.outputs[0]?.path ?? '')).size * 1.5);
    const inputBytes = (await stat(inputs[0] ?? '')).size + (await stat(inputs[1] ?? '')).size;
    expect(inputBytes).toBeGreaterThan(targetFileBytes);
    const task = fixture.task(inputs, { targetFileBytes });
    const merged = await fixture.runner.run(task);
    expect(merged.outputs.map((output) => output.path)).toEqual([task.outputPaths[0]]);
    expect(merged).toMatchObject({ inputRows: 20_000, outputRows: 10_000 });
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([path.basename(task.outputPaths[0] ?? '')]);
  });

  it('fails a job with a missing input with ARC_COMPACTION_JOB_FAILED, writes nothing, and runs the next job', async () => {
    const present = await fixture.writeInput('present.parquet', rowsSql([['host', 'VARCHAR'], ['v', 'DOUBLE']], [[0, 'a', 1]]), ['host']);
    const task = fixture.task([present, path.join(fixture.root, 'inputs', 'gone.parquet')]);
    await expectJobFailed(fixture.runner.run(task), 'gone.parquet');
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([]);
    expect((await fixture.runner.run(fixture.task([present]))).outputRows).toBe(1);
  });

  it('removes the partial output when an input turns out unreadable while the merge writes', async () => {
    const file = await fixture.writeInput('corrupt.parquet', hostsSql(10, 1000, 0), ['host']);
    await poisonRowGroups(fixture.db, file, [0]);
    const task = fixture.task([file]);
    // DuckDB creates the output before it meets the bad page, and leaves it behind on failure.
    await expectJobFailed(fixture.runner.run(task), 'Merging 1 files failed');
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([]);
  });

  it('refuses inputs with a column that hides the row position it orders by', async () => {
    const file = await fixture.writeInput('shadow.parquet', rowsSql([['host', 'VARCHAR'], ['File_Index', 'BIGINT']], [[0, 'a', 1]]), ['host']);
    await expectJobFailed(fixture.runner.run(fixture.task([file])), "'File_Index'");
  });

  it('runs one task at a time, and a close lets the task in flight finish', async () => {
    const file = await fixture.writeInput('one-at-a-time.parquet', hostsSql(10, 100, 0), ['host']);
    const runner = await MergeRunner.start({ memoryLimit: '128MiB', threads: 1, nice: 0, tempDirectory: path.join(fixture.root, 'one-spill') });
    const running = runner.run(fixture.task([file]));
    await expect(runner.run(fixture.task([file]))).rejects.toThrow('one merge request at a time');
    const closing = runner.close();
    expect((await running).outputRows).toBe(1000);
    await closing;
    await expectJobFailed(runner.run(fixture.task([file])), 'exited');
  });

  it('writes nothing for inputs without rows', async () => {
    const empty = await fixture.writeInput('empty.parquet', `${rowsSql([['host', 'VARCHAR'], ['v', 'DOUBLE']], [[0, 'a', 1]])} LIMIT 0`, ['host']);
    const task = fixture.task([empty]);
    expect(await fixture.runner.run(task)).toMatchObject({ outputs: [], inputRows: 0, outputRows: 0, tags: ['host'] });
    expect(await readdir(path.dirname(task.outputPaths[0] ?? ''))).toEqual([]);
  });
});

/** A node of DuckDB's JSON profile (EXPLAIN (ANALYZE, FORMAT json)). */
interface ProfileNode {
  readonly operator_name?: string;
  readonly extra_info?: Record<string, unknown>;
  readonly children?: readonly ProfileNode[];
}

/** The first Parquet scan of a profile, depth first. */
function scanOf(node: ProfileNode): ProfileNode | null {
  if (node.operator_name === 'READ_PARQUET') return node;
  for (const child of node.children ?? []) {
    const scan = scanOf(child);
    if (scan !== null) return scan;
  }
  return null;
}

/** Nice values of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
async function threadNiceValues(): Promise<number[]> {
  const values: number[] = [];
  for (const tid of await readdir('/proc/self/task')) {
    const text = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => null);
    if (text === null) continue; // the thread ended meanwhile
    // Fields after the command name in parentheses (which may hold spaces): state is field 3.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    values.push(Number(fields[19 - 3]));
  }
  return values;
}

describe('MergeRunner resources', () => {
  it.runIf(process.platform === 'linux')('applies memory_limit, threads, temp_directory and the nice value to the worker and DuckDB threads', async () => {
    const tempDirectory = path.join(fixture.root, 'settings-spill');
    const runner = await MergeRunner.start({ memoryLimit: '100MiB', threads: 3, nice: 7, tempDirectory });
    try {
      expect(await runner.settings()).toEqual({ memoryLimit: '100.0 MiB', threads: 3, tempDirectory, nice: 7, loweredThreads: 2 });
      // The worker thread and DuckDB's 2 background threads (threads - 1), and no other thread.
      expect((await threadNiceValues()).filter((nice) => nice === 7)).toHaveLength(3);
    } finally {
      await runner.close();
    }
    expect((await threadNiceValues()).filter((nice) => nice === 7)).toEqual([]);
  });

  it('merges more than its memory limit by spilling into its temp directory', async () => {
    const tempDirectory = path.join(fixture.root, 'small-spill');
    const runner = await MergeRunner.start({ memoryLimit: '96MiB', threads: 1, nice: 0, tempDirectory });
    try {
      const wide = (file: number): string =>
        `SELECT make_timestamp((${String(T0_US)} + (i // 100) * ${String(SECOND_US)})::BIGINT) AS time, 'host-' || lpad((i % 100)::VARCHAR, 8, '0') AS host, ` +
        `hash(i + ${String(file)})::DOUBLE AS a, hash(i * 7 + ${String(file)})::DOUBLE AS b, 'text-' || hash(i) AS c FROM range(600000) r(i)`;
      const inputs = [await fixture.writeInput('spill-1.parquet', wide(1), ['host']), await fixture.writeInput('spill-2.parquet', wide(2), ['host'])];
      const running = runner.run(fixture.task(inputs));
      const spilled = await pollUntil('a spill file', 60_000, async () => (await readdir(tempDirectory).catch(() => [])).length, (count) => count > 0, 5);
      const result = await running;
      expect(spilled.value).toBeGreaterThan(0);
      expect(result).toMatchObject({ inputRows: 1_200_000, outputRows: 600_000 });
    } finally {
      await runner.close();
    }
  });
});
