// Proves that rows written over MessagePack come back through the real server as CSV, Arrow IPC
// and columnar msgpack with the same values as the JSON answer, that `limit` caps every format,
// and that a bad format or limit is a 400 naming it.
import { expectCleanStopAndRemove } from './support/clean-stop.js';
import { tableFromIPC } from 'apache-arrow';
import { Unpackr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArcClient, msgpack } from './support/arc-client.js';
import { startArc, type ArcProcess } from './support/arc-process.js';
import type { MsgpackQueryAnswer } from '@arc/query';

let arc: ArcProcess;
let client: ArcClient;

const DATABASE = 'formats_db';
const ROWS = 3000; // more than one DuckDB chunk (2048 rows)
const T0 = Date.UTC(2025, 9, 16, 16, 0, 0);
const SQL = 'SELECT time, host, i, f, s, b FROM fmt ORDER BY time';
const TEXTS = ['plain', 'comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\nend', 'ünïcødé ✓ 日本'];

function row(index: number): Record<string, unknown> {
  const fields: Record<string, unknown> = { i: index * 1000, f: index + 0.25, b: index % 3 === 0 };
  // Every seventh row has no `s` (a NULL in the answer), the row before it an empty string.
  if (index % 7 === 5) fields.s = '';
  else if (index % 7 !== 6) fields.s = `${TEXTS[index % TEXTS.length] ?? ''}${String(index)}`;
  return { m: 'fmt', t: T0 + index * 1000, h: `host-${String(index % 5)}`, fields };
}

beforeAll(async () => {
  arc = await startArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });
  client = new ArcClient(arc.url);
  const rows = Array.from({ length: ROWS }, (_, index) => row(index));
  const written = await client.write(msgpack({ batch: rows }), { database: DATABASE });
  expect(written.status, written.text).toBe(204);
  expect((await client.flush()).status).toBe(200);
});

afterAll(async () => {
  await expectCleanStopAndRemove(arc);
});

interface BinaryAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly bytes: Uint8Array;
}

