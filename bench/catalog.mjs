// @ts-check
// The file catalog at scale (docs/benchmarks.md, "Catalog"): what planning a query and SHOW TABLES
// cost over 10 and over 10,000 files, and how long Arc takes from its start to a query answered
// with 100,000 files in the store.
//
// The files are one tiny Parquet file (1 row) hard-linked under many hour directories, named as
// writers name them (packages/storage layout), so only the catalog's size changes between runs.
// Planning and SHOW TABLES go through the packages' front doors (Storage, QueryPool: one query
// thread); "planning" is a query whose WHERE bounds time to one hour, so DuckDB reads one file
// and the rest is Arc's planning (catalog, pruning, view). The start is the built server (cli),
// spawned on the 100,000 files, timed to its first answer of a query over them.
//
// Run after building: npx tsc -b packages/cli bench && node bench/catalog.mjs [--runs 20] [--start-files 100000]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { generateTokenText } from '@arc/auth';
import { QueryPool } from '@arc/query';
import { LocalStorage, Storage, dataFileKey, encodeSchema, schemaIdOf, schemaKey } from '@arc/storage';
import { DEFAULT_SERVER_ENTRY, REPO_ROOT, freePort, median, round, sleep } from './lib/arc-server.mjs';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    sizes: { type: 'string', default: '10,10000' },
    'start-files': { type: 'string', default: '100000' },
  },
});
const RUNS = Number(flags.runs);
const HOUR_US = 3_600_000_000;
const FIRST_HOUR_US = Date.UTC(2020, 0, 1) * 1000;
/** Measurements the start's files are spread over (each gets files / this many hours). */
const START_MEASUREMENTS = 10;
/** Size of the one Parquet file (named in every link's name, as writers do). */
let SOURCE_BYTES = 0;
/** Its columns as a writer records them (a schema object per measurement, its id in every name). */
const SOURCE_COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'v', type: 'DOUBLE' },
];
const SOURCE_SCHEMA_ID = schemaIdOf(SOURCE_COLUMNS);

/** Writes the one Parquet file every link points at; returns its path. */
async function tinyParquet(directory) {
  const file = path.join(directory, 'tiny.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (SELECT TIMESTAMP '2020-01-01 00:00:00' AS time, 'h1' AS host, 1.5::DOUBLE AS v) TO '${file}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
  SOURCE_BYTES = fs.statSync(file).size;
  return file;
}

/** Hard links one file takes at most (ext4 allows 65,000): past it, links go to a fresh copy. */
const LINKS_PER_COPY = 50_000;
let linksMade = 0;
let linkSource = '';

/** Links `count` files of `measurement` under consecutive hours, named and described as a writer does. */
async function linkFiles(root, source, database, measurement, count) {
  await new LocalStorage(root).put(schemaKey(database, measurement, SOURCE_SCHEMA_ID), encodeSchema(SOURCE_COLUMNS));
  for (let index = 0; index < count; index++) {
    if (linksMade++ % LINKS_PER_COPY === 0) {
      linkSource = `${source}.${String(linksMade)}`;
      fs.copyFileSync(source, linkSource);
    }
    const hourUs = FIRST_HOUR_US + index * HOUR_US;
    const key = dataFileKey({ database, measurement, hourUs, nodeId: 'bench', unique: `f${index}`, rows: 1, bytes: SOURCE_BYTES, minTimeUs: hourUs, maxTimeUs: hourUs, writtenAtMs: 0, schemaId: SOURCE_SCHEMA_ID });
    const target = path.join(root, key);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.linkSync(linkSource, target);
  }
}

async function timed(work) {
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  return round(median(times), 2);
}

async function runQuery(pool, sql) {
  const answer = await pool.run({ sql, database: 'bench', format: 'json' });
  answer.release();
}

/** Median ms of SHOW TABLES and of a one-hour query, with `files` files in the store. */
async function measureCatalog(scratch, source, files) {
  const root = path.join(scratch, `store-${files}`);
  await linkFiles(root, source, 'bench', 'cpu', files);
  const loadStarted = performance.now();
  const storage = await Storage.open({ root });
  const openMs = round(performance.now() - loadStarted, 1);
  await storage.loadAll();
  const loadMs = round(performance.now() - loadStarted, 1);
  const pool = new QueryPool({ storage, dataRoot: root, threads: 1, duckdbThreads: 1, memoryLimit: '512MB', tempDirectory: path.join(scratch, 'tmp'), queueSizeMax: 4, timeoutMs: 60_000 });
  await pool.ready();
  const lastHour = new Date((FIRST_HOUR_US + (files - 1) * HOUR_US) / 1000).toISOString().slice(0, 19).replace('T', ' ');
  const planned = `SELECT count(*) FROM cpu WHERE time >= TIMESTAMP '${lastHour}' AND time < TIMESTAMP '${lastHour}' + INTERVAL 1 HOUR`;
  // Warm: the first query makes the view and learns the columns.
  await runQuery(pool, planned);
  await runQuery(pool, 'SHOW TABLES');
  const result = { files, open_ms: openMs, catalog_load_ms: loadMs, show_tables_ms: await timed(() => runQuery(pool, 'SHOW TABLES')), one_hour_query_ms: await timed(() => runQuery(pool, planned)) };
  await pool.close();
  return result;
}

/** Spawns the built server on a store of `files` files; ms from spawn to /ready and to a query answered. */
async function measureStart(scratch, source, files) {
  const dataDir = path.join(scratch, 'start');
  const root = path.join(dataDir, 'arc');
  for (let index = 0; index < START_MEASUREMENTS; index++) await linkFiles(root, source, 'bench', `m${index}`, files / START_MEASUREMENTS);
  const port = await freePort();
  const token = generateTokenText();
  const started = performance.now();
  const child = spawn(process.execPath, [DEFAULT_SERVER_ENTRY, 'serve'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ARC_PORT: String(port), ARC_DATA_DIR: dataDir, ARC_AUTH_BOOTSTRAP_TOKEN: token },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  let readyMs = null;
  let answerMs = null;
  try {
    const deadline = Date.now() + 120_000;
    while (answerMs === null && Date.now() < deadline) {
      try {
        if (readyMs === null) {
          const ready = await fetch(`${url}/ready`);
          await ready.arrayBuffer();
          if (ready.status === 200) readyMs = round(performance.now() - started, 0);
        }
        if (readyMs !== null) {
          const answer = await fetch(`${url}/api/v1/query`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
            body: JSON.stringify({ sql: "SELECT count(*) AS n FROM bench.m0 WHERE time >= TIMESTAMP '2020-01-01 00:00:00' AND time < TIMESTAMP '2020-01-01 01:00:00'" }),
          });
          const body = await answer.text();
          if (answer.status !== 200) throw new Error(`query answered ${answer.status}: ${body}`);
          answerMs = round(performance.now() - started, 0);
        }
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('query answered')) throw error;
      }
      // The server is polled until a query answers: across HTTP there is no event to wait on.
      if (answerMs === null) await sleep(20);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  return { files, spawn_to_ready_ms: readyMs, spawn_to_first_answer_ms: answerMs };
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-catalog-bench-'));
try {
  const source = await tinyParquet(scratch);
  for (const size of flags.sizes.split(',').map(Number)) console.log(JSON.stringify(await measureCatalog(scratch, source, size)));
  const startFiles = Number(flags['start-files']);
  if (startFiles > 0) console.log(JSON.stringify(await measureStart(scratch, source, startFiles)));
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
