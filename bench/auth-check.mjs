// What the token check costs the acceptor per write request when the token is cached (the common
// case): AuthGate.check = read the header, SHA-256 of the token, LRU lookup, permission and
// database check, one awaited promise. Prints one JSON line: ns per check, and the share of one
// core it takes at the request rate of a given ingest throughput.
// Run after building: npx tsc -b packages/server && node bench/auth-check.mjs [seconds] [rows/s] [rows/request]
import { TokenStore, TokenVerifier } from '@arc/auth';
import { AuthGate } from '@arc/server';

const SECONDS = Number(process.argv[2] ?? 3);
const ROWS_PER_SECOND = Number(process.argv[3] ?? 555_786); // README: columnar MessagePack, 2-core machine
const ROWS_PER_REQUEST = Number(process.argv[4] ?? 5000);

const store = TokenStore.open(':memory:');
const { token } = store.create({ name: 'bench', permissions: ['write'], databases: ['bench'] });
const gate = new AuthGate(new TokenVerifier(store, 30_000));
const request = {
  method: 'POST',
  url: '/write/v2/msgpack',
  query: new URLSearchParams(),
  authorization: `Bearer ${token}`,
  apiKey: '',
  database: 'bench',
  contentLength: '1000',
  receivedAtUs: 0,
};

const first = await gate.check(request, 'write', 'bench');
if (first.name !== 'bench') throw new Error(`the bench token was refused: ${first.message}`);
let checks = 0;
const deadline = performance.now() + SECONDS * 1000;
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
while (performance.now() < deadline) {
  for (let index = 0; index < 1000; index++) {
    const identity = await gate.check(request, 'write', 'bench');
    if (identity.name !== 'bench') throw new Error('refused mid-run');
  }
  checks += 1000;
}
const wallNs = (performance.now() - wallStart) * 1e6;
const cpu = process.cpuUsage(cpuStart);
const nsPerCheck = wallNs / checks;
const requestsPerSecond = ROWS_PER_SECOND / ROWS_PER_REQUEST;
process.stdout.write(
  `${JSON.stringify({
    bench: 'auth-check',
    checks,
    ns_per_check: Math.round(nsPerCheck),
    cpu_ns_per_check: Math.round(((cpu.user + cpu.system) * 1000) / checks),
    rows_per_second: ROWS_PER_SECOND,
    rows_per_request: ROWS_PER_REQUEST,
    core_share_percent: Number(((nsPerCheck * requestsPerSecond) / 1e9 * 100).toFixed(4)),
  })}\n`,
);
store.close();
