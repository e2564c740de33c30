import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import type * as z from 'zod';
import { readEnvOverrides } from './config-env.js';
import type { EnvOverride } from './config-env.js';
import { ConfigError } from './config-error.js';
import { ConfigErrorCode } from './error-codes.js';
import { readConfigFile } from './config-file.js';
import type { ConfigFileSource } from './config-file.js';
import { CONFIG_SECTIONS, configFileSchema, configSectionKeys, importSecretKeyHex, memoryLimitBytes } from './config-schema.js';
import type { ConfigFile, LogFormat, LogLevel, ParquetCompression, StorageBackend, WalSyncMode } from './config-schema.js';
import { BYTES_PER_GB, BYTES_PER_MIB, DECODERS_MAX, DECODERS_PER_CPU, IN_FLIGHT_BODIES_DEFAULT } from './limits.js';

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly bodyMaxMb: number;
  /** Largest request body after decompression; above it the answer is 413. */
  readonly bodyBytesMax: number;
  readonly shutdownTimeoutSeconds: number;
  /**
   * How long a stop keeps retrying a final flush that fails (a full disk) before it gives up and
   * exits non-zero naming the acknowledged rows it could not write.
   */
  readonly shutdownFlushRetrySeconds: number;
}

/** Where an S3-compatible store is and how to talk to it, presets and AWS_* fallbacks applied. */
export interface S3Config {
  /** Host name or IP, no scheme or port. */
  readonly endPoint: string;
  readonly port: number | null;
  readonly useSSL: boolean;
  readonly region: string;
  readonly bucket: string;
  /** '' or a prefix ending in '/': every key Arc writes goes below it. */
  readonly prefix: string;
  readonly accessKey: string;
  /** Secret: never log it or show it in an answer. */
  readonly secretKey: string;
  readonly pathStyle: boolean;
  readonly partSizeBytes: number;
}

export interface StorageConfig {
  readonly backend: StorageBackend;
  /** Null for the local backend. */
  readonly s3: S3Config | null;
  /** Object storage: bytes the local query cache may hold (`<dataDir>/cache`). */
  readonly cacheMaxBytes: number;
  /** Absolute: `<dataDir>/cache`, the local copies of objects that queries and compaction read. */
  readonly cacheDir: string;
  /** Object storage: how often the bucket is listed again for other nodes' files. */
  readonly listingRefreshMs: number;
  /** This node's id from [cluster] node_id; null: derived and kept in the data directory. */
  readonly nodeId: string | null;
  /** Absolute. */
  readonly dataDir: string;
  /** `<dataDir>/arc`: Parquet files live below it. */
  readonly parquetRoot: string;
  /** `<dataDir>/arc.db`: the SQLite file for tokens and other metadata. */
  readonly metadataPath: string;
}

export interface IngestConfig {
  /** Decoder threads, resolved (arc.conf's 0 means DECODERS_PER_CPU per available CPU). */
  readonly decoders: number;
  readonly ringMb: number;
  readonly ringBytes: number;
  /** Host tag of rows that carry neither `h` nor `tags.host`. */
  readonly defaultHost: string;
  /** Nice value decoder threads give themselves (Linux: per thread), so writers keep their CPU. */
  readonly decoderNice: number;
  /** Distinct measurements one write request may touch; more: 400, nothing written. */
  readonly measurementsPerRequestMax: number;
  /** Measurements one database may have (on disk and buffered); a request adding past it: 400. */
  readonly measurementsPerDatabaseMax: number;
  /**
   * Bytes of write bodies the acceptor holds unanswered (waiting for room plus with a decoder);
   * a write past it is answered 503 at once.
   */
  readonly inFlightBytesMax: number;
  /** Longest a write waits for a ring or for write buffers to drain before its 503. */
  readonly waitMsMax: number;
}

export interface WriterConfig {
  readonly threads: number;
  readonly flushRows: number;
  readonly flushBytesMb: number;
  readonly flushBytesMax: number;
  readonly flushAgeMs: number;
  readonly bufferMaxMb: number;
  /** All writers together; above it ingestion answers 503. */
  readonly bufferBytesMax: number;
  readonly compression: ParquetCompression;
  readonly rowGroupSize: number;
  readonly duckdbThreads: number;
}

