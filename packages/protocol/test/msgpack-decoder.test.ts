// Proves the MessagePack decoder turns every documented shape into the right typed columns and
// rejects each near-miss bad input with a 4xx-kind error that names the problem, never throwing.
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { DICTIONARY_ENTRIES_MAX, rowObjects, type ColumnBatch } from '@arc/columnar';
import { MsgpackDecoder, decompressBody, type DecodeResult } from '../src/index.js';

const packr = new Packr({ useRecords: false });
const encode = (value: unknown): Uint8Array => packr.pack(value);
const context = { database: 'default', nowUs: 1_700_000_000_000_000, defaultHost: 'unknown' };

/** A msgpack float64 for a value JavaScript would encode as an integer (95.0). */
class Float64 {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

/** A msgpack int64 (head 0xd3), the form the loaders send times in. */
class Int64 {
  readonly value: bigint;
  constructor(value: bigint) {
    this.value = value;
  }
}

/**
 * msgpack of `value` with Float64 and Int64 values in their own forms (other values as msgpackr
 * picks), arrays as array16 (0xdc) or, with `arrayHead` 0xdd, array32.
 */
function encodeForms(value: unknown, arrayHead: 0xdc | 0xdd = 0xdc): Uint8Array {
  const parts: Buffer[] = [];
  const write = (v: unknown): void => {
    if (v instanceof Float64 || v instanceof Int64) {
      const b = Buffer.alloc(9);
      if (v instanceof Float64) {
        b[0] = 0xcb;
        b.writeDoubleBE(v.value, 1);
      } else {
        b[0] = 0xd3;
        b.writeBigInt64BE(v.value, 1);
      }
      parts.push(b);
    } else if (Array.isArray(v)) {
      const head = Buffer.alloc(arrayHead === 0xdc ? 3 : 5);
      head[0] = arrayHead;
      if (arrayHead === 0xdc) head.writeUInt16BE(v.length, 1);
      else head.writeUInt32BE(v.length, 1);
      parts.push(head);
      v.forEach(write);
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      parts.push(Buffer.from([0xde, entries.length >> 8, entries.length & 0xff]));
      for (const [k, item] of entries) {
        write(k);
        write(item);
      }
    } else parts.push(Buffer.from(packr.pack(v)));
  };
  write(value);
  return Buffer.concat(parts);
}

function decodeOk(body: Uint8Array): ColumnBatch[] {
  const result = new MsgpackDecoder().decode(body, context);
  if (!result.ok) throw new Error(`unexpected error: ${result.error.code} ${result.error.message}`);
  return result.batches;
}

function decodeError(body: Uint8Array): Extract<DecodeResult, { ok: false }>['error'] {
  const result = new MsgpackDecoder().decode(body, context);
  if (result.ok) throw new Error('expected an error');
  return result.error;
}

const rowsOf = rowObjects;

function typesOf(batch: ColumnBatch): Record<string, string> {
  return Object.fromEntries(batch.columns.map((c) => [c.name, `${c.role}:${c.type}`]));
}

describe('MsgpackDecoder: shapes', () => {
  it('decodes a row batch with m/t/h/tags/fields', () => {
    const [batch, ...rest] = decodeOk(
      encode({
        batch: [
          { m: 'cpu', t: 1697472000000, h: 'server01', tags: { region: 'us-east' }, fields: { usage_idle: 95.5, cores: 8, ok: true, note: 'x' } },
          { m: 'cpu', t: 1697472001000, h: 'server02', tags: { region: 'eu' }, fields: { usage_idle: 3.25 } },
        ],
      }),
    );
    expect(rest).toHaveLength(0);
    expect(batch?.measurement).toBe('cpu');
    expect(batch?.database).toBe('default');
    expect(typesOf(batch!)).toEqual({
      host: 'tag:utf8',
      region: 'tag:utf8',
      usage_idle: 'field:float64',
      cores: 'field:int64',
      ok: 'field:bool',
      note: 'field:utf8',
    });
    expect(rowsOf(batch!)).toEqual([
      { time: 1697472000000000, host: 'server01', region: 'us-east', usage_idle: 95.5, cores: 8n, ok: true, note: 'x' },
      { time: 1697472001000000, host: 'server02', region: 'eu', usage_idle: 3.25, cores: null, ok: null, note: null },
    ]);
  });

  it('names positional `f` values field_0, field_1 and uses tags.host when there is no h', () => {
    const [batch] = decodeOk(encode([{ m: 'mem', t: 1697472000, tags: { host: 'a' }, f: [1.5, 2] }]));
    expect(rowsOf(batch!)).toEqual([{ time: 1697472000000000, host: 'a', field_0: 1.5, field_1: 2n }]);
  });

  it('gives host="unknown" to a row with neither h nor tags.host, and h wins over tags.host', () => {
    const batches = decodeOk(
      encode([
        { m: 'a', t: 1, fields: { v: 1 } },
        { m: 'b', t: 1, h: 'from-h', tags: { host: 'from-tags' }, fields: { v: 1 } },
      ]),
    );
    expect(rowsOf(batches[0]!)[0]?.host).toBe('unknown');
    expect(rowsOf(batches[1]!)[0]?.host).toBe('from-h');
  });

  it('decodes a columnar object; string columns are tags; no host column is added', () => {
    const [batch] = decodeOk(
      encode({ m: 'cpu', columns: { time: [1697472000000, 1697472001000], host: ['a', 'b'], usage: [1.5, 2.5], n: [1, null] } }),
    );
    expect(typesOf(batch!)).toEqual({ host: 'tag:utf8', usage: 'field:float64', n: 'field:int64' });
    expect(rowsOf(batch!)).toEqual([
      { time: 1697472000000000, host: 'a', usage: 1.5, n: 1n },
      { time: 1697472001000000, host: 'b', usage: 2.5, n: null },
    ]);
  });

  it('decodes a columnar tag column of repeated, look-alike, empty and multi-byte values into first-seen codes', () => {
    // Values sharing length and ends (only the middle differs), the empty string and multi-byte
    // UTF-8, repeated in runs and interleaved: the batch must read back exactly what was sent.
    const pattern = ['host-1a7', 'host-1b7', 'host-1a7', '', 'Zürich', 'Zörich', '', 'host-1b7', 'Zürich', '東京'];
    const hosts = Array.from({ length: 40 }, (_, row) => pattern[row % pattern.length] as string);
    const time = hosts.map((_, row) => 1697472000000 + row);
    const [batch] = decodeOk(encode({ m: 'cpu', tags: ['host'], columns: { time, host: hosts, v: hosts.map((_, row) => row) } }));
    expect(rowsOf(batch!).map((row) => row.host)).toEqual(hosts);
    const host = batch!.columns.find((column) => column.name === 'host');
    expect(host?.dictionary?.size).toBe(6);
  });

  it('decodes a top-level document whose bulk is not its last key (other keys after columns or batch)', () => {
    const columnar = decodeOk(encode({ columns: { time: [1, 2], dc: ['x', 'y'], v: [3, 4] }, m: 'cpu', note: { skipped: [1, 2] } }));
    expect(rowsOf(columnar[0]!).map((row) => [row.dc, row.v])).toEqual([
      ['x', 3n],
      ['y', 4n],
    ]);
    const rows = decodeOk(encode({ batch: [{ m: 'cpu', t: 1, fields: { v: 1 } }], note: 'after the batch' }));
    expect(rowsOf(rows[0]!).map((row) => row.v)).toEqual([1n]);
    const truncated = encode({ m: 'cpu', columns: { time: [1, 2], dc: ['x', 'y'] } });
    expect(decodeError(truncated.subarray(0, truncated.byteLength - 2)).code).toBe('ARC_MSGPACK_INVALID');
    const trailing = Buffer.concat([encode({ batch: [{ m: 'c', fields: { v: 1 } }] }), Buffer.from([1])]);
    expect(decodeError(trailing).code).toBe('ARC_MSGPACK_INVALID');
  });

  it('honours an explicit tag list of a columnar item and float64 bin columns', () => {
    const values = Buffer.alloc(16);
    values.writeDoubleLE(1.25, 0);
    values.writeDoubleLE(-2, 8);
    const [batch] = decodeOk(encode({ m: 'cpu', tags: ['dc'], columns: { time: [1, 2], dc: ['x', 'y'], label: ['p', 'q'], v: values } }));
    expect(typesOf(batch!)).toEqual({ dc: 'tag:utf8', label: 'field:utf8', v: 'field:float64' });
    expect(rowsOf(batch!).map((r) => r.v)).toEqual([1.25, -2]);
  });

  it('mixes rows and columnar items of one measurement in one batch (NULLs where absent)', () => {
    const [batch] = decodeOk(
      encode({
        batch: [
          { m: 'cpu', columns: { time: [1000, 2000], host: ['a', 'b'], x: [1.5, 2.5] } },
          { m: 'cpu', t: 3000, h: 'c', fields: { y: 7 } },
        ],
      }),
    );
    expect(rowsOf(batch!)).toEqual([
      { time: 1000000000, host: 'a', x: 1.5, y: null },
      { time: 2000000000, host: 'b', x: 2.5, y: null },
      { time: 3000000000, host: 'c', x: null, y: 7n },
    ]);
  });

  it('lands timestamps in s, ms, us and ns (also beyond 2^53) at the same instant', () => {
    const ns = 1697472000123456789n;
    const batches = decodeOk(
      encode([
        { m: 's', t: 1697472000, fields: { v: 1 } },
        { m: 'ms', t: 1697472000123, fields: { v: 1 } },
        { m: 'us', t: 1697472000123456, fields: { v: 1 } },
        { m: 'ns', t: ns, fields: { v: 1 } },
        { m: 'fs', t: 1697472000.123456, fields: { v: 1 } },
      ]),
    );
    expect(batches.map((b) => rowsOf(b)[0]?.time)).toEqual([
      1697472000000000, 1697472000123000, 1697472000123456, 1697472000123456, 1697472000123456,
    ]);
  });

  it('gives rows without a time the request time', () => {
    const [batch] = decodeOk(encode({ m: 'cpu', fields: { v: 1 } }));
    expect(rowsOf(batch!)[0]?.time).toBe(context.nowUs);
  });

  it('keeps msgpack float64 95.0 a float, widens int to float within a column, keeps NaN and Infinity', () => {
    const [batch] = decodeOk(
      encodeForms({
        batch: [
          { m: 'cpu', t: 1, fields: { f: new Float64(95), g: 1, special: new Float64(Number.NaN) } },
          { m: 'cpu', t: 2, fields: { f: new Float64(96), g: new Float64(2.5), special: new Float64(Number.POSITIVE_INFINITY) } },
        ],
      }),
    );
    expect(typesOf(batch!)).toMatchObject({ f: 'field:float64', g: 'field:float64', special: 'field:float64' });
    const rows = rowsOf(batch!);
    expect(rows.map((r) => r.g)).toEqual([1, 2.5]);
    expect(Number.isNaN(rows[0]?.special)).toBe(true);
    expect(rows[1]?.special).toBe(Number.POSITIVE_INFINITY);
  });

  it('keeps int64 beyond 2^53 exact and UTF-8 strings intact', () => {
    const big = 9007199254740993n;
    const [batch] = decodeOk(encode({ m: 'cpu', t: 1, tags: { city: 'Zürich 東京' }, fields: { big, s: '' } }));
    expect(rowsOf(batch!)[0]).toMatchObject({ big, city: 'Zürich 東京', s: '' });
  });

  it('renames a field that collides with a tag to <name>_value', () => {
    const [batch] = decodeOk(encode({ m: 'cpu', t: 1, tags: { host: 'a' }, fields: { host: 3 } }));
    expect(typesOf(batch!)).toEqual({ host: 'tag:utf8', host_value: 'field:int64' });
  });

  it('decodes the same row whatever the key order (late m, late t, h after tags)', () => {
    const expected = [{ time: 1697472000000000, host: 'from-h', region: 'eu', v: 1.5, n: 2n }];
    const orders = [
      { m: 'cpu', t: 1697472000000, h: 'from-h', tags: { host: 'from-tags', region: 'eu' }, fields: { v: 1.5, n: 2 } },
      { fields: { v: 1.5, n: 2 }, tags: { region: 'eu', host: 'from-tags' }, h: 'from-h', t: 1697472000000, m: 'cpu' },
      { m: 'cpu', tags: { host: 'from-tags', region: 'eu' }, fields: { v: 1.5, n: 2 }, h: 'from-h', t: 1697472000000 },
      { t: 1697472000000, fields: { v: 1.5, n: 2 }, m: 'cpu', h: 'from-h', tags: { region: 'eu', host: 'from-tags' } },
    ];
    for (const row of orders) expect(rowsOf(decodeOk(encode([row, row]))[0]!)).toEqual([...expected, ...expected]);
  });

  it('refuses an item with both fields and f, or both row keys and columns', () => {
    expect(decodeError(encode({ m: 'cpu', fields: { a: 1 }, f: [1] })).message).toMatch(/either 'fields' or 'f'/);
    expect(decodeError(encode({ m: 'cpu', fields: { a: 1 }, columns: { a: [1] } })).message).toMatch(/either a row or a columnar/);
  });

  it('splits measurements into separate batches', () => {
    const batches = decodeOk(encode([{ m: 'a', t: 1, fields: { v: 1 } }, { m: 'b', t: 1, fields: { v: 1 } }, { m: 'a', t: 2, fields: { v: 2 } }]));
    expect(batches.map((b) => [b.measurement, b.rowCount])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('reuses its builders across requests without leaking rows between them', () => {
    const decoder = new MsgpackDecoder();
    const first = decoder.decode(encode({ m: 'cpu', t: 1, tags: { x: 'a' }, fields: { v: 1 } }), context);
    const second = decoder.decode(encode({ m: 'cpu', t: 2, fields: { w: 'z' } }), context);
    expect(first.ok && second.ok).toBe(true);
    if (!second.ok) return;
    expect(rowsOf(second.batches[0]!)).toEqual([{ time: 2000000, host: 'unknown', w: 'z' }]);
  });
});

describe('MsgpackDecoder: bad input', () => {
  const cases: [string, Uint8Array, string, RegExp][] = [
    ['empty body', new Uint8Array(0), 'ARC_EMPTY_PAYLOAD', /Empty payload/],
    ['garbage', Uint8Array.from([0xc1, 0x00]), 'ARC_MSGPACK_INVALID', /Invalid MessagePack payload: reserved byte 0xc1/],
    ['truncated', encode({ m: 'cpu', fields: { v: 1 } }).subarray(0, 8), 'ARC_MSGPACK_INVALID', /unexpected end of data|exceeds the data/],
    ['trailing bytes', Buffer.concat([encode({ m: 'c', fields: { v: 1 } }), Buffer.from([1])]), 'ARC_MSGPACK_INVALID', /trailing bytes/],
    ['a scalar document', encode(42), 'ARC_MSGPACK_SHAPE', /Expected a map or an array/],
    ['a lying array count', Uint8Array.from([0xdd, 0x7f, 0xff, 0xff, 0xff]), 'ARC_MSGPACK_INVALID', /exceeds the data/],
    ['no rows', encode({ batch: [] }), 'ARC_NO_ROWS', /no rows/],
    ['row without fields', encode({ m: 'cpu', t: 1, tags: { a: 'b' } }), 'ARC_NO_FIELDS', /Item 0: row has no fields/],
    ['row with empty fields', encode([{ m: 'cpu', t: 1, fields: { v: 1 } }, { m: 'cpu', t: 1, fields: {} }]), 'ARC_NO_FIELDS', /Item 1/],
    ['row with only null fields', encode({ m: 'cpu', fields: { v: null } }), 'ARC_NO_FIELDS', /no fields/],
    ['missing measurement', encode({ t: 1, fields: { v: 1 } }), 'ARC_MISSING_MEASUREMENT', /missing measurement/],
    ['bad measurement name', encode({ m: '1cpu', fields: { v: 1 } }), 'ARC_BAD_MEASUREMENT_NAME', /Invalid measurement name '1cpu'/],
    ['measurement with a slash', encode({ m: 'a/../b', fields: { v: 1 } }), 'ARC_BAD_MEASUREMENT_NAME', /a\/\.\.\/b/],
    [
      'type conflict within the request',
      encode([{ m: 'cpu', t: 1, fields: { v: 1 } }, { m: 'cpu', t: 2, fields: { v: 'x' } }]),
      'ARC_TYPE_CONFLICT',
      /Item 1: 'v' is string here but int64 earlier/,
    ],
    [
      'columnar arrays of unequal length',
      encode({ m: 'cpu', columns: { time: [1, 2, 3], host: ['a', 'b', 'c'], usage_idle: [1, 2] } }),
      'ARC_MSGPACK_LENGTH_MISMATCH',
      /column 'usage_idle' has 2 values but 'time' has 3/,
    ],
    ['columnar column not an array', encode({ m: 'cpu', columns: { time: [1], v: 3 } }), 'ARC_MSGPACK_SHAPE', /column 'v' must be an array/],
    ['string timestamp', encode({ m: 'cpu', t: 'yesterday', fields: { v: 1 } }), 'ARC_BAD_TIMESTAMP', /time must be/],
    ['null in the time column', encode({ m: 'cpu', columns: { time: [1, null], v: [1, 2] } }), 'ARC_BAD_TIMESTAMP', /row 1/],
    ['field holding a map', encode({ m: 'cpu', fields: { v: { a: 1 } } }), 'ARC_BAD_FIELD_VALUE', /field 'v' has an unsupported map value/],
    ['tag holding an array', encode({ m: 'cpu', tags: { t: [1] }, fields: { v: 1 } }), 'ARC_BAD_TAG_VALUE', /tag 't' must be a string/],
    ['column named time', encode({ m: 'cpu', fields: { Time: 1 } }), 'ARC_BAD_COLUMN_NAME', /reserved for the timestamp/],
    ['names differing only in case', encode({ m: 'cpu', fields: { Usage: 1, usage: 2 } }), 'ARC_COLUMN_NAME_CLASH', /differ only in case/],
    ['non-string key', Uint8Array.from([0x81, 0x01, 0x02]), 'ARC_MSGPACK_SHAPE', /keys must be strings/],
    ['uint64 beyond int64', encode({ m: 'cpu', fields: { v: 18446744073709551615n } }), 'ARC_INTEGER_OVERFLOW', /int64 range/],
    ['a row of only a measurement', Buffer.from('81a16da3637075', 'hex'), 'ARC_NO_FIELDS', /no fields/],
  ];
  it.each(cases)('%s', (_name, body, code, message) => {
    const error = decodeError(body);
    expect(error.code).toBe(code);
    expect(error.kind).toBe('bad_request');
    expect(error.message).toMatch(message);
  });

  it('rejects invalid UTF-8 bytes in a string value', () => {
    const body = Buffer.from(encode({ m: 'cpu', t: 1, tags: { t: 'ab' }, fields: { v: 1 } }));
    const at = body.indexOf(Buffer.from('ab'));
    body[at] = 0xff;
    expect(decodeError(body).code).toBe('ARC_BAD_UTF8');
  });
});

describe('decompressBody', () => {
  const body = encode({ m: 'cpu', fields: { v: 1 } });
  it('detects gzip and zstd by magic bytes', () => {
    expect(Buffer.from(decompressBody(gzipSync(body), 1000) as Uint8Array).equals(Buffer.from(body))).toBe(true);
    expect(Buffer.from(decompressBody(zstdCompress(body), 1000) as Uint8Array).equals(Buffer.from(body))).toBe(true);
  });
  it('rejects corrupt gzip and zstd with 400, oversize output with 413', () => {
    const badGzip = gzipSync(body).subarray(0, 12);
    expect(decompressBody(badGzip, 1000)).toMatchObject({ kind: 'bad_request', code: 'ARC_BAD_COMPRESSION' });
    const badZstd = Buffer.from(zstdCompress(body));
    badZstd.fill(0x55, 6);
    expect(decompressBody(badZstd, 1000)).toMatchObject({ kind: 'bad_request', code: 'ARC_BAD_COMPRESSION' });
    const truncatedZstd = Buffer.from(zstdCompress(Buffer.alloc(100_000, 7))).subarray(0, 20);
    expect(decompressBody(truncatedZstd, 1_000_000)).toMatchObject({ code: 'ARC_BAD_COMPRESSION' });
    const bomb = gzipSync(Buffer.alloc(10_000_000));
    expect(decompressBody(bomb, 1_000_000)).toMatchObject({ kind: 'too_large', code: 'ARC_PAYLOAD_TOO_LARGE' });
    expect(decompressBody(zstdCompress(Buffer.alloc(10_000_000)), 1_000_000)).toMatchObject({ kind: 'too_large' });
  });
});

describe('MsgpackDecoder: properties', () => {
  it('never throws on random bytes: always a batch list or a 4xx-kind error', () => {
    const decoder = new MsgpackDecoder();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = decoder.decode(bytes, context);
        if (!result.ok) expect(['bad_request', 'too_large']).toContain(result.error.kind);
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on random valid-but-odd documents', () => {
    const decoder = new MsgpackDecoder();
    const scalar = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }));
    const name = fc.oneof(fc.constantFrom('m', 't', 'h', 'tags', 'fields', 'f', 'columns', 'batch', 'time', 'host'), fc.string({ maxLength: 8 }));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(name, tie('node'), { maxKeys: 5 })),
    })).node;
    const row = fc.record({ m: fc.constantFrom('cpu', 'mem', '', 'x y'), t: scalar, tags: fc.dictionary(name, scalar), fields: fc.dictionary(name, value) }, { requiredKeys: [] });
    const document = fc.oneof(value, row, fc.array(row), fc.record({ batch: fc.array(fc.oneof(row, value)) }));
    fc.assert(
      fc.property(document, (doc) => {
        const result = decoder.decode(encode(doc), context);
        if (!result.ok) expect(result.error.kind).toBe('bad_request');
        else expect(result.rowCount).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });
});

