// Proves the line protocol decoder turns each documented form into the right typed, timed rows and rejects every near-miss line with the exact InfluxDB-style message and line number, returning nothing of a bad request.
import { describe, expect, it } from 'vitest';
import { DICTIONARY_ENTRIES_MAX, rowObjects, type ColumnBatch } from '@arc/columnar';
import { LINE_BYTES_MAX, LineProtocolDecoder, LineProtocolPrecision, parsePrecision, type DecodeResult } from '../src/index.js';
import { SERIES_CACHED_MAX } from '../src/line-protocol-series.js';

const NOW_US = 1_700_000_000_000_000;
const TIME_OUTSIDE_RANGE = 'time outside range -9223372036854775806 - 9223372036854775806';
const encoder = new TextEncoder();

function decode(text: string | Uint8Array, precision: LineProtocolPrecision = LineProtocolPrecision.ns): DecodeResult {
  const body = typeof text === 'string' ? encoder.encode(text) : text;
  return new LineProtocolDecoder().decode(body, { database: 'default', nowUs: NOW_US, precision });
}

type Row = Record<string, unknown>;

/** Rows per measurement as plain objects: {time, ...columns}; int64 values are bigints. */
function rowsOf(batches: readonly ColumnBatch[]): Record<string, Row[]> {
  const out: Record<string, Row[]> = {};
  for (const batch of batches) out[batch.measurement] = rowObjects(batch);
  return out;
}

function typesOf(batches: readonly ColumnBatch[]): Record<string, string> {
  return Object.fromEntries(batches.flatMap((b) => b.columns.map((c) => [`${b.measurement}.${c.name}`, `${c.role}:${c.type}`])));
}

function okRows(text: string | Uint8Array, precision?: LineProtocolPrecision): Record<string, Row[]> {
  const result = decode(text, precision);
  if (!result.ok) throw new Error(`unexpected error: ${result.error.code} ${result.error.message}`);
  return rowsOf(result.batches);
}

interface ValidCase {
  readonly name: string;
  readonly input: string;
  readonly precision?: LineProtocolPrecision;
  readonly rows: Record<string, Row[]>;
}

