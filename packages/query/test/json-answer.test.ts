// Proves the JSON answer has the documented shape and that every encoding rule holds
// (timestamps, NaN/Inf, big integers, booleans, escaping, NULL, dates, decimals, chunk borders),
// by running SQL literals through a real pool and parsing the bytes it returns.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { describe, expect, it } from 'vitest';
import { instantText, query, sharedPool } from './fixtures.js';

const pool = sharedPool();

/** The single value of a one-row, one-column answer. */
async function value(expression: string): Promise<unknown> {
  const answer = await query(pool(), `SELECT ${expression} AS v`);
  expect(answer.data).toHaveLength(1);
  return answer.data[0]?.[0];
}

describe('JSON answer shape', () => {
  it('is exactly {success, columns, data, row_count, execution_time_ms, timestamp}', async () => {
    const answer = await pool().run({ sql: "SELECT 1 AS a, 'x' AS b UNION ALL SELECT 2, 'y' ORDER BY a", database: 'default', format: 'json' });
    expect(answer.contentType).toBe('application/json');
    expect(answer.rowCount).toBe(2);
    const text = Buffer.from(answer.body).toString('utf8');
    expect(text).toMatch(
      /^\{"success":true,"columns":\["a","b"\],"data":\[\[1,"x"\],\[2,"y"\]\],"row_count":2,"execution_time_ms":[0-9.]+,"timestamp":"[^"]+"\}$/,
    );
    const parsed = JSON.parse(text) as { timestamp: string; execution_time_ms: number };
    expect(Number.isNaN(Date.parse(parsed.timestamp))).toBe(false);
    expect(parsed.timestamp.endsWith('Z')).toBe(true);
    expect(parsed.execution_time_ms).toBeGreaterThanOrEqual(0);
  });

  it('answers an empty result with no rows', async () => {
    const answer = await query(pool(), 'SELECT 1 AS a WHERE false');
    expect(answer.columns).toEqual(['a']);
    expect(answer.data).toEqual([]);
    expect(answer.row_count).toBe(0);
  });

  it('keeps every row across chunk borders and buffer growth', async () => {
    const rows = 100_000;
    // Constant columns come from DuckDB as constant vectors; every row must still carry the value.
    const answer = await query(
      pool(),
      `SELECT i, 'value-number-' || i AS s, 7 AS seven, 'same' AS same, NULL AS nothing FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    expect(answer.row_count).toBe(rows);
    expect(answer.data).toHaveLength(rows);
    expect(answer.data[0]).toEqual([0, 'value-number-0', 7, 'same', null]);
    expect(answer.data[2047]).toEqual([2047, 'value-number-2047', 7, 'same', null]);
    expect(answer.data[2048]).toEqual([2048, 'value-number-2048', 7, 'same', null]);
    expect(answer.data[rows - 1]).toEqual([rows - 1, `value-number-${String(rows - 1)}`, 7, 'same', null]);
    expect(answer.data.every((row, index) => row[0] === index && row[2] === 7 && row[3] === 'same')).toBe(true);
  });
  it('reads every long string (more than 12 bytes) exactly, whatever their lengths, NULLs and repeats', async () => {
    const rows = 10_000;
    const answer = await query(
      pool(),
      `SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE repeat('é', 7 + i % 150) || '-' || i END AS varied,
        'the same long string in every row' AS same, CASE WHEN i % 2 = 0 THEN 'short' ELSE 'long value number ' || i END AS mixed
        FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    const expected = Array.from({ length: rows }, (_, i) => [
      i % 11 === 0 ? null : `${'é'.repeat(7 + (i % 150))}-${String(i)}`,
      'the same long string in every row',
      i % 2 === 0 ? 'short' : `long value number ${String(i)}`,
    ]);
    expect(answer.data).toEqual(expected);
  });

  it('reads long strings whether their bytes lie in row order or shuffled in memory', async () => {
    // Without ORDER BY, a one-thread scan allocates the strings in row order; ORDER BY hash moves
    // the entries but not their bytes. Both ways must read every value.
    const inOrder = await query(pool(), "SELECT 'a long string value number ' || i AS s FROM range(5000) t(i)");
    expect(inOrder.data.map((row) => row[0])).toEqual(Array.from({ length: 5000 }, (_, i) => `a long string value number ${String(i)}`));
    const shuffled = await query(pool(), "SELECT i, 'a long string value number ' || i AS s FROM range(5000) t(i) ORDER BY hash(i)");
    expect(shuffled.data.every(([i, s]) => s === `a long string value number ${String(i)}`)).toBe(true);
    expect(shuffled.data).toHaveLength(5000);
  });

  it('writes repeated short strings (inline, up to 12 bytes) exactly, those with bytes to escape every time', async () => {
    // Tags repeat: the first time a value is written its bytes are checked, repeats are copied.
    const values = ['', 'a', 'host-1', 'eu-west-1', 'exactly12byt', 'say "hi"', 'tab\there', 'back\\slash', 'é-ü-ñ', '🚀x', 'nl\nx', 'a"'];
    const rows = 5000;
    const list = values.map((text) => `'${text.replaceAll("'", "''")}'`).join(', ');
    const answer = await query(
      pool(),
      `SELECT CASE WHEN i % 13 = 12 THEN NULL ELSE [${list}][1 + (i % 13)] END AS s FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    expect(answer.data).toEqual(Array.from({ length: rows }, (_, i) => [i % 13 === 12 ? null : values[i % 13]]));
  });

  it('reads long strings that start late in a chunk, after rows of short ones, and chunks with none', async () => {
    // Long values are gathered when the first of them is read: a chunk's first long value at row
    // 2000 (or its last row) must still find every later one, and the next chunk starts afresh.
    const rows = 3 * 2048;
    const answer = await query(
      pool(),
      `SELECT CASE WHEN i % 2048 < 2000 OR i >= 4096 THEN 'short ' || (i % 10) WHEN i % 3 = 0 THEN NULL ELSE 'a long string value number ' || i END AS s,
        CASE WHEN i % 2048 = 2047 THEN 'the only long value of its chunk ' || i ELSE 'x' END AS last
        FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    const expected = Array.from({ length: rows }, (_, i) => [
      i % 2048 < 2000 || i >= 4096 ? `short ${String(i % 10)}` : i % 3 === 0 ? null : `a long string value number ${String(i)}`,
      i % 2048 === 2047 ? `the only long value of its chunk ${String(i)}` : 'x',
    ]);
    expect(answer.data).toEqual(expected);
  });
});

/** The `data` array of the JSON answer to `sql`, as the bytes the pool wrote (not parsed). */
async function dataText(sql: string): Promise<string> {
  const text = Buffer.from((await pool().run({ sql, database: 'default', format: 'json' })).body).toString('utf8');
  const start = text.indexOf('"data":') + '"data":'.length;
  return text.slice(start, text.lastIndexOf(',"row_count":'));
}

describe('fast paths, byte for byte', () => {
  // JSON.stringify escapes exactly what the answer escapes (quote, backslash, bytes below 0x20 as
  // \b \t \n \f \r or \u00xx) and writes integers the same way, so it gives the expected bytes.

  it('writes long strings read four bytes at a time with a byte to escape or beyond ASCII at every position', async () => {
    // 3,000 rows of 13-40 bytes: every chunk gathers its long values into runs (the word-wise copy);
    // the special text moves through all four positions of a word and into the tail bytes.
    const specials: readonly (readonly [string, string])[] = [
      ["'\"'", '"'],
      ["'\\'", '\\'],
      ['chr(1)', '\u0001'],
      ['chr(31)', '\u001f'],
      ["' '", ' '],
      ['chr(127)', '\u007f'],
      ["'é'", 'é'],
      ["'🚀'", '🚀'],
      ["'日'", '日'],
      ["'x'", 'x'],
    ];
    const rows = 3000;
    const list = specials.map(([sql]) => sql).join(', ');
    const sql = `SELECT CASE WHEN i % 17 = 16 THEN NULL ELSE repeat('a', i % 23) || [${list}][1 + i % 10] || repeat('b', 12 + i % 5) END AS s
      FROM range(${String(rows)}) t(i) ORDER BY i`;
    const expected = Array.from({ length: rows }, (_, i) => [
      i % 17 === 16 ? null : `${'a'.repeat(i % 23)}${(specials[i % 10] as readonly [string, string])[1]}${'b'.repeat(12 + (i % 5))}`,
    ]);
    expect(await dataText(sql)).toBe(JSON.stringify(expected));
  });

  it('writes integers around the edges of the small-number table exactly, in every integer type', async () => {
    const sql = `SELECT i::BIGINT AS big, i::INTEGER AS int, i::SMALLINT AS small, (i + 1100)::UINTEGER AS unsigned, (i * 1000003)::BIGINT AS large
      FROM range(-1100, 1100) t(i) ORDER BY i`;
    const expected = Array.from({ length: 2200 }, (_, index) => {
      const i = index - 1100;
      return [i, i, i, i + 1100, i * 1000003];
    });
    expect(await dataText(sql)).toBe(JSON.stringify(expected));
  });

  it('writes rows whose columns change kind from one to the next, with NULLs in each, in column order', async () => {
    const rows = 2500;
    const sql = `SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE TIMESTAMP '2024-01-01 00:00:00' + to_seconds(i) END AS t,
        CASE WHEN i % 5 = 0 THEN NULL ELSE 'tag-' || (i % 3) END AS a, CASE WHEN i % 6 = 0 THEN NULL ELSE i::BIGINT END AS n,
        'region-' || (i % 4) AS b, CASE WHEN i % 4 = 0 THEN NULL ELSE i / 4 END::DOUBLE AS d, i % 2 = 0 AS flag, i::INTEGER AS m,
        i::BIGINT * 2 AS n2, i::BIGINT * 3 AS n3
      FROM range(${String(rows)}) t(i) ORDER BY i`;
    const expected = Array.from({ length: rows }, (_, i) => [
      i % 7 === 0 ? null : new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString().replace('.000Z', 'Z'),
      i % 5 === 0 ? null : `tag-${String(i % 3)}`,
      i % 6 === 0 ? null : i,
      `region-${String(i % 4)}`,
      i % 4 === 0 ? null : i / 4,
      i % 2 === 0,
      i,
      i * 2,
      i * 3,
    ]);
    expect(await dataText(sql)).toBe(JSON.stringify(expected));
  });
});

describe('encoding rules', () => {
  it('writes TIMESTAMP and TIMESTAMPTZ as RFC 3339 UTC, with microseconds only when non-zero', async () => {
    expect(await value("TIMESTAMP '2025-10-16 16:00:00'")).toBe('2025-10-16T16:00:00Z');
    expect(await value("TIMESTAMP '2025-10-16 16:00:00.123456'")).toBe('2025-10-16T16:00:00.123456Z');
    expect(await value("TIMESTAMP '2025-10-16 16:00:00.5'")).toBe('2025-10-16T16:00:00.500000Z');
    expect(await value("TIMESTAMPTZ '2025-10-16 18:00:00+02'")).toBe('2025-10-16T16:00:00Z');
    expect(await value("TIMESTAMP '1969-12-31 23:59:59.999999'")).toBe('1969-12-31T23:59:59.999999Z');
    expect(await value("TIMESTAMP '2024-02-29 00:00:00'")).toBe('2024-02-29T00:00:00Z');
    expect(await value("TIMESTAMP '9999-12-31 23:59:59'")).toBe('9999-12-31T23:59:59Z');
    expect(await value("'infinity'::TIMESTAMP")).toBe('infinity');
  });

  it('writes repeated timestamps (a grouped result) in full every time', async () => {
    const answer = await query(
      pool(),
      "SELECT TIMESTAMP '2025-10-16 16:00:00.25' + INTERVAL (i // 3) SECOND AS t, CASE WHEN i = 4 THEN NULL ELSE TIMESTAMP '2025-10-16 16:00:00' END AS u FROM range(9) t(i) ORDER BY i",
    );
    expect(answer.data.map((row) => row[0])).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2].map((second) => `2025-10-16T16:00:0${String(second)}.250000Z`));
    expect(answer.data.map((row) => row[1])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => (i === 4 ? null : '2025-10-16T16:00:00Z')));
  });

  it('writes runs of timestamps within a second, across seconds and days, before 1970 and repeated, each in full', async () => {
    // 27 rows a second with varied fractions (000000 to 999999), three rows for each value.
    const rows = 6000;
    const startMicros = Date.UTC(1969, 11, 31, 23, 59, 30) * 1000;
    const answer = await query(
      pool(),
      `SELECT TIMESTAMP '1969-12-31 23:59:30' + to_microseconds((i // 3) * 37_123) AS t FROM range(${String(rows)}) t(i) ORDER BY i`,
    );
    const expected = Array.from({ length: rows }, (_, i) => [instantText(startMicros + Math.floor(i / 3) * 37_123)]);
    expect(answer.data).toEqual(expected);
  });

  it('writes other timestamp precisions in the same form', async () => {
    expect(await value("TIMESTAMP_S '2025-10-16 16:00:01'")).toBe('2025-10-16T16:00:01Z');
    expect(await value("TIMESTAMP_MS '2025-10-16 16:00:01.250'")).toBe('2025-10-16T16:00:01.250Z');
    expect(await value("TIMESTAMP_NS '2025-10-16 16:00:01.123456789'")).toBe('2025-10-16T16:00:01.123456789Z');
  });

  it('writes DATE as YYYY-MM-DD', async () => {
    expect(await value("DATE '2025-10-16'")).toBe('2025-10-16');
    expect(await value("DATE '1900-03-01'")).toBe('1900-03-01');
  });

  it('turns NaN and infinities into null', async () => {
    const answer = await query(pool(), "SELECT 'nan'::DOUBLE, 'inf'::DOUBLE, '-inf'::DOUBLE, 'nan'::FLOAT, 1.5::DOUBLE, 0.1::FLOAT");
    expect(answer.data).toEqual([[null, null, null, null, 1.5, 0.1]]);
  });

  it('writes doubles as the shortest text that reads back as the same double (String(value))', async () => {
    const doubles = [95.25, -0.125, 0.1, 0.3, 0.30000000000000004, 123456.789, -999999999.5, 1e-7, 1.7976931348623157e308, 5e-324, 2.5e15 + 0.5, 0.000001];
    const answer = await pool().run({ sql: `SELECT ${doubles.map((double) => `${String(double)}::DOUBLE`).join(', ')}`, database: 'default', format: 'json' });
    const text = Buffer.from(answer.body).toString('utf8');
    expect(text).toContain(`"data":[[${doubles.map(String).join(',')}]]`);
  });

  it('writes each double as String(value) when a column has more distinct values than the text cache keeps', async () => {
    // 50,000 distinct values, each three times, in an order that evicts texts from the cache between
    // repeats; doubles computed as doubles (not DECIMAL), so many need all 17 digits.
    const rows = 150_000;
    const answer = await pool().run({
      sql: `SELECT CASE WHEN i % 3 = 0 THEN -(i % 50000) * 0.37::DOUBLE ELSE (i % 50000) / 7.0::DOUBLE END AS v FROM range(${String(rows)}) t(i) ORDER BY i`,
      database: 'default',
      format: 'json',
    });
    const expected = Array.from({ length: rows }, (_, i) => String(i % 3 === 0 ? -(i % 50000) * 0.37 : (i % 50000) / 7));
    expect(Buffer.from(answer.body).toString('utf8')).toContain(`"data":[${expected.map((text) => `[${text}]`).join(',')}]`);
  });

  it('writes repeated doubles whose text is 24 bytes (too long for the text cache) in full every time', async () => {
    const doubles = [-1.2345678901234568e-300, -2.2250738585072014e-308, -1.7976931348623157e308, 0.30000000000000004];
    const answer = await pool().run({
      sql: `SELECT v FROM (VALUES ${doubles.map((double, index) => `(${String(index)}, ${String(double)}::DOUBLE)`).join(', ')}) t(k, v), range(5) r(i) ORDER BY i, k`,
      database: 'default',
      format: 'json',
    });
    const text = Buffer.from(answer.body).toString('utf8');
    const row = doubles.map((double) => `[${String(double)}]`).join(',');
    expect(text).toContain(`"data":[${Array.from({ length: 5 }, () => row).join(',')}]`);
  });

  it('writes integers beyond ±2^53 as strings and the rest as numbers', async () => {
    const answer = await query(
      pool(),
      `SELECT 9007199254740993::BIGINT, -9007199254740993::BIGINT, 9007199254740992::BIGINT, -9007199254740992::BIGINT,
        9223372036854775807::BIGINT, 18446744073709551615::UBIGINT, 42::HUGEINT, -42::HUGEINT,
        170141183460469231731687303715884105727::HUGEINT, -5::TINYINT, 65535::USMALLINT, 4294967295::UINTEGER`,
    );
    expect(answer.data).toEqual([
      [
        '9007199254740993',
        '-9007199254740993',
        9007199254740992,
        -9007199254740992,
        '9223372036854775807',
        '18446744073709551615',
        42,
        -42,
        '170141183460469231731687303715884105727',
        -5,
        65535,
        4294967295,
      ],
    ]);
  });

  it('writes SUM over BIGINT (a HUGEINT) as a number', async () => {
    expect(await value('(SELECT sum(i) FROM range(1000) t(i))')).toBe(499500);
  });

  it('writes DECIMAL as an exact number', async () => {
    const answer = await query(pool(), 'SELECT 12.30::DECIMAL(10,2), -0.05::DECIMAL(4,2), 123456789012.345::DECIMAL(18,3), 1.5::DECIMAL(38,10), 7::DECIMAL(5,0)');
    expect(answer.data).toEqual([[12.3, -0.05, 123456789012.345, 1.5, 7]]);
    const text = Buffer.from((await pool().run({ sql: 'SELECT 12.30::DECIMAL(10,2)', database: 'default', format: 'json' })).body).toString();
    expect(text).toContain('[[12.30]]');
  });

  it('writes booleans and NULL', async () => {
    expect((await query(pool(), 'SELECT true, false, NULL, NULL::BOOLEAN, NULL::TIMESTAMP')).data).toEqual([[true, false, null, null, null]]);
  });

  it('escapes VARCHAR for JSON and keeps unicode, inline (<= 12 bytes) and long strings', async () => {
    expect(await value("'héllo'")).toBe('héllo');
    expect(await value("'quote \" backslash \\ done'")).toBe('quote " backslash \\ done');
    expect(await value("'tab' || chr(9) || 'nl' || chr(10) || 'nul' || chr(1)")).toBe('tab\tnl\nnul\u0001');
    expect(await value("'日本語のテキストと絵文字 🚀 with a long tail to leave the inline form'")).toBe(
      '日本語のテキストと絵文字 🚀 with a long tail to leave the inline form',
    );
    expect(await value("''")).toBe('');
  });

  it('writes DECIMAL beyond 2^53 (stored integer) as a string with every digit', async () => {
    const answer = await query(pool(), 'SELECT 12345678901234567.89::DECIMAL(38,2), -90071992547409.93::DECIMAL(18,2), 90071992547409.92::DECIMAL(18,2)');
    expect(answer.data).toEqual([['12345678901234567.89', '-90071992547409.93', 90071992547409.92]]);
  });

  it('writes LIST and ARRAY as JSON arrays, STRUCT and MAP as objects, UNION as its member, by the same value rules', async () => {
    const answer = await query(
      pool(),
      `SELECT [1, 2], ['a', NULL], [[1], [2, 3]], [1, 2]::INTEGER[2], [TIMESTAMP '2025-10-16 16:00:00.5'], ['nan'::DOUBLE, 0.1],
        [9007199254740993::BIGINT], {'a': 1, 'b': 'x', 'c': {'d': [DATE '2025-10-16']}}, MAP {'k': 1, 'j': 2}, MAP {1: 'one'},
        union_value(num := 2)::UNION(num INTEGER, str VARCHAR), []::INTEGER[], [12.30::DECIMAL(10,2)], ['\\xAA'::BLOB]`,
    );
    expect(answer.data).toEqual([
      [
        [1, 2],
        ['a', null],
        [[1], [2, 3]],
        [1, 2],
        ['2025-10-16T16:00:00.500000Z'],
        [null, 0.1],
        ['9007199254740993'],
        { a: 1, b: 'x', c: { d: ['2025-10-16'] } },
        { k: 1, j: 2 },
        { 1: 'one' },
        2,
        [],
        [12.3],
        ['qg=='],
      ],
    ]);
  });

  it('writes BLOB as base64', async () => {
    const answer = await query(pool(), "SELECT 'abc'::BLOB, '\\xAA\\xBB'::BLOB, ''::BLOB, 'a long blob that does not fit inline'::BLOB");
    expect(answer.data).toEqual([['YWJj', 'qrs=', '', Buffer.from('a long blob that does not fit inline').toString('base64')]]);
  });

  it('writes TIME, TIMETZ, INTERVAL, UUID, ENUM and BIT in DuckDB\'s text for them', async () => {
    const answer = await query(
      pool(),
      `SELECT TIME '12:34:56', TIME '12:34:56.123', TIMETZ '12:34:56+02', INTERVAL 1 DAY, INTERVAL '1 month 2 days 03:04:05.5',
        '123e4567-e89b-12d3-a456-426614174000'::UUID, 'b'::ENUM('a', 'b'), '0101'::BIT`,
    );
    expect(answer.data).toEqual([
      ['12:34:56', '12:34:56.123', '12:34:56+02', '1 day', '1 month 2 days 03:04:05.5', '123e4567-e89b-12d3-a456-426614174000', 'b', '0101'],
    ]);
  });
});
