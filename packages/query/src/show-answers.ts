import assert from 'node:assert/strict';
import { quoteLiteral } from '@arc/columnar';
import type { FileCatalog } from '@arc/storage';
import type { CatalogScan } from './catalog.js';

/**
 * SHOW DATABASES and SHOW TABLES answer with Arc's shapes (README), not DuckDB's: the
 * statement becomes a VALUES query of what the file catalog holds, which then runs like any
 * query, so every answer format works for it. Nothing here reads the disk.
 */

const BYTES_PER_MB = 1024 * 1024;

/** An hour start (µs) as an SQL TIMESTAMP literal, `TIMESTAMP 'YYYY-MM-DD HH:00:00'`; NULL for none. */
function hourLiteral(hourUs: number | null): string {
  if (hourUs === null) return 'NULL::TIMESTAMP';
  const iso = new Date(hourUs / 1000).toISOString();
  return `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 13)}:00:00'`;
}

function valuesQuery(columns: readonly string[], types: readonly string[], rows: readonly string[][]): string {
  assert.equal(types.length, columns.length, 'a type for each column');
  const names = columns.map((column) => `"${column}"`).join(', ');
  if (rows.length === 0) {
    return `SELECT ${columns.map((column, index) => `NULL::${types[index] as string} AS "${column}"`).join(', ')} WHERE false`;
  }
  const values = rows.map((row) => `(${row.join(', ')})`).join(', ');
  return `SELECT * FROM (VALUES ${values}) AS arc_show(${names})`;
}

/** `SHOW DATABASES`: one column `database`, the databases the caller may read, sorted. */
export function showDatabasesSql(databases: readonly string[]): string {
  return valuesQuery(['database'], ['VARCHAR'], [...databases].sort().map((database) => [quoteLiteral(database)]));
}

/**
 * `SHOW TABLES`: `database, table_name, storage_path, file_count, total_size_mb, first_hour,
 * last_hour` per measurement (the hours: the first and last hour, UTC, holding a file).
 * `storage_path` is relative to the store's root (`<database>/<measurement>`): any reader may run
 * SHOW TABLES, and the server's absolute paths are not theirs to see.
 */
export function showTablesSql(files: FileCatalog, catalog: CatalogScan, databases: readonly string[]): string {
  const rows: string[][] = [];
  for (const database of [...databases].sort()) {
    for (const measurement of [...(catalog.get(database) ?? [])].sort()) {
      const totals = files.totals(database, measurement);
      const storagePath = `${database}/${measurement}`;
      const sizeMb = (totals.bytes / BYTES_PER_MB).toFixed(6);
      rows.push([quoteLiteral(database), quoteLiteral(measurement), quoteLiteral(storagePath), `${String(totals.files)}::BIGINT`, `${sizeMb}::DOUBLE`, hourLiteral(totals.firstHourUs), hourLiteral(totals.lastHourUs)]);
    }
  }
  return valuesQuery(
    ['database', 'table_name', 'storage_path', 'file_count', 'total_size_mb', 'first_hour', 'last_hour'],
    ['VARCHAR', 'VARCHAR', 'VARCHAR', 'BIGINT', 'DOUBLE', 'TIMESTAMP', 'TIMESTAMP'],
    rows,
  );
}

/** Where a DESCRIBE answer says what a column is: DuckDB leaves `extra` empty for views. */
export const DESCRIBE_ROLE = { time: 'time', tag: 'tag', field: 'field' } as const;

/**
 * `DESCRIBE <measurement>`: DuckDB's columns (`column_name, column_type, null, key, default,
 * extra`) with `extra` saying which columns are tags (from the files' `arc:tags` metadata), which
 * are fields, and which is the time, so clients (InfluxQL's SHOW TAG KEYS / FIELD KEYS) tell a
 * string field from a tag.
 */
export function describeSql(columns: readonly { name: string; type: string }[], tags: ReadonlySet<string>): string {
  const rows = columns.map((column) => {
    const role = column.name === 'time' ? DESCRIBE_ROLE.time : tags.has(column.name) ? DESCRIBE_ROLE.tag : DESCRIBE_ROLE.field;
    return [quoteLiteral(column.name), quoteLiteral(column.type), "'YES'", 'NULL::VARCHAR', 'NULL::VARCHAR', quoteLiteral(role)];
  });
  return valuesQuery(['column_name', 'column_type', 'null', 'key', 'default', 'extra'], ['VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR'], rows);
}
