// Proves the msgpack answer has Arc Go's columnar shape with Arrow type names and the documented
// value rules (integer timestamps, int64 beyond 32 bits, NaN kept, NULL as nil, unicode, rows across
// chunk borders, the row limit), by running SQL through a real pool and unpacking the bytes.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { TYPED_SQL, answerBytes, sharedPool } from './fixtures.js';
import type { MsgpackQueryAnswer } from '../src/index.js';

const pool = sharedPool();

type MsgpackAnswer = MsgpackQueryAnswer;

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

async function msgpack(sql: string, limit?: number): Promise<MsgpackAnswer> {
  const answer = await answerBytes(pool(), sql, 'msgpack', limit);
  expect(answer.contentType).toBe('application/msgpack');
  const body = unpackr.unpack(answer.body) as MsgpackAnswer;
  expect(body.row_count).toBe(answer.rowCount);
  return body;
}

describe('msgpack answer', () => {
  it('is {success, columns, types, data (column-major), row_count, execution_time_ms, timestamp}', async () => {
    const body = await msgpack("SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY a");
    expect(Object.keys(body)).toEqual(['success', 'columns', 'types', 'data', 'row_count', 'execution_time_ms', 'timestamp']);
    expect(body).toMatchObject({ success: true, columns: ['a', 'b'], types: ['int32', 'string'], data: [[1, 2], ['x', 'y']], row_count: 2 });
    expect(body.execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(body.timestamp.endsWith('Z')).toBe(true);
  });

  it('names Arrow types and sends physical values: integer time units, int64 beyond 32 bits, text for the rest', async () => {
    const body = await msgpack(TYPED_SQL);
    expect(body.types).toEqual([
      'bool', 'int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32', 'int64', 'uint64', 'string', 'float', 'double', 'string',
      'string', 'date32[day]', 'timestamp[us, tz=UTC]', 'timestamp[us, tz=UTC]', 'timestamp[s, tz=UTC]',
      'timestamp[ms, tz=UTC]', 'timestamp[ns, tz=UTC]', 'string', 'string', 'string',
    ]);
    expect(body.data.map((column) => column[0])).toEqual([
      true, -5, -300, -70000, 200, 60000, 4000000000, -9007199254740993n, 18446744073709551615n,
      '170141183460469231731687303715884105727', Math.fround(0.1), 0.1, 'ünï, "q" ✓\nlong enough to leave the inline form', '日本',
      Date.UTC(2025, 9, 16) / 86_400_000, 1_760_630_400_123_456n, 1_760_630_400_000_000n, 1_760_630_401, 1_760_630_400_500n,
      1_760_630_400_123_456_789n, '12.30', '1 day', '[1, 2]',
    ]);
    expect(body.data.every((column) => column[1] === null)).toBe(true);
  });

  it('keeps NaN and infinities, and small BIGINTs as plain numbers', async () => {
    const body = await msgpack("SELECT 'nan'::DOUBLE AS a, 'inf'::DOUBLE AS b, '-inf'::DOUBLE AS c, -7::BIGINT AS d, 2147483648::BIGINT AS e");
    expect(body.data).toEqual([[Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY], [-7], [2147483648n]]);
  });

  it('keeps every row across chunk borders, and stops at the limit', async () => {
    const rows = 5000;
    const sql = `SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'row-' || i END AS s FROM range(${String(rows)}) t(i) ORDER BY i`;
    const body = await msgpack(sql);
    expect(body.row_count).toBe(rows);
    expect(body.data[0]).toEqual(Array.from({ length: rows }, (_, i) => i));
    expect(body.data[1]).toEqual(Array.from({ length: rows }, (_, i) => (i % 3 === 0 ? null : `row-${String(i)}`)));
    const limited = await msgpack(sql, 2049);
    expect(limited.row_count).toBe(2049);
    expect(limited.data[1]).toHaveLength(2049);
  });

  it('sends BLOB as bin, long strings whole, every integer width, and more than 15 columns', async () => {
    const long = 'x'.repeat(300);
    const integers = [0, 127, 128, 255, 256, 65535, 65536, 2147483647, -1, -32, -33, -128, -129, -32768, -32769, -2147483648];
    const sql = `SELECT '\\xAA\\x00'::BLOB AS b, '${long}' AS long, ${integers.map((value, index) => `${String(value)}::BIGINT AS i${String(index)}`).join(', ')}`;
    const body = await msgpack(sql);
    expect(body.columns).toHaveLength(2 + integers.length);
    expect(body.types.slice(0, 3)).toEqual(['binary', 'string', 'int64']);
    expect(Buffer.from(body.data[0]?.[0] as Uint8Array).toString('hex')).toBe('aa00');
    expect(body.data[1]).toEqual([long]);
    expect(body.data.slice(2).map((column) => column[0])).toEqual(integers);
  });
});

