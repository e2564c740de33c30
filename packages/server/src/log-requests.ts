import { ErrorKind, truncateText, type ArcErrorShape } from '@arc/errors';
import { SLOW_QUERY_SQL_CHARS_MAX } from './limits.js';
import type { ServerLogger } from './log.js';

/** A query request as its end is logged: its id, default database and when it arrived (performance.now()). */
export interface LoggedQuery {
  readonly requestId: string;
  readonly database: string;
  readonly startedAtMs: number;
}

/** How a query ended: rows answered (null: not counted, InfluxQL) and whether from the cache, or the error it got. */
export type QueryEnd = { readonly rows: number | null; readonly cache: 'hit' | 'miss' | null } | { readonly error: unknown };

/**
 * The slow-query line: a warn with the SQL (cut at SLOW_QUERY_SQL_CHARS_MAX), how long the
 * request took from its arrival (queue wait included: what the client waited), rows, database
 * and request id, for a query that took `[query] slow_query_ms` or more (0: every query). A
 * failed query counts too: a timeout is the slowest query of all.
 */
export function logQueryEnd(log: ServerLogger, slowQueryMs: number, query: LoggedQuery, sql: string, end: QueryEnd, dialect: 'sql' | 'influxql' = 'sql'): void {
  const durationMs = performance.now() - query.startedAtMs;
  if (durationMs < slowQueryMs) return;
  const outcome = 'error' in end ? { error_code: errorCodeOf(end.error) } : { rows: end.rows, ...(end.cache === null ? {} : { cache: end.cache }) };
  log.warn('slow query', {
    request_id: query.requestId,
    database: query.database,
    duration_ms: Math.round(durationMs * 1000) / 1000,
    ...outcome,
    ...(dialect === 'sql' ? {} : { dialect }),
    sql: truncateText(sql, SLOW_QUERY_SQL_CHARS_MAX),
  });
}

function errorCodeOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : 'internal';
}

/**
 * A write answered with an error: an error line when the server failed (500), else a debug
 * line (bad input, 503 back-pressure), which a busy misbehaving client would otherwise turn into
 * a flood; the ingest counters (GET /write/stats) count them at every level.
 */
export function logRejectedWrite(log: ServerLogger, requestId: string, database: string, error: ArcErrorShape): void {
  const fields = { request_id: requestId, database, code: error.code, error: error.message };
  if (error.kind === ErrorKind.internal) log.error('write failed', fields);
  else log.debug('write rejected', fields);
}
