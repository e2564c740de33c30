// Proves Grafana's two ways into Arc against the built server, with the requests their sources
// build: the InfluxDB data source in InfluxQL mode (`/query?db=&epoch=ms`, GET or POST form, its
// health check `SHOW measurements`, the query builder's panel query with `$timeFilter` in epoch ms,
// the SHOW queries behind template variables and the editor) and Arc's own data source (JSON
// `{"sql"}` to /api/v1/query/arrow with Bearer and X-Arc-Database, `SHOW DATABASES` as its health
// check, the `$__timeFilter` / `$__timeGroup` macros expanded as the plugin expands them, and the
// JSON fallback on /api/v1/query); each answer is checked for what Grafana reads from it.
import { tableFromIPC, Type } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const DATABASE = 'grafana';
const T0 = 1_700_000_040; // 2023-11-14T22:14:00Z, a whole minute
const FROM_MS = T0 * 1000;
const TO_MS = (T0 + 120) * 1000;
const LINES = [
  `cpu,host=web01,region=eu usage_idle=90,usage_user=5i ${String(T0)}`,
  `cpu,host=web01,region=eu usage_idle=80,usage_user=15i ${String(T0 + 30)}`,
  `cpu,host=web02,region=us usage_idle=60,usage_user=35i ${String(T0 + 10)}`,
  `cpu,host=web01,region=eu usage_idle=70,usage_user=25i ${String(T0 + 60)}`,
  `mem,host=web01 used_percent=42.5 ${String(T0)}`,
].join('\n');

let seeded = false;
async function seed(): Promise<void> {
  if (seeded) return;
  const write = await shared.client.post(`/write?db=${DATABASE}&precision=s`, LINES, { Authorization: `Token ${TEST_TOKEN}` });
  expect(write.status, write.text).toBe(204);
  await flushUntil(shared.client, DATABASE, 'cpu', 4);
  await flushUntil(shared.client, DATABASE, 'mem', 1);
  seeded = true;
}

interface InfluxAnswer {
  results: { statement_id: number; error?: string; series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[] }[];
}

/** influxql.go createRequest, httpMode GET: db, epoch=ms and q in the URL. */
async function grafanaGet(q: string, headers: Record<string, string> = { Authorization: `Token ${TEST_TOKEN}` }, extra: Record<string, string> = {}): Promise<InfluxAnswer> {
  const search = new URLSearchParams({ db: DATABASE, epoch: 'ms', ...extra, q });
  const response = await fetch(`${shared.arc.url}/query?${search.toString()}`, { headers: { 'User-Agent': 'Grafana/11.3.0', ...headers } });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as InfluxAnswer;
}

/** httpMode POST: db and epoch in the URL, q in a form body. */
async function grafanaPost(q: string): Promise<InfluxAnswer> {
  const search = new URLSearchParams({ db: DATABASE, epoch: 'ms' });
  const response = await fetch(`${shared.arc.url}/query?${search.toString()}`, {
    method: 'POST',
    headers: { 'User-Agent': 'Grafana/11.3.0', 'Content-type': 'application/x-www-form-urlencoded', Authorization: `Token ${TEST_TOKEN}` },
    body: new URLSearchParams({ q }).toString(),
  });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as InfluxAnswer;
}

/** The query builder's default panel query, `$timeFilter` and `$__interval` as the backend renders them. */
const PANEL_QUERY = `SELECT mean("usage_idle") FROM "cpu" WHERE ("host" =~ /^web01$/) AND time >= ${String(FROM_MS)}ms and time <= ${String(TO_MS)}ms GROUP BY time(1m), "host" fill(null)`;
const PANEL_SERIES = [
  {
    name: 'cpu',
    tags: { host: 'web01' },
    columns: ['time', 'mean'],
    values: [
      [FROM_MS, 85],
      [FROM_MS + 60_000, 70],
      [FROM_MS + 120_000, null],
    ],
  },
];