const T = NOW_US;
const validCases: ValidCase[] = [
  { name: 'minimal line, integer literal is a float', input: 'cpu value=1', rows: { cpu: [{ time: T, value: 1 }] } },
  { name: 'tags and a ns timestamp', input: 'cpu,host=a,region=eu v=1.5 1700000000000000000', rows: { cpu: [{ time: 1700000000000000, host: 'a', region: 'eu', v: 1.5 }] } },
  { name: 'int64 suffix', input: 'cpu v=1i', rows: { cpu: [{ time: T, v: 1n }] } },
  { name: 'negative int64', input: 'cpu v=-42i', rows: { cpu: [{ time: T, v: -42n }] } },
  { name: 'int64 max', input: 'cpu v=9223372036854775807i', rows: { cpu: [{ time: T, v: 9223372036854775807n }] } },
  { name: 'int64 min', input: 'cpu v=-9223372036854775808i', rows: { cpu: [{ time: T, v: -9223372036854775808n }] } },
  { name: '16-digit int64 kept exactly', input: 'cpu v=9007199254740993i', rows: { cpu: [{ time: T, v: 9007199254740993n }] } },
  { name: 'uint64', input: 'cpu v=42u', rows: { cpu: [{ time: T, v: 42n }] } },
  { name: 'uint64 zero', input: 'cpu v=0u', rows: { cpu: [{ time: T, v: 0n }] } },
  { name: 'uint64 at 2^32 (the low word wraps)', input: 'cpu v=4294967296u', rows: { cpu: [{ time: T, v: 4294967296n }] } },
  { name: 'uint64 of 15 digits (fast path)', input: 'cpu v=999999999999999u', rows: { cpu: [{ time: T, v: 999999999999999n }] } },
  { name: 'uint64 at the int64 max', input: 'cpu v=9223372036854775807u', rows: { cpu: [{ time: T, v: 9223372036854775807n }] } },
  { name: 'uint64 just past the int64 max', input: 'cpu v=9223372036854775808u', rows: { cpu: [{ time: T, v: 9223372036854775808n }] } },
  { name: 'uint64 max', input: 'cpu v=18446744073709551615u', rows: { cpu: [{ time: T, v: 18446744073709551615n }] } },
  { name: 'uint64 with leading zeros', input: 'cpu v=000000000000000000000018446744073709551615u', rows: { cpu: [{ time: T, v: 18446744073709551615n }] } },
  { name: 'uint64 rows of one field', input: 'cpu v=1u\ncpu v=18446744073709551614u', rows: { cpu: [{ time: T, v: 1n }, { time: T, v: 18446744073709551614n }] } },
  { name: 'float exponent', input: 'cpu v=1e3', rows: { cpu: [{ time: T, v: 1000 }] } },
  { name: 'negative float with upper-case negative exponent', input: 'cpu v=-1.5E-2', rows: { cpu: [{ time: T, v: -0.015 }] } },
  { name: 'float without a leading digit', input: 'cpu v=.5', rows: { cpu: [{ time: T, v: 0.5 }] } },
  { name: 'float with a trailing dot', input: 'cpu v=1.', rows: { cpu: [{ time: T, v: 1 }] } },
  { name: 'float with explicit exponent sign', input: 'cpu v=1.0e+4', rows: { cpu: [{ time: T, v: 10000 }] } },
  { name: 'float of many digits (slow path)', input: 'cpu v=3.14159265358979323846', rows: { cpu: [{ time: T, v: 3.141592653589793 }] } },
  { name: 'tiny float', input: 'cpu v=0.000000000000000000001', rows: { cpu: [{ time: T, v: 1e-21 }] } },
  { name: 'negative zero int', input: 'cpu v=-0i', rows: { cpu: [{ time: T, v: 0n }] } },
  {
    name: 'every true spelling',
    input: 'cpu a=t,b=T,c=true,d=True,e=TRUE',
    rows: { cpu: [{ time: T, a: true, b: true, c: true, d: true, e: true }] },
  },
  {
    name: 'every false spelling',
    input: 'cpu a=f,b=F,c=false,d=False,e=FALSE',
    rows: { cpu: [{ time: T, a: false, b: false, c: false, d: false, e: false }] },
  },
  { name: 'string field', input: 'cpu s="hello world"', rows: { cpu: [{ time: T, s: 'hello world' }] } },
  { name: 'string escapes \\" and \\\\', input: 'cpu s="a\\"b\\\\c"', rows: { cpu: [{ time: T, s: 'a"b\\c' }] } },
  { name: 'other backslashes in strings are kept', input: 'cpu s="a\\nb\\,"', rows: { cpu: [{ time: T, s: 'a\\nb\\,' }] } },
  { name: 'an escaped backslash right before an escaped quote', input: 'cpu s="a\\\\\\"b"', rows: { cpu: [{ time: T, s: 'a\\"b' }] } },
  { name: 'an escaped backslash right before the closing quote', input: 'cpu s="a\\\\",v=1', rows: { cpu: [{ time: T, s: 'a\\', v: 1 }] } },
  { name: 'three backslashes then a letter', input: 'cpu s="\\\\\\x"', rows: { cpu: [{ time: T, s: '\\\\x' }] } },
  { name: 'two escaped backslashes in a row', input: 'cpu s="\\\\\\\\"', rows: { cpu: [{ time: T, s: '\\\\' }] } },
  { name: 'a raw line break inside a string value', input: 'cpu s="a\nb",v=1 1000\ncpu v=2 2000', rows: { cpu: [{ time: 1, s: 'a\nb', v: 1 }, { time: 2, s: null, v: 2 }] } },
  { name: 'a CRLF inside a string value is kept', input: 'cpu s="a\r\n\r\nb"\r\ncpu v=2', rows: { cpu: [{ time: T, s: 'a\r\n\r\nb', v: null }, { time: T, s: null, v: 2 }] } },
  { name: 'a line break after an escaped quote is still inside', input: 'cpu s="x\\"\ny" 1000', rows: { cpu: [{ time: 1, s: 'x"\ny' }] } },
  { name: 'a comment holding an open quote ends at its line break', input: '# a="b\ncpu v=1\n# "\ncpu v=2', rows: { cpu: [{ time: T, v: 1 }, { time: T, v: 2 }] } },
  { name: 'a quote in a tag value does not open a string', input: 'cpu,t="a v=1\ncpu,t=b" v=2', rows: { cpu: [{ time: T, t: '"a', v: 1 }, { time: T, t: 'b"', v: 2 }] } },
  { name: 'a quote inside a string after a comma in an earlier string', input: 'cpu a="x,y",b="p\nq"', rows: { cpu: [{ time: T, a: 'x,y', b: 'p\nq' }] } },
  { name: 'string holding comma, space and equals', input: 'cpu s="a, b=c",v=1', rows: { cpu: [{ time: T, s: 'a, b=c', v: 1 }] } },
  { name: 'empty string', input: 'cpu s=""', rows: { cpu: [{ time: T, s: '' }] } },
  { name: 'escaped comma and space in a tag value', input: 'cpu,host=a\\,b\\ c v=1', rows: { cpu: [{ time: T, host: 'a,b c', v: 1 }] } },
  { name: 'escaped equals in a tag key', input: 'cpu,ta\\=g=v v=1', rows: { cpu: [{ time: T, 'ta=g': 'v', v: 1 }] } },
  { name: 'escaped space and comma in a field key', input: 'cpu fi\\ e\\,ld=1', rows: { cpu: [{ time: T, 'fi e,ld': 1 }] } },
  { name: 'a lone backslash in a tag value is kept', input: 'cpu,path=c:\\dir v=1', rows: { cpu: [{ time: T, path: 'c:\\dir', v: 1 }] } },
  {
    name: 'comment and blank lines are skipped',
    input: '# a comment\n\ncpu v=1\n   \n  # indented comment\ncpu v=2\n',
    rows: { cpu: [{ time: T, v: 1 }, { time: T, v: 2 }] },
  },
  { name: 'CRLF line ends', input: 'cpu v=1 1000\r\ncpu v=2 2000\r\n', rows: { cpu: [{ time: 1, v: 1 }, { time: 2, v: 2 }] } },
  { name: 'leading whitespace', input: '  \tcpu v=1', rows: { cpu: [{ time: T, v: 1 }] } },
  { name: 'trailing spaces after the timestamp', input: 'cpu v=1 5000   ', rows: { cpu: [{ time: 5, v: 1 }] } },
  { name: 'several spaces between sections', input: 'cpu,h=a   v=1   5000', rows: { cpu: [{ time: 5, h: 'a', v: 1 }] } },
  { name: 'missing timestamp takes now', input: 'cpu v=1\ncpu v=2 1000', rows: { cpu: [{ time: T, v: 1 }, { time: 1, v: 2 }] } },
  { name: 'precision us', input: 'cpu v=1 1700000000000001', precision: 'us', rows: { cpu: [{ time: 1700000000000001, v: 1 }] } },
  { name: 'precision ms', input: 'cpu v=1 1700000000001', precision: 'ms', rows: { cpu: [{ time: 1700000000001000, v: 1 }] } },
  { name: 'precision s', input: 'cpu v=1 1700000000', precision: 's', rows: { cpu: [{ time: 1700000000000000, v: 1 }] } },
  { name: 'precision m', input: 'cpu v=1 2', precision: 'm', rows: { cpu: [{ time: 120_000_000, v: 1 }] } },
  { name: 'precision h', input: 'cpu v=1 2', precision: 'h', rows: { cpu: [{ time: 7_200_000_000, v: 1 }] } },
  { name: 'ns floored to µs, 19 digits exact', input: 'cpu v=1 1700000000123456789', rows: { cpu: [{ time: 1700000000123456, v: 1 }] } },
  { name: 'negative ns floored toward -infinity', input: 'cpu v=1 -1500', rows: { cpu: [{ time: -2, v: 1 }] } },
  { name: 'latest ns time Arc keeps (2^53-1 µs, 2255)', input: 'cpu v=1 9007199254740991999', rows: { cpu: [{ time: 9007199254740991, v: 1 }] } },
  { name: 'earliest ns time Arc keeps (-(2^53-1) µs, 1684)', input: 'cpu v=1 -9007199254740991000', rows: { cpu: [{ time: -9007199254740991, v: 1 }] } },
  { name: 'latest s time Arc keeps', input: 'cpu v=1 9007199254', precision: 's', rows: { cpu: [{ time: 9007199254000000, v: 1 }] } },
  { name: 'a negative h time (1900)', input: 'cpu v=1 -613608', precision: 'h', rows: { cpu: [{ time: -613608 * 3_600_000_000, v: 1 }] } },
  { name: 'ns just past 2^53 µs (2255) is exact', input: 'cpu v=1 9007199254740992001', rows: { cpu: [{ time: 9007199254740992n, v: 1 }] } },
  { name: 'an odd µs past 2^53 is exact', input: 'cpu v=1 9007199254740993999', rows: { cpu: [{ time: 9007199254740993n, v: 1 }] } },
  { name: 'latest ns InfluxDB accepts (2262)', input: 'cpu v=1 9223372036854775806', rows: { cpu: [{ time: 9223372036854775n, v: 1 }] } },
  { name: 'earliest ns InfluxDB accepts (1677), floored', input: 'cpu v=1 -9223372036854775806', rows: { cpu: [{ time: -9223372036854776n, v: 1 }] } },
  { name: 'ns just before -2^53 µs, floored', input: 'cpu v=1 -9007199254740991001', rows: { cpu: [{ time: -9007199254740992n, v: 1 }] } },
  { name: 'latest us InfluxDB accepts', input: 'cpu v=1 9223372036854775', precision: 'us', rows: { cpu: [{ time: 9223372036854775n, v: 1 }] } },
  { name: 'latest s InfluxDB accepts', input: 'cpu v=1 9223372036', precision: 's', rows: { cpu: [{ time: 9223372036000000n, v: 1 }] } },
  { name: 'earliest s InfluxDB accepts', input: 'cpu v=1 -9223372036', precision: 's', rows: { cpu: [{ time: -9223372036000000n, v: 1 }] } },
  { name: 'latest m InfluxDB accepts', input: 'cpu v=1 153722867', precision: 'm', rows: { cpu: [{ time: 9223372020000000n, v: 1 }] } },
  { name: 'earliest h InfluxDB accepts', input: 'cpu v=1 -2562047', precision: 'h', rows: { cpu: [{ time: -9223369200000000n, v: 1 }] } },
  { name: 'wide times mixed with others in one request stay in order of lines', input: 'cpu v=1 9223372036854775806\ncpu v=2 1000\ncpu v=3 -9223372036854775806', rows: { cpu: [{ time: 9223372036854775n, v: 1 }, { time: 1, v: 2 }, { time: -9223372036854776n, v: 3 }] } },
  { name: 'short ns timestamp', input: 'cpu v=1 999', rows: { cpu: [{ time: 0, v: 1 }] } },
  {
    name: 'same series, different field sets: NULLs, never 0',
    input: 'cpu,h=a x=1i 1000\ncpu,h=a y=2.5 2000\ncpu,h=a x=3i,y=4 3000',
    rows: { cpu: [{ time: 1, h: 'a', x: 1n, y: null }, { time: 2, h: 'a', x: null, y: 2.5 }, { time: 3, h: 'a', x: 3n, y: 4 }] },
  },
  { name: 'a tag missing in some lines is NULL', input: 'cpu,h=a v=1\ncpu v=2', rows: { cpu: [{ time: T, h: 'a', v: 1 }, { time: T, h: null, v: 2 }] } },
  { name: 'duplicate field: last wins', input: 'cpu v=1,w=2,v=3', rows: { cpu: [{ time: T, v: 3, w: 2 }] } },
  {
    name: 'tags in any order',
    input: 'cpu,b=2,a=1 v=1\ncpu,a=3,b=4 v=2',
    rows: { cpu: [{ time: T, b: '2', a: '1', v: 1 }, { time: T, b: '4', a: '3', v: 2 }] },
  },
  { name: 'a field named like a tag becomes <name>_value', input: 'cpu,host=a host=1i', rows: { cpu: [{ time: T, host: 'a', host_value: 1n }] } },
  {
    name: 'several measurements',
    input: 'cpu v=1\nmem used=2i\ncpu v=3',
    rows: { cpu: [{ time: T, v: 1 }, { time: T, v: 3 }], mem: [{ time: T, used: 2n }] },
  },
  { name: 'UTF-8 tag keys, values, field keys and strings', input: 'weather,地点=東京 気温=21.5,注=" ☀ "', rows: { weather: [{ time: T, 地点: '東京', 気温: 21.5, 注: ' ☀ ' }] } },
  { name: 'no host tag is added', input: 'cpu,region=eu v=1', rows: { cpu: [{ time: T, region: 'eu', v: 1 }] } },
  { name: 'last line without a newline', input: 'cpu v=1\ncpu v=2', rows: { cpu: [{ time: T, v: 1 }, { time: T, v: 2 }] } },
  { name: 'measurement with dash and underscore', input: 'cpu_load-1 v=1', rows: { 'cpu_load-1': [{ time: T, v: 1 }] } },
  {
    name: 'keys moving between positions and measurements keep their columns',
    input: 'cpu,a=1 x=1\nmem,a=2 x=2i\ncpu,b=3 y=3\ncpu,a=4,b=5 y=6,x=7\nmem,a=8 x=9i',
    rows: {
      cpu: [
        { time: T, a: '1', x: 1, b: null, y: null },
        { time: T, a: null, x: null, b: '3', y: 3 },
        { time: T, a: '4', x: 7, b: '5', y: 6 },
      ],
      mem: [{ time: T, a: '2', x: 2n }, { time: T, a: '8', x: 9n }],
    },
  },
  {
    name: 'escaped keys repeated on later lines',
    input: 'cpu,k\\ 1=a f\\,x="q\\"" 1000\ncpu,k\\ 1=b f\\,x="r" 2000',
    rows: { cpu: [{ time: 1, 'k 1': 'a', 'f,x': 'q"' }, { time: 2, 'k 1': 'b', 'f,x': 'r' }] },
  },
  { name: 'equals sign inside a field key is escaped', input: 'cpu a\\=b=1i', rows: { cpu: [{ time: T, 'a=b': 1n }] } },
];

