// @ts-check
// What one file costs the file catalog's memory (docs/benchmarks.md, "The file catalog's memory
// per file"), in each copy the server keeps: the main thread's and every query thread's replica.
//
// Files arrive as a server's flushes send them: a delta of `--files-per-delta` files (a TSBS flush
// of 50,000 rows at 100 hosts spans about two hours, so two files) with TSBS's 21 columns, passed
// through a structured clone (what a writer's message and the catalog channel do to it), applied
// to a replica. The figure is the V8 heap after a full GC, over the heap before, per file.
//
// Run after building: npx tsc -b packages/cli bench && node bench/catalog-memory.mjs [--files 40000]
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseArgs } from 'node:util';
import { FileCatalog, MICROS_PER_HOUR, dataFileKey, parseFileKey, schemaIdOf } from '@arc/storage';
import { integerOption, parseCli } from './lib/cli.mjs';

const USAGE = `usage: node bench/catalog-memory.mjs [--files N] [--files-per-delta N] [--json]
  --files N             files added to the catalog (default 40000: about what 10 minutes of
                        TSBS ingest at 1.9M rows/s writes, one hour of rows 10 s apart per file)
  --files-per-delta N   files per catalog delta, as one flush publishes them (default 2)
  --json                print only the JSON line`;

/** TSBS cpu's columns as a writer records them: time, 10 tags, 10 fields. */
const TSBS_COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  ...['hostname', 'region', 'datacenter', 'rack', 'os', 'arch', 'team', 'service', 'service_version', 'service_environment'].map((name) => ({ name, type: 'VARCHAR' })),
  ...['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'].map((name) => ({ name, type: 'BIGINT' })),
];
const FIRST_HOUR_US = Date.UTC(2016, 0, 1) * 1000;

/** A full GC (the flag set before the function is made, as --expose-gc would). */
function collectGarbage() {
  setFlagsFromString('--expose-gc');
  /** @type {() => void} */ (runInNewContext('gc'))();
}

/**
 * The file of `index`: its own hour, named as a writer names it.
 * @param {number} index
 */
function catalogFile(index) {
  const hourUs = FIRST_HOUR_US + index * MICROS_PER_HOUR;
  const key = dataFileKey({
    database: 'bench',
    measurement: 'cpu',
    hourUs,
    nodeId: 'node-0123456789ab',
    unique: `u${String(index).padStart(9, '0')}`,
    rows: 36_000,
    bytes: 1_234_567,
    minTimeUs: hourUs,
    maxTimeUs: hourUs + MICROS_PER_HOUR - 10_000_000,
    writtenAtMs: Math.floor(hourUs / 1000),
    schemaId: schemaIdOf(TSBS_COLUMNS),
  });
  const facts = parseFileKey(key);
  if (facts === null) throw new Error(`unparsable key ${key}`);
  return { ...facts, key, bytes: 1_234_567, columns: TSBS_COLUMNS };
}

/** @param {string[]} argv */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      files: { type: 'string', default: '40000' },
      'files-per-delta': { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  return { files: integerOption('files', values.files, 1), perDelta: integerOption('files-per-delta', values['files-per-delta'], 1), json: values.json };
}

/** @param {{ files: number, perDelta: number, json: boolean }} o */
function measure({ files, perDelta, json }) {
  const source = new FileCatalog();
  const replica = new FileCatalog();
  collectGarbage();
  const before = process.memoryUsage().heapUsed;
  for (let first = 0; first < files; first += perDelta) {
    const batch = [];
    for (let index = first; index < Math.min(files, first + perDelta); index++) batch.push(catalogFile(index));
    const delta = source.change([{ kind: 'add', files: structuredClone(batch) }]);
    if (!replica.applyDelta(structuredClone(delta))) throw new Error('the replica refused a delta');
  }
  collectGarbage();
  const after = process.memoryUsage().heapUsed;
  if (replica.size !== files || source.size !== files) throw new Error(`expected ${files} files, the catalogs hold ${source.size} and ${replica.size}`);
  // Two catalogs hold the files: the source and the replica, each a copy as the server's are.
  const line = { benchmark: 'catalog-memory', files, files_per_delta: perDelta, columns: TSBS_COLUMNS.length, heap_bytes_per_file_per_copy: Math.round((after - before) / files / 2), node: process.version };
  if (!json) process.stderr.write(`${files} files, ${perDelta} per delta: ${line.heap_bytes_per_file_per_copy} heap bytes per file in each catalog copy\n`);
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const cli = parseCli(process.argv.slice(2), parseOptions, USAGE);
if (cli.options === null) process.exit(cli.exitCode);
measure(cli.options);
