/**
 * The merge worker thread: owns one DuckDB instance (its own memory_limit, threads and spill
 * directory) and runs the merge tasks the MergeRunner sends, one after another (merge-sql.ts
 * builds their SQL). A failed task's outputs are removed here, and the worker takes the next.
 */
import assert from 'node:assert/strict';
import { getPriority, setPriority } from 'node:os';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { DUCKDB_MEMORY_SAMPLE_MS, DUCKDB_MEMORY_SQL, startThreadVitals, TelemetryBlock } from '@arc/telemetry';
import { MERGE_TELEMETRY } from './merge-telemetry.js';
import { DuckDBInstance, DuckDBPendingResultState, type DuckDBConnection, type DuckDBResultReader } from '@duckdb/node-api';
import { TIME_COLUMN, quoteLiteral } from '@arc/columnar';
import type { ColumnSpec } from '@arc/storage';
import { MERGE_FILE_ROW_BITS, MERGE_PAUSE_WAIT_MS, MERGE_TASK_POLL_MS, MERGE_TEMP_DIRECTORY_SIZE_MAX } from './limits.js';
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
  removedRowsSql,
  shadowedVirtualColumn,
  splitRows,
  unionTags,
  type OutputFormat,
} from './merge-sql.js';
import { PAUSE_CELL, STOP_CELL } from './merge-runner.js';
import { predicateProbeSql, predicateRefusal, predicateTextRefusal } from './row-predicate.js';
import { computeWindow, cqQueryRefusalOf } from './cq-window-worker.js';
import type { MergedFile, MergeResult, MergeRunnerOptions, MergeTask, MergeWorkerData, MergeWorkerSettings, RunnerToWorker, WorkerToRunner } from './merge-runner.js';

type Row = Record<string, unknown>;

async function rowsOf(connection: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await runHere(connection, sql)).getRowObjectsJS();
}

async function columnsOf(connection: DuckDBConnection, describeSql: string): Promise<ColumnSpec[]> {
  return (await rowsOf(connection, describeSql)).map((row) => ({ name: String(row['column_name']), type: String(row['column_type']) }));
}

/**
 * Compaction must not starve ingest, so the merge runs at a lower priority: this thread, which
 * runs DuckDB's share of the caller's work (runHere), and DuckDB's background threads. Linux
 * keeps the nice value per thread and a new thread inherits its creator's; DuckDB's threads are
 * created by the libuv pool thread that opens the instance (Node-API async work), at the pool's
 * priority, so they are lowered one by one after the open (lowerThreads).
 */
function lowerPriority(threadId: number, nice: number): boolean {
  try {
    setPriority(threadId, nice); // on Linux a thread id names that thread only; 0 is the calling thread
    return true;
  } catch {
    return false; // Not permitted or not supported: run at normal priority.
  }
}

/** This process's thread ids (Linux), or null where /proc does not list them. */
function threadIds(): Set<string> | null {
  try {
    return new Set(readdirSync('/proc/self/task'));
  } catch {
    return null;
  }
}

/**
 * Lowers the threads that appeared while DuckDB opened: its background threads, `threads - 1` of
 * them. When more appeared (another part of the process started threads meanwhile), which are
 * DuckDB's is unknown, and none is touched rather than a writer's. Returns how many were lowered.
 */
function lowerThreads(before: Set<string> | null, nice: number, backgroundThreads: number): number {
  const after = threadIds();
  if (nice === 0 || before === null || after === null) return 0;
  const started = [...after].filter((id) => !before.has(id));
  if (started.length !== backgroundThreads) return 0;
  return started.filter((id) => lowerPriority(Number(id), nice)).length;
}

/**
 * Runs one statement with the caller's share of DuckDB's work done on this thread (at its nice
 * value) rather than on a libuv pool thread, which the rest of the process shares. DuckDB's own
 * threads hold the remaining tasks when it answers NO_TASKS_AVAILABLE: then this thread waits.
 */
async function runHere(connection: DuckDBConnection, sql: string): Promise<DuckDBResultReader> {
  const pending = (await connection.prepare(sql)).start();
  for (;;) {
    // Ingest is busy: wait (a worker thread may block) until it is not, or a stop comes.
    while (Atomics.load(stopFlag, PAUSE_CELL) === 1 && Atomics.load(stopFlag, STOP_CELL) === 0) Atomics.wait(stopFlag, PAUSE_CELL, 1, MERGE_PAUSE_WAIT_MS);
    // A stop (the server is stopping): the statement is dropped between two pieces of work.
    if (Atomics.load(stopFlag, STOP_CELL) === 1) throw new Error('the merge was stopped: compaction is stopping');
    const state = pending.runTask();
    if (state === DuckDBPendingResultState.RESULT_READY) break;
    if (state === DuckDBPendingResultState.NO_TASKS_AVAILABLE) await new Promise((resolve) => setTimeout(resolve, MERGE_TASK_POLL_MS));
  }
  return pending.readAll();
}

