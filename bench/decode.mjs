// Decoder throughput on one core: TSBS cpu rows (10 tags, 10 int fields) encoded as columnar and
// row MessagePack batches, as InfluxDB line protocol and as the JSON rows body the ingest loader
// posts to /write/json, decoded by the ingest decoders into packed column batches, as a decoder
// thread does. Prints one JSON line per format with rows/s and rows per CPU-second.
// Run after building: npx tsc -b packages/protocol && node bench/decode.mjs [batchRows] [seconds] [formats] [rows]
// (formats: comma-separated subset of columnar,rows,lp,json,json-parse-only; columnar,rows,lp by
// default. json-parse-only is JSON.parse of the json bodies alone, the floor of any decoder built
// on it). With `rows`, each format decodes exactly that many rows (rounded up to whole batches)
// instead of running for `seconds`: a fixed amount of work, so whole-process CPU time compares
// two builds.
import { JsonDecoder, LineProtocolDecoder, MsgpackDecoder } from '@arc/protocol';
import { TsbsCpu, encode } from './ingest/tsbs.mjs';

const BATCH_ROWS = Number(process.argv[2] ?? 5000);
const SECONDS = Number(process.argv[3] ?? 3);
const FORMATS = (process.argv[4] ?? 'columnar,rows,lp').split(',');
const FIXED_ROWS = process.argv[5] === undefined ? 0 : Number(process.argv[5]);
const BODIES = 20;

const generator = new TsbsCpu({});
const chunks = Array.from({ length: BODIES }, () => generator.next(BATCH_ROWS));
const nowUs = Date.now() * 1000;
const msgpackContext = { database: 'bench', nowUs, defaultHost: 'unknown' };
const utf8 = new TextDecoder();
/** @typedef {(body: Uint8Array) => { ok: true, rowCount: number } | { ok: false, error: { message: string } }} Decode */
/** How each format is decoded, and which encoding of the rows it reads. @type {Record<string, { body: string, decode: Decode }>} */
const decoders = {
  columnar: { body: 'columnar', decode: decoderOf(new MsgpackDecoder(), msgpackContext) },
  rows: { body: 'rows', decode: decoderOf(new MsgpackDecoder(), msgpackContext) },
  lp: { body: 'lp', decode: decoderOf(new LineProtocolDecoder(), { database: 'bench', nowUs, precision: 'ns' }) },
  json: { body: 'json', decode: decoderOf(new JsonDecoder(), msgpackContext) },
  'json-parse-only': { body: 'json', decode: (body) => ({ ok: true, rowCount: JSON.parse(utf8.decode(body)).batch.length }) },
};

/**
 * @param {{ decode: (body: Uint8Array, context: any) => any }} decoder
 * @param {object} context
 * @returns {Decode}
 */
function decoderOf(decoder, context) {
  return (body) => decoder.decode(body, context);
}

for (const [format, { body, decode }] of Object.entries(decoders)) {
  if (!FORMATS.includes(format)) continue;
  const bodies = chunks.map((chunk) => encode(body, chunk, generator.tags));
  let rows = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const more = FIXED_ROWS > 0 ? () => rows < FIXED_ROWS : () => performance.now() < deadline;
  for (let index = 0; more(); index++) {
    const result = decode(bodies[index % BODIES]);
    if (!result.ok) throw new Error(result.error.message);
    rows += result.rowCount;
  }
  const wallS = (performance.now() - wallStart) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const bytesPerRow = Math.round(bodies.reduce((sum, body) => sum + body.byteLength, 0) / (BODIES * BATCH_ROWS));
  console.log(JSON.stringify({ bench: 'decode', format, batchRows: BATCH_ROWS, rows, rowsPerS: Math.round(rows / wallS), rowsPerCpuS: Math.round(rows / cpuS), bytesPerRow }));
}
