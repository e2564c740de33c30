// @ts-check
// Issue 11's case: REQUESTS line-protocol requests of MEASUREMENTS new measurements each
// (`m0 v=1` ... one row per measurement), sent one after the other to a spawned Arc while GET
// /health is probed every 100 ms. Prints one JSON line: request latencies, the slowest /health
// while writing and while flushing, the flush time (POST /write/flush, no client timeout), the
// first query's time (SHOW TABLES: the query thread's catalog refresh) and the server's CPU time.
//
//   node bench/ingest/many-measurements.mjs [requests=20] [measurements=3000] [server entry]
//
// The bounds are raised to let the requests through (ingest.max_measurements_per_*).
import http from 'node:http';
import { DEFAULT_SERVER_ENTRY, CLK_TCK, round, spawnServer, treeCpuTicks } from '../lib/arc-server.mjs';

const REQUESTS = Number(process.argv[2] ?? 20);
const MEASUREMENTS = Number(process.argv[3] ?? 3000);
const SERVER_ENTRY = process.argv[4] ?? DEFAULT_SERVER_ENTRY;
const HEALTH_EVERY_MS = 100;

/**
 * POST without fetch's 300 s header timeout (a flush of tens of thousands of files takes longer).
 * @param {string} url
 * @param {string} token
 * @param {string} body
 * @returns {Promise<{ status: number, text: string }>}
 */
function post(url, token, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** @param {number} request */
function body(request) {
  const first = request * MEASUREMENTS;
  return Array.from({ length: MEASUREMENTS }, (_, index) => `m${first + index} v=1`).join('\n');
}

const server = await spawnServer(
  {
    serverEntry: SERVER_ENTRY,
    readyTimeout: 120,
    keepData: false,
    env: {
      ARC_INGEST_DECODERS: '2',
      ARC_QUERY_THREADS: '1',
      ARC_INGEST_MAX_MEASUREMENTS_PER_REQUEST: String(MEASUREMENTS),
      ARC_INGEST_MAX_MEASUREMENTS_PER_DATABASE: String(Math.min(100_000, REQUESTS * MEASUREMENTS)),
    },
  },
  (line) => process.stderr.write(`${line}\n`),
);
const cpuStart = treeCpuTicks(server.pid) ?? 0;
let healthSlowestMs = 0;
let healthProbes = 0;
let probing = true;
const prober = (async () => {
  while (probing) {
    const startedAt = performance.now();
    await fetch(`${server.url}/health`).then((response) => response.text());
    healthSlowestMs = Math.max(healthSlowestMs, performance.now() - startedAt);
    healthProbes += 1;
    // The probe rate is what this loop measures against (health latency during the load), not an ordering.
    await new Promise((resolve) => setTimeout(resolve, HEALTH_EVERY_MS));
  }
})();
/** @type {number[]} */
const latenciesMs = [];
const statuses = new Set();
for (let request = 0; request < REQUESTS; request++) {
  const startedAt = performance.now();
  const answer = await post(`${server.url}/write?db=many`, server.token, body(request));
  latenciesMs.push(Math.round(performance.now() - startedAt));
  statuses.add(answer.status);
}
const healthWhileWritingMs = healthSlowestMs;
healthSlowestMs = 0;
const flushStartedAt = performance.now();
const flushed = await post(`${server.url}/write/flush`, server.token, '');
const flushMs = performance.now() - flushStartedAt;
const healthWhileFlushingMs = healthSlowestMs;
const queryStartedAt = performance.now();
const shown = await fetch(`${server.url}/query`, {
  method: 'POST',
  headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json', 'x-arc-database': 'many' },
  body: JSON.stringify({ sql: 'SHOW TABLES', format: 'json' }),
}).then(async (response) => ({ status: response.status, rows: /** @type {{ row_count?: number }} */ (await response.json()).row_count }));
const queryMs = performance.now() - queryStartedAt;
probing = false;
await prober;
const cpuSeconds = ((treeCpuTicks(server.pid) ?? 0) - cpuStart) / CLK_TCK;
await server.stop();
console.log(
  JSON.stringify({
    requests: REQUESTS,
    measurements_per_request: MEASUREMENTS,
    statuses: [...statuses],
    request_ms_first: latenciesMs.slice(0, 3),
    request_ms_last: latenciesMs.slice(-3),
    request_ms_max: Math.max(...latenciesMs),
    health_ms_max_writing: round(healthWhileWritingMs, 1),
    health_ms_max_flushing: round(healthWhileFlushingMs, 1),
    health_probes: healthProbes,
    flush_status: flushed.status,
    flush_s: round(flushMs / 1000, 1),
    show_tables_status: shown.status,
    show_tables_rows: shown.rows,
    show_tables_s: round(queryMs / 1000, 1),
    server_cpu_s: round(cpuSeconds, 1),
  }),
);
