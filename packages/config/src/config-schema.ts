import * as z from 'zod';
import {
  AUTH_CACHE_TTL_SECONDS_MAX,
  BODY_MB_MAX,
  BODY_MB_MIN,
  BOOTSTRAP_TOKEN_LENGTH_MAX,
  BUFFER_MB_MAX,
  DECODERS_MAX,
  IN_FLIGHT_MB_MAX,
  WAIT_MS_DEFAULT,
  WAIT_MS_MAX,
  FLUSH_AGE_MS_MAX,
  FLUSH_AGE_MS_MIN,
  FLUSH_ROWS_MAX,
  PORT_MAX,
  PORT_MIN,
  QUERY_QUEUE_MAX,
  QUERY_ROWS_MAX,
  SERIES_CACHE_MB_MAX,
  QUERY_CACHE_TTL_SECONDS_MAX,
  QUERY_CACHE_ENTRIES_MAX,
  METRICS_DATABASE_LABELS_MAX,
  METRICS_TIMESERIES_INTERVAL_SECONDS_MAX,
  METRICS_TIMESERIES_POINTS_MAX,
  QUERY_CACHE_RESULT_MB_MAX,
  QUERY_TIMEOUT_SECONDS_MAX,
  RING_MB_MAX,
  RING_MB_MIN,
  ROW_GROUP_SIZE_MAX,
  ROW_GROUP_SIZE_MIN,
  SHUTDOWN_TIMEOUT_SECONDS_MAX,
  SHUTDOWN_FLUSH_RETRY_SECONDS_MAX,
  STRING_VALUE_LENGTH_MAX,
  CACHE_GB_MIN,
  CACHE_GB_MAX,
  LISTING_REFRESH_SECONDS_MAX,
  S3_PART_MB_MIN,
  S3_PART_MB_MAX,
  THREADS_MAX,
  DECODER_NICE_MAX,
  DECODER_NICE_DEFAULT,
  MEASUREMENTS_PER_DATABASE_DEFAULT,
  MEASUREMENTS_PER_DATABASE_MAX,
  MEASUREMENTS_PER_REQUEST_DEFAULT,
} from './limits.js';

/**
 * The shape of `arc.conf` (snake_case, as written in TOML) with every default. This schema is the
 * single description of the file: defaults, ranges, the type an environment override is parsed
 * as (read from the schema by `configKeyKind`) and the "expected ..." text of every error.
 * Every object is strict, so a misspelt key stops the start instead of being ignored.
 */