export interface QueryConfig {
  readonly threads: number;
  readonly duckdbThreads: number;
  /** DuckDB size text, passed to DuckDB as is. */
  readonly memoryLimit: string;
  readonly memoryLimitBytes: number;
  readonly timeoutSeconds: number;
  readonly queueMax: number;
  /** Rows a non-streamed answer may have; more is 413 (use /query/stream). */
  readonly maxRows: number;
  /** Queries taking at least this long are logged with their SQL; 0: every query. */
  readonly slowQueryMs: number;
  /** Bytes of decoded files each query thread keeps for series windows; 0: the series path is off. */
  readonly seriesCacheBytes: number;
}

export interface QueryCacheConfig {
  readonly enabled: boolean;
  readonly ttlSeconds: number;
  /** Answers kept at most. */
  readonly maxSize: number;
  /** Answers larger than this are not kept. */
  readonly maxResultMb: number;
}

/** Arc's own metrics (README "Monitoring"). */
export interface MetricsConfig {
  /** /metrics answers without a token (a scraper with none); the other /metrics/* routes still need one. */
  readonly public: boolean;
  /** Databases named in labels; the rest are counted under `other`. */
  readonly databaseLabelsMax: number;
  /** The console's time series (/metrics/timeseries/{type}): one sample per interval, this many kept. */
  readonly timeseriesIntervalSeconds: number;
  readonly timeseriesPoints: number;
}

export interface AuthConfig {
  readonly enabled: boolean;
  /** Secret: never log it. Empty means "generate one on first start". */
  readonly bootstrapToken: string;
  readonly cacheTtlSeconds: number;
}

export interface LogConfig {
  readonly level: LogLevel;
  readonly format: LogFormat;
  /** Lines kept in memory for GET /logs; 0: none. */
  readonly ringLines: number;
}

export interface WalConfig {
  readonly enabled: boolean;
  /** Absolute (`<dataDir>/wal` unless set). */
  readonly dir: string;
  readonly syncMode: WalSyncMode;
  /** Longest a request waits for others to share its sync (group commit). */
  readonly groupCommitWaitMs: number;
  /** Bytes waiting for a sync that trigger it at once. */
  readonly groupCommitBytes: number;
  readonly segmentBytesMax: number;
  readonly segmentAgeMsMax: number;
}

/** Merging small files into few large sorted ones (packages/compaction; README "Compaction"). */
export interface CompactionConfig {
  readonly enabled: boolean;
  readonly dedup: boolean;
  /** Files an hour may hold before its small files are merged, also in the open hour. */
  readonly liveMaxFiles: number;
  readonly liveIntervalSeconds: number;
  /** Hours closed at least this long are merged whole (hourly tier). */
  readonly minAgeHours: number;
  readonly minFiles: number;
  /** Days whose end is at least this long ago become day files (daily tier). */
  readonly dailyMinAgeHours: number;
  readonly targetFileBytes: number;
  readonly rowGroupSize: number;
  /** zstd level of compacted files. */
  readonly compressionLevel: number;
  /** DuckDB size text of each job's instance. */
  readonly memoryLimit: string;
  readonly threads: number;
  readonly maxConcurrentJobs: number;
  readonly hourlySchedule: string;
  readonly dailySchedule: string;
  /** How long a partition lock holds without renewal (a crashed job's lock expires). */
  readonly leaseSeconds: number;
  /** Nice value of the compaction threads (Linux: per thread), so ingest keeps its CPU. */
  readonly nice: number;
}

/** When retention policies run by themselves (README "Retention"); on demand they run whatever this says. */
export interface RetentionConfig {
  /** false: no scheduled run (the API and on-demand runs still work). */
  readonly enabled: boolean;
  /** Cron, UTC: every active policy runs, one after another. */
  readonly schedule: string;
}

/** Continuous queries' scheduler (packages/compaction cq-service.ts; README "Continuous queries"). */
export interface ContinuousQueriesConfig {
  /** Off: definitions are kept and can be edited, but no window runs, scheduled or requested. */
  readonly enabled: boolean;
  /** Rows published this long after their window ended still re-run it; later ones wait for a manual execute. */
  readonly latenessSeconds: number;
}

/** Row deletes (packages/compaction delete-run.ts; README "Deleting data"). */
export interface DeleteConfig {
  /** Matching rows above this need `confirm: true`. */
  readonly confirmationThreshold: number;
}

