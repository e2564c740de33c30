#!/usr/bin/env node
// @ts-check
/**
 * DuckDB's own floor for a single-host TSBS query: the single-groupby-1-1-1 SQL prepared and run
 * in-process, on an instance locked down exactly as Arc's query threads lock theirs (same
 * settings, same threads), over (a) the hour files as Arc wrote them (the files of the hours the
 * window touches, as the relation Arc's time pruning puts in place of the view), (b) one file
 * holding every row (sorted by hostname then time, as compaction sorts), (c) a 360-row file of
 * one host's hour; (b) again as a statement prepared once, host and window bound as parameters;
 * the same rows copied into DuckDB tables in memory (every row; the one host's hour); and `SELECT 1`. Also the parse Arc's statement guard does of a text it has not
 * seen (`json_serialize_sql`). Each round draws a fresh host and window (as TSBS does) and runs
 * every variant once, in a rotating order; the medians are what Arc cannot go below with this
 * engine, whatever it does around it.
 *
 *   node bench/query/query.mjs --spawn --keep-data --queries single-groupby-1-1-1 --runs 1 --no-local
 *   node bench/query/floor.mjs --data-dir <the kept dir> [--rounds 200] [--warmup 20] [--threads 2]
 *
 * Prints one JSON line per variant: `files`, `rows` (answer rows), `prepare_ms`, `run_ms` (run,
 * every chunk fetched, as Arc's encoder reads them) and `total_ms`, each `{median, p90}`; then a
 * summary line with the load average before and after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { openLockedInstance } from '@arc/query/encoders';
import { percentile } from '../lib/arc-server.mjs';
import { UsageError, integerOption, parseCli } from '../lib/cli.mjs';
import { FULL_SCALE, HOUR_MS, TsbsQueryGenerator } from './tsbs-queries.mjs';

const QUERY = 'single-groupby-1-1-1';
/** Row group size of compacted files (docs/benchmarks.md: `row_group_size` stays 122,880). */
const ROW_GROUP_SIZE = 122_880;

const USAGE = 'usage: node bench/query/floor.mjs --data-dir DIR [--database bench_query] [--rounds 200] [--warmup 20] [--threads 2] [--seed 7]';

/**
 * The Parquet files of the measurement with the hour their directory names (`YYYY/MM/DD/HH/`).
 * @param {string} measurementDir
 * @returns {{ path: string, hourMs: number }[]}
 */
function hourFiles(measurementDir) {
  return fs
    .readdirSync(measurementDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.parquet'))
    .map((name) => {
      const [year, month, day, hour] = name.split(path.sep).map(Number);
      return { path: path.join(measurementDir, name), hourMs: Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour)) };
    })
    .sort((left, right) => left.hourMs - right.hourMs || left.path.localeCompare(right.path));
}

/**
 * The options, and the hour files of the data dir they name; null for --help.
 * @param {string[]} argv
 */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      database: { type: 'string', default: 'bench_query' },
      rounds: { type: 'string', default: '200' },
      warmup: { type: 'string', default: '20' },
      threads: { type: 'string', default: '2' },
      seed: { type: 'string', default: '7' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  if (values['data-dir'] === undefined) throw new UsageError('--data-dir is required (a data dir of bench/query/query.mjs --spawn --keep-data)');
  const dataRoot = path.resolve(values['data-dir']);
  const rounds = integerOption('rounds', values.rounds, 0);
  const warmup = integerOption('warmup', values.warmup, 0);
  const threads = integerOption('threads', values.threads, 0);
  const seed = integerOption('seed', values.seed, 0);
  const measurementDir = path.join(dataRoot, 'arc', values.database, 'cpu');
  if (!fs.existsSync(measurementDir)) throw new UsageError(`no measurement directory ${measurementDir}`);
  const files = hourFiles(measurementDir);
  if (files.length === 0) throw new UsageError(`no Parquet files under ${measurementDir}`);
  return { dataRoot, rounds, warmup, threads, seed, files };
}

const cli = parseCli(process.argv.slice(2), parseOptions, USAGE);
if (cli.options === null) process.exit(cli.exitCode);
const { dataRoot, rounds, warmup, threads, seed, files } = cli.options;