describe('Grafana InfluxDB data source (InfluxQL)', () => {
  it('passes the health check: SHOW measurements lists the measurements (frame 0, field 0)', async () => {
    await seed();
    const answer = await grafanaGet('SHOW measurements');
    expect(answer.results[0]?.series?.[0]).toEqual({ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] });
  });

  it('answers the query builder panel query in epoch ms, GET and POST alike', async () => {
    await seed();
    expect((await grafanaGet(PANEL_QUERY)).results).toEqual([{ statement_id: 0, series: PANEL_SERIES }]);
    expect((await grafanaPost(PANEL_QUERY)).results).toEqual([{ statement_id: 0, series: PANEL_SERIES }]);
  });

  it('answers the panel query with the retention policy the editor picked ("autogen"."cpu", rp=autogen)', async () => {
    await seed();
    const withPolicy = PANEL_QUERY.replace('FROM "cpu"', 'FROM "autogen"."cpu"');
    expect((await grafanaGet(withPolicy, undefined, { rp: 'autogen' })).results).toEqual([{ statement_id: 0, series: PANEL_SERIES }]);
  });

  it('accepts the credentials Grafana sends: u and p parameters, Basic auth, a Token header', async () => {
    await seed();
    const q = 'SHOW measurements';
    expect((await grafanaGet(q, {}, { u: 'grafana', p: TEST_TOKEN })).results[0]?.series?.[0]?.values).toEqual([['cpu'], ['mem']]);
    const basic = `Basic ${Buffer.from(`grafana:${TEST_TOKEN}`).toString('base64')}`;
    expect((await grafanaGet(q, { Authorization: basic })).results[0]?.series?.[0]?.values).toEqual([['cpu'], ['mem']]);
  });

  it('answers the SHOW queries behind template variables and the editor (influxql_query_builder.ts)', async () => {
    await seed();
    expect((await grafanaGet('SHOW TAG VALUES FROM "cpu" WITH KEY = "host"')).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['key', 'value'], values: [['host', 'web01'], ['host', 'web02']] },
    ]);
    // The measurement picker without a typed filter; a typed filter adds `WITH MEASUREMENT =~
    // /(?i)<text>/`, a known gap (docs/compatibility.md).
    expect((await grafanaGet('SHOW MEASUREMENTS LIMIT 100')).results[0]?.series).toEqual([{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }]);
    expect((await grafanaGet('SHOW TAG KEYS FROM "cpu"')).results[0]?.series).toEqual([{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }]);
    expect((await grafanaGet('SHOW FIELD KEYS FROM "cpu"')).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['usage_idle', 'float'], ['usage_user', 'integer']] },
    ]);
    const policies = (await grafanaGet(`SHOW RETENTION POLICIES on "${DATABASE}"`)).results[0]?.series?.[0];
    expect(policies?.columns.slice(0, 2)).toEqual(['name', 'duration']);
    expect(policies?.values[0]?.[0]).toBe('autogen');
  });

  it('answers a tag-filtered variable query with the editor\'s WHERE (regex from a variable)', async () => {
    await seed();
    expect((await grafanaGet('SHOW TAG VALUES FROM "cpu" WITH KEY = "host" WHERE "region" =~ /^(eu|asia)$/')).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['key', 'value'], values: [['host', 'web01']] },
    ]);
  });

  it('answers the other forms the editor and Telegraf dashboards write (no FROM, time filter, relative range, fill, selectors)', async () => {
    await seed();
    expect((await grafanaGet('SHOW TAG VALUES WITH KEY = "host"')).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['key', 'value'], values: [['host', 'web01'], ['host', 'web02']] },
      { name: 'mem', columns: ['key', 'value'], values: [['host', 'web01']] },
    ]);
    expect((await grafanaGet('SHOW TAG KEYS')).results[0]?.series?.map((series) => series.name)).toEqual(['cpu', 'mem']);
    expect((await grafanaGet('SHOW FIELD KEYS')).results[0]?.series?.map((series) => series.name)).toEqual(['cpu', 'mem']);
    // A relative dashboard range renders `time > now() - 6h`: nothing that recent here, one empty result.
    expect((await grafanaGet('SELECT mean("usage_idle") FROM "cpu" WHERE time > now() - 6h GROUP BY time(1m) fill(null)')).results).toEqual([{ statement_id: 0 }]);
    expect((await grafanaGet(`SELECT last("usage_idle") FROM "cpu" WHERE time >= ${String(FROM_MS)}ms and time <= ${String(TO_MS)}ms GROUP BY "host"`)).results[0]?.series).toEqual([
      { name: 'cpu', tags: { host: 'web01' }, columns: ['time', 'last'], values: [[FROM_MS + 60_000, 70]] },
      { name: 'cpu', tags: { host: 'web02' }, columns: ['time', 'last'], values: [[FROM_MS + 10_000, 60]] },
    ]);
    // An RE2 flag and class in a tag condition, as a regex template variable can make them.
    expect((await grafanaGet(`SELECT mean("usage_idle") FROM "cpu" WHERE ("host" =~ /(?i)^WEB\\d2$/) AND time >= ${String(FROM_MS)}ms and time <= ${String(TO_MS)}ms GROUP BY time(1m) fill(none)`)).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['time', 'mean'], values: [[FROM_MS, 60]] },
    ]);
    expect((await grafanaGet(`SELECT max("usage_user") FROM "cpu" WHERE time >= ${String(FROM_MS)}ms and time <= ${String(TO_MS)}ms GROUP BY time(1m) fill(0)`)).results[0]?.series).toEqual([
      { name: 'cpu', columns: ['time', 'max'], values: [[FROM_MS, 35], [FROM_MS + 60_000, 25], [FROM_MS + 120_000, 0]] },
    ]);
  });

  it('reports a bad query as results[0].error or a JSON error Grafana shows', async () => {
    const search = new URLSearchParams({ db: DATABASE, epoch: 'ms', q: 'SELEC mean("x") FROM "cpu"' });
    const response = await fetch(`${shared.arc.url}/query?${search.toString()}`, { headers: { Authorization: `Token ${TEST_TOKEN}` } });
    const body = (await response.json()) as { error?: string; results?: { error?: string }[] };
    expect(response.status === 400 || response.status === 200).toBe(true);
    expect(typeof (body.error ?? body.results?.[0]?.error)).toBe('string');
  });
});

