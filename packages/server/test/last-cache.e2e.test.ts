// Proves the last-value cache on the built server: `last_cache('cpu')` answers what
// `SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC` answers after a flush,
// for TSBS-like rows, through out-of-order writes, new series, buffered-only rows, a restart
// (definitions kept, rows seeded from the files) and a delete; plus the API's defaults and errors.
// With one query thread (its table and kept statement reused), each new row is in the next answer
// of the same SQL, a new column in the next `*`.
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { createToken, send } from './support/token-helpers.js';
import { useStartedArcs } from './support/started-arcs.js';
import { expectCleanStop } from './support/clean-stop.js';

const BASE_MS = Date.UTC(2025, 0, 10, 9);
const TAGS = ['hostname', 'region', 'datacenter', 'os'];
/** Buffers are flushed only when a test asks: what the cache answers must not depend on files. */
const ENV = { ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_WRITER_FLUSH_ROWS: '1000000' };

const { start, started } = useStartedArcs();

/** TSBS-like cpu rows: `hosts` hosts, `points` points each, 10 s apart from `offsetS`. */
function cpu(hosts: readonly number[], points: number, offsetS: number): Uint8Array {
  const rows = hosts.flatMap((host) => Array.from({ length: points }, (_, point) => ({ host, point })));
  return msgpack({
    m: 'cpu',
    columns: {
      time: rows.map(({ point }) => BASE_MS + (offsetS + point * 10) * 1000),
      hostname: rows.map(({ host }) => `host_${String(host)}`),
      region: rows.map(({ host }) => `region_${String(host % 3)}`),
      datacenter: rows.map(({ host }) => `dc_${String(host % 2)}`),
      os: rows.map(() => 'Ubuntu16.04LTS'),
      usage_user: rows.map(({ host, point }) => host * 1.5 + point + offsetS / 7),
      usage_system: rows.map(({ host, point }) => (host + point + offsetS) % 100),
      usage_idle: rows.map(({ point }) => 100 - point / 3),
    },
    tags: TAGS,
  });
}

async function write(client: ArcClient, body: Uint8Array): Promise<void> {
  const answer = await client.write(body);
  expect(answer.status, answer.text).toBe(204);
}

const ORDERED = 'ORDER BY hostname';
const COLUMNS = 'hostname, region, datacenter, os, usage_user, usage_system, usage_idle, time';

async function fromCache(client: ArcClient, name?: string): Promise<unknown[][]> {
  return client.rows(`SELECT ${COLUMNS} FROM last_cache('cpu'${name === undefined ? '' : `, '${name}'`}) ${ORDERED}`);
}

async function fromSql(client: ArcClient): Promise<unknown[][]> {
  expect((await client.flush()).status).toBe(200);
  return client.rows(`SELECT ${COLUMNS} FROM (SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC) ${ORDERED}`);
}

