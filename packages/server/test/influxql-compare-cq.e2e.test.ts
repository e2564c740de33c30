// Proves Arc answers InfluxQL's CREATE / SHOW / DROP CONTINUOUS QUERY as the real InfluxDB 1.6.7
// does: the same statements are POSTed to both (Debian's influxd, run beside Arc; skipped locally
// without it) and the JSON answers compared: accepted, repeated, conflicting and dropped queries,
// offsets, RESAMPLE, tz(), INTO and FROM other databases, wildcards, SHOW's normalised text, and
// parse errors (InfluxDB's message; Arc adds its code and position); that Arc's definition runs
// where it reads; that a wildcard CQ, a subquery CQ, an offset CQ and the classic
// `mean(*) INTO db2..:MEASUREMENT FROM /re/ GROUP BY time(1h),*` write the rows influxd writes for
// the same windows; and
// that the CQs Arc cannot run as InfluxDB does are refused naming why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { influxdAvailable, startInfluxd, type InfluxdProcess } from './support/influxd-process.js';

const available = influxdAvailable();
/** Rows of `load`: seconds (2026-01-01 00:00 UTC on), host, region, value (float), n (integer). */
const LOAD: readonly (readonly [number, string, string, number, number])[] = [
  [1767225600, 'a', 'x', 1.5, 10],
  [1767227400, 'a', 'x', 2.25, 20],
  [1767229200, 'b', 'y', 3.75, 30],
  [1767231000, 'a', 'x', 4.5, 40],
  [1767231300, 'b', 'y', 5.25, 50],
];
let arc: ArcProcess | null = null;
let influxd: InfluxdProcess | null = null;

beforeAll(async () => {
  if (!available) return;
  [arc, influxd] = await Promise.all([startArc(), startInfluxd()]);
  // The databases exist on both: created on influxd (in name order, the order Arc lists them), written to on Arc.
  const client = new ArcClient(arc.url);
  for (const database of ['db1', 'db2']) {
    expect((await post(influxd.url, `CREATE DATABASE ${database}`)).status).toBe(200);
    await influxd.write(database, 'cpu,host=a value=1 1767225600', 's');
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: [1767225600000], host: ['a'], value: [1] } }), { database })).status).toBe(204);
  }
  // `load`, for the wildcard CQ: two series over two hours, a float and an integer field.
  await influxd.write('db1', LOAD.map(([seconds, host, region, value, n]) => `load,host=${host},region=${region} value=${String(value)},n=${String(n)}i ${String(seconds)}`).join('\n'), 's');
  const load = { time: LOAD.map((row) => row[0] * 1000), host: LOAD.map((row) => row[1]), region: LOAD.map((row) => row[2]), value: LOAD.map((row) => row[3]), n: LOAD.map((row) => row[4]) };
  expect((await client.write(msgpack({ m: 'load', columns: load }), { database: 'db1' })).status).toBe(204);
  expect((await client.flush()).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await influxd?.stop();
  if (arc !== null) {
    await arc.stop();
    await arc.cleanup();
  }
});

