// Proves the query side of a catalog that lists measurements lazily (Storage.open lists names
// only): a query waits for its measurement's first listing and answers from it, SHOW TABLES counts
// every file, and a query bounded in time never makes the measurement's view, so it reads only
// the footers of its hours' files (shown with a damaged file in another hour: the bounded query
// answers, the unbounded one, which reads every footer, fails on it).
// Run `npx tsc -b packages/query` first: the pool's workers load the compiled dist/query-worker.js.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Storage, dataFileKey, encodeSchema, schemaIdOf, schemaKey } from '@arc/storage';
import type { QueryPool } from '../src/index.js';
import { DataDir, query, queryError } from './fixtures.js';

const COLUMNS = [
  { name: 'time', type: 'TIMESTAMP' },
  { name: 'host', type: 'VARCHAR' },
  { name: 'usage', type: 'DOUBLE' },
];
const SCHEMA_ID = schemaIdOf(COLUMNS);
const hourUs = (hour: number): number => Date.UTC(2025, 9, 16, hour) * 1000;

let dir: DataDir;
let storage: Storage;
let pool: QueryPool;

/** A file of `rows` rows in `hour`, named and described as a writer does (schema id, schema object). */
async function writeHour(measurement: string, hour: number, rows: number): Promise<string> {
  const key = dataFileKey({ database: 'default', measurement, hourUs: hourUs(hour), nodeId: 'n1', unique: `h${String(hour)}`, rows, bytes: 1, minTimeUs: hourUs(hour), maxTimeUs: hourUs(hour) + rows - 1, writtenAtMs: 0, schemaId: SCHEMA_ID });
  const select = `SELECT TIMESTAMP '2025-10-16 ${String(hour).padStart(2, '0')}:00:00' + to_microseconds(i) AS time, 'h' || i AS host, i::DOUBLE AS usage FROM range(${String(rows)}) t(i)`;
  await dir.writeParquet(`${dir.dataRoot}/${key}`, select);
  return `${dir.dataRoot}/${key}`;
}

beforeAll(async () => {
  dir = await DataDir.create();
  const seed = await Storage.open({ root: dir.dataRoot });
  for (const measurement of ['cpu', 'mem']) await seed.backend.put(schemaKey('default', measurement, SCHEMA_ID), encodeSchema(COLUMNS));
  writeFileSync(await writeHour('cpu', 10, 1), 'not parquet at all');
  await writeHour('cpu', 11, 3);
  await writeHour('cpu', 12, 2);
  await writeHour('mem', 12, 4);
  storage = await Storage.open({ root: dir.dataRoot });
  pool = dir.pool({ storage });
  await pool.ready();
});

afterAll(async () => {
  await pool.close();
  dir.remove();
});

describe('a catalog listed lazily', () => {
  it('lists a measurement when a query first needs it, and reads only the hours a bounded query keeps', async () => {
    expect(storage.catalog.isLoaded('default', 'cpu')).toBe(false);
    const bounded = await query(pool, "SELECT count(*) AS n, sum(usage) AS total FROM cpu WHERE time >= TIMESTAMP '2025-10-16 11:00:00' AND time < TIMESTAMP '2025-10-16 13:00:00'");
    expect(bounded.data).toEqual([[5, 4]]);
    expect(storage.catalog.isLoaded('default', 'cpu')).toBe(true);
    expect(storage.catalog.columns('default', 'cpu')).toEqual(COLUMNS);
    expect(storage.catalog.isLoaded('default', 'mem')).toBe(false);
    // The same measurement unbounded reads every file's footer, the damaged one too.
    expect((await queryError(pool, 'SELECT count(*) FROM cpu')).code).toBe('ARC_SQL_ERROR');
  });

  it('counts every file in SHOW TABLES, listing the measurements not listed yet', async () => {
    const answer = await query(pool, 'SHOW TABLES');
    const counts = answer.data.map((row) => [row[1], row[3]]);
    expect(counts).toEqual([
      ['cpu', 3],
      ['mem', 1],
    ]);
    expect(storage.catalog.unloadedMeasurements()).toEqual([]);
  });
});
