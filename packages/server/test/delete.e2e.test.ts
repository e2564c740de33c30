// Proves POST /api/v1/delete on the built server: rows still buffered in the writers (and in the
// WAL) are deleted with the filed ones and never come back, neither after a stop (SIGTERM) and a
// restart nor after a kill -9 and a WAL replay; exactly the matching rows go, other measurements
// and databases are untouched; a cached answer does not outlive the delete; a dry run changes
// nothing; over the threshold confirm is needed; injection attempts are 400; and the `delete`
// permission is what it takes.
import { expectCleanStop } from './support/clean-stop.js';
import { describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { createToken, send } from './support/token-helpers.js';
import { useStartedArcs } from './support/started-arcs.js';

const WAL_ENV = { ARC_WAL_ENABLED: 'true', ARC_WRITER_FLUSH_AGE_MS: '600000', ARC_WRITER_FLUSH_ROWS: '1000000' };
const BASE_MS = Date.UTC(2025, 0, 10, 9);

const { start, started, crashAndRestart } = useStartedArcs();

/** `rows` rows of `m` for hosts a/b alternating, one second apart from `offsetS`. */
function batch(m: string, rows: number, offsetS: number): Uint8Array {
  const index = Array.from({ length: rows }, (_, row) => row);
  return msgpack({ m, columns: { time: index.map((row) => BASE_MS + (offsetS + row) * 1000), host: index.map((row) => (row % 2 === 0 ? 'a' : 'b')), v: index.map((row) => offsetS + row) }, tags: ['host'] });
}

async function write(client: ArcClient, body: Uint8Array, database = 'default'): Promise<void> {
  const answer = await client.write(body, { database });
  expect(answer.status, answer.text).toBe(204);
}

async function deleteRows(url: string, body: Record<string, unknown>, token?: string) {
  return send(url, 'POST', '/api/v1/delete', { body, ...(token === undefined ? {} : { token }) });
}

async function hostCounts(client: ArcClient, measurement: string, database?: string): Promise<unknown[][]> {
  return client.rows(`SELECT host, count(*) FROM ${measurement} GROUP BY host ORDER BY host`, database);
}

/** Files per measurement of `database`, as the catalog lists them (GET /measurements). */
async function filesPerMeasurement(client: ArcClient, database: string): Promise<Record<string, number>> {
  const answer = await client.get(`/measurements?database=${database}`, client.authHeaders());
  expect(answer.status, answer.text).toBe(200);
  const { measurements } = answer.json() as { measurements: { measurement: string; file_count: number }[] };
  return Object.fromEntries(measurements.map((entry) => [entry.measurement, entry.file_count]));
}

/** The writers' counters (GET /write/stats). */
async function writerBuffers(client: ArcClient): Promise<Record<string, number>> {
  const answer = await client.get('/write/stats', client.authHeaders());
  expect(answer.status, answer.text).toBe(200);
  return (answer.json() as { buffers: Record<string, number> }).buffers;
}

/** The state after `host = 'a'` of cpu was deleted: cpu b only, the rest untouched (plus the late cpu rows). */
async function expectDeleted(client: ArcClient, lateRows: number): Promise<void> {
  expect(await hostCounts(client, 'cpu')).toEqual([['a', lateRows / 2], ['b', 50 + lateRows / 2]].filter(([, count]) => count !== 0));
  expect(await hostCounts(client, 'mem')).toEqual([['a', 10], ['b', 10]]);
  expect(await hostCounts(client, 'cpu', 'other')).toEqual([['a', 20], ['b', 20]]);
}

describe('POST /api/v1/delete', () => {
  it('deletes filed and buffered rows; they stay deleted after SIGTERM + restart and after kill -9 + WAL replay', async () => {
    let arc = await start(WAL_ENV);
    let client = new ArcClient(arc.url);
    // 60 rows filed (a flush), then 40 more only buffered and in the WAL.
    await write(client, batch('cpu', 60, 0));
    expect((await client.flush()).status).toBe(200);
    await write(client, batch('cpu', 40, 1000));
    await write(client, batch('mem', 20, 0));
    await write(client, batch('cpu', 40, 0), 'other');
    // A cached answer from before the delete (the filed rows only).
    expect(await hostCounts(client, 'cpu')).toEqual([['a', 30], ['b', 30]]);

    const dry = await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where: "host = 'a'", dry_run: true });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.json()).toMatchObject({ success: true, deleted_count: 50, dry_run: true, rewritten_files: 0 });
    expect((dry.json() as { affected_files: number }).affected_files).toBeGreaterThanOrEqual(2);
    expect(await hostCounts(client, 'cpu')).toEqual([['a', 50], ['b', 50]]);

    const done = await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where: "host = 'a'" });
    expect(done.status, done.text).toBe(200);
    expect(done.json()).toMatchObject({ success: true, deleted_count: 50, dry_run: false });
    // The delete flushed cpu alone: mem and other's cpu are filed by this flush.
    expect(await hostCounts(client, 'cpu')).toEqual([['b', 50]]);
    expect((await client.flush()).status).toBe(200);
    await expectDeleted(client, 0);

    // Rows written after the delete (buffered, in the WAL) are not deleted, and survive too.
    await write(client, batch('cpu', 10, 5000));
    await expectCleanStop(arc);
    started.splice(started.indexOf(arc), 1);
    arc = await start(WAL_ENV, arc.dataDir);
    client = new ArcClient(arc.url);
    await expectDeleted(client, 10);

    await write(client, batch('cpu', 10, 6000));
    arc = await crashAndRestart(arc, WAL_ENV);
    client = new ArcClient(arc.url);
    await expectDeleted(client, 20);
  });

  it('deletes rows only ever buffered, flushing that measurement alone, then kill -9: the WAL replay does not bring them back', async () => {
    let arc = await start(WAL_ENV);
    let client = new ArcClient(arc.url);
    await write(client, batch('cpu', 100, 0));
    await write(client, batch('mem', 20, 0));
    await write(client, batch('cpu', 40, 0), 'other');
    const done = await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where: "host = 'a'" });
    expect(done.json()).toMatchObject({ success: true, deleted_count: 50 });
    // Only cpu of default was flushed for the delete: mem and other's cpu are still buffered, with
    // no file of their own (the replay below files them, and expectDeleted reads them).
    expect(await filesPerMeasurement(client, 'default')).toEqual({ cpu: 1 });
    expect(await filesPerMeasurement(client, 'other')).toEqual({});
    expect(await writerBuffers(client)).toMatchObject({ rows_buffered: 60, files_written: 1 });
    arc = await crashAndRestart(arc, WAL_ENV);
    client = new ArcClient(arc.url);
    await expectDeleted(client, 0);
  });

  it('needs confirm over the threshold, a dry run is always answered, and time bounds delete exactly their rows', async () => {
    const arc = await start({ ARC_DELETE_CONFIRMATION_THRESHOLD: '5' });
    const client = new ArcClient(arc.url);
    await write(client, batch('cpu', 100, 0));
    const config = await send(arc.url, 'GET', '/api/v1/delete/config');
    expect(config.json()).toMatchObject({ confirmation_threshold: 5 });
    const where = `time >= '2025-01-10T09:00:10Z' AND time < '2025-01-10T09:00:20Z'`;
    const refused = await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where });
    expect(refused.status).toBe(400);
    expect(refused.json()).toMatchObject({ code: 'ARC_DELETE_CONFIRM_REQUIRED', error: 'Delete would affect 10 rows (threshold: 5). Set confirm=true to proceed.', rows: 10, confirmation_threshold: 5 });
    expect((await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where, dry_run: true })).json()).toMatchObject({ deleted_count: 10 });
    expect(await client.rows('SELECT count(*) FROM cpu')).toEqual([[100]]);
    expect((await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where, confirm: true })).json()).toMatchObject({ deleted_count: 10 });
    expect(await client.rows('SELECT count(*), min(v), max(v), count(*) FILTER (WHERE v BETWEEN 10 AND 19) FROM cpu')).toEqual([[90, 0, 99, 0]]);
  });

  it('refuses injection attempts (another table or database, a second statement, file readers, getenv) with 400 and deletes nothing', async () => {
    const arc = await start({});
    const client = new ArcClient(arc.url);
    await write(client, batch('cpu', 10, 0));
    await write(client, batch('mem', 10, 0));
    expect((await client.flush()).status).toBe(200);
    const attempts = [
      "host IN (SELECT host FROM mem)",
      "host IN (SELECT host FROM other.cpu)",
      "1=1; DROP TABLE cpu",
      "1=1) OR (1=1",
      "(SELECT count(*) FROM read_parquet('/etc/*.parquet')) > 0",
      "host = (SELECT 'a' FROM read_csv('/etc/passwd') LIMIT 1)",
      "getenv('HOME') IS NOT NULL",
      "EXISTS (SELECT 1)",
    ];
    for (const where of attempts) {
      const answer = await deleteRows(arc.url, { database: 'default', measurement: 'cpu', where, confirm: true });
      expect(answer.status, `${where}: ${answer.text}`).toBe(400);
      expect((answer.json() as { code: string }).code).toBe('ARC_DELETE_BAD_WHERE');
    }
    expect(await client.rows('SELECT count(*) FROM cpu')).toEqual([[10]]);
  });

  it('needs the delete permission on the database', async () => {
    const arc = await start({});
    const client = new ArcClient(arc.url);
    await write(client, batch('cpu', 10, 0));
    expect((await client.flush()).status).toBe(200);
    const readWrite = await createToken(arc.url, { name: 'rw', permissions: ['read', 'write'] });
    const deleter = await createToken(arc.url, { name: 'del', permissions: ['delete'], databases: ['default'] });
    const elsewhere = await createToken(arc.url, { name: 'del-other', permissions: ['delete'], databases: ['other'] });
    const body = { database: 'default', measurement: 'cpu', where: "host = 'a'" };
    expect((await deleteRows(arc.url, body, readWrite.token)).status).toBe(403);
    expect((await deleteRows(arc.url, body, elsewhere.token)).status).toBe(403);
    expect(await client.rows('SELECT count(*) FROM cpu')).toEqual([[10]]);
    const allowed = await deleteRows(arc.url, body, deleter.token);
    expect(allowed.status, allowed.text).toBe(200);
    expect(await client.rows('SELECT count(*) FROM cpu')).toEqual([[5]]);
    // InfluxQL DELETE on /query takes the same permission.
    const influxql = (token: string) => send(arc.url, 'POST', `/query?db=default&q=${encodeURIComponent("DELETE FROM cpu WHERE host = 'b'")}`, { token });
    expect((await influxql(readWrite.token)).status).toBe(403);
    expect((await influxql(elsewhere.token)).status).toBe(403);
    const deleted = await influxql(deleter.token);
    expect(deleted.json()).toEqual({ results: [{ statement_id: 0 }] });
    expect((await client.query('SELECT count(*) FROM cpu')).status).toBe(400);
    const bad = await deleteRows(arc.url, { database: 'default', measurement: 'cpu' });
    expect(bad.status).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'ARC_BAD_REQUEST_BODY', field: 'where' });
  });
});
