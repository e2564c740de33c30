// Proves the JSON decoder accepts every documented shape (row, array, batch, columnar, long key
// names, RFC 3339 times) with the row rules of MessagePack, and rejects bad input naming the item
// and key, never throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STRING_VALUE_BYTES_MAX, rowObjects, type ColumnBatch } from '@arc/columnar';
import { JsonDecoder, rfc3339ToMicros } from '../src/index.js';
import { Utf8EncodingCache } from '../src/utf8-text.js';

const context = { database: 'default', nowUs: 1_700_000_000_000_000, defaultHost: 'unknown' };
const body = (value: unknown): Uint8Array => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function decodeOk(value: unknown): ColumnBatch[] {
  const result = new JsonDecoder().decode(body(value), context);
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.batches;
}

function decodeError(value: unknown): { code: string; message: string } {
  const result = new JsonDecoder().decode(body(value), context);
  if (result.ok) throw new Error('expected an error');
  return result.error;
}

const rowsOf = rowObjects;

describe('JsonDecoder', () => {
  it('decodes a row with long key names and an RFC 3339 time; numbers are DOUBLE', () => {
    const [batch] = decodeOk({ measurement: 'cpu', time: '2025-10-16T16:00:00.123456Z', tags: { host: 'a', dc: 'x' }, fields: { idle: 95, ok: true, note: 'n' } });
    expect(batch?.columns.map((c) => `${c.name}:${c.role}:${c.type}`)).toEqual(['dc:tag:utf8', 'host:tag:utf8', 'idle:field:float64', 'ok:field:bool', 'note:field:utf8']);
    expect(rowsOf(batch!)).toEqual([{ time: Date.UTC(2025, 9, 16, 16) * 1000 + 123456, dc: 'x', host: 'a', idle: 95, ok: true, note: 'n' }]);
  });

  it('takes arrays, batches, short keys, f lists, h over tags.host, and the default host', () => {
    const batches = decodeOk({
      batch: [
        { m: 'cpu', t: 1_760_630_400, h: 'from-h', tags: { host: 'from-tags' }, f: [1.5, 'x'] },
        { m: 'cpu', timestamp: 1_760_630_400_000, fields: { field_0: 2 } },
      ],
    });
    expect(rowsOf(batches[0]!)).toEqual([
      { time: 1_760_630_400_000_000, host: 'from-h', field_0: 1.5, field_1: 'x' },
      { time: 1_760_630_400_000_000, host: 'unknown', field_0: 2, field_1: null },
    ]);
    expect(decodeOk([{ m: 'a', fields: { v: 1 } }, { m: 'b', fields: { v: 1 } }]).map((b) => b.measurement)).toEqual(['a', 'b']);
  });

  it('decodes columnar objects: string columns are tags unless listed; no time column means now', () => {
    const [batch] = decodeOk({ m: 'cpu', columns: { host: ['a', 'b'], label: ['p', null], v: [1.5, null] }, tags: ['host'] });
    expect(batch?.columns.map((c) => `${c.name}:${c.role}`)).toEqual(['host:tag', 'label:field', 'v:field']);
    expect(rowsOf(batch!)).toEqual([
      { time: context.nowUs, host: 'a', label: 'p', v: 1.5 },
      { time: context.nowUs, host: 'b', label: null, v: null },
    ]);
  });

  it('parses RFC 3339 with offsets and fractions', () => {
    expect(rfc3339ToMicros('2025-10-16T18:00:00+02:00')).toBe(Date.UTC(2025, 9, 16, 16) * 1000);
    expect(rfc3339ToMicros('2025-10-16T16:00:00.5Z')).toBe(Date.UTC(2025, 9, 16, 16) * 1000 + 500_000);
    expect(rfc3339ToMicros('2025-10-16T16:00:00.123456789Z')).toBe(Date.UTC(2025, 9, 16, 16) * 1000 + 123_456);
    expect(rfc3339ToMicros('2025-10-16 16:00:00')).toBeNaN();
  });

  const bad: [string, unknown, string, RegExp][] = [
    ['empty body', '', 'ARC_EMPTY_PAYLOAD', /Empty payload/],
    ['invalid JSON', '{"m": ', 'ARC_JSON_INVALID', /Invalid JSON payload/],
    ['a scalar item', [1], 'ARC_JSON_SHAPE', /Item 0: expected a row or columnar object/],
    ['missing measurement', { fields: { v: 1 } }, 'ARC_MISSING_MEASUREMENT', /missing measurement/],
    ['bad measurement name', { m: 'a b', fields: { v: 1 } }, 'ARC_BAD_MEASUREMENT_NAME', /Invalid measurement name 'a b'/],
    ['row without fields', [{ m: 'c', fields: { v: 1 } }, { m: 'c', tags: { a: 'b' } }], 'ARC_NO_FIELDS', /Item 1: row has no fields/],
    ['only null fields', { m: 'c', fields: { v: null } }, 'ARC_NO_FIELDS', /non-null/],
    ['bad time string', { m: 'c', t: 'yesterday', fields: { v: 1 } }, 'ARC_BAD_TIMESTAMP', /RFC 3339/],
    ['object field value', { m: 'c', fields: { v: { x: 1 } } }, 'ARC_BAD_FIELD_VALUE', /field 'v' must be a number, string or boolean/],
    ['object tag value', { m: 'c', tags: { t: [1] }, fields: { v: 1 } }, 'ARC_BAD_TAG_VALUE', /tag 't' must be a string/],
    ['object in a listed tag column', { m: 'c', columns: { t: ['a', { x: 1 }], v: [1, 2] }, tags: ['t'] }, 'ARC_BAD_TAG_VALUE', /tag 't' must be a string/],
    ['array in a tag column', { m: 'c', columns: { t: ['a', ['b', 'c']], v: [1, 2] } }, 'ARC_BAD_TAG_VALUE', /tag 't' must be a string/],
    ['type conflict', [{ m: 'c', fields: { v: 1 } }, { m: 'c', fields: { v: 'x' } }], 'ARC_TYPE_CONFLICT', /Item 1: 'v' is a string here but float64/],
    ['unequal columns', { m: 'c', columns: { time: [1, 2], v: [1] } }, 'ARC_JSON_LENGTH_MISMATCH', /column 'v' has 1 values but 'time' has 2/],
    ['bad time in a column', { m: 'c', columns: { time: [1, 'x'], v: [1, 2] } }, 'ARC_BAD_TIMESTAMP', /row 1/],
    ['no rows', { batch: [] }, 'ARC_NO_ROWS', /no rows/],
  ];
  it.each(bad)('rejects %s', (_name, value, code, message) => {
    const error = decodeError(value);
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('rejects invalid UTF-8 instead of decoding it', () => {
    const bytes = Buffer.from('{"m":"c","fields":{"v":"ab"}}');
    bytes[bytes.indexOf('ab')] = 0xff;
    expect(new JsonDecoder().decode(bytes, context)).toMatchObject({ ok: false, error: { code: 'ARC_JSON_INVALID' } });
  });

  // Strings of at most STRING_VALUE_BYTES_MAX / 3 characters are taken unmeasured; longer ones are
  // measured in UTF-8 bytes, so multi-byte text just over the byte limit is still refused.
  it('refuses string fields and tags over the byte limit counted in UTF-8, not in characters', () => {
    const twoByteChars = (bytes: number): string => 'é'.repeat(bytes / 2);
    const fourByteChars = (bytes: number): string => '😀'.repeat(bytes / 4);
    for (const text of [twoByteChars(STRING_VALUE_BYTES_MAX + 2), fourByteChars(STRING_VALUE_BYTES_MAX + 4), `${'a'.repeat(STRING_VALUE_BYTES_MAX - 2)}€`]) {
      expect(Buffer.byteLength(text)).toBeGreaterThan(STRING_VALUE_BYTES_MAX);
      expect(decodeError({ m: 'c', fields: { note: text } })).toMatchObject({ code: 'ARC_STRING_TOO_LONG', message: `Item 0: value of 'note' is longer than ${STRING_VALUE_BYTES_MAX} bytes` });
      expect(decodeError({ m: 'c', tags: { dc: text }, fields: { v: 1 } })).toMatchObject({ code: 'ARC_STRING_TOO_LONG', message: `Item 0: value of 'dc' is longer than ${STRING_VALUE_BYTES_MAX} bytes` });
      expect(decodeError({ m: 'c', columns: { note: [text] }, tags: [] })).toMatchObject({ code: 'ARC_STRING_TOO_LONG' });
    }
    for (const text of [twoByteChars(STRING_VALUE_BYTES_MAX), fourByteChars(STRING_VALUE_BYTES_MAX), 'a'.repeat(STRING_VALUE_BYTES_MAX)]) {
      const [batch] = decodeOk({ m: 'c', tags: { dc: text }, fields: { note: text } });
      expect(rowsOf(batch!)[0]).toMatchObject({ dc: text, note: text });
    }
  });

  // The decoder measures a long string field with Buffer.byteLength: it must count as TextEncoder
  // writes (what the column stores), lone surrogates included.
  it('measures UTF-8 bytes as TextEncoder writes them, lone surrogates included', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) }), (full, units) => {
        expect(Buffer.byteLength(full)).toBe(encoder.encode(full).byteLength);
        expect(Buffer.byteLength(units)).toBe(encoder.encode(units).byteLength);
      }),
      { numRuns: 500 },
    );
    expect(Buffer.byteLength('\ud83d')).toBe(3);
    expect(Buffer.byteLength('\ud83d\ude00')).toBe(4);
    expect(Buffer.byteLength('\ude00\ud83d')).toBe(6);
  });

  it('gives the same bytes for a tag value whether cached or not, and keeps decoding once the cache refills', () => {
    const cache = new Utf8EncodingCache();
    const encoder = new TextEncoder();
    const mismatches: string[] = [];
    for (let round = 0; round < 2; round++) {
      for (let index = 0; index < 10_000; index++) {
        const text = `host_${index}_é`;
        if (Buffer.compare(cache.encode(text), encoder.encode(text)) !== 0) mismatches.push(text);
      }
    }
    expect(mismatches).toEqual([]);
    const decoder = new JsonDecoder();
    const rows = Array.from({ length: 10_000 }, (_, index) => ({ m: 'c', t: 1_760_630_400_000 + index, tags: { host: `h${index % 5000}` }, fields: { v: index } }));
    const result = decoder.decode(body(rows), context);
    if (!result.ok) throw new Error(result.error.message);
    expect(rowsOf(result.batches[0]!).map((row) => row.host)).toEqual(rows.map((row) => row.tags.host));
  });

  it('never throws on random JSON documents', () => {
    const decoder = new JsonDecoder();
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = decoder.decode(body(value), context);
        if (!result.ok) expect(result.error.kind).toBe('bad_request');
      }),
      { numRuns: 1000 },
    );
  });
});
