import assert from 'node:assert/strict';
import { badRequest, type ArcError } from '@arc/errors';
import {
  COLUMNS_PER_MEASUREMENT_MAX,
  ColumnType,
  type ColumnBatch,
  type ColumnLayout,
  type SchemaColumn,
} from '@arc/columnar';
import { ColumnarErrorCode } from '@arc/columnar';
import { WriterErrorCode } from './error-codes.js';

export type SchemaMergeResult = { readonly schema: SchemaColumn[] } | { readonly error: ArcError };

/**
 * The schema of buffered rows after adding `batch` to them. Pure: `buffered` is not modified.
 *
 * - A column new to the buffer is appended (schema evolution: earlier rows read it as NULL).
 * - int64 meets float64, in either order: the merged column is float64 (numeric widening, as
 *   JavaScript clients send 95.0 as 95).
 * - uint64 (line protocol `1u`) meets int64 or float64: a conflict, in InfluxDB's words
 *   (`field type conflict: input field "v" on measurement "m" is type unsigned, already exists as
 *   type integer`). Unsigned is always explicit, and no one of the types holds the others exactly.
 * - A batch column whose values are all null carries no type: it is compatible with any buffered
 *   type, and a column that is new AND all null is not added at all. So a buffered column's type
 *   always comes from real values, and a later batch with values decides the type; the Parquet
 *   file simply lacks a column that was only ever null, which readers (`union_by_name`) see as
 *   NULL anyway.
 * - Any other type mismatch, a tag meeting a field of the same name, or two names that differ only
 *   in case (SQL identifiers are case-insensitive) is an `ARC_SCHEMA_CONFLICT` (bad request).
 *   Names and roles are checked for all-null columns too: they are part of the request.
 */
export function mergeSchema(buffered: readonly SchemaColumn[], batch: ColumnBatch): SchemaMergeResult {
  const schema = buffered.slice();
  const indexByLowerCase = new Map<string, number>();
  schema.forEach((column, index) => indexByLowerCase.set(column.name.toLowerCase(), index));
  for (const column of batch.columns) {
    const allNull = column.nullCount === batch.rowCount;
    const index = indexByLowerCase.get(column.name.toLowerCase());
    if (index === undefined) {
      if (allNull) continue;
      indexByLowerCase.set(column.name.toLowerCase(), schema.length);
      schema.push({ name: column.name, role: column.role, type: column.type });
      continue;
    }
    const existing = schema[index];
    assert.ok(existing !== undefined, 'index comes from the same schema');
    const merged = mergeColumn(existing, column, allNull, batch.measurement);
    if ('error' in merged) return merged;
    schema[index] = merged.column;
  }
  if (schema.length > COLUMNS_PER_MEASUREMENT_MAX) return tooManyColumns(batch.measurement);
  return { schema };
}

function mergeColumn(
  existing: SchemaColumn,
  column: ColumnLayout,
  allNull: boolean,
  measurement: string,
): { readonly column: SchemaColumn } | { readonly error: ArcError } {
  if (existing.name !== column.name) {
    return conflict(
      measurement,
      column.name,
      `Column '${column.name}' of measurement '${measurement}' differs only in case from the buffered ` +
        `column '${existing.name}' (${existing.type}); the new column is ${column.type}`,
    );
  }
  if (existing.role !== column.role) {
    return conflict(
      measurement,
      column.name,
      `Column '${column.name}' of measurement '${measurement}' is a ${existing.role} (${existing.type}) ` +
        `in buffered rows but a ${column.role} (${column.type}) in the new batch`,
    );
  }
  if (allNull || existing.type === column.type) return { column: existing };
  if (isWidenable(existing.type) && isWidenable(column.type)) {
    return { column: { name: existing.name, role: existing.role, type: ColumnType.float64 } };
  }
  if (existing.type === ColumnType.uint64 || column.type === ColumnType.uint64) {
    return conflict(
      measurement,
      column.name,
      `field type conflict: input field "${column.name}" on measurement "${measurement}" is type ` +
        `${INFLUX_TYPE_NAMES[column.type]}, already exists as type ${INFLUX_TYPE_NAMES[existing.type]} (in buffered rows)`,
    );
  }
  return conflict(
    measurement,
    column.name,
    `Column '${column.name}' of measurement '${measurement}' is ${existing.type} in buffered rows ` +
      `but ${column.type} in the new batch`,
  );
}

/** The types that widen to float64 when they meet (uint64 is not among them). */
function isWidenable(type: ColumnType): boolean {
  return type === ColumnType.int64 || type === ColumnType.float64;
}

/** InfluxDB's type names, for conflicts worded as InfluxDB words them. */
const INFLUX_TYPE_NAMES: Readonly<Record<ColumnType, string>> = {
  [ColumnType.int64]: 'integer',
  [ColumnType.uint64]: 'unsigned',
  [ColumnType.float64]: 'float',
  [ColumnType.utf8]: 'string',
  [ColumnType.bool]: 'boolean',
};

function conflict(measurement: string, column: string, message: string): { readonly error: ArcError } {
  return { error: badRequest(WriterErrorCode.schemaConflict, message, { measurement, column }) };
}

function tooManyColumns(measurement: string): { readonly error: ArcError } {
  return {
    error: badRequest(
      ColumnarErrorCode.tooManyColumns,
      `Measurement '${measurement}' would have more than ${COLUMNS_PER_MEASUREMENT_MAX} columns`,
      { measurement },
    ),
  };
}
