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
export { escapeKey, escapeMeasurement, fieldValueText, lineOf } from './line-protocol.js';
export type { FieldValue } from './line-protocol.js';
export { ImporterErrorCode } from './error-codes.js';
