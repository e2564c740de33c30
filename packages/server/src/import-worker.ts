/**
 * An import's reading thread: owns one DuckDB instance for the life of one CSV or Parquet import,
 * locked to the spool directory, reads the spooled file in the file's row order and posts line
 * protocol chunks of about `chunkBytes` (one line per row, numbered by file row) when the main
 * thread asks for the next one. Rows whose time is no time never become lines: they are counted
 * and named here.
 */
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDBInstance, type DuckDBConnection, type DuckDBResult } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { ServerErrorCode } from './error-codes.js';
import { fieldKind, linesSql, sourceSql, type SourceColumn } from './import-sql.js';
import type { ImportToWorker, ImportWorkerData, RowRefusal, WorkerToImport } from './import-reader.js';
import { IMPORT_ERRORS_LISTED } from './limits.js';

const data = workerData as ImportWorkerData;
const encoder = new TextEncoder();
const port = parentPort;
assert.ok(port !== null, 'runs as a worker thread');

class Refusal extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

async function openDuckDB(): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: String(data.threads),
    memory_limit: data.memoryLimit,
    temp_directory: data.directory,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  await connection.run(`SET allowed_directories = [${quoteLiteral(data.directory)}]`);
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
  return connection;
}

/** The file's columns, checked against the import's time and tag columns. */
async function describe(connection: DuckDBConnection, source: string): Promise<SourceColumn[]> {
  let rows: Record<string, unknown>[];
  try {
    rows = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRowObjectsJS();
  } catch (error) {
    throw new Refusal(ServerErrorCode.importUnreadable, `The ${data.format.toUpperCase()} file cannot be read: ${(error as Error).message}`);
  }
  const columns = rows.map((row) => ({ name: String(row['column_name']), type: String(row['column_type']) }));
  const names = columns.map((column) => column.name);
  if (!names.includes(data.timeColumn)) throw new Refusal(ServerErrorCode.importBadParameter, `time column '${data.timeColumn}' not found in the file; its columns: ${names.join(', ')}`);
  for (const tag of data.tagColumns) {
    if (!names.includes(tag)) throw new Refusal(ServerErrorCode.importBadParameter, `tag column '${tag}' not found in the file; its columns: ${names.join(', ')}`);
  }
  if (data.timeColumn !== 'time' && names.includes('time')) throw new Refusal(ServerErrorCode.importBadParameter, `the file has a column 'time' besides the time column '${data.timeColumn}': rename one`);
  for (const column of columns) {
    if (column.name !== data.timeColumn && fieldKind(column.type) === null) throw new Refusal(ServerErrorCode.importUnreadable, `column '${column.name}' is of type ${column.type}, which Arc cannot store`);
  }
  return columns;
}

interface ReadState {
  readonly result: DuckDBResult;
  rowNumber: number;
  refused: RowRefusal[];
  refusedCount: number;
}

/** Reads rows until the lines reach chunkBytes or the file ends; null at the end. */
async function nextChunk(state: ReadState): Promise<WorkerToImport | null> {
  const lines: string[] = [];
  const numbers: number[] = [];
  let bytes = 0;
  while (bytes < data.chunkBytes) {
    const chunk = await state.result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const lineValues = chunk.getColumnVector(0);
    const badValues = chunk.getColumnVector(1);
    for (let index = 0; index < chunk.rowCount; index++) {
      state.rowNumber += 1;
      const line = lineValues.getItem(index);
      if (typeof line === 'string') {
        lines.push(line);
        numbers.push(state.rowNumber);
        bytes += line.length + 1;
        continue;
      }
      state.refusedCount += 1;
      if (state.refused.length < IMPORT_ERRORS_LISTED) state.refused.push({ row: state.rowNumber, value: String(badValues.getItem(index)) });
    }
  }
  if (lines.length === 0) return null;
  // A buffer of its own (not Buffer's shared pool): it is transferred to the main thread.
  const body = encoder.encode(lines.join('\n') + '\n');
  const message: WorkerToImport = { kind: 'chunk', body, numbers: Int32Array.from(numbers), refused: state.refused, refusedCount: state.refusedCount };
  state.refused = [];
  state.refusedCount = 0;
  return message;
}

async function run(): Promise<void> {
  const connection = await openDuckDB();
  const source = sourceSql(data.path, data.format, { delimiter: data.delimiter, skipRows: data.skipRows });
  const columns = await describe(connection, source);
  const state: ReadState = { result: await connection.stream(linesSql(source, columns, data)), rowNumber: 0, refused: [], refusedCount: 0 };
  const inbox = messages();
  for (;;) {
    await inbox.next();
    let message: WorkerToImport | null;
    try {
      message = await nextChunk(state);
    } catch (error) {
      throw new Refusal(ServerErrorCode.importUnreadable, `The ${data.format.toUpperCase()} file cannot be read past row ${state.rowNumber}: ${(error as Error).message}`);
    }
    if (message === null) {
      port?.postMessage({ kind: 'done', refused: state.refused, refusedCount: state.refusedCount, columns: columns.map((column) => column.name) } satisfies WorkerToImport);
      return;
    }
    const transfer = message.kind === 'chunk' ? [message.body.buffer as ArrayBuffer, message.numbers.buffer as ArrayBuffer] : [];
    port?.postMessage(message, transfer);
  }
}

/** Each 'next' from the main thread, in order. */
async function* messages(): AsyncGenerator<ImportToWorker> {
  const queue: ImportToWorker[] = [];
  let wake: (() => void) | null = null;
  port?.on('message', (message: ImportToWorker) => {
    queue.push(message);
    wake?.();
  });
  for (;;) {
    const message = queue.shift();
    if (message !== undefined) {
      yield message;
      continue;
    }
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = null;
  }
}

run().catch((error: unknown) => {
  const message: WorkerToImport = error instanceof Refusal ? { kind: 'refused', code: error.code, message: error.message } : { kind: 'failed', message: (error as Error).message };
  port.postMessage(message);
});
