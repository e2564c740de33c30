/**
 * The merge worker thread: owns one DuckDB instance (its own memory_limit, threads and spill
 * directory) and runs the merge tasks the MergeRunner sends, one after another. A task reads its
 * inputs, writes the merged rows to its first output path, and splits that file into several
 * outputs when it is larger than the target size (merge-sql.ts builds the SQL).
 */
import assert from 'node:assert/strict';
import { getPriority, setPriority } from 'node:os';
import { rename, rm, stat } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TIME_COLUMN, quoteLiteral } from '@arc/columnar';
import type { ColumnSpec } from '@arc/storage';
import { MERGE_FILE_ROW_BITS, MERGE_TEMP_DIRECTORY_SIZE_MAX } from './limits.js';
import {
  copyToSql,
  describeFileSql,
  describeInputsSql,
  inputRowsSql,
  inputTagsSql,
  mergeSelectSql,
  outputCount,
  outputFactsSql,
  parseTags,
  rangeSelectSql,
  shadowedVirtualColumn,
  splitRows,
  unionTags,
  type OutputFormat,
} from './merge-sql.js';
import type { MergedFile, MergeResult, MergeRunnerOptions, MergeTask, MergeWorkerSettings, RunnerToWorker, WorkerToRunner } from './merge-runner.js';

/** A failure the job reports as it is (no DuckDB message to wrap). */
class MergeInputError extends Error {}

type Row = Record<string, unknown>;

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJS();
}

async function columnsOf(connection: DuckDBConnection, describeSql: string): Promise<ColumnSpec[]> {
  return (await rowsOf(connection, describeSql)).map((row) => ({ name: String(row['column_name']), type: String(row['column_type']) }));
}

/**
 * Compaction must not starve ingest. Linux keeps the nice value per thread, and threads inherit
 * it from the thread that creates them: lowered here, before DuckDB starts its threads, it holds
 * for the whole merge.
 */
function lowerOwnPriority(nice: number): void {
  if (nice === 0) return;
  try {
    setPriority(nice); // pid 0: on Linux, the calling thread
  } catch {
    // Not permitted or not supported: run at normal priority.
  }
}

interface Engine {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
}

async function openDuckDB(options: MergeRunnerOptions): Promise<Engine> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads),
    memory_limit: options.memoryLimit,
    temp_directory: options.tempDirectory,
    // A scan of one file keeps its row order: splitting a merged file relies on it.
    preserve_insertion_order: 'true',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  // By SET, not as a startup option: see MERGE_TEMP_DIRECTORY_SIZE_MAX.
  await connection.run(`SET max_temp_directory_size = ${quoteLiteral(MERGE_TEMP_DIRECTORY_SIZE_MAX)}`);
  return { instance, connection };
}

/** The inputs' tags, input by input in the task's order (oldest first). */
async function tagsOfInputs(connection: DuckDBConnection, inputs: readonly string[]): Promise<string[][]> {
  const byInput = new Map<string, string[]>();
  for (const row of await rowsOf(connection, inputTagsSql(inputs))) {
    const file = String(row['file_name']);
    const tags = parseTags(String(row['tags']));
    if (!inputs.includes(file)) throw new MergeInputError(`DuckDB named an input '${file}' that is not one of the job's files`);
    if (tags === null) throw new MergeInputError(`The arc:tags metadata of '${file}' is not a JSON array of names`);
    byInput.set(file, tags);
  }
  return inputs.map((input) => byInput.get(input) ?? []);
}

/** What the merge needs to know of its inputs before it reads a row. */
async function inspectInputs(connection: DuckDBConnection, task: MergeTask): Promise<{ rows: number; columns: ColumnSpec[]; tags: string[] }> {
  const [facts] = await rowsOf(connection, inputRowsSql(task.inputs));
  assert.ok(facts !== undefined, 'an aggregate answers one row');
  if (Number(facts['file_rows_max']) >= 2 ** MERGE_FILE_ROW_BITS) throw new MergeInputError(`An input holds more than 2^${String(MERGE_FILE_ROW_BITS)} rows`);
  const columns = await columnsOf(connection, describeInputsSql(task.inputs));
  const shadowed = shadowedVirtualColumn(columns);
  if (shadowed !== null) throw new MergeInputError(`The inputs have a column '${shadowed}', which hides the row position the merge orders by`);
  if (!columns.some((column) => column.name === TIME_COLUMN)) throw new MergeInputError('The inputs have no time column');
  const tags = unionTags(await tagsOfInputs(connection, task.inputs), columns);
  return { rows: Number(facts['rows']), columns, tags };
}

async function factsOf(connection: DuckDBConnection, path: string): Promise<MergedFile> {
  const [facts] = await rowsOf(connection, outputFactsSql(path));
  assert.ok(facts !== undefined, 'an aggregate answers one row');
  return { path, rows: Number(facts['rows']), minTimeUs: Number(facts['min_us']), maxTimeUs: Number(facts['max_us']) };
}

