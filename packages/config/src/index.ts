export { loadConfig, describeConfig } from './config.js';
export type {
  Config,
  LoadConfigOptions,
  ServerConfig,
  StorageConfig,
  S3Config,
  IngestConfig,
  WriterConfig,
  QueryConfig,
  QueryCacheConfig,
  AuthConfig,
  LogConfig,
  MetricsConfig,
  WalConfig,
  CompactionConfig,
  RetentionConfig,
  ContinuousQueriesConfig,
  DeleteConfig,
  ImportConfig,
} from './config.js';
export { ConfigError } from './config-error.js';
export { ConfigErrorCode } from './error-codes.js';
export { CONFIG_PATH_ENV, envVarName } from './config-env.js';
export { DEFAULT_CONFIG_FILE_NAME } from './config-file.js';
export { STORAGE_BACKENDS, PARQUET_COMPRESSIONS, LOG_LEVELS, LOG_FORMATS, WAL_SYNC_MODES, importSecretKeyHex, memoryLimitBytes } from './config-schema.js';
export type { StorageBackend, ParquetCompression, LogLevel, LogFormat, WalSyncMode } from './config-schema.js';
export {
  BYTES_PER_MIB,
  CONFIG_FILE_BYTES_MAX,
  PORT_MIN,
  PORT_MAX,
  BODY_MB_MIN,
  BODY_MB_MAX,
  DECODERS_MAX,
  DECODERS_PER_CPU,
  RING_MB_MIN,
  RING_MB_MAX,
  THREADS_MAX,
  FLUSH_AGE_MS_MIN,
  FLUSH_AGE_MS_MAX,
  ROW_GROUP_SIZE_MIN,
  ROW_GROUP_SIZE_MAX,
  QUERY_QUEUE_MAX,
  MEASUREMENTS_PER_DATABASE_MAX as CONFIG_MEASUREMENTS_PER_DATABASE_MAX,
} from './limits.js';
export { workerExecArgv } from './worker-exec-argv.js';
