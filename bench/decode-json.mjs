// JSON decoder throughput on one core: TSBS cpu rows (10 tags, 10 fields) encoded as the JSON
// rows body the ingest loader posts to /write/json, decoded into packed column batches as a decoder
// thread does; the columnar MessagePack decode of the same rows is printed alongside for scale.
// Also reports JSON.parse alone, the floor of any decoder built on it.
// Run after building: npx tsc -b packages/protocol && node bench/decode-json.mjs [batchRows] [seconds] [cases]
// (cases: comma-separated subset of json,json-parse-only,columnar; all three by default).
import { JsonDecoder, MsgpackDecoder } from '@arc/protocol';
import { TsbsCpu, encode } from './ingest/tsbs.mjs';

const BATCH_ROWS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 3);
const CASES = (process.argv[4] ?? 'json,json-parse-only,columnar').split(',');
const BODIES = 20;

const generator = new TsbsCpu({});
const chunks = Array.from({ length: BODIES }, () => generator.next(BATCH_ROWS));
const context = { database: 'bench', nowUs: Date.now() * 1000, defaultHost: 'unknown' };
const utf8 = new TextDecoder();

const cases = {
  json: { bodies: chunks.map((chunk) => encode('json', chunk, generator.tags)), run: (decoder, body) => decoder.decode(body, context), decoder: new JsonDecoder() },
  'json-parse-only': {
    bodies: chunks.map((chunk) => encode('json', chunk, generator.tags)),
    run: (_decoder, body) => ({ ok: true, rowCount: JSON.parse(utf8.decode(body)).batch.length }),
    decoder: null,
  },
  columnar: { bodies: chunks.map((chunk) => encode('columnar', chunk, generator.tags)), run: (decoder, body) => decoder.decode(body, context), decoder: new MsgpackDecoder() },
};

for (const [format, { bodies, run, decoder }] of Object.entries(cases)) {
  if (!CASES.includes(format)) continue;
  let rows = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  for (let index = 0; performance.now() < deadline; index++) {
    const result = run(decoder, bodies[index % BODIES]);
    if (!result.ok) throw new Error(result.error.message);
    rows += result.rowCount;
  }
  const wallS = (performance.now() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const bytesPerRow = Math.round(bodies.reduce((sum, body) => sum + body.byteLength, 0) / (BODIES * BATCH_ROWS));
  console.log(JSON.stringify({ bench: 'decode-json', format, batchRows: BATCH_ROWS, rows, rowsPerS: Math.round(rows / wallS), rowsPerCpuS: Math.round(rows / cpuS), bytesPerRow }));
}
