// Proves an InfluxQL CQ Arc expands over the data follows the data as InfluxDB 1.6.7's does: the
// classic `mean(*) INTO db..:MEASUREMENT FROM /.*/ GROUP BY time(1h),*` is created on an empty
// database on Arc and on Debian's influxd (skipped locally without it), answered and shown alike;
// then two measurements are written, and later a new field and a new tag: Arc's server makes a
// query per measurement and widens its SQL (waited for through the API), its windows are executed
// and influxd's CQ SELECT run by hand over the same windows, and the rows both wrote are compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { influxdAvailable, startInfluxd, type InfluxdProcess } from './support/influxd-process.js';

const available = influxdAvailable();
/** Longer than the server's re-expansion period (10 s), which picks up what the first file's notice missed. */
const EXPANDED_WITHIN_MS = 30_000;
const CREATE = 'CREATE CONTINUOUS QUERY cq_follow ON fresh BEGIN SELECT mean(*) INTO fresh_1h..:MEASUREMENT FROM /.*/ GROUP BY time(1h),* END';
/** The two windows Arc executes and influxd's SELECT covers. */
const WINDOWS = "time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T02:00:00Z'";
const T0_S = 1767225600;

let arc: ArcProcess | null = null;
let influxd: InfluxdProcess | null = null;

beforeAll(async () => {
  if (!available) return;
  [arc, influxd] = await Promise.all([startArc(), startInfluxd()]);
  // influxd needs its databases; Arc makes one at its first write (CREATE DATABASE only checks the name).
  for (const database of ['fresh', 'fresh_1h']) expect((await post(influxd.url, 'fresh', `CREATE DATABASE ${database}`)).status).toBe(200);
}, 120_000);
afterAll(async () => {
  await influxd?.stop();
  if (arc !== null) {
    await arc.stop();
    await arc.cleanup();
  }
});

