// Flush throughput of the writer's ParquetEncoder: 1,000,000 TSBS-like rows (10 utf8 tags with few
// distinct values, 10 int64 fields, one row per host every 10 s within one hour) in batches of
// 10,000, encoded as one flush into a temp directory. Prints one JSON line with rows/s of the
// chunk fill (ENUM planning included), of the COPY to Parquet and of the whole encode, and rows
// per CPU-second of the whole encode (docs/benchmarks.md: the figure to compare when the machine
// is shared), for snappy and zstd, with DuckDB threads 1 and 2.
//
// Tag columns come dictionary-encoded as decoders emit them (BatchBuilder's dictionaryEncodeTags: a
// batch's column with at most 4,096 distinct values is int32 codes + a dictionary), or plain utf8
// with `--tags plain`; `--tags both` runs each shape. `--hosts N` sets the hostname cardinality
// (default: rows / 360, TSBS's shape; fewer hosts spread the rows over more hours).
//
// Run after building: npx tsc -b packages/writer && node bench/writer-flush.mjs [rows]
//   [--tags dictionary|plain|both] [--hosts N] [--threads 1,2] [--compression snappy,zstd]
//   [--row-group-size 122880]
// Batch building is not measured; only ParquetEncoder.encode is.
import { FIELD_KEYS, hostTags } from './ingest/tsbs.mjs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { BatchBuilder, ColumnBuilder, ColumnRole } from '@arc/columnar';
import { LocalStorage } from '@arc/storage';
import { mergeSchema } from '@arc/writer';
import { ParquetEncoder } from '@arc/writer/parquet-encoder';

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tags: { type: 'string', default: 'both' },
    hosts: { type: 'string' },
    threads: { type: 'string', default: '1,2' },
    compression: { type: 'string', default: 'snappy,zstd' },
    'row-group-size': { type: 'string', default: '122880' },
  },
});
const ROWS = Number(positionals[0] ?? 1_000_000);
const BATCH_ROWS = 10_000;
const INTERVAL_US = 10_000_000;
const INSTANTS_PER_HOUR = 360;
const HOUR_START_US = Date.UTC(2026, 10, 24, 10) * 1000;
const ROW_GROUP_SIZE = Number(flags['row-group-size']);
const TAG_SHAPES = flags.tags === 'both' ? ['dictionary', 'plain'] : [flags.tags];
if (!TAG_SHAPES.every((shape) => shape === 'dictionary' || shape === 'plain')) throw new Error(`--tags: ${flags.tags}`);

/** Tags per host and field names of the TSBS cpu-only data, shared with bench/ingest. */
const hostTagCache = new Map();
function tagsOfHost(host) {
  let tags = hostTagCache.get(host);
  if (tags === undefined) {
    tags = hostTags(host);
    hostTagCache.set(host, tags);
  }
  return tags;
}

/** @param {BatchBuilder} builder @param {string} name @param {'tag' | 'field'} role */
function columnOf(builder, name, role) {
  const column = builder.column(name, role);
  if (!(column instanceof ColumnBuilder)) throw column;
  return column;
}

/** Rows [first, first + count) of the stream: host-minor, instant-major, all within one hour. */
function buildBatch(builder, first, count, hosts) {
  builder.reset('bench', 'cpu');
  for (let row = first; row < first + count; row++) {
    const host = row % hosts;
    const rowError = builder.beginRow(HOUR_START_US + Math.floor(row / hosts) * INTERVAL_US);
    if (rowError !== null) throw rowError;
    for (const [name, value] of Object.entries(tagsOfHost(host))) columnOf(builder, name, ColumnRole.tag).appendString(value);
    FIELD_KEYS.forEach((name, index) => columnOf(builder, name, ColumnRole.field).appendInteger((row * 31 + index * 17) % 100));
  }
  const batch = builder.pack();
  if (!('buffer' in batch)) throw batch;
  return batch;
}

function buildBatches(hosts, tagShape) {
  const builder = new BatchBuilder({ dictionaryEncodeTags: tagShape === 'dictionary' });
  const batches = [];
  for (let first = 0; first < ROWS; first += BATCH_ROWS) batches.push(buildBatch(builder, first, Math.min(BATCH_ROWS, ROWS - first), hosts));
  let schema = [];
  for (const batch of batches) {
    const merged = mergeSchema(schema, batch);
    if ('error' in merged) throw merged.error;
    schema = merged.schema;
  }
  return { batches, schema };
}

async function measure(batches, schema, tags, compression, threads, dir) {
  const encoder = await ParquetEncoder.create({ staged: new LocalStorage(dir), threads, compression, rowGroupSize: ROW_GROUP_SIZE, tempDirectory: join(dir, 'tmp'), memoryLimit: '2GB' });
  try {
    await encoder.encode(batches.slice(0, 1), schema, (hour) => join(dir, `warmup-${tags}-${compression}-${threads}-${hour}.parquet.tmp`));
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const files = await encoder.encode(batches, schema, (hour) => join(dir, `${tags}-${compression}-${threads}-${hour}.parquet.tmp`));
    const totalMs = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const { planMs, appendMs, copyMs, syncMs, enumColumnCount } = encoder.lastTimings;
    const rows = files.reduce((sum, file) => sum + file.rowCount, 0);
    const perSecond = (ms) => Math.round(rows / (ms / 1000));
    return {
      tags,
      compression,
      threads,
      rows,
      enumColumnCount,
      bytes: files.reduce((sum, file) => sum + file.byteCount, 0),
      // Building the union dictionaries in JS, then filling DuckDB's chunks (the scan's callbacks).
      appendRowsPerS: perSecond(planMs + appendMs),
      copyRowsPerS: perSecond(copyMs),
      totalRowsPerS: perSecond(totalMs),
      // CPU time of this process (DuckDB's threads included): the figure that survives other load.
      cpuS: Math.round(cpuS * 100) / 100,
      rowsPerCpuS: Math.round(rows / cpuS),
      planMs: Math.round(planMs),
      appendMs: Math.round(appendMs),
      copyMs: Math.round(copyMs),
      syncMs: Math.round(syncMs),
    };
  } finally {
    encoder.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'arc-writer-flush-'));
try {
  const hosts = Number(flags.hosts ?? Math.ceil(ROWS / INSTANTS_PER_HOUR));
  const results = [];
  let columns = 0;
  for (const tags of TAG_SHAPES) {
    const { batches, schema } = buildBatches(hosts, tags);
    columns = schema.length + 1;
    for (const threads of flags.threads.split(',').map(Number)) {
      for (const compression of flags.compression.split(',')) results.push(await measure(batches, schema, tags, compression, threads, dir));
    }
  }
  console.log(JSON.stringify({ bench: 'writer-flush', date: new Date().toISOString(), rows: ROWS, batchRows: BATCH_ROWS, rowGroupSize: ROW_GROUP_SIZE, hosts, columns, results }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
