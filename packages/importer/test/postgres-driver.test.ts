// Proves the PostgreSQL driver against a real server (scripts/postgres.sh): a table of every mapped
// type, NULLs and many rows per timestamp, and a table partitioned by month, are read into exactly
// the lines their rows make (compared line by line, with counts and a checksum), once each, also when
// reopened at every chunk's cursor; unmapped types, missing columns and bad settings are refused
// naming what is wrong; a connection test names the step that failed; an abort ends a running query.
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../../test/support/poll-until.js';
import { driverFor, lineOf } from '../src/index.js';
import type { FieldValue, ReadOptions, SourceChunk, SourceConnection } from '../src/index.js';

const PG_URL = process.env.ARC_TEST_PG_URL ?? '';
const PG_PASSWORD = process.env.ARC_TEST_PG_PASSWORD ?? '';
const NO_PG_REASON = 'no test PostgreSQL: run `bash scripts/postgres.sh start` and export `bash scripts/postgres.sh env` (make test does)';
if (PG_URL === '' && process.env.CI === 'true') throw new Error('ARC_TEST_PG_URL is unset: CI starts scripts/postgres.sh through make test');

const driver = driverFor('postgres');
const SCHEMA = `arc_t_${randomBytes(4).toString('hex')}`;
/** Rows of the typed table, ten to a timestamp; with a small chunk row limit, timestamps straddle every limit. */
const TYPED_ROWS = 1_200;
const ROWS_PER_TIMESTAMP = 10;
const BASE_US = 1_704_067_200_000_000n + 123_457n; // 2024-01-01T00:00:00.123457Z
const connection: SourceConnection = { type: 'postgres', settings: { url: PG_URL }, secret: PG_PASSWORD };

function isoOfMicros(us: bigint): string {
  const ms = us / 1000n;
  return `${new Date(Number(ms)).toISOString().slice(0, -1)}${(us % 1000n).toString().padStart(3, '0')}Z`;
}

function options(overrides: Partial<ReadOptions> = {}): ReadOptions {
  return { startNs: null, endNs: null, chunkBytesMax: 1 << 20, chunkRowsMax: 1_000, signal: new AbortController().signal, ...overrides };
}

async function readAll(source: Record<string, unknown>, cursor: string | null, readOptions: ReadOptions): Promise<{ lines: string[]; chunks: SourceChunk[] }> {
  const reader = await driver.open(connection, driver.checkJobSource(source), cursor, readOptions);
  const chunks: SourceChunk[] = [];
  try {
    for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) chunks.push(chunk);
  } finally {
    await reader.close();
  }
  const lines = chunks.flatMap((chunk) => Buffer.from(chunk.body).toString('utf8').split('\n').slice(0, -1));
  return { lines, chunks };
}

function checksum(lines: readonly string[]): string {
  return createHash('sha256').update([...lines].sort().join('\n')).digest('hex');
}

/** One row of the typed table: its SQL text values (null = NULL) and the line the driver must make of it. */
interface TypedRow {
  readonly sql: (string | null)[];
  readonly line: string | null;
}