/** Where the merged file waits while it is split into the outputs: next to them, staged too. */
function wholePathOf(firstOutput: string): string {
  return `${firstOutput.slice(0, -'.tmp'.length)}.whole.tmp`;
}

/**
 * One merge. The output size is only known once written (sorting and zstd shrink small unsorted
 * input files by a factor that depends on the data), so the merge is written whole to the first
 * output, and split when larger than the target: renamed aside, then copied range by range into
 * the outputs. `written` lists every file the job made, for the caller to remove on failure.
 */
async function merge(connection: DuckDBConnection, task: MergeTask, written: string[]): Promise<MergeResult> {
  const inputs = await inspectInputs(connection, task);
  if (inputs.rows === 0) return { outputs: [], columns: inputs.columns, tags: inputs.tags, inputRows: 0, outputRows: 0 };
  const format: OutputFormat = { compressionLevel: task.compressionLevel, rowGroupSize: task.rowGroupSize, tags: inputs.tags };
  const first = task.outputPaths[0];
  assert.ok(first !== undefined, 'a merge has an output path');
  written.push(first);
  const select = mergeSelectSql({ inputs: task.inputs, columns: inputs.columns, tags: inputs.tags, dedup: task.dedup });
  const outputRows = (await connection.runAndReadAll(copyToSql(select, first, format))).rowsChanged;
  assert.ok(outputRows > 0, 'rows in, rows out');
  const parts = Math.min(outputCount((await stat(first)).size, task.targetFileBytes, task.outputPaths.length), outputRows);
  const paths = parts === 1 ? [first] : await split(connection, task, { columns: inputs.columns, format, outputRows, parts }, written);
  const outputs: MergedFile[] = [];
  for (const path of paths) outputs.push(await factsOf(connection, path));
  assert.equal(outputs.reduce((sum, output) => sum + output.rows, 0), outputRows, 'every merged row is in one output');
  const columns = await columnsOf(connection, describeFileSql(first));
  return { outputs, columns, tags: inputs.tags, inputRows: inputs.rows, outputRows };
}

/** How a merged file is split: its columns and format, its rows, into how many outputs. */
interface SplitShape {
  readonly columns: readonly ColumnSpec[];
  readonly format: OutputFormat;
  readonly outputRows: number;
  readonly parts: number;
}

/** The merged file (the first output, the only entry of `written`) becomes `parts` outputs. */
async function split(connection: DuckDBConnection, task: MergeTask, shape: SplitShape, written: string[]): Promise<string[]> {
  const [first] = task.outputPaths;
  assert.ok(first !== undefined, 'a merge has an output path');
  assert.deepEqual(written, [first], 'only the merged file is written');
  const whole = wholePathOf(first);
  written[0] = whole;
  await rename(first, whole);
  const paths: string[] = [];
  for (const [index, range] of splitRows(shape.outputRows, shape.parts).entries()) {
    const path = task.outputPaths[index];
    assert.ok(path !== undefined, 'a path per part');
    written.push(path);
    paths.push(path);
    await connection.run(copyToSql(rangeSelectSql(whole, shape.columns, range), path, shape.format));
  }
  await rm(whole, { force: true });
  written.shift();
  return paths;
}

async function settingsOf(connection: DuckDBConnection): Promise<MergeWorkerSettings> {
  const sql = "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads, current_setting('temp_directory') AS temp_directory";
  const [row] = await rowsOf(connection, sql);
  assert.ok(row !== undefined, 'settings answer one row');
  return { memoryLimit: String(row['memory_limit']), threads: Number(row['threads']), tempDirectory: String(row['temp_directory']), nice: getPriority() };
}

/** Runs one task; on failure removes what it wrote and answers `failed`. */
async function runTask(connection: DuckDBConnection, task: MergeTask): Promise<WorkerToRunner> {
  const written: string[] = [];
  try {
    return { kind: 'merged', result: await merge(connection, task, written) };
  } catch (error) {
    // Broken invariants are bugs: let them end the worker (the runner rejects the task).
    if (error instanceof assert.AssertionError) throw error;
    await Promise.allSettled(written.map((path) => rm(path, { force: true })));
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  assert.ok(port !== null, 'merge-worker runs as a worker thread');
  const options = workerData as MergeRunnerOptions;
  lowerOwnPriority(options.nice);
  let engine: Engine;
  try {
    engine = await openDuckDB(options);
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies WorkerToRunner);
    return;
  }
  port.postMessage({ kind: 'ready' } satisfies WorkerToRunner);
  // Messages are handled in order, each after the previous one ended: a close waits for a task.
  let queue = Promise.resolve();
  port.on('message', (message: RunnerToWorker) => {
    queue = queue.then(async () => {
      const connection = engine.connection;
      if (message.kind === 'close') {
        connection.closeSync();
        engine.instance.closeSync();
        port.close();
        return;
      }
      const answer = message.kind === 'run' ? await runTask(connection, message.task) : { kind: 'settings' as const, settings: await settingsOf(connection) };
      port.postMessage(answer satisfies WorkerToRunner);
    });
  });
}

void main();
