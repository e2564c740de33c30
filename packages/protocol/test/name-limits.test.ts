// Proves every decoder (MessagePack, line protocol, JSON) enforces the name and value limits of
// columnar/limits.ts: a name at its limit is taken, one byte over or 200 KiB over is refused with
// a 400-kind error naming the limit, and no error grows with the input it quotes.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { COLUMN_NAME_BYTES_MAX, MEASUREMENT_NAME_LENGTH_MAX, STRING_VALUE_BYTES_MAX } from '@arc/columnar';
import { JsonDecoder, LineProtocolDecoder, LineProtocolPrecision, MsgpackDecoder, type DecodeResult } from '../src/index.js';

const NOW_US = 1_700_000_000_000_000;
const packr = new Packr({ useRecords: false });
/** What an error may weigh as JSON, whatever it quotes: a few KiB, not the input's size. */
const ERROR_JSON_BYTES_MAX = 4096;

interface Row {
  readonly m: string;
  readonly tags?: Record<string, string>;
  readonly fields: Record<string, number | string>;
}

type Decode = (row: Row) => DecodeResult;

function lineOf(row: Row): string {
  const tags = Object.entries(row.tags ?? {}).map(([key, value]) => `,${key}=${value}`).join('');
  const fields = Object.entries(row.fields).map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : value}`).join(',');
  return `${row.m}${tags} ${fields} 1700000000000000000`;
}

const DECODERS: readonly [string, Decode][] = [
  ['msgpack', (row) => new MsgpackDecoder().decode(packr.pack({ ...row, t: 1_700_000_000_000 }), { database: 'default', nowUs: NOW_US, defaultHost: '' })],
  ['json', (row) => new JsonDecoder().decode(Buffer.from(JSON.stringify({ ...row, t: 1_700_000_000_000 })), { database: 'default', nowUs: NOW_US, defaultHost: '' })],
  ['line protocol', (row) => new LineProtocolDecoder().decode(Buffer.from(lineOf(row)), { database: 'default', nowUs: NOW_US, precision: LineProtocolPrecision.ns })],
];

function expectRefused(result: DecodeResult, code: RegExp, message: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.error.kind).toBe('bad_request');
  expect(result.error.code).toMatch(code);
  expect(result.error.message).toMatch(message);
  expect(Buffer.byteLength(JSON.stringify(result.error))).toBeLessThan(ERROR_JSON_BYTES_MAX);
}

describe.each(DECODERS)('%s decoder: name limits', (_format, decode) => {
  const atLimit = 'm'.repeat(MEASUREMENT_NAME_LENGTH_MAX);
  const keyAtLimit = 'k'.repeat(COLUMN_NAME_BYTES_MAX);

  it('takes names exactly at their limits', () => {
    const result = decode({ m: atLimit, tags: { [keyAtLimit]: 'a' }, fields: { [`f${keyAtLimit.slice(1)}`]: 1 } });
    expect(result.ok ? result.batches[0]?.measurement : result.error.message).toBe(atLimit);
  });

  it('refuses a measurement name one byte over the limit, naming the limit', () => {
    expectRefused(decode({ m: `${atLimit}m`, fields: { v: 1 } }), /^ARC_BAD_MEASUREMENT_NAME$/, new RegExp(`longer than the limit of ${MEASUREMENT_NAME_LENGTH_MAX} bytes`));
  });

  it('refuses a 60,000-character measurement name with a short error', () => {
    expectRefused(decode({ m: 'x'.repeat(60_000), fields: { v: 1 } }), /^ARC_BAD_MEASUREMENT_NAME$/, /\.\.\.\(60000 bytes\)' is longer than the limit of 128 bytes/);
  });

  it('refuses tag and field names one byte over the limit and far over it', () => {
    for (const name of [`${keyAtLimit}k`, 'k'.repeat(60_000)]) {
      expectRefused(decode({ m: 'cpu', tags: { [name]: 'a' }, fields: { v: 1 } }), /^ARC_BAD_COLUMN_NAME$/, /longer than the limit of 256 bytes/);
      expectRefused(decode({ m: 'cpu', fields: { [name]: 1 } }), /^ARC_BAD_COLUMN_NAME$/, /longer than the limit of 256 bytes/);
    }
  });
});

describe.each(DECODERS.filter(([format]) => format !== 'line protocol'))('%s decoder: huge names and values', (_format, decode) => {
  it('refuses 140,000- and 200 KiB-character measurement names', () => {
    for (const length of [140_000, 200 * 1024]) {
      expectRefused(decode({ m: 'x'.repeat(length), fields: { a: 1 } }), /^ARC_BAD_MEASUREMENT_NAME$/, new RegExp(`\\.\\.\\.\\(${length} bytes\\)' is longer than the limit of 128 bytes`));
    }
  });

  it('refuses tag and string field values over STRING_VALUE_BYTES_MAX', () => {
    const value = 'v'.repeat(STRING_VALUE_BYTES_MAX + 1);
    expectRefused(decode({ m: 'cpu', tags: { host: value }, fields: { a: 1 } }), /^ARC_STRING_TOO_LONG$/, /longer than 65536 bytes/);
    expectRefused(decode({ m: 'cpu', fields: { s: value } }), /^ARC_STRING_TOO_LONG$/, /longer than 65536 bytes/);
  });
});

describe('columnar items (MessagePack and JSON)', () => {
  const columnar: readonly [string, (value: unknown) => DecodeResult][] = [
    ['msgpack', (value) => new MsgpackDecoder().decode(packr.pack(value), { database: 'default', nowUs: NOW_US, defaultHost: '' })],
    ['json', (value) => new JsonDecoder().decode(Buffer.from(JSON.stringify(value)), { database: 'default', nowUs: NOW_US, defaultHost: '' })],
  ];
  it.each(columnar)('%s: refuses a 200 KiB measurement or column name with a short error', (_format, decode) => {
    const huge = 'x'.repeat(200 * 1024);
    expectRefused(decode({ m: huge, columns: { time: [1], v: [1] } }), /^ARC_BAD_MEASUREMENT_NAME$/, /is longer than the limit of 128 bytes/);
    expectRefused(decode({ m: 'cpu', columns: { time: [1], [huge]: [1] } }), /^ARC_BAD_COLUMN_NAME$/, /is longer than the limit of 256 bytes/);
  });
});

describe('line protocol decoder: lines that quote much', () => {
  it('refuses a line with a 140,000-character measurement as too long, quoting 128 characters of it', () => {
    const result = DECODERS[2]![1]({ m: 'x'.repeat(140_000), fields: { a: 1 } });
    expectRefused(result, /^ARC_LP_LINE_TOO_LONG$/, /^unable to parse 'x{128}\.\.\.\(\d+ bytes\)': line 1 is longer than 65536 bytes$/);
  });

  it('quotes a bad 60 KB line of control characters cut short, with its size', () => {
    const body = Buffer.concat([Buffer.from('m f='), Buffer.alloc(60_000, 1), Buffer.from('\n')]);
    const result = new LineProtocolDecoder().decode(body, { database: 'default', nowUs: NOW_US, precision: LineProtocolPrecision.ns });
    // eslint-disable-next-line no-control-regex -- the quoted line is made of \x01 bytes on purpose
    expectRefused(result, /^ARC_LP_PARSE$/, /^unable to parse 'm f=\u0001+\.\.\.\(60004 bytes\)': invalid boolean$/);
  });
});
