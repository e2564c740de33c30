#!/usr/bin/env node
// @ts-check
/**
 * Where the time of lastpoint and single-groupby-5-1-12 goes, in-process: each query's SQL in
 * several forms, prepared and run on an instance locked down as a query thread's, over the hour
 * files `bench/query/query.mjs --spawn --keep-data` wrote, the forms in a rotating order each round.
 *
 * lastpoint: the statement over the measurement's view (`read_parquet(<files>, union_by_name =
 * true)`, as Arc read a reference with no time bound) and over a plain list of the files (as Arc
 * reads it now below LAST_POINT_FILES_MIN); the same question as a SEMI JOIN, an inner JOIN and a
 * QUALIFY; its subquery alone; and step-2 forms once the subquery's 100 (hostname, max time) pairs
 * are known: the outer scan over the files holding those times, against the pairs as constants
 * (IN, SEMI JOIN) or with the subquery narrowed to them as the two-step plan does. Each form that
 * answers the question is checked to answer what the statement does.
 *
 * single-groupby-5-1-12 (a fresh host each round, the 12 h): over the plain list (Arc's pruned
 * read), through the view, its WHERE alone (count), the hostname filter alone (count), and over the
 * same rows rewritten as one time-sorted file, as hour files each sorted by hostname (2,048-row
 * groups), and as one file sorted by hostname and time (compaction's layout).
 *
 *   node bench/query/query.mjs --spawn --keep-data --queries lastpoint --runs 1 --no-local
 *   node bench/query/forms.mjs --data-dir <the kept dir>/data --query lastpoint [--rounds 30] [--warmup 3]
 *
 * Prints one JSON line per form (`prepare_ms`, `run_ms`, `total_ms` medians, `rows`, `same_answer`),
 * then a summary with the load average before and after.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { openLockedInstance } from '@arc/query/encoders';
import { percentile } from '../lib/arc-server.mjs';
import { UsageError, integerOption, parseCli } from '../lib/cli.mjs';
import { FULL_SCALE, TsbsQueryGenerator, querySql } from './tsbs-queries.mjs';

const USAGE = 'usage: node bench/query/forms.mjs --data-dir DIR --query lastpoint|single-groupby-5-1-12 [--database bench_query] [--rounds 30] [--warmup 3] [--threads 2] [--seed 7]';
const QUERIES = ['lastpoint', 'single-groupby-5-1-12'];
/** Row groups of the host-sorted hour files: a few hosts each, so a hostname filter can skip most. */
const HOST_SORTED_ROW_GROUP_SIZE = 2048;
/** Row groups of compacted files (docs/benchmarks.md: `row_group_size` stays 122,880). */
const COMPACTED_ROW_GROUP_SIZE = 122_880;