/** POSTs a query body and keeps the answer as bytes (Arrow and msgpack are not text). */
async function postQuery(path: string, body: Record<string, unknown>): Promise<BinaryAnswer> {
  const headers = { ...client.authHeaders(), 'Content-Type': 'application/json', 'x-arc-database': DATABASE };
  const response = await fetch(`${arc.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', bytes: new Uint8Array(await response.arrayBuffer()) };
}

function text(answer: BinaryAnswer): string {
  return Buffer.from(answer.bytes).toString('utf8');
}

/** A strict RFC 4180 reader: records end in CRLF; quoted fields may hold anything. */
function parseCsv(source: string): (string | null)[][] {
  const records: (string | null)[][] = [];
  let record: (string | null)[] = [];
  let at = 0;
  while (at < source.length) {
    let field = '';
    let quoted = false;
    if (source[at] === '"') {
      quoted = true;
      at++;
      for (;;) {
        const next = source.indexOf('"', at);
        if (next < 0) throw new Error('unterminated quote');
        field += source.slice(at, next);
        at = next + 1;
        if (source[at] !== '"') break;
        field += '"';
        at++;
      }
    } else {
      while (at < source.length && source[at] !== ',' && source[at] !== '\r') field += source[at++] ?? '';
    }
    // A bare empty field is NULL; a quoted empty one is the empty string.
    record.push(field === '' && !quoted ? null : field);
    if (source[at] === ',') {
      at++;
      continue;
    }
    if (source.slice(at, at + 2) !== '\r\n') throw new Error(`expected CRLF at ${String(at)}`);
    at += 2;
    records.push(record);
    record = [];
  }
  return records;
}

/** The JSON answer's rows: scalars only (the table has no nested types). */
let expected: (string | number | boolean | null)[][] = [];

describe('answer formats through the server', () => {
  it('has the JSON answer to compare with', async () => {
    expected = (await client.rows(SQL, DATABASE)) as typeof expected;
    expect(expected).toHaveLength(ROWS);
    expect(expected[0]).toEqual(['2025-10-16T16:00:00Z', 'host-0', 0, 0.25, 'plain0', true]);
    expect(expected[6]?.[4]).toBeNull();
    expect(expected[5]?.[4]).toBe('');
  });

  it('answers format csv as RFC 4180 text with the JSON values', async () => {
    const answer = await postQuery('/query', { sql: SQL, format: 'csv' });
    expect(answer.status, text(answer)).toBe(200);
    expect(answer.contentType).toBe('text/csv; charset=utf-8');
    const records = parseCsv(text(answer));
    expect(records[0]).toEqual(['time', 'host', 'i', 'f', 's', 'b']);
    expect(records).toHaveLength(ROWS + 1);
    const asText = expected.map((values) => values.map((value) => (value === null ? null : String(value))));
    expect(records.slice(1)).toEqual(asText);
  });

  it('answers /api/v1/query/arrow and format arrow with an Arrow IPC stream of typed columns', async () => {
    for (const [path, body] of [['/api/v1/query/arrow', { sql: SQL }], ['/api/v1/query', { sql: SQL, format: 'arrow' }]] as const) {
      const answer = await postQuery(path, body);
      expect(answer.status, text(answer)).toBe(200);
      expect(answer.contentType).toBe('application/vnd.apache.arrow.stream');
      const table = tableFromIPC(answer.bytes);
      expect(table.schema.fields.map((field) => `${field.name}:${String(field.type)}`)).toEqual([
        'time:Timestamp<MICROSECOND, UTC>',
        'host:Utf8',
        'i:Int64',
        'f:Float64',
        's:Utf8',
        'b:Bool',
      ]);
      expect(table.numRows).toBe(ROWS);
      const rows = table.toArray().map((item: Record<string, unknown>) => [
        new Date(Number(item.time)).toISOString().replace('.000Z', 'Z'),
        item.host,
        Number(item.i),
        item.f,
        item.s,
        item.b,
      ]);
      expect(rows).toEqual(expected);
    }
  });

  it('answers /api/v1/query/msgpack column-major with Arrow type names and integer microseconds', async () => {
    const answer = await postQuery('/api/v1/query/msgpack', { sql: SQL });
    expect(answer.status, text(answer)).toBe(200);
    expect(answer.contentType).toBe('application/msgpack');
    const body = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(answer.bytes) as MsgpackQueryAnswer;
    expect(Object.keys(body)).toEqual(['success', 'columns', 'types', 'data', 'row_count', 'execution_time_ms', 'timestamp']);
    expect(body.success).toBe(true);
    expect(body.columns).toEqual(['time', 'host', 'i', 'f', 's', 'b']);
    expect(body.types).toEqual(['timestamp[us, tz=UTC]', 'string', 'int64', 'double', 'string', 'bool']);
    expect(body.row_count).toBe(ROWS);
    const [time, ...rest] = body.data;
    expect(time?.[1]).toBe(BigInt(T0 + 1000) * 1000n);
    const rows = expected.map((values, index) => [
      new Date(Number((time?.[index] as bigint) / 1000n)).toISOString().replace('.000Z', 'Z'),
      ...rest.map((column) => column[index]),
    ]);
    expect(rows).toEqual(expected);
  });

  it('caps every format at limit rows without touching the SQL', async () => {
    const csv = await postQuery('/query', { sql: SQL, format: 'csv', limit: 10 });
    expect(parseCsv(text(csv))).toHaveLength(11);
    const arrow = await postQuery('/api/v1/query/arrow', { sql: SQL, limit: 2500 });
    expect(tableFromIPC(arrow.bytes).numRows).toBe(2500);
    const json = await postQuery('/query', { sql: SQL, limit: 2049 });
    expect((JSON.parse(text(json)) as { row_count: number }).row_count).toBe(2049);
    const packed = await postQuery('/api/v1/query/msgpack', { sql: `${SQL} LIMIT 3`, limit: 5 });
    expect((new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(packed.bytes) as { row_count: number }).row_count).toBe(3);
  });

  it('refuses a bad limit and an unknown format with a 400 that names them', async () => {
    for (const limit of [0, -1, 1.5, '5', 1e12]) {
      const answer = await postQuery('/query', { sql: SQL, limit });
      expect(answer.status).toBe(400);
      const body = JSON.parse(text(answer)) as { success: boolean; error: string; code: string };
      expect(body.success).toBe(false);
      expect(body.code).toBe('ARC_QUERY_BAD_LIMIT');
      expect(body.error).toMatch(/"limit" must be an integer from 1 to 1000000000/);
    }
    const answer = await postQuery('/query', { sql: SQL, format: 'parquet' });
    expect(answer.status).toBe(400);
    expect((JSON.parse(text(answer)) as { error: string }).error).toBe('Unsupported format "parquet"; supported: json, csv, arrow, msgpack');
  });
});