describe('LineProtocolDecoder: valid lines', () => {
  it.each(validCases)('$name', ({ input, precision, rows }) => {
    expect(okRows(input, precision)).toEqual(rows);
  });

  it('types follow the suffixes: i int64, u uint64, plain numbers float64, t/f bool, quotes utf8; tags are utf8', () => {
    const result = decode('cpu,h=a i=1i,u=1u,f=1,b=t,s="x"');
    if (!result.ok) throw new Error(result.error.message);
    expect(typesOf(result.batches)).toEqual({
      'cpu.h': 'tag:utf8',
      'cpu.i': 'field:int64',
      'cpu.u': 'field:uint64',
      'cpu.f': 'field:float64',
      'cpu.b': 'field:bool',
      'cpu.s': 'field:utf8',
    });
  });

  it('a Node Buffer body (a slice of a larger buffer) decodes like a Uint8Array', () => {
    const whole = Buffer.from('xxcpu,h=a v=1i 1000\ncpu,h=b v=2i 2000yy');
    expect(okRows(whole.subarray(2, whole.length - 2))).toEqual({ cpu: [{ time: 1, h: 'a', v: 1n }, { time: 2, h: 'b', v: 2n }] });
  });

  it('a decoder is reusable: a bad request leaves nothing behind for the next one', () => {
    const decoder = new LineProtocolDecoder();
    const context = { database: 'db', nowUs: NOW_US, precision: LineProtocolPrecision.ns };
    expect(decoder.decode(encoder.encode('cpu v=1\ncpu v=oops'), context).ok).toBe(false);
    const result = decoder.decode(encoder.encode('cpu v=2'), context);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.rowCount).toBe(1);
    expect(result.batches[0]?.database).toBe('db');
    expect(rowsOf(result.batches)).toEqual({ cpu: [{ time: T, v: 2 }] });
  });
});

