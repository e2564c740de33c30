// Proves that a query bounded in time reads its hours' files with a plain read_parquet when the
// catalog knows each file's columns and they are the measurement's (no UNION in the plan), and
// with the typed union by name otherwise (a file lacking a column still answers it as NULL); the
// plain read keeps read_parquet's `filename` virtual column out of reach, as the view does.
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage, dataFileKey, encodeSchema, schemaIdOf, schemaKey } from '@arc/storage';
import type { ColumnSpec } from '@arc/storage';
import type { QueryPool } from '../src/index.js';
import { DataDir, query, queryError } from './fixtures.js';

const BASE: readonly ColumnSpec[] = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'usage', type: 'DOUBLE' },
];
const WIDER: readonly ColumnSpec[] = [...BASE, { name: 'extra', type: 'BIGINT' }];
const hourUs = (hour: number): number => Date.UTC(2025, 9, 16, hour) * 1000;

let dir: DataDir;
let pool: QueryPool;

/** Three rows in `hour`, named and described as a writer does (schema id, schema object). */
async function writeHour(measurement: string, hour: number, columns: readonly ColumnSpec[]): Promise<void> {
  const rows = 3;
  const schemaId = schemaIdOf(columns);
  const key = dataFileKey({ database: 'default', measurement, hourUs: hourUs(hour), nodeId: 'n1', unique: `h${String(hour)}`, rows, bytes: 1, minTimeUs: hourUs(hour), maxTimeUs: hourUs(hour) + rows - 1, writtenAtMs: 0, schemaId });
  const extra = columns.length > BASE.length ? ', i::BIGINT AS extra' : '';
  const select = `SELECT TIMESTAMP '2025-10-16 ${String(hour).padStart(2, '0')}:00:00' + to_microseconds(i) AS time, 'h' || i AS host, i::DOUBLE AS usage${extra} FROM range(${String(rows)}) t(i)`;
  await dir.writeParquet(`${dir.dataRoot}/${key}`, select);
}

/** The EXPLAIN ANALYZE profile Arc answers for `sql`. */
async function profile(sql: string): Promise<string> {
  return String((await query(pool, `EXPLAIN ANALYZE ${sql}`)).data[0]?.[1]);
}

beforeAll(async () => {
  dir = await DataDir.create();
  const seed = await Storage.open({ root: dir.dataRoot });
  for (const [measurement, columns] of [['cpu', BASE], ['evolved', BASE], ['evolved', WIDER]] as const) {
    await seed.backend.put(schemaKey('default', measurement, schemaIdOf(columns)), encodeSchema(columns));
  }
  await writeHour('cpu', 10, BASE);
  await writeHour('cpu', 11, BASE);
  // `evolved` gained a column in hour 11.
  await writeHour('evolved', 10, BASE);
  await writeHour('evolved', 11, WIDER);
  pool = dir.pool({ storage: await Storage.open({ root: dir.dataRoot }) });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('a bounded read of files with the measurement columns', () => {
  const cpuBounded = "FROM cpu WHERE time >= TIMESTAMP '2025-10-16 10:00:00' AND time < TIMESTAMP '2025-10-16 12:00:00'";

  it('reads the files plainly, no union, and answers every row', async () => {
    expect((await query(pool, `SELECT count(*), sum(usage) ${cpuBounded}`)).data).toEqual([[6, 6]]);
    const plan = await profile(`SELECT count(*) ${cpuBounded}`);
    expect(plan).toContain('TABLE_SCAN');
    expect(plan).not.toContain('UNION');
  });

  it('has the view columns, and no virtual column the view lacks', async () => {
    expect((await query(pool, `SELECT * ${cpuBounded} ORDER BY time LIMIT 1`)).columns).toEqual(['time', 'host', 'usage']);
    const bounded = await queryError(pool, `SELECT filename ${cpuBounded}`);
    const unbounded = await queryError(pool, 'SELECT filename FROM cpu');
    expect(bounded.code).toBe(unbounded.code);
    expect(bounded.message).toMatch(/filename/);
  });

  it('reads an hour whose file has every column of an evolved measurement plainly too', async () => {
    const sql = "SELECT sum(extra) FROM evolved WHERE time >= TIMESTAMP '2025-10-16 11:00:00'";
    expect((await query(pool, sql)).data).toEqual([[3]]);
    expect(await profile(sql)).not.toContain('UNION');
  });
});

describe('a bounded read of a file lacking a column', () => {
  it('unions it by name with the typed columns: the missing column answers NULL', async () => {
    const sql = "SELECT count(*), count(extra), any_value(extra) FROM evolved WHERE time < TIMESTAMP '2025-10-16 11:00:00'";
    expect((await query(pool, sql)).data).toEqual([[3, 0, null]]);
    expect(await profile(sql)).toContain('UNION');
  });
});
