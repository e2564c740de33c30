import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll } from 'vitest';

/**
 * A plain in-memory DuckDB connection (no pool, no lockdown) opened before the calling file's
 * tests and closed after them, for tests that run the encoders on DuckDB results directly; call
 * the returned function inside a test to get it.
 */
export function sharedConnection(): () => DuckDBConnection {
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    connection = await instance.connect();
  });
  afterAll(() => {
    connection?.closeSync();
    instance?.closeSync();
  });
  return () => {
    if (connection === undefined) throw new Error('the shared connection is used outside a test');
    return connection;
  };
}
