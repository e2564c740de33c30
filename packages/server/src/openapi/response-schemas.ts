import { z } from 'zod';
import { ServerErrorCode } from '../error-codes.js';

/**
 * What the routes answer, as zod schemas for the API description only (answers are built by the
 * handlers, not parsed). Objects are loose: fields may be added, clients ignore what they do not
 * know. The error bodies are http-response.ts errorBody's.
 */

const errorFields = {
  error: z.string().meta({ description: 'What was wrong and where.' }),
  code: z.string().meta({ description: 'A stable ARC_... code; match on it, not on the message.', examples: [ServerErrorCode.badRequestBody] }),
};

/** `{error, code, ...details}`: details name the bad field or parameter, a limit, ... */
export const errorBodySchema = z.looseObject(errorFields).meta({ title: 'Error', description: 'An error: a message, a stable code, and details such as `field` or `parameter`.' });

/** Query routes add `success: false`. */
export const queryErrorBodySchema = z.looseObject({ success: z.literal(false), ...errorFields }).meta({ title: 'QueryError' });

/** InfluxDB 2.x clients read `message`. */
export const influxV2ErrorBodySchema = z.looseObject({ ...errorFields, message: z.string().meta({ description: 'The message again, where InfluxDB 2.x clients read it.' }) }).meta({ title: 'InfluxV2Error' });

/** 401 and 403 answer exactly `{error}` on every route. */
export const authErrorBodySchema = z.strictObject({ error: z.string() }).meta({ title: 'AuthError', examples: [{ error: 'Authentication required' }] });

export const successSchema = z.looseObject({ success: z.literal(true) });

/** The JSON answer of a SQL query (@arc/query json-answer.ts). */
export const queryJsonAnswerSchema = z.looseObject({
  success: z.literal(true),
  columns: z.array(z.string()),
  data: z.array(z.array(z.unknown())).meta({ description: 'Rows, each an array of values in the order of `columns`.' }),
  row_count: z.number().int(),
  execution_time_ms: z.number(),
  timestamp: z.string(),
});

export const estimateAnswerSchema = z.looseObject({
  success: z.literal(true),
  estimated_rows: z.number().int(),
  warning_level: z.enum(['none', 'low', 'medium', 'high']),
  warning_message: z.string(),
  execution_time_ms: z.number(),
});

const measurementInfoSchema = z.looseObject({
  database: z.string(),
  measurement: z.string(),
  file_count: z.number().int(),
  total_size_mb: z.number(),
  storage_path: z.string(),
  first_hour: z.string().nullable(),
  last_hour: z.string().nullable(),
});

export const measurementListSchema = z.looseObject({
  success: z.literal(true),
  database: z.string().nullable(),
  measurements: z.array(measurementInfoSchema),
  names: z.array(z.string()),
  count: z.number().int(),
});

/** InfluxDB 1.x's `/query` answer. */
export const influxResultsSchema = z.looseObject({
  results: z.array(
    z.looseObject({
      statement_id: z.number().int(),
      series: z.array(z.looseObject({ name: z.string(), tags: z.record(z.string(), z.string()).optional(), columns: z.array(z.string()), values: z.array(z.array(z.unknown())) })).optional(),
      error: z.string().optional(),
    }),
  ),
});

/** A token as the token API shows it (never its text nor its hash). */
export const tokenSchema = z.looseObject({
  id: z.number().int(),
  name: z.string(),
  description: z.string().nullable().optional(),
  permissions: z.array(z.string()),
  databases: z.array(z.string()).nullable(),
  enabled: z.boolean(),
  expires_at: z.string().nullable(),
  created_at: z.string().optional(),
  last_used_at: z.string().nullable().optional(),
});

const tokenAnswerFields = { success: z.literal(true), message: z.string() };
export const tokenAnswerSchema = z.looseObject({ ...tokenAnswerFields, token: tokenSchema });
export const tokenListSchema = z.looseObject({ ...tokenAnswerFields, tokens: z.array(tokenSchema), count: z.number().int() });
export const newTokenSchema = z.looseObject({ ...tokenAnswerFields, token: z.string().meta({ description: 'The token text: shown once, store it now.' }) });
export const tokenDeletedSchema = z.looseObject({ ...tokenAnswerFields, id: z.number().int(), deleted: z.literal(true) });
export const verifyAnswerSchema = z.looseObject({
  valid: z.literal(true),
  token_info: z.looseObject({ id: z.number().int(), name: z.string(), permissions: z.array(z.string()), databases: z.array(z.string()).nullable(), expires_at: z.string().nullable(), enabled: z.boolean() }),
});