/** Arrow types grafana-arc-datasource decodes (arrow.go createEmptyField); any other fails the panel. */
const ARROW_TYPES_READ = new Set([Type.Utf8, Type.Float, Type.Int, Type.Bool, Type.Timestamp]);

/** arrow.go queryArrow: POST /api/v1/query/arrow, JSON {"sql"}, Bearer key, X-Arc-Database. */
async function arcArrow(sql: string): Promise<ReturnType<typeof tableFromIPC>> {
  const response = await fetch(`${shared.arc.url}/api/v1/query/arrow`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_TOKEN}`, 'X-Arc-Database': DATABASE },
    body: JSON.stringify({ sql }),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  expect(response.status, new TextDecoder().decode(bytes.slice(0, 500))).toBe(200);
  const table = tableFromIPC(bytes);
  for (const field of table.schema.fields) expect([field.name, ARROW_TYPES_READ.has(field.type.typeId)]).toEqual([field.name, true]);
  return table;
}

/** query.go ApplyMacros for a 2-minute range (under 6 h: $__interval is "10 seconds"). */
function applyMacros(sql: string): string {
  const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
  return sql
    .replaceAll('$__timeFilter(time)', `time >= '${iso(FROM_MS)}' AND time < '${iso(TO_MS)}'`)
    .replace(/\$__timeGroup\(([^,]+),\s*'?(\d+)m'?\)/g, (_, column: string, minutes: string) => {
      const seconds = Number(minutes) * 60;
      return `to_timestamp((epoch_ns(${column.trim()}) // 1000000000 // ${String(seconds)}) * ${String(seconds)})`;
    });
}

describe('Grafana Arc data source (grafana-arc-datasource)', () => {
  it('passes the health check: SHOW DATABASES through the Arrow endpoint', async () => {
    await seed();
    const table = await arcArrow('SHOW DATABASES');
    expect(table.schema.fields.map((field) => field.name)).toEqual(['database']);
    expect(table.getChild('database')?.toArray()).toContain(DATABASE);
  });

  it('answers a time-series panel with $__timeGroup and $__timeFilter expanded as the plugin expands them', async () => {
    await seed();
    const sql = applyMacros('SELECT $__timeGroup(time, 1m) AS time, host, avg(usage_idle) AS idle FROM cpu WHERE $__timeFilter(time) GROUP BY 1, 2 ORDER BY 1, 2');
    expect(sql).toContain("time >= '2023-11-14T22:14:00Z' AND time < '2023-11-14T22:16:00Z'");
    const table = await arcArrow(sql);
    expect(table.schema.fields.map((field) => [field.name, field.type.typeId])).toEqual([
      ['time', Type.Timestamp],
      ['host', Type.Utf8],
      ['idle', Type.Float],
    ]);
    const rows = table.toArray().map((row: { time: number | bigint; host: string; idle: number }) => [new Date(Number(row.time)).toISOString(), row.host, row.idle]);
    expect(rows).toEqual([
      ['2023-11-14T22:14:00.000Z', 'web01', 85],
      ['2023-11-14T22:14:00.000Z', 'web02', 60],
      ['2023-11-14T22:15:00.000Z', 'web01', 70],
    ]);
  });

  it('answers a table panel and a variable query (integers, booleans, strings all decodable)', async () => {
    await seed();
    const table = await arcArrow("SELECT host, count(*) AS n, max(usage_user) AS peak, bool_or(usage_idle > 85) AS busy FROM cpu WHERE time >= '2023-11-14T22:14:00Z' GROUP BY host ORDER BY host");
    expect(table.toArray().map((row: { host: string; n: bigint; peak: bigint; busy: boolean }) => [row.host, Number(row.n), Number(row.peak), row.busy])).toEqual([
      ['web01', 3, 25, true],
      ['web02', 1, 35, false],
    ]);
    expect((await arcArrow('SELECT DISTINCT host FROM cpu ORDER BY host')).getChild('host')?.toArray()).toEqual(['web01', 'web02']);
  });

  it('answers the JSON fallback (useArrow off) with columns, data and RFC 3339 times the plugin parses', async () => {
    await seed();
    const response = await fetch(`${shared.arc.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_TOKEN}`, 'X-Arc-Database': DATABASE },
      body: JSON.stringify({ sql: applyMacros('SELECT time, usage_idle FROM cpu WHERE $__timeFilter(time) AND host = \'web02\'') }),
    });
    const body = (await response.json()) as { columns: string[]; data: unknown[][] };
    expect(response.status).toBe(200);
    expect(body.columns).toEqual(['time', 'usage_idle']);
    expect(body.data).toEqual([['2023-11-14T22:14:10Z', 60]]);
  });

  it('answers an error as JSON {"error"} that the plugin shows (parseArcError)', async () => {
    const response = await fetch(`${shared.arc.url}/api/v1/query/arrow`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TEST_TOKEN}`, 'X-Arc-Database': DATABASE },
      body: JSON.stringify({ sql: 'SELECT nope FROM cpu' }),
    });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.json()).toMatchObject({ error: expect.stringContaining('nope') as unknown });
  });
});
