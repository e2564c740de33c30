export { startServer } from './server.js';
export type { RunningServer, StartServerOptions, StopReport } from './server.js';
export { createLogger } from './log.js';
export type { Logger } from './log.js';
export { parseQueryBody } from './query-routes.js';
export { ServerErrorCode } from './error-codes.js';
export { IngestErrorCode } from './ingest-error-codes.js';
