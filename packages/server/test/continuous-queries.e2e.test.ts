// Proves continuous queries in the real server over HTTP: a CQ over 24 h of TSBS cpu data, run
// window by window, gives exactly the rollup the same SQL gives by hand (read back by SQL from
// the destination measurement) and running its windows again duplicates nothing; the endpoints
// answer 400/404/409 with codes naming what is wrong; and after a stop the scheduler catches up
// every window missed while the server was down, in order, with none skipped or run twice; and
// InfluxQL's CREATE / SHOW / DROP CONTINUOUS QUERY on /query answer as InfluxDB 1.6.7 and make a
// CQ whose rollup equals InfluxQL's own GROUP BY time() answer; a window_offset moves the
// windows (their rows read back), RESAMPLE FOR makes the scheduler recompute an earlier window
// after late rows with no lateness allowance, a destination in another database is queryable
// there, and retention_days / delete_source_after_days remove rows at their cut-offs but never
// source rows a later run still reads, nor those before the range the query rolled up (its
// rolled_up_from, answered by the API).
import { expectCleanStop } from './support/clean-stop.js';
import { afterAll, describe, expect, it } from 'vitest';
import { TsbsCpu, encodeColumnar } from '../../../bench/ingest/tsbs.mjs';
import { waitUntil } from '../../../test/support/poll-until.js';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import { send } from './support/token-helpers.js';

const DAY_START = '2016-01-01T00:00:00Z';
const DAY_END = '2016-01-02T00:00:00Z';
const HOSTS = 4;
/** 24 h of 10 s instants. */
const INSTANTS = 24 * 360;
const ROLLUP =
  "SELECT time_bucket(INTERVAL '1 hour', time) AS time, hostname, avg(usage_user) AS usage_user, max(usage_system) AS usage_system_max, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL";
const BY_HAND = `SELECT time_bucket(INTERVAL '1 hour', time) AS time, hostname, avg(usage_user) AS usage_user, max(usage_system) AS usage_system_max, count(*) AS n FROM cpu WHERE time >= '${DAY_START}' AND time < '${DAY_END}' GROUP BY ALL ORDER BY time, hostname`;
const FROM_DESTINATION = 'SELECT time, hostname, usage_user, usage_system_max, n FROM cpu_1h ORDER BY time, hostname';

const started: ArcProcess[] = [];
afterAll(async () => {
  for (const arc of started.splice(0)) {
    await arc.stop();
    await arc.cleanup();
  }
});

async function start(env: Record<string, string> = {}, dataDir?: string): Promise<{ arc: ArcProcess; client: ArcClient }> {
  const arc = await startArc({ ARC_CONTINUOUS_QUERIES_LATENESS_SECONDS: '0', ...env }, dataDir);
  started.push(arc);
  return { arc, client: new ArcClient(arc.url) };
}

async function writeTsbsDay(client: ArcClient): Promise<void> {
  const generator = new TsbsCpu({ hosts: HOSTS });
  for (let written = 0; written < INSTANTS * HOSTS; written += 4000) {
    const answer = await client.write(encodeColumnar(generator.next(Math.min(4000, INSTANTS * HOSTS - written)), generator.tags), { database: 'tsbs' });
    expect(answer.status, answer.text).toBe(204);
  }
  expect((await client.flush()).status).toBe(200);
}