interface ParseErrorCase {
  readonly input: string;
  readonly reason: string;
  readonly line?: number;
  readonly precision?: LineProtocolPrecision;
}

/** Near misses (after QuestDB's LineTcpParserTest and InfluxDB's points_test): each fails with this reason. */
const parseErrorCases: ParseErrorCase[] = [
  { input: 'cpu', reason: 'missing fields' },
  { input: 'cpu ', reason: 'missing fields' },
  { input: 'cpu,host=a', reason: 'missing fields' },
  { input: 'cpu,', reason: 'missing tag key' },
  { input: 'cpu,host v=1', reason: 'missing tag value' },
  { input: 'cpu,host= v=1', reason: 'missing tag value' },
  { input: 'cpu,=a v=1', reason: 'missing tag key' },
  { input: 'cpu,a=1,,b=2 v=1', reason: 'missing tag key' },
  { input: 'cpu,a=b=c v=1', reason: 'invalid tag format' },
  { input: 'cpu,t=a\\\\,u=b v=1', reason: 'invalid tag format' },
  { input: ',host=a v=1', reason: 'missing measurement' },
  { input: 'cpu v', reason: 'missing field value' },
  { input: 'cpu v=', reason: 'missing field value' },
  { input: 'cpu v= 1', reason: 'missing field value' },
  { input: 'cpu =1', reason: 'missing field key' },
  { input: 'cpu v=1,', reason: 'missing field key' },
  { input: 'cpu v=1,,w=2', reason: 'missing field key' },
  { input: 'cpu v=aflse', reason: 'invalid boolean' },
  { input: 'cpu v=tRUE', reason: 'invalid boolean' },
  { input: 'cpu v=truee', reason: 'invalid boolean' },
  { input: 'cpu v=0xi', reason: 'invalid number' },
  { input: 'cpu v=1.0i', reason: 'invalid number' },
  { input: 'cpu v=1e3i', reason: 'invalid number' },
  { input: 'cpu v=i', reason: 'invalid boolean' },
  { input: 'cpu v=-i', reason: 'invalid number' },
  { input: 'cpu v=-1u', reason: 'invalid number' },
  { input: 'cpu v=1.1.1', reason: 'invalid number' },
  { input: 'cpu v=NaN', reason: 'invalid boolean' },
  { input: 'cpu v=-Inf', reason: 'invalid number' },
  { input: 'cpu v=1e400', reason: 'invalid number' },
  { input: 'cpu v=-', reason: 'invalid number' },
  { input: 'cpu v=+1', reason: 'invalid number' },
  { input: 'cpu v=1e', reason: 'invalid number' },
  { input: 'cpu v=.', reason: 'invalid number' },
  { input: 'cpu v=9223372036854775808i', reason: 'value out of range' },
  { input: 'cpu v=-9223372036854775809i', reason: 'value out of range' },
  { input: 'cpu v=18446744073709551616u', reason: 'value out of range' },
  { input: 'cpu v=99999999999999999999u', reason: 'value out of range' },
  { input: 'cpu v=1.5u', reason: 'invalid number' },
  { input: 'cpu v=u', reason: 'invalid boolean' },
  { input: 'cpu v="abc', reason: 'unbalanced quotes' },
  { input: 'cpu v="abc\\"', reason: 'unbalanced quotes' },
  { input: 'cpu v="a"b', reason: 'invalid field format' },
  { input: 'cpu v=1 abc', reason: 'bad timestamp' },
  { input: 'cpu v=1 1.5', reason: 'bad timestamp' },
  { input: 'cpu v=1 1 2', reason: 'bad timestamp' },
  { input: 'cpu v=1 -', reason: 'bad timestamp' },
  { input: 'cpu v=1 99999999999999999999', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 10000000000000000', precision: 's', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 9223372036854775807', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 -9223372036854775807', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 -9223372036854775808', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 9223372036854776', precision: 'us', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 9223372036855', precision: 'ms', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 32503680000', precision: 's', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 -30610224000', precision: 's', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 9223372037', precision: 's', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 153722868', precision: 'm', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 -2562048', precision: 'h', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu v=1 0000000000000000000000000000009223372036854775807', reason: TIME_OUTSIDE_RANGE },
  { input: 'cpu,a=1,a=2 v=1', reason: 'duplicate tags' },
  { input: 'cpu v=1\ncpu v=2\ncpu v=x', reason: 'invalid boolean', line: 3 },
];

