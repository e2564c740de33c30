import type { ArcError } from '@arc/errors';
import { existsSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { validateMeasurementName } from '@arc/columnar';
import path from 'node:path';
import { caseConflictError, caseVariantOf, foldName } from './names.js';

function directoryNames(directory: string): string[] {
  try {
    return readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return []; // not made yet
  }
}

/**
 * Claims new measurement names of a database in a local store before their first rows are
 * accepted: refused (409, naming the existing name) when the database or a measurement equals an
 * existing one but for case (names.ts), or two of the new ones do; else their directories are
 * made, so the next claim sees them. The caller serializes claims (the writers' census lock), so
 * two writers meeting `cpu` and `CPU` at once cannot both pass. Costs two directory listings, once
 * per measurement new to the store.
 */
export function claimNamesSync(root: string, database: string, measurements: readonly string[]): ArcError | null {
  const existingDatabase = caseVariantOf(directoryNames(root), database);
  if (existingDatabase !== null) return caseConflictError('database', database, existingDatabase);
  const existing = directoryNames(path.join(root, database));
  const byFolded = new Map(existing.map((name) => [foldName(name), name]));
  for (const measurement of measurements) {
    const known = byFolded.get(foldName(measurement));
    if (known !== undefined && known !== measurement) return caseConflictError('measurement', measurement, known);
    byFolded.set(foldName(measurement), measurement);
  }
  for (const measurement of measurements) {
    try {
      mkdirSync(path.join(root, database, measurement), { recursive: true });
    } catch {
      // The store refuses the directory (a file in its place, a full or read-only disk): the
      // rows are taken as before and their flush fails and retries; the claim waits for it.
    }
  }
  return null;
}

/**
 * Takes back claims of a request that was refused or aborted after claiming: the directories go
 * if still empty (a directory with a file, or a staged one, stays).
 */
export function releaseNamesSync(root: string, database: string, measurements: readonly string[]): void {
  for (const measurement of measurements) {
    try {
      rmdirSync(path.join(root, database, measurement));
    } catch {
      // Not empty (rows of it were flushed meanwhile), or already gone: it stays as it is.
    }
  }
}

/** Measurement directories of a database in a local store (what the writers' census counts from). */
export function measurementDirectoryCountSync(root: string, database: string): number {
  return directoryNames(path.join(root, database)).filter((name) => validateMeasurementName(name) === null).length;
}

/** Whether the measurement has a directory in a local store (files, or a claim, from before). */
export function hasMeasurementDirectorySync(root: string, database: string, measurement: string): boolean {
  return existsSync(path.join(root, database, measurement));
}