/** @param {string[]} argv */
function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'data-dir': { type: 'string' },
      query: { type: 'string', default: 'lastpoint' },
      database: { type: 'string', default: 'bench_query' },
      rounds: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '3' },
      threads: { type: 'string', default: '2' },
      seed: { type: 'string', default: '7' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return null;
  if (values['data-dir'] === undefined) throw new UsageError('--data-dir is required (the data dir of bench/query/query.mjs --spawn --keep-data)');
  if (!QUERIES.includes(values.query)) throw new UsageError(`--query must be one of ${QUERIES.join(', ')}, got ${values.query}`);
  const dataRoot = path.resolve(values['data-dir']);
  const measurementDir = path.join(dataRoot, 'arc', values.database, 'cpu');
  if (!fs.existsSync(measurementDir)) throw new UsageError(`no measurement directory ${measurementDir}`);
  const files = fs
    .readdirSync(measurementDir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.parquet') && !name.startsWith('_'))
    .map((name) => path.join(measurementDir, name))
    .sort();
  if (files.length === 0) throw new UsageError(`no Parquet files under ${measurementDir}`);
  const rounds = integerOption('rounds', values.rounds, 1);
  const warmup = integerOption('warmup', values.warmup, 0);
  const threads = integerOption('threads', values.threads, 1);
  const seed = integerOption('seed', values.seed, 0);
  return { dataRoot, query: values.query, rounds, warmup, threads, seed, files };
}

const cli = parseCli(process.argv.slice(2), parseOptions, USAGE);
if (cli.options === null) process.exit(cli.exitCode);
const { dataRoot, query, rounds, warmup, threads, seed, files } = cli.options;

/** @param {readonly string[]} list */
const fileList = (list) => `[${list.map(quoteLiteral).join(', ')}]`;
/** @param {readonly string[]} list */
const plainRelation = (list) => `(SELECT * FROM read_parquet(${fileList(list)}))`;
/** @param {readonly string[]} list */
const viewRelation = (list) => `(SELECT * FROM read_parquet(${fileList(list)}, union_by_name = true))`;
/** @param {string} sql @param {string} relation */
const over = (sql, relation) => sql.replaceAll('FROM cpu ', `FROM ${relation} AS cpu `).replaceAll('FROM cpu)', `FROM ${relation} AS cpu)`);
/** @param {bigint} micros */
const timestamp = (micros) => `make_timestamp(${micros.toString()}::BIGINT)`;
/** The time bounds a data file's name carries (`..._<min µs>_<max µs>_<schema>.parquet`). */
const boundsOf = (/** @type {string} */ file) => {
  const named = /_(\d+)_(\d+)_[0-9a-f]{16}\.parquet$/.exec(file);
  if (named === null) throw new UsageError(`${file}: not a data file name with time bounds`);
  return { minUs: BigInt(named[1] ?? '0'), maxUs: BigInt(named[2] ?? '0') };
};

const tempDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'arc-forms-'));
const scratch = fs.mkdtempSync(path.join(dataRoot, 'forms-'));
const { connection } = await openLockedInstance({ dataRoot, duckdbThreads: threads, memoryLimit: '2GB', tempDirectory });

/**
 * Prepares and runs `sql`, reading every chunk: ms of each step and the rows (as JSON text, to compare).
 * @param {string} sql
 */
async function prepareAndRun(sql) {
  const started = performance.now();
  const prepared = await connection.prepare(sql);
  const preparedAt = performance.now();
  const result = await prepared.run();
  /** @type {unknown[][]} */
  const rows = [];
  for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) rows.push(...chunk.getRows());
  const ranAt = performance.now();
  prepared.destroySync();
  const text = JSON.stringify(rows, (_, value) => (typeof value === 'bigint' || (typeof value === 'object' && value !== null && !Array.isArray(value)) ? String(value) : value));
  return { prepareMs: preparedAt - started, runMs: ranAt - preparedAt, totalMs: ranAt - started, rows: rows.length, text };
}

/**
 * The forms of lastpoint, each a function of the round (the same SQL every round: no parameters),
 * and which of them answer the question (the others are parts of a plan).
 */