describe('LineProtocolDecoder: one decoder over many requests (cached series and keys)', () => {
  const context = { database: 'default', nowUs: NOW_US, precision: LineProtocolPrecision.ns };

  function okRowsWith(decoder: LineProtocolDecoder, text: string): Record<string, Row[]> {
    const result = decoder.decode(encoder.encode(text), context);
    if (!result.ok) throw new Error(`unexpected error: ${result.error.code} ${result.error.message}`);
    return rowsOf(result.batches);
  }

  it('escaped series repeated within and across requests keep their unescaped values', () => {
    const decoder = new LineProtocolDecoder();
    const text = 'cpu,ho\\=st=a\\,b\\ c v=1i\ncpu,ho\\=st=a\\,b\\ c v=2i\ncpu,ho\\=st=a\\,b v=3i';
    const expected = { cpu: [{ time: T, 'ho=st': 'a,b c', v: 1n }, { time: T, 'ho=st': 'a,b c', v: 2n }, { time: T, 'ho=st': 'a,b', v: 3n }] };
    expect(okRowsWith(decoder, text)).toEqual(expected);
    expect(okRowsWith(decoder, text)).toEqual(expected);
  });

  it('a cached series meets a field of its tag name created earlier in a later request', () => {
    const decoder = new LineProtocolDecoder();
    expect(okRowsWith(decoder, 'cpu,host=a v=1i')).toEqual({ cpu: [{ time: T, host: 'a', v: 1n }] });
    expect(okRowsWith(decoder, 'cpu host=2i\ncpu,host=a v=3i')).toEqual({
      cpu: [
        { time: T, host_value: 2n, host: null, v: null },
        { time: T, host_value: null, host: 'a', v: 3n },
      ],
    });
  });

  it('lines near the field layout of the line before them read like any other line', () => {
    const decoder = new LineProtocolDecoder();
    const text = [
      'cpu,h=a v=1i,w=2.5 1000',
      'cpu,h=a v=-3i,w=-0.5',
      'cpu,h=a v=1234567890123456i,w=1e3 2000',
      'cpu,h=a w=4.5,v=5i 3000',
      'cpu,h=a v=6i,w=7,x=8i 4000',
      'cpu,h=a v=9i 5000  ',
      'cpu,h=a  v=10i,w=11 6000',
      'cpu,h=a v=-0i,w=.5 7000',
    ].join('\n');
    const expected = {
      cpu: [
        { time: 1, h: 'a', v: 1n, w: 2.5, x: null },
        { time: T, h: 'a', v: -3n, w: -0.5, x: null },
        { time: 2, h: 'a', v: 1234567890123456n, w: 1000, x: null },
        { time: 3, h: 'a', v: 5n, w: 4.5, x: null },
        { time: 4, h: 'a', v: 6n, w: 7, x: 8n },
        { time: 5, h: 'a', v: 9n, w: null, x: null },
        { time: 6, h: 'a', v: 10n, w: 11, x: null },
        { time: 7, h: 'a', v: 0n, w: 0.5, x: null },
      ],
    };
    expect(okRowsWith(decoder, text)).toEqual(expected);
    expect(okRowsWith(decoder, text)).toEqual(expected);
  });

  it('a laid-out line whose value type differs from its column is the usual type conflict', () => {
    const result = new LineProtocolDecoder().decode(encoder.encode('cpu,h=a v=1i\ncpu,h=a v=2i\ncpu,h=b v=1.5\ncpu,h=a v=2.5'), context);
    expect(result.ok ? 'ok' : result.error.message).toBe(
      `unable to parse 'cpu,h=b v=1.5': field type conflict: input field "v" on measurement "cpu" is type float, already exists as type integer (earlier in this request)`,
    );
    const later = new LineProtocolDecoder();
    okRowsWith(later, 'cpu,h=a v=1i\ncpu,h=a v=2i');
    const second = later.decode(encoder.encode('cpu v=0.5\ncpu,h=a v=3i'), context);
    expect(second.ok ? 'ok' : second.error.message).toBe(
      `unable to parse 'cpu,h=a v=3i': field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type float (earlier in this request)`,
    );
  });

  it('past SERIES_CACHED_MAX distinct series (cache starts over, then is bypassed) rows stay exact', () => {
    const decoder = new LineProtocolDecoder();
    const requestLines = Math.ceil(SERIES_CACHED_MAX / 2) + 1;
    for (let request = 0; request < 6; request++) {
      // Requests 0-2 bring new series each (the cache fills, is hardly hit, and is bypassed); 3-5 repeat request 0's.
      const first = (request % 3) * requestLines;
      const text = Array.from({ length: requestLines }, (_, line) => `cpu,host=h${first + line},dc=x v=${line}i,w=${line}.5`).join('\n');
      const shared = okRowsWith(decoder, text);
      expect(shared).toEqual(okRowsWith(new LineProtocolDecoder(), text));
      expect(shared.cpu?.[requestLines - 1]).toEqual({ time: T, host: `h${first + requestLines - 1}`, dc: 'x', v: BigInt(requestLines - 1), w: requestLines - 0.5 });
    }
  });

  it('cached series stay exact when their tag turns from dictionary to plain mid-request', () => {
    const decoder = new LineProtocolDecoder();
    const hosts = Array.from({ length: DICTIONARY_ENTRIES_MAX + 10 }, (_, index) => `h${index}`);
    const order = [...hosts.slice(0, 5), ...hosts, ...hosts.slice(0, 5)];
    const text = order.map((host, index) => `cpu,host=${host},dc=x v=${index}i`).join('\n');
    for (let request = 0; request < 2; request++) {
      const rows = okRowsWith(decoder, text).cpu ?? [];
      expect(rows.map((row) => row.host)).toEqual(order);
      expect(rows.map((row) => row.dc)).toEqual(order.map(() => 'x'));
      expect(rows.map((row) => row.v)).toEqual(order.map((_, index) => BigInt(index)));
    }
  });
});

