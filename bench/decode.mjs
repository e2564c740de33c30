// Decoder throughput on one core: TSBS cpu rows (10 tags, 10 int fields) encoded as columnar and
// row MessagePack batches and as InfluxDB line protocol, decoded by the ingest decoders into packed
// column batches, as a decoder thread does. Prints one JSON line per format with rows/s.
// Run after building: npx tsc -b packages/protocol && node bench/decode.mjs [batchRows] [seconds] [formats] [rows]
// (formats: comma-separated subset of columnar,rows,lp; all three by default). With `rows`, each
// format decodes exactly that many rows (rounded up to whole batches) instead of running for
// `seconds`: a fixed amount of work, so whole-process CPU time compares two builds.
import { LineProtocolDecoder, MsgpackDecoder } from '@arc/protocol';
import { TsbsCpu, encode } from './ingest/tsbs.mjs';

const BATCH_ROWS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 3);
const FORMATS = (process.argv[4] ?? 'columnar,rows,lp').split(',');
const FIXED_ROWS = process.argv[5] === undefined ? 0 : Number(process.argv[5]);
const BODIES = 20;

const generator = new TsbsCpu({});
const chunks = Array.from({ length: BODIES }, () => generator.next(BATCH_ROWS));
const nowUs = Date.now() * 1000;
const decoders = {
  columnar: { decoder: new MsgpackDecoder(), context: { database: 'bench', nowUs, defaultHost: 'unknown' } },
  rows: { decoder: new MsgpackDecoder(), context: { database: 'bench', nowUs, defaultHost: 'unknown' } },
  lp: { decoder: new LineProtocolDecoder(), context: { database: 'bench', nowUs, precision: 'ns' } },
};

for (const [format, { decoder, context }] of Object.entries(decoders)) {
  if (!FORMATS.includes(format)) continue;
  const bodies = chunks.map((chunk) => encode(format, chunk, generator.tags));
  let rows = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const more = FIXED_ROWS > 0 ? () => rows < FIXED_ROWS : () => performance.now() < deadline;
  for (let index = 0; more(); index++) {
    const result = decoder.decode(bodies[index % BODIES], context);
    if (!result.ok) throw new Error(result.error.message);
    rows += result.rowCount;
  }
  const wallS = (performance.now() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const bytesPerRow = Math.round(bodies.reduce((sum, body) => sum + body.byteLength, 0) / (BODIES * BATCH_ROWS));
  console.log(JSON.stringify({ bench: 'decode', format, batchRows: BATCH_ROWS, rows, rowsPerS: Math.round(rows / wallS), rowsPerCpuS: Math.round(rows / cpuS), bytesPerRow }));
}
