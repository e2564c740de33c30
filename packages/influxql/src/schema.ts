import { TIME_COLUMN } from '@arc/columnar';
import { sqlTable } from './sql-text.js';

/** InfluxDB's field types, as SHOW FIELD KEYS names them. */
export type FieldType = 'float' | 'integer' | 'string' | 'boolean';

export interface MeasurementSchema {
  readonly name: string;
  /** Tag columns, sorted by name. */
  readonly tags: readonly string[];
  /** Field columns with their InfluxDB types, sorted by name. */
  readonly fields: ReadonlyMap<string, FieldType>;
  /**
   * The fields stored unsigned (line protocol `123u`, UBIGINT): they compute as integers, and
   * SHOW FIELD KEYS names them `unsigned`, InfluxQL's name for the type.
   */
  readonly unsignedFields: ReadonlySet<string>;
}

/** InfluxQL's name for an unsigned integer field (SHOW FIELD KEYS). */
export const UNSIGNED_FIELD_TYPE = 'unsigned';
const UNSIGNED_SQL_TYPES: ReadonlySet<string> = new Set(['UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT']);

/**
 * Tags are the string columns. The writers record the exact tag list in each Parquet file's footer
 * (`arc:tags`), but the locked-down query instances read only what views expose, and a view shows
 * column names and types. So a string column is a tag here: a line protocol string field (rare in
 * metrics) is reported by SHOW TAG KEYS rather than SHOW FIELD KEYS; it still selects, filters and
 * groups like any column (docs/influxql.md).
 */
const TAG_TYPES: ReadonlySet<string> = new Set(['VARCHAR', 'ENUM']);
const FIELD_TYPE_BY_SQL_TYPE: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['DOUBLE', 'float'],
  ['FLOAT', 'float'],
  ['DECIMAL', 'float'],
  ['BIGINT', 'integer'],
  ['INTEGER', 'integer'],
  ['SMALLINT', 'integer'],
  ['TINYINT', 'integer'],
  ['UBIGINT', 'integer'],
  ['UINTEGER', 'integer'],
  ['USMALLINT', 'integer'],
  ['UTINYINT', 'integer'],
  ['HUGEINT', 'integer'],
  ['BOOLEAN', 'boolean'],
]);

/** `DECIMAL(18,3)` -> `DECIMAL`, `ENUM('a','b')` -> `ENUM`. */
function baseType(sqlType: string): string {
  const parenthesis = sqlType.indexOf('(');
  return (parenthesis === -1 ? sqlType : sqlType.slice(0, parenthesis)).trim().toUpperCase();
}

/** The `extra` of a tag column in Arc's DESCRIBE answer (packages/query show-answers.ts). */
const DESCRIBE_ROLE_TAG = 'tag';

/** The SQL describing one measurement: rows of (column_name, column_type, ...). */
export function describeSql(database: string, measurement: string): string {
  return `DESCRIBE ${sqlTable(database, measurement)}`;
}

/**
 * Builds a schema from `describeSql` rows (column name, SQL type, role). Arc's DESCRIBE gives the
 * role (`tag` from the files' `arc:tags`, `field`, `time`); without one (a measurement with no file
 * yet) every string column counts as a tag.
 */
export function schemaFromColumns(name: string, columns: readonly (readonly [string, string, (string | null)?])[]): MeasurementSchema {
  const tags: string[] = [];
  const fields: [string, FieldType][] = [];
  const unsignedFields = new Set<string>();
  for (const [column, sqlType, role = null] of columns) {
    if (column === TIME_COLUMN) continue;
    const type = baseType(sqlType);
    const isTag = role === null ? TAG_TYPES.has(type) : role === DESCRIBE_ROLE_TAG;
    if (isTag) tags.push(column);
    else fields.push([column, FIELD_TYPE_BY_SQL_TYPE.get(type) ?? 'string']);
    if (!isTag && UNSIGNED_SQL_TYPES.has(type)) unsignedFields.add(column);
  }
  return {
    name,
    tags: tags.sort(compareNames),
    fields: new Map(fields.sort(([left], [right]) => compareNames(left, right))),
    unsignedFields,
  };
}

/** Byte-wise order, as InfluxDB sorts names (not locale order). */
export function compareNames(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