describe('LineProtocolDecoder: near-miss lines', () => {
  it.each(parseErrorCases)('$input -> $reason', ({ input, reason, line = 1, precision }) => {
    const result = decode(input, precision);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = input.split('\n')[line - 1];
    expect(result.error.kind).toBe('bad_request');
    expect(result.error.code).toBe('ARC_LP_PARSE');
    expect(result.error.message).toBe(`unable to parse '${text}': ${reason}`);
    expect(result.error.details).toEqual({ line });
  });

  it('quotes the line without its CR and counts comment lines', () => {
    const result = decode('# c\r\ncpu v=1\r\ncpu v=bad\r\n');
    expect(result.ok ? null : result.error.toShape()).toEqual({
      kind: 'bad_request',
      code: 'ARC_LP_PARSE',
      message: "unable to parse 'cpu v=bad': invalid boolean",
      details: { line: 3 },
    });
  });

  it('a string left open at the end of the body is the unbalanced quotes of its own line, not of the rest', () => {
    const result = decode('cpu v=1\ncpu s="a\ncpu v=2');
    expect(result.ok ? null : result.error.toShape()).toEqual({
      kind: 'bad_request',
      code: 'ARC_LP_PARSE',
      message: `unable to parse 'cpu s="a': unbalanced quotes`,
      details: { line: 2 },
    });
  });

  it('lines after a string holding line breaks are numbered as an editor shows them', () => {
    const result = decode('cpu s="a\nb\nc"\ncpu v=1\ncpu v=x');
    expect(result.ok ? null : result.error.toShape()).toEqual({
      kind: 'bad_request',
      code: 'ARC_LP_PARSE',
      message: "unable to parse 'cpu v=x': invalid boolean",
      details: { line: 5 },
    });
  });

  it('a bad line holding a line break in its string is quoted whole', () => {
    const result = decode('cpu s="a\nb" x');
    expect(result.ok ? null : result.error.message).toBe(`unable to parse 'cpu s="a\nb" x': bad timestamp`);
  });

  it('nothing of a request with one bad line is returned', () => {
    const result = decode('cpu v=1\n'.repeat(1000) + 'cpu v=?');
    expect(result.ok).toBe(false);
    expect('batches' in result).toBe(false);
  });
});

