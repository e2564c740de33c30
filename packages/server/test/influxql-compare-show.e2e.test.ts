// Proves Arc's RE2 regexes, case-sensitive names and SHOW statements (the forms Grafana and the
// influx CLI send) answer as the real InfluxDB 1.6 does: the same line protocol goes to Arc and to
// a local influxd, the same queries run on both, and the JSON answers are compared whole.
import Influx from 'influx';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { influxdAvailable, useInfluxd } from './support/influxd-process.js';
import { loadBoth } from './support/influxql-compare.js';
import { useSharedArc } from './support/shared-arc.js';

const DATABASE = 'compare';
const T0 = 1_700_000_000; // seconds
const LINES = [
  `cpu,host=server01,region=us-west usage_idle=90.5,usage_user=5i ${T0}`,
  `cpu,host=server02,region=eu-east usage_idle=80.5,usage_user=15i ${T0 + 10}`,
  `cpu,host=Server03,region=us-east usage_idle=70.5,usage_user=25i ${T0 + 20}`,
  `cpu,host=web7,region=ap usage_idle=60.5,usage_user=35i ${T0 + 40}`,
  `cpu,host=server01,region=us-west usage_idle=50.5,usage_user=45i ${T0 + 50}`,
  `Cpu_Load,Host=A,env=prod load=1.5 ${T0}`,
  `mem,host=server01 used=10i,total=100i,label="x",ok=true ${T0}`,
  `disk_io2,host=server02,dev=sda reads=1 ${T0}`,
].join('\n');
const ROWS_BY_MEASUREMENT: Readonly<Record<string, number>> = { cpu: 5, Cpu_Load: 1, mem: 1, disk_io2: 1 };

const available = influxdAvailable();
const auth = { Authorization: `Token ${TEST_TOKEN}` };

/** Regexes as Grafana writes them: flags, Perl classes, POSIX classes, anchors, alternation. */
const REGEX_QUERIES = [
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)^cpu/',
  // Grafana's measurement picker once the user typed a filter.
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)cp/ LIMIT 100',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /\\d/',
  'SHOW MEASUREMENTS WITH MEASUREMENT = /^c/',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu|mem/ LIMIT 1 OFFSET 1',
  "SELECT usage_idle FROM cpu WHERE host =~ /(?i)^SERVER0[13]$/",
  'SELECT usage_idle FROM cpu WHERE host =~ /^server\\d+$/',
  'SELECT usage_idle FROM cpu WHERE host !~ /^web/',
  'SELECT usage_idle FROM cpu WHERE region =~ /^[a-z]+-(west|east)$/',
  'SELECT usage_idle FROM cpu WHERE host =~ /^$/',
  'SELECT usage_idle FROM cpu WHERE host =~ /[[:upper:]]/',
  'SELECT usage_idle FROM cpu WHERE host =~ /\\x53|\\bweb\\b/',
  'SELECT usage_idle FROM cpu WHERE host =~ /(?i:s)erver0(?:1|2)/ AND region !~ /\\beu\\b/',
  'SELECT usage_idle FROM /(?i)^cpu$/',
  'SELECT usage_idle FROM /^cpu/',
  'SELECT usage_idle, load FROM /(?i)^cpu/',
  'SELECT usage_idle FROM "compare".autogen./^c/',
  'SELECT mean(usage_idle) FROM /^cpu$/ WHERE host =~ /^server0[12]$/ GROUP BY host',
  'SHOW TAG VALUES WITH KEY =~ /(?i)^HOST$/',
  'SHOW TAG VALUES FROM /(?i)cpu/ WITH KEY = "host" WHERE region =~ /^us-/',
  'SHOW TAG KEYS FROM /^(cpu|mem)$/',
  'SHOW FIELD KEYS FROM /^c/',
  'SHOW SERIES FROM /^c/ WHERE host =~ /(?i)server0[13]/',
];

/** Names differ only by case: none of these is the measurement, tag or field written. */
const CASE_QUERIES = [
  'SELECT usage_idle FROM CPU',
  'SELECT Usage_idle FROM cpu',
  "SELECT usage_idle FROM cpu WHERE HOST = 'server01'",
  'SELECT usage_idle FROM cpu GROUP BY HOST',
  'SHOW TAG VALUES FROM CPU WITH KEY = host',
  'SHOW TAG VALUES FROM cpu WITH KEY = HOST',
  'SHOW TAG KEYS FROM cpu_load',
  'SHOW FIELD KEYS FROM Cpu_Load',
  'SHOW SERIES FROM CPU',
];