interface Engine {
  readonly instance: DuckDBInstance;
  readonly connection: DuckDBConnection;
  /** DuckDB background threads whose priority was lowered. */
  readonly loweredThreads: number;
}

async function openDuckDB(options: MergeRunnerOptions): Promise<Engine> {
  const before = threadIds();
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(options.threads),
    memory_limit: options.memoryLimit,
    temp_directory: options.tempDirectory,
    // A scan of one file keeps its row order: splitting a merged file relies on it.
    preserve_insertion_order: 'true',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const loweredThreads = lowerThreads(before, options.nice, options.threads - 1);
  const connection = await instance.connect();
  // By SET, not as a startup option: see MERGE_TEMP_DIRECTORY_SIZE_MAX.
  await connection.run(`SET max_temp_directory_size = ${quoteLiteral(MERGE_TEMP_DIRECTORY_SIZE_MAX)}`);
  return { instance, connection, loweredThreads };
}

/** The inputs' tags, input by input in the task's order (oldest first). */
async function tagsOfInputs(connection: DuckDBConnection, inputs: readonly string[]): Promise<string[][]> {
  const byInput = new Map<string, string[]>();
  for (const row of await rowsOf(connection, inputTagsSql(inputs))) {
    const file = String(row['file_name']);
    const tags = parseTags(String(row['tags']));
    if (!inputs.includes(file)) throw new Error(`DuckDB named an input '${file}' that is not one of the job's files`);
    if (tags === null) throw new Error(`The arc:tags metadata of '${file}' is not a JSON array of names`);
    byInput.set(file, tags);
  }
  return inputs.map((input) => byInput.get(input) ?? []);
}

/** What the merge needs to know of its inputs before it reads a row. */
async function inspectInputs(connection: DuckDBConnection, task: MergeTask): Promise<{ rows: number; bytes: number; columns: ColumnSpec[]; tags: string[] }> {
  const [facts] = await rowsOf(connection, inputRowsSql(task.inputs));
  assert.ok(facts !== undefined, 'an aggregate answers one row');
  if (Number(facts['file_rows_max']) >= 2 ** MERGE_FILE_ROW_BITS) throw new Error(`An input holds more than 2^${String(MERGE_FILE_ROW_BITS)} rows`);
  const columns = await columnsOf(connection, describeInputsSql(task.inputs));
  const shadowed = shadowedVirtualColumn(columns);
  if (shadowed !== null) throw new Error(`The inputs have a column '${shadowed}', which hides the row position the merge orders by`);
  if (!columns.some((column) => column.name === TIME_COLUMN)) throw new Error('The inputs have no time column');
  const tags = unionTags(await tagsOfInputs(connection, task.inputs), columns);
  return { rows: Number(facts['rows']), bytes: Number(facts['bytes']), columns, tags };
}

/** A written file's size, from its footer read by DuckDB. */
async function fileBytesOf(connection: DuckDBConnection, path: string): Promise<number> {
  const [facts] = await rowsOf(connection, inputRowsSql([path]));
  assert.ok(facts !== undefined, 'an aggregate answers one row');
  return Number(facts['bytes']);
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
 * One merge. Its output size is known only once written: sorting, deduplication and zstd shrink
 * the inputs by a factor that depends on the data. When the inputs' own bytes fit the target (the
 * usual job: small files of one hour) the merge cannot need more than one output and is written
 * straight to the first path. Otherwise it is written whole next to the outputs, measured, and
 * copied range by range into as many outputs as its size needs. `written` lists every file the
 * job made, for the caller to remove on failure.
 */