async function lastpointForms() {
  const statement = querySql('lastpoint', { hosts: [], startMs: 0, endMs: 0 }).sql;
  const plain = plainRelation(files);
  const pairs = (await connection.runAndReadAll(`SELECT hostname, epoch_us(max(time)) FROM ${plain} GROUP BY hostname`)).getRowsJS();
  const maxTimes = pairs.map(([, micros]) => BigInt(String(micros)));
  const lo = maxTimes.reduce((least, micros) => (micros < least ? micros : least));
  const hi = maxTimes.reduce((greatest, micros) => (micros > greatest ? micros : greatest));
  const latestFiles = files.filter((file) => boundsOf(file).maxUs >= lo && boundsOf(file).minUs <= hi);
  const narrowed = `(SELECT * FROM ${plainRelation(latestFiles)} WHERE time >= ${timestamp(lo - 1n)} AND time <= ${timestamp(hi + 1n)})`;
  const constants = `(VALUES ${pairs.map(([host, micros]) => `(${quoteLiteral(String(host))}, ${timestamp(BigInt(String(micros)))})`).join(', ')})`;
  const grouped = `(SELECT hostname AS key, max(time) AS latest FROM ${plain} GROUP BY hostname)`;
  /** @type {Record<string, string>} */
  const answers = {
    view: over(statement, viewRelation(files)),
    'plain-list': over(statement, plain),
    'semi-join': `SELECT * FROM ${plain} AS cpu SEMI JOIN ${grouped} AS m ON cpu.hostname = m.key AND cpu.time = m.latest ORDER BY hostname`,
    'inner-join': `SELECT cpu.* FROM ${plain} AS cpu JOIN ${grouped} AS m ON cpu.hostname = m.key AND cpu.time = m.latest ORDER BY cpu.hostname`,
    // The NULL host's rows are not the IN's: a window partition of NULL hosts would keep them.
    qualify: `SELECT * FROM ${plain} AS cpu WHERE hostname IS NOT NULL QUALIFY time = max(time) OVER (PARTITION BY hostname) ORDER BY hostname`,
    'step-2-constants-in': `SELECT * FROM ${narrowed} AS cpu WHERE (hostname, time) IN (SELECT * FROM ${constants}) ORDER BY hostname`,
    'step-2-constants-semi-join': `SELECT * FROM ${narrowed} AS cpu SEMI JOIN ${constants} AS m(key, latest) ON cpu.hostname = m.key AND cpu.time = m.latest ORDER BY hostname`,
    'step-2-narrowed-statement': over(statement, narrowed),
  };
  /** @type {Record<string, string>} */
  const parts = {
    'subquery-view': `SELECT hostname, max(time) FROM ${viewRelation(files)} AS cpu GROUP BY hostname`,
    'subquery-plain-list': `SELECT hostname, max(time) FROM ${plain} AS cpu GROUP BY hostname`,
    'step-2-rows-only': `SELECT * FROM ${narrowed} AS cpu ORDER BY hostname`,
  };
  return { reference: answers.view ?? '', forms: { ...answers, ...parts }, answering: new Set(Object.keys(answers)), files: { all: files.length, latest: latestFiles.length } };
}

/** The derived files of single-groupby-5-1-12's layouts, written by an instance of its own (the locked one may not write). */
async function writeLayouts() {
  const writer = await (await DuckDBInstance.create(':memory:')).connect();
  const options = (/** @type {number} */ rowGroupSize) => `(FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${String(rowGroupSize)})`;
  const oneFile = path.join(scratch, 'time-sorted.parquet');
  const compacted = path.join(scratch, 'compacted.parquet');
  await writer.run(`COPY (SELECT * FROM ${plainRelation(files)} ORDER BY time) TO ${quoteLiteral(oneFile)} ${options(COMPACTED_ROW_GROUP_SIZE)}`);
  await writer.run(`COPY (SELECT * FROM ${plainRelation(files)} ORDER BY hostname, time) TO ${quoteLiteral(compacted)} ${options(COMPACTED_ROW_GROUP_SIZE)}`);
  const hostSorted = files.map((file, index) => path.join(scratch, `host-sorted-${String(index).padStart(4, '0')}.parquet`));
  for (const [index, file] of files.entries()) {
    await writer.run(`COPY (SELECT * FROM read_parquet(${quoteLiteral(file)}) ORDER BY hostname, time) TO ${quoteLiteral(hostSorted[index] ?? '')} ${options(HOST_SORTED_ROW_GROUP_SIZE)}`);
  }
  writer.closeSync();
  return { oneFile, compacted, hostSorted };
}

