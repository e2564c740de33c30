// Line protocol decoder throughput on one core: TSBS cpu lines (10 tags, 10 int fields with the
// `i` suffix, ns timestamps), 5,000 lines per body, decoded into packed column batches as a
// decoder thread does. Prints one JSON line with rows/s (wall) and rows per CPU second.
// Run after building: npx tsc -b packages/protocol && node bench/decode-lp.mjs [batchRows] [seconds]
import { LineProtocolDecoder } from '../packages/protocol/dist/index.js';
import { FIELD_KEYS, MEASUREMENT, TAG_KEYS, TsbsCpu } from './ingest/tsbs.mjs';

const BATCH_ROWS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 3);
const BODIES = 20;
const NANOS_PER_MS = 1_000_000n;

/** The line protocol text of one chunk, as TSBS's influx serializer writes it. */
function encodeLines(chunk, tags) {
  const hostPrefixes = tags.map((hostTag) => MEASUREMENT + TAG_KEYS.map((key) => `,${key}=${hostTag[key]}`).join('') + ' ');
  const lines = [];
  for (let row = 0; row < chunk.n; row++) {
    const fields = FIELD_KEYS.map((key, k) => `${key}=${chunk.fields[k][row]}i`).join(',');
    const nanos = BigInt(chunk.time[row]) * NANOS_PER_MS;
    lines.push(hostPrefixes[chunk.host[row]] + fields + ' ' + nanos);
  }
  return new TextEncoder().encode(lines.join('\n') + '\n');
}

const generator = new TsbsCpu({});
const bodies = Array.from({ length: BODIES }, () => encodeLines(generator.next(BATCH_ROWS), generator.tags));
const context = { database: 'bench', nowUs: Date.now() * 1000, precision: 'ns' };
const decoder = new LineProtocolDecoder();
let rows = 0;
const deadline = performance.now() + SECONDS * 1000;
const cpuStart = process.cpuUsage();
const wallStart = performance.now();
for (let index = 0; performance.now() < deadline; index++) {
  const result = decoder.decode(bodies[index % BODIES], context);
  if (!result.ok) throw new Error(result.error.message);
  rows += result.rowCount;
}
const wallS = (performance.now() - wallStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuS = (cpu.user + cpu.system) / 1e6;
const bytesPerRow = Math.round(bodies.reduce((sum, body) => sum + body.byteLength, 0) / (BODIES * BATCH_ROWS));
console.log(JSON.stringify({ bench: 'decode-lp', batchRows: BATCH_ROWS, rows, rowsPerS: Math.round(rows / wallS), rowsPerCpuS: Math.round(rows / cpuS), bytesPerRow }));
