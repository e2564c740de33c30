// Proves the Arrow answer is an IPC stream that apache-arrow's tableFromIPC reads back with the
// documented types and exact values (every kind, NULLs, unicode, many batches, the row limit), by
// running SQL through a real pool and parsing the bytes it returns.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { Message, MessageHeader, MetadataVersion, tableFromIPC } from 'apache-arrow';
import type { Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { TYPED_SQL, answerBytes, sharedPool } from './fixtures.js';

const pool = sharedPool();

async function arrow(sql: string, limit?: number): Promise<Table> {
  const answer = await answerBytes(pool(), sql, 'arrow', limit);
  expect(answer.contentType).toBe('application/vnd.apache.arrow.stream');
  const table = tableFromIPC(answer.body);
  expect(table.numRows).toBe(answer.rowCount);
  return table;
}

/** The stored (physical) value of `column` at `row`: BigInt for 64-bit kinds, no unit conversion. */
function raw(table: Table, column: string, row: number): unknown {
  const vector = table.getChild(column);
  if (vector === null) throw new Error(`no column ${column}`);
  const data = vector.data[0];
  if (data === undefined) throw new Error(`no data in ${column}`);
  return data.values[row];
}

describe('Arrow answer', () => {
  it('types every column as documented', async () => {
    const table = await arrow(TYPED_SQL);
    expect(table.schema.fields.map((field) => `${field.name}:${String(field.type)}`)).toEqual([
      'bool_v:Bool', 'i8:Int8', 'i16:Int16', 'i32:Int32', 'u8:Uint8', 'u16:Uint16', 'u32:Uint32', 'i64:Int64', 'u64:Uint64',
      'i128:Utf8', 'f32:Float32', 'f64:Float64', 's:Utf8', 'short:Utf8', 'd:Date32<DAY>',
      'ts:Timestamp<MICROSECOND, UTC>', 'tstz:Timestamp<MICROSECOND, UTC>', 'ts_s:Timestamp<SECOND, UTC>',
      'ts_ms:Timestamp<MILLISECOND, UTC>', 'ts_ns:Timestamp<NANOSECOND, UTC>', 'dec:Utf8', 'iv:Utf8', 'list:Utf8',
    ]);
  });

  it('carries exact values, and NULL in every column of the second row', async () => {
    const table = await arrow(TYPED_SQL);
    const first = table.get(0)?.toJSON();
    expect(first).toMatchObject({
      bool_v: true, i8: -5, i16: -300, i32: -70000, u8: 200, u16: 60000, u32: 4000000000,
      i64: -9007199254740993n, u64: 18446744073709551615n, i128: '170141183460469231731687303715884105727',
      f32: Math.fround(0.1), f64: 0.1, s: 'ünï, "q" ✓\nlong enough to leave the inline form', short: '日本',
      dec: '12.30', iv: '1 day', list: '[1, 2]',
    });
    expect(raw(table, 'd', 0)).toBe(Date.UTC(2025, 9, 16) / 86_400_000);
    expect(raw(table, 'ts', 0)).toBe(1_760_630_400_123_456n);
    expect(raw(table, 'tstz', 0)).toBe(1_760_630_400_000_000n);
    expect(raw(table, 'ts_s', 0)).toBe(1_760_630_401n);
    expect(raw(table, 'ts_ms', 0)).toBe(1_760_630_400_500n);
    expect(raw(table, 'ts_ns', 0)).toBe(1_760_630_400_123_456_789n);
    const second = table.get(1)?.toJSON() ?? {};
    expect(Object.values(second).every((value) => value === null)).toBe(true);
    expect(Object.keys(second)).toHaveLength(23);
  });

  it('answers an empty result with the schema and no rows', async () => {
    const table = await arrow("SELECT 1::BIGINT AS a, 'x' AS b WHERE false");
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((field) => `${field.name}:${String(field.type)}`)).toEqual(['a:Int64', 'b:Utf8']);
  });

  it('keeps every row and NULL across chunk and batch borders, and stops at the limit', async () => {
    // More rows than one record batch (65,536) holds, so chunks join into batches and batches follow.
    const rows = 70_000;
    const sql = `SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'row-' || i END AS s, i % 2 = 0 AS even,
      TIMESTAMP '2025-10-16 16:00:00' + INTERVAL (i) SECOND AS t FROM range(${String(rows)}) t(i) ORDER BY i`;
    const table = await arrow(sql);
    expect(table.numRows).toBe(rows);
    expect(table.batches.length).toBeGreaterThan(1);
    const indexes = Array.from({ length: rows }, (_, i) => i);
    expect(Array.from(table.getChild('i')?.toArray() as BigInt64Array, Number)).toEqual(indexes);
    expect(Array.from(table.getChild('s') ?? [])).toEqual(indexes.map((i) => (i % 3 === 0 ? null : `row-${String(i)}`)));
    expect(Array.from(table.getChild('even') ?? [])).toEqual(indexes.map((i) => i % 2 === 0));
    expect(Array.from(table.getChild('t') ?? [])).toEqual(indexes.map((i) => Date.UTC(2025, 9, 16, 16) + i * 1000));
    const limited = await arrow(sql, 2049);
    expect(limited.numRows).toBe(2049);
    expect(limited.getChild('s')?.get(2048)).toBe('row-2048');
  });

  it('frames every message 8-byte aligned (metadata, body, each buffer) and ends with the end-of-stream marker', async () => {
    const answer = await answerBytes(pool(), TYPED_SQL.replace('FROM range(2)', 'FROM range(3000)'), 'arrow');
    const bytes = answer.body;
    const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const kinds: string[] = [];
    let position = 0;
    for (;;) {
      expect(data.getUint32(position, true)).toBe(0xffff_ffff);
      const metadataBytes = data.getInt32(position + 4, true);
      if (metadataBytes === 0) break;
      expect(metadataBytes % 8).toBe(0);
      const message = Message.decode(bytes.subarray(position + 8, position + 8 + metadataBytes));
      expect(message.version).toBe(MetadataVersion.V5);
      expect(message.bodyLength % 8).toBe(0);
      if (message.isRecordBatch()) {
        kinds.push('batch');
        for (const buffer of message.header().buffers) expect(buffer.offset % 8).toBe(0);
      } else {
        kinds.push(message.headerType === MessageHeader.Schema ? 'schema' : 'other');
      }
      position += 8 + metadataBytes + message.bodyLength;
    }
    expect(position + 8).toBe(bytes.length);
    expect(kinds).toEqual(['schema', 'batch', 'batch']);
  });

  it('sends BLOB as Binary with the exact bytes', async () => {
    const table = await arrow("SELECT '\\xAA\\x00\\xFF'::BLOB AS b UNION ALL SELECT NULL UNION ALL SELECT 'a blob long enough to leave the inline form'::BLOB");
    expect(String(table.schema.fields[0]?.type)).toBe('Binary');
    const values = Array.from(table.getChild('b') ?? [], (value) => (value === null ? null : Buffer.from(value as Uint8Array).toString('hex')));
    expect(values.slice().sort()).toEqual(
      ['aa00ff', Buffer.from('a blob long enough to leave the inline form').toString('hex'), null].sort(),
    );
  });

  it('carries strings of every length around the inline limit (12 bytes) exactly, with NULLs between them', async () => {
    const rows = 5000;
    const table = await arrow(
      `SELECT CASE WHEN i % 7 = 3 THEN NULL ELSE repeat('x', i % 23) || 'é' END AS s FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    expect(Array.from(table.getChild('s') ?? [])).toEqual(Array.from({ length: rows }, (_, i) => (i % 7 === 3 ? null : `${'x'.repeat(i % 23)}é`)));
  });

  it('keeps NULLs in fixed-width, boolean and long string columns across chunks', async () => {
    const rows = 5000;
    const sql = `SELECT CASE WHEN i % 3 = 0 THEN NULL ELSE i END::INTEGER AS n, CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 = 0 END AS b,
      CASE WHEN i % 5 = 0 THEN NULL ELSE 'a string longer than twelve bytes ' || i END AS s,
      CASE WHEN i % 7 = 0 THEN NULL ELSE i * 0.5 END::DOUBLE AS d FROM range(${String(rows)}) t(i) ORDER BY i`;
    const table = await arrow(sql);
    const indexes = Array.from({ length: rows }, (_, i) => i);
    expect(Array.from(table.getChild('n') ?? [])).toEqual(indexes.map((i) => (i % 3 === 0 ? null : i)));
    expect(Array.from(table.getChild('b') ?? [])).toEqual(indexes.map((i) => (i % 4 === 0 ? null : i % 2 === 0)));
    expect(Array.from(table.getChild('s') ?? [])).toEqual(indexes.map((i) => (i % 5 === 0 ? null : `a string longer than twelve bytes ${String(i)}`)));
    expect(Array.from(table.getChild('d') ?? [])).toEqual(indexes.map((i) => (i % 7 === 0 ? null : i * 0.5)));
    expect(table.getChild('n')?.nullCount).toBe(indexes.filter((i) => i % 3 === 0).length);
  });
});