async function post(url: string, q: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/query?db=db1`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q }).toString() });
  const body: unknown = await response.json();
  return { status: response.status, body };
}

async function both(q: string): Promise<{ arc: { status: number; body: unknown }; influx: { status: number; body: unknown } }> {
  if (arc === null || influxd === null) throw new Error('the servers are not started');
  return { arc: await post(arc.url, q, new ArcClient(arc.url).authHeaders()), influx: await post(influxd.url, q) };
}

const STATEMENTS = [
  'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_5m FROM cpu GROUP BY time(5m) END',
  'CREATE CONTINUOUS QUERY cq_tags ON db1 RESAMPLE EVERY 30s FOR 2m BEGIN SELECT max(value) INTO cpu_max FROM cpu GROUP BY time(1m), host END',
  'CREATE CONTINUOUS QUERY cq_offset ON db1 BEGIN SELECT mean(value) INTO db2..cpu_off FROM cpu GROUP BY time(1h, -15m) END',
  'CREATE CONTINUOUS QUERY cq_from ON db1 RESAMPLE EVERY 2h BEGIN SELECT count(value) INTO db1.autogen.cpu_from FROM db2..cpu GROUP BY time(1h, 75m), host END',
  'CREATE CONTINUOUS QUERY "cq quoted" ON db1 BEGIN SELECT sum(value) INTO "cpu-sum" FROM db1.autogen.cpu GROUP BY time(30m, 10m) END',
  "CREATE CONTINUOUS QUERY cq_tz ON db1 BEGIN SELECT mean(value) INTO cpu_tz FROM cpu GROUP BY time(1h) tz('Asia/Kolkata') END",
  'SHOW CONTINUOUS QUERIES',
  'DROP CONTINUOUS QUERY cq_tz ON db1',
  'DROP CONTINUOUS QUERY nosuch ON db1',
  'DROP CONTINUOUS QUERY cq_basic ON db1',
  'SHOW CONTINUOUS QUERIES',
  'DROP CONTINUOUS QUERY cq_tags ON db1',
  'DROP CONTINUOUS QUERY cq_offset ON db1',
  'DROP CONTINUOUS QUERY cq_from ON db1',
  'DROP CONTINUOUS QUERY "cq quoted" ON db1',
  'SHOW CONTINUOUS QUERIES',
];

const PARSE_ERRORS = [
  'CREATE CONTINUOUS QUERY r_notime ON db1 BEGIN SELECT mean(value) INTO x FROM cpu END',
  'CREATE CONTINUOUS QUERY r_nointo ON db1 BEGIN SELECT mean(value) FROM cpu GROUP BY time(1m) END',
  'CREATE CONTINUOUS QUERY r_noend ON db1 BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m)',
  'CREATE CONTINUOUS QUERY r_resample_empty ON db1 RESAMPLE BEGIN SELECT mean(value) INTO x FROM cpu GROUP BY time(1m) END',
  'SHOW CONTINUOUS QUERY',
  'DROP CONTINUOUS QUERY cq_basic',
];

describe.skipIf(!available)('continuous query statements against influxd 1.6.7', () => {
  it('answers each statement as influxd does, in order', async () => {
    for (const statement of STATEMENTS) {
      const { arc: fromArc, influx } = await both(statement);
      expect([statement, fromArc]).toEqual([statement, influx]);
    }
  });

  it('maps an offset, RESAMPLE and other databases onto the Arc definition', async () => {
    if (arc === null) throw new Error('Arc is not started');
    const client = new ArcClient(arc.url);
    const created = await both('CREATE CONTINUOUS QUERY cq_map ON db1 RESAMPLE EVERY 2h BEGIN SELECT count(value) INTO db3..cpu_n FROM db2..cpu GROUP BY time(1h, -15m) END');
    // influxd has no db3 (Arc makes a database on first write, so it takes the query).
    expect(created.influx.body).toEqual({ results: [{ statement_id: 0, error: 'database not found: db3' }] });
    expect(created.arc.body).toEqual({ results: [{ statement_id: 0 }] });
    const listed = await client.get('/api/v1/continuous_queries', client.authHeaders());
    const definition = (listed.json() as { name: string; database: string; destination_measurement: string; interval: string; query: string }[]).find((cq) => cq.name === 'db1.cq_map');
    // The query runs in the database it reads; the buckets start at the normalised offset (-15m is 45m past the hour).
    expect(definition).toMatchObject({ database: 'db2', destination_measurement: 'cpu_n', interval: '3600s' });
    expect(definition?.query).toContain("\"time\", TIMESTAMP '1970-01-01 00:45:00')");
    // tz() of a zone whose offsets are a fixed shift of the windows is that shift (+05:30: hours start at :30 UTC).
    expect((await both("CREATE CONTINUOUS QUERY cq_zone ON db1 BEGIN SELECT max(value) INTO cpu_zone FROM cpu GROUP BY time(1h) tz('Asia/Kolkata') END")).arc.body).toEqual({ results: [{ statement_id: 0 }] });
    const zoned = ((await client.get('/api/v1/continuous_queries', client.authHeaders())).json() as { name: string; query: string }[]).find((cq) => cq.name === 'db1.cq_zone');
    expect(zoned?.query).toContain("\"time\", TIMESTAMP '1970-01-01 00:30:00')");
    await both('DROP CONTINUOUS QUERY cq_zone ON db1');
    const shown = await both('SHOW CONTINUOUS QUERIES');
    expect(JSON.stringify(shown.arc.body)).toContain('"cq_map","CREATE CONTINUOUS QUERY cq_map ON db1 RESAMPLE EVERY 2h BEGIN SELECT count(value) INTO db3.autogen.cpu_n FROM db2.autogen.cpu GROUP BY time(1h, -15m) END"');
    expect((await both('DROP CONTINUOUS QUERY cq_map ON db1')).arc.body).toEqual({ results: [{ statement_id: 0 }] });
  });

  const WINDOWS = "time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T02:00:00Z'";
  /** The windows of time(1h, 15m) that Arc's execute of 00:00..02:00 covers (aligned outwards). */
  const OFFSET_WINDOWS = "time >= '2025-12-31T23:15:00Z' AND time < '2026-01-01T02:15:00Z'";
  it.each([
    ['a wildcard CQ (mean(*), max(*), GROUP BY *)', 'cq_wild', 'load_1h', 'SELECT mean(*), max(*) INTO load_1h FROM load GROUP BY time(1h),*', `SELECT mean(*), max(*) INTO db1..load_1h FROM load WHERE ${WINDOWS} GROUP BY time(1h),*`, ['time', 'max_n', 'max_value', 'mean_n', 'mean_value']],
    ['a CQ over a subquery', 'cq_sub', 'load_sub', 'SELECT mean(max) AS peak INTO load_sub FROM (SELECT max(value) FROM load GROUP BY time(30m), host) GROUP BY time(1h), host', `SELECT mean(max) AS peak INTO db1..load_sub FROM (SELECT max(value) FROM load GROUP BY time(30m), host) WHERE ${WINDOWS} GROUP BY time(1h), host`, ['time', 'peak']],
    ['a CQ with an offset', 'cq_off', 'load_off', 'SELECT mean(value), count(n) INTO load_off FROM load GROUP BY time(1h, 15m), host', `SELECT mean(value), count(n) INTO db1..load_off FROM load WHERE ${OFFSET_WINDOWS} GROUP BY time(1h, 15m), host`, ['time', 'count', 'mean']],
    ['the classic downsampling CQ (mean(*) INTO db2..:MEASUREMENT FROM /re/ GROUP BY *)', 'cq_all', 'db2..load', 'SELECT mean(*) INTO db2..:MEASUREMENT FROM /^load$/ GROUP BY time(1h),*', `SELECT mean(*) INTO db2..:MEASUREMENT FROM /^load$/ WHERE ${WINDOWS} GROUP BY time(1h),*`, ['time', 'mean_n', 'mean_value']],
  ])('runs %s into the rows influxd writes for the same windows', async (_label, name, destination, select, byHand, columns) => {
    if (arc === null || influxd === null) throw new Error('the servers are not started');
    const client = new ArcClient(arc.url);
    const created = await both(`CREATE CONTINUOUS QUERY ${name} ON db1 BEGIN ${select} END`);
    expect(created.arc).toEqual(created.influx);
    const shown = await both('SHOW CONTINUOUS QUERIES');
    expect(shown.arc).toEqual(shown.influx);
    // influxd runs the CQ's query over the two windows as its continuous querier would; Arc runs its windows.
    const ranByHand = await post(influxd.url, byHand);
    expect([byHand, JSON.stringify(ranByHand.body)]).toEqual([byHand, expect.stringContaining('"written"') as unknown]);
    const listed = await client.get('/api/v1/continuous_queries', client.authHeaders());
    // A FROM /re/ query is one Arc query per measurement it matched: `db1.<name>.<measurement>`.
    const definition = (listed.json() as { id: number; name: string }[]).find((cq) => cq.name === `db1.${name}` || cq.name === `db1.${name}.load`);
    if (definition === undefined) throw new Error(`Arc has no db1.${name}`);
    const executed = await client.post(`/api/v1/continuous_queries/${String(definition.id)}/execute`, JSON.stringify({ start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T02:00:00Z' }), { ...client.authHeaders(), 'Content-Type': 'application/json' });
    expect(executed.status, executed.text).toBe(200);
    const read = await both(`SELECT * FROM ${destination} GROUP BY *`);
    expect(read.arc).toEqual(read.influx);
    expect(JSON.stringify(read.arc.body)).toContain(`"columns":${JSON.stringify(columns)}`);
    expect((await both(`DROP CONTINUOUS QUERY ${name} ON db1`)).arc.body).toEqual({ results: [{ statement_id: 0 }] });
  });

  it.each([
    ['writes INTO the measurement it reads', 'CREATE CONTINUOUS QUERY cq_self ON db1 BEGIN SELECT mean(*) INTO db1.autogen.:MEASUREMENT FROM /^load$/ GROUP BY time(1h),* END', 'INTO the measurement it reads (db1.load'],
    ['has local days across DST', "CREATE CONTINUOUS QUERY cq_dst ON db1 BEGIN SELECT mean(value) INTO cpu_dst FROM cpu GROUP BY time(1d) tz('America/Chicago') END", "tz('America/Chicago') with GROUP BY time(1d) (its UTC offsets"],
  ])('refuses a CQ that %s, which influxd takes', async (_label, create, error) => {
    const { arc: fromArc, influx } = await both(create);
    expect(influx.body).toEqual({ results: [{ statement_id: 0 }] });
    expect(fromArc.body).toEqual({ results: [{ statement_id: 0, error: expect.stringContaining(error) as unknown }] });
    const name = /QUERY (\w+)/.exec(create)?.[1] ?? '';
    expect((await both(`DROP CONTINUOUS QUERY ${name} ON db1`)).influx.body).toEqual({ results: [{ statement_id: 0 }] });
  });

  it.each(PARSE_ERRORS)('refuses %s with influxd\'s error', async (statement) => {
    const { arc: fromArc, influx } = await both(statement);
    expect(fromArc.status).toBe(influx.status);
    expect((fromArc.body as { error: string }).error).toBe((influx.body as { error: string }).error);
  });
});
