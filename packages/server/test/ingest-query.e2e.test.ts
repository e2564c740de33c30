// Proves the whole spine end to end against the real server process: MessagePack in every shape
// and compression, through decoder and writer threads, lands as Parquet files (checked on disk
// with DuckDB's own read_parquet) and comes back through POST /query as the JSON the README shows.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { compress as zstdCompress } from 'zstd-napi';
import { describe, expect, it } from 'vitest';
import { msgpack } from './support/arc-client.js';
import { useSharedArc } from './support/shared-arc.js';

const shared = useSharedArc({ ARC_WRITER_FLUSH_AGE_MS: '600000' });

async function parquetFiles(database: string, measurement: string): Promise<string[]> {
  const root = path.join(shared.arc.dataDir, 'arc', database, measurement);
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries.filter((entry) => entry.endsWith('.parquet')).map((entry) => path.join(root, entry)).sort();
}

async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

const T0 = Date.UTC(2025, 9, 16, 16, 0, 0); // 2025-10-16T16:00:00Z in ms

describe('MessagePack ingestion to Parquet and back', () => {
  it('accepts rows, columnar, mixed batches and top-level arrays on every path, raw, gzip and zstd', async () => {
    const bodies: [string, Uint8Array][] = [
      ['rows', msgpack({ batch: [{ m: 'shapes', t: T0, h: 'h1', tags: { region: 'eu' }, fields: { v: 1.5 } }] })],
      ['columnar', msgpack({ m: 'shapes', columns: { time: [T0 + 1000, T0 + 2000], host: ['h2', 'h3'], v: [2.5, 3.5] } })],
      ['mixed', msgpack({ batch: [{ m: 'shapes', columns: { time: [T0 + 3000], host: ['h4'], v: [4.5] } }, { m: 'shapes', t: T0 + 4000, h: 'h5', fields: { v: 5.5 } }] })],
      ['array', msgpack([{ m: 'shapes', t: T0 + 5000, h: 'h6', f: [6.5] }])],
    ];
    const paths = ['/write/v2/msgpack', '/api/v2/msgpack', '/api/v1/write/msgpack'];
    let sent = 0;
    for (const [, body] of bodies) {
      for (const encoded of [body, gzipSync(body), zstdCompress(body)]) {
        const response = await shared.client.write(encoded, { path: paths[sent % paths.length] ?? '/write/v2/msgpack', database: 'shapes_db' });
        expect(response.status, response.text).toBe(204);
        sent++;
      }
    }
    expect((await shared.client.flush()).status).toBe(200);
    const rows = await shared.client.rows('SELECT count(*), count(DISTINCT host), sum(v), count(field_0) FROM shapes', 'shapes_db');
    // 4 bodies x 3 encodings; rows per body: 1 + 2 + 2 + 1 = 6.
    expect(rows).toEqual([[18, 6, 3 * (1.5 + 2.5 + 3.5 + 4.5 + 5.5), 3]]);
  });

  it('writes one Parquet file per UTC hour at the documented path, sorted, typed, with arc:tags', async () => {
    const rows = [2, 0, 1, 3].map((hour) => ({
      m: 'layout',
      t: T0 + hour * 3_600_000 + 59_000,
      h: `host${hour}`,
      tags: { dc: 'x' },
      fields: { i: hour, f: hour + 0.5, s: `s${hour}`, b: hour % 2 === 0 },
    }));
    rows.push({ m: 'layout', t: T0 + 1000, h: 'early', tags: { dc: 'y' }, fields: { i: 9, f: 9.5, s: 'e', b: true } });
    expect((await shared.client.write(msgpack({ batch: rows }), { database: 'layout_db' })).status).toBe(204);
    expect((await shared.client.flush()).status).toBe(200);
    const files = await parquetFiles('layout_db', 'layout');
    expect(files).toHaveLength(4);
    for (const [index, file] of files.entries()) {
      const relative = path.relative(path.join(shared.arc.dataDir, 'arc'), file);
      expect(relative).toMatch(new RegExp(`^layout_db/layout/2025/10/16/${16 + index}/\\d{8}T\\d{6}_[a-z0-9-]+_[a-z0-9-]+_\\d+r_\\d+b_\\d+_\\d+_[0-9a-f]{16}\\.parquet$`));
    }
    const first = files[0] ?? '';
    const types = await duckdbRows(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('${first}'))`);
    // The schema object the name points at holds the columns exactly as DuckDB describes the file.
    const schemaId = /_([0-9a-f]{16})\.parquet$/.exec(first)?.[1] ?? '';
    const schemaObject = JSON.parse(await readFile(path.join(shared.arc.dataDir, 'arc', 'layout_db', 'layout', '_schemas', `${schemaId}.json`), 'utf8')) as { columns: { name: string; type: string }[] };
    expect(schemaObject.columns.map((column) => [column.name, column.type])).toEqual(types.map((row) => [row.column_name, row.column_type]));
    expect(Object.fromEntries(types.map((row) => [row.column_name, row.column_type]))).toEqual({
      time: 'TIMESTAMP',
      host: 'VARCHAR',
      dc: 'VARCHAR',
      i: 'BIGINT',
      f: 'DOUBLE',
      s: 'VARCHAR',
      b: 'BOOLEAN',
    });
    const inFile = await duckdbRows(`SELECT epoch_ms(time) AS t, host FROM read_parquet('${first}')`);
    expect(inFile.map((row) => row.host)).toEqual(['early', 'host0']);
    expect(inFile.map((row) => Number(row.t))).toEqual([T0 + 1000, T0 + 59_000]);
    const metadata = await duckdbRows(`SELECT decode(value) AS v FROM parquet_kv_metadata('${first}') WHERE decode(key) = 'arc:tags'`);
    expect(JSON.parse(String(metadata[0]?.v)).sort()).toEqual(['dc', 'host']);
  });

  it('answers in the JSON shape the README shows, reads another database as db.measurement', async () => {
    await shared.client.write(msgpack({ m: 'cpu', t: T0, h: 'server01', fields: { usage_idle: 95.0, usage_user: 3.25 } }), { database: 'production' });
    await shared.client.write(msgpack({ m: 'cpu', t: T0, h: 'local', fields: { usage_idle: 1.0 } }));
    expect((await shared.client.flush()).status).toBe(200);
    const answer = await shared.client.query('SELECT time, host, usage_idle, usage_user FROM production.cpu');
    expect(answer.status).toBe(200);
    const body = answer.json() as Record<string, unknown>;
    expect(body).toMatchObject({
      success: true,
      columns: ['time', 'host', 'usage_idle', 'usage_user'],
      data: [['2025-10-16T16:00:00Z', 'server01', 95, 3.25]],
      row_count: 1,
    });
    expect(typeof body.execution_time_ms).toBe('number');
    expect(Number.isNaN(Date.parse(String(body.timestamp)))).toBe(false);
    expect(await shared.client.rows('SELECT host FROM cpu')).toEqual([['local']]);
    expect(await shared.client.rows('SELECT host FROM cpu', 'production')).toEqual([['server01']]);
    expect(await shared.client.rows('SELECT a.host, b.host FROM cpu a JOIN production.cpu b ON a.time = b.time')).toEqual([['local', 'server01']]);
  });

  it('lands timestamps in s, ms, us and ns at the same instant', async () => {
    const seconds = T0 / 1000;
    const body = msgpack([
      { m: 'units', t: seconds, h: 's', fields: { v: 1 } },
      { m: 'units', t: T0, h: 'ms', fields: { v: 1 } },
      { m: 'units', t: BigInt(T0) * 1000n, h: 'us', fields: { v: 1 } },
      { m: 'units', t: BigInt(T0) * 1_000_000n, h: 'ns', fields: { v: 1 } },
    ]);
    expect((await shared.client.write(body, { database: 'units_db' })).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT DISTINCT time FROM units', 'units_db')).toEqual([['2025-10-16T16:00:00Z']]);
    expect(await shared.client.rows('SELECT count(*) FROM units', 'units_db')).toEqual([[4]]);
  });

  it('keeps NaN and Infinity in Parquet and returns them as null in JSON', async () => {
    // msgpackr writes non-integral numbers, NaN and Infinity included, as msgpack floats.
    const body = msgpack([
      { m: 'special', t: T0, h: 'nan', fields: { x: Number.NaN } },
      { m: 'special', t: T0, h: 'inf', fields: { x: Number.POSITIVE_INFINITY } },
    ]);
    expect((await shared.client.write(body, { database: 'special_db' })).status).toBe(204);
    await shared.client.flush();
    expect(await shared.client.rows('SELECT host, x FROM special ORDER BY host', 'special_db')).toEqual([
      ['inf', null],
      ['nan', null],
    ]);
    const files = await parquetFiles('special_db', 'special');
    const raw = await duckdbRows(`SELECT host, isnan(x) AS is_nan, isinf(x) AS is_inf FROM read_parquet('${files[0] ?? ''}') ORDER BY host`);
    expect(raw).toEqual([
      { host: 'inf', is_nan: false, is_inf: true },
      { host: 'nan', is_nan: true, is_inf: false },
    ]);
  });
});