/** `minio` and `gcs` are presets of the S3 backend (path style, endpoint); `local` is the embedded default. */
export const STORAGE_BACKENDS = ['local', 's3', 'minio', 'gcs'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

export const PARQUET_COMPRESSIONS = ['snappy', 'zstd', 'gzip', 'uncompressed'] as const;
export type ParquetCompression = (typeof PARQUET_COMPRESSIONS)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** auto: pretty on a terminal, JSON otherwise (a pipe, a file, systemd, docker). */
export const LOG_FORMATS = ['auto', 'text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** DuckDB's size syntax: `2GB` is 2 * 1000^3 bytes, `2GiB` is 2 * 1024^3 bytes. */
const MEMORY_LIMIT_PATTERN = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
/** The units of MEMORY_LIMIT_PATTERN, lowercased (the pattern ignores case). */
type MemoryUnit = 'b' | 'kb' | 'mb' | 'gb' | 'tb' | 'kib' | 'mib' | 'gib' | 'tib';
const MEMORY_UNIT_BYTES: Readonly<Record<MemoryUnit, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Bytes in a DuckDB size string, or null when the text is not one. */
export function memoryLimitBytes(text: string): number | null {
  const match = MEMORY_LIMIT_PATTERN.exec(text.trim());
  if (match === null) return null;
  const amount = Number(match[1]);
  // Both groups are mandatory; the unit group lists exactly the MemoryUnit spellings.
  const unitBytes = MEMORY_UNIT_BYTES[(match[2] as string).toLowerCase() as MemoryUnit];
  const bytes = Math.floor(amount * unitBytes);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

function isPowerOfTwo(value: number): boolean {
  return value > 0 && (value & (value - 1)) === 0;
}

function intIn(min: number, max: number) {
  const expected = `an integer from ${min} to ${max}`;
  return z.int({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

function numberIn(min: number, max: number) {
  const expected = `a number from ${min} to ${max}`;
  return z.number({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

function text(expected: string, lengthMin: number, lengthMax: number) {
  const message = `${expected} (${lengthMin} to ${lengthMax} characters)`;
  return z.string({ error: message }).min(lengthMin, { error: message }).max(lengthMax, { error: message });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `one of ${values.map((value) => `"${value}"`).join(', ')}` });
}

const serverSchema = z.strictObject({
  host: text('a host name or IP address', 1, 255).default('0.0.0.0'),
  port: intIn(PORT_MIN, PORT_MAX).default(8000),
  body_max_mb: intIn(BODY_MB_MIN, BODY_MB_MAX).default(100),
  shutdown_timeout_seconds: intIn(0, SHUTDOWN_TIMEOUT_SECONDS_MAX).default(30),
  shutdown_flush_retry_seconds: intIn(0, SHUTDOWN_FLUSH_RETRY_SECONDS_MAX).default(30),
});

const storageSchema = z.strictObject({
  backend: oneOf(STORAGE_BACKENDS).default('local'),
  data_dir: text('a directory path', 1, STRING_VALUE_LENGTH_MAX).default('./data'),
  /** Object storage only: the local copy of files queries read, in GB (10^9 bytes), least recently used evicted. */
  cache_max_gb: numberIn(CACHE_GB_MIN, CACHE_GB_MAX).default(10),
  /** Object storage only: how often the bucket is listed again for other nodes' files. */
  listing_refresh_s: intIn(1, LISTING_REFRESH_SECONDS_MAX).default(5),
});

/**
 * `[storage.s3]` (TOML nests it under [storage]; loadConfig hoists it to this section so each
 * key keeps one flat name, `ARC_STORAGE_S3_<KEY>` in the environment). Keys left empty come
 * from the backend's preset or, for credentials and region, from AWS_* variables.
 */
const storageS3Schema = z.strictObject({
  endpoint: text('a URL or host[:port]', 0, STRING_VALUE_LENGTH_MAX).default(''),
  region: text('a region name', 0, 64).default(''),
  bucket: text('a bucket name', 0, 63).default(''),
  prefix: text('a key prefix', 0, STRING_VALUE_LENGTH_MAX).default(''),
  access_key: text('an access key id', 0, STRING_VALUE_LENGTH_MAX).default(''),
  secret_key: text('a secret key', 0, STRING_VALUE_LENGTH_MAX).default(''),
  path_style: z.boolean({ error: 'true or false' }).optional(),
  use_ssl: z.boolean({ error: 'true or false' }).optional(),
  part_size_mb: intIn(S3_PART_MB_MIN, S3_PART_MB_MAX).default(64),
});

/** Several nodes on one bucket (docs/scale-out.md). */
const clusterSchema = z.strictObject({
  /** Empty: derived from the host name and the data directory, kept in the data directory. */
  node_id: text('a node id (letters, digits, -, up to 32)', 0, 32).default(''),
});

const ringMbExpected = `a power of two from ${RING_MB_MIN} to ${RING_MB_MAX}`;
const ingestSchema = z.strictObject({
  decoders: intIn(0, DECODERS_MAX).default(0),
  ring_mb: intIn(RING_MB_MIN, RING_MB_MAX).refine(isPowerOfTwo, { error: ringMbExpected }).default(8),
  default_host: text('a tag value', 1, STRING_VALUE_LENGTH_MAX).default('unknown'),
  decoder_nice: intIn(0, DECODER_NICE_MAX).default(DECODER_NICE_DEFAULT),
  max_measurements_per_request: intIn(1, MEASUREMENTS_PER_DATABASE_MAX).default(MEASUREMENTS_PER_REQUEST_DEFAULT),
  max_measurements_per_database: intIn(1, MEASUREMENTS_PER_DATABASE_MAX).default(MEASUREMENTS_PER_DATABASE_DEFAULT),
  /** Unset: IN_FLIGHT_BODIES_DEFAULT x server.body_max_mb (resolved in loadConfig). */
  in_flight_max_mb: intIn(1, IN_FLIGHT_MB_MAX).optional(),
  wait_max_ms: intIn(1, WAIT_MS_MAX).default(WAIT_MS_DEFAULT),
});

const writerSchema = z
  .strictObject({
    threads: intIn(1, THREADS_MAX).default(2),
    flush_rows: intIn(1, FLUSH_ROWS_MAX).default(50_000),
    flush_bytes_mb: intIn(1, BUFFER_MB_MAX).default(64),
    flush_age_ms: intIn(FLUSH_AGE_MS_MIN, FLUSH_AGE_MS_MAX).default(5000),
    buffer_max_mb: intIn(1, BUFFER_MB_MAX).default(1024),
    compression: oneOf(PARQUET_COMPRESSIONS).default('snappy'),
    row_group_size: intIn(ROW_GROUP_SIZE_MIN, ROW_GROUP_SIZE_MAX).default(122_880),
    duckdb_threads: intIn(1, THREADS_MAX).default(1),
  })
  .superRefine((writer, context) => {
    // One flush must fit in the shared buffer budget, or a full buffer could never drain.
    if (writer.flush_bytes_mb > writer.buffer_max_mb) {
      context.addIssue({
        code: 'custom',
        path: ['flush_bytes_mb'],
        input: writer.flush_bytes_mb,
        message: `at most writer.buffer_max_mb (${writer.buffer_max_mb})`,
      });
    }
  });

const memoryLimitExpected = 'a DuckDB size such as "2GB" or "512MiB"';
/** A DuckDB memory_limit setting (query threads, compaction's merge threads). */
function memoryLimit(defaultValue: string) {
  return z
    .string({ error: memoryLimitExpected })
    .refine((value) => memoryLimitBytes(value) !== null, { error: memoryLimitExpected })
    .default(defaultValue);
}
/** A threshold past the longest query timeout would never fire. */
const SLOW_QUERY_MS_MAX = QUERY_TIMEOUT_SECONDS_MAX * 1000;
const querySchema = z.strictObject({
  threads: intIn(1, THREADS_MAX).default(2),
  duckdb_threads: intIn(1, THREADS_MAX).default(2),
  memory_limit: memoryLimit('2GB'),
  timeout_seconds: intIn(1, QUERY_TIMEOUT_SECONDS_MAX).default(300),
  queue_max: intIn(1, QUERY_QUEUE_MAX).default(64),
  max_rows: intIn(1, QUERY_ROWS_MAX).default(5_000_000),
  /** A query that took at least this long is logged (warn, with its SQL); 0 logs every query. */
  slow_query_ms: intIn(0, SLOW_QUERY_MS_MAX).default(1000),
  /** MiB of decoded files each query thread keeps for series windows; 0 turns the series path off. */
  series_cache_mb: intIn(0, SERIES_CACHE_MB_MAX).default(128),
});

const queryCacheSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  ttl_seconds: intIn(1, QUERY_CACHE_TTL_SECONDS_MAX).default(60),
  max_size: intIn(1, QUERY_CACHE_ENTRIES_MAX).default(1000),
  max_result_mb: intIn(1, QUERY_CACHE_RESULT_MB_MAX).default(10),
});

const authSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  bootstrap_token: text('a token (empty: generate one)', 0, BOOTSTRAP_TOKEN_LENGTH_MAX).default(''),
  cache_ttl_seconds: intIn(0, AUTH_CACHE_TTL_SECONDS_MAX).default(30),
});

/**
 * Lines the in-memory log ring (GET /logs) keeps at most: each line is at most a few KB (the
 * server bounds messages and fields), and the ring's bytes are bounded on their own as well.
 */
const LOG_RING_LINES_MAX = 100_000;

const metricsSchema = z.strictObject({
  public: z.boolean({ error: 'true or false' }).default(false),
  database_labels_max: intIn(1, METRICS_DATABASE_LABELS_MAX).default(100),
  timeseries_interval_seconds: intIn(1, METRICS_TIMESERIES_INTERVAL_SECONDS_MAX).default(5),
  timeseries_points: intIn(1, METRICS_TIMESERIES_POINTS_MAX).default(360),
});

const logSchema = z.strictObject({
  level: oneOf(LOG_LEVELS).default('info'),
  format: oneOf(LOG_FORMATS).default('auto'),
  ring_lines: intIn(0, LOG_RING_LINES_MAX).default(1000),
});

export const WAL_SYNC_MODES = ['fdatasync', 'fsync', 'async'] as const;
export type WalSyncMode = (typeof WAL_SYNC_MODES)[number];
/** WAL ranges: a segment of 1 MiB..4 GiB, up to a week old; a group commit waits at most 100 ms. */
const WAL_SEGMENT_MB_MAX = 4096;
const WAL_SEGMENT_AGE_SECONDS_MAX = 7 * 24 * 3600;
const WAL_GROUP_COMMIT_WAIT_MS_MAX = 100;
const WAL_GROUP_COMMIT_KB_MAX = 256 * 1024;

const walSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(false),
  dir: text('a directory path (empty: <data_dir>/wal)', 0, STRING_VALUE_LENGTH_MAX).default(''),
  sync_mode: oneOf(WAL_SYNC_MODES).default('fdatasync'),
  group_commit_wait_ms: intIn(0, WAL_GROUP_COMMIT_WAIT_MS_MAX).default(2),
  group_commit_kb: intIn(1, WAL_GROUP_COMMIT_KB_MAX).default(1024),
  max_size_mb: intIn(1, WAL_SEGMENT_MB_MAX).default(100),
  max_age_seconds: intIn(1, WAL_SEGMENT_AGE_SECONDS_MAX).default(3600),
});

/** DuckDB's zstd levels; 3 is its default (a good ratio at a fast write). */
const ZSTD_LEVEL_MAX = 22;
/** Compaction bounds: a live hour of 2..10,000 files, outputs of 1 MiB..16 GiB, jobs 1..64 at once. */
const LIVE_MAX_FILES_MAX = 10_000;
const LIVE_INTERVAL_SECONDS_MAX = 3600;
const MIN_AGE_HOURS_MAX = 24 * 365;
const TARGET_FILE_MB_MAX = 16 * 1024;
const COMPACTION_JOBS_MAX = 64;
const LEASE_SECONDS_MAX = 24 * 3600;
const CRON_TEXT_LENGTH_MAX = 200;

const compactionSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  /** Rows with the same measurement, tag set and time are one point: the latest write wins field by field. */
  dedup: z.boolean({ error: 'true or false' }).default(true),
  live_max_files: intIn(2, LIVE_MAX_FILES_MAX).default(16),
  live_interval_seconds: intIn(1, LIVE_INTERVAL_SECONDS_MAX).default(10),
  min_age_hours: intIn(0, MIN_AGE_HOURS_MAX).default(1),
  min_files: intIn(2, LIVE_MAX_FILES_MAX).default(2),
  daily_min_age_hours: intIn(0, MIN_AGE_HOURS_MAX).default(24),
  target_file_size_mb: intIn(1, TARGET_FILE_MB_MAX).default(512),
  row_group_size: intIn(ROW_GROUP_SIZE_MIN, ROW_GROUP_SIZE_MAX).default(122_880),
  compression_level: intIn(1, ZSTD_LEVEL_MAX).default(3),
  memory_limit: memoryLimit('1GB'),
  threads: intIn(1, THREADS_MAX).default(1),
  max_concurrent_jobs: intIn(1, COMPACTION_JOBS_MAX).default(1),
  hourly_schedule: text('a cron expression (5 or 6 fields)', 1, CRON_TEXT_LENGTH_MAX).default('5 * * * *'),
  daily_schedule: text('a cron expression (5 or 6 fields)', 1, CRON_TEXT_LENGTH_MAX).default('0 3 * * *'),
  lease_seconds: intIn(10, LEASE_SECONDS_MAX).default(600),
  nice: intIn(0, DECODER_NICE_MAX).default(DECODER_NICE_MAX),
});