async function post(url: string, database: string, q: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/query?db=${database}`, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q }).toString() });
  const body: unknown = await response.json();
  return { status: response.status, body };
}

function servers(): { arc: ArcProcess; influxd: InfluxdProcess; client: ArcClient } {
  if (arc === null || influxd === null) throw new Error('the servers are not started');
  return { arc, influxd, client: new ArcClient(arc.url) };
}

async function both(database: string, q: string): Promise<{ arc: { status: number; body: unknown }; influx: { status: number; body: unknown } }> {
  const started = servers();
  return { arc: await post(started.arc.url, database, q, started.client.authHeaders()), influx: await post(started.influxd.url, database, q) };
}

/** SHOW CONTINUOUS QUERIES' series of one database (influxd lists every database it has, Arc those with data or queries). */
function shownFor(body: unknown, database: string): unknown {
  const [result] = (body as { results: { series?: { name: string }[] }[] }).results;
  return result?.series?.find((series) => series.name === database) ?? null;
}

interface ListedCq {
  readonly id: number;
  readonly name: string;
  readonly query: string;
  readonly last_processed_time: string | null;
}

async function arcQueries(): Promise<ListedCq[]> {
  const { client } = servers();
  const listed = await client.get('/api/v1/continuous_queries', client.authHeaders());
  return (listed.json() as ListedCq[]).filter((cq) => cq.name.startsWith('fresh.cq_follow'));
}

/** Rows to both: line protocol to influxd, the same rows as msgpack columns to Arc, then flushed (files are what the expansion reads). */
async function writeBoth(measurement: string, rows: readonly { readonly seconds: number; readonly tags: Record<string, string>; readonly fields: Record<string, number> }[]): Promise<void> {
  const { influxd: influx, client } = servers();
  await influx.write('fresh', rows.map((row) => `${measurement},${Object.entries(row.tags).map(([key, value]) => `${key}=${value}`).join(',')} ${Object.entries(row.fields).map(([key, value]) => `${key}=${String(value)}`).join(',')} ${String(row.seconds)}`).join('\n'), 's');
  const columns: Record<string, unknown[]> = { time: rows.map((row) => row.seconds * 1000) };
  for (const key of new Set(rows.flatMap((row) => [...Object.keys(row.tags), ...Object.keys(row.fields)]))) columns[key] = rows.map((row) => row.tags[key] ?? row.fields[key]);
  expect((await client.write(msgpack({ m: measurement, columns }), { database: 'fresh' })).status).toBe(204);
  expect((await client.flush()).status).toBe(200);
}

describe.skipIf(!available)('an InfluxQL CQ created before its data, against influxd 1.6.7', () => {
  it('is answered and shown alike while nothing matches, then follows the measurements, fields and tags written, writing the rows influxd writes', async () => {
    const createdAtMs = Date.now();
    const created = await both('fresh', CREATE);
    expect(created.arc).toEqual(created.influx);
    expect(created.arc.body).toEqual({ results: [{ statement_id: 0 }] });
    const shown = await both('fresh', 'SHOW CONTINUOUS QUERIES');
    expect(shownFor(shown.arc.body, 'fresh')).toEqual(shownFor(shown.influx.body, 'fresh'));
    expect(JSON.stringify(shownFor(shown.arc.body, 'fresh'))).toContain('"cq_follow","CREATE CONTINUOUS QUERY cq_follow ON fresh BEGIN SELECT mean(*) INTO fresh_1h.autogen.:MEASUREMENT FROM fresh.autogen./.*/ GROUP BY time(1h), * END"');
    expect((await both('fresh', CREATE)).arc).toEqual((await both('fresh', CREATE)).influx);
    const conflicting = await both('fresh', CREATE.replace('mean(*)', 'max(*)'));
    expect(conflicting.arc).toEqual(conflicting.influx);
    expect(await arcQueries()).toEqual([]);

    // Two measurements appear: the server makes a query for each, its first window the CREATE's (the rows are older).
    await writeBoth('cpu', [
      { seconds: T0_S, tags: { host: 'a' }, fields: { value: 1.5 } },
      { seconds: T0_S + 1800, tags: { host: 'b' }, fields: { value: 2.5 } },
      { seconds: T0_S + 3600, tags: { host: 'a' }, fields: { value: 4 } },
    ]);
    await writeBoth('mem', [
      { seconds: T0_S + 600, tags: { host: 'a' }, fields: { used: 10 } },
      { seconds: T0_S + 4200, tags: { host: 'a' }, fields: { used: 30 } },
    ]);
    await waitUntil('Arc made fresh.cq_follow.cpu and fresh.cq_follow.mem', EXPANDED_WITHIN_MS, async () => (await arcQueries()).length === 2, 200);
    const made = await arcQueries();
    expect(made.map((cq) => cq.name).sort()).toEqual(['fresh.cq_follow.cpu', 'fresh.cq_follow.mem']);
    for (const cq of made) expect(Date.parse(cq.last_processed_time ?? '')).toBeLessThanOrEqual(createdAtMs);

    // A field of cpu and a tag of mem appear later: the queries' SQL follows, the catch-up point stays.
    await writeBoth('cpu', [{ seconds: T0_S + 4000, tags: { host: 'a' }, fields: { value: 5, temp: 20.5 } }]);
    await writeBoth('mem', [{ seconds: T0_S + 4500, tags: { host: 'a', dc: 'east' }, fields: { used: 50 } }]);
    await waitUntil('Arc widened the queries to cpu.temp and mem.dc', EXPANDED_WITHIN_MS, async () => {
      const queries = await arcQueries();
      return queries.some((cq) => cq.name.endsWith('.cpu') && cq.query.includes('"mean_temp"')) && queries.some((cq) => cq.name.endsWith('.mem') && cq.query.includes('"dc"'));
    }, 200);
    const widened = await arcQueries();
    expect(widened.map((cq) => [cq.name, cq.last_processed_time])).toEqual(made.map((cq) => [cq.name, cq.last_processed_time]));

    // The windows run on both: Arc's per-measurement queries, influxd's CQ SELECT by hand.
    const { client, influxd: influx } = servers();
    for (const cq of widened) {
      const executed = await client.post(`/api/v1/continuous_queries/${String(cq.id)}/execute`, JSON.stringify({ start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T02:00:00Z' }), { ...client.authHeaders(), 'Content-Type': 'application/json' });
      expect(executed.status, executed.text).toBe(200);
    }
    const byHand = `SELECT mean(*) INTO fresh_1h..:MEASUREMENT FROM /.*/ WHERE ${WINDOWS} GROUP BY time(1h),*`;
    expect(JSON.stringify((await post(influx.url, 'fresh', byHand)).body)).toContain('"written"');
    for (const [measurement, columns] of [['cpu', ['time', 'mean_temp', 'mean_value']], ['mem', ['time', 'mean_used']]] as const) {
      const read = await both('fresh_1h', `SELECT * FROM ${measurement} GROUP BY *`);
      // The same series, rows and order (a series missing a tag first, as influxd lists it).
      expect([measurement, read.arc.status, read.arc.body]).toEqual([measurement, read.influx.status, read.influx.body]);
      expect(JSON.stringify(read.arc.body)).toContain(`"columns":${JSON.stringify(columns)}`);
    }

    // DROP removes the statement and every query made from it.
    expect((await both('fresh', 'DROP CONTINUOUS QUERY cq_follow ON fresh')).arc.body).toEqual({ results: [{ statement_id: 0 }] });
    expect(await arcQueries()).toEqual([]);
    const after = await both('fresh', 'SHOW CONTINUOUS QUERIES');
    expect(shownFor(after.arc.body, 'fresh')).toEqual(shownFor(after.influx.body, 'fresh'));
  });
});