/** The SHOW forms Grafana's query editor, template variables and the influx CLI send. */
const SHOW_QUERIES = [
  'SHOW MEASUREMENTS',
  'SHOW MEASUREMENTS LIMIT 100',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ LIMIT 50',
  "SHOW MEASUREMENTS WHERE host = 'server01'",
  'SHOW SERIES CARDINALITY',
  'SHOW SERIES EXACT CARDINALITY',
  'SHOW SERIES CARDINALITY FROM cpu',
  "SHOW SERIES CARDINALITY WHERE host = 'server01'",
  "SHOW SERIES EXACT CARDINALITY FROM /c/ WHERE region = 'us-west'",
  'SHOW SERIES CARDINALITY FROM nope',
  'SHOW SERIES CARDINALITY WHERE time > 0',
  'SHOW MEASUREMENT CARDINALITY',
  'SHOW MEASUREMENT EXACT CARDINALITY',
  'SHOW MEASUREMENT EXACT CARDINALITY FROM /c/',
  "SHOW MEASUREMENT CARDINALITY WHERE host = 'server01'",
  'SHOW MEASUREMENT EXACT CARDINALITY FROM nope',
  'SHOW TAG KEY CARDINALITY',
  'SHOW TAG KEY EXACT CARDINALITY FROM cpu',
  'SHOW FIELD KEY CARDINALITY',
  'SHOW FIELD KEY EXACT CARDINALITY',
  'SHOW TAG VALUES CARDINALITY WITH KEY = host',
  'SHOW TAG VALUES EXACT CARDINALITY FROM cpu WITH KEY IN (host, region)',
  "SHOW TAG VALUES CARDINALITY WITH KEY =~ /(?i)^host$/ WHERE region =~ /^us-/",
  'SHOW TAG VALUES CARDINALITY FROM nope WITH KEY = host',
  'SHOW TAG KEYS',
  'SHOW TAG KEYS FROM "cpu"',
  "SHOW TAG KEYS WHERE host = 'server02'",
  'SHOW TAG KEYS ON compare FROM cpu LIMIT 1 OFFSET 1',
  'SHOW FIELD KEYS',
  'SHOW FIELD KEYS FROM "mem"',
  'SHOW FIELD KEYS FROM nope',
  'SHOW SERIES',
  "SHOW SERIES FROM cpu WHERE region = 'us-west'",
  'SHOW SERIES LIMIT 2 OFFSET 1',
  'SHOW TAG VALUES WITH KEY = host',
  'SHOW TAG VALUES FROM "cpu" WITH KEY = "host"',
  'SHOW TAG VALUES FROM cpu WITH KEY IN (host, region)',
  'SHOW TAG VALUES FROM cpu WITH KEY != host',
  'SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "region" =~ /^us-west$/',
  'SHOW TAG VALUES FROM cpu WITH KEY = host LIMIT 2 OFFSET 1',
  'SHOW RETENTION POLICIES',
  'SHOW RETENTION POLICIES ON compare',
  'SHOW FIELD KEYS FROM "autogen"."cpu"',
  'SHOW TAG KEYS FROM "autogen"."cpu"',
  'SHOW TAG VALUES FROM "autogen"."cpu" WITH KEY = "host"',
  'SHOW TAG VALUES FROM "autogen"./^c/ WITH KEY = "host"',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /cpu/ WHERE "host" =~ /^server01$/ LIMIT 100',
  'SHOW TAG VALUES FROM "cpu" WITH KEY = "region" WHERE "host" =~ /^(server01|web7)$/',
];

