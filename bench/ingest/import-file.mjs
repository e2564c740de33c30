#!/usr/bin/env node
// @ts-check
// File import throughput: writes a TSBS cpu-only line protocol file (the same rows and text as
// `ingest.mjs --format lp`), streams it to `POST /api/v1/import/lp` of a server it spawns, and
// checks every row is read back. The import's answer comes after its rows are flushed to Parquet,
// so rows/s here is end to end. Prints one JSON line per run (and a median line with --runs > 1),
// to compare with `ingest.mjs --format lp` (HTTP line protocol writes). See bench/ingest/README.md.
//
//   node bench/ingest/import-file.mjs --rows 2000000 --runs 3
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVER_ENTRY, countRows, cpuModel, median, round, spawnServer, treeCpuTicks, CLK_TCK } from '../lib/arc-server.mjs';
import { DEFAULT_HOSTS, DEFAULT_SEED, TsbsCpu, encodeLineProtocol } from './tsbs.mjs';

const USAGE = `usage: node bench/ingest/import-file.mjs [options]
  --rows N              rows in the generated file (default 2,000,000)
  --hosts N             TSBS hosts (default 100)
  --runs N              repeat N times, a fresh server and database each, and print a median line (default 1)
  --file FILE           import this line protocol file instead of generating one (rows counted from the answer)
  --server-entry FILE   server entry (default packages/cli/dist/main.js)
  --json                only JSON lines on stdout
  --help`;

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    hosts: { type: 'string', default: String(DEFAULT_HOSTS) },
    runs: { type: 'string', default: '1' },
    file: { type: 'string' },
    'server-entry': { type: 'string', default: DEFAULT_SERVER_ENTRY },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const log = values.json ? () => {} : (/** @type {string} */ text) => process.stderr.write(`${text}\n`);

/** Writes the TSBS rows as line protocol, 10,000 rows per write. */
async function generate(/** @type {string} */ file, /** @type {number} */ rows, /** @type {number} */ hosts) {
  const gen = new TsbsCpu({ hosts, seed: DEFAULT_SEED });
  const out = fs.createWriteStream(file);
  for (let done = 0; done < rows; ) {
    const n = Math.min(10_000, rows - done);
    const text = encodeLineProtocol(gen.next(n), gen.tags);
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', () => resolve(undefined)));
    done += n;
  }
  await new Promise((resolve) => out.end(() => resolve(undefined)));
}

/**
 * Streams the file to the import route; resolves with the answer.
 * @returns {Promise<{ status: number, json: any }>}
 */
function importFile(/** @type {string} */ url, /** @type {string} */ token, /** @type {string} */ file) {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/import/lp?db=bench&precision=ns`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' } }, (res) => {
      let text = '';
      res.on('data', (piece) => (text += String(piece)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    fs.createReadStream(file).pipe(req);
  });
}

async function run(/** @type {string} */ file, /** @type {number} */ index) {
  const server = await spawnServer({ serverEntry: values['server-entry'], readyTimeout: 60, keepData: false }, log);
  try {
    const bytes = fs.statSync(file).size;
    const ticksBefore = treeCpuTicks(server.pid);
    const started = performance.now();
    const answer = await importFile(server.url, server.token, file);
    const seconds = (performance.now() - started) / 1000;
    const ticksAfter = treeCpuTicks(server.pid);
    const ticks = ticksAfter === null || ticksBefore === null ? null : ticksAfter - ticksBefore;
    if (answer.status !== 200) throw new Error(`import answered ${answer.status}: ${JSON.stringify(answer.json)}`);
    const rows = answer.json.result.rows_imported;
    const readBack = await countRows(server.url, server.token, 'bench');
    return {
      bench: 'import-file',
      format: 'lp',
      run: index,
      rows,
      rows_rejected: answer.json.result.rows_rejected,
      bytes,
      seconds: round(seconds, 3),
      rows_per_s: Math.round(rows / seconds),
      mb_per_s: round(bytes / 1e6 / seconds, 1),
      server_cpu_s: ticks === null ? null : round(ticks / CLK_TCK, 2),
      read_back: readBack.n,
      read_back_ok: readBack.n === rows,
      cpus: os.cpus().length,
      cpu_model: cpuModel(),
      load_avg_1m: round(os.loadavg()[0] ?? 0, 2),
      node: process.version,
    };
  } finally {
    await server.stop();
  }
}

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-import-bench-'));
try {
  const file = values.file ?? path.join(directory, 'cpu.lp');
  if (values.file === undefined) {
    log(`generating ${values.rows} rows of line protocol in ${file}`);
    await generate(file, Number(values.rows), Number(values.hosts));
  }
  const results = [];
  for (let index = 1; index <= Number(values.runs); index++) {
    const result = await run(file, index);
    results.push(result);
    console.log(JSON.stringify(result));
  }
  if (results.length > 1) {
    console.log(JSON.stringify({ bench: 'import-file', format: 'lp', median: true, runs: results.length, rows_per_s: median(results.map((result) => result.rows_per_s)), mb_per_s: median(results.map((result) => result.mb_per_s)) }));
  }
} finally {
  fs.rmSync(directory, { recursive: true, force: true });
}
