import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampValue } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { QueryPool } from '../src/index.js';
import type { AnswerFormat, QueryAnswer, QueryPoolOptions } from '../src/index.js';

/** A temporary Arc data directory whose Parquet files a plain (not locked-down) DuckDB writes. */
export class DataDir {
  readonly root: string;
  readonly dataRoot: string;
  readonly tempDirectory: string;
  private readonly writer: DuckDBConnection;

  private constructor(root: string, writer: DuckDBConnection) {
    this.root = root;
    this.dataRoot = join(root, 'data', 'arc');
    this.tempDirectory = join(root, 'duckdb-tmp');
    this.writer = writer;
    mkdirSync(this.dataRoot, { recursive: true });
    mkdirSync(this.tempDirectory, { recursive: true });
  }

  static async create(): Promise<DataDir> {
    const instance = await DuckDBInstance.create(':memory:');
    return new DataDir(mkdtempSync(join(tmpdir(), 'arc-query-')), await instance.connect());
  }

  /** Path of a file in the hour partition of `hour` (a 'YYYY/MM/DD/HH' string). */
  filePath(database: string, measurement: string, hour: string, fileName: string): string {
    return join(this.dataRoot, database, measurement, hour, fileName);
  }

  /** Writes the rows of `select` as one Parquet file, the way the writer lays files out. */
  async writeParquet(path: string, select: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true });
    await this.writer.run(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  }

  pool(overrides: Partial<QueryPoolOptions> = {}): QueryPool {
    return new QueryPool({
      dataRoot: this.dataRoot,
      threads: 2,
      duckdbThreads: 1,
      memoryLimit: '256MB',
      tempDirectory: this.tempDirectory,
      queueSizeMax: 8,
      timeoutMs: 10_000,
      ...overrides,
    });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export interface JsonAnswer {
  success: boolean;
  columns: string[];
  data: unknown[][];
  row_count: number;
  execution_time_ms: number;
  timestamp: string;
}

export async function query(pool: QueryPool, sql: string, database = 'default'): Promise<JsonAnswer> {
  const answer = await pool.run({ sql, database, format: 'json' });
  const parsed = JSON.parse(Buffer.from(answer.body).toString('utf8')) as JsonAnswer;
  if (parsed.row_count !== answer.rowCount) throw new Error('row_count differs from QueryAnswer.rowCount');
  return parsed;
}

/** The ArcError a rejected run carries (kind and code are what the server maps). */
export async function queryError(pool: QueryPool, sql: string, database = 'default'): Promise<{ kind: string; code: string; message: string }> {
  try {
    await pool.run({ sql, database, format: 'json' });
  } catch (error) {
    return error as { kind: string; code: string; message: string };
  }
  throw new Error(`query unexpectedly succeeded: ${sql}`);
}

/** RFC 3339 UTC text of an instant in microseconds since the epoch, with the fraction only when non-zero. */
export function instantText(micros: number): string {
  const second = Math.floor(micros / 1_000_000);
  const fraction = micros - second * 1_000_000;
  const prefix = new Date(second * 1000).toISOString().slice(0, 19);
  return fraction === 0 ? `${prefix}Z` : `${prefix}.${String(fraction).padStart(6, '0')}Z`;
}

/**
 * `sql`'s answer over every Parquet file of `measurement` in `dir` (its `FROM measurement` read
 * with read_parquet), from a DuckDB that knows nothing of Arc, with values as Arc's JSON answers
 * write them: instants as RFC 3339, integers as numbers. What a pruned or narrowed run must equal.
 */
export async function answerOverEveryFile(plain: DuckDBConnection, dir: DataDir, sql: string, measurement: string): Promise<unknown[][]> {
  const files = `read_parquet('${join(dir.dataRoot, 'default', measurement, '**', '*.parquet')}')`;
  const reader = await plain.runAndReadAll(sql.replaceAll(`FROM ${measurement}`, `FROM ${files}`));
  return reader.getRows().map((row) => row.map((value) => (value instanceof DuckDBTimestampValue ? instantText(Number(value.micros)) : typeof value === 'bigint' ? Number(value) : value)));
}

/** One column per kind the encoders know, each as [name, SQL expression]. */
export const TYPED_COLUMNS: readonly (readonly [string, string])[] = [
  ['bool_v', 'true'],
  ['i8', '-5::TINYINT'],
  ['i16', '-300::SMALLINT'],
  ['i32', '-70000::INTEGER'],
  ['u8', '200::UTINYINT'],
  ['u16', '60000::USMALLINT'],
  ['u32', '4000000000::UINTEGER'],
  ['i64', '-9007199254740993::BIGINT'],
  ['u64', '18446744073709551615::UBIGINT'],
  ['i128', '170141183460469231731687303715884105727::HUGEINT'],
  ['f32', '0.1::FLOAT'],
  ['f64', '0.1::DOUBLE'],
  ['s', `'ünï, "q" ✓' || chr(10) || 'long enough to leave the inline form'`],
  ['short', `'日本'`],
  ['d', "DATE '2025-10-16'"],
  ['ts', "TIMESTAMP '2025-10-16 16:00:00.123456'"],
  ['tstz', "TIMESTAMPTZ '2025-10-16 18:00:00+02'"],
  ['ts_s', "TIMESTAMP_S '2025-10-16 16:00:01'"],
  ['ts_ms', "TIMESTAMP_MS '2025-10-16 16:00:00.5'"],
  ['ts_ns', "TIMESTAMP_NS '2025-10-16 16:00:00.123456789'"],
  ['dec', '12.30::DECIMAL(10,2)'],
  ['iv', 'INTERVAL 1 DAY'],
  ['list', '[1, 2]'],
];

/** Two rows: row 0 has every TYPED_COLUMNS value, row 1 is NULL in every column. */
export const TYPED_SQL = `SELECT ${TYPED_COLUMNS.map(([name, expression]) => `CASE WHEN i = 0 THEN ${expression} END AS ${name}`).join(', ')} FROM range(2) t(i) ORDER BY i`;

/** The raw answer bytes of `sql` in `format`. */
export async function answerBytes(pool: QueryPool, sql: string, format: AnswerFormat, limit?: number): Promise<QueryAnswer> {
  return pool.run({ sql, database: 'default', format, ...(limit === undefined ? {} : { limit }) });
}

/**
 * A one-thread pool on an empty data directory, opened before the calling file's tests and closed
 * after them; call the returned function inside a test to get it.
 */
export function sharedPool(): () => QueryPool {
  let dir: DataDir | undefined;
  let pool: QueryPool | undefined;
  beforeAll(async () => {
    dir = await DataDir.create();
    pool = dir.pool({ threads: 1 });
    await pool.ready();
  });
  afterAll(async () => {
    await pool?.close();
    dir?.remove();
  });
  return () => {
    if (pool === undefined) throw new Error('the shared pool is used outside a test');
    return pool;
  };
}
