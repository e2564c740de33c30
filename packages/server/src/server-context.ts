import type { TokenAccess } from '@arc/auth';
import type { LastCacheService } from './last-cache-service.js';
import type { CompactionControl, ContinuousQueries, DeleteControl, RetentionService } from '@arc/compaction';
import type { Config } from '@arc/config';
import type { ConnectionStore, ImportJobs } from '@arc/importer';
import type { QueryPool } from '@arc/query';
import type { Storage } from '@arc/storage';
import type { AuthGate } from './auth-gate.js';
import type { IngestPipeline, WalRecoveryReport } from '@arc/ingest';
import type { IngestStats } from './ingest-stats.js';
import type { ServerLogger } from './log.js';
import type { ServerMetrics } from './metrics-registry.js';
import type { RouteTable } from './route-table.js';
import type { StorageProbe } from './storage-probe.js';

export const ServerPhase = { starting: 'starting', ready: 'ready', stopping: 'stopping' } as const;
export type ServerPhase = (typeof ServerPhase)[keyof typeof ServerPhase];

/** What the routes share: built once by `startServer`, read by every handler. */
export interface ServerContext {
  readonly config: Config;
  readonly log: ServerLogger;
  readonly auth: AuthGate;
  /** The token table behind `auth` (shared between nodes with an object store); null when authentication is disabled. */
  readonly tokens: TokenAccess | null;
  readonly pipeline: IngestPipeline;
  readonly ingestStats: IngestStats;
  readonly queryPool: QueryPool;
  /** The data's layout, store and file catalog (packages/storage). */
  readonly storage: Storage;
  /** Whether the store answers (health and readiness). */
  readonly storageProbe: StorageProbe;
  readonly version: string;
  /** A database was deleted: its measurements count as new again for the writers' census. */
  forgetDatabase(database: string): void;
  phase: ServerPhase;
  /** What WAL recovery did at this start (state 'off' with the WAL off). */
  readonly walRecovery: WalRecoveryReport;
  /** The compactor behind /api/compaction/* (with compaction off it says so and refuses triggers). */
  readonly compaction: CompactionControl;
  /** Retention policies, their runs and schedule (/api/v1/retention). */
  readonly retention: RetentionService;
  /** Continuous queries behind /api/v1/continuous_queries and InfluxQL's CREATE/SHOW/DROP CONTINUOUS QUERY. */
  readonly continuousQueries: ContinuousQueries;
  /** Row deletes behind /api/v1/delete, /api/v2/delete and InfluxQL DELETE / DROP (packages/compaction delete-run.ts). */
  readonly deletes: DeleteControl;
  /** Last-value caches behind /api/v3/configure/last_cache and last_cache() in SQL. */
  readonly lastCaches: LastCacheService;
  /** Import jobs from other systems behind /jobs and /monitoring/jobs (packages/importer import-jobs.ts). */
  readonly importJobs: ImportJobs;
  /** Connections to the systems imports read from (/connections/*, secrets sealed at rest). */
  readonly connections: ConnectionStore;
  /** Every route registered, as registered (the API description and request metrics use it). */
  readonly routes: RouteTable;
  /** Arc's own metrics: the meters the routes count into, and what /metrics renders. */
  readonly metrics: ServerMetrics;
}
