// Proves the write calls of Arc's Python SDK (`arc-tsdb-client`, ingestion/writer.py) against the
// built server by sending what they send: write_columnar and write_records as gzip MessagePack
// (Python's floats as 64-bit floats, times in microseconds) to /api/v1/write/msgpack, and
// write_line_protocol / write_point as gzip text to /api/v1/write/line-protocol (nanoseconds, no
// precision parameter), each with `Authorization: Bearer` and `x-arc-database`; the rows are read
// back, and a refused write answers the JSON error the SDK puts in ArcIngestionError.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { flushUntil } from './support/flush-until.js';
import { useSharedArc } from './support/shared-arc.js';
import { typedMsgpack } from './support/typed-msgpack.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const DATABASE = 'sdk_writes';
const T0_US = 1_700_000_000_000_000; // 2023-11-14T22:13:20Z

/** http/base.py build_headers plus writer.py's per-call headers (compression on, the SDK's default). */
async function sdkPost(path: string, body: Buffer, contentType: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${shared.arc.url}${path}`, {
    method: 'POST',
    headers: {
      'User-Agent': 'arc-client-python/0.1.0',
      Authorization: `Bearer ${TEST_TOKEN}`,
      'x-arc-database': DATABASE,
      'Content-Type': contentType,
      'Content-Encoding': 'gzip',
    },
    body: gzipSync(body),
  });
  return { status: response.status, text: await response.text() };
}

describe("Arc's Python SDK writes", () => {
  it('write_columnar: {m, columns} with microsecond times, floats stay DOUBLE even when whole', async () => {
    const body = typedMsgpack({ m: 'cpu', columns: { time: [T0_US, T0_US + 1_000_000], host: ['server01', 'server02'], usage: [{ float: 45 }, { float: 47.8 }], cores: [8, 16] } });
    const answer = await sdkPost('/api/v1/write/msgpack', body, 'application/msgpack');
    expect(answer.status, answer.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'cpu', 2);
    expect(await shared.client.rows('SELECT time, host, usage, cores, typeof(usage), typeof(cores) FROM cpu ORDER BY time', DATABASE)).toEqual([
      ['2023-11-14T22:13:20Z', 'server01', 45, 8, 'DOUBLE', 'BIGINT'],
      ['2023-11-14T22:13:21Z', 'server02', 47.8, 16, 'DOUBLE', 'BIGINT'],
    ]);
  });

  it('write_records: a top-level array of {m, t, fields, tags} rows with microsecond times', async () => {
    const body = typedMsgpack([
      { m: 'mem', t: T0_US, fields: { used: { float: 1024.5 }, free: 512 }, tags: { host: 'server01' } },
      { m: 'mem', t: T0_US + 500_000, fields: { used: { float: 2048 }, free: 256 }, tags: { host: 'server01' } },
    ]);
    const answer = await sdkPost('/api/v1/write/msgpack', body, 'application/msgpack');
    expect(answer.status, answer.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'mem', 2);
    expect(await shared.client.rows('SELECT time, host, used, free FROM mem ORDER BY time', DATABASE)).toEqual([
      ['2023-11-14T22:13:20Z', 'server01', 1024.5, 512],
      ['2023-11-14T22:13:20.500000Z', 'server01', 2048, 256],
    ]);
  });

  it('write_line_protocol and write_point: text/plain to /api/v1/write/line-protocol, database from x-arc-database', async () => {
    // line_protocol.py format_line_protocol: tags sorted, ints with `i`, Python's str(float), the
    // microsecond time times 1000.
    const lines = [
      `disk,host=server01,path=/ used=45.0,inodes=1200i,ro=false,label="root \\"fs\\"" ${String(T0_US)}000`,
      `disk,host=server01,path=/data used=12.5,inodes=80i,ro=true,label="data" ${String(T0_US + 2_000_000)}000`,
    ].join('\n');
    const answer = await sdkPost('/api/v1/write/line-protocol', Buffer.from(lines), 'text/plain');
    expect(answer.status, answer.text).toBe(204);
    await flushUntil(shared.client, DATABASE, 'disk', 2);
    expect(await shared.client.rows('SELECT time, path, used, inodes, ro, label FROM disk ORDER BY time', DATABASE)).toEqual([
      ['2023-11-14T22:13:20Z', '/', 45, 1200, false, 'root "fs"'],
      ['2023-11-14T22:13:22Z', '/data', 12.5, 80, true, 'data'],
    ]);
  });

  it('answers a refused write with a status other than 200/204 and a JSON error (ArcIngestionError)', async () => {
    const answer = await sdkPost('/api/v1/write/msgpack', typedMsgpack({ m: 'cpu', columns: { time: [T0_US, T0_US], usage: [{ float: 1 }] } }), 'application/msgpack');
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toMatchObject({ error: expect.stringContaining('usage') as unknown, code: expect.stringMatching(/^ARC_/) as unknown });
  });
});