/** @param {readonly string[]} files */
const relation = (files) => `(SELECT * FROM read_parquet([${files.map(quoteLiteral).join(', ')}])) AS cpu`;
/** @param {string} sql @param {string} from */
const over = (sql, from) => sql.replace(' FROM cpu ', ` FROM ${from} `);
const firstHourMs = /** @type {{ hourMs: number }} */ (files[0]).hourMs;
const hours = Math.round((/** @type {{ hourMs: number }} */ (files.at(-1)).hourMs - firstHourMs) / HOUR_MS) + 1;
const generator = new TsbsQueryGenerator({ hosts: FULL_SCALE.hosts, hours, seed, startMs: firstHourMs });

// The two derived files, written by an instance of its own (the locked one may not write).
const scratch = fs.mkdtempSync(path.join(dataRoot, 'floor-'));
const compactedFile = path.join(scratch, 'compacted.parquet');
const tinyFile = path.join(scratch, 'one-host-hour.parquet');
const tinyQuery = generator.next(QUERY);
const tinyWindow = { startMs: firstHourMs, endMs: firstHourMs + HOUR_MS };
{
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  const all = relation(files.map((file) => file.path));
  const options = `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`;
  await writer.run(`COPY (SELECT * FROM ${all} ORDER BY hostname, time) TO ${quoteLiteral(compactedFile)} ${options}`);
  const host = tinyQuery.hosts[0] ?? 'host_0';
  const bounds = `time >= epoch_ms(${tinyWindow.startMs}) AND time < epoch_ms(${tinyWindow.endMs})`;
  await writer.run(`COPY (SELECT * FROM ${all} WHERE hostname = ${quoteLiteral(host)} AND ${bounds} ORDER BY time) TO ${quoteLiteral(tinyFile)} ${options}`);
  writer.closeSync();
}
const tinyRows = await (async () => {
  const reader = await (await (await DuckDBInstance.create(':memory:')).connect()).runAndReadAll(`SELECT count(*)::INTEGER FROM read_parquet(${quoteLiteral(tinyFile)})`);
  return Number(reader.getRowsJS()[0]?.[0]);
})();
// The one-host file answers the query of its own host and hour, the text fixed (its file is).
const tinySql = over(
  tinyQuery.sql
    .replace(/time >= TIMESTAMP '[^']*'/, `time >= TIMESTAMP '${new Date(tinyWindow.startMs).toISOString().slice(0, 19).replace('T', ' ')}'`)
    .replace(/time < TIMESTAMP '[^']*'/, `time < TIMESTAMP '${new Date(tinyWindow.endMs).toISOString().slice(0, 19).replace('T', ' ')}'`),
  relation([tinyFile]),
);

const tempDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-floor-'));
const { connection } = await openLockedInstance({ dataRoot, duckdbThreads: threads, memoryLimit: '2GB', tempDirectory });
// The same rows in DuckDB's own storage (in memory), for what a design that does not read Parquet
// at query time would cost: every row, and the one host's hour.
await connection.run(`CREATE TEMP TABLE cpu_rows AS SELECT * FROM ${relation([compactedFile])}`);
await connection.run(`CREATE TEMP TABLE cpu_host_hour AS SELECT * FROM ${relation([tinyFile])}`);
const parseStatement = await connection.prepare('SELECT json_serialize_sql($1::VARCHAR)::VARCHAR AS tree');

/**
 * Prepares and runs `sql`, reading every chunk: ms of each step, files and answer rows.
 * @param {string} sql
 */
async function prepareAndRun(sql) {
  const started = performance.now();
  const prepared = await connection.prepare(sql);
  const preparedAt = performance.now();
  const result = await prepared.run();
  let rows = 0;
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) rows += chunk.rowCount;
  const ranAt = performance.now();
  prepared.destroySync();
  return { prepareMs: preparedAt - started, runMs: ranAt - preparedAt, totalMs: ranAt - started, rows };
}

/**
 * The query over the one file as a statement prepared once, its host and window bound as
 * parameters at each run: what a kept prepared statement would cost.
 */
const keptStatement = await connection.prepare(
  over(
    "SELECT time_bucket(INTERVAL 1 minute, time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE hostname = $1 AND time >= $2::TIMESTAMP AND time < $3::TIMESTAMP GROUP BY minute ORDER BY minute",
    relation([compactedFile]),
  ),
);

