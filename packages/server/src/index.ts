export { startServer } from './server.js';
// For bench/auth-check.mjs: the per-request token check, measured on its own.
export { AuthGate } from './auth-gate.js';
export type { RunningServer, StartServerOptions, StopReport } from './server.js';
export { createLogger } from './log.js';
export type { Logger, ServerLogger } from './log.js';
export { parseQueryBody } from './query-routes.js';
export { ServerErrorCode } from './error-codes.js';
export { openSharedTokensForCommand } from './token-sync.js';
// For `arc export --format lp`: a measurement's rows as line protocol, built by the query engine.
export { measurementLinesSql } from './import-sql.js';
export type { MeasurementColumn } from './import-sql.js';