describe('continuous queries in the server', () => {
  it('rolls up 24 h of TSBS data exactly as the SQL by hand, and again without duplicates', async () => {
    const { arc, client } = await start();
    await writeTsbsDay(client);
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', { body: { name: 'cpu_1h', database: 'tsbs', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: ROLLUP, interval: '1h' } });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: number };
    const byHand = await client.rows(BY_HAND, 'tsbs');
    expect(byHand).toHaveLength(24 * HOSTS);
    for (let run = 0; run < 2; run++) {
      const executed = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: { start_time: DAY_START, end_time: DAY_END } });
      expect(executed.status, executed.text).toBe(200);
      expect(executed.json()).toMatchObject({ status: 'completed', windows: 24, records_read: INSTANTS * HOSTS, records_written: 24 * HOSTS });
      expect(await client.rows(FROM_DESTINATION, 'tsbs')).toEqual(byHand);
    }
    const executions = await send(arc.url, 'GET', `/api/v1/continuous_queries/${String(id)}/executions?limit=1000`);
    expect((executions.json() as { executions: unknown[] }).executions).toHaveLength(48);
    // A dry run reports the window and changes nothing.
    const dry = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: { start_time: DAY_START, end_time: '2016-01-01T01:00:00Z', dry_run: true } });
    expect(dry.json()).toMatchObject({ status: 'dry_run', windows: 1, records_written: HOSTS, executed_query: expect.stringContaining("time >= '2016-01-01T00:00:00Z' AND time < '2016-01-01T01:00:00Z'") as unknown });
    expect(await client.rows(FROM_DESTINATION, 'tsbs')).toEqual(byHand);
  });

  it('answers bad requests with the field or the id named', async () => {
    const { arc } = await start();
    const body = { name: 'x', database: 'db', source_measurement: 'cpu', destination_measurement: 'cpu_x', query: 'SELECT time FROM cpu WHERE time >= {start_time} AND time < {end_time}', interval: '1m' };
    expect((await send(arc.url, 'POST', '/api/v1/continuous_queries', { body })).status).toBe(201);
    const cases: [string, string, unknown, number, string][] = [
      ['POST', '/api/v1/continuous_queries', body, 409, 'ARC_CQ_NAME_TAKEN'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', query: 'SELECT * FROM mem WHERE time >= {start_time} AND time < {end_time}' }, 400, 'ARC_CQ_BAD_QUERY'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', interval: 'soon' }, 400, 'ARC_CQ_BAD_DEFINITION'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', interval: 5 }, 400, 'ARC_BAD_REQUEST_BODY'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', extra: 1 }, 400, 'ARC_BAD_REQUEST_BODY'],
      ['GET', '/api/v1/continuous_queries/999', undefined, 404, 'ARC_CQ_NOT_FOUND'],
      ['GET', '/api/v1/continuous_queries/abc', undefined, 400, 'ARC_CQ_BAD_ID'],
      ['PUT', '/api/v1/continuous_queries/999', body, 404, 'ARC_CQ_NOT_FOUND'],
      ['DELETE', '/api/v1/continuous_queries/999', undefined, 404, 'ARC_CQ_NOT_FOUND'],
      ['POST', '/api/v1/continuous_queries/1/execute', { start_time: DAY_END, end_time: DAY_START }, 400, 'ARC_CQ_BAD_WINDOW'],
      ['POST', '/api/v1/continuous_queries/1/execute', { start_time: 'yesterday' }, 400, 'ARC_CQ_BAD_WINDOW'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', window_offset: '1m' }, 400, 'ARC_CQ_BAD_DEFINITION'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', resample_for: '30s' }, 400, 'ARC_CQ_BAD_DEFINITION'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', resample_every: 60 }, 400, 'ARC_BAD_REQUEST_BODY'],
      ['POST', '/api/v1/continuous_queries', { ...body, name: 'y', destination_database: 'a/b' }, 400, 'ARC_CQ_BAD_DEFINITION'],
    ];
    for (const [method, path, requestBody, status, code] of cases) {
      const answer = await send(arc.url, method, path, requestBody === undefined ? {} : { body: requestBody });
      expect([method, path, answer.status, (answer.json() as { code: string }).code]).toEqual([method, path, status, code]);
    }
    const updated = await send(arc.url, 'PUT', '/api/v1/continuous_queries/1', { body: { ...body, is_active: false } });
    expect(updated.json()).toMatchObject({ id: 1, is_active: false });
    const inactive = await send(arc.url, 'POST', '/api/v1/continuous_queries/1/execute', { body: {} });
    expect([inactive.status, (inactive.json() as { code: string }).code]).toEqual([409, 'ARC_CQ_INACTIVE']);
    expect((await send(arc.url, 'GET', '/api/v1/continuous_queries?is_active=false')).json()).toHaveLength(1);
    expect((await send(arc.url, 'DELETE', '/api/v1/continuous_queries/1')).status).toBe(200);
    expect((await send(arc.url, 'GET', '/api/v1/continuous_queries')).json()).toEqual([]);
  });

  it('catches up the windows missed while the server was down, in order', async () => {
    const first = await start();
    const created = await send(first.arc.url, 'POST', '/api/v1/continuous_queries', {
      body: { name: 'live', database: 'live', source_measurement: 'm', destination_measurement: 'm_2s', query: 'SELECT time_bucket(INTERVAL 2 SECOND, time) AS time, count(*) AS n FROM m WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL', interval: '2s' },
    });
    const { id } = created.json() as { id: number };
    const writeNow = async (client: ArcClient): Promise<void> => {
      expect((await client.write(msgpack({ m: 'm', columns: { time: [Date.now()], v: [1] } }), { database: 'live' })).status).toBe(204);
      expect((await client.flush()).status).toBe(200);
    };
    await writeNow(first.client);
    const runs = async (url: string): Promise<{ start_time: string; end_time: string; trigger: string }[]> => ((await send(url, 'GET', `/api/v1/continuous_queries/${String(id)}/executions?limit=1000`)).json() as { executions: { start_time: string; end_time: string; trigger: string }[] }).executions.reverse();
    await waitUntil('a scheduled window ran', 20_000, async () => (await runs(first.arc.url)).length >= 1);
    await expectCleanStop(first.arc);
    const stoppedAtMs = Date.now();
    // Down for at least three windows.
    await waitUntil('three windows passed', 20_000, () => Promise.resolve(Date.now() >= stoppedAtMs + 6500));
    const second = await start({}, first.arc.dataDir);
    const restartedAtMs = Date.now();
    await writeNow(second.client);
    await waitUntil('the missed windows and the next ran', 30_000, async () => (await runs(second.arc.url)).some((run) => Date.parse(run.end_time) > restartedAtMs));
    const scheduled = (await runs(second.arc.url)).filter((run) => run.trigger === 'schedule');
    for (const [index, run] of scheduled.entries()) {
      if (index > 0) expect(run.start_time).toBe(scheduled[index - 1]?.end_time);
    }
    expect(scheduled.filter((run) => Date.parse(run.start_time) >= stoppedAtMs && Date.parse(run.end_time) <= restartedAtMs).length).toBeGreaterThanOrEqual(3);
  });

  it('maps InfluxQL CREATE / SHOW / DROP CONTINUOUS QUERY onto the same machinery', async () => {
    const { arc, client } = await start();
    const influxql = async (q: string, db = 'db1'): Promise<{ status: number; body: unknown }> => {
      const response = await fetch(`${arc.url}/query?db=${db}`, { method: 'POST', headers: { ...client.authHeaders(), 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ q }).toString() });
      const body: unknown = await response.json();
      return { status: response.status, body };
    };
    const times = Array.from({ length: 120 }, (_, index) => Date.UTC(2026, 0, 1) + index * 1000);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: times, host: times.map((_, index) => (index % 2 === 0 ? 'a' : 'b')), value: times.map((_, index) => index) } }), { database: 'db1' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const create = 'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_1m FROM cpu GROUP BY time(1m), host END';
    expect(await influxql(create)).toEqual({ status: 200, body: { results: [{ statement_id: 0 }] } });
    expect(await influxql(create)).toEqual({ status: 200, body: { results: [{ statement_id: 0 }] } });
    expect(await influxql('CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO cpu_5m FROM cpu GROUP BY time(5m) END')).toEqual({ status: 200, body: { results: [{ statement_id: 0, error: 'continuous query already exists' }] } });
    expect(await influxql('CREATE CONTINUOUS QUERY r_notime ON db1 BEGIN SELECT mean(value) INTO x FROM cpu END')).toMatchObject({ status: 400, body: { error: 'error parsing query: found cpu, expected GROUP BY time(...) at line 1, char 78' } });
    expect(await influxql('SHOW CONTINUOUS QUERIES')).toEqual({
      status: 200,
      body: { results: [{ statement_id: 0, series: [{ name: 'db1', columns: ['name', 'query'], values: [['cq_basic', 'CREATE CONTINUOUS QUERY cq_basic ON db1 BEGIN SELECT mean(value) INTO db1.autogen.cpu_1m FROM db1.autogen.cpu GROUP BY time(1m), host END']] }] }] },
    });
    // The CQ is an ordinary one: run its windows and compare with InfluxQL's own answer.
    const [cq] = (await send(arc.url, 'GET', '/api/v1/continuous_queries?database=db1')).json() as { id: number; name: string }[];
    expect(cq?.name).toBe('db1.cq_basic');
    const executed = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(cq?.id)}/execute`, { body: { start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T00:02:00Z' } });
    expect(executed.json()).toMatchObject({ status: 'completed', windows: 2, records_written: 4 });
    const rollup = await influxql('SELECT mean FROM cpu_1m GROUP BY host');
    const direct = await influxql("SELECT mean(value) FROM cpu WHERE time >= '2026-01-01T00:00:00Z' AND time < '2026-01-01T00:02:00Z' GROUP BY time(1m), host");
    const valuesOf = (body: unknown): unknown => (body as { results: { series: { tags: unknown; values: unknown }[] }[] }).results[0]?.series.map((series) => [series.tags, series.values]);
    expect(valuesOf(rollup.body)).toEqual(valuesOf(direct.body));
    expect(await influxql('DROP CONTINUOUS QUERY cq_basic ON db1')).toEqual({ status: 200, body: { results: [{ statement_id: 0 }] } });
    expect(await influxql('DROP CONTINUOUS QUERY nosuch ON db1')).toEqual({ status: 200, body: { results: [{ statement_id: 0 }] } });
    expect((await send(arc.url, 'GET', '/api/v1/continuous_queries')).json()).toEqual([]);
  });

  it('moves its windows by window_offset', async () => {
    const { arc, client } = await start();
    const times = Array.from({ length: 120 }, (_, index) => Date.UTC(2026, 0, 1) + index * 60_000);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: times, value: times.map(() => 1) } }), { database: 'off' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const body = { name: 'off', database: 'off', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: 'SELECT min(time) AS time, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time}', interval: '1h', window_offset: '15m' };
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', { body });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: number };
    expect(created.json()).toMatchObject({ window_offset: '15m', resample_every: null, resample_for: null, destination_database: null });
    const executed = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: { start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T02:00:00Z' } });
    expect(executed.json()).toMatchObject({ status: 'completed', windows: 3, start_time: '2025-12-31T23:15:00.000Z', end_time: '2026-01-01T02:15:00.000Z' });
    // Windows [23:15, 00:15), [00:15, 01:15), [01:15, 02:15): 15, 60 and 45 of the minutes.
    expect(await client.rows('SELECT epoch_ms(time) AS t, n FROM cpu_1h ORDER BY t', 'off')).toEqual([[Date.UTC(2026, 0, 1), 15], [Date.UTC(2026, 0, 1, 0, 15), 60], [Date.UTC(2026, 0, 1, 1, 15), 45]]);
    const updated = await send(arc.url, 'PUT', `/api/v1/continuous_queries/${String(id)}`, { body: { ...body, resample_every: '30m', resample_for: '2h' } });
    expect(updated.json()).toMatchObject({ window_offset: '15m', resample_every: '30m', resample_for: '2h' });
    expect((await send(arc.url, 'GET', `/api/v1/continuous_queries/${String(id)}`)).json()).toMatchObject({ resample_every: '30m', resample_for: '2h' });
  });

  it('recomputes an earlier window after late rows with RESAMPLE FOR, with no lateness allowance', async () => {
    // ARC_CONTINUOUS_QUERIES_LATENESS_SECONDS is 0 (start()): only the FOR span re-runs a closed window.
    const { arc, client } = await start();
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', {
      body: { name: 'back', database: 'back', source_measurement: 'm', destination_measurement: 'm_2s', query: 'SELECT time_bucket(INTERVAL 2 SECOND, time) AS time, count(*) AS n FROM m WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL', interval: '2s', resample_for: '30s' },
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: number };
    const windowStartMs = Math.floor(Date.now() / 2000) * 2000;
    const write = async (timeMs: number): Promise<void> => {
      expect((await client.write(msgpack({ m: 'm', columns: { time: [timeMs], v: [1] } }), { database: 'back' })).status).toBe(204);
      expect((await client.flush()).status).toBe(200);
    };
    const countOfWindow = async (): Promise<unknown> => (await client.rows(`SELECT n FROM m_2s WHERE epoch_ms(time) = ${String(windowStartMs)}`, 'back').catch(() => []))[0]?.[0] ?? 0;
    await write(windowStartMs + 100);
    // The scheduler's runs are timed by the clock: poll until the window's first run wrote it.
    await waitUntil('the window ran with its first row', 20_000, async () => (await countOfWindow()) === 1);
    // A row of the closed window, late: the runs of the next 30 s recompute the window.
    await write(windowStartMs + 200);
    await waitUntil('a later run recomputed the window', 30_000, async () => (await countOfWindow()) === 2);
    // A window's run is recorded once its replacement returned, which (on an object store) is after
    // its new rows are readable: wait for the record of the run that recomputed the window.
    const runsOfWindow = async (): Promise<{ start_time: string; trigger: string }[]> =>
      ((await send(arc.url, 'GET', `/api/v1/continuous_queries/${String(id)}/executions?limit=1000`)).json() as { executions: { start_time: string; trigger: string }[] }).executions.filter((run) => Date.parse(run.start_time) === windowStartMs);
    await waitUntil('the recomputing run is recorded', 30_000, async () => (await runsOfWindow()).length >= 2);
    const ofWindow = await runsOfWindow();
    expect(ofWindow.every((run) => run.trigger === 'schedule')).toBe(true);
  });

  it('writes to a destination database, queryable there under the source measurement\'s name, replacing the window\'s buffered rows there', async () => {
    const { arc, client } = await start();
    const times = Array.from({ length: 60 }, (_, index) => Date.UTC(2026, 0, 1) + index * 1000);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: times, value: times.map((_, index) => index) } }), { database: 'raw' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', {
      body: { name: 'xdb', database: 'raw', source_measurement: 'cpu', destination_database: 'rollups', destination_measurement: 'cpu', query: 'SELECT min(time) AS time, sum(value) AS total FROM cpu WHERE time >= {start_time} AND time < {end_time}', interval: '1m' },
    });
    expect(created.status, created.text).toBe(201);
    const { id } = created.json() as { id: number; destination_database: string };
    expect(created.json()).toMatchObject({ database: 'raw', destination_database: 'rollups' });
    // Rows written straight into the destination, still buffered: one inside the window (the window replaces it), one after it (kept).
    const direct = [Date.UTC(2026, 0, 1, 0, 0, 30), Date.UTC(2026, 0, 1, 0, 5)];
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: direct, total: [-1, -2] } }), { database: 'rollups' })).status).toBe(204);
    const stats = await client.get('/write/stats', client.authHeaders());
    expect((stats.json() as { buffers: { rows_buffered: number } }).buffers.rows_buffered, stats.text).toBe(2);
    const executed = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: { start_time: '2026-01-01T00:00:00Z', end_time: '2026-01-01T00:01:00Z' } });
    expect(executed.json()).toMatchObject({ status: 'completed', windows: 1, records_written: 1, executions: [{ records_removed: 1 }] });
    expect((await client.flush()).status).toBe(200);
    expect(await client.rows('SELECT epoch_ms(time) AS t, total FROM cpu ORDER BY t', 'rollups')).toEqual([[Date.UTC(2026, 0, 1), 1770], [direct[1], -2]]);
    expect(await client.rows('SELECT count(*) AS n FROM cpu', 'raw')).toEqual([[60]]);
  });

  it('removes destination rows past retention_days and source rows past delete_source_after_days that no run needs', async () => {
    const { arc, client } = await start();
    const DAY_MS = 86_400_000;
    const HOUR_MS = 3_600_000;
    // Today's UTC midnight: the daily windows' last processed run (a test run across midnight would see another day).
    const midnightMs = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const hours = Array.from({ length: 5 * 24 }, (_, index) => midnightMs - 5 * DAY_MS + index * HOUR_MS);
    // A row a day before the range executed: never rolled up, so never removed.
    const NEVER_ROLLED_UP = midnightMs - 6 * DAY_MS;
    const sourceTimes = [NEVER_ROLLED_UP, ...hours, midnightMs - 2 * DAY_MS - 1].sort((a, b) => a - b);
    expect((await client.write(msgpack({ m: 'cpu', columns: { time: sourceTimes, v: sourceTimes.map(() => 1) } }), { database: 'ret' })).status).toBe(204);
    expect((await client.flush()).status).toBe(200);
    const body = { name: 'ret', database: 'ret', source_measurement: 'cpu', destination_measurement: 'cpu_1h', query: 'SELECT time_bucket(INTERVAL 1 HOUR, time) AS time, count(*) AS n FROM cpu WHERE time >= {start_time} AND time < {end_time} GROUP BY ALL', interval: '1d', resample_for: '3d' };
    const created = await send(arc.url, 'POST', '/api/v1/continuous_queries', { body });
    const { id } = created.json() as { id: number };
    const backfill = await send(arc.url, 'POST', `/api/v1/continuous_queries/${String(id)}/execute`, { body: { start_time: new Date(midnightMs - 5 * DAY_MS).toISOString(), end_time: new Date(midnightMs).toISOString() } });
    expect(backfill.json()).toMatchObject({ status: 'completed', windows: 5 });
    // The backfill reaches the window the first scheduled run computes: the span rolled up starts at its start.
    expect((await send(arc.url, 'GET', `/api/v1/continuous_queries/${String(id)}`)).json()).toMatchObject({ rolled_up_from: new Date(midnightMs - 5 * DAY_MS).toISOString() });
    const destinationTimes = async (): Promise<number[]> => (await client.rows('SELECT epoch_ms(time) FROM cpu_1h ORDER BY 1', 'ret')).map((row) => Number(row[0]));
    const sourceLeft = async (): Promise<number[]> => (await client.rows('SELECT epoch_ms(time) FROM cpu ORDER BY 1', 'ret')).map((row) => Number(row[0]));
    expect(await destinationTimes()).toEqual(hours);
    const beforeMs = Date.now();
    expect((await send(arc.url, 'PUT', `/api/v1/continuous_queries/${String(id)}`, { body: { ...body, retention_days: 2, delete_source_after_days: 1 } })).status).toBe(200);
    // The scheduler applies them at its next pass (a timer), the destination's first, file by
    // file: poll until the source's oldest row is the cut-off's.
    await waitUntil('the source rows went', 30_000, async () => ((await sourceLeft())[1] ?? 0) >= midnightMs - 2 * DAY_MS);
    const afterMs = Date.now();
    // Source: the next run recomputes the windows of the last 3 days (from midnight - 2 d), so
    // rows older than a day but in them stay; the row a millisecond before goes.
    expect(await sourceLeft()).toEqual(sourceTimes.filter((timeMs) => timeMs === NEVER_ROLLED_UP || timeMs >= midnightMs - 2 * DAY_MS));
    // Destination: rows before now - 2 days go (now: when the pass ran, between the two clocks).
    const left = await destinationTimes();
    expect(left[0]).toBeGreaterThanOrEqual(beforeMs - 2 * DAY_MS);
    expect(left[0]).toBeLessThan(afterMs - 2 * DAY_MS + HOUR_MS);
    expect(left).toEqual(hours.filter((timeMs) => timeMs >= (left[0] ?? 0)));
  });
});
