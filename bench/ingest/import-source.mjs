#!/usr/bin/env node
// @ts-check
// Import job throughput from a real InfluxDB 1.x server (or PostgreSQL, --source postgres): seeds
// a fresh `influxd` (or a fresh table) with TSBS cpu-only rows (10 tags, 10 float fields, many
// hosts), then, in a fresh Arc each run, stores a connection to it
// (POST /api/v1/connections/influx or /postgres), creates an import job (POST /api/v1/jobs),
// runs it (POST /api/v1/jobs/{id}/run) and polls its execution until it ends. rows/s is the
// execution's rows over the wall time from the run request to the execution's end (every chunk
// acknowledged by ingest and checkpointed); the server's CPU seconds over the same span give rows
// per server CPU-second (influxd's own CPU is reported beside it, not in it). Every row is read
// back: count(*) and sum(usage_user) against what was written to influxd. One JSON line per run
// and a median line. See bench/ingest/README.md.
//
//   node bench/ingest/import-source.mjs --rows 1000000 --runs 3
//   node bench/ingest/import-source.mjs --smoke        # 20,000 rows, one run (CI)
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { CLK_TCK, DEFAULT_SERVER_ENTRY, cpuModel, flush, gitCommit, median, round, sleep, spawnServer, treeCpuTicks } from '../lib/arc-server.mjs';
import { UsageError, cliOutput, integerOption, parseCli } from '../lib/cli.mjs';
import { influxdAvailable, startInfluxd } from '../lib/influxd.mjs';
import { DEFAULT_SEED, FIELD_KEYS, MEASUREMENT, TAG_KEYS, TsbsCpu, mixSeed, mulberry32 } from './tsbs.mjs';

const USAGE = `usage: node bench/ingest/import-source.mjs [options]
  --source influx|postgres  where the job reads from: influx, a fresh influxd seeded by this
                        script; postgres, a table bench_cpu (dropped and made again) in the PostgreSQL
                        of $ARC_TEST_PG_URL / $ARC_TEST_PG_PASSWORD (scripts/postgres.sh start, env)
  --rows N              rows seeded (default 1,000,000)
  --hosts N             TSBS hosts (default 100)
  --runs N              repeat N times, a fresh Arc each (the source seeded once), and print a median line (default 3)
  --chunk-rows N        the job's chunk_rows (default: the job's default)
  --smoke               20,000 rows, one run (CI: proves the benchmark works; the figure means nothing)
  --server-entry FILE   server entry (default packages/cli/dist/main.js)
  --cpu-prof DIR        run the server with --cpu-prof into DIR (a profile per thread)
  --json                only JSON lines on stdout
  --help
Without influxd on PATH (or without $ARC_TEST_PG_URL for postgres) it prints why and exits 0
(scripts/install-influxdb.sh installs influxd).`;

/**
 * The options, or null for --help; throws a UsageError naming a bad one.
 * @param {string[]} argv
 */
