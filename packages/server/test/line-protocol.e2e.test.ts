// Proves the InfluxDB write endpoints against the real server: line protocol through /write,
// /api/v1/write, /api/v2/write and /api/v1/write/line-protocol, with the database from the header,
// ?db= or ?bucket=, every precision, gzip, and a malformed line rejecting the whole request.
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ArcClient } from './support/arc-client.js';
import { TEST_TOKEN } from './support/arc-process.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

const SECONDS = 1_760_630_400; // 2025-10-16T16:00:00Z
const auth = { Authorization: `Token ${TEST_TOKEN}` };

describe('line protocol writes', () => {
  it('lands rows through every path, database source and precision at the right instant', async () => {
    const writes: [string, string, Record<string, string>][] = [
      [`/write?db=lp1&precision=s`, `cpu,host=a usage=1.5 ${SECONDS}`, auth],
      [`/api/v1/write?db=lp1&precision=ms`, `cpu,host=b usage=2.5 ${SECONDS * 1000}`, auth],
      [`/api/v2/write?org=o&bucket=lp1&precision=us`, `cpu,host=c usage=3.5 ${SECONDS * 1_000_000}`, auth],
      [`/api/v2/write?bucket=lp1`, `cpu,host=d usage=4.5 ${BigInt(SECONDS) * 1_000_000_000n}`, auth],
      [`/api/v1/write/line-protocol?precision=s`, `cpu,host=e usage=5.5 ${SECONDS}`, { ...auth, 'x-arc-database': 'lp1' }],
      [`/write?db=ignored&precision=s&u=user&p=${TEST_TOKEN}`, `cpu,host=f usage=6.5 ${SECONDS}`, { 'x-arc-database': 'lp1' }],
    ];
    for (const [path, body, headers] of writes) {
      const answer = await shared.client.post(path, body, headers);
      expect(answer.status, `${path}: ${answer.text}`).toBe(204);
    }
    const gzip = await shared.client.post('/write?db=lp1&precision=s', gzipSync(`cpu,host=g usage=7.5 ${SECONDS}`), { ...auth, 'Content-Encoding': 'gzip' });
    expect(gzip.status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT DISTINCT time FROM cpu', 'lp1')).toEqual([['2025-10-16T16:00:00Z']]);
    expect(await shared.client.rows('SELECT string_agg(host, \'\' ORDER BY host), sum(usage) FROM cpu', 'lp1')).toEqual([['abcdefg', 31.5]]);
    expect(await shared.client.rows('SELECT count(*) FROM cpu', 'ignored').catch(() => [])).toEqual([]);
  });

  it('keeps types and NULLs: a field missing in some lines is NULL, never 0', async () => {
    const body = [
      `mem,host=a used=10i,free=1.5,ok=true,note="x \\"y\\"" ${SECONDS}`,
      `mem,host=a used=11i ${SECONDS + 10}`,
      `# a comment`,
      ``,
      `mem,host=b ok=F ${SECONDS + 20}`,
    ].join('\n');
    expect((await shared.client.post('/write?db=lp2&precision=s', body, auth)).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT host, used, free, ok, note FROM mem ORDER BY time', 'lp2')).toEqual([
      ['a', 10, 1.5, true, 'x "y"'],
      ['a', 11, null, null, null],
      ['b', null, null, false, null],
    ]);
  });

  it('rejects a malformed line with InfluxDB\'s message and line number, writing nothing', async () => {
    const body = `bad,host=a v=1 ${SECONDS}\nbad,host=b v= ${SECONDS}\n`;
    const answer = await shared.client.post('/write?db=lp3&precision=s', body, auth);
    expect(answer.status).toBe(400);
    const error = answer.json<{ error: string; line: number }>();
    expect(error.error).toMatch(/^unable to parse 'bad,host=b v= 1760630400': /);
    expect(error.line).toBe(2);
    await shared.client.flush();
    expect((await shared.client.query('SELECT count(*) FROM bad', 'lp3')).status).toBe(400); // no files: no table
  });

  it('rejects an unknown precision and an empty body with 400', async () => {
    const precision = await shared.client.post('/write?db=lp4&precision=days', `m v=1`, auth);
    expect(precision.status).toBe(400);
    expect(precision.json().error).toMatch(/Invalid precision 'days'/);
    const v2 = await shared.client.post('/api/v2/write?bucket=lp4&precision=h', `m v=1`, auth);
    expect(v2.status).toBe(400);
    const empty = await shared.client.post('/write?db=lp4', '', auth);
    expect(empty.status).toBe(400);
    expect(empty.json().error).toBe('Empty payload');
  });
});