/** @param {{ hosts: readonly string[], startMs: number | null, endMs: number | null }} query */
async function runKept(query) {
  const text = (/** @type {number | null} */ ms) => new Date(/** @type {number} */ (ms)).toISOString().slice(0, 19).replace('T', ' ');
  const started = performance.now();
  keptStatement.bind([query.hosts[0] ?? '', text(query.startMs), text(query.endMs)]);
  const result = await keptStatement.run();
  let rows = 0;
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) rows += chunk.rowCount;
  const ms = performance.now() - started;
  return { prepareMs: 0, runMs: ms, totalMs: ms, rows };
}

/** @param {string} sql */
async function parse(sql) {
  const started = performance.now();
  parseStatement.bindVarchar(1, sql);
  await parseStatement.runAndReadAll();
  const ms = performance.now() - started;
  return { prepareMs: 0, runMs: ms, totalMs: ms, rows: 0 };
}

/** @typedef {{ files: number, run: () => Promise<{ prepareMs: number, runMs: number, totalMs: number, rows: number }> }} Step */
/** @type {Record<string, { files: number[], prepareMs: number[], runMs: number[], totalMs: number[], rows: number[] }>} */
const samples = {};
const variantNames = ['as-written', 'compacted', 'compacted-kept-statement', 'one-host-hour', 'in-memory-table', 'one-host-hour-in-memory', 'select-1', 'parse-new-text'];
for (const name of variantNames) samples[name] = { files: [], prepareMs: [], runMs: [], totalMs: [], rows: [] };

/** @returns {Record<string, Step>} */
function roundSteps() {
  const query = generator.next(QUERY);
  const startMs = /** @type {number} */ (query.startMs);
  const endMs = /** @type {number} */ (query.endMs);
  const inWindow = files.filter((file) => file.hourMs + HOUR_MS > startMs && file.hourMs < endMs).map((file) => file.path);
  return {
    'as-written': { files: inWindow.length, run: () => prepareAndRun(over(query.sql, relation(inWindow))) },
    compacted: { files: 1, run: () => prepareAndRun(over(query.sql, relation([compactedFile]))) },
    'compacted-kept-statement': { files: 1, run: () => runKept(query) },
    'one-host-hour': { files: 1, run: () => prepareAndRun(tinySql) },
    'in-memory-table': { files: 0, run: () => prepareAndRun(over(query.sql, 'temp.cpu_rows AS cpu')) },
    'one-host-hour-in-memory': { files: 0, run: () => prepareAndRun(tinySql.replace(relation([tinyFile]), 'temp.cpu_host_hour AS cpu')) },
    'select-1': { files: 0, run: () => prepareAndRun('SELECT 1 AS one') },
    'parse-new-text': { files: 0, run: () => parse(query.sql) },
  };
}

const loadBefore = os.loadavg();
for (let round = 0; round < warmup + rounds; round++) {
  const steps = roundSteps();
  // A rotating order: no variant always runs right after the same other one.
  const order = variantNames.map((_, index) => variantNames[(index + round) % variantNames.length] ?? '');
  for (const name of order) {
    const step = /** @type {Step} */ (steps[name]);
    const sample = await step.run();
    if (round < warmup) continue;
    const kept = /** @type {(typeof samples)[string]} */ (samples[name]);
    kept.files.push(step.files);
    kept.prepareMs.push(sample.prepareMs);
    kept.runMs.push(sample.runMs);
    kept.totalMs.push(sample.totalMs);
    kept.rows.push(sample.rows);
  }
}
const loadAfter = os.loadavg();

/** @param {number[]} list */
const stats = (list) => {
  const sorted = Float64Array.from(list).sort();
  return { median: percentile(sorted, 0.5), p90: percentile(sorted, 0.9) };
};
for (const name of variantNames) {
  const kept = /** @type {(typeof samples)[string]} */ (samples[name]);
  process.stdout.write(
    `${JSON.stringify({ variant: name, rounds, files: stats(kept.files).median, rows: stats(kept.rows).median, prepare_ms: stats(kept.prepareMs), run_ms: stats(kept.runMs), total_ms: stats(kept.totalMs) })}\n`,
  );
}
process.stdout.write(
  `${JSON.stringify({ summary: 'query-floor', query: QUERY, duckdb_threads: threads, hour_files: files.length, one_host_hour_rows: tinyRows, load_average_before: loadBefore, load_average_after: loadAfter, node: process.version, date: new Date().toISOString() })}\n`,
);
fs.rmSync(scratch, { recursive: true, force: true });
fs.rmSync(tempDirectory, { recursive: true, force: true });
