import type { Config } from '@arc/config';
import type { QueryPool } from '@arc/query';
import type { AuthGate } from './auth-gate.js';
import type { IngestPipeline } from './ingest-pipeline.js';
import type { IngestStats } from './ingest-stats.js';
import type { Logger } from './log.js';

export const ServerPhase = { starting: 'starting', ready: 'ready', stopping: 'stopping' } as const;
export type ServerPhase = (typeof ServerPhase)[keyof typeof ServerPhase];

/** What the routes share: built once by `startServer`, read by every handler. */
export interface ServerContext {
  readonly config: Config;
  readonly log: Logger;
  readonly auth: AuthGate;
  readonly pipeline: IngestPipeline;
  readonly ingestStats: IngestStats;
  readonly queryPool: QueryPool;
  readonly version: string;
  phase: ServerPhase;
}
