// Proves Telegraf's three outputs work against the built server by sending exactly the requests
// their sources build (outputs.arc: gzip MessagePack columnar with x-api-key and x-arc-database;
// outputs.influxdb: CREATE DATABASE through a /query form, then gzip line protocol to /write with
// Basic auth; outputs.influxdb_v2: gzip line protocol to /api/v2/write with `Authorization: Token`)
// and checking what Telegraf reads back (status, error body) and the rows Arc stored.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { typedMsgpack, type TypedValue } from './support/typed-msgpack.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

/** Telegraf's `internal.ProductToken()`: every output sends it as User-Agent. */
const TELEGRAF_USER_AGENT = 'Telegraf/1.37.0 Go/1.24.4';
const T0_MS = 1_700_000_000_000; // 2023-11-14T22:13:20Z

async function send(path: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${shared.arc.url}${path}`, { method: 'POST', headers: { 'User-Agent': TELEGRAF_USER_AGENT, ...headers }, body });
  return { status: response.status, text: await response.text() };
}

describe('Telegraf outputs.arc', () => {
  it('stores a gzip MessagePack columnar batch of two measurements sent with x-api-key and x-arc-database', async () => {
    // groups.go: one {m, columns} per measurement (an array when there are several), fields then
    // tags as columns, nil where a metric lacks a column, and `time` in Unix milliseconds.
    const batch: TypedValue = [
      {
        m: 'cpu',
        columns: {
          usage_idle: [{ float: 95 }, { float: 87.5 }],
          usage_user: [{ float: 3 }, null],
          cpu: ['cpu-total', 'cpu0'],
          host: ['web01', 'web01'],
          time: [T0_MS, T0_MS + 10_000],
        },
      },
      { m: 'mem', columns: { used: [1_073_741_824], available_percent: [{ float: 42.5 }], host: ['web01'], time: [T0_MS] } },
    ];
    const answer = await send('/api/v1/write/msgpack', gzipSync(typedMsgpack(batch)), {
      'Content-Type': 'application/msgpack',
      'Content-Encoding': 'gzip',
      'x-api-key': TEST_TOKEN,
      'x-arc-database': 'telegraf_arc',
    });
    // arc.go accepts any 2xx and reports anything else with its body.
    expect(answer.status, answer.text).toBe(204);
    await flushUntil(shared.client, 'telegraf_arc', 'cpu', 2);
    await flushUntil(shared.client, 'telegraf_arc', 'mem', 1);

    expect(await shared.client.rows('SELECT time, host, cpu, usage_idle, usage_user FROM cpu ORDER BY time', 'telegraf_arc')).toEqual([
      ['2023-11-14T22:13:20Z', 'web01', 'cpu-total', 95, 3],
      ['2023-11-14T22:13:30Z', 'web01', 'cpu0', 87.5, null],
    ]);
    expect(await shared.client.rows('SELECT DISTINCT typeof(usage_idle), typeof(usage_user) FROM cpu', 'telegraf_arc')).toEqual([['DOUBLE', 'DOUBLE']]);
    expect(await shared.client.rows('SELECT host, used, typeof(used), available_percent FROM mem', 'telegraf_arc')).toEqual([['web01', 1_073_741_824, 'BIGINT', 42.5]]);
  });

  it('refuses a write without a key with 401 and a JSON error Telegraf logs', async () => {
    const body = gzipSync(typedMsgpack({ m: 'cpu', columns: { usage_idle: [{ float: 1.5 }], time: [T0_MS] } }));
    const answer = await send('/api/v1/write/msgpack', body, { 'Content-Type': 'application/msgpack', 'Content-Encoding': 'gzip', 'x-arc-database': 'telegraf_arc' });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ error: expect.any(String) as unknown });
  });
});

describe('Telegraf outputs.influxdb (InfluxDB 1.x)', () => {
  const basic = `Basic ${Buffer.from(`telegraf:${TEST_TOKEN}`).toString('base64')}`;

  it('answers CREATE DATABASE "telegraf" at connect with 200 and no error, then stores gzip line protocol from /write?db=', async () => {
    // http.go CreateDatabase: POST /query, form body q=CREATE DATABASE "<db>"; success is 200
    // whose JSON has no results[0].error.
    const create = await send('/query', new URLSearchParams({ q: 'CREATE DATABASE "telegraf_v1"' }).toString(), {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: basic,
    });
    expect(create.status, create.text).toBe(200);
    const created = JSON.parse(create.text) as { results: { error?: string }[] };
    expect(created.results[0]?.error).toBeUndefined();

    // writeBatch: POST /write?db=<db> (no precision: nanoseconds), text/plain, gzip; 204 is success.
    const lines = [
      `cpu,cpu=cpu-total,host=web01 usage_idle=95,usage_user=3.25 ${String(T0_MS)}000000`,
      `cpu,cpu=cpu0,host=web01 usage_idle=87.5,usage_user=7 ${String(T0_MS + 10_000)}000000`,
      `system,host=web01 load1=0.5,n_cpus=4i,uptime=86400i,uptime_format="1 day,  0:00" ${String(T0_MS)}000000`,
      '',
    ].join('\n');
    const write = await send('/write?db=telegraf_v1', gzipSync(lines), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: basic,
    });
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, 'telegraf_v1', 'cpu', 2);
    await flushUntil(shared.client, 'telegraf_v1', 'system', 1);
    expect(await shared.client.rows('SELECT time, cpu, usage_idle, usage_user FROM cpu ORDER BY time', 'telegraf_v1')).toEqual([
      ['2023-11-14T22:13:20Z', 'cpu-total', 95, 3.25],
      ['2023-11-14T22:13:30Z', 'cpu0', 87.5, 7],
    ]);
    expect(await shared.client.rows('SELECT load1, n_cpus, typeof(n_cpus), uptime_format FROM system', 'telegraf_v1')).toEqual([[0.5, 4, 'BIGINT', '1 day,  0:00']]);
  });

  it('accepts the rp and consistency parameters Telegraf adds when retention_policy or write_consistency is set', async () => {
    const write = await send('/write?consistency=any&db=telegraf_v1&rp=autogen', gzipSync(`swap,host=web01 used_percent=1.5 ${String(T0_MS)}000000\n`), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: basic,
    });
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, 'telegraf_v1', 'swap', 1);
  });

  it('answers a bad line with 400 and {"error": "unable to parse ..."}, which Telegraf drops instead of retrying', async () => {
    const write = await send('/write?db=telegraf_v1', gzipSync('cpu,host=web01 usage_idle= 1\n'), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: basic,
    });
    expect(write.status).toBe(400);
    expect((JSON.parse(write.text) as { error: string }).error).toMatch(/^unable to parse 'cpu,host=web01 usage_idle= 1': /);
  });
});

describe('Telegraf outputs.influxdb_v2', () => {
  it('stores gzip line protocol from /api/v2/write?bucket=&org= with Authorization: Token, unsigned fields included', async () => {
    // http.go makeWriteURL: bucket and org only (no precision: nanoseconds); the v2 serializer
    // writes unsigned integers with the `u` suffix.
    const lines = [
      `disk,device=sda1,host=web01,path=/ free=1024u,used_percent=42.5,inodes_total=18446744073709551615u ${String(T0_MS)}000000`,
      `disk,device=sdb1,host=web01,path=/data free=2048u,used_percent=7.25,inodes_total=0u ${String(T0_MS)}000000`,
      '',
    ].join('\n');
    const write = await send('/api/v2/write?bucket=telegraf_v2&org=my-org', gzipSync(lines), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: `Token ${TEST_TOKEN}`,
    });
    expect(write.status, write.text).toBe(204);
    await flushUntil(shared.client, 'telegraf_v2', 'disk', 2);
    expect(await shared.client.rows('SELECT path, free::VARCHAR, inodes_total::VARCHAR, used_percent FROM disk ORDER BY path', 'telegraf_v2')).toEqual([
      ['/', '1024', '18446744073709551615', 42.5],
      ['/data', '2048', '0', 7.25],
    ]);
    expect(await shared.client.rows('SELECT DISTINCT typeof(free), typeof(inodes_total) FROM disk', 'telegraf_v2')).toEqual([['UBIGINT', 'UBIGINT']]);
  });

  it('refuses a wrong token with 401, which Telegraf reports as an error and retries', async () => {
    const write = await send('/api/v2/write?bucket=telegraf_v2&org=my-org', gzipSync('disk free=1u\n'), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: 'Token not-a-token',
    });
    expect(write.status).toBe(401);
    // The one 401 body of every route (README, Authentication); Telegraf decides by the status.
    expect(JSON.parse(write.text)).toEqual({ error: 'Invalid or expired token' });
  });

  it('answers a bad line with a message Telegraf logs, as InfluxDB 2.x does ({code, message})', async () => {
    const write = await send('/api/v2/write?bucket=telegraf_v2&org=my-org', gzipSync('disk free=\n'), {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Encoding': 'gzip',
      Authorization: `Token ${TEST_TOKEN}`,
    });
    expect(write.status).toBe(400);
    const body = JSON.parse(write.text) as { error: string; message: string; code: string };
    expect(body.message).toMatch(/^unable to parse 'disk free=': /);
    expect(body.message).toBe(body.error);
    expect(body.code).toMatch(/^ARC_/);
  });
});
