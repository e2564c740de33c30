// @ts-check
// Retention drops (docs/benchmarks.md, "Retention drops"): how long one retention run takes to
// drop whole files, on local disk or in an S3 bucket. The store gets `--files` one-row Parquet
// files, one per hour (so `--files 96` spans four days), named as writers name them, and one recent
// file the run keeps; a policy of one day then drops every old file whole. Printed: the run's
// wall time (the setup is not timed), the files it dropped and the jobs it failed; the run is
// checked (every old file gone from the catalog and the store, the recent one kept).
//
// Run after building:
//   node bench/retention-drops.mjs [--files 96] [--storage local|s3]
// On S3 the bucket is the one of $ARC_TEST_S3_* (eval "$(scripts/s3-server.sh env)"), under a
// fresh prefix per run, removed at the end.
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { Compactor, runRetention } from '@arc/compaction';
import { LocalStorage, S3Storage, Storage, dataFileKey, encodeSchema, schemaIdOf, schemaKey } from '@arc/storage';
import { uniquePrefix } from './lib/s3-target.mjs';

const { values: flags } = parseArgs({ options: { files: { type: 'string', default: '96' }, storage: { type: 'string', default: 'local' } } });
const FILES = Number(flags.files);
if (!Number.isSafeInteger(FILES) || FILES < 1) throw new Error(`--files must be a positive integer, got ${String(flags.files)}`);
if (flags.storage !== 'local' && flags.storage !== 's3') throw new Error(`--storage must be local or s3, got ${String(flags.storage)}`);

const HOUR_US = 3_600_000_000;
const DAY_MS = 86_400_000;
const FIRST_HOUR_US = Date.UTC(2026, 0, 1) * 1000;
const COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'v', type: 'DOUBLE' },
];
const SCHEMA_ID = schemaIdOf(COLUMNS);
/** The compaction settings of the run: arc.conf's defaults, schedules off (the run's rewrites run regardless). */
const CONFIG = {
  enabled: false,
  dedup: true,
  liveMaxFiles: 16,
  liveIntervalSeconds: 3600,
  minAgeHours: 1,
  minFiles: 2,
  dailyMinAgeHours: 24,
  targetFileBytes: 512 * 1024 * 1024,
  rowGroupSize: 122_880,
  compressionLevel: 3,
  memoryLimit: '256MB',
  threads: 1,
  maxConcurrentJobs: 1,
  hourlySchedule: '0 0 1 1 *',
  dailySchedule: '0 0 1 1 *',
  leaseSeconds: 600,
  nice: 0,
};

/** @param {string} directory */
async function tinyParquet(directory) {
  const file = path.join(directory, 'tiny.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`COPY (SELECT TIMESTAMP '2026-01-01 00:00:00' AS time, 1.5::DOUBLE AS v) TO '${file}' (FORMAT parquet)`);
  connection.closeSync();
  instance.closeSync();
  return file;
}

/** @param {string} scratch @returns {import('@arc/storage').StorageBackend} */
function openBackend(scratch) {
  if (flags.storage === 'local') return new LocalStorage(path.join(scratch, 'arc'), 'n1');
  const endpoint = process.env.ARC_TEST_S3_ENDPOINT;
  if (endpoint === undefined || endpoint === '') throw new Error('--storage s3 needs $ARC_TEST_S3_ENDPOINT: eval "$(scripts/s3-server.sh env)"');
  const url = new URL(endpoint);
  const config = {
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: url.protocol === 'https:',
    region: process.env.ARC_TEST_S3_REGION ?? 'us-east-1',
    bucket: process.env.ARC_TEST_S3_BUCKET ?? 'arc-test',
    prefix: uniquePrefix('bench-', 'drops'),
    accessKey: process.env.ARC_TEST_S3_ACCESS_KEY ?? 'arc-test-access',
    secretKey: process.env.ARC_TEST_S3_SECRET_KEY ?? 'arc-test-secret-key-0123456789',
    pathStyle: true,
    partSizeBytes: 16 * 1024 * 1024,
  };
  return new S3Storage(config, path.join(scratch, 'cache'), 'n1');
}

/**
 * Publishes the tiny file as one writer's file of the hour `hourUs`.
 * @param {import('@arc/storage').StorageBackend} backend @param {string} source @param {number} hourUs @param {number} sequence
 */
async function putHourFile(backend, source, hourUs, sequence) {
  const directory = `db/cpu/${new Date(hourUs / 1000).toISOString().slice(0, 13).replace(/-|T/g, '/')}`;
  const staging = await backend.stagingPathIn(directory);
  await copyFile(source, staging);
  const bytes = await backend.sealStaged(staging);
  const key = dataFileKey({ database: 'db', measurement: 'cpu', hourUs, nodeId: 'n1', unique: `w0-${String(sequence).padStart(6, '0')}-000000`, rows: 1, bytes, minTimeUs: hourUs, maxTimeUs: hourUs, writtenAtMs: sequence, schemaId: SCHEMA_ID });
  await backend.publish(staging, key);
  return key;
}

const scratch = await mkdtemp(path.join(tmpdir(), 'arc-retention-drops-'));
const backend = openBackend(scratch);
try {
  const source = await tinyParquet(scratch);
  await backend.put(schemaKey('db', 'cpu', SCHEMA_ID), encodeSchema(COLUMNS));
  const hours = Array.from({ length: FILES }, (_, index) => FIRST_HOUR_US + index * HOUR_US);
  for (let start = 0; start < hours.length; start += 8) {
    await Promise.all(hours.slice(start, start + 8).map((hourUs, index) => putHourFile(backend, source, hourUs, start + index + 1)));
  }
  // The kept file: a day after the last old one; the run's "now" is a day and an hour after it.
  const keptHourUs = FIRST_HOUR_US + (FILES + 24) * HOUR_US;
  const kept = await putHourFile(backend, source, keptHourUs, FILES + 1);
  const storage = await Storage.open({ root: path.join(scratch, 'root'), backend });
  const compactor = Compactor.open({ storage, config: CONFIG, historyPath: path.join(scratch, 'history.db'), tempDirectory: path.join(scratch, 'tmp'), queriesEnded: () => Promise.resolve(), log: () => undefined });
  try {
    await storage.ensureLoaded('db', 'cpu');
    if (storage.catalog.files('db', 'cpu').length !== FILES + 1) throw new Error('the store does not list every file written');
    const policy = { name: 'bench', database: 'db', measurement: 'cpu', retentionDays: 1, bufferDays: 0, isActive: true };
    const startedMs = performance.now();
    const result = await runRetention(policy, storage, compactor, { nowMs: keptHourUs / 1000 + DAY_MS - 1, dryRun: false });
    const runMs = performance.now() - startedMs;
    const left = storage.catalog.files('db', 'cpu').map((file) => file.key);
    const listed = (await backend.list('db/cpu/2026/', null, 1000)).objects.filter((object) => object.key.endsWith('.parquet')).map((object) => object.key);
    const checked = result.filesDropped === FILES && result.jobsFailed === 0 && left.length === 1 && left[0] === kept && listed.length === 1 && listed[0] === kept;
    console.log(JSON.stringify({ storage: flags.storage, files: FILES, runMs: Math.round(runMs), filesDropped: result.filesDropped, jobsFailed: result.jobsFailed, jobError: result.jobError, checked }));
    if (!checked) process.exitCode = 1;
  } finally {
    await compactor.close();
  }
} finally {
  if (backend.kind === 's3') await backend.deletePrefix('db/');
  await rm(scratch, { recursive: true, force: true });
}
