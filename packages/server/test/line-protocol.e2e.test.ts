// Proves the InfluxDB write endpoints against the real server: line protocol through /write,
// /api/v1/write, /api/v2/write and /api/v1/write/line-protocol, with the database from the header,
// ?db= or ?bucket=, every precision, gzip, a malformed line rejecting the whole request, and, by
// writing then reading back with SQL (JSON, CSV, Arrow, msgpack, DESCRIBE), unsigned fields,
// the type rules when fields meet, string values with line breaks and escapes, and time bounds.
import { gzipSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
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
    const error = answer.json() as { error: string; line: number };
    expect(error.error).toMatch(/^unable to parse 'bad,host=b v= 1760630400': /);
    expect(error.line).toBe(2);
    await shared.client.flush();
    expect((await shared.client.query('SELECT count(*) FROM bad', 'lp3')).status).toBe(400); // no files: no table
  });

  it('rejects an unknown precision and an empty body with 400', async () => {
    const precision = await shared.client.post('/write?db=lp4&precision=days', `m v=1`, auth);
    expect(precision.status).toBe(400);
    expect((precision.json() as { error: unknown }).error).toMatch(/Invalid precision 'days'/);
    const v2 = await shared.client.post('/api/v2/write?bucket=lp4&precision=h', `m v=1`, auth);
    expect(v2.status).toBe(400);
    const empty = await shared.client.post('/write?db=lp4', '', auth);
    expect(empty.status).toBe(400);
    expect((empty.json() as { error: unknown }).error).toBe('Empty payload');
  });

  it('stores 1u as UBIGINT over the whole uint64 range and answers it exactly in every format', async () => {
    const body = [
      `uint,host=a v=0u,w=1i ${SECONDS}`,
      `uint,host=a v=123u ${SECONDS + 1}`,
      `uint,host=a v=9007199254740993u ${SECONDS + 2}`,
      `uint,host=a v=18446744073709551615u ${SECONDS + 3}`,
    ].join('\n');
    const write = await shared.client.post('/write?db=lpu&precision=s', body, auth);
    expect(write.status, write.text).toBe(204);
    await shared.client.flush();
    const described = await shared.client.rows("SELECT column_name, column_type FROM (DESCRIBE uint) WHERE column_name IN ('v', 'w')", 'lpu');
    expect(described).toEqual([['v', 'UBIGINT'], ['w', 'BIGINT']]);
    // JSON: exact numbers within 2^53, all digits as a string beyond (docs/query-types.md).
    expect(await shared.client.rows('SELECT v FROM uint ORDER BY time', 'lpu')).toEqual([[0], [123], ['9007199254740993'], ['18446744073709551615']]);
    const sql = 'SELECT v FROM uint ORDER BY time';
    const csv = await shared.client.post('/query', JSON.stringify({ sql, format: 'csv' }), { ...auth, 'Content-Type': 'application/json', 'x-arc-database': 'lpu' });
    expect(csv.text).toBe('v\r\n0\r\n123\r\n9007199254740993\r\n18446744073709551615\r\n');
    const fetchBytes = async (format: string): Promise<Uint8Array> => {
      const response = await fetch(`${shared.client.url}/query`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json', 'x-arc-database': 'lpu' },
        body: JSON.stringify({ sql, format }),
      });
      expect(response.status).toBe(200);
      return new Uint8Array(await response.arrayBuffer());
    };
    const arrow = tableFromIPC(await fetchBytes('arrow'));
    expect(String(arrow.schema.fields[0]?.type)).toBe('Uint64');
    expect(arrow.getChild('v')?.toArray()).toEqual(new BigUint64Array([0n, 123n, 9007199254740993n, 18446744073709551615n]));
    const influxql = await shared.client.get(`/query?db=lpu&q=${encodeURIComponent('SELECT v FROM uint')}`, auth);
    // InfluxQL answers as InfluxDB does: every uint64 an unquoted JSON number of all its digits.
    expect(influxql.text).toContain('"values":[["2025-10-16T16:00:00Z",0],["2025-10-16T16:00:01Z",123],["2025-10-16T16:00:02Z",9007199254740993],["2025-10-16T16:00:03Z",18446744073709551615]]');
    const packed = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(await fetchBytes('msgpack')) as { types: string[]; data: unknown[][] };
    expect(packed.types).toEqual(['uint64']);
    expect(packed.data[0]?.map((value) => BigInt(value as number | bigint))).toEqual([0n, 123n, 9007199254740993n, 18446744073709551615n]);
  });

  it('states the type rules: unsigned meets integer or float in one request and in buffered rows is refused, across files DuckDB unifies', async () => {
    const post = (db: string, body: string) => shared.client.post(`/write?db=${db}&precision=s`, body, auth);
    const oneRequest = await post('lpt1', `m v=1i ${SECONDS}\nm v=2u ${SECONDS + 1}`);
    expect(oneRequest.status).toBe(400);
    expect(oneRequest.json()).toEqual({
      error: `unable to parse 'm v=2u ${SECONDS + 1}': field type conflict: input field "v" on measurement "m" is type unsigned, already exists as type integer (earlier in this request)`,
      code: 'ARC_TYPE_CONFLICT',
      column: 'v',
      measurement: 'm',
      line: 2,
    });
    // Buffered rows of earlier requests: the new request is refused, the buffered rows stay.
    expect((await post('lpt2', `m v=1u ${SECONDS}`)).status).toBe(204);
    const buffered = await post('lpt2', `m v=1.5 ${SECONDS + 1}`);
    expect(buffered.status).toBe(400);
    expect(buffered.json()).toMatchObject({
      error: 'field type conflict: input field "v" on measurement "m" is type float, already exists as type unsigned (in buffered rows)',
      code: 'ARC_SCHEMA_CONFLICT',
    });
    // int meets float in buffered rows: widened to DOUBLE, as before.
    expect((await post('lpt3', `m v=1i ${SECONDS}`)).status).toBe(204);
    expect((await post('lpt3', `m v=2.5 ${SECONDS + 1}`)).status).toBe(204);
    // Across files: integer then unsigned reads as HUGEINT, exactly.
    expect((await post('lpt4', `m v=-1i ${SECONDS}`)).status).toBe(204);
    await shared.client.flush();
    expect((await post('lpt4', `m v=18446744073709551615u ${SECONDS + 1}`)).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT v FROM m ORDER BY time', 'lpt2')).toEqual([[1]]);
    expect(await shared.client.rows("SELECT column_type FROM (DESCRIBE m) WHERE column_name = 'v'", 'lpt2')).toEqual([['UBIGINT']]);
    expect(await shared.client.rows('SELECT v, typeof(v) FROM m ORDER BY time', 'lpt3')).toEqual([[1, 'DOUBLE'], [2.5, 'DOUBLE']]);
    expect(await shared.client.rows('SELECT v::VARCHAR, typeof(v) FROM m ORDER BY time', 'lpt4')).toEqual([
      ['-1', 'HUGEINT'],
      ['18446744073709551615', 'HUGEINT'],
    ]);
  });

  it('keeps raw line breaks inside string values and unescapes only \\" and \\\\', async () => {
    const body = `notes,host=a s="line1\nline2\r\nline3",t="a\\\\\\"b",u="c:\\dir\\n" ${SECONDS}\nnotes,host=b s="two" ${SECONDS + 1}`;
    const write = await shared.client.post('/write?db=lps&precision=s', body, auth);
    expect(write.status, write.text).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT host, s, t, u FROM notes ORDER BY time', 'lps')).toEqual([
      ['a', 'line1\nline2\r\nline3', 'a\\"b', 'c:\\dir\\n'],
      ['b', 'two', null, null],
    ]);
  });

  it('refuses a time tag or field key, and times outside the range, as unable to parse with the code kept', async () => {
    const tag = await shared.client.post('/write?db=lpk', `cpu,time=x v=1 ${SECONDS}`, { ...auth });
    expect(tag.status).toBe(400);
    expect(tag.json()).toMatchObject({
      error: `unable to parse 'cpu,time=x v=1 ${SECONDS}': invalid tag key: input tag "time" on measurement "cpu" is invalid`,
      code: 'ARC_BAD_COLUMN_NAME',
      line: 1,
    });
    const field = await shared.client.post('/write?db=lpk&precision=s', `cpu v=1\ncpu time=1i ${SECONDS}`, auth);
    expect(field.json()).toMatchObject({
      error: `unable to parse 'cpu time=1i ${SECONDS}': invalid field name: input field "time" on measurement "cpu" is invalid`,
      code: 'ARC_BAD_COLUMN_NAME',
      line: 2,
    });
    const year3000 = await shared.client.post('/write?db=lpk&precision=s', `cpu v=1 32503680000`, auth);
    expect(year3000.json()).toEqual({
      error: "unable to parse 'cpu v=1 32503680000': time outside range -9223372036854775806 - 9223372036854775806",
      code: 'ARC_LP_PARSE',
      line: 1,
    });
  });

  it('stores the earliest and latest times InfluxDB accepts, to the microsecond, in every precision', async () => {
    const writes: [string, string][] = [
      ['ns', 'edge,p=ns v=1 -9007199254740991000'],
      ['ns', 'edge,p=ns v=2 9007199254740991999'],
      ['s', 'edge,p=s v=3 9007199254'],
      ['h', 'edge,p=h v=4 -2501400'],
      ['ns', 'edge,p=ns v=5 -9223372036854775806\nedge,p=ns v=6 9223372036854775806\nedge,p=ns v=7 9007199254740993999'],
      ['s', 'edge,p=s v=8 9223372036'],
      ['h', 'edge,p=h v=9 -2562047'],
    ];
    for (const [precision, line] of writes) {
      const answer = await shared.client.post(`/write?db=lpe&precision=${precision}`, line, auth);
      expect(answer.status, answer.text).toBe(204);
    }
    await shared.client.flush();
    expect(await shared.client.rows('SELECT time, epoch_us(time)::VARCHAR, v FROM edge ORDER BY time', 'lpe')).toEqual([
      ['1677-09-21T00:12:43.145224Z', '-9223372036854776', 5],
      ['1677-09-21T01:00:00Z', '-9223369200000000', 9],
      ['1684-07-28T00:12:25.259009Z', '-9007199254740991', 1],
      ['1684-08-22T00:00:00Z', '-9005040000000000', 4],
      ['2255-06-05T23:47:34Z', '9007199254000000', 3],
      ['2255-06-05T23:47:34.740991Z', '9007199254740991', 2],
      ['2255-06-05T23:47:34.740993Z', '9007199254740993', 7],
      ['2262-04-11T23:47:16Z', '9223372036000000', 8],
      ['2262-04-11T23:47:16.854775Z', '9223372036854775', 6],
    ]);
  });
});
