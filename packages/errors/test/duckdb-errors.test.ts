// Proves readDuckDBError reads the type of the errors the installed DuckDB really throws (one
// query per type Arc tells apart, run on an in-memory DuckDB), so a DuckDB upgrade that rewords
// its messages fails here; and that it finds the full-disk texts and nothing else.
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckDBErrorType, readDuckDBError } from '../src/index.js';

let instance: DuckDBInstance;
let connection: DuckDBConnection;

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:', { memory_limit: '64MB', threads: '1' });
  connection = await instance.connect();
});

afterAll(() => {
  connection.closeSync();
  instance.closeSync();
});

async function thrownBy(sql: string): Promise<unknown> {
  try {
    await connection.run(sql);
  } catch (error) {
    return error;
  }
  throw new Error(`expected ${sql} to fail`);
}

describe('readDuckDBError on real DuckDB errors', () => {
  it.each([
    [DuckDBErrorType.parser, 'SELEC 1'],
    [DuckDBErrorType.catalog, 'SELECT * FROM no_such_table'],
    [DuckDBErrorType.binder, 'SELECT no_such_column FROM range(1)'],
    [DuckDBErrorType.conversion, "SELECT 'abc'::INTEGER"],
    [DuckDBErrorType.invalidInput, "SELECT error('refused')"],
    [DuckDBErrorType.outOfRange, 'SELECT 2147483647::INTEGER + 1::INTEGER'],
    [DuckDBErrorType.io, "SELECT * FROM read_csv('/nonexistent/arc-test.csv')"],
    [DuckDBErrorType.outOfMemory, 'SELECT list(range) FROM range(100000000)'],
  ])('reads %s', async (type, sql) => {
    const facts = readDuckDBError(await thrownBy(sql));
    expect(facts.type).toBe(type);
    expect(facts.diskFull).toBe(false);
  });

  it('reads Permission once external access is off', async () => {
    await connection.run("SET enable_external_access = false");
    const facts = readDuckDBError(await thrownBy("SELECT * FROM read_csv('/tmp/arc-test.csv')"));
    expect(facts.type).toBe(DuckDBErrorType.permission);
  });

  it('drops node-api prefix of a statement that does not split', async () => {
    let thrown: unknown = null;
    try {
      await connection.extractStatements("SELECT 'unterminated");
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toMatch(/^Failed to extract statements: /);
    const facts = readDuckDBError(thrown);
    expect(facts.type).toBe(DuckDBErrorType.parser);
    expect(facts.message).not.toMatch(/^Failed to extract/);
  });
});

describe('readDuckDBError on texts that cannot be made here', () => {
  it.each([
    ['a full disk', 'IO Error: Could not write file "/d/tmp/x.tmp": No space left on device'],
    ['a quota', 'IO Error: Could not write file "/d/x.parquet": Disk quota exceeded'],
    ['a spill over max_temp_directory_size', 'Out of Memory Error: failed to offload data block of size 256.0 KiB (3.1 MiB/3.1 MiB used).'],
  ])('%s is the disk being full', (_name, message) => {
    expect(readDuckDBError(new Error(message)).diskFull).toBe(true);
  });

  it.each([
    ['a missing file', 'IO Error: Cannot open file "/nonexistent/x.parquet": No such file or directory'],
    ['memory', 'Out of Memory Error: could not allocate block of size 256.0 KiB (1.0 GiB/1.0 GiB used)'],
  ])('%s is not', (_name, message) => {
    expect(readDuckDBError(new Error(message)).diskFull).toBe(false);
  });

  it('has no type for a text without a DuckDB head', () => {
    expect(readDuckDBError('not a DuckDB error').type).toBeNull();
    expect(readDuckDBError(new Error('Error: something')).type).toBeNull();
  });
});
