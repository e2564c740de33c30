// Proves `chunked=true&chunk_size=N` answers are split as the real InfluxDB 1.6 splits them (one
// JSON document per chunk, `partial` flags), for SELECT and every SHOW, and that the `influx` CLI
// 1.6 (which always asks for chunks) prints the same for Arc as for influxd: the same data is
// written to both, the same requests sent, and the documents compared one by one.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { loadBoth } from './support/influxql-compare.js';
import { influxdAvailable, useInfluxd } from './support/influxd-process.js';
import { useSharedArc } from './support/shared-arc.js';

const run = promisify(execFile);
const DATABASE = 'chunks';
const T0 = 1_700_000_000; // seconds
const LINES = [
  `cpu,host=a,region=us usage=1.5,n=1i ${T0}`,
  `cpu,host=b,region=eu usage=2.5,n=2i ${T0 + 10}`,
  `cpu,host=a,region=us usage=3.5,n=3i ${T0 + 20}`,
  `cpu,host=b,region=eu usage=4.5,n=4i ${T0 + 40}`,
  `cpu,host=c,region=us usage=5.5,n=5i ${T0 + 50}`,
  `mem,host=a used=10i,total=100i ${T0}`,
  `mem,host=b used=20i,total=100i ${T0 + 10}`,
].join('\n');
const GROUPED = `SELECT max(usage), mean(usage) FROM cpu WHERE time >= ${String(T0)}s AND time <= ${String(T0 + 50)}s GROUP BY time(10s)`;

const available = influxdAvailable();
/** The `influx` CLI comes with influxd (scripts/install-influxdb.sh); under CI=true a missing one fails the tests. */
const cliAvailable = spawnSync('influx', ['-version']).status === 0 || process.env.CI === 'true';
const auth = { Authorization: `Token ${TEST_TOKEN}` };

/** [query, chunk_size ('' : chunked=true without a size), epoch]. */
const CHUNKED: readonly (readonly [string, string, string])[] = [
  ['SELECT usage FROM cpu', '1', ''],
  ['SELECT usage FROM cpu', '2', ''],
  ['SELECT usage FROM cpu', '5', ''],
  ['SELECT usage FROM cpu', '', ''],
  ['SELECT usage FROM cpu', '2', 's'],
  ['SELECT usage FROM cpu GROUP BY host', '1', ''],
  ['SELECT usage FROM cpu GROUP BY host', '3', 'ms'],
  [GROUPED, '2', ''],
  ['SELECT usage FROM cpu; SHOW MEASUREMENTS; SELECT nope FROM cpu', '1', ''],
  ['SELECT used FROM cpu, mem', '1', ''],
  ['SHOW TAG VALUES WITH KEY = host', '1', ''],
  ['SHOW TAG VALUES FROM cpu WITH KEY IN (host, region)', '1', ''],
  ['SHOW TAG KEYS', '1', ''],
  ['SHOW FIELD KEYS', '1', ''],
  ['SHOW SERIES', '2', ''],
  ['SHOW SERIES EXACT CARDINALITY', '1', ''],
  ['SHOW SERIES CARDINALITY', '1', ''],
  ['SHOW TAG KEY CARDINALITY', '1', ''],
  ['SHOW TAG VALUES CARDINALITY WITH KEY = host', '1', ''],
  ['SHOW MEASUREMENT EXACT CARDINALITY', '1', ''],
  ['SHOW MEASUREMENTS', '1', ''],
  ['SHOW RETENTION POLICIES', '1', ''],
  ['SELECT usage FROM nope', '1', ''],
];

/** What the `influx` CLI 1.6 prints (`-format json`); it requests chunked answers and merges them. */
const CLI_QUERIES = [
  'SHOW SERIES CARDINALITY',
  'SHOW MEASUREMENT EXACT CARDINALITY',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)^CPU$/',
  'SHOW TAG VALUES FROM /^c/ WITH KEY =~ /^(host|region)$/',
  'SHOW FIELD KEYS',
  "SELECT usage FROM cpu WHERE host =~ /(?i)^[AB]$/",
];

function documents(text: string): unknown[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
}

describe.skipIf(!available)('chunked InfluxQL answers against InfluxDB 1.6', () => {
  const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
  const reference = useInfluxd();
  let written = false;

  async function ensureData(): Promise<void> {
    if (written) return;
    await loadBoth(shared.client, reference.influxd, DATABASE, LINES, { cpu: 5, mem: 2 });
    written = true;
  }

  it.each(CHUNKED)('%s (chunk_size=%s, epoch=%s)', async (q, chunkSize, epoch) => {
    await ensureData();
    const parameters: Record<string, string> = { db: DATABASE, q, chunked: 'true' };
    if (chunkSize !== '') parameters.chunk_size = chunkSize;
    if (epoch !== '') parameters.epoch = epoch;
    const arc = await shared.client.get(`/query?${new URLSearchParams(parameters).toString()}`, auth);
    const influx = await fetch(`${reference.influxd.url}/query?${new URLSearchParams(parameters).toString()}`);
    const influxText = await influx.text();
    expect(arc.status).toBe(influx.status);
    expect(arc.headers.get('content-type')).toBe('application/json');
    const arcDocuments = documents(arc.text);
    const influxDocuments = documents(influxText);
    expect(arcDocuments).toEqual(influxDocuments);
  });

  it.skipIf(!cliAvailable).each(CLI_QUERIES)('influx CLI: %s', async (q) => {
    await ensureData();
    const cli = async (url: string, credentials: string[]): Promise<string> => {
      const { hostname, port } = new URL(url);
      const { stdout } = await run('influx', ['-host', hostname, '-port', port, ...credentials, '-database', DATABASE, '-format', 'json', '-execute', q], { timeout: 15_000 });
      return stdout;
    };
    const arc = await cli(shared.arc.url, ['-username', 'arc', '-password', TEST_TOKEN]);
    const influx = await cli(reference.influxd.url, []);
    expect(documents(arc)).toEqual(documents(influx));
  });
});