/** The forms of single-groupby-5-1-12 for one round's host and window. */
async function singleGroupbyForms() {
  const layouts = await writeLayouts();
  const hours = Math.ceil(Number(files.map((file) => boundsOf(file).maxUs).reduce((a, b) => (b > a ? b : a)) - files.map((file) => boundsOf(file).minUs).reduce((a, b) => (b < a ? b : a))) / 3.6e9);
  const startMs = Number(files.map((file) => boundsOf(file).minUs).reduce((a, b) => (b < a ? b : a)) / 1000n);
  const generator = new TsbsQueryGenerator({ hosts: FULL_SCALE.hosts, hours, seed, startMs });
  return () => {
    const next = generator.next('single-groupby-5-1-12');
    const where = next.sql.slice(next.sql.indexOf(' WHERE '), next.sql.indexOf(' GROUP BY '));
    const host = next.hosts[0] ?? '';
    return {
      'plain-list': over(next.sql, plainRelation(files)),
      view: over(next.sql, viewRelation(files)),
      'where-only-count': `SELECT count(*) FROM ${plainRelation(files)} AS cpu${where}`,
      'hostname-only-count': `SELECT count(*) FROM ${plainRelation(files)} AS cpu WHERE hostname = ${quoteLiteral(host)}`,
      'one-time-sorted-file': over(next.sql, plainRelation([layouts.oneFile])),
      'host-sorted-hour-files': over(next.sql, plainRelation(layouts.hostSorted)),
      'compacted-file': over(next.sql, plainRelation([layouts.compacted])),
    };
  };
}

/** @type {Map<string, { prepareMs: number[], runMs: number[], totalMs: number[], rows: number, same: boolean | null }>} */
const samples = new Map();
const loadBefore = os.loadavg();
/** @type {{ all: number, latest?: number }} */
let fileCounts = { all: files.length };
if (query === 'lastpoint') {
  const { reference, forms, answering, files: counts } = await lastpointForms();
  const expected = (await prepareAndRun(reference)).text;
  fileCounts = counts;
  await measure(() => forms, (name, text) => (answering.has(name) ? text === expected : null));
} else {
  const next = await singleGroupbyForms();
  await measure(next, (name, text, round) => (name === 'plain-list' || name === 'where-only-count' || name === 'hostname-only-count' ? null : text === round.get('plain-list')));
}
const loadAfter = os.loadavg();

/**
 * Runs every form once a round, in a rotating order, keeping the samples after the warm-up.
 * @param {() => Record<string, string>} formsOfRound
 * @param {(name: string, text: string, round: Map<string, string>) => boolean | null} sameAnswer
 */
async function measure(formsOfRound, sameAnswer) {
  for (let round = 0; round < warmup + rounds; round++) {
    const forms = formsOfRound();
    const names = Object.keys(forms);
    /** @type {Map<string, string>} */
    const texts = new Map();
    // The reference form first, so the others compare with this round's answer.
    const first = names[0] ?? '';
    const order = [first, ...names.slice(1).map((_, index) => names.slice(1)[(index + round) % (names.length - 1)] ?? '')];
    for (const name of order) {
      const sample = await prepareAndRun(forms[name] ?? '');
      texts.set(name, sample.text);
      const kept = samples.get(name) ?? { prepareMs: [], runMs: [], totalMs: [], rows: sample.rows, same: true };
      samples.set(name, kept);
      const same = sameAnswer(name, sample.text, texts);
      kept.same = same === null ? null : kept.same === true && same;
      if (round < warmup) continue;
      kept.prepareMs.push(sample.prepareMs);
      kept.runMs.push(sample.runMs);
      kept.totalMs.push(sample.totalMs);
    }
  }
}

/** @param {number[]} list */
const median = (list) => Math.round((percentile(Float64Array.from(list).sort(), 0.5) ?? Number.NaN) * 100) / 100;
for (const [name, kept] of samples) {
  process.stdout.write(`${JSON.stringify({ query, form: name, rows: kept.rows, same_answer: kept.same, prepare_ms: median(kept.prepareMs), run_ms: median(kept.runMs), total_ms: median(kept.totalMs) })}\n`);
}
process.stdout.write(`${JSON.stringify({ summary: 'query-forms', query, rounds, duckdb_threads: threads, files: fileCounts, load_average_before: loadBefore, load_average_after: loadAfter, node: process.version, date: new Date().toISOString() })}\n`);
fs.rmSync(scratch, { recursive: true, force: true });
fs.rmSync(tempDirectory, { recursive: true, force: true });
