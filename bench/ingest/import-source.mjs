#!/usr/bin/env node
// @ts-check
// Import job throughput from a real InfluxDB 1.x server: seeds a fresh `influxd` with TSBS
// cpu-only rows (10 tags, 10 float fields, many hosts), then, in a fresh Arc each run, stores a
// connection to it (POST /api/v1/connections/influx), creates an import job (POST /api/v1/jobs),
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
import { parseArgs } from 'node:util';
import { CLK_TCK, DEFAULT_SERVER_ENTRY, cpuModel, flush, gitCommit, median, round, sleep, spawnServer, treeCpuTicks } from '../lib/arc-server.mjs';
import { influxdAvailable, startInfluxd } from '../lib/influxd.mjs';
import { DEFAULT_SEED, FIELD_KEYS, MEASUREMENT, TAG_KEYS, TsbsCpu, mixSeed, mulberry32 } from './tsbs.mjs';

const USAGE = `usage: node bench/ingest/import-source.mjs [options]
  --source influx       where the job reads from (influx: a fresh influxd seeded by this script)
  --rows N              rows seeded (default 1,000,000)
  --hosts N             TSBS hosts (default 100)
  --runs N              repeat N times, a fresh Arc each (the source seeded once), and print a median line (default 3)
  --chunk-rows N        the job's chunk_rows (default: the job's default)
  --smoke               20,000 rows, one run (CI: proves the benchmark works; the figure means nothing)
  --server-entry FILE   server entry (default packages/cli/dist/main.js)
  --cpu-prof DIR        run the server with --cpu-prof into DIR (a profile per thread)
  --json                only JSON lines on stdout
  --help
Without influxd on PATH it prints why and exits 0 (scripts/install-influxdb.sh installs it).`;

const { values } = parseArgs({
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
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const log = values.json ? () => {} : (/** @type {string} */ text) => process.stderr.write(`${text}\n`);
if (values.source !== 'influx') {
  console.error(`--source ${values.source}: only influx is measured here yet\n${USAGE}`);
  process.exit(2);
}
const rows = Number(values.rows ?? (values.smoke ? 20_000 : 1_000_000));
const runs = Number(values.runs ?? (values.smoke ? 1 : 3));
const hosts = Number(values.hosts);
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(runs) || runs < 1 || !Number.isInteger(hosts) || hosts < 1) {
  console.error(USAGE);
  process.exit(2);
}
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
 * precision, as TSBS writes them). Returns the sum of usage_user written.
 * @param {(body: string) => Promise<void>} write
 */