interface OtherErrorCase {
  readonly name: string;
  readonly input: string | Uint8Array;
  readonly code: string;
  readonly message: string;
  readonly line?: number;
}

const otherErrorCases: OtherErrorCase[] = [
  { name: 'empty body', input: '', code: 'ARC_EMPTY_PAYLOAD', message: 'Empty payload' },
  { name: 'only comments and blank lines', input: '# a\n\n  \n#b', code: 'ARC_NO_ROWS', message: 'Payload contains no rows (only comments or blank lines)' },
  {
    name: 'int then float of one field',
    input: 'cpu v=1i\ncpu v=1.5',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=1.5': field type conflict: input field "v" on measurement "cpu" is type float, already exists as type integer (earlier in this request)`,
    line: 2,
  },
  {
    name: 'float then int of one field',
    input: 'cpu v=1\ncpu v=1i',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=1i': field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type float (earlier in this request)`,
    line: 2,
  },
  {
    name: 'string then bool',
    input: 'cpu v="x"\n\ncpu v=t',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=t': field type conflict: input field "v" on measurement "cpu" is type boolean, already exists as type string (earlier in this request)`,
    line: 3,
  },
  {
    name: 'integer then unsigned of one field',
    input: 'cpu v=1i\ncpu v=1u',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=1u': field type conflict: input field "v" on measurement "cpu" is type unsigned, already exists as type integer (earlier in this request)`,
    line: 2,
  },
  {
    name: 'unsigned then integer of one field (the field layout path)',
    input: 'cpu,h=a v=1u 1\ncpu,h=a v=2u 2\ncpu,h=a v=3i 3',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu,h=a v=3i 3': field type conflict: input field "v" on measurement "cpu" is type integer, already exists as type unsigned (earlier in this request)`,
    line: 3,
  },
  {
    name: 'unsigned then float of one field',
    input: 'cpu v=18446744073709551615u\ncpu v=1',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=1': field type conflict: input field "v" on measurement "cpu" is type float, already exists as type unsigned (earlier in this request)`,
    line: 2,
  },
  {
    name: 'float then unsigned of one field',
    input: 'cpu v=1.5\ncpu v=2u',
    code: 'ARC_TYPE_CONFLICT',
    message: `unable to parse 'cpu v=2u': field type conflict: input field "v" on measurement "cpu" is type unsigned, already exists as type float (earlier in this request)`,
    line: 2,
  },
  {
    name: 'bad measurement name',
    input: '1cpu v=1',
    code: 'ARC_BAD_MEASUREMENT_NAME',
    message: "unable to parse '1cpu v=1': Invalid measurement name '1cpu': must match ^[A-Za-z][A-Za-z0-9_-]{0,127}$",
    line: 1,
  },
  {
    name: 'escaped space in the measurement',
    input: 'cpu v=1\ncp\\ u v=1',
    code: 'ARC_BAD_MEASUREMENT_NAME',
    message: "unable to parse 'cp\\ u v=1': Invalid measurement name 'cp u': must match ^[A-Za-z][A-Za-z0-9_-]{0,127}$",
    line: 2,
  },
  {
    name: 'a field named time',
    input: 'cpu time=1',
    code: 'ARC_BAD_COLUMN_NAME',
    message: `unable to parse 'cpu time=1': invalid field name: input field "time" on measurement "cpu" is invalid`,
    line: 1,
  },
  {
    name: 'a field named time after a good one, on a later line',
    input: 'cpu v=1\ncpu v=2,Time=1i 5',
    code: 'ARC_BAD_COLUMN_NAME',
    message: `unable to parse 'cpu v=2,Time=1i 5': invalid field name: input field "Time" on measurement "cpu" is invalid`,
    line: 2,
  },
  {
    name: 'a tag named time',
    input: 'cpu,host=a,time=x v=1',
    code: 'ARC_BAD_COLUMN_NAME',
    message: `unable to parse 'cpu,host=a,time=x v=1': invalid tag key: input tag "time" on measurement "cpu" is invalid`,
    line: 1,
  },
  {
    name: 'a tag named time on a cached series path',
    input: 'cpu,time=x v=1\n',
    code: 'ARC_BAD_COLUMN_NAME',
    message: `unable to parse 'cpu,time=x v=1': invalid tag key: input tag "time" on measurement "cpu" is invalid`,
    line: 1,
  },
  {
    name: 'a control character in a tag key',
    input: 'cpu,a\u0001b=1 v=1',
    code: 'ARC_BAD_COLUMN_NAME',
    message: `unable to parse 'cpu,a\u0001b=1 v=1': Tag or field name '"a\\u0001b"' contains a control character`,
    line: 1,
  },
  {
    name: 'names differing only in case',
    input: 'cpu,Host=a,host=b v=1',
    code: 'ARC_COLUMN_NAME_CLASH',
    message: "unable to parse 'cpu,Host=a,host=b v=1': Columns 'Host' and 'host' of measurement 'cpu' differ only in case",
    line: 1,
  },
  {
    name: 'invalid UTF-8 in a tag key',
    input: Uint8Array.from([...encoder.encode('cpu,a'), 0xff, ...encoder.encode('=1 v=1')]),
    code: 'ARC_BAD_UTF8',
    message: "unable to parse 'cpu,a\ufffd=1 v=1': A tag or field name is not valid UTF-8",
    line: 1,
  },
  {
    name: 'invalid UTF-8 in a tag value',
    input: Uint8Array.from([...encoder.encode('cpu,a='), 0xc3, 0x28, ...encoder.encode(' v=1')]),
    code: 'ARC_BAD_UTF8',
    message: "Column 'a' of 'cpu' holds invalid UTF-8",
  },
  {
    name: 'a line over the limit',
    input: `cpu v=1\ncpu s="${'x'.repeat(LINE_BYTES_MAX)}"`,
    code: 'ARC_LP_LINE_TOO_LONG',
    message: `unable to parse 'cpu s="${'x'.repeat(121)}...(${LINE_BYTES_MAX + 8} bytes)': line 2 is longer than ${LINE_BYTES_MAX} bytes`,
    line: 2,
  },
  {
    name: 'a line over the limit of multi-byte characters is quoted to the character',
    input: `cpu s="${'☀'.repeat(LINE_BYTES_MAX)}"`,
    code: 'ARC_LP_LINE_TOO_LONG',
    message: `unable to parse 'cpu s="${'☀'.repeat(121)}...(${3 * LINE_BYTES_MAX + 8} bytes)': line 1 is longer than ${LINE_BYTES_MAX} bytes`,
    line: 1,
  },
  {
    name: 'a long bad line is quoted cut, with its whole size',
    input: `cpu s="${'x'.repeat(1000)}" bad`,
    code: 'ARC_LP_PARSE',
    message: `unable to parse 'cpu s="${'x'.repeat(121)}...(1012 bytes)': bad timestamp`,
    line: 1,
  },
];

