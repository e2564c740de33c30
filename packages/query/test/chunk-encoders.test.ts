// Proves the chunk encoders of POST /query/stream: CSV chunks concatenate to exactly the CSV
// answer's bytes, and NDJSON has one JSON object per row whose values are the JSON answer's, by
// streaming real DuckDB results through both and comparing.
import type { DuckDBResult } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createChunkEncoder } from '../src/chunk-encoders.js';
import type { StreamFormat } from '../src/chunk-encoders.js';
import { encodeCsvAnswer } from '../src/csv-answer.js';
import { encodeJsonAnswer } from '../src/json-answer.js';
import { sharedConnection } from './duckdb-connection.js';
import { TYPED_SQL } from './fixtures.js';

const connection = sharedConnection();

const NOT_CANCELLED = (): boolean => false;

/** Streams `sql` through a chunk encoder; each piece is what encodeChunk returned. */
async function streamed(format: StreamFormat, sql: string, rowLimit = Infinity): Promise<{ pieces: Uint8Array[]; text: string }> {
  const result = await connection().stream(sql);
  const encoder = createChunkEncoder(format, result);
  const pieces = [encoder.start()];
  let rows = 0;
  while (rows < rowLimit) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const used = Math.min(chunk.rowCount, rowLimit - rows);
    pieces.push(encoder.encodeChunk(chunk, used));
    rows += used;
  }
  return { pieces, text: Buffer.concat(pieces).toString('utf8') };
}

async function answer(sql: string, encode: (result: DuckDBResult) => Promise<{ body: Uint8Array } | null>): Promise<string> {
  const encoded = await encode(await connection().stream(sql));
  if (encoded === null) throw new Error('not encoded');
  return Buffer.from(encoded.body).toString('utf8');
}

const MIXED_SQL = `SELECT TIMESTAMP '2025-10-16 16:00:00' + INTERVAL (i) SECOND AS time, 'host-' || (i % 7) AS host,
  CASE WHEN i % 3 = 0 THEN NULL ELSE i / 4 END AS v, 'say "hi", ' || chr(10) || i AS quoted, 'nan'::DOUBLE AS nan
  FROM range(5000) t(i) ORDER BY i`;

describe('CSV chunk encoder', () => {
  it('concatenates to the CSV answer byte for byte, header first', async () => {
    const { pieces, text } = await streamed('csv', MIXED_SQL);
    expect(pieces.length).toBeGreaterThan(2);
    expect(Buffer.from(pieces[0] ?? []).toString()).toBe('time,host,v,quoted,nan\r\n');
    expect(text).toBe(await answer(MIXED_SQL, (result) => encodeCsvAnswer(result, Infinity, NOT_CANCELLED)));
  });

  it('writes every type as the CSV answer does', async () => {
    expect((await streamed('csv', TYPED_SQL)).text).toBe(await answer(TYPED_SQL, (result) => encodeCsvAnswer(result, Infinity, NOT_CANCELLED)));
  });

  it('sends the header alone for an empty result, and only the first rowCount rows of a chunk', async () => {
    expect((await streamed('csv', 'SELECT 1 AS a, 2 AS b WHERE false')).text).toBe('a,b\r\n');
    expect((await streamed('csv', 'SELECT i FROM range(10) t(i) ORDER BY i', 3)).text).toBe('i\r\n0\r\n1\r\n2\r\n');
  });
});

describe('NDJSON chunk encoder', () => {
  it('writes one object per row, keys in column order, values as in the JSON answer', async () => {
    const { pieces, text } = await streamed('ndjson', MIXED_SQL);
    expect(pieces[0]).toHaveLength(0);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(5000);
    expect(lines[1]).toBe('{"time":"2025-10-16T16:00:01Z","host":"host-1","v":0.25,"quoted":"say \\"hi\\", \\n1","nan":null}');
    const json = JSON.parse(await answer(MIXED_SQL, (result) => encodeJsonAnswer(result, 0, Infinity, NOT_CANCELLED))) as { columns: string[]; data: unknown[][] };
    const expected = json.data.map((row) => Object.fromEntries(json.columns.map((name, index) => [name, row[index]])));
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(expected);
  });

  it('encodes every type as the JSON answer does', async () => {
    const text = (await streamed('ndjson', TYPED_SQL)).text;
    const json = JSON.parse(await answer(TYPED_SQL, (result) => encodeJsonAnswer(result, 0, Infinity, NOT_CANCELLED))) as { columns: string[]; data: unknown[][] };
    const objects = text.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects.map((object) => Object.keys(object))).toEqual([json.columns, json.columns]);
    expect(objects.map((object) => Object.values(object))).toEqual(json.data);
  });

  it('hands out a fresh copy per chunk and nothing for an empty result', async () => {
    const { pieces } = await streamed('ndjson', 'SELECT i FROM range(5000) t(i) ORDER BY i');
    const buffers = new Set(pieces.map((piece) => piece.buffer));
    expect(buffers.size).toBe(pieces.length);
    expect(Buffer.from(pieces[1] ?? []).toString().startsWith('{"i":0}\n{"i":1}\n')).toBe(true);
    expect((await streamed('ndjson', 'SELECT 1 AS a WHERE false')).text).toBe('');
  });
});
