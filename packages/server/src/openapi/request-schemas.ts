import { DATABASE_NAME_LENGTH_MAX, MEASUREMENT_NAME_LENGTH_MAX, validateDatabaseName, validateMeasurementName } from '@arc/columnar';
import { COMPACTION_TIERS, HISTORY_LIST_LIMIT_DEFAULT, HISTORY_LIST_LIMIT_MAX } from '@arc/compaction';
import { EPOCH_UNITS } from '@arc/influxql';
import { ANSWER_FORMATS, QUERY_ROW_LIMIT_MAX, STREAM_FORMATS } from '@arc/query';
import { z } from 'zod';
import { INSTANT_PATTERN, MEASUREMENT_READ_LIMIT_DEFAULT, MEASUREMENT_READ_OFFSET_MAX, ORDER_BY_PATTERN } from '../measurement-routes.js';

/**
 * The inputs that routes parse by hand (query bodies, query-string parameters), described as zod
 * schemas for the API description. They are not what validates: each parser keeps its own error
 * codes and messages (a different code per field, which clients match on). That each schema
 * accepts exactly what its parser accepts is proven by test/openapi-hand-parsers.test.ts on
 * tables of valid and near-miss inputs; change both together.
 */

/** An integer parameter sent as text: the schema checks what the parser checks, the description shows the range. */
export function integerText(min: number, max: number, fallback: number | null, description: string): z.ZodType<string> {
  const isInRange = (text: string): boolean => {
    if (text === '') return fallback !== null;
    const value = Number(text);
    return /^-?\d+$/.test(text) && Number.isSafeInteger(value) && value >= min && value <= max;
  };
  return z
    .string()
    .refine(isInRange, { error: `must be an integer from ${String(min)} to ${String(max)}` })
    .meta({ type: 'integer', minimum: min, maximum: max, ...(fallback === null ? {} : { default: fallback }), description });
}

/** A name as @arc/columnar validates it; `emptyIsAbsent`: the parser reads '' as not given (the default). */
function nameText(kind: 'database' | 'measurement', emptyIsAbsent: boolean, description: string): z.ZodType<string> {
  const [validate, lengthMax] = kind === 'database' ? [validateDatabaseName, DATABASE_NAME_LENGTH_MAX] : [validateMeasurementName, MEASUREMENT_NAME_LENGTH_MAX];
  return z
    .string()
    .refine((name) => (emptyIsAbsent && name === '') || validate(name) === null, { error: `must be a valid ${kind} name` })
    .meta({ pattern: `^[A-Za-z][A-Za-z0-9_-]{0,${String(lengthMax - 1)}}$`, maxLength: lengthMax, description });
}

/** Path parameters naming a database or a measurement. */
export const databaseNameParameter = nameText('database', false, 'The database.');
export const measurementNameParameter = nameText('measurement', false, 'The measurement.');

const nonBlankSql = z
  .string()
  .refine((sql) => sql.trim() !== '', { error: 'is empty' })
  .meta({ description: 'The SQL (DuckDB dialect); tables are `measurement` or `database.measurement`.', examples: ['SELECT * FROM cpu ORDER BY time DESC LIMIT 10'] });

/** `limit` as the query pool takes it: a whole number of rows from 1 to QUERY_ROW_LIMIT_MAX, or null/absent for no limit. */
const rowLimit = z
  .number()
  .int()
  .min(1)
  .max(QUERY_ROW_LIMIT_MAX)
  .nullable()
  .optional()
  .meta({ description: `Rows answered at most; another number is refused with 400 ARC_QUERY_BAD_LIMIT (by the query pool).` });

/** `POST /query` (query-routes.ts parseQueryBody); unknown fields are ignored. */
export const sqlQueryBodySchema = z.looseObject({
  sql: nonBlankSql,
  format: z.enum(ANSWER_FORMATS).optional().meta({ description: 'Answer format (default json); ignored by the paths that fix it (/api/v1/query/arrow, /api/v1/query/msgpack).' }),
  limit: rowLimit,
});

/** `POST /query/arrow|msgpack` paths fix the format: the body's `format` is not read. */
export const fixedFormatQueryBodySchema = z.looseObject({ sql: nonBlankSql, format: z.unknown().optional().meta({ description: 'Ignored: the path fixes the format.' }), limit: rowLimit });

/** `POST /query/stream` (query-routes.ts parseStreamBody). */
export const streamQueryBodySchema = z.looseObject({
  sql: nonBlankSql,
  format: z.enum(STREAM_FORMATS).optional().meta({ description: 'Row format of the stream (default csv).' }),
  limit: rowLimit,
});

/** `POST /query/estimate`: only `sql` is read. */
export const estimateQueryBodySchema = z.looseObject({ sql: nonBlankSql });