/** Retention policies' scheduled runs (the policies themselves are in retention.db, set through the API). */
const retentionSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  /** Before compaction's daily tier (03:00): that tier then does not merge files about to be dropped. */
  schedule: text('a cron expression (5 or 6 fields)', 1, CRON_TEXT_LENGTH_MAX).default('0 2 * * *'),
});

/** Continuous queries (packages/compaction cq-*.ts; README "Continuous queries"): late rows re-run a window for up to a week. */
const CQ_LATENESS_SECONDS_MAX = 7 * 24 * 3600;
const continuousQueriesSchema = z.strictObject({
  enabled: z.boolean({ error: 'true or false' }).default(true),
  /** Rows arriving up to this long after their window ended re-run it (0: a window runs once, at its end). */
  lateness_seconds: intIn(0, CQ_LATENESS_SECONDS_MAX).default(600),
});

/** Row deletes (README "Deleting data"): matching rows above the threshold need `confirm: true`. */
const DELETE_CONFIRMATION_THRESHOLD_MAX = 1_000_000_000_000;
const deleteSchema = z.strictObject({
  confirmation_threshold: intIn(0, DELETE_CONFIRMATION_THRESHOLD_MAX).default(10_000),
});

/**
 * The key that seals the import connections' secrets (passwords, tokens) at rest: 32 bytes as 64
 * hex digits or as base64. Returns the key as 64 lower-case hex digits, or null when the text is
 * neither. Empty in arc.conf means: generated once and kept in `<data_dir>/import_secret.key`.
 */
