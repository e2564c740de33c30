// The importer: connections to other systems (InfluxDB 1.x/2.x, PostgreSQL / TimescaleDB, HTTP JSON
// APIs), import jobs that move their rows into Arc through the ingest pipeline, and their schedules
// and history. The source contract is source.ts; line protocol building is line-protocol.ts.
export { SOURCE_TYPES, SourceType, isSourceType } from './source.js';
export type { ConnectionTestResult, ReadOptions, ReadRange, SourceChunk, SourceConnection, SourceDriver, SourceReader } from './source.js';
export { driverFor, hasDriver } from './drivers.js';
export { CONNECTION_FILE_NAME, CONNECTION_TYPES, ConnectionStore, ConnectionType, checkConnectionSettings, draftSourceConnection, isConnectionType } from './connection-store.js';
export type { Connection, ConnectionChange, ConnectionDraft } from './connection-store.js';
export { SECRET_KEY_BYTES, SECRET_KEY_SETTING, SecretBox, generateSecretKey } from './secret-box.js';
export { CONNECTION_NAME_LENGTH_MAX, CONNECTION_SECRET_BYTES_MAX, CONNECTION_SETTINGS_BYTES_MAX, CONNECTION_TEST_TIMEOUT_MS } from './limits.js';
export { fieldValueText, lineOf } from './line-protocol.js';
export type { FieldValue } from './line-protocol.js';
export { ImporterErrorCode } from './error-codes.js';
export { JOB_STORE_FILE_NAME, JobStore, EXECUTION_STATUSES, EXECUTION_TRIGGERS, jobNotFound } from './job-store.js';
export type { ChunkDone, Execution, ExecutionError, ExecutionStart, ExecutionStatus, ExecutionTrigger, Job, JobSpec, PendingChunk } from './job-store.js';
export { JobRunStopped, runExecution } from './job-runner.js';
export type { ImportSink, JobRunnerDeps, OpenSource, SinkWriteResult, StopReason } from './job-runner.js';
export { ImportJobs, instantNs, rfc3339Of } from './import-jobs.js';
export type { ConnectionLookup, ImportConnection, ImportJobsOptions, JobInput, LogLevel, ScheduledJob } from './import-jobs.js';
export { SourceThread } from './source-thread.js';
export { JOB_CHUNK_BYTES_MAX, JOB_CHUNK_ROWS_DEFAULT, JOB_CHUNK_ROWS_MAX, JOB_EXECUTIONS_KEPT, JOB_EXECUTIONS_LISTED_DEFAULT, JOB_EXECUTIONS_LISTED_MAX, JOB_MONITORING_RECENT, JOB_PROGRESS_WRITE_INTERVAL_MS } from './limits.js';
export { HTTP_JSON_DRIVER, HttpJsonReader, openHttpJsonReader } from './http-json-driver.js';
export { discoverHttpJsonSchema } from './http-json-schema.js';
export type { HttpJsonReadLimits } from './http-json-driver.js';
export type { DiscoveredSchema, DiscoverRequest, LeafSummary, SchemaCandidate, SuggestedMapping } from './http-json-schema.js';
export { HttpJsonErrorCode } from './http-json-error-codes.js';
export { compileJsonPath, queryJsonPath, singularValue } from './json-path.js';
export type { JsonPath } from './json-path.js';
export { rfc3339Ns } from './http-json-values.js';
export {
  HTTP_JSON_EXPORT_BYTES_MAX,
  HTTP_JSON_EXPORT_DURATION_MS_MAX,
  HTTP_JSON_EXPORT_PAGE_BYTES_MAX,
  HTTP_JSON_EXPORT_PAGES_MAX,
  HTTP_JSON_EXPORT_ROWS_MAX,
  HTTP_JSON_EXPORTS_AT_ONCE,
  HTTP_JSON_PAGE_BYTES_MAX,
} from './limits.js';
export { connectionLookupOf } from './job-connections.js';
