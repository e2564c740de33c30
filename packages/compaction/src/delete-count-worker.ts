/**
 * A delete's count thread: owns one small DuckDB instance for the life of one delete, checks the
 * WHERE clause with DuckDB's parser (row-predicate.ts) and reads the time range it can match
 * (delete-time-range.ts), then counts the rows it matches in each candidate file. The clause is
 * spliced into SQL only after the check took it, so a count never runs a subquery, another
 * table or a second statement.
 */
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { timeRangeOfWhere } from './delete-time-range.js';
import type { CountWorkerData, CounterToWorker, WorkerToCounter } from './delete-counter.js';
import { predicateProbeSql, predicateRefusal, predicateTextRefusal } from './row-predicate.js';

async function openDuckDB(options: CountWorkerData): Promise<DuckDBConnection> {
  const instance = await DuckDBInstance.create(':memory:', {
    threads: '1',
    memory_limit: options.memoryLimit,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  return instance.connect();
}

/** The WHERE clause's parse tree (the probe SELECT's), or why it is refused. */
async function check(connection: DuckDBConnection, where: string): Promise<WorkerToCounter> {
  const textRefusal = predicateTextRefusal(where);
  if (textRefusal !== null) return { kind: 'refused', reason: textRefusal };
  const reader = await connection.runAndReadAll(predicateProbeSql(where));
  const tree = reader.getRowObjectsJS()[0]?.['tree'];
  const treeJson = typeof tree === 'string' ? tree : '';
  const reason = predicateRefusal(treeJson);
  if (reason !== null) return { kind: 'refused', reason };
  const parsed = JSON.parse(treeJson) as { statements: { node: { where_clause: unknown } }[] };
  const range = timeRangeOfWhere(parsed.statements[0]?.node.where_clause);
  return { kind: 'checked', minUs: range.minUs, maxUs: range.maxUs };
}

/**
 * Rows matching the clause per file, in the files' order. `file_index` is DuckDB's virtual column
 * of read_parquet (the position of a row's file in the list); union_by_name reads a column a file
 * lacks as NULL, which a predicate on it never matches (`IS TRUE`).
 */
async function count(connection: DuckDBConnection, where: string, files: readonly string[]): Promise<WorkerToCounter> {
  assert.ok(files.length > 0, 'a count has files');
  const list = files.map((file) => quoteLiteral(file)).join(', ');
  const sql = `SELECT file_index::BIGINT AS file, count(*)::BIGINT AS matched FROM read_parquet([${list}], union_by_name = true) WHERE (${where}\n) IS TRUE GROUP BY ALL`;
  const rows = new Array<number>(files.length).fill(0);
  for (const row of (await connection.runAndReadAll(sql)).getRowObjectsJS()) {
    const index = Number(row['file']);
    assert.ok(index >= 0 && index < files.length, 'file_index names a file of the list');
    rows[index] = Number(row['matched']);
  }
  return { kind: 'counted', rows };
}

async function answerOf(connection: DuckDBConnection, message: Exclude<CounterToWorker, { kind: 'close' }>): Promise<WorkerToCounter> {
  try {
    return message.kind === 'check' ? await check(connection, message.where) : await count(connection, message.where, message.files);
  } catch (error) {
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  assert.ok(port !== null, 'delete-count-worker runs as a worker thread');
  let connection: DuckDBConnection;
  try {
    connection = await openDuckDB(workerData as CountWorkerData);
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies WorkerToCounter);
    return;
  }
  port.postMessage({ kind: 'ready' } satisfies WorkerToCounter);
  let queue = Promise.resolve();
  port.on('message', (message: CounterToWorker) => {
    queue = queue.then(async () => {
      if (message.kind === 'close') {
        connection.closeSync();
        port.close();
        return;
      }
      port.postMessage((await answerOf(connection, message)) satisfies WorkerToCounter);
    });
  });
}

void main();