/** Imports from other systems (packages/importer; README "Importing data"). */
export interface ImportConfig {
  /**
   * The key sealing connection secrets at rest, as 64 hex digits; null when arc.conf leaves
   * `import.secret_key` empty (the server then keeps a generated one in the data directory).
   */
  readonly secretKeyHex: string | null;
}

/** The whole configuration, deeply frozen. */
export interface Config {
  readonly server: ServerConfig;
  readonly storage: StorageConfig;
  readonly ingest: IngestConfig;
  readonly writer: WriterConfig;
  readonly query: QueryConfig;
  readonly compaction: CompactionConfig;
  readonly retention: RetentionConfig;
  readonly continuousQueries: ContinuousQueriesConfig;
  readonly delete: DeleteConfig;
  readonly import: ImportConfig;
  readonly queryCache: QueryCacheConfig;
  readonly auth: AuthConfig;
  readonly log: LogConfig;
  readonly metrics: MetricsConfig;
  readonly wal: WalConfig;
  /** Absolute path of the config file read, or null when only defaults and env were used. */
  readonly configPath: string | null;
  /** Problems that did not stop the start (unknown `ARC_*` variables): log them. */
  readonly warnings: readonly string[];
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv | undefined;
  /** Explicit config file; a missing one is an error. Wins over `$ARC_CONFIG`. */
  readonly configPath?: string | undefined;
  /** Relative paths (config file, data_dir) resolve against it. Defaults to `process.cwd()`. */
  readonly cwd?: string | undefined;
}

type Table = Record<string, unknown>;

function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Environment beats file: each override replaces one key of a (copied) section. */
/** `[storage.s3]` (a table inside [storage]) becomes the section `storage.s3`, as the schema has it. */
function hoistNestedSections(document: Readonly<Table>): Table {
  const hoisted: Table = { ...document };
  const storage = document.storage;
  if (isTable(storage) && Object.hasOwn(storage, 's3')) {
    const { s3, ...rest } = storage;
    hoisted.storage = rest;
    hoisted['storage.s3'] = isTable(hoisted['storage.s3']) && isTable(s3) ? { ...hoisted['storage.s3'], ...s3 } : s3;
  }
  return hoisted;
}

function applyOverrides(document: Readonly<Table>, overrides: readonly EnvOverride[]): Table {
  const merged: Table = hoistNestedSections(document);
  for (const override of overrides) {
    const section = merged[override.section] ?? {};
    // A section that is not a table is left alone: validation reports it against the file.
    if (!isTable(section)) continue;
    merged[override.section] = { ...section, [override.key]: override.value };
  }
  return merged;
}

function valueAt(document: Table, path: readonly string[]): unknown {
  let value: unknown = document;
  for (const part of path) value = isTable(value) && Object.hasOwn(value, part) ? value[part] : undefined;
  return value;
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (isTable(value)) return 'a table';
  if (typeof value === 'number') return String(value); // JSON would print TOML's nan and inf as null
  // The rest came from TOML or the environment: text, booleans, arrays, which JSON shows as written.
  return JSON.stringify(value);
}

function unknownKeyError(path: readonly string[], key: string, merged: Table, file: ConfigFileSource): ConfigError {
  const source = file.path ?? file.displayName;
  const section = path[0];
  if (section === undefined && isTable(merged[key])) {
    const message = `Unknown section '${key}' in ${file.displayName} (sections: ${CONFIG_SECTIONS.join(', ')})`;
    return new ConfigError(ConfigErrorCode.unknownKey, key, source, message);
  }
  if (section === undefined) {
    const message = `Unknown key '${key}' in ${file.displayName} (every key belongs in a section such as [server])`;
    return new ConfigError(ConfigErrorCode.unknownKey, key, source, message);
  }
  const dotted = `${section}.${key}`;
  const known = configSectionKeys(section).join(', ');
  const message = `Unknown key '${dotted}' in ${file.displayName} (keys of [${section}]: ${known})`;
  return new ConfigError(ConfigErrorCode.unknownKey, dotted, source, message);
}

/** Keys whose value is a secret, in any section. */
const SECRET_KEY_NAMES: ReadonlySet<string> = new Set(['secret_key', 'bootstrap_token']);

