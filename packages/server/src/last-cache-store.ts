import type { LastCacheDefinition } from '@arc/writer';
import { openSqliteFile } from '@arc/compaction';
import { ServerErrorCode } from './error-codes.js';

/**
 * Last-value cache definitions live in `<data_dir>/last_caches.db` (the rows themselves are kept
 * in memory by the writers and seeded again from the files at each start). Same store pattern as
 * retention policies and continuous queries: `PRAGMA user_version` is the schema's version.
 */
const LAST_CACHE_SCHEMA_VERSION = 1;

export const LAST_CACHE_FILE_NAME = 'last_caches.db';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS last_caches (
  database_name    TEXT NOT NULL,
  measurement_name TEXT NOT NULL,
  cache_name       TEXT NOT NULL,
  key_columns      TEXT NOT NULL,
  value_columns    TEXT,
  row_count        INTEGER NOT NULL CHECK (row_count >= 1),
  ttl_seconds      INTEGER NOT NULL CHECK (ttl_seconds >= 1),
  created_at       TEXT NOT NULL,
  PRIMARY KEY (database_name, measurement_name, cache_name)
);
`;

interface StoredRow {
  database_name: string;
  measurement_name: string;
  cache_name: string;
  key_columns: string;
  value_columns: string | null;
  row_count: number;
  ttl_seconds: number;
}

export class LastCacheStore {
  private readonly db: ReturnType<typeof openSqliteFile>;

  private constructor(db: ReturnType<typeof openSqliteFile>) {
    this.db = db;
  }

  static open(path: string): LastCacheStore {
    return new LastCacheStore(
      openSqliteFile(path, {
        version: LAST_CACHE_SCHEMA_VERSION,
        sql: SCHEMA_SQL,
        synchronous: 'FULL',
        foreignKeys: false,
        what: 'Last cache store',
        newerCode: ServerErrorCode.lastCacheStoreNewer,
      }),
    );
  }

  list(): LastCacheDefinition[] {
    const rows = this.db.prepare('SELECT * FROM last_caches ORDER BY database_name, measurement_name, cache_name').all() as StoredRow[];
    return rows.map((row) => ({
      database: row.database_name,
      measurement: row.measurement_name,
      name: row.cache_name,
      keyColumns: JSON.parse(row.key_columns) as string[],
      valueColumns: row.value_columns === null ? null : (JSON.parse(row.value_columns) as string[]),
      count: row.row_count,
      ttlSeconds: row.ttl_seconds,
    }));
  }

  insertSync(definition: LastCacheDefinition): void {
    this.db
      .prepare('INSERT INTO last_caches VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(
        definition.database,
        definition.measurement,
        definition.name,
        JSON.stringify(definition.keyColumns),
        definition.valueColumns === null ? null : JSON.stringify(definition.valueColumns),
        definition.count,
        definition.ttlSeconds,
        new Date().toISOString(),
      );
  }

  deleteSync(database: string, measurement: string, name: string): void {
    this.db.prepare('DELETE FROM last_caches WHERE database_name = ? AND measurement_name = ? AND cache_name = ?').run(database, measurement, name);
  }

  close(): void {
    this.db.close();
  }
}
