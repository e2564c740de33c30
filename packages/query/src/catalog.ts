import { readdirSync } from 'node:fs';
import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdentifier, quoteLiteral, validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { DATABASES_MAX, MEASUREMENTS_PER_DATABASE_MAX } from './limits.js';

/**
 * Database names a DuckDB schema cannot stand for (measured): `main` is on every search path, so
 * its views would answer unqualified names of every other database; `memory` and `temp` are also
 * catalog names (qualified references become ambiguous); views cannot be created in
 * `information_schema` and `pg_catalog`. Such databases are not queryable (docs/decisions.md).
 */
const SCHEMA_RESERVED: ReadonlySet<string> = new Set(['main', 'memory', 'temp', 'system', 'information_schema', 'pg_catalog']);

/**
 * Directory levels below a measurement down to the files: YYYY/MM/DD/HH/<file>.parquet.
 * The view's glob has the same depth, so anything the scan counts the glob also reads.
 */
const PARTITION_DEPTH = 4;
export const PARQUET_SUFFIX = '.parquet';

/** Database -> measurements that have at least one complete Parquet file. */
export type CatalogScan = ReadonlyMap<string, ReadonlySet<string>>;

/** A directory's entries; none when it vanished (retention, delete) since it was seen. */
export function listDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch {
    // A directory that vanished (retention, delete) between listing and reading has no files.
    return [];
  }
}

/**
 * Valid, distinct directory names under `path`. DuckDB catalog names are case-insensitive, so of
 * names equal but for case only the first in sort order is kept.
 */
function childNames(path: string, isValid: (name: string) => boolean, countMax: number): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  const entries = listDirectory(path).filter((entry) => entry.isDirectory() && isValid(entry.name));
  entries.sort((left, right) => (left.name < right.name ? -1 : 1));
  for (const entry of entries) {
    const folded = entry.name.toLowerCase();
    if (seen.has(folded) || names.length >= countMax) continue;
    seen.add(folded);
    names.push(entry.name);
  }
  return names;
}

/** True when some `*.parquet` file sits exactly `depth` directory levels below `path`. */
function hasParquetFile(path: string, depth: number): boolean {
  for (const entry of listDirectory(path)) {
    if (depth === 0) {
      if (entry.isFile() && entry.name.endsWith(PARQUET_SUFFIX)) return true;
    } else if (entry.isDirectory() && hasParquetFile(join(path, entry.name), depth - 1)) {
      return true;
    }
  }
  return false;
}

function isQueryableDatabase(name: string): boolean {
  return validateDatabaseName(name) === null && !SCHEMA_RESERVED.has(name.toLowerCase());
}

function isMeasurement(name: string): boolean {
  return validateMeasurementName(name) === null;
}

/**
 * Lists the data root: which databases and measurements have files to query. A measurement of
 * `known` (the previous scan, when only additions happened since: QueryPool.catalogGrew) whose
 * directory is still there is taken as is, without walking its hour directories: that walk made
 * every rescan cost ~5 directory reads per measurement, seconds for a database of tens of
 * thousands (issue 11). New measurements are walked to their first file.
 */
export function scanDataRoot(dataRoot: string, known: CatalogScan = new Map()): CatalogScan {
  const scan = new Map<string, ReadonlySet<string>>();
  for (const database of childNames(dataRoot, isQueryableDatabase, DATABASES_MAX)) {
    const databasePath = join(dataRoot, database);
    const knownMeasurements = known.get(database);
    const measurements = childNames(databasePath, isMeasurement, MEASUREMENTS_PER_DATABASE_MAX).filter(
      (measurement) => knownMeasurements?.has(measurement) === true || hasParquetFile(join(databasePath, measurement), PARTITION_DEPTH),
    );
    if (measurements.length > 0) scan.set(database, new Set(measurements));
  }
  return scan;
}

/** The glob of a measurement's files; `*.parquet` never matches a writer's `.tmp` file. */
export function measurementGlob(dataRoot: string, database: string, measurement: string): string {
  return `${join(dataRoot, database, measurement)}/*/*/*/*/*${PARQUET_SUFFIX}`;
}

/**
 * Brings the connection's schemas and views from `previous` to `next` and returns what the
 * catalog now holds. Views re-glob their files on every query, so existing views are left alone:
 * only new measurements get a view (creating one reads file footers, the expensive part) and
 * vanished ones are dropped. A view that cannot be created (a file that is not Parquet, a file
 * deleted meanwhile) leaves its measurement out; the next refresh tries again.
 */
export async function applyCatalog(connection: DuckDBConnection, dataRoot: string, previous: CatalogScan, next: CatalogScan): Promise<CatalogScan> {
  await dropVanished(connection, previous, next);
  const applied = new Map<string, ReadonlySet<string>>();
  for (const [database, measurements] of next) {
    const known = previous.get(database);
    if (known === undefined) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(database)}`);
    const present = new Set<string>();
    for (const measurement of measurements) {
      if (known?.has(measurement) === true || (await createView(connection, dataRoot, database, measurement))) {
        present.add(measurement);
      }
    }
    applied.set(database, present);
  }
  return applied;
}

async function dropVanished(connection: DuckDBConnection, previous: CatalogScan, next: CatalogScan): Promise<void> {
  for (const [database, measurements] of previous) {
    const kept = next.get(database);
    if (kept === undefined) {
      await connection.run(`DROP SCHEMA IF EXISTS ${quoteIdentifier(database)} CASCADE`);
      continue;
    }
    for (const measurement of measurements) {
      if (kept.has(measurement)) continue;
      await connection.run(`DROP VIEW IF EXISTS ${quoteIdentifier(database)}.${quoteIdentifier(measurement)}`);
    }
  }
}

/** Creates the measurement's view; false when DuckDB cannot read its files. */
async function createView(connection: DuckDBConnection, dataRoot: string, database: string, measurement: string): Promise<boolean> {
  const glob = quoteLiteral(measurementGlob(dataRoot, database, measurement));
  try {
    await connection.run(
      `CREATE OR REPLACE VIEW ${quoteIdentifier(database)}.${quoteIdentifier(measurement)} AS ` +
        `SELECT * FROM read_parquet(${glob}, union_by_name = true)`,
    );
    return true;
  } catch {
    return false;
  }
}