const databaseSchema = z.looseObject({ name: z.string(), measurement_count: z.number().int(), file_count: z.number().int(), total_size_bytes: z.number().int(), total_size_mb: z.number() });
export const databaseAnswerSchema = z.looseObject({ success: z.literal(true), database: databaseSchema });
export const databaseListSchema = z.looseObject({ success: z.literal(true), databases: z.array(databaseSchema), count: z.number().int() });
export const databaseMeasurementsSchema = z.looseObject({ success: z.literal(true), database: z.string(), measurements: z.array(z.looseObject({ name: z.string() })), count: z.number().int() });
export const deletedFilesSchema = z.looseObject({ success: z.literal(true), deleted: z.literal(true), files_deleted: z.number().int(), bytes_deleted: z.number().int() });

/** Health and readiness (health-routes.ts). */
const storageStateSchema = z.looseObject({ backend: z.string(), reachable: z.boolean(), error: z.string().optional(), checked_at: z.string().nullable() });
export const serviceInfoSchema = z.looseObject({ service: z.literal('arc'), version: z.string(), status: z.string(), docs: z.string() });
export const healthSchema = z.looseObject({
  status: z.enum(['healthy', 'unhealthy']),
  service: z.literal('arc'),
  version: z.string(),
  timestamp: z.string(),
  uptime: z.string().meta({ description: 'Go duration spelling, e.g. `3h2m5s`.' }),
  uptime_sec: z.number().int(),
  node_id: z.string(),
  storage: storageStateSchema,
  components: z
    .record(z.enum(['server', 'storage', 'ingest', 'wal', 'query', 'compaction']), z.looseObject({ status: z.enum(['ok', 'off', 'starting', 'stopping', 'replaying', 'failed', 'unreachable', 'saturated']) }))
    .meta({ description: "Each part's `status` (`ok`, or what is wrong or in progress) and a few figures (README, Health)." }),
});
export const readySchema = z.looseObject({ status: z.enum(['ready', 'not_ready']), reason: z.string().optional(), service: z.literal('arc'), timestamp: z.string(), storage: storageStateSchema.optional() });

/** Answers of many stats routes: named counters and states; see the README for each field. */
export const statsSchema = z.record(z.string(), z.unknown()).meta({ description: 'Counters and states (snake_case), as the README lists them.' });

/** `{status, reasons}` health answers (write, WAL, cache). */
export const componentHealthSchema = z.looseObject({ status: z.string(), reasons: z.array(z.string()).optional() });

export const flushAnswerSchema = z.looseObject({ success: z.literal(true), flushed: z.literal(true), execution_time_ms: z.number() });

export const compactionJobsSchema = z.looseObject({ jobs: z.array(z.looseObject({ database: z.string(), measurement: z.string() })) });
export const compactionCandidatesSchema = z.looseObject({ candidates: z.array(z.looseObject({ database: z.string(), measurement: z.string() })) });

export const deadLetterListSchema = z.looseObject({
  success: z.literal(true),
  directory: z.string(),
  count: z.number().int(),
  total_bytes: z.number().int(),
  entries: z.array(z.looseObject({ id: z.string(), database: z.string().nullable(), error: z.looseObject({ code: z.string(), message: z.string() }) })),
});
export const deadLetterReplaySchema = z.looseObject({
  success: z.boolean(),
  applied: z.number().int(),
  refused: z.number().int(),
  remaining: z.number().int(),
  results: z.array(z.looseObject({ id: z.string(), status: z.enum(['applied', 'refused']) })),
});

/** Recent log lines (GET /logs). */
export const logLinesSchema = z.looseObject({ lines: z.array(z.record(z.string(), z.unknown())), count: z.number().int(), ring: z.looseObject({ lines: z.number().int(), lines_max: z.number().int(), dropped: z.number().int() }) });