export function importSecretKeyHex(text: string): string | null {
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase();
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === 32 ? bytes.toString('hex') : null;
}

/** Imports from other systems (README "Importing data"): connections, jobs and their schedules. */
const IMPORT_SECRET_KEY_EXPECTED = 'a key of 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -base64 32`), or empty';
const importSchema = z.strictObject({
  secret_key: z.string({ error: IMPORT_SECRET_KEY_EXPECTED }).refine((text) => text === '' || importSecretKeyHex(text) !== null, { error: IMPORT_SECRET_KEY_EXPECTED }).default(''),
});

/** `prefault({})` runs a missing section through its schema, so its keys get their defaults. */
export const configFileSchema = z.strictObject({
  server: serverSchema.prefault({}),
  storage: storageSchema.prefault({}),
  'storage.s3': storageS3Schema.prefault({}),
  cluster: clusterSchema.prefault({}),
  ingest: ingestSchema.prefault({}),
  writer: writerSchema.prefault({}),
  query: querySchema.prefault({}),
  query_cache: queryCacheSchema.prefault({}),
  auth: authSchema.prefault({}),
  log: logSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  wal: walSchema.prefault({}),
  compaction: compactionSchema.prefault({}),
  retention: retentionSchema.prefault({}),
  continuous_queries: continuousQueriesSchema.prefault({}),
  delete: deleteSchema.prefault({}),
  import: importSchema.prefault({}),
});