function issueError(issue: z.core.$ZodIssue, merged: Table, file: ConfigFileSource, envVars: ReadonlyMap<string, string>): ConfigError {
  const path = issue.path.map(String);
  // zod lists the unknown keys; should the list be empty, the generic message below still names the issue.
  const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
  if (unknownKey !== undefined) return unknownKeyError(path, unknownKey, merged, file);
  const dotted = path.join('.');
  const value = valueAt(merged, path);
  // A secret's text never reaches an error (errors are printed and logged): only its length does.
  const got = SECRET_KEY_NAMES.has(path.at(-1) ?? '') && typeof value === 'string' ? `a value of ${String(value.length)} characters` : describeValue(value);
  const envVar = envVars.get(dotted);
  if (envVar !== undefined) {
    const message = `Invalid value for ${envVar} (${dotted}): expected ${issue.message}, got ${got}`;
    return new ConfigError(ConfigErrorCode.badValue, dotted, envVar, message);
  }
  const expected = path.length === 1 ? `a table ([${dotted}])` : issue.message;
  const message = `Invalid value for '${dotted}' in ${file.displayName}: expected ${expected}, got ${got}`;
  return new ConfigError(ConfigErrorCode.badValue, dotted, file.path ?? file.displayName, message);
}

function resolveDecoders(configured: number): number {
  if (configured !== 0) return configured;
  return Math.min(DECODERS_MAX, DECODERS_PER_CPU * availableParallelism());
}

function queryMemoryLimitBytes(text: string): number {
  const bytes = memoryLimitBytes(text);
  assert.ok(bytes !== null, 'the schema only accepts sizes that memoryLimitBytes reads');
  return bytes;
}

/** What each preset of the S3 backend assumes where [storage.s3] is silent. */
const S3_PRESETS: Readonly<Record<Exclude<StorageBackend, 'local'>, { readonly endpoint: (region: string) => string; readonly pathStyle: boolean; readonly region: string }>> = {
  s3: { endpoint: (region) => `https://s3.${region}.amazonaws.com`, pathStyle: false, region: 'us-east-1' },
  // MinIO serves buckets path-style by default; the earlier Arc's default endpoint.
  minio: { endpoint: () => 'http://localhost:9000', pathStyle: true, region: 'us-east-1' },
  // Google Cloud Storage through its S3-interoperable XML API, with HMAC keys.
  gcs: { endpoint: () => 'https://storage.googleapis.com', pathStyle: true, region: 'auto' },
};

function s3ConfigError(key: string, message: string): ConfigError {
  return new ConfigError(ConfigErrorCode.badValue, `storage.s3.${key}`, 'storage.s3', message);
}

