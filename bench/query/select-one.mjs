#!/usr/bin/env node
/**
 * The fixed cost of one query over HTTP: `SELECT 1 AS one` sent again and again on one
 * keep-alive connection, one request at a time (closed loop), timed from the request to the last
 * byte of the answer; the answer cache is off on the spawned server. Prints one JSON line with
 * the median and tail. Many requests, not the 20 of bench/query/query.mjs: on a shared machine
 * only a median over thousands of them says anything about a sub-millisecond cost.
 *
 *   node bench/query/select-one.mjs [--requests 3000] [--warmup 200] [--url URL --token T]
 */
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_SERVER_ENTRY, percentile, spawnServer } from '../lib/arc-server.mjs';

const SQL = 'SELECT 1 AS one';

/** @param {string} message */
function usage(message) {
  process.stderr.write(`${message}\nusage: node bench/query/select-one.mjs [--requests N] [--warmup N] [--url URL --token T]\n`);
  process.exit(2);
}

/** @type {{ requests: string, warmup: string, url?: string, token?: string }} */
let values = { requests: '', warmup: '' };
try {
  values = parseArgs({
    options: {
      requests: { type: 'string', default: '3000' },
      warmup: { type: 'string', default: '200' },
      url: { type: 'string' },
      token: { type: 'string' },
    },
  }).values;
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const requests = Number(values.requests);
const warmup = Number(values.warmup);
if (!(Number.isInteger(requests) && requests > 0 && Number.isInteger(warmup) && warmup >= 0)) usage('--requests must be a positive integer, --warmup a non-negative one');
if ((values.url === undefined) !== (values.token === undefined)) usage('--url and --token go together (without them a server is spawned)');

const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
const server =
  values.url === undefined
    ? await spawnServer({ serverEntry: DEFAULT_SERVER_ENTRY, readyTimeout: 60, keepData: false, env: { ARC_QUERY_CACHE_ENABLED: 'false' } }, log)
    : { url: values.url, token: /** @type {string} */ (values.token), stop: async () => undefined };
const base = new URL(server.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const body = Buffer.from(JSON.stringify({ sql: SQL, format: 'json' }));
const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'content-length': String(body.length) };

/** One request; resolves with its milliseconds, rejects on anything but a 200. */
function timedRequest() {
  return new Promise((resolve, reject) => {
    const startedAtMs = performance.now();
    const request = http.request({ agent, host: base.hostname, port: base.port, method: 'POST', path: '/query', headers }, (response) => {
      /** @type {Buffer[]} */
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const elapsedMs = performance.now() - startedAtMs;
        if (response.statusCode === 200) resolve(elapsedMs);
        else reject(new Error(`HTTP ${String(response.statusCode)}: ${Buffer.concat(chunks).toString('utf8')}`));
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

try {
  for (let index = 0; index < warmup; index++) await timedRequest();
  const loadBefore = os.loadavg()[0];
  const timesMs = new Float64Array(requests);
  for (let index = 0; index < requests; index++) timesMs[index] = /** @type {number} */ (await timedRequest());
  timesMs.sort();
  const line = {
    benchmark: 'select-1-closed-loop',
    sql: SQL,
    requests,
    median_ms: percentile(timesMs, 0.5),
    p90_ms: percentile(timesMs, 0.9),
    p99_ms: percentile(timesMs, 0.99),
    min_ms: percentile(timesMs, 0),
    load_average_1m: { before: loadBefore, after: os.loadavg()[0] },
    node: process.version,
    date: new Date().toISOString(),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
} finally {
  agent.destroy();
  await server.stop();
}