/** encodeForms with array32 heads: what the loaders send. */
const encodeForms32 = (value: unknown): Uint8Array => encodeForms(value, 0xdd);

// The columnar decoder appends runs of fixints, float64s and fixstrs in one call each and reads
// int64 times in place; these prove each run reads back as the value-by-value path would, also
// where a run is cut short (another form, a null, the end of the data) or refused.
describe('MsgpackDecoder: columnar runs', () => {
  it('reads runs of fixints, float64s and fixstrs cut by nulls, wider forms and long strings', () => {
    const long = 'x'.repeat(40); // str8, not a fixstr
    const ints = [1, 2, 127, null, 0, 128, 5, -3, 7, 70000, 9];
    const floats = [new Float64(0.5), new Float64(-2.25), null, new Float64(1e300), 3, new Float64(4.5)];
    const tags = ['a', 'b', null, 'a', long, 'c', '', 'b'];
    const rowCount = 11;
    const column = <T>(values: T[]): (T | null)[] => Array.from({ length: rowCount }, (_, row) => values[row % values.length] ?? null);
    const time = Array.from({ length: rowCount }, (_, row) => new Int64(1_700_000_000_000n + BigInt(row)));
    const [batch] = decodeOk(encodeForms32({ m: 'cpu', columns: { time, host: column(tags), n: column(ints), x: column(floats) } }));
    expect(typesOf(batch!)).toEqual({ host: 'tag:utf8', n: 'field:int64', x: 'field:float64' });
    const expectedFloat = (value: Float64 | number | null): number | null => (value === null ? null : value instanceof Float64 ? value.value : value);
    expect(rowsOf(batch!)).toEqual(
      time.map((t, row) => ({
        time: Number(t.value) * 1000,
        host: column(tags)[row],
        n: column(ints)[row] === null ? null : BigInt(column(ints)[row]!),
        x: expectedFloat(column(floats)[row] ?? null),
      })),
    );
  });

  it('widens an int64 column to float64 when a float64 run follows its fixints, in one item or the next', () => {
    const [inItem] = decodeOk(encodeForms32({ m: 'cpu', columns: { time: [1, 2, 3, 4], v: [1, 2, new Float64(2.5), new Float64(3.5)] } }));
    expect(rowsOf(inItem!).map((row) => row.v)).toEqual([1, 2, 2.5, 3.5]);
    const [acrossItems] = decodeOk(
      encodeForms32([
        { m: 'cpu', columns: { time: [1, 2], v: [1, 2] } },
        { m: 'cpu', columns: { time: [3, 4], v: [new Float64(2.5), 9] } },
      ]),
    );
    expect(rowsOf(acrossItems!).map((row) => row.v)).toEqual([1, 2, 2.5, 9]);
  });

  it('keeps every value of a fixstr run longer than its scratch, and of a tag column that outgrows the dictionary mid-run', () => {
    const rowCount = 3000 + DICTIONARY_ENTRIES_MAX + 500;
    const hosts = Array.from({ length: rowCount }, (_, row) => (row < 3000 ? `h${row % 7}` : `host-${row}`));
    const [batch] = decodeOk(encodeForms32({ m: 'cpu', columns: { time: hosts.map((_, row) => row + 1), host: hosts, v: hosts.map(() => 1) } }));
    const host = batch!.columns.find((c) => c.name === 'host');
    expect(host?.dictionary).toBeNull(); // more distinct values than a batch dictionary holds
    expect(rowsOf(batch!).map((row) => row.host)).toEqual(hosts);
  });

  it('refuses a run of another type than its column with the value-by-value error, naming the column', () => {
    const intoStrings = decodeError(encodeForms32([
      { m: 'cpu', tags: ['host'], columns: { time: [1, 2], host: ['a', 'b'] } },
      { m: 'cpu', tags: ['host'], columns: { time: [3, 4], host: [1, 2] } },
    ]));
    expect(intoStrings.code).toBe('ARC_TYPE_CONFLICT');
    expect(intoStrings.message).toContain("'host'");
    const floatsIntoStrings = decodeError(encodeForms32({ m: 'cpu', columns: { time: [1, 2, 3], s: ['a', new Float64(1.5), new Float64(2.5)] } }));
    expect(floatsIntoStrings.code).toBe('ARC_TYPE_CONFLICT');
    const stringsIntoInts = decodeError(encodeForms32({ m: 'cpu', columns: { time: [1, 2, 3], v: [1, 'a', 'b'] } }));
    expect(stringsIntoInts.code).toBe('ARC_TYPE_CONFLICT');
  });

  it('reports a float64 or int64 cut by the end of the data as invalid MessagePack', () => {
    const floats = encodeForms32({ m: 'cpu', columns: { v: [new Float64(1.5), new Float64(2.5)] } });
    expect(decodeError(floats.subarray(0, floats.byteLength - 3)).code).toBe('ARC_MSGPACK_INVALID');
    const times = encodeForms32({ m: 'cpu', columns: { v: [1, 2], time: [new Int64(1n), new Int64(2n)] } });
    expect(decodeError(times.subarray(0, times.byteLength - 3)).code).toBe('ARC_MSGPACK_INVALID');
  });

  it('reads int64 times of every unit in place, and a time column mixing forms', () => {
    const ns = 1_700_000_000_123_456_789n;
    const time = [new Int64(1_700_000_000n), new Int64(1_700_000_000_123n), new Int64(1_700_000_000_123_456n), new Int64(ns), 1_700_000_001, new Float64(1_700_000_002.5)];
    const [batch] = decodeOk(encodeForms32({ m: 'cpu', columns: { time, v: time.map(() => 1) } }));
    expect(rowsOf(batch!).map((row) => row.time)).toEqual([
      1_700_000_000_000_000, 1_700_000_000_123_000, 1_700_000_000_123_456, Number(ns / 1000n), 1_700_000_001_000_000, 1_700_000_002_500_000,
    ]);
    expect(decodeError(encodeForms32({ m: 'cpu', columns: { time: [new Int64(2n ** 63n - 1n), 1], v: [1, 2] } })).code).toBe('ARC_BAD_TIMESTAMP');
  });
});
