// Proves InfluxDB 2.x's POST /api/v2/delete on the built server: a predicate on tags and
// _measurement within [start, stop] (both inclusive) deletes exactly those points and answers 204
// with no body; what InfluxDB refuses (no org, no bucket, bad times, OR, regex operators) answers
// its status and message, and an unknown bucket 404; the delete permission is what it takes.
import { describe, expect, it } from 'vitest';
import { TEST_TOKEN } from './support/arc-process.js';
import { createToken } from './support/token-helpers.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc();
const LINES = [
  'cpu,host=a,region=eu value=1 1000000000000000000',
  'cpu,host=a,region=eu value=2 1000000060000000000',
  'cpu,host=b,region=us value=3 1000000000000000000',
  'cpu,host=b,region=us value=4 1000000120000000000',
  'mem,host=a used=10 1000000000000000000',
].join('\n');

async function deleteV2(query: string, body: unknown, token = TEST_TOKEN) {
  const response = await fetch(`${shared.arc.url}/api/v2/delete?${query}`, { method: 'POST', headers: { Authorization: `Token ${token}`, 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, text, message: text === '' ? null : (JSON.parse(text) as { message?: string }).message };
}

const seeded = new Set<string>();

async function seed(database: string): Promise<void> {
  if (seeded.has(database)) return;
  seeded.add(database);
  const write = await shared.client.post(`/write?db=${database}&precision=ns`, LINES, { Authorization: `Token ${TEST_TOKEN}` });
  expect(write.status, write.text).toBe(204);
  expect((await shared.client.flush()).status).toBe(200);
}

const points = async (database: string, measurement: string) => shared.client.rows(`SELECT host, value FROM ${measurement} ORDER BY time, host`, database);

describe('POST /api/v2/delete', () => {
  it('deletes the points of the predicate in [start, stop] and answers 204 with no body', async () => {
    await seed('v2a');
    const body = { start: '2001-09-09T01:46:40Z', stop: '2001-09-09T01:47:40Z', predicate: '_measurement="cpu" AND (host="a")' };
    const answer = await deleteV2('org=any&bucket=v2a/autogen', body);
    expect(answer).toMatchObject({ status: 204, text: '' });
    expect(await points('v2a', 'cpu')).toEqual([['b', 3], ['b', 4]]);
    expect(await shared.client.rows('SELECT count(*) FROM mem', 'v2a')).toEqual([[1]]);
    // No predicate: everything in the range, every measurement; the bounds are inclusive.
    expect((await deleteV2('org=any&bucket=v2a', { start: '2001-09-09T01:46:40Z', stop: '2001-09-09T01:46:40Z' })).status).toBe(204);
    expect(await points('v2a', 'cpu')).toEqual([['b', 4]]);
    // mem lost its only point: the measurement is gone, as in InfluxDB.
    expect((await shared.client.query('SELECT count(*) FROM mem', 'v2a')).status).toBe(400);
  });

  it.each([
    ['bucket=v2b', { start: '2001-01-01T00:00:00Z', stop: '2030-01-01T00:00:00Z' }, 400, 'Please provide either orgID or org'],
    ['org=o', { start: '2001-01-01T00:00:00Z', stop: '2030-01-01T00:00:00Z' }, 400, 'Please provide either bucketID or bucket'],
    ['org=o&bucket=v2b', {}, 400, 'invalid request; error parsing request json: invalid RFC3339Nano for field start, please format your time with RFC3339Nano format, example: 2009-01-02T23:00:00Z'],
    ['org=o&bucket=v2b', { start: '2009-01-01T23:00:00Z' }, 400, 'invalid request; error parsing request json: invalid RFC3339Nano for field stop, please format your time with RFC3339Nano format, example: 2009-01-01T23:00:00Z'],
    ['org=o&bucket=v2b', { start: '2009-01-01T23:00:00Z', stop: '2019-11-10T01:00:00Z', predicate: 'tag1="v1" and (tag2="v2" or tag3="v3")' }, 400, 'invalid request; error parsing request json: the logical operator OR is not supported yet at position 25'],
    ['org=o&bucket=v2b', { start: '2009-01-01T23:00:00Z', stop: '2019-11-10T01:00:00Z', predicate: 'host=~"a"' }, 400, 'invalid request; error parsing request json: operator: "=~" at position: 4 is not supported yet'],
    ['org=o&bucket=nosuch', { start: '2009-01-01T23:00:00Z', stop: '2019-11-10T01:00:00Z' }, 404, 'bucket "nosuch" not found'],
  ])('refuses %s %j with %d', async (query, body, status, message) => {
    await seed('v2b');
    expect(await deleteV2(query, body)).toMatchObject({ status, message });
    expect(await shared.client.rows('SELECT count(*) FROM cpu', 'v2b')).toEqual([[4]]);
  });

  it('needs the delete permission on the bucket', async () => {
    await seed('v2c');
    const reader = await createToken(shared.arc.url, { name: 'v2-reader', permissions: ['read', 'write'] });
    const body = { start: '2001-01-01T00:00:00Z', stop: '2030-01-01T00:00:00Z', predicate: 'host="a"' };
    expect((await deleteV2('org=o&bucket=v2c', body, reader.token)).status).toBe(403);
    const deleter = await createToken(shared.arc.url, { name: 'v2-deleter', permissions: ['delete'], databases: ['v2c'] });
    expect((await deleteV2('org=o&bucket=v2c', body, deleter.token)).status).toBe(204);
    expect(await points('v2c', 'cpu')).toEqual([['b', 3], ['b', 4]]);
  });
});
