import type { TemplatedApp } from 'uWebSockets.js';
import { LOG_LEVELS, type LogLevel } from '@arc/config';
import { ArcError, badRequest } from '@arc/errors';
import { ServerErrorCode } from './error-codes.js';
import { LOGS_ANSWER_LINES_DEFAULT, LOGS_ANSWER_LINES_MAX } from './limits.js';
import type { LogFilter } from './log-ring.js';
import { answer, registerManagementRoutes, type ManagementAnswer, type ManagementCall, type ManagementRoute } from './management-route.js';
import { integerParameter } from './measurement-routes.js';
import type { ServerContext } from './server-context.js';

/**
 * `GET /logs` (admin; also /api/v1/logs): the most recent lines of this node's log, from the
 * bounded ring the logger keeps (log-ring.ts), as the JSON objects the log writes:
 *   ?level=warn    that level and above (debug, info, warn, error; default debug: every kept line)
 *   ?since=T       lines at or after T: RFC 3339 (2026-01-31T12:00:00Z) or epoch milliseconds
 *   ?limit=N       the newest N matching lines, oldest first (default 100, at most 10,000)
 */

const RFC3339_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;
const EPOCH_MS_PATTERN = /^\d{1,15}$/;

function parameterError(parameter: string, message: string): ArcError {
  return badRequest(ServerErrorCode.queryBadParameter, message, { parameter });
}

function isLogLevel(text: string): text is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(text);
}

function levelParameter(query: URLSearchParams): LogLevel | ArcError {
  const text = query.get('level');
  if (text === null || text === '') return 'debug';
  const level = text.toLowerCase();
  return isLogLevel(level) ? level : parameterError('level', `"level" must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
}

function sinceParameter(query: URLSearchParams): number | null | ArcError {
  const text = query.get('since');
  if (text === null || text === '') return null;
  const ms = EPOCH_MS_PATTERN.test(text) ? Number(text) : RFC3339_PATTERN.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    return parameterError('since', `"since" must be an RFC 3339 time such as 2026-01-31T12:00:00Z or epoch milliseconds, got ${JSON.stringify(text)}`);
  }
  return ms;
}

/** The filter of a GET /logs request, or the 400 naming its first bad parameter. */
export function parseLogFilter(query: URLSearchParams): LogFilter | ArcError {
  const levelMin = levelParameter(query);
  if (levelMin instanceof ArcError) return levelMin;
  const sinceMs = sinceParameter(query);
  if (sinceMs instanceof ArcError) return sinceMs;
  const limit = integerParameter(query, 'limit', LOGS_ANSWER_LINES_DEFAULT, 1, LOGS_ANSWER_LINES_MAX);
  if (limit instanceof ArcError) return limit;
  return { levelMin, sinceMs, limit };
}

function recentLines(context: ServerContext, call: ManagementCall): ManagementAnswer | ArcError {
  const filter = parseLogFilter(call.request.query);
  if (filter instanceof ArcError) return filter;
  const { ring } = context.log;
  const lines = ring.query(filter).map((entry) => JSON.parse(entry.json) as unknown);
  const stats = ring.stats();
  return answer('200 OK', {
    lines,
    count: lines.length,
    ring: { lines: stats.lines, lines_max: stats.linesMax, bytes: stats.bytes, bytes_max: stats.bytesMax, dropped: stats.dropped },
  });
}

export function registerLogsRoutes(app: TemplatedApp, context: ServerContext): void {
  const routes: ManagementRoute[] = [{ method: 'get', path: '/logs', permission: 'admin', readsBody: false, handle: (call) => recentLines(context, call) }];
  registerManagementRoutes(app, context, routes, '/api/v1');
}
