import { badRequest, type ArcError } from '@arc/config';
import { TIME_COLUMN } from './types.js';

/** Name rules of PROTOCOLS.md: they become directory names, so they are strict. */
const DATABASE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MEASUREMENT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;
/**
 * Arc's reserved names, plus the schema and catalog names DuckDB keeps for itself: a database
 * becomes a DuckDB schema in the query threads, and these could not be mapped to one.
 */
const RESERVED_DATABASE_NAMES: ReadonlySet<string> = new Set([
  'system',
  'internal',
  '_internal',
  'main',
  'memory',
  'temp',
  'information_schema',
  'pg_catalog',
]);

/** Tag and field names become Parquet column names and quoted SQL identifiers. */
export const COLUMN_NAME_BYTES_MAX = 256;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export const DEFAULT_DATABASE = 'default';

export function validateDatabaseName(name: string): ArcError | null {
  if (!DATABASE_NAME_PATTERN.test(name)) {
    return badRequest(
      'ARC_BAD_DATABASE_NAME',
      `Invalid database name '${name}': must match ${DATABASE_NAME_PATTERN.source}`,
      { database: name },
    );
  }
  if (RESERVED_DATABASE_NAMES.has(name.toLowerCase())) {
    return badRequest('ARC_RESERVED_DATABASE_NAME', `Database name '${name}' is reserved`, { database: name });
  }
  return null;
}

export function validateMeasurementName(name: string): ArcError | null {
  if (!MEASUREMENT_NAME_PATTERN.test(name)) {
    return badRequest(
      'ARC_BAD_MEASUREMENT_NAME',
      `Invalid measurement name '${name}': must match ${MEASUREMENT_NAME_PATTERN.source}`,
      { measurement: name },
    );
  }
  return null;
}

export function validateColumnName(name: string): ArcError | null {
  if (name.length === 0) return badRequest('ARC_BAD_COLUMN_NAME', 'Empty tag or field name');
  if (Buffer.byteLength(name) > COLUMN_NAME_BYTES_MAX) {
    return badRequest('ARC_BAD_COLUMN_NAME', `Tag or field name longer than ${COLUMN_NAME_BYTES_MAX} bytes`, {
      column: name.slice(0, 64),
    });
  }
  if (CONTROL_CHARACTER.test(name)) {
    return badRequest('ARC_BAD_COLUMN_NAME', `Tag or field name '${JSON.stringify(name)}' contains a control character`, {
      column: name,
    });
  }
  if (name.toLowerCase() === TIME_COLUMN) {
    return badRequest('ARC_BAD_COLUMN_NAME', `'${name}' is reserved for the timestamp and cannot be a tag or field name`, {
      column: name,
    });
  }
  return null;
}