/** [storage.s3] with the preset's and AWS_* defaults; throws naming the key when one is missing or malformed. */
function resolveS3(backend: Exclude<StorageBackend, 'local'>, section: ConfigFile['storage.s3'], env: NodeJS.ProcessEnv): S3Config {
  const preset = S3_PRESETS[backend];
  const region = section.region !== '' ? section.region : (env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? preset.region);
  const endpointText = section.endpoint !== '' ? section.endpoint : preset.endpoint(region);
  // MINIO_ENDPOINT of the earlier Arc is host:port without a scheme: plain HTTP unless use_ssl says otherwise.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpointText) ? endpointText : `${section.use_ssl === true ? 'https' : 'http'}://${endpointText}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw s3ConfigError('endpoint', `Invalid storage.s3.endpoint ${JSON.stringify(endpointText)}: expected a URL such as http://127.0.0.1:9000 or host:port`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '')) {
    throw s3ConfigError('endpoint', `Invalid storage.s3.endpoint ${JSON.stringify(endpointText)}: expected http(s)://host[:port] with no path`);
  }
  if (section.bucket === '') throw s3ConfigError('bucket', `storage.backend = "${backend}" needs storage.s3.bucket (or ARC_STORAGE_S3_BUCKET / MINIO_BUCKET)`);
  const accessKey = section.access_key !== '' ? section.access_key : (env.AWS_ACCESS_KEY_ID ?? '');
  const secretKey = section.secret_key !== '' ? section.secret_key : (env.AWS_SECRET_ACCESS_KEY ?? '');
  if (accessKey === '' || secretKey === '') {
    throw s3ConfigError('access_key', `storage.backend = "${backend}" needs credentials: storage.s3.access_key and secret_key (or ARC_STORAGE_S3_ACCESS_KEY / MINIO_ACCESS_KEY, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
  }
  const trimmedPrefix = section.prefix.replace(/^\/+|\/+$/g, '');
  return {
    endPoint: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? null : Number(url.port),
    useSSL: section.use_ssl ?? url.protocol === 'https:',
    region,
    bucket: section.bucket,
    prefix: trimmedPrefix === '' ? '' : `${trimmedPrefix}/`,
    accessKey,
    secretKey,
    pathStyle: section.path_style ?? preset.pathStyle,
    partSizeBytes: section.part_size_mb * BYTES_PER_MIB,
  };
}

function buildConfig(file: ConfigFile, cwd: string, configPath: string | null, warnings: readonly string[], env: NodeJS.ProcessEnv): Config {
  const dataDir = resolve(cwd, file.storage.data_dir);
  const { server, ingest, writer, query, auth, log } = file;
  const queryCache = file.query_cache;
  return {
    server: {
      host: server.host,
      port: server.port,
      bodyMaxMb: server.body_max_mb,
      bodyBytesMax: server.body_max_mb * BYTES_PER_MIB,
      shutdownTimeoutSeconds: server.shutdown_timeout_seconds,
      shutdownFlushRetrySeconds: server.shutdown_flush_retry_seconds,
    },
    storage: {
      backend: file.storage.backend,
      s3: file.storage.backend === 'local' ? null : resolveS3(file.storage.backend, file['storage.s3'], env),
      cacheMaxBytes: Math.floor(file.storage.cache_max_gb * BYTES_PER_GB),
      cacheDir: join(dataDir, 'cache'),
      listingRefreshMs: file.storage.listing_refresh_s * 1000,
      nodeId: file.cluster.node_id === '' ? null : file.cluster.node_id,
      dataDir,
      parquetRoot: join(dataDir, 'arc'),
      metadataPath: join(dataDir, 'arc.db'),
    },
    ingest: {
      decoders: resolveDecoders(ingest.decoders),
      ringMb: ingest.ring_mb,
      ringBytes: ingest.ring_mb * BYTES_PER_MIB,
      defaultHost: ingest.default_host,
      decoderNice: ingest.decoder_nice,
      measurementsPerRequestMax: ingest.max_measurements_per_request,
      measurementsPerDatabaseMax: ingest.max_measurements_per_database,
      inFlightBytesMax: (ingest.in_flight_max_mb ?? IN_FLIGHT_BODIES_DEFAULT * server.body_max_mb) * BYTES_PER_MIB,
      waitMsMax: ingest.wait_max_ms,
    },
    writer: {
      threads: writer.threads,
      flushRows: writer.flush_rows,
      flushBytesMb: writer.flush_bytes_mb,
      flushBytesMax: writer.flush_bytes_mb * BYTES_PER_MIB,
      flushAgeMs: writer.flush_age_ms,
      bufferMaxMb: writer.buffer_max_mb,
      bufferBytesMax: writer.buffer_max_mb * BYTES_PER_MIB,
      compression: writer.compression,
      rowGroupSize: writer.row_group_size,
      duckdbThreads: writer.duckdb_threads,
    },
    query: {
      threads: query.threads,
      duckdbThreads: query.duckdb_threads,
      memoryLimit: query.memory_limit,
      memoryLimitBytes: queryMemoryLimitBytes(query.memory_limit),
      timeoutSeconds: query.timeout_seconds,
      queueMax: query.queue_max,
      maxRows: query.max_rows,
      slowQueryMs: query.slow_query_ms,
      seriesCacheBytes: query.series_cache_mb * BYTES_PER_MIB,
    },
    queryCache: {
      enabled: queryCache.enabled,
      ttlSeconds: queryCache.ttl_seconds,
      maxSize: queryCache.max_size,
      maxResultMb: queryCache.max_result_mb,
    },
    auth: { enabled: auth.enabled, bootstrapToken: auth.bootstrap_token, cacheTtlSeconds: auth.cache_ttl_seconds },
    log: { level: log.level, format: log.format, ringLines: log.ring_lines },
    metrics: {
      public: file.metrics.public,
      databaseLabelsMax: file.metrics.database_labels_max,
      timeseriesIntervalSeconds: file.metrics.timeseries_interval_seconds,
      timeseriesPoints: file.metrics.timeseries_points,
    },
    wal: {
      enabled: file.wal.enabled,
      dir: file.wal.dir === '' ? join(dataDir, 'wal') : resolve(cwd, file.wal.dir),
      syncMode: file.wal.sync_mode,
      groupCommitWaitMs: file.wal.group_commit_wait_ms,
      groupCommitBytes: file.wal.group_commit_kb * 1024,
      segmentBytesMax: file.wal.max_size_mb * BYTES_PER_MIB,
      segmentAgeMsMax: file.wal.max_age_seconds * 1000,
    },
    compaction: {
      enabled: file.compaction.enabled,
      dedup: file.compaction.dedup,
      liveMaxFiles: file.compaction.live_max_files,
      liveIntervalSeconds: file.compaction.live_interval_seconds,
      minAgeHours: file.compaction.min_age_hours,
      minFiles: file.compaction.min_files,
      dailyMinAgeHours: file.compaction.daily_min_age_hours,
      targetFileBytes: file.compaction.target_file_size_mb * BYTES_PER_MIB,
      rowGroupSize: file.compaction.row_group_size,
      compressionLevel: file.compaction.compression_level,
      memoryLimit: file.compaction.memory_limit,
      threads: file.compaction.threads,
      maxConcurrentJobs: file.compaction.max_concurrent_jobs,
      hourlySchedule: file.compaction.hourly_schedule,
      dailySchedule: file.compaction.daily_schedule,
      leaseSeconds: file.compaction.lease_seconds,
      nice: file.compaction.nice,
    },
    retention: { enabled: file.retention.enabled, schedule: file.retention.schedule },
    continuousQueries: {
      enabled: file.continuous_queries.enabled,
      latenessSeconds: file.continuous_queries.lateness_seconds,
    },
    delete: { confirmationThreshold: file.delete.confirmation_threshold },
    import: { secretKeyHex: file.import.secret_key === '' ? null : importSecretKeyHex(file.import.secret_key) },
    configPath,
    warnings: [...warnings],
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Loads the configuration: defaults, then the config file, then `ARC_*` environment variables.
 * Throws ConfigError naming the key (or variable) at fault; never returns a half-valid config.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = readConfigFile(options.configPath, env, cwd);
  const { overrides, warnings } = readEnvOverrides(env);
  const merged = applyOverrides(file.document, overrides);
  const parsed = configFileSchema.safeParse(merged);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    assert.ok(first !== undefined, 'a failed parse reports an issue');
    const envVars = new Map(overrides.map((override) => [`${override.section}.${override.key}`, override.envVar]));
    throw issueError(first, merged, file, envVars);
  }
  return deepFreeze(buildConfig(parsed.data, cwd, file.path, warnings, env));
}

/** One line for the startup log. Holds no secret: the bootstrap token never appears. */
export function describeConfig(config: Config): string {
  const { server, storage, ingest, writer, query, auth, log } = config;
  return [
    `config=${config.configPath ?? 'defaults'}`,
    `listen=${server.host}:${server.port}`,
    `body_max=${server.bodyMaxMb}MiB`,
    storage.s3 === null ? `storage=local:${storage.dataDir}` : `storage=${storage.backend}:${storage.s3.useSSL ? 'https' : 'http'}://${storage.s3.endPoint}${storage.s3.port === null ? '' : `:${storage.s3.port}`}/${storage.s3.bucket}/${storage.s3.prefix} cache=${storage.cacheDir}`,
    `decoders=${ingest.decoders}x${ingest.ringMb}MiB`,
    `writers=${writer.threads}`,
    `flush=${writer.flushRows}rows/${writer.flushBytesMb}MiB/${writer.flushAgeMs}ms`,
    `buffer_max=${writer.bufferMaxMb}MiB`,
    `parquet=${writer.compression}/${writer.rowGroupSize}`,
    `query=${query.threads}x${query.duckdbThreads}threads/${query.memoryLimit}/${query.timeoutSeconds}s/queue${query.queueMax}`,
    `auth=${auth.enabled ? 'on' : 'off'}`,
    `log=${log.level}/${log.format}`,
    `wal=${config.wal.enabled ? `${config.wal.syncMode}:${config.wal.dir}` : 'off'}`,
    `compaction=${config.compaction.enabled ? `on/live${config.compaction.liveMaxFiles}` : 'off'}`,
  ].join(' ');
}
