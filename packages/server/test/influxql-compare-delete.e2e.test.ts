// Proves InfluxQL DELETE, DROP SERIES and DROP MEASUREMENT answer and act as the real InfluxDB
// 1.6.7 does: each statement runs (POST /query) on a freshly seeded database on Arc and on a local
// influxd, and the answers (status and JSON; influxd's `shard N: ` prefix stripped, Arc has no
// shards; a parse error's `error` only, Arc adds its code and position) and the points left in
// every measurement are compared whole.
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { influxdAvailable, useInfluxd } from './support/influxd-process.js';
import { useSharedArc } from './support/shared-arc.js';

const SEED = [
  'cpu,host=a,region=eu value=1,status="ok" 1000000000000000000',
  'cpu,host=a,region=eu value=2,status="ok" 1000000060000000000',
  'cpu,host=b,region=us value=3,status="bad" 1000000000000000000',
  'cpu,host=b,region=us value=4,status="bad" 1000000120000000000',
  'mem,host=a used=10 1000000000000000000',
  'mem,host=b used=20 1000000060000000000',
  'disk,host=a free=7 1000000000000000000',
].join('\n');
const SEED_COUNTS: Readonly<Record<string, number>> = { cpu: 4, mem: 2, disk: 1 };

/** The statements of the recorded table (ISSUE 17 research, section 2), answers compared live. */
const STATEMENTS = [
  'DELETE FROM cpu',
  "DELETE FROM cpu WHERE host = 'a'",
  `DELETE FROM "cpu" WHERE "region" = 'us'`,
  "DELETE FROM cpu WHERE host != 'a'",
  'DELETE FROM cpu WHERE host =~ /^a/',
  "DELETE FROM cpu WHERE host > 'a'",
  "DELETE FROM cpu WHERE host = 'a' OR region = 'us'",
  "DELETE FROM cpu WHERE time < '2001-09-09T01:47:00Z'",
  "DELETE FROM cpu WHERE time >= '2001-09-09T01:46:40Z' AND time <= '2001-09-09T01:46:40Z'",
  "DELETE FROM cpu WHERE time > '2001-09-09T01:47:40Z'",
  "DELETE FROM cpu WHERE host = 'b' AND time > 1000000060000000000",
  "DELETE FROM cpu WHERE host = 'a' AND time < now() - 1000d",
  "DELETE FROM cpu WHERE time > '2001-09-09T01:47:00Z' OR host = 'a'",
  "DELETE FROM cpu WHERE nosuchtag = 'x'",
  'DELETE FROM cpu WHERE host = "a"',
  'DELETE FROM nosuchm',
  'DELETE FROM /^c/',
  "DELETE FROM cpu, mem WHERE host = 'a'",
  "DELETE WHERE time < '2001-09-09T01:47:00Z'",
  "DELETE WHERE host = 'a'",
  'DELETE FROM cpu WHERE value > 2',
  "DELETE FROM cpu WHERE host = 'a' AND value > 1",
  'DROP MEASUREMENT cpu',
  'DROP MEASUREMENT nosuchm',
  "DROP SERIES FROM cpu WHERE host = 'a'",
  'DROP SERIES FROM cpu',
  "DROP SERIES WHERE host = 'a'",
  'DROP SERIES FROM cpu WHERE host =~ /a|b/',
  "DROP SERIES FROM /^c/, mem WHERE host = 'b'",
  "DROP SERIES FROM cpu WHERE status = 'ok'",
  "DROP SERIES FROM cpu WHERE time < '2001-09-09T01:47:00Z'",
  // Parse errors: 400, nothing runs.
  'DELETE',
  'DELETE FROM autogen.cpu',
  'DELETE FROM cpu LIMIT 1',
  "DROP MEASUREMENT cpu WHERE host = 'a'",
  'DROP MEASUREMENT /^c/',
  'DROP SERIES',
];

const available = influxdAvailable();
const auth = { Authorization: `Token ${TEST_TOKEN}`, 'Content-Type': 'application/x-www-form-urlencoded' };

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function post(url: string, database: string, q: string, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${url}/query`, { method: 'POST', headers, body: new URLSearchParams({ db: database, q }).toString() });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text.replace(/"shard \d+: /g, '"')) as unknown };
}

describe.skipIf(!available)('InfluxQL DELETE / DROP against InfluxDB 1.6.7', () => {
  const shared = useSharedArc();
  const reference = useInfluxd();
  const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };

  async function seed(database: string): Promise<void> {
    const { client } = shared;
    await post(reference.influxd.url, database, `CREATE DATABASE ${database}`, FORM);
    await reference.influxd.write(database, SEED, 'ns');
    const write = await client.post(`/write?db=${database}&precision=ns`, SEED, { Authorization: `Token ${TEST_TOKEN}` });
    expect(write.status, write.text).toBe(204);
    for (const [measurement, count] of Object.entries(SEED_COUNTS)) await flushUntil(client, database, measurement, count);
  }

  it.each(STATEMENTS.map((statement, index) => [statement, index] as const))('%s', async (statement, index) => {
    const database = `del${String(index)}`;
    await seed(database);
    const arc = await post(shared.arc.url, database, statement, auth);
    const influx = await post(reference.influxd.url, database, statement, FORM);
    // Arc's 400 adds its code and the position as fields beside InfluxDB's `error`.
    expect(arc.status === 400 ? { status: 400, body: { error: (arc.body as { error: unknown }).error } } : arc).toEqual(influx);
    for (const measurement of Object.keys(SEED_COUNTS)) {
      const select = `SELECT * FROM ${measurement}`;
      expect(await post(shared.arc.url, database, select, auth), `${measurement} after ${statement}`).toEqual(await post(reference.influxd.url, database, select, FORM));
    }
  });

  it('answers database not found for an unknown database', async () => {
    const arc = await post(shared.arc.url, 'nosuchdb', "DELETE FROM cpu WHERE host = 'a'", auth);
    expect(arc).toEqual({ status: 200, body: { results: [{ statement_id: 0, error: 'database not found: nosuchdb' }] } });
  });
});