async function seed(/** @type {(body: string) => Promise<void>} */ write) {
  const gen = new TsbsCpu({ hosts, seed: DEFAULT_SEED });
  const fraction = mulberry32(mixSeed(DEFAULT_SEED, 7));
  let usageUserSum = 0;
  for (let done = 0; done < rows; ) {
    const n = Math.min(SEED_BATCH_ROWS, rows - done);
    const chunk = gen.next(n);
    const lines = new Array(n);
    for (let i = 0; i < n; i++) {
      const tagSet = /** @type {Record<string, string>} */ (gen.tags[/** @type {number} */ (chunk.host[i])]);
      const tagText = TAG_KEYS.map((key) => `${key}=${tagSet[key]}`).join(',');
      let fieldText = '';
      for (let k = 0; k < FIELD_KEYS.length; k++) {
        const value = /** @type {number} */ (/** @type {Uint8Array} */ (chunk.fields[k])[i]) + fraction();
        if (k === 0) usageUserSum += value;
        fieldText += `${k === 0 ? '' : ','}${FIELD_KEYS[k]}=${value}`;
      }
      lines[i] = `${MEASUREMENT},${tagText} ${fieldText} ${chunk.time[i]}000000\n`;
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
 * @param {{ url: string, pid: number }} influxd
 * @param {number} writtenSum
 * @param {number} index
 */
async function run(influxd, writtenSum, index) {
  const nodeArgs = values['cpu-prof'] === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values['cpu-prof'])}`];
  const server = await spawnServer({ serverEntry: values['server-entry'], readyTimeout: 60, keepData: false, nodeArgs }, log);
  try {
    const connection = await call(server, 'POST', '/api/v1/connections/influx', { name: 'bench-influxd', settings: { url: influxd.url, database: SOURCE_DATABASE } }, 201);
    const job = await call(
      server,
      'POST',
      '/api/v1/jobs',
      {
        name: 'bench-import',
        type: 'influx1',
        connection_id: connection.id,
        source: { measurements: [MEASUREMENT] },
        database: DESTINATION_DATABASE,
        ...(values['chunk-rows'] === undefined ? {} : { chunk_rows: Number(values['chunk-rows']) }),
      },
      201,
    );
    const ticksBefore = treeCpuTicks(server.pid);
    const influxTicksBefore = treeCpuTicks(influxd.pid);
    const started = performance.now();
    await call(server, 'POST', `/api/v1/jobs/${job.id}/run`, {}, 202);
    /** @type {any} */
    let execution;
    for (;;) {
      execution = (await call(server, 'GET', `/api/v1/jobs/${job.id}/executions?limit=1`, undefined)).executions[0];
      if (execution.status !== 'running') break;
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - started) / 1000;
    const ticksAfter = treeCpuTicks(server.pid);
    const influxTicksAfter = treeCpuTicks(influxd.pid);
    if (execution.status !== 'succeeded') throw new Error(`execution ${execution.status}: ${JSON.stringify(execution.error)}`);
    const flushed = await flush(server.url, server.token);
    if (flushed.error !== null) throw new Error(`flush: ${flushed.error}`);
    const back = await readBack(server);
    const serverCpuS = ticksAfter === null || ticksBefore === null ? null : (ticksAfter - ticksBefore) / CLK_TCK;
    return {
      bench: 'import-source',
      source: 'influx1',
      run: index,
      rows: execution.rows,
      rows_rejected: execution.rows_rejected,
      chunks: execution.chunks,
      bytes: execution.bytes,
      seconds: round(seconds, 3),
      rows_per_s: Math.round(execution.rows / seconds),
      server_cpu_s: serverCpuS === null ? null : round(serverCpuS, 2),
      rows_per_server_cpu_s: serverCpuS === null || serverCpuS === 0 ? null : Math.round(execution.rows / serverCpuS),
      influxd_cpu_s: influxTicksAfter === null || influxTicksBefore === null ? null : round((influxTicksAfter - influxTicksBefore) / CLK_TCK, 2),
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

if (!influxdAvailable()) {
  const reason = 'influxd is not on PATH (scripts/install-influxdb.sh installs it): the import from InfluxDB is not measured';
  console.log(JSON.stringify({ bench: 'import-source', source: 'influx1', not_run: reason }));
  log(reason);
  process.exit(0);
}
if (values['cpu-prof'] !== undefined) fs.mkdirSync(values['cpu-prof'], { recursive: true });
const influxd = await startInfluxd();
let failed = false;
try {
  await influxd.query(`CREATE DATABASE "${SOURCE_DATABASE}"`);
  const seedStarted = performance.now();
  const writtenSum = await seed((body) => influxd.write(SOURCE_DATABASE, body));
  const seeded = await influxd.query(`SELECT count(usage_user) FROM ${MEASUREMENT}`, SOURCE_DATABASE);
  const seededRows = seeded.results?.[0]?.series?.[0]?.values?.[0]?.[1];
  if (seededRows !== rows) throw new Error(`influxd holds ${seededRows} rows, ${rows} were written`);
  log(`seeded influxd with ${rows} rows (${hosts} hosts) in ${round((performance.now() - seedStarted) / 1000, 1)} s`);
  const results = [];
  for (let index = 1; index <= runs; index++) {
    const result = await run(influxd, writtenSum, index);
    results.push(result);
    console.log(JSON.stringify(result));
    if (!result.read_back_ok) failed = true;
  }
  if (results.length > 1) {
    console.log(
      JSON.stringify({
        bench: 'import-source',
        source: 'influx1',
        median: true,
        runs: results.length,
        rows_per_s: median(results.map((result) => result.rows_per_s)),
        rows_per_server_cpu_s: median(results.map((result) => result.rows_per_server_cpu_s ?? 0)),
        read_back_ok: results.every((result) => result.read_back_ok),
      }),
    );
  }
} finally {
  await influxd.stop();
}
if (failed) {
  console.error('a run did not read back every row it imported');
  process.exit(1);
}
