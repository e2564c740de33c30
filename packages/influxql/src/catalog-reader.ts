import { isArcError } from '@arc/errors';
import { QueryErrorCode } from '@arc/query';
import { schemaFromColumns, describeSql, compareNames, type MeasurementSchema } from './schema.js';
import { rowsOf, type ColumnarResult } from './series.js';
import { sqlName } from './sql-text.js';

/** Runs one SQL statement through Arc's query pool; rejects with the pool's error. */
export type SqlRunner = (sql: string, database: string, rowsMax: number) => Promise<ColumnarResult>;

/** Catalog listings are small: a few thousand names at most in practice. */
const CATALOG_ROWS_MAX = 1_000_000;

/** The values of one column of an Arc answer (`SHOW DATABASES` -> `database`, `SHOW TABLES` -> `table_name`). */
function column(result: ColumnarResult, name: string): string[] {
  const index = result.columns.indexOf(name);
  if (index === -1) throw new Error(`the catalog answer has no column '${name}' (got ${result.columns.join(', ')})`);
  return (result.data[index] ?? []).map(String);
}

/**
 * What the query threads' catalog holds (databases with data, their measurements, each
 * measurement's columns), read through the read statements Arc SQL answers from its catalog
 * (`SHOW DATABASES`, `SHOW TABLES FROM db`: an unknown database lists nothing) and `DESCRIBE`,
 * and cached for one request. A SELECT costs one DESCRIBE before its query: no listing, since
 * `SHOW TABLES` also counts and sizes every file of the database.
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

  /**
   * The measurement's schema; null when the database or the measurement does not exist. Names
   * resolve as in Arc SQL (case-insensitively); the series keep the name the query gave.
   */
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
    return column(shown, 'database').sort(compareNames);
  }

  private async listMeasurements(database: string): Promise<string[]> {
    const shown = await this.run(`SHOW TABLES FROM ${sqlName(database)}`, database, CATALOG_ROWS_MAX);
    return column(shown, 'table_name').sort(compareNames);
  }

  private async describe(database: string, measurement: string): Promise<MeasurementSchema | null> {
    let described: ColumnarResult;
    try {
      described = await this.run(describeSql(database, measurement), database, CATALOG_ROWS_MAX);
    } catch (error) {
      if (isArcError(error) && (error.code === QueryErrorCode.unknownTable || error.code === QueryErrorCode.unknownDatabase)) return null;
      throw error;
    }
    // Arc's DESCRIBE says in `extra` (the 6th column) whether a column is a tag or a field.
    const rows = rowsOf(described).map((row) => [String(row[0]), String(row[1]), row[5] === null || row[5] === undefined ? null : String(row[5])] as const);
    return schemaFromColumns(measurement, rows);
  }
}
