import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { ColumnSpec } from './catalog.js';
import { parseMeasurementObjectKey } from './object-keys.js';

/**
 * A measurement's distinct column sets, kept as small objects beside its files
 * (docs/architecture.md, Storage): `<database>/<measurement>/_schemas/<id>.json`, where the id
 * is a hash of the columns that every data file written with them carries in its name. A listing
 * of the measurement then knows every file's columns from a handful of small reads instead of
 * one Parquet footer per file (10,000 footers took seconds).
 */

/** The directory of a measurement's schema objects; `_` sorts after the year directories. */
export const SCHEMAS_DIRECTORY = '_schemas';
const SCHEMA_SUFFIX = '.json';
/** Hex digits of a schema id: 64 bits of SHA-256, so two column sets of one measurement never share one in practice. */
const SCHEMA_ID_HEX_DIGITS = 16;
export const SCHEMA_ID_PATTERN = /^[0-9a-f]{16}$/;

/** The id of a column set: a hash of the names and types in order. */
export function schemaIdOf(columns: readonly ColumnSpec[]): string {
  return createHash('sha256').update(canonicalText(columns)).digest('hex').slice(0, SCHEMA_ID_HEX_DIGITS);
}

export function schemaKey(database: string, measurement: string, id: string): string {
  assert.ok(SCHEMA_ID_PATTERN.test(id), 'a schema id is 16 hex digits');
  return `${database}/${measurement}/${SCHEMAS_DIRECTORY}/${id}${SCHEMA_SUFFIX}`;
}

/** What a schema object's key says, or null when the key is not one. */
export function parseSchemaKey(key: string): { readonly database: string; readonly measurement: string; readonly id: string } | null {
  return parseMeasurementObjectKey(key, SCHEMAS_DIRECTORY, SCHEMA_SUFFIX, SCHEMA_ID_PATTERN);
}

export function encodeSchema(columns: readonly ColumnSpec[]): Uint8Array {
  return Buffer.from(canonicalText(columns));
}

/**
 * The columns a schema object holds, or null when its bytes are not the columns its id names
 * (a torn or hand-edited object): the files then have their columns read from their footers.
 */
export function decodeSchema(bytes: Uint8Array, id: string): readonly ColumnSpec[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return null;
  }
  const columns = (parsed as { columns?: unknown }).columns;
  if (!Array.isArray(columns)) return null;
  const specs: ColumnSpec[] = [];
  for (const column of columns as unknown[]) {
    const { name, type } = column as { name?: unknown; type?: unknown };
    if (typeof name !== 'string' || typeof type !== 'string') return null;
    specs.push({ name, type });
  }
  return schemaIdOf(specs) === id ? specs : null;
}

function canonicalText(columns: readonly ColumnSpec[]): string {
  return JSON.stringify({ columns: columns.map(({ name, type }) => ({ name, type })) });
}