/** `GET /query/{measurement}` (measurement-routes.ts parseMeasurementQuery). */
export const measurementQueryParametersSchema = z.object({
  limit: integerText(1, QUERY_ROW_LIMIT_MAX, MEASUREMENT_READ_LIMIT_DEFAULT, 'Rows answered at most.').optional(),
  offset: integerText(0, MEASUREMENT_READ_OFFSET_MAX, 0, 'Rows skipped first.').optional(),
  start_time: z
    .string()
    .refine((text) => text === '' || (INSTANT_PATTERN.test(text) && !Number.isNaN(Date.parse(text))), { error: 'must be an RFC 3339 time' })
    .optional()
    .meta({ format: 'date-time', description: 'Rows at or after this RFC 3339 time (a date alone is midnight UTC).', examples: ['2025-10-16T16:00:00Z'] }),
  end_time: z
    .string()
    .refine((text) => text === '' || (INSTANT_PATTERN.test(text) && !Number.isNaN(Date.parse(text))), { error: 'must be an RFC 3339 time' })
    .optional()
    .meta({ format: 'date-time', description: 'Rows before this RFC 3339 time.' }),
  columns: z
    .string()
    .refine((text) => text === '' || text.split(',').every((column) => column.trim() !== ''), { error: 'must be a comma-separated list of column names' })
    .optional()
    .meta({ description: 'Comma-separated columns to answer (default all).', examples: ['time,host,usage_idle'] }),
  order_by: z.string().regex(ORDER_BY_PATTERN).optional().meta({ description: 'A column, optionally followed by ASC or DESC (or prefixed with -); default `time DESC`.' }),
  database: nameText('database', false, 'The database (default: the x-arc-database header, else `default`).').optional(),
  db: nameText('database', false, 'InfluxDB spelling of `database` (`database` wins).').optional(),
});

/** `GET /measurements`: the database to list (absent: every database the token may read). */
export const measurementListParametersSchema = z.object({
  database: nameText('database', false, 'The database whose measurements are listed (absent with no x-arc-database header: every readable database).').optional(),
  db: nameText('database', false, 'InfluxDB spelling of `database` (`database` wins).').optional(),
});

/** InfluxDB 2.x precisions (`/api/v2/write`) and 1.x's, which add n, u, m and h (@arc/protocol parsePrecision). */
export const V2_PRECISION_NAMES = ['ns', 'us', 'ms', 's'] as const;
export const V1_PRECISION_NAMES = [...V2_PRECISION_NAMES, 'n', 'u', 'm', 'h'] as const;

const precisionDescription = 'Unit of the line protocol timestamps (absent or empty: ns).';
/** `precision` as parsePrecision reads it: absent, empty, or one of the dialect's names. */
function precisionParameter(names: readonly [string, ...string[]]): z.ZodType<string | undefined> {
  return z.union([z.enum(names), z.literal('')]).optional().meta({ description: precisionDescription });
}

/** `POST /write`, `/api/v1/write`, `/api/v1/write/line-protocol` (InfluxDB 1.x). */
export const lineProtocolV1ParametersSchema = z.object({
  db: nameText('database', true, 'The database (the x-arc-database header wins; absent or empty: `default`).').optional(),
  precision: precisionParameter(V1_PRECISION_NAMES),
  rp: z.string().optional().meta({ description: 'Accepted and ignored (InfluxDB retention policy).' }),
});

/** `POST /api/v2/write` (InfluxDB 2.x). */
export const lineProtocolV2ParametersSchema = z.object({
  bucket: nameText('database', true, 'The database (the x-arc-database header wins; absent or empty: `default`).').optional(),
  org: z.string().optional().meta({ description: 'Accepted and ignored (InfluxDB organization).' }),
  precision: precisionParameter(V2_PRECISION_NAMES),
});

/** The database header every write and query route reads. */
export const databaseHeaderSchema = z.object({
  'x-arc-database': nameText('database', true, 'The database the request writes to, or queries by default (absent or empty: `default`).').optional(),
});

/** InfluxQL `GET|POST /query` (influx-query-routes.ts readParameters); a form body may carry the same fields. */
export const influxQueryParametersSchema = z.object({
  q: z.string().optional().meta({ description: 'InfluxQL statements separated by `;` (required; 400 ARC_INFLUXQL_MISSING_QUERY without).', examples: ['SELECT mean(usage_idle) FROM cpu WHERE time > now() - 1h GROUP BY time(5m)'] }),
  db: nameText('database', true, 'The database (absent or empty: the x-arc-database header, else `default`).').optional(),
  epoch: z.union([z.enum(EPOCH_UNITS), z.literal('')]).optional().meta({ description: 'Times as integers in this unit (absent: RFC 3339 text).' }),
  chunked: z.string().optional().meta({ description: '`true`: the answer is one JSON document per chunk of rows.' }),
  chunk_size: z.string().optional().meta({ description: 'Rows per chunk with chunked=true (not a positive integer: 10000).' }),
  u: z.string().optional().meta({ description: 'InfluxDB 1.x user name (ignored; the token goes in `p`).' }),
  p: z.string().optional().meta({ description: 'The token, InfluxDB 1.x style (prefer a header).' }),
});

/** The form body of an InfluxQL `POST /query`. */
export const influxQueryFormSchema = influxQueryParametersSchema.pick({ q: true, db: true, epoch: true, chunked: true, chunk_size: true });

/** The scope of compaction reads (compaction-routes.ts queryScope: @arc/compaction parseTriggerRequest). */
export const compactionScopeParametersSchema = z.object({
  database: nameText('database', true, 'Only this database.').optional(),
  measurement: nameText('measurement', true, 'Only this measurement.').optional(),
  tier: z.union([z.enum(COMPACTION_TIERS), z.literal('')]).optional().meta({ description: 'Only this tier.' }),
});

/** `GET /api/compaction/history`. */
export const compactionHistoryParametersSchema = compactionScopeParametersSchema.omit({ tier: true }).extend({
  limit: integerText(1, HISTORY_LIST_LIMIT_MAX, HISTORY_LIST_LIMIT_DEFAULT, 'Jobs answered at most, newest first.').optional(),
});

/** Deletes of a database or a measurement ask for `?confirm=true`. */
export const confirmParametersSchema = z.object({
  confirm: z.literal('true').meta({ description: 'Must be `true`: the delete removes every file (400 ARC_CONFIRMATION_REQUIRED otherwise).' }),
});
