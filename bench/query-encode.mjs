// Encoding throughput of the query answer formats (JSON, CSV, Arrow IPC, columnar msgpack) on
// 1,000,000 rows shaped like an Arc measurement: time (TIMESTAMP), host and region (VARCHAR tags
// with few distinct values), usage_idle and usage_user (DOUBLE), requests (BIGINT), 5% NULLs in
// usage_user. The rows are computed once and kept as DuckDB chunks; each run hands the same
// chunks to an encoder through a stand-in for the streaming result, so only encoding is timed
// (DuckDB's own query time is not). Prints one JSON line per format and answer buffer: median and
// best rows/s of the runs (wall clock), rows per CPU second of the process (median; steadier than
// the wall clock when other work shares the cores), and answer bytes.
//
// Answer buffers (--answers own,shared): `own` copies each finished answer into a fresh buffer of
// its own, as a worker that transfers it does; `shared` copies it into a SharedArrayBuffer the
// worker lends to the main thread and gets back (answer-buffers.ts), released here after each run
// as the main thread does once the socket took the bytes. On this machine first-touch page faults
// cost ~4-7 ns a byte, so `own` measures mostly the kernel for large answers.
//
// Formats: json, csv, arrow, msgpack (answers), ndjson and csv-stream (the chunk encoders of
// POST /query/stream, whose pieces are always buffers of their own).
//
// Run after building: npx tsc -b packages/query && node bench/query-encode.mjs [rows] [--runs 5] [--formats json,arrow] [--tags long]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  createChunkEncoder,
  enableSharedAnswers,
  encodeArrowAnswer,
  encodeCsvAnswer,
  encodeJsonAnswer,
  encodeMsgpackAnswer,
  releaseAnswerBody,
} from '@arc/query/encoders';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '5' },
    formats: { type: 'string', default: 'json,csv,arrow,msgpack' },
    answers: { type: 'string', default: 'own,shared' },
    // `long`: host names of 28 bytes (DuckDB keeps strings over 12 bytes out of line).
    tags: { type: 'string', default: 'short' },
  },
});
const ROWS = Number(positionals[0] ?? 1_000_000);
const RUNS = Number(flags.runs);
const NOT_CANCELLED = () => false;

const SQL = `
  SELECT TIMESTAMP '2025-10-16 16:00:00' + to_microseconds(i * 10_000) AS time,
         ${flags.tags === 'long' ? "'host-long-name-' || (i % 100) || '.example.com'" : "'host-' || (i % 100)"} AS host,
         ['eu-west-1', 'us-east-1', 'ap-south-1'][1 + i % 3] AS region,
         (i % 1000) / 10.0 + 0.123 AS usage_idle,
         CASE WHEN i % 20 = 0 THEN NULL ELSE (i % 777) * 0.37 END::DOUBLE AS usage_user,
         (i * 7919) % 1000003 AS requests
  FROM range(${String(ROWS)}) t(i)`;

const encoders = {
  json: (result) => encodeJsonAnswer(result, performance.now(), Infinity, NOT_CANCELLED),
  csv: (result) => encodeCsvAnswer(result, Infinity, NOT_CANCELLED),
  arrow: (result) => encodeArrowAnswer(result, Infinity, NOT_CANCELLED),
  msgpack: (result) => encodeMsgpackAnswer(result, performance.now(), Infinity, NOT_CANCELLED),
  // POST /query/stream: the chunk encoder's pieces (fresh copies), counted but not joined.
  ndjson: (result) => streamChunks(result, 'ndjson'),
  'csv-stream': (result) => streamChunks(result, 'csv'),
};

async function streamChunks(result, format) {
  const encoder = createChunkEncoder(format, result);
  let byteCount = encoder.start().byteLength;
  let rowCount = 0;
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    byteCount += encoder.encodeChunk(chunk, chunk.rowCount).byteLength;
    rowCount += chunk.rowCount;
  }
  return { body: new Uint8Array(0), byteCount, rowCount };
}

/** The part of DuckDBResult the encoders use, replaying chunks already in memory. */
function replay(materialized, chunks) {
  let next = 0;
  return {
    columnCount: materialized.columnCount,
    columnName: (column) => materialized.columnName(column),
    columnType: (column) => materialized.columnType(column),
    fetchChunk: async () => chunks[next++] ?? null,
  };
}

const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
const connection = await instance.connect();
const materialized = await connection.run(SQL);
// getChunk materializes the chunk each call (slow); fetch them once so only encoding is timed.
const chunks = Array.from({ length: materialized.chunkCount }, (_, index) => materialized.getChunk(index));
const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function measure(format, answers) {
  const encode = encoders[format];
  const seconds = [];
  const cpuSeconds = [];
  let bytes = 0;
  for (let run = 0; run < RUNS + 1; run++) {
    const startedAt = performance.now();
    const cpuAt = process.cpuUsage();
    const answer = await encode(replay(materialized, chunks));
    const elapsed = (performance.now() - startedAt) / 1000;
    const cpu = process.cpuUsage(cpuAt);
    if (run > 0) cpuSeconds.push((cpu.user + cpu.system) / 1e6);
    if (answer === null || answer.rowCount !== ROWS) throw new Error(`${format}: wrong row count`);
    bytes = answer.byteCount ?? answer.body.byteLength;
    releaseAnswerBody(answer.body);
    // The first run warms the JIT (and the kept buffers) and is not counted.
    if (run > 0) seconds.push(elapsed);
  }
  const best = Math.min(...seconds);
  console.log(JSON.stringify({ format, answers, rows: ROWS, runs: RUNS, rows_per_s: Math.round(ROWS / median(seconds)), best_rows_per_s: Math.round(ROWS / best), cpu_rows_per_s: Math.round(ROWS / median(cpuSeconds)), bytes }));
}

// Own buffers first: sharing, once enabled, stays on for the thread.
for (const answers of ['own', 'shared'].filter((mode) => flags.answers.split(',').includes(mode))) {
  if (answers === 'shared') enableSharedAnswers();
  for (const format of flags.formats.split(',')) await measure(format, answers);
}
connection.closeSync();
instance.closeSync();