/** Bad regexes: refused whole with InfluxDB's 400 and Go's wording, at the same position. */
const BAD_REGEX_QUERIES = [
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /(/',
  'SELECT usage_idle FROM cpu WHERE host =~ /)/',
  'SELECT usage_idle FROM cpu WHERE host =~ /a**/',
  'SELECT usage_idle FROM cpu WHERE host =~ /[z-a]/',
  'SELECT usage_idle FROM cpu WHERE host =~ /(?z)/',
  'SELECT usage_idle FROM cpu WHERE host =~ /a{2000}/',
  'SELECT usage_idle FROM cpu WHERE host =~ /[[:alpha:]/',
  'SELECT usage_idle FROM cpu WHERE host =~ /\\C/',
  'SELECT usage_idle FROM /\\q/',
  'SHOW TAG VALUES WITH KEY =~ /*/',
  "SELECT usage_idle FROM cpu WHERE host = 'a'; SHOW SERIES FROM /(?P<n/",
];

describe.skipIf(!available)('InfluxQL regexes, names and SHOW against InfluxDB 1.6', () => {
  const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
  const reference = useInfluxd();
  let written = false;

  async function ensureData(): Promise<void> {
    if (written) return;
    await loadBoth(shared.client, reference.influxd, DATABASE, LINES, ROWS_BY_MEASUREMENT);
    written = true;
  }

  async function both(q: string): Promise<{ arc: { status: number; body: unknown }; influx: { status: number; body: unknown } }> {
    await ensureData();
    const search = new URLSearchParams({ db: DATABASE, q });
    const arc = await shared.client.get(`/query?${search.toString()}`, auth);
    const influx = await reference.influxd.query(q, { db: DATABASE });
    return { arc: { status: arc.status, body: JSON.parse(arc.text) as unknown }, influx: { status: influx.status, body: influx.body } };
  }

  it.each([...REGEX_QUERIES, ...CASE_QUERIES, ...SHOW_QUERIES])('%s', async (q) => {
    const { arc, influx } = await both(q);
    expect(influx.status).toBe(200);
    expect(arc.body).toEqual(influx.body);
  });

  it.each(BAD_REGEX_QUERIES)('refuses %s as InfluxDB does', async (q) => {
    const { arc, influx } = await both(q);
    expect(influx.status).toBe(400);
    expect(arc.status).toBe(400);
    // Arc's 400 also carries `code`, `line` and `char` (docs/influxql.md); the message is InfluxDB's.
    expect((arc.body as { error: string }).error).toBe((influx.body as { error: string }).error);
  });

  it('answers node-influx (the 1.x client) as influxd does: getMeasurements, getSeries, SHOW and regex queries', async () => {
    await ensureData();
    const client = (url: string, credentials: { username?: string; password?: string }): Influx.InfluxDB => {
      const { hostname, port } = new URL(url);
      return new Influx.InfluxDB({ host: hostname, port: Number(port), database: DATABASE, ...credentials });
    };
    const arc = client(shared.arc.url, { username: 'arc', password: TEST_TOKEN });
    const influx = client(reference.influxd.url, {});
    const calls: ((db: Influx.InfluxDB) => Promise<unknown>)[] = [
      (db) => db.getMeasurements(),
      (db) => db.getSeries({ measurement: 'cpu' }),
      (db) => db.getSeries(),
      (db) => db.query('SHOW TAG VALUES WITH KEY =~ /(?i)^host$/'),
      (db) => db.query('SHOW FIELD KEYS; SHOW SERIES CARDINALITY'),
      (db) => db.query("SELECT usage_idle FROM /^cpu$/ WHERE host =~ /^server0[12]$/ GROUP BY host"),
    ];
    for (const call of calls) expect(JSON.parse(JSON.stringify(await call(arc)))).toEqual(JSON.parse(JSON.stringify(await call(influx))));
  });

  it('reports an unsigned field as `unsigned`, which influxd 1.6 cannot store (it refuses `123u`)', async () => {
    await ensureData();
    const line = `counters,host=a x=18446744073709551615u ${T0}`;
    const refused = await fetch(`${reference.influxd.url}/write?db=${DATABASE}&precision=s`, { method: 'POST', body: line });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('invalid number');
    const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, line, auth);
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'counters', 1);
    const shown = await shared.client.get(`/query?${new URLSearchParams({ db: DATABASE, q: 'SHOW FIELD KEYS FROM counters' }).toString()}`, auth);
    expect(JSON.parse(shown.text)).toEqual({ results: [{ statement_id: 0, series: [{ name: 'counters', columns: ['fieldKey', 'fieldType'], values: [['x', 'unsigned']] }] }] });
  });
});