describe('LineProtocolDecoder: other errors', () => {
  it.each(otherErrorCases)('$name', ({ input, code, message, line }) => {
    const result = decode(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.kind).toBe('bad_request');
    expect(result.error.code).toBe(code);
    expect(result.error.message).toBe(message);
    if (line !== undefined) expect(result.error.details?.line).toBe(line);
  });

  it('a line of exactly the limit is accepted', () => {
    const prefix = 'cpu s="';
    const line = `${prefix}${'x'.repeat(LINE_BYTES_MAX - prefix.length - 1)}"`;
    expect(line.length).toBe(LINE_BYTES_MAX);
    expect(decode(line).ok).toBe(true);
  });
});

describe('parsePrecision', () => {
  it.each([
    [null, 'v1', 'ns'],
    ['', 'v2', 'ns'],
    ['ns', 'v2', 'ns'],
    ['us', 'v2', 'us'],
    ['ms', 'v2', 'ms'],
    ['s', 'v2', 's'],
    ['n', 'v1', 'ns'],
    ['u', 'v1', 'us'],
    ['m', 'v1', 'm'],
    ['h', 'v1', 'h'],
  ] as const)('%s (%s) -> %s', (text, dialect, expected) => {
    expect(parsePrecision(text, dialect)).toBe(expected);
  });

  it.each([
    ['n', 'v2', 'ns, us, ms, s'],
    ['h', 'v2', 'ns, us, ms, s'],
    ['sec', 'v1', 'ns, us, ms, s, n, u, m, h'],
  ] as const)('%s is refused by %s, naming the value', (text, dialect, allowed) => {
    const result = parsePrecision(text, dialect);
    expect(typeof result === 'string' ? result : result.toShape()).toEqual({
      kind: 'bad_request',
      code: 'ARC_LP_BAD_PRECISION',
      message: `Invalid precision '${text}': use one of ${allowed}`,
      details: { precision: text },
    });
  });
});
