import type { TemplatedApp } from 'uWebSockets.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerCacheRoutes } from './cache-routes.js';
import { registerCompactionRoutes } from './compaction-routes.js';
import { registerConnectionRoutes } from './connection-routes.js';
import { registerCqRoutes } from './cq-routes.js';
import { registerDatabaseRoutes } from './database-routes.js';
import { registerDeleteRoutes } from './delete-routes.js';
import { registerDocsRoutes } from './docs-routes.js';
import { registerHealthRoutes } from './health-routes.js';
import { registerHttpJsonRoutes } from './http-json-routes.js';
import { registerImportRoutes } from './import-routes.js';
import { registerInfluxQueryRoutes } from './influx-query-routes.js';
import { registerJobRoutes } from './job-routes.js';
import { registerLastCacheRoutes } from './last-cache-routes.js';
import { registerLogsRoutes } from './logs-routes.js';
import { registerMeasurementRoutes } from './measurement-routes.js';
import { registerMetricsRoutes } from './metrics-routes.js';
import type { QueryCache } from './query-cache.js';
import { registerQueryRoutes } from './query-routes.js';
import { registerRetentionRoutes } from './retention-routes.js';
import type { ServerContext } from './server-context.js';
import { registerWalRoutes } from './wal-routes.js';
import { registerWriteRoutes } from './write-routes.js';
import { registerWriteStatsRoutes } from './write-stats-routes.js';

/**
 * Every route of the HTTP API, in registration order (the catch-all 404 of the health routes last).
 * Registration reads nothing from `context` but keeps it for the handlers, so the route list can
 * be taken without a running server (the API description's completeness test does).
 */
export function registerRoutes(app: TemplatedApp, context: ServerContext, queryCache: QueryCache): void {
  registerWriteRoutes(app, context);
  registerWriteStatsRoutes(app, context);
  registerImportRoutes(app, context);
  registerJobRoutes(app, context);
  registerConnectionRoutes(app, context);
  registerHttpJsonRoutes(app, context);
  registerMetricsRoutes(app, context);
  registerQueryRoutes(app, context, queryCache);
  registerMeasurementRoutes(app, context);
  registerCacheRoutes(app, context, queryCache);
  registerInfluxQueryRoutes(app, context);
  registerAuthRoutes(app, context);
  registerDatabaseRoutes(app, context);
  registerWalRoutes(app, context);
  registerCompactionRoutes(app, context);
  registerRetentionRoutes(app, context);
  registerCqRoutes(app, context);
  registerLastCacheRoutes(app, context);
  registerDeleteRoutes(app, context);
  registerDocsRoutes(app, context);
  registerLogsRoutes(app, context);
  registerHealthRoutes(app, context);
}
