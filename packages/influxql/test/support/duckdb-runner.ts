import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ArcError, ErrorKind } from '@arc/errors';
import type { Cell, ColumnarResult, SqlRunner } from '@arc/influxql';
import { QueryErrorCode } from '@arc/query';

/**
 * A real DuckDB (in memory) holding Arc-shaped tables: one schema per database, `time TIMESTAMP`
 * plus tag and field columns, as the query threads' views present measurements. The translated
 * SQL runs on it unchanged; only the HTTP server and the thread pool are left out. Arc's query
 * threads answer `SHOW DATABASES` and `SHOW TABLES FROM db` from their catalog (columns `database`
 * and `table_name`; plain DuckDB lists catalogs instead), so those two are answered here from
 * DuckDB's schema listing in Arc's shape, and a DESCRIBE of a missing table fails with the
 * pool's error code. The server e2e tests cover the real ones.
 */
export interface TestDatabase {
  readonly run: SqlRunner;
  readonly sqlSeen: string[];
  close(): void;
}

function toCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value >= -(2n ** 31n) && value < 2n ** 31n ? Number(value) : value;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}

export async function openTestDatabase(setupSql: readonly string[]): Promise<TestDatabase> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  for (const sql of setupSql) await connection.run(sql);
  const sqlSeen: string[] = [];
  const run: SqlRunner = async (sql, database, rowsMax) => {
    sqlSeen.push(sql);
    if (sql === 'SHOW DATABASES') sql = 'SELECT schema_name AS database FROM duckdb_schemas() WHERE NOT internal ORDER BY 1';
    const tablesOf = /^SHOW TABLES FROM "(.*)"$/.exec(sql);
    if (tablesOf !== null) sql = `SELECT table_name FROM duckdb_tables() WHERE schema_name = '${tablesOf[1] ?? ''}' ORDER BY 1`;
    await connection.run(`SET schema = '${database.replaceAll("'", "''")}'`).catch(() => connection.run("SET schema = 'main'"));
    const reader = await connection.runAndReadAll(sql).catch((error: unknown) => {
      const message = (error as Error).message;
      if (sql.startsWith('DESCRIBE') && /Catalog Error: Table with name .* does not exist/.test(message)) {
        throw new ArcError(ErrorKind.badRequest, QueryErrorCode.unknownTable, message);
      }
      throw error;
    });
    const columns = reader.columnNames();
    const data = reader.getColumnsJS().map((column) => column.slice(0, rowsMax).map(toCell));
    const result: ColumnarResult = { columns, data: columns.map((_, index) => data[index] ?? []) };
    return result;
  };
  return {
    run,
    sqlSeen,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