function typedRow(i: number): TypedRow {
  const timeUs = BASE_US + BigInt(Math.floor(i / ROWS_PER_TIMESTAMP)) * 1_234_567n;
  const host = i === 5 ? 'edge,rack=2 a' : `h${String(i % 7)}`;
  const region = i % 5 === 0 ? null : `r ${String(i % 3)}`;
  const allNull = i === 42;
  const i2 = allNull || i % 17 === 0 ? null : String(((i * 7) % 32_000) - 16_000);
  const i4 = allNull ? null : String((i * 100_003) % 2_147_483_647);
  const i8 = allNull ? null : i % 11 === 0 ? '9007199254740993' : i % 13 === 0 ? '-9223372036854775808' : (BigInt(i) * 1_000_000_007n).toString();
  const real = allNull || i % 19 === 0 ? null : String((i % 1000) / 8 + 0.5);
  const double = allNull ? null : i % 23 === 0 ? 'NaN' : i % 29 === 0 ? '-Infinity' : i === 7 ? '1e+300' : String(i * 1.1);
  const numeric = allNull ? null : i === 3 ? '123456789012345678901234567890.123' : `${String(i)}.${String(i % 100).padStart(2, '0')}`;
  const bool = allNull ? null : String(i % 3 === 0);
  const text = allNull ? null : i % 4 === 0 ? `quote " back \\ é☃ ${String(i)}` : `s${String(i)}`;
  const char = allNull ? null : 'ab';
  const uuid = allNull ? null : `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
  const inet = allNull ? null : `10.0.${String(i % 256)}.1`;
  const mood = allNull ? null : i % 2 === 0 ? 'calm' : 'busy';
  const at = allNull ? null : i === 9 ? 'infinity' : isoOfMicros(BASE_US + BigInt(i) * 1_000_001n);
  const day = allNull ? null : `2024-02-${String((i % 28) + 1).padStart(2, '0')}`;
  const sql = [isoOfMicros(timeUs), host, region, i2, i4, i8, real, double, numeric, bool, text, char, uuid, inet, mood, at, day];
  const fields: (readonly [string, FieldValue])[] = [];
  const add = (name: string, value: FieldValue | null): void => {
    if (value !== null) fields.push([name, value]);
  };
  add('i2', i2 === null ? null : { kind: 'integer', value: BigInt(i2) });
  add('i4', i4 === null ? null : { kind: 'integer', value: BigInt(i4) });
  add('i8', i8 === null ? null : { kind: 'integer', value: BigInt(i8) });
  add('r', real === null ? null : { kind: 'float', value: Number(real) });
  add('d', double === null ? null : { kind: 'float', value: Number(double) });
  add('n', numeric === null ? null : { kind: 'float', value: Number(numeric) });
  add('b', bool === null ? null : { kind: 'boolean', value: bool === 'true' });
  add('s', text === null ? null : { kind: 'string', value: text });
  // char(n) pads with spaces; its cast to text drops them (PostgreSQL's rule).
  add('c', char === null ? null : { kind: 'string', value: char });
  add('u', uuid === null ? null : { kind: 'string', value: uuid });
  // inet's text form carries the mask.
  add('ip', inet === null ? null : { kind: 'string', value: `${inet}/32` });
  add('m', mood === null ? null : { kind: 'string', value: mood });
  add('at', at === null ? null : { kind: 'string', value: at });
  add('day', day === null ? null : { kind: 'string', value: day });
  const tags: (readonly [string, string])[] = [['host', host]];
  if (region !== null) tags.push(['region', region]);
  return { sql, line: lineOf('readings', tags, fields, timeUs * 1000n) };
}

const TYPED = Array.from({ length: TYPED_ROWS }, (_, i) => typedRow(i));
const TYPED_LINES = TYPED.flatMap((row) => (row.line === null ? [] : [row.line]));
const TYPED_SOURCE = { table: `${SCHEMA}.readings`, time_column: 'ts', tag_columns: ['host', 'region'] };

/** The partitioned table: a row every 7 hours from January to June 2024 (one partition a month), and some in 2025 (the default partition). */
const MONTHS = ['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01', '2024-06-01', '2024-07-01'];
const PARTITIONED_START_MS = Date.parse('2024-01-01T00:00:00Z');
const PARTITIONED_TIMES_MS = [
  ...Array.from({ length: 600 }, (_, i) => PARTITIONED_START_MS + i * 7 * 3_600_000 + (i % 3) * 1),
  ...Array.from({ length: 10 }, (_, i) => Date.parse('2025-03-01T00:00:00Z') + i * 1000),
].filter((ms) => ms < Date.parse('2024-07-01T00:00:00Z') || ms >= Date.parse('2025-01-01T00:00:00Z'));
const PARTITIONED_LINES = PARTITIONED_TIMES_MS.map((ms, i) => lineOf('metrics', [['host', `h${String(i % 4)}`]], [['v', { kind: 'float', value: i / 4 }]], BigInt(ms) * 1_000_000n) ?? '');

describe.skipIf(PG_URL === '')(`PostgreSQL driver (${PG_URL === '' ? NO_PG_REASON : PG_URL})`, () => {
  // The client's connectionString would override the password with the URL's (none): the URL is split here.
  const adminUrl = new URL(PG_URL === '' ? 'postgres://x@127.0.0.1/x' : PG_URL);
  const admin = new pg.Client({ host: adminUrl.hostname, port: Number(adminUrl.port), user: adminUrl.username, database: adminUrl.pathname.slice(1), password: PG_PASSWORD });

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    await admin.query(`CREATE TYPE ${SCHEMA}.mood AS ENUM ('calm', 'busy')`);
    await admin.query(`CREATE TABLE ${SCHEMA}.readings (ts timestamptz, host text, region varchar(16), i2 smallint, i4 integer, i8 bigint,
      r real, d double precision, n numeric, b boolean, s text, c char(3), u uuid, ip inet, m ${SCHEMA}.mood, at timestamptz, day date)`);
    const types = ['timestamptz', 'text', 'varchar', 'int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'bool', 'text', 'bpchar', 'uuid', 'inet', `${SCHEMA}.mood`, 'timestamptz', 'date'];
    const columns = types.map((_, c) => TYPED.map((row) => row.sql[c] ?? null));
    await admin.query(`INSERT INTO ${SCHEMA}.readings SELECT * FROM unnest(${types.map((type, c) => `$${String(c + 1)}::${type}[]`).join(', ')})`, columns);
    // Rows without a usable time are never read.
    await admin.query(`INSERT INTO ${SCHEMA}.readings (ts, host, i4) VALUES (NULL, 'no-time', 1), (NULL, 'no-time', 2), ('infinity', 'no-time', 3)`);

    await admin.query(`CREATE TABLE ${SCHEMA}.metrics (ts timestamptz NOT NULL, host text, v double precision) PARTITION BY RANGE (ts)`);
    for (let m = 0; m + 1 < MONTHS.length; m++) {
      await admin.query(`CREATE TABLE ${SCHEMA}.metrics_${String(m)} PARTITION OF ${SCHEMA}.metrics FOR VALUES FROM ('${MONTHS[m] ?? ''}') TO ('${MONTHS[m + 1] ?? ''}')`);
    }
    await admin.query(`CREATE TABLE ${SCHEMA}.metrics_default PARTITION OF ${SCHEMA}.metrics DEFAULT`);
    await admin.query(`INSERT INTO ${SCHEMA}.metrics SELECT to_timestamp(ms / 1000.0), 'h' || (i % 4), i / 4.0 FROM unnest($1::float8[]) WITH ORDINALITY AS u(ms, n), LATERAL (SELECT n - 1 AS i) x`, [PARTITIONED_TIMES_MS]);

    await admin.query(`CREATE TABLE ${SCHEMA}.events (t bigint NOT NULL, v integer) PARTITION BY RANGE (t)`);
    await admin.query(`CREATE TABLE ${SCHEMA}.events_a PARTITION OF ${SCHEMA}.events FOR VALUES FROM (0) TO (1000000)`);
    await admin.query(`CREATE TABLE ${SCHEMA}.events_b PARTITION OF ${SCHEMA}.events FOR VALUES FROM (1000000) TO (MAXVALUE)`);
    await admin.query(`INSERT INTO ${SCHEMA}.events SELECT g * 9973, g FROM generate_series(0, 299) g`);

    await admin.query(`CREATE TABLE ${SCHEMA}.daily (day date, naive timestamp, v integer)`);
    await admin.query(`INSERT INTO ${SCHEMA}.daily SELECT date '2024-02-27' + g, timestamp '2024-02-27 23:59:59.999999' + g * interval '1 day', g FROM generate_series(0, 4) g`);

    await admin.query(`CREATE TABLE ${SCHEMA}.odd (ts timestamptz, v integer, blob bytea, tags int[], doc jsonb, num numeric, at timestamp, d date)`);
    await admin.query(`INSERT INTO ${SCHEMA}.odd VALUES ('2024-05-01 10:00:00.5+00', 1, '\\x00', '{1,2}', '{"a": 1.5, "b": "x", "c": {"d": [1]}, "e": null, "f": true}', 1, '2024-05-01 10:00:00.000001', '2024-05-01'),
      ('2024-05-01 10:00:01+00', 2, NULL, NULL, '[1, 2]', 2, '2024-05-01 10:00:01', '2024-05-02')`);
  });

  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`).catch(() => undefined);
    await admin.end();
  });

  it('reads every mapped type exactly: the lines, their count and checksum, NULL and timeless rows left out', async () => {
    const { lines, chunks } = await readAll(TYPED_SOURCE, null, options());
    expect(TYPED_LINES.length).toBe(TYPED_ROWS - 1); // the all-NULL row has no field
    expect(lines.length).toBe(TYPED_LINES.length);
    expect(checksum(lines)).toBe(checksum(TYPED_LINES));
    expect([...lines].sort()).toEqual([...TYPED_LINES].sort());
    expect(chunks.reduce((sum, chunk) => sum + chunk.rowCount, 0)).toBe(TYPED_LINES.length);
    expect(lines.some((line) => line.includes('no-time'))).toBe(false);
    expect(chunks.at(-1)?.progress).toBe(1);
    // A line of each shape, spelled out: integers with i, floats as floats, RFC 3339 microseconds.
    expect(lines).toContain(TYPED[11]?.line);
    expect(TYPED[11]?.line).toContain('i8=9007199254740993i');
    expect(TYPED[9]?.line).toContain('at="infinity"');
    expect(TYPED[1]?.line).toContain('at="2024-01-01T00:00:01.123458Z"');
  });

  it('never splits a timestamp, and reopened at every chunk cursor reads exactly the rows after it', async () => {
    const all = await readAll(TYPED_SOURCE, null, options({ chunkRowsMax: 37 }));
    expect([...all.lines].sort()).toEqual([...TYPED_LINES].sort());
    expect(all.chunks.length).toBeGreaterThan(TYPED_ROWS / 40);
    let before = 0;
    for (const [index, chunk] of all.chunks.entries()) {
      const next = all.chunks[index + 1];
      if (next !== undefined) expect(next.minTimeNs).toBeGreaterThan(chunk.maxTimeNs);
      before += chunk.rowCount;
      const rest = await readAll(TYPED_SOURCE, chunk.cursor, options({ chunkRowsMax: 37 }));
      expect(rest.lines).toEqual(all.lines.slice(before));
    }
  });

  it('reads a row limit smaller than one timestamp: that timestamp is one chunk', async () => {
    const { lines, chunks } = await readAll(TYPED_SOURCE, null, options({ chunkRowsMax: 4 }));
    expect([...lines].sort()).toEqual([...TYPED_LINES].sort());
    expect(chunks.every((chunk) => chunk.minTimeNs === chunk.maxTimeNs)).toBe(true);
  });

  it('cuts chunks at the byte limit between timestamps, and refuses a timestamp over it', async () => {
    const { lines, chunks } = await readAll(TYPED_SOURCE, null, options({ chunkBytesMax: 6_000 }));
    expect([...lines].sort()).toEqual([...TYPED_LINES].sort());
    expect(chunks.every((chunk) => chunk.body.length <= 6_000)).toBe(true);
    await expect(readAll(TYPED_SOURCE, null, options({ chunkBytesMax: 500 }))).rejects.toMatchObject({ code: 'ARC_IMPORT_PG_TIMESTAMP_TOO_LARGE' });
  });

  it('reads a time range [start, end) exactly', async () => {
    const startNs = (BASE_US + 10n * 1_234_567n) * 1000n;
    const endNs = (BASE_US + 20n * 1_234_567n) * 1000n + 1n;
    const { lines } = await readAll(TYPED_SOURCE, null, options({ startNs, endNs, chunkRowsMax: 7 }));
    const expected = TYPED.filter((_, i) => {
      const group = Math.floor(i / ROWS_PER_TIMESTAMP);
      return group >= 10 && group <= 20;
    }).flatMap((row) => (row.line === null ? [] : [row.line]));
    expect([...lines].sort()).toEqual([...expected].sort());
  });

  it('reads a partitioned table partition by partition, every chunk inside one month, rows exactly once from every cursor', async () => {
    const source = { table: `${SCHEMA}.metrics`, time_column: 'ts', tag_columns: ['host'] };
    const all = await readAll(source, null, options({ chunkRowsMax: 50 }));
    expect(all.lines).toEqual(PARTITIONED_LINES);
    const monthOf = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 7);
    for (const chunk of all.chunks) expect(monthOf(chunk.minTimeNs)).toBe(monthOf(chunk.maxTimeNs));
    // A month holds ~103 rows: with 50-row chunks, at least three chunks per partition.
    expect(all.chunks.length).toBeGreaterThanOrEqual(6 * 3);
    let before = 0;
    for (const chunk of all.chunks) {
      before += chunk.rowCount;
      const rest = await readAll(source, chunk.cursor, options({ chunkRowsMax: 50 }));
      expect(rest.lines).toEqual(all.lines.slice(before));
    }
  });

  it('reads integer epoch time in the unit the job names, and refuses it without one', async () => {
    const source = { table: `${SCHEMA}.events`, time_column: 't', time_unit: 'ms', measurement: 'ev' };
    const { lines, chunks } = await readAll(source, null, options({ chunkRowsMax: 64 }));
    expect(lines).toEqual(Array.from({ length: 300 }, (_, g) => `ev v=${String(g)}i ${String(BigInt(g * 9973) * 1_000_000n)}`));
    // The partition bound at 1,000,000 ms ends a chunk.
    expect(chunks.some((chunk) => chunk.maxTimeNs === 997_300_000_000n)).toBe(true);
    await expect(readAll({ table: `${SCHEMA}.events`, time_column: 't' }, null, options())).rejects.toThrow(/time_column 't' is bigint: say what its numbers count with source.time_unit/);
  });

  it('reads a date or a timestamp without zone as the time, as UTC, and its range bounds exactly', async () => {
    const dayNs = (text: string): bigint => BigInt(Date.parse(`${text}T00:00:00Z`)) * 1_000_000n;
    const byDay = await readAll({ table: `${SCHEMA}.daily`, time_column: 'day', field_columns: ['v'] }, null, options({ startNs: dayNs('2024-02-28'), endNs: dayNs('2024-03-01') + 1n }));
    expect(byDay.lines).toEqual([`daily v=1i ${String(dayNs('2024-02-28'))}`, `daily v=2i ${String(dayNs('2024-02-29'))}`, `daily v=3i ${String(dayNs('2024-03-01'))}`]);
    const naiveNs = (day: string): bigint => dayNs(day) + 86_400_000_000_000n - 1_000n;
    const byNaive = await readAll({ table: `${SCHEMA}.daily`, time_column: 'naive', field_columns: ['v'] }, null, options({ startNs: naiveNs('2024-02-28'), endNs: naiveNs('2024-02-29') }));
    expect(byNaive.lines).toEqual([`daily v=1i ${String(naiveNs('2024-02-28'))}`]);
    await expect(readAll({ table: `${SCHEMA}.daily`, time_column: 'day', field_columns: ['v'] }, '{"after":"x"}', options())).rejects.toMatchObject({ code: 'ARC_IMPORT_PG_BAD_CURSOR' });
  });

  it('refuses unmapped types naming the column and type, and flattens JSON when asked', async () => {
    const odd = { table: `${SCHEMA}.odd`, time_column: 'ts' };
    await expect(readAll(odd, null, options())).rejects.toThrow(/column 'blob' is bytea, which has no Arc type/);
    await expect(readAll({ ...odd, field_columns: ['v', 'tags'] }, null, options())).rejects.toThrow(/column 'tags' is integer\[\], which has no Arc type/);
    await expect(readAll({ ...odd, field_columns: ['doc'] }, null, options())).rejects.toMatchObject({ code: 'ARC_IMPORT_PG_BAD_TABLE', message: expect.stringMatching(/column 'doc' is jsonb: set source.flatten_json/) });
    await expect(readAll({ ...odd, time_column: 'v' }, null, options())).rejects.toThrow(/time_column 'v' is integer/);
    await expect(readAll({ ...odd, time_column: 'num' }, null, options())).rejects.toThrow(/time_column 'num' is numeric: a time column must be/);
    await expect(readAll({ ...odd, field_columns: ['v', 'nope'] }, null, options())).rejects.toThrow(/field column 'nope' is not a column of arc_t_\w+\.odd/);
    await expect(readAll({ ...odd, table: `${SCHEMA}.missing` }, null, options())).rejects.toThrow(/table 'missing' not found in schema/);
    const flat = await readAll({ ...odd, field_columns: ['doc', 'num', 'at', 'd'], flatten_json: true, measurement: 'o' }, null, options());
    expect(flat.lines).toEqual([
      'o doc.a=1.5,doc.b="x",doc.c="{\\"d\\":[1]}",doc.f=t,num=1.0,at="2024-05-01T10:00:00.000001Z",d="2024-05-01" 1714557600500000000',
      'o doc="[1,2]",num=2.0,at="2024-05-01T10:00:01.000000Z",d="2024-05-02" 1714557601000000000',
    ]);
  });

  it('checks settings and job sources, refusing a password inside the URL', () => {
    expect(driver.checkSettings({ url: 'postgres://arc@db.example:5433/src?sslmode=require' })).toEqual({ url: 'postgres://arc@db.example:5433/src?sslmode=require' });
    expect(driver.checkSettings({ host: 'db', database: 'src', user: 'arc' })).toEqual({ host: 'db', port: 5432, database: 'src', user: 'arc', ssl: false });
    expect(() => driver.checkSettings({ url: 'postgres://arc:hunter2@db/src' })).toThrow(/holds a password: give it as the connection's "secret"/);
    expect(() => driver.checkSettings({ url: 'postgres://db/src' })).toThrow(/names no user/);
    expect(() => driver.checkSettings({ url: 'postgres://arc@db/' })).toThrow(/names no database/);
    expect(() => driver.checkSettings({ url: 'mysql://arc@db/src' })).toThrow(/must start with postgres:\/\//);
    expect(() => driver.checkSettings({ host: 'db', database: 'src', user: 'arc', port: 70_000 })).toThrow(/settings.port must be a TCP port/);
    expect(() => driver.checkSettings({ url: 'postgres://arc@db/src', host: 'db' })).toThrow(/both given/);
    expect(() => driver.checkJobSource({ table: 'a.b.c', time_column: 'ts' })).toThrow(/source.table 'a.b.c' must be/);
    expect(() => driver.checkJobSource({ table: 't' })).toThrow(/source.time_column must be a non-empty string/);
    expect(() => driver.checkJobSource({ table: 't', time_column: 'ts', tag_columns: ['ts'] })).toThrow(/column 'ts' is named twice/);
    expect(() => driver.checkJobSource({ table: 't', time_column: 'ts', time_unit: 'h' })).toThrow(/source.time_unit must be one of s, ms, us, ns/);
    expect(() => driver.checkJobSource({ table: 't', time_column: 'ts', colour: 1 })).toThrow(/source.colour is not a postgres source field/);
    expect(driver.checkJobSource({ table: '"my.schema"."T"', time_column: 'ts' })).toMatchObject({ table: '"my.schema"."T"', measurement: 'T', tag_columns: [] });
  });

  it('tests a connection, naming the step that failed', async () => {
    const signal = new AbortController().signal;
    const ok = await driver.test(connection, signal);
    expect(ok).toMatchObject({ ok: true, version: expect.stringMatching(/^PostgreSQL \d+/) });
    const wrongPassword = await driver.test({ ...connection, secret: 'wrong' }, signal);
    expect(wrongPassword).toMatchObject({ ok: false, version: null, detail: expect.stringMatching(/^authenticate as 'arc' failed: .*password authentication failed/) });
    const noPassword = await driver.test({ ...connection, secret: null }, signal);
    expect(noPassword.detail).toMatch(/^authenticate as 'arc' failed/);
    const url = new URL(PG_URL);
    url.pathname = '/no_such_db';
    const unknownDatabase = await driver.test({ ...connection, settings: { url: url.toString() } }, signal);
    expect(unknownDatabase).toMatchObject({ ok: false, detail: expect.stringMatching(/^database 'no_such_db' failed: .*does not exist/) });
    const closedPort = await freePort();
    const unreachable = await driver.test({ ...connection, settings: { host: '127.0.0.1', port: closedPort, database: 'x', user: 'arc' } }, signal);
    expect(unreachable).toMatchObject({ ok: false, detail: expect.stringMatching(new RegExp(`^connect to 127\\.0\\.0\\.1:${String(closedPort)} failed: .*ECONNREFUSED`)) });
  });

  it('reads a hypertable chunk by chunk from the bounds TimescaleDB lists (a stand-in view with the columns of timescaledb_information.chunks)', async () => {
    // TimescaleDB is not packaged by Debian: a database of this test's own gets a view with the
    // name and columns of TimescaleDB 2.x's chunk list, over a plain table as the hypertable.
    const database = `${SCHEMA}_ts`;
    await admin.query(`CREATE DATABASE ${database}`);
    const url = new URL(PG_URL);
    url.pathname = `/${database}`;
    const tsConnection: SourceConnection = { ...connection, settings: { url: url.toString() } };
    const setup = new pg.Client({ host: url.hostname, port: Number(url.port), user: url.username, database, password: PG_PASSWORD });
    await setup.connect();
    try {
      await setup.query('CREATE SCHEMA timescaledb_information');
      await setup.query(`CREATE VIEW timescaledb_information.chunks AS SELECT * FROM (VALUES
        ('public', 'conditions', 'ts', '2024-01-08 00:00:00+00'::timestamptz, NULL::bigint),
        ('public', 'conditions', 'ts', '2024-01-15 00:00:00+00', NULL),
        ('public', 'conditions', 'ts', '2024-01-22 00:00:00+00', NULL),
        ('public', 'other', 'ts', '2024-01-03 00:00:00+00', NULL),
        ('public', 'conditions', 'other_column', '2024-01-10 00:00:00+00', NULL))
        AS c(hypertable_schema, hypertable_name, primary_dimension, range_end, range_end_integer)`);
      await setup.query('CREATE TABLE conditions (ts timestamptz NOT NULL, v integer)');
      await setup.query("INSERT INTO conditions SELECT timestamptz '2024-01-01' + g * interval '1 hour', g FROM generate_series(0, 503) g");
      const reader = await driver.open(tsConnection, driver.checkJobSource({ table: 'conditions', time_column: 'ts' }), null, options({ chunkRowsMax: 1_000 }));
      const weeks: string[] = [];
      let rows = 0;
      try {
        for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) {
          weeks.push(`${new Date(Number(chunk.minTimeNs / 1_000_000n)).toISOString()}..${new Date(Number(chunk.maxTimeNs / 1_000_000n)).toISOString()}`);
          rows += chunk.rowCount;
        }
      } finally {
        await reader.close();
      }
      expect(rows).toBe(504);
      // One read chunk per listed hypertable chunk (a week each; the listed bound of another hypertable plays no part).
      expect(weeks).toEqual([
        '2024-01-01T00:00:00.000Z..2024-01-07T23:00:00.000Z',
        '2024-01-08T00:00:00.000Z..2024-01-14T23:00:00.000Z',
        '2024-01-15T00:00:00.000Z..2024-01-21T23:00:00.000Z',
      ]);
    } finally {
      await setup.end();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
  });

  it('ends a running query on the server when the read is aborted', async () => {
    await admin.query(`CREATE VIEW ${SCHEMA}.slow AS SELECT ts, v FROM ${SCHEMA}.odd, pg_sleep(30)`);
    const controller = new AbortController();
    const opening = driver.open(connection, driver.checkJobSource({ table: `${SCHEMA}.slow`, time_column: 'ts' }), null, options({ signal: controller.signal }));
    const sleeping = async (): Promise<boolean> => {
      const found = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'arc-import' AND state = 'active' AND query LIKE $1", [`%"${SCHEMA}"."slow"%`]);
      return (found.rows[0] as { n: number }).n > 0;
    };
    await waitUntil('the read query to run on the server', 10_000, sleeping);
    const began = Date.now();
    controller.abort(new Error('job cancelled'));
    await expect(opening).rejects.toThrow('job cancelled');
    expect(Date.now() - began).toBeLessThan(5_000);
    await waitUntil('the server to end the query', 10_000, async () => !(await sleeping()));
  });
});

/** A port on 127.0.0.1 nothing listens on (bound then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