async function merge(connection: DuckDBConnection, task: MergeTask, written: string[]): Promise<MergeResult> {
  const inputs = await inspectInputs(connection, task);
  const nothing: MergeResult = { outputs: [], columns: inputs.columns, tags: inputs.tags, inputRows: inputs.rows, outputRows: 0 };
  if (inputs.rows === 0) return nothing;
  const format: OutputFormat = { compressionLevel: task.compressionLevel, rowGroupSize: task.rowGroupSize, tags: inputs.tags };
  const [first] = task.outputPaths;
  assert.ok(first !== undefined, 'a merge has an output path');
  const select = mergeSelectSql({ inputs: task.inputs, columns: inputs.columns, tags: inputs.tags, dedup: task.dedup, removeWhere: task.removeWhere });
  const direct = inputs.bytes <= task.targetFileBytes || task.outputPaths.length === 1;
  const target = direct ? first : wholePathOf(first);
  assert.ok(!task.outputPaths.includes(wholePathOf(first)), 'the merged file has a path of its own');
  written.push(target);
  const outputRows = (await runHere(connection, copyToSql(select, target, format))).rowsChanged;
  // Only a rewrite's predicate drops every row: then there is no output, and its inputs just go.
  if (outputRows === 0) {
    assert.ok(task.removeWhere !== undefined, 'rows in, rows out');
    await rm(target, { force: true });
    written.splice(written.indexOf(target), 1);
    return nothing;
  }
  const paths = direct ? [first] : await split(connection, task, { whole: target, columns: inputs.columns, format, outputRows }, written);
  const outputs: MergedFile[] = [];
  for (const path of paths) outputs.push(await factsOf(connection, path));
  assert.equal(outputs.reduce((sum, output) => sum + output.rows, 0), outputRows, 'every merged row is in one output');
  const columns = await columnsOf(connection, describeFileSql(first));
  return { outputs, columns, tags: inputs.tags, inputRows: inputs.rows, outputRows };
}

/** A merged file to split: where it is, its columns and format, its rows. */
interface WholeFile {
  readonly whole: string;
  readonly columns: readonly ColumnSpec[];
  readonly format: OutputFormat;
  readonly outputRows: number;
}

/** Copies the merged file into as many outputs as its size needs, in order, then removes it. */
async function split(connection: DuckDBConnection, task: MergeTask, file: WholeFile, written: string[]): Promise<string[]> {
  const wholeBytes = await fileBytesOf(connection, file.whole);
  const parts = Math.min(outputCount(wholeBytes, task.targetFileBytes, task.outputPaths.length), file.outputRows);
  const paths: string[] = [];
  for (const [index, range] of splitRows(file.outputRows, parts).entries()) {
    const path = task.outputPaths[index];
    assert.ok(path !== undefined, 'a path per part');
    written.push(path);
    paths.push(path);
    await runHere(connection, copyToSql(rangeSelectSql(file.whole, file.columns, range), path, file.format));
  }
  await rm(file.whole, { force: true });
  written.splice(written.indexOf(file.whole), 1);
  return paths;
}

async function settingsOf({ connection, loweredThreads }: Engine): Promise<MergeWorkerSettings> {
  const sql = "SELECT current_setting('memory_limit') AS memory_limit, current_setting('threads') AS threads, current_setting('temp_directory') AS temp_directory";
  const [row] = await rowsOf(connection, sql);
  assert.ok(row !== undefined, 'settings answer one row');
  return { memoryLimit: String(row['memory_limit']), threads: Number(row['threads']), tempDirectory: String(row['temp_directory']), nice: getPriority(), loweredThreads };
}

/** Why a remove predicate is refused (row-predicate.ts), by DuckDB's parse of it; null when it is taken. */
async function predicateRefusalOf(connection: DuckDBConnection, removeWhere: string): Promise<string | null> {
  const textRefusal = predicateTextRefusal(removeWhere);
  if (textRefusal !== null) return textRefusal;
  const [row] = await rowsOf(connection, predicateProbeSql(removeWhere));
  const tree = row?.['tree'];
  return predicateRefusal(typeof tree === 'string' ? tree : '');
}

async function checkPredicate(connection: DuckDBConnection, removeWhere: string): Promise<WorkerToRunner> {
  const reason = await predicateRefusalOf(connection, removeWhere);
  return reason === null ? { kind: 'predicate-checked' } : { kind: 'predicate-refused', reason };
}

