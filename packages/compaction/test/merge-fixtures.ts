// Test support of the merge engine's tests: a temporary directory, input Parquet files written
// the way the writer writes them (time as TIMESTAMP, `arc:tags` in the footer), a MergeRunner
// started on the built worker, and a DuckDB connection that reads the outputs back.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { TAGS_METADATA_KEY, quoteLiteral } from '@arc/columnar';
import { MergeRunner, type MergeRunnerOptions, type MergeTask } from '../src/merge-runner.js';

/** 2026-11-24T10:00:00Z in microseconds: the start of a UTC hour. */
export const T0_US = Date.UTC(2026, 10, 24, 10) * 1000;
export const SECOND_US = 1_000_000;

/** A TIMESTAMP literal `seconds` after T0. */
export function at(seconds: number): string {
  return `make_timestamp(${String(T0_US + seconds * SECOND_US)}::BIGINT)`;
}

export interface MergeFixture {
  readonly root: string;
  readonly runner: MergeRunner;
  /** Reads inputs and outputs (its own DuckDB instance, not the runner's). */
  readonly db: DuckDBConnection;
  /** Writes `select` to a new Parquet file named `name` with the footer `arc:tags` = tags; its path. */
  writeInput(name: string, select: string, tags: readonly string[]): Promise<string>;
  /** A task over `inputs` writing into a fresh directory (output paths `out-<i>.parquet.tmp`). */
  task(inputs: readonly string[], overrides?: Partial<MergeTask>): MergeTask;
  rows(sql: string): Promise<Record<string, unknown>[]>;
}

const TASK_DEFAULTS = { dedup: true, targetFileBytes: 512 * 1024 * 1024, rowGroupSize: 122_880, compressionLevel: 3 } as const;

/**
 * Opens the fixture before the file's first test and removes it after the last one. Read its
 * members inside tests and hooks, not at module load.
 */
export function useMergeFixture(prefix: string, options: Partial<MergeRunnerOptions> = {}): MergeFixture {
  let root: string | null = null;
  let runner: MergeRunner | null = null;
  let instance: DuckDBInstance | null = null;
  let db: DuckDBConnection | null = null;
  let taskCount = 0;
  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), prefix));
    runner = await MergeRunner.start({ memoryLimit: '256MB', threads: 2, nice: 0, tempDirectory: path.join(root, 'spill'), ...options });
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    db = await instance.connect();
  });
  afterAll(async () => {
    await runner?.close();
    db?.closeSync();
    instance?.closeSync();
    if (root !== null) await rm(root, { recursive: true, force: true });
  });
  const need = <T>(value: T | null, what: string): T => {
    if (value === null) throw new Error(`the fixture's ${what} is not open yet`);
    return value;
  };
  const fixture: MergeFixture = {
    get root() {
      return need(root, 'directory');
    },
    get runner() {
      return need(runner, 'runner');
    },
    get db() {
      return need(db, 'reader');
    },
    async writeInput(name, select, tags) {
      const file = path.join(fixture.root, 'inputs', name);
      mkdirSync(path.dirname(file), { recursive: true });
      const metadata = `KV_METADATA {${quoteLiteral(TAGS_METADATA_KEY)}: ${quoteLiteral(JSON.stringify(tags))}}`;
      await fixture.db.run(`COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION snappy, ${metadata})`);
      return file;
    },
    task(inputs, overrides = {}) {
      const directory = path.join(fixture.root, `task-${String(taskCount++)}`);
      mkdirSync(directory, { recursive: true });
      const outputPaths = [0, 1, 2, 3].map((index) => path.join(directory, `out-${String(index)}.parquet.tmp`));
      return { inputs, outputPaths, ...TASK_DEFAULTS, ...overrides };
    },
    async rows(sql) {
      return (await fixture.db.runAndReadAll(sql)).getRowObjectsJS();
    },
  };
  return fixture;
}

/** `read_parquet(['a', 'b'])` of the given files. */
export function readSql(paths: readonly string[]): string {
  return `read_parquet([${paths.map(quoteLiteral).join(', ')}])`;
}

/** A cell of rowsSql: a number, a string, or NULL. */
export type Cell = number | string | null;

function literal(cell: Cell): string {
  if (cell === null) return 'NULL';
  return typeof cell === 'number' ? String(cell) : quoteLiteral(cell);
}

/**
 * A SELECT of the given rows in the given order: `time` (seconds after T0) then `columns`
 * (name, DuckDB type), each row [seconds, ...cells].
 */
export function rowsSql(columns: readonly (readonly [string, string])[], rows: readonly (readonly [number, ...Cell[]])[]): string {
  const names = columns.map((_, index) => `c${String(index)}`);
  const values = rows.map(([seconds, ...cells], seq) => `(${[String(seq), String(T0_US + seconds * SECOND_US), ...cells.map(literal)].join(', ')})`);
  const select = columns.map(([name, type], index) => `CAST(c${String(index)} AS ${type}) AS "${name}"`);
  return (
    `SELECT make_timestamp(t::BIGINT) AS "time", ${select.join(', ')} ` +
    `FROM (VALUES ${values.join(', ')}) v(seq, t, ${names.join(', ')}) ORDER BY seq`
  );
}

/**
 * Overwrites every page of the given row groups of a Parquet file with 0xff bytes (the footer
 * stays intact): reading any value of them fails, skipping them by their statistics does not.
 */
export async function poisonRowGroups(db: DuckDBConnection, file: string, rowGroupIds: readonly number[]): Promise<void> {
  const chunks = (
    await db.runAndReadAll(
      `SELECT row_group_id, coalesce(dictionary_page_offset, data_page_offset) AS offset, total_compressed_size AS bytes ` +
        `FROM parquet_metadata(${quoteLiteral(file)})`,
    )
  ).getRowObjectsJS();
  const fd = openSync(file, 'r+');
  try {
    for (const chunk of chunks) {
      if (!rowGroupIds.includes(Number(chunk['row_group_id']))) continue;
      const bytes = Number(chunk['bytes']);
      writeSync(fd, Buffer.alloc(bytes, 0xff), 0, bytes, Number(chunk['offset']));
    }
  } finally {
    closeSync(fd);
  }
}
