// Proves the CSV answer follows RFC 4180 and the documented value rules (NULL empty, NaN/Infinity
// spelled out, timestamps RFC 3339 UTC, quoting and unicode, every row across chunk borders, the
// row limit) by running SQL through a real pool and comparing the exact bytes it returns.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { describe, expect, it } from 'vitest';
import { TYPED_SQL, answerBytes, instantText, sharedPool } from './fixtures.js';

const pool = sharedPool();

async function csv(sql: string, limit?: number): Promise<string> {
  const answer = await answerBytes(pool(), sql, 'csv', limit);
  expect(answer.contentType).toBe('text/csv; charset=utf-8');
  return Buffer.from(answer.body).toString('utf8');
}

describe('CSV answer', () => {
  it('writes every type as its JSON text without JSON quotes, and NULL as an empty field', async () => {
    const lines = (await csv(TYPED_SQL)).split('\r\n');
    expect(lines[0]).toBe('bool_v,i8,i16,i32,u8,u16,u32,i64,u64,i128,f32,f64,s,short,d,ts,tstz,ts_s,ts_ms,ts_ns,dec,iv,list');
    expect(lines.slice(1)).toEqual([
      'true,-5,-300,-70000,200,60000,4000000000,-9007199254740993,18446744073709551615,170141183460469231731687303715884105727,' +
        '0.1,0.1,"ünï, ""q"" ✓\nlong enough to leave the inline form",日本,2025-10-16,2025-10-16T16:00:00.123456Z,' +
        '2025-10-16T16:00:00Z,2025-10-16T16:00:01Z,2025-10-16T16:00:00.500Z,2025-10-16T16:00:00.123456789Z,12.30,1 day,"[1, 2]"',
      ',,,,,,,,,,,,,,,,,,,,,,',
      '',
    ]);
  });

  it('quotes fields with a comma, quote, CR or LF (also in column names), keeps "" apart from NULL, spells NaN and infinities', async () => {
    const text = await csv(
      `SELECT 'a,b' AS "x,y", 'say "hi"' AS q, 'cr' || chr(13) || 'x' AS cr, 'lf' || chr(10) AS lf, '' AS empty, NULL::VARCHAR AS n,
        'nan'::DOUBLE AS nan, 'inf'::DOUBLE AS inf, '-inf'::DOUBLE AS ninf, 'nan'::FLOAT AS fnan, 'plain' AS p`,
    );
    expect(text).toBe('"x,y",q,cr,lf,empty,n,nan,inf,ninf,fnan,p\r\n"a,b","say ""hi""","cr\rx","lf\n","",,NaN,Infinity,-Infinity,NaN,plain\r\n');
  });

  it('writes runs of timestamps within a second, across seconds, before 1970 and repeated, each in full and unquoted', async () => {
    const rows = 6000;
    const startMicros = Date.UTC(1969, 11, 31, 23, 59, 30) * 1000;
    const text = await csv(`SELECT TIMESTAMP '1969-12-31 23:59:30' + to_microseconds((i // 3) * 37_123) AS t FROM range(${String(rows)}) t(i) ORDER BY i`);
    const expected = Array.from({ length: rows }, (_, i) => instantText(startMicros + Math.floor(i / 3) * 37_123));
    expect(text).toBe(`t\r\n${expected.join('\r\n')}\r\n`);
  });

  it('answers an empty result with the header only', async () => {
    expect(await csv('SELECT 1 AS a, 2 AS b WHERE false')).toBe('a,b\r\n');
  });

  it('keeps every row across chunk borders, and stops at the limit', async () => {
    const rows = 5000;
    const sql = `SELECT i, 'row-' || i AS s, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 2 END AS f FROM range(${String(rows)}) t(i) ORDER BY i`;
    const expected = Array.from({ length: rows }, (_, i) => `${String(i)},row-${String(i)},${i % 3 === 0 ? '' : String(i / 2)}`);
    expect(await csv(sql)).toBe(`i,s,f\r\n${expected.join('\r\n')}\r\n`);
    expect(await csv(sql, 2049)).toBe(`i,s,f\r\n${expected.slice(0, 2049).join('\r\n')}\r\n`);
    const answer = await answerBytes(pool(), sql, 'csv', 3);
    expect(answer.rowCount).toBe(3);
  });

  it('writes BLOB as base64, big numbers with every digit, nested values in DuckDB\'s text', async () => {
    const text = await csv(
      `SELECT '\\xAA\\xBB'::BLOB AS b, 12345678901234567.89::DECIMAL(38,2) AS d, 9007199254740993::BIGINT AS i,
        {'a': 1, 'b': 'x'} AS st, MAP {'k': 1} AS m, INTERVAL '1 month 2 days' AS iv, [DATE '2025-10-16'] AS l`,
    );
    expect(text).toBe(`b,d,i,st,m,iv,l\r\nqrs=,12345678901234567.89,9007199254740993,"{'a': 1, 'b': 'x'}",{'k': 1},1 month 2 days,[2025-10-16]\r\n`);
  });

  it('writes repeated timestamps in full every time', async () => {
    const text = await csv("SELECT TIMESTAMP '2025-10-16 16:00:00.5' + INTERVAL (i // 3) SECOND AS t FROM range(7) t(i) ORDER BY i");
    const seconds = [0, 0, 0, 1, 1, 1, 2];
    expect(text).toBe(`t\r\n${seconds.map((second) => `2025-10-16T16:00:0${String(second)}.500000Z\r\n`).join('')}`);
  });
});
