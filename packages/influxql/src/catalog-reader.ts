import { schemaFromColumns, describeSql, compareNames, type MeasurementSchema } from './schema.js';
import { rowsOf, type ColumnarResult } from './series.js';
import { sqlName } from './sql-text.js';

/** Runs one SQL statement through Arc's query pool; rejects with the pool's error. */
export type SqlRunner = (sql: string, database: string, rowsMax: number) => Promise<ColumnarResult>;

/** Catalog listings are small: a few thousand names at most in practice. */
const CATALOG_ROWS_MAX = 1_000_000;

/**
 * The SQL that lists databases on query engines whose guard still allows DuckDB's metadata table
 * functions; newer guards answer `SHOW DATABASES` with Arc's own `database` column instead.
 */
const DATABASES_FALLBACK_SQL = 'SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() AND NOT internal ORDER BY schema_name';

function column(result: ColumnarResult, names: readonly string[]): string[] | null {
  for (const name of names) {
    const index = result.columns.indexOf(name);
    if (index !== -1) return (result.data[index] ?? []).map(String);
  }
  return null;
}

/**
 * What the query threads' catalog holds (databases with data, their measurements, each
 * measurement's columns), read through ordinary read statements (SHOW, DESCRIBE) and cached for
 * one request.
 */
export class CatalogReader {
  private readonly run: SqlRunner;
  private readonly defaultDatabase: string;
  private databaseList: Promise<string[]> | null = null;
  private readonly measurementLists = new Map<string, Promise<string[]>>();
  private readonly schemas = new Map<string, Promise<MeasurementSchema | null>>();

  constructor(run: SqlRunner, defaultDatabase: string) {
    this.run = run;
    this.defaultDatabase = defaultDatabase;
  }

  databases(): Promise<string[]> {
    this.databaseList ??= this.listDatabases();
    return this.databaseList;
  }

  measurements(database: string): Promise<string[]> {
    let list = this.measurementLists.get(database);
    if (list === undefined) {
      list = this.listMeasurements(database);
      this.measurementLists.set(database, list);
    }
    return list;
  }

  /** The measurement's schema; null when the database has no such measurement (names are case-sensitive). */
  schema(database: string, measurement: string): Promise<MeasurementSchema | null> {
    const key = `${database}\u0000${measurement}`;
    let schema = this.schemas.get(key);
    if (schema === undefined) {
      schema = this.describe(database, measurement);
      this.schemas.set(key, schema);
    }
    return schema;
  }

  private async listDatabases(): Promise<string[]> {
    const shown = await this.run('SHOW DATABASES', this.defaultDatabase, CATALOG_ROWS_MAX);
    const names = column(shown, ['database']) ?? column(await this.run(DATABASES_FALLBACK_SQL, this.defaultDatabase, CATALOG_ROWS_MAX), ['schema_name']);
    return (names ?? []).sort(compareNames);
  }

  private async listMeasurements(database: string): Promise<string[]> {
    if (!(await this.databases()).includes(database)) return [];
    const shown = await this.run(`SHOW TABLES FROM ${sqlName(database)}`, database, CATALOG_ROWS_MAX);
    return (column(shown, ['table_name', 'name']) ?? []).sort(compareNames);
  }

  private async describe(database: string, measurement: string): Promise<MeasurementSchema | null> {
    if (!(await this.measurements(database)).includes(measurement)) return null;
    const described = await this.run(describeSql(database, measurement), database, CATALOG_ROWS_MAX);
    const rows = rowsOf(described).map(([name, type]) => [String(name), String(type)] as const);
    return schemaFromColumns(measurement, rows);
  }
}