export type ConfigFile = z.output<typeof configFileSchema>;

/** How an environment variable's text is parsed for a key. */
export type ConfigKeyKind = 'int' | 'number' | 'bool' | 'string';

type AnySchema = z.core.$ZodType;

function unwrapSection(schema: AnySchema): z.ZodObject | null {
  let current: AnySchema = schema;
  for (;;) {
    const def = current._zod.def;
    if (def.type === 'default' || def.type === 'prefault' || def.type === 'optional') {
      current = (def as z.core.$ZodDefaultDef).innerType;
    } else if (current instanceof z.ZodObject) {
      return current;
    } else {
      return null;
    }
  }
}

function kindOf(schema: AnySchema): ConfigKeyKind | null {
  const def = schema._zod.def;
  switch (def.type) {
    case 'default':
    case 'prefault':
    case 'optional':
      return kindOf((def as z.core.$ZodDefaultDef).innerType);
    case 'number':
      return 'format' in def && def.format === 'safeint' ? 'int' : 'number';
    case 'boolean':
      return 'bool';
    case 'string':
    case 'enum':
      return 'string';
    default:
      return null;
  }
}

function sectionShape(section: string): Readonly<Record<string, AnySchema>> | null {
  if (!Object.hasOwn(configFileSchema.shape, section)) return null;
  const schema = configFileSchema.shape[section as keyof typeof configFileSchema.shape];
  return unwrapSection(schema)?.shape ?? null;
}

/** Section names of arc.conf, in file order. */
export const CONFIG_SECTIONS: readonly string[] = Object.keys(configFileSchema.shape);

/** Keys of one section, in file order; empty for an unknown section. */
export function configSectionKeys(section: string): readonly string[] {
  const shape = sectionShape(section);
  return shape === null ? [] : Object.keys(shape);
}

/** The kind of `section.key`, or null when arc.conf has no such key. */
export function configKeyKind(section: string, key: string): ConfigKeyKind | null {
  const shape = sectionShape(section);
  if (shape === null || !Object.hasOwn(shape, key)) return null;
  const schema = shape[key];
  return schema === undefined ? null : kindOf(schema);
}
