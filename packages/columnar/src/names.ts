import { badRequest, ERROR_QUOTE_CHARS_MAX, truncateText, type ArcError } from '@arc/errors';
import { COLUMN_NAME_BYTES_MAX, DATABASE_NAME_LENGTH_MAX, MEASUREMENT_NAME_LENGTH_MAX } from './limits.js';
import { TIME_COLUMN } from './types.js';
import { ColumnarErrorCode } from './error-codes.js';

/** Name rules (README, Limits): they become directory names, so they are strict. */
const DATABASE_NAME_PATTERN = new RegExp(`^[A-Za-z][A-Za-z0-9_-]{0,${DATABASE_NAME_LENGTH_MAX - 1}}$`);
const MEASUREMENT_NAME_PATTERN = new RegExp(`^[A-Za-z][A-Za-z0-9_-]{0,${MEASUREMENT_NAME_LENGTH_MAX - 1}}$`);
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

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

export const DEFAULT_DATABASE = 'default';

/** A rejected name as an error quotes it: cut short, so the error does not grow with the input. */
function quoted(name: string): string {
  return truncateText(name, ERROR_QUOTE_CHARS_MAX);
}

/** The 400 for a name over its limit: says which limit, and the name's size instead of all of it. */
function nameTooLong(code: string, what: string, detailKey: string, name: string, limitBytes: number): ArcError {
  return badRequest(code, `${what} '${quoted(name)}' is longer than the limit of ${limitBytes} bytes`, {
    [detailKey]: quoted(name),
    limit_bytes: limitBytes,
  });
}

export function validateDatabaseName(name: string): ArcError | null {
  // Length first: the pattern and the error must only ever see a bounded name.
  if (name.length > DATABASE_NAME_LENGTH_MAX) return nameTooLong(ColumnarErrorCode.badDatabaseName, 'Database name', 'database', name, DATABASE_NAME_LENGTH_MAX);
  if (!DATABASE_NAME_PATTERN.test(name)) {
    return badRequest(ColumnarErrorCode.badDatabaseName, `Invalid database name '${name}': must match ${DATABASE_NAME_PATTERN.source}`, { database: name });
  }
  if (RESERVED_DATABASE_NAMES.has(name.toLowerCase())) {
    return badRequest(ColumnarErrorCode.reservedDatabaseName, `Database name '${name}' is reserved`, { database: name });
  }
  return null;
}

export function validateMeasurementName(name: string): ArcError | null {
  if (name.length > MEASUREMENT_NAME_LENGTH_MAX) {
    return nameTooLong(ColumnarErrorCode.badMeasurementName, 'Measurement name', 'measurement', name, MEASUREMENT_NAME_LENGTH_MAX);
  }
  if (!MEASUREMENT_NAME_PATTERN.test(name)) {
    return badRequest(ColumnarErrorCode.badMeasurementName, `Invalid measurement name '${name}': must match ${MEASUREMENT_NAME_PATTERN.source}`, { measurement: name });
  }
  return null;
}

export function validateColumnName(name: string): ArcError | null {
  if (name.length === 0) return badRequest(ColumnarErrorCode.badColumnName, 'Empty tag or field name');
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: past that, no need to count bytes.
  if (name.length > COLUMN_NAME_BYTES_MAX || (name.length * 3 > COLUMN_NAME_BYTES_MAX && Buffer.byteLength(name) > COLUMN_NAME_BYTES_MAX)) {
    return nameTooLong(ColumnarErrorCode.badColumnName, 'Tag or field name', 'column', name, COLUMN_NAME_BYTES_MAX);
  }
  if (CONTROL_CHARACTER.test(name)) {
    return badRequest(ColumnarErrorCode.badColumnName, `Tag or field name '${JSON.stringify(name)}' contains a control character`, {
      column: name,
    });
  }
  if (name.toLowerCase() === TIME_COLUMN) {
    return badRequest(ColumnarErrorCode.badColumnName, `'${name}' is reserved for the timestamp and cannot be a tag or field name`, {
      column: name,
    });
  }
  return null;
}
