import { DuckDBInstance, type DuckDBConnection, type JS } from '@duckdb/node-api';
import { quoteLiteral } from '@arc/columnar';
import { ArcError, ErrorKind } from '@arc/errors';
import type { Cell, ColumnarResult, SqlAnswer, SqlRunner } from '@arc/influxql';
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

function toCell(value: JS): Cell {
  if (value === null) return null;
  if (typeof value === 'bigint') return value >= -(2n ** 31n) && value < 2n ** 31n ? Number(value) : value;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date || value instanceof Uint8Array) return String(value);
  // A LIST, STRUCT or MAP: its JSON text (String() would print `[object Object]` for a STRUCT).
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
}

export async function openTestDatabase(setupSql: readonly string[]): Promise<TestDatabase> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  await connection.run("SET TimeZone = 'UTC'");
  for (const sql of setupSql) await connection.run(sql);
  const sqlSeen: string[] = [];
  /** Like Arc's pool, a DESCRIBE says which table it read, as the catalog spells it (DuckDB resolves names case-insensitively). */
  const describedTable = async (sql: string): Promise<SqlAnswer['reads'] | undefined> => {
    const named = /^DESCRIBE "((?:[^"]|"")*)"\."((?:[^"]|"")*)"$/.exec(sql);
    if (named === null) return undefined;
    const [database, measurement] = [named[1] ?? '', named[2] ?? ''].map((name) => name.replaceAll('""', '"').toLowerCase().replaceAll("'", "''"));
    const found = await connection.runAndReadAll(
      `SELECT schema_name, table_name FROM duckdb_tables() WHERE lower(schema_name) = '${database ?? ''}' AND lower(table_name) = '${measurement ?? ''}'`,
    );
    return found.getRowsJS().map(([schema, table]) => ({ database: typeof schema === 'string' ? schema : '', measurement: typeof table === 'string' ? table : '' }));
  };
  const run: SqlRunner = async (sql, database, rowsMax) => {
    sqlSeen.push(sql);
    if (sql === 'SHOW DATABASES') sql = 'SELECT schema_name AS database FROM duckdb_schemas() WHERE NOT internal ORDER BY 1';
    const tablesOf = /^SHOW TABLES FROM "(.*)"$/.exec(sql);
    if (tablesOf !== null) sql = `SELECT schema_name AS database, table_name FROM duckdb_tables() WHERE schema_name = '${tablesOf[1] ?? ''}' ORDER BY 1`;
    await connection.run(`SET schema = ${quoteLiteral(database)}`).catch(() => connection.run("SET schema = 'main'"));
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
    const reads = await describedTable(sql);
    return reads === undefined ? result : { ...result, reads };
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