function parse(argv) {
  const { values: given } = parseArgs({
    args: argv,
    options: {
      source: { type: 'string', default: 'influx' },
      rows: { type: 'string' },
      hosts: { type: 'string', default: '100' },
      runs: { type: 'string' },
      'chunk-rows': { type: 'string' },
      smoke: { type: 'boolean', default: false },
      'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
      'cpu-prof': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (given.help) return null;
  if (given.source !== 'influx' && given.source !== 'postgres') throw new UsageError(`--source ${String(given.source)}: influx or postgres`);
  return {
    ...given,
    rows: integerOption('rows', given.rows ?? (given.smoke ? '20000' : '1000000'), 1),
    runs: integerOption('runs', given.runs ?? (given.smoke ? '1' : '3'), 1),
    hosts: integerOption('hosts', given.hosts, 1),
    chunkRows: given['chunk-rows'] === undefined ? null : integerOption('chunk-rows', given['chunk-rows'], 1),
  };
}
const cli = parseCli(process.argv.slice(2), parse, USAGE);
if (cli.options === null) process.exit(cli.exitCode);
const values = cli.options;
const { log } = cliOutput({ json: values.json, out: null });
const SOURCE_TYPE = values.source === 'influx' ? 'influx1' : 'postgres';
const { rows, runs, hosts } = values;
/** Rows per write while seeding influxd (a few MB of line protocol). */
const SEED_BATCH_ROWS = 10_000;
/** The source database in influxd and the destination database in Arc. */
const SOURCE_DATABASE = 'tsbs';
const DESTINATION_DATABASE = 'bench';
/** How often the execution is polled: its end is known no other way; the error is at most this. */
const POLL_MS = 50;
/** A sum read back must match the written one within this relative error (float addition order). */
const SUM_RELATIVE_ERROR_MAX = 1e-9;

/**
 * Seeds `rows` TSBS cpu rows as float fields (the walk's integer plus a fraction of full
 * precision, as TSBS writes them), as line protocol or (`csv`) as CSV rows for COPY: time in ns,
 * the tags, the fields. Returns the sum of usage_user written.
 * @param {(body: string) => Promise<void>} write
 */
async function seed(/** @type {(body: string) => Promise<void>} */ write, csv = false) {
  const gen = new TsbsCpu({ hosts, seed: DEFAULT_SEED });
  const fraction = mulberry32(mixSeed(DEFAULT_SEED, 7));
  let usageUserSum = 0;
  for (let done = 0; done < rows; ) {
    const n = Math.min(SEED_BATCH_ROWS, rows - done);
    const chunk = gen.next(n);
    const lines = new Array(n);
    for (let i = 0; i < n; i++) {
      const tagSet = /** @type {Record<string, string>} */ (gen.tags[/** @type {number} */ (chunk.host[i])]);
      const tagText = TAG_KEYS.map((key) => (csv ? tagSet[key] : `${key}=${tagSet[key]}`)).join(',');
      let fieldText = '';
      for (let k = 0; k < FIELD_KEYS.length; k++) {
        const value = /** @type {number} */ (/** @type {Uint8Array} */ (chunk.fields[k])[i]) + fraction();
        if (k === 0) usageUserSum += value;
        fieldText += `${k === 0 ? '' : ','}${csv ? '' : `${FIELD_KEYS[k]}=`}${value}`;
      }
      lines[i] = csv ? `${chunk.time[i]}000000,${tagText},${fieldText}\n` : `${MEASUREMENT},${tagText} ${fieldText} ${chunk.time[i]}000000\n`;
    }
    await write(lines.join(''));
    done += n;
  }
  return usageUserSum;
}

/**
 * One admin call to Arc; throws unless it answers `expected`.
 * @param {{ url: string, token: string }} server
 * @returns {Promise<any>}
 */
async function call(server, /** @type {string} */ method, /** @type {string} */ route, /** @type {unknown} */ body, expected = 200) {
  const response = await fetch(`${server.url}${route}`, {
    method,
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${method} ${route} answered ${response.status}: ${text.slice(0, 500)}`);
  return text === '' ? null : JSON.parse(text);
}

/** count(*) and sum(usage_user) of the destination. */
async function readBack(/** @type {{ url: string, token: string }} */ server) {
  const response = await fetch(`${server.url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.token}`, 'x-arc-database': DESTINATION_DATABASE },
    body: JSON.stringify({ sql: `SELECT count(*) AS n, sum(usage_user) AS s FROM ${MEASUREMENT}`, format: 'json' }),
  });
  const body = /** @type {any} */ (await response.json());
  if (response.status !== 200 || body.success === false) throw new Error(`read back: ${response.status} ${JSON.stringify(body).slice(0, 300)}`);
  const row = body.data[0];
  return Array.isArray(row) ? { n: Number(row[0]), sum: Number(row[1]) } : { n: Number(row.n), sum: Number(row.s) };
}

/**
 * @typedef {{ pid: number | null, connection: { route: string, body: unknown }, jobSource: unknown }} Source
 * @param {Source} source
 * @param {number} writtenSum
 * @param {number} index
 */
async function run(source, writtenSum, index) {
  const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`];
  const server = await spawnServer({ serverEntry: values['server-entry'], readyTimeout: 60, keepData: false, nodeArgs }, log);
  try {
    const connection = await call(server, 'POST', source.connection.route, source.connection.body, 201);
    const job = await call(
      server,
      'POST',
      '/api/v1/jobs',
      {
        name: 'bench-import',
        type: SOURCE_TYPE,
        connection_id: connection.id,
        source: source.jobSource,
        database: DESTINATION_DATABASE,
        ...(values.chunkRows === null ? {} : { chunk_rows: values.chunkRows }),
      },
      201,
    );
    const ticksBefore = treeCpuTicks(server.pid);
    const influxTicksBefore = source.pid === null ? null : treeCpuTicks(source.pid);
    const started = performance.now();
    await call(server, 'POST', `/api/v1/jobs/${job.id}/run`, {}, 202);
    /** @type {any} */
    let execution;
    for (;;) {
      execution = (await call(server, 'GET', `/api/v1/jobs/${job.id}/executions?limit=1`, undefined)).executions[0];
      if (execution.status !== 'running') break;
      // The job's execution is polled: across HTTP there is no event to wait on.
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    const ticksAfter = treeCpuTicks(server.pid);
    const influxTicksAfter = source.pid === null ? null : treeCpuTicks(source.pid);
    if (execution.status !== 'succeeded') throw new Error(`execution ${execution.status}: ${JSON.stringify(execution.error)}`);
    const flushed = await flush(server.url, server.token);
    if (flushed.error !== null) throw new Error(`flush: ${flushed.error}`);
    const back = await readBack(server);
    const serverCpuS = ticksAfter === null || ticksBefore === null ? null : (ticksAfter - ticksBefore) / CLK_TCK;
    return {
      bench: 'import-source',
      source: SOURCE_TYPE,
      run: index,
      rows: execution.rows,
      rows_rejected: execution.rows_rejected,
      chunks: execution.chunks,
      bytes: execution.bytes,
      seconds: round(seconds, 3),
      rows_per_s: Math.round(execution.rows / seconds),
      server_cpu_s: serverCpuS === null ? null : round(serverCpuS, 2),
      rows_per_server_cpu_s: serverCpuS === null || serverCpuS === 0 ? null : Math.round(execution.rows / serverCpuS),
      source_cpu_s: influxTicksAfter === null || influxTicksBefore === null ? null : round((influxTicksAfter - influxTicksBefore) / CLK_TCK, 2),
      read_back: back.n,
      read_back_ok: back.n === rows && Math.abs(back.sum - writtenSum) <= SUM_RELATIVE_ERROR_MAX * Math.abs(writtenSum),
      sum_usage_user: round(back.sum, 3),
      cpus: os.cpus().length,
      cpu_model: cpuModel(),
      load_avg_1m: round(os.loadavg()[0] ?? 0, 2),
      node: process.version,
      commit: gitCommit(),
    };
  } finally {
    await server.stop();
  }
}

/** Prints the runs' lines and a median line; true when every run read every row back. */
async function measure(/** @type {Source} */ source, /** @type {number} */ writtenSum) {
  const results = [];
  for (let index = 1; index <= runs; index++) {
    const result = await run(source, writtenSum, index);
    results.push(result);
    console.log(JSON.stringify(result));
  }
  if (results.length > 1) {
    console.log(
      JSON.stringify({
        bench: 'import-source',
        source: SOURCE_TYPE,
        median: true,
        runs: results.length,
        rows_per_s: median(results.map((result) => result.rows_per_s)),
        rows_per_server_cpu_s: median(results.map((result) => result.rows_per_server_cpu_s ?? 0)),
        read_back_ok: results.every((result) => result.read_back_ok),
      }),
    );
  }
  return results.every((result) => result.read_back_ok);
}

/** Exits 0 with a line saying why the source cannot be measured here. */
function notRun(/** @type {string} */ reason) {
  console.log(JSON.stringify({ bench: 'import-source', source: SOURCE_TYPE, not_run: reason }));
  log(reason);
  process.exit(0);
}

/** The PostgreSQL table of the TSBS rows: time in ns (bigint, time_unit ns), the tags as text, the fields as double precision. */
const PG_TABLE = 'bench_cpu';

/**
 * Runs psql on the test server; `feed` writes to its stdin (COPY ... FROM STDIN) before it is closed.
 * @param {((write: (text: string) => Promise<void>) => Promise<unknown>) | null} feed
 */
function psql(/** @type {URL} */ url, /** @type {string} */ password, /** @type {string} */ command, feed) {
  return new Promise((resolve, reject) => {
    const child = spawn('psql', ['-v', 'ON_ERROR_STOP=1', '-q', '-h', url.hostname, '-p', url.port || '5432', '-U', decodeURIComponent(url.username), '-d', url.pathname.slice(1), '-c', command], {
      env: { ...process.env, PGPASSWORD: password },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let errors = '';
    child.stderr.on('data', (piece) => (errors += String(piece)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(undefined) : reject(new Error(`psql ${command.slice(0, 60)}: exit ${code}: ${errors}`))));
    const write = (/** @type {string} */ text) => (child.stdin.write(text) ? Promise.resolve() : new Promise((drained) => child.stdin.once('drain', () => drained(undefined))));
    if (feed === null) child.stdin.end();
    else feed(write).then(() => child.stdin.end(), reject);
  });
}

async function measurePostgres() {
  const urlText = process.env.ARC_TEST_PG_URL ?? '';
  if (urlText === '') notRun('ARC_TEST_PG_URL is not set (scripts/postgres.sh start, then eval "$(scripts/postgres.sh env)"): the import from PostgreSQL is not measured');
  const url = new URL(urlText);
  const password = process.env.ARC_TEST_PG_PASSWORD ?? '';
  const columns = ['time bigint NOT NULL', ...TAG_KEYS.map((key) => `${key} text`), ...FIELD_KEYS.map((key) => `${key} double precision`)];
  await psql(url, password, `DROP TABLE IF EXISTS ${PG_TABLE}; CREATE TABLE ${PG_TABLE} (${columns.join(', ')})`, null);
  const seedStarted = performance.now();
  let writtenSum = 0;
  await psql(url, password, `COPY ${PG_TABLE} FROM STDIN WITH (FORMAT csv)`, async (write) => (writtenSum = await seed(write, true)));
  await psql(url, password, `CREATE INDEX ON ${PG_TABLE} (time); ANALYZE ${PG_TABLE}`, null);
  log(`seeded ${PG_TABLE} with ${rows} rows (${hosts} hosts) in ${round((performance.now() - seedStarted) / 1000, 1)} s`);
  const settings = { host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1), user: decodeURIComponent(url.username), ssl: false };
  try {
    return await measure(
      {
        pid: null,
        connection: { route: '/api/v1/connections/postgres', body: { name: 'bench-postgres', settings, secret: password } },
        jobSource: { table: PG_TABLE, time_column: 'time', time_unit: 'ns', tag_columns: [...TAG_KEYS], measurement: MEASUREMENT },
      },
      writtenSum,
    );
  } finally {
    await psql(url, password, `DROP TABLE IF EXISTS ${PG_TABLE}`, null);
  }
}

async function measureInflux() {
  if (!influxdAvailable()) notRun('influxd is not on PATH (scripts/install-influxdb.sh installs it): the import from InfluxDB is not measured');
  const influxd = await startInfluxd();
  try {
    await influxd.query(`CREATE DATABASE "${SOURCE_DATABASE}"`);
    const seedStarted = performance.now();
    const writtenSum = await seed((body) => influxd.write(SOURCE_DATABASE, body));
    const seeded = await influxd.query(`SELECT count(usage_user) FROM ${MEASUREMENT}`, SOURCE_DATABASE);
    const seededRows = seeded.results?.[0]?.series?.[0]?.values?.[0]?.[1];
    if (seededRows !== rows) throw new Error(`influxd holds ${seededRows} rows, ${rows} were written`);
    log(`seeded influxd with ${rows} rows (${hosts} hosts) in ${round((performance.now() - seedStarted) / 1000, 1)} s`);
    return await measure(
      {
        pid: influxd.pid,
        connection: { route: '/api/v1/connections/influx', body: { name: 'bench-influxd', settings: { url: influxd.url, database: SOURCE_DATABASE } } },
        jobSource: { measurements: [MEASUREMENT] },
      },
      writtenSum,
    );
  } finally {
    await influxd.stop();
  }
}

if (values['cpu-prof'] !== undefined) fs.mkdirSync(values['cpu-prof'], { recursive: true });
const allReadBack = values.source === 'postgres' ? await measurePostgres() : await measureInflux();
if (!allReadBack) {
  console.error('a run did not read back every row it imported');
  process.exit(1);
}