describe('last-value cache', () => {
  it('answers as the SQL lastpoint does: out of order, new series, buffered rows, restart, delete', async () => {
    let arc = await start(ENV);
    let client = new ArcClient(arc.url);
    await write(client, cpu([0, 1, 2, 3], 30, 0));
    const created = await send(arc.url, 'POST', '/api/v3/configure/last_cache', { body: { db: 'default', table: 'cpu' } });
    expect(created.status, created.text).toBe(201);
    expect(created.json()).toEqual({ db: 'default', table: 'cpu', name: 'cpu_hostname_region_datacenter_os_last_cache', key_columns: TAGS, value_columns: null, count: 1, ttl: 14400 });

    // Seeded from the files: the create flushed what was buffered.
    expect(await fromCache(client)).toEqual(await fromSql(client));
    // Newer rows, only buffered: in the cache before any flush.
    await write(client, cpu([1, 2], 5, 1000));
    const buffered = await fromCache(client);
    expect(buffered.filter((row) => row[0] === 'host_1')).toHaveLength(1);
    expect(await fromSql(client)).toEqual(buffered);
    // Older rows arriving late change nothing; a new series appears.
    await write(client, cpu([0, 1, 2, 3], 3, -500));
    await write(client, cpu([7], 2, 50));
    expect(await fromCache(client)).toEqual(await fromSql(client));
    expect((await fromCache(client)).map((row) => row[0])).toContain('host_7');
    // WHERE, projections and the cache's name work as on any table.
    expect(await client.rows("SELECT hostname, usage_idle FROM last_cache('cpu') WHERE region = 'region_1' ORDER BY hostname")).toEqual(
      await client.rows("SELECT hostname, usage_idle FROM (SELECT DISTINCT ON (hostname) * FROM cpu ORDER BY hostname, time DESC) WHERE region = 'region_1' ORDER BY hostname"),
    );
    expect(await fromCache(client, 'cpu_hostname_region_datacenter_os_last_cache')).toEqual(await fromSql(client));

    // A restart: the definition is kept and the rows are seeded from the files again.
    await write(client, cpu([3], 2, 2000));
    await expectCleanStop(arc);
    started.splice(started.indexOf(arc), 1);
    arc = await start(ENV, arc.dataDir);
    client = new ArcClient(arc.url);
    expect(await fromCache(client)).toEqual(await fromSql(client));
    expect((await fromCache(client)).find((row) => row[0] === 'host_3')?.[7]).toBe(new Date(BASE_MS + 2010 * 1000).toISOString().replace('.000Z', 'Z'));

    // A delete of a series' newest rows: the cache answers the rows left.
    const deleted = await send(arc.url, 'POST', '/api/v1/delete', { body: { database: 'default', measurement: 'cpu', where: "hostname = 'host_3' AND time > '2025-01-10 09:20:00'" } });
    expect(deleted.status, deleted.text).toBe(200);
    expect(await fromCache(client)).toEqual(await fromSql(client));
  });

  it('answers each new row in the next query of the same SQL on one query thread, and new columns', async () => {
    const arc = await start({ ...ENV, ARC_QUERY_THREADS: '1' });
    const client = new ArcClient(arc.url);
    await write(client, cpu([0, 1, 2], 3, 0));
    const created = await send(arc.url, 'POST', '/api/v3/configure/last_cache', { body: { db: 'default', table: 'cpu', key_columns: ['hostname'] } });
    expect(created.status, created.text).toBe(201);
    const star = "SELECT * FROM last_cache('cpu') ORDER BY hostname";
    const before = await client.query(star);
    expect((before.json() as { columns: string[] }).columns).not.toContain('usage_new');
    expect(await fromCache(client)).toEqual(await fromSql(client));
    // Each new row answered at once, the same SQL answered twice per version (its kept statement).
    for (let step = 1; step <= 30; step++) {
      await write(client, cpu([step % 3], 2, 100 + step * 30));
      const host = `host_${String(step % 3)}`;
      const time = new Date(BASE_MS + (100 + step * 30 + 10) * 1000).toISOString().replace('.000Z', 'Z');
      expect((await fromCache(client)).find((row) => row[0] === host)?.[7], `step ${String(step)}`).toBe(time);
      expect(await fromCache(client)).toEqual(await fromCache(client));
    }
    expect(await fromCache(client)).toEqual(await fromSql(client));
    // A new column: the table is created again and `*` answers it.
    const withNew = msgpack({ m: 'cpu', columns: { time: [BASE_MS + 5000 * 1000], hostname: ['host_1'], usage_user: [1.25], usage_new: [42] }, tags: ['hostname'] });
    await write(client, withNew);
    const after = await client.query(star);
    expect(after.status, after.text).toBe(200);
    const { columns, data } = after.json() as { columns: string[]; data: unknown[][] };
    expect(columns).toContain('usage_new');
    expect(data.find((row) => row[columns.indexOf('hostname')] === 'host_1')?.[columns.indexOf('usage_new')]).toBe(42);
    expect(await fromCache(client)).toEqual(await fromSql(client));
  });

  it('keeps count rows per key, and answers the errors of the API', async () => {
    const arc = await start(ENV);
    const client = new ArcClient(arc.url);
    await write(client, cpu([0, 1], 10, 0));
    const create = (body: Record<string, unknown>) => send(arc.url, 'POST', '/api/v3/configure/last_cache', { body });
    const created = await create({ db: 'default', table: 'cpu', name: 'three', key_columns: ['hostname'], value_columns: ['usage_user'], count: 3, ttl: 60 });
    expect(created.status, created.text).toBe(201);
    await write(client, cpu([0], 2, 95));
    const cached = await client.rows("SELECT * FROM last_cache('cpu', 'three') ORDER BY hostname, time DESC");
    expect((await client.flush()).status).toBe(200);
    expect(cached).toEqual(
      await client.rows("SELECT hostname, usage_user, time FROM cpu QUALIFY row_number() OVER (PARTITION BY hostname ORDER BY time DESC) <= 3 ORDER BY hostname, time DESC"),
    );
    // A token that may not read the database may not read its caches either.
    const elsewhere = await createToken(arc.url, { name: 'other-reader', permissions: ['read'], databases: ['other'] });
    const denied = await client.query("SELECT * FROM last_cache('cpu', 'three')", 'default', elsewhere.token);
    expect(denied.status, denied.text).toBe(403);
    // Streamed and estimated queries read it too.
    const streamed = await send(arc.url, 'POST', '/query/stream', { body: { sql: "SELECT hostname FROM last_cache('cpu', 'three') ORDER BY hostname", format: 'csv' } });
    expect(streamed.status, streamed.text).toBe(200);
    expect(streamed.text.trim().split(/\r?\n/)).toEqual(['hostname', 'host_0', 'host_0', 'host_0', 'host_1', 'host_1', 'host_1']);
    const estimated = await send(arc.url, 'POST', '/query/estimate', { body: { sql: "SELECT * FROM last_cache('cpu')" } });
    expect(estimated.status, estimated.text).toBe(200);
    expect(estimated.json()).toMatchObject({ estimated_rows: 6 });
    expect((await create({ db: 'default', table: 'cpu', name: 'three' })).status).toBe(409);
    expect((await create({ db: 'default', table: 'nope' })).status).toBe(404);
    const badColumn = await create({ db: 'default', table: 'cpu', key_columns: ['nope'] });
    expect(badColumn.status).toBe(400);
    expect(badColumn.json()).toMatchObject({ field: 'key_columns' });
    expect((await create({ db: 'default', table: 'cpu', count: 11 })).status).toBe(400);
    const unknown = await client.query("SELECT * FROM last_cache('cpu', 'other')");
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("no last cache named 'other'");
    const listed = await send(arc.url, 'GET', '/api/v3/configure/last_cache?db=default');
    expect(listed.json()).toEqual([{ db: 'default', table: 'cpu', name: 'three', key_columns: ['hostname'], value_columns: ['usage_user'], count: 3, ttl: 60 }]);
    const dropped = await send(arc.url, 'DELETE', '/api/v3/configure/last_cache?db=default&table=cpu&name=three');
    expect(dropped.status, dropped.text).toBe(200);
    expect((await client.query("SELECT * FROM last_cache('cpu')")).status).toBe(400);
    expect((await send(arc.url, 'DELETE', '/api/v3/configure/last_cache?db=default&table=cpu&name=three')).status).toBe(404);
  });
});
