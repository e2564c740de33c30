// Proves the lockdown of a query instance on DuckDB itself (not only through the statement guard):
// files outside the data directory, ATTACH, COPY elsewhere, INSTALL/LOAD and global SETs all fail,
// while the views over the data directory and the per-session default schema keep working.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MeasurementViews } from '../src/catalog.js';
import { openLockedInstance } from '../src/locked-instance.js';
import type { LockedInstance } from '../src/locked-instance.js';
import { DataDir } from './fixtures.js';

let dir: DataDir;
let locked: LockedInstance;

async function failure(sql: string): Promise<string> {
  try {
    await locked.connection.run(sql);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`statement unexpectedly succeeded: ${sql}`);
}

beforeAll(async () => {
  dir = await DataDir.create();
  await dir.writeParquet(dir.filePath('default', 'cpu', '2025/10/16/16', 'cpu_20251016_160000_a.parquet'), 'SELECT 1 AS x');
  mkdirSync(join(dir.root, 'outside'), { recursive: true });
  await dir.writeParquet(join(dir.root, 'outside', 'secret.parquet'), "SELECT 'secret' AS s");
  locked = await openLockedInstance({ dataRoot: dir.dataRoot, duckdbThreads: 1, memoryLimit: '256MB', tempDirectory: dir.tempDirectory });
  // The views as a query thread makes them: a file list in a variable (SET VARIABLE works locked).
  const views = new MeasurementViews(locked.connection);
  await views.applyScan(new Map([['default', new Set(['cpu'])]]));
  expect(await views.sync('default', 'cpu', 1, [dir.filePath('default', 'cpu', '2025/10/16/16', 'cpu_20251016_160000_a.parquet')])).toBe(true);
});

afterAll(() => {
  locked.connection.closeSync();
  locked.instance.closeSync();
  dir.remove();
});

describe('locked-down DuckDB instance', () => {
  it('reads the data directory through the views and switches the default schema per session', async () => {
    await locked.connection.run("SET schema = 'default'");
    const reader = await locked.connection.runAndReadAll('SELECT x FROM cpu');
    expect(reader.getRowsJS()).toEqual([[1]]);
  });

  it.each([
    ["SELECT * FROM read_csv('/etc/passwd')", 'Permission Error'],
    ["SELECT * FROM read_parquet('/etc/hostname')", 'Permission Error'],
    ['SELECT * FROM read_parquet(OUTSIDE)', 'Permission Error'],
    ['SELECT * FROM read_parquet(TRAVERSAL)', 'Permission Error'],
    ["ATTACH '/tmp/arc-query-attach.db' AS other", 'Permission Error'],
    ["COPY (SELECT 1) TO '/tmp/arc-query-copy.csv'", 'Permission Error'],
    ['INSTALL httpfs', 'Permission Error'],
    ['LOAD httpfs', 'Permission Error'],
    ['SET threads = 4', 'the configuration has been locked'],
    ['SET enable_external_access = true', 'the configuration has been locked'],
    ["SET allowed_directories = ['/']", 'the configuration has been locked'],
    ['SET lock_configuration = false', 'the configuration has been locked'],
  ])('refuses %s', async (template, expected) => {
    const sql = template
      .replace('OUTSIDE', `'${join(dir.root, 'outside', 'secret.parquet')}'`)
      .replace('TRAVERSAL', `'${dir.dataRoot}/../../outside/secret.parquet'`);
    const message = await failure(sql);
    expect(message).toContain(expected);
  });

  it('runs in UTC', async () => {
    const reader = await locked.connection.runAndReadAll("SELECT current_setting('TimeZone')");
    expect(reader.getRowsJS()).toEqual([['UTC']]);
  });
});

describe('profiling', () => {
  it('is off for ordinary queries (no profile printed per query), and EXPLAIN ANALYZE still profiles', async () => {
    const setting = await locked.connection.runAndReadAll("SELECT current_setting('enable_profiling')");
    expect(setting.getRowsJS()).toEqual([[null]]);
    const explained = await locked.connection.runAndReadAll('EXPLAIN ANALYZE SELECT 42');
    expect(explained.getRowsJS()[0]?.[1]).toContain('Total Time');
  });
});
