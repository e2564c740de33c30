import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { validateDatabaseName, validateMeasurementName } from '@arc/columnar';

/**
 * What the databases API reports, read from the data root as it is on disk:
 *   <root>/<database>/<measurement>/YYYY/MM/DD/HH/<file>.parquet
 * Only complete files count (`*.parquet`; a writer's staged `*.parquet.tmp` does not). A
 * directory whose name is not a valid database or measurement name is not one (it cannot have
 * been written by Arc, and the query threads ignore it too).
 */
export interface FileTotals {
  readonly fileCount: number;
  readonly sizeBytes: number;
}

export interface MeasurementFiles extends FileTotals {
  readonly name: string;
}

export interface DatabaseFiles extends FileTotals {
  readonly name: string;
  readonly measurements: readonly MeasurementFiles[];
}

const PARQUET_SUFFIX = '.parquet';
const BYTES_PER_MB = 1024 * 1024;

async function entriesOf(directory: string): Promise<Dirent[]> {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch {
    // Missing, or removed (retention, delete) between listing and reading: it holds nothing.
    return [];
  }
}

async function sizeOf(file: string): Promise<number | null> {
  try {
    return (await stat(file)).size;
  } catch {
    return null;
  }
}

/** Parquet files and their bytes anywhere below `directory`. */
async function parquetTotals(directory: string): Promise<FileTotals> {
  let fileCount = 0;
  let sizeBytes = 0;
  for (const entry of await entriesOf(directory)) {
    const child = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      const below = await parquetTotals(child);
      fileCount += below.fileCount;
      sizeBytes += below.sizeBytes;
    } else if (entry.isFile() && entry.name.endsWith(PARQUET_SUFFIX)) {
      const size = await sizeOf(child);
      if (size === null) continue;
      fileCount += 1;
      sizeBytes += size;
    }
  }
  return { fileCount, sizeBytes };
}

function sortedNames(entries: readonly Dirent[], isValid: (name: string) => boolean): string[] {
  return entries
    .filter((entry) => entry.isDirectory() && isValid(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** Database directory names under the data root, sorted. */
export async function listDatabaseNames(dataRoot: string): Promise<string[]> {
  return sortedNames(await entriesOf(dataRoot), (name) => validateDatabaseName(name) === null);
}

/** The existing database whose name equals `name` but for case (DuckDB names are case-insensitive). */
export async function findDatabaseIgnoringCase(dataRoot: string, name: string): Promise<string | null> {
  const folded = name.toLowerCase();
  return (await listDatabaseNames(dataRoot)).find((existing) => existing.toLowerCase() === folded) ?? null;
}

/** The database's measurements with their files; null when the database directory does not exist. */
export async function databaseFiles(dataRoot: string, database: string): Promise<DatabaseFiles | null> {
  const directory = path.join(dataRoot, database);
  const info = await stat(directory).catch(() => null);
  if (!info?.isDirectory()) return null;
  const measurements: MeasurementFiles[] = [];
  for (const name of sortedNames(await entriesOf(directory), (entry) => validateMeasurementName(entry) === null)) {
    measurements.push({ name, ...(await parquetTotals(path.join(directory, name))) });
  }
  const fileCount = measurements.reduce((sum, measurement) => sum + measurement.fileCount, 0);
  const sizeBytes = measurements.reduce((sum, measurement) => sum + measurement.sizeBytes, 0);
  return { name: database, measurements, fileCount, sizeBytes };
}

function sizeMb(bytes: number): number {
  return Math.round((bytes / BYTES_PER_MB) * 1000) / 1000;
}

/** A database as the API shows it: `{name, measurement_count, file_count, total_size_bytes, total_size_mb}`. */
export function databaseJson(files: DatabaseFiles): Record<string, string | number> {
  return {
    name: files.name,
    measurement_count: files.measurements.length,
    file_count: files.fileCount,
    total_size_bytes: files.sizeBytes,
    total_size_mb: sizeMb(files.sizeBytes),
  };
}

export function measurementJson(files: MeasurementFiles): Record<string, string | number> {
  return { name: files.name, file_count: files.fileCount, total_size_bytes: files.sizeBytes, total_size_mb: sizeMb(files.sizeBytes) };
}