/** A dry run's count: the predicate checked, then the matching rows counted (through runHere: a stop ends it). */
async function countRows(connection: DuckDBConnection, inputs: readonly string[], removeWhere: string): Promise<WorkerToRunner> {
  try {
    const checked = await checkPredicate(connection, removeWhere);
    if (checked.kind === 'predicate-refused') return checked;
    const [row] = await rowsOf(connection, removedRowsSql(inputs, removeWhere));
    assert.ok(row !== undefined, 'a count answers one row');
    return { kind: 'counted', rows: Number(row['removed']) };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

/** Runs one task; on failure removes what it wrote and answers `failed`. A refused predicate touches nothing. */
async function runTask(connection: DuckDBConnection, task: MergeTask): Promise<WorkerToRunner> {
  const written: string[] = [];
  try {
    if (task.removeWhere !== undefined) {
      const checked = await checkPredicate(connection, task.removeWhere);
      if (checked.kind === 'predicate-refused') return checked;
    }
    return { kind: 'merged', result: await merge(connection, task, written) };
  } catch (error) {
    // Broken invariants are bugs: let them end the worker (the runner rejects the task).
    if (error instanceof assert.AssertionError) throw error;
    await Promise.allSettled(written.map((path) => rm(path, { force: true })));
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

/** A continuous query's check or window (cq-window-worker.ts); a DuckDB error answers `failed`. */
async function cqAnswerOf(connection: DuckDBConnection, message: Extract<RunnerToWorker, { kind: 'check-cq-query' | 'cq-window' }>): Promise<WorkerToRunner> {
  const run = (sql: string): Promise<DuckDBResultReader> => runHere(connection, sql);
  try {
    if (message.kind === 'check-cq-query') return { kind: 'cq-query-checked', refusal: await cqQueryRefusalOf(run, message.query, message.source) };
    return { kind: 'cq-window-computed', result: await computeWindow(run, message.task) };
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

async function answerOf(engine: Engine, message: Exclude<RunnerToWorker, { kind: 'close' }>): Promise<WorkerToRunner> {
  if (message.kind === 'run') return runTask(engine.connection, message.task);
  if (message.kind === 'count') return countRows(engine.connection, message.inputs, message.removeWhere);
  if (message.kind === 'check-cq-query' || message.kind === 'cq-window') return cqAnswerOf(engine.connection, message);
  if (message.kind === 'check-predicate') {
    return checkPredicate(engine.connection, message.removeWhere).catch((error: unknown) => ({ kind: 'failed', message: error instanceof Error ? error.message : String(error) }));
  }
  return { kind: 'settings', settings: await settingsOf(engine) };
}

/** Raised by the runner's terminate(): the task in flight stops at its next piece of DuckDB work. */
const { stopFlag } = workerData as MergeWorkerData;

async function main(): Promise<void> {
  const port = parentPort;
  assert.ok(port !== null, 'merge-worker runs as a worker thread');
  const options = workerData as MergeWorkerData;
  if (options.nice !== 0) lowerPriority(0, options.nice);
  let engine: Engine;
  try {
    engine = await openDuckDB(options);
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies WorkerToRunner);
    return;
  }
  port.postMessage({ kind: 'ready' } satisfies WorkerToRunner);
  const stopPublishing = options.telemetry === undefined ? () => Promise.resolve() : publishTelemetry(options.telemetry, engine);
  // Messages are handled in order, each after the previous one ended: a close waits for a task.
  let queue = Promise.resolve();
  port.on('message', (message: RunnerToWorker) => {
    queue = queue.then(async () => {
      const connection = engine.connection;
      if (message.kind === 'close') {
        await stopPublishing();
        connection.closeSync();
        engine.instance.closeSync();
        port.close();
        return;
      }
      const answer = await answerOf(engine, message);
      port.postMessage(answer satisfies WorkerToRunner);
    });
  });
}

/**
 * Publishes this merge thread's vitals and, every DUCKDB_MEMORY_SAMPLE_MS, its DuckDB memory (read
 * on a connection of its own, so never inside a merge's statements) into a block it claims.
 * Returns the stop, which resolves once no read runs.
 */
function publishTelemetry(shared: SharedArrayBuffer, engine: Engine): () => Promise<void> {
  const meter = new TelemetryBlock(MERGE_TELEMETRY, shared).claimAny();
  if (meter === null) return () => Promise.resolve();
  const stopVitals = startThreadVitals(meter.gauge('eventLoopLagSeconds'), meter.gauge('heapUsedBytes'));
  const memory = meter.gauge('duckdbMemoryBytes');
  let statsConnection: DuckDBConnection | null = null;
  let reading: Promise<void> = Promise.resolve();
  const sample = (): void => {
    reading = (async () => {
      statsConnection ??= await engine.instance.connect();
      const row = (await statsConnection.runAndReadAll(DUCKDB_MEMORY_SQL)).getRowsJS()[0];
      memory.set(Number(row?.[0] ?? 0));
    })().catch(() => undefined);
  };
  sample();
  const timer = setInterval(sample, DUCKDB_MEMORY_SAMPLE_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopVitals();
    await reading;
    statsConnection?.closeSync();
  };
}

void main();
