import { ArcError, ErrorKind, badRequest } from '@arc/errors';
import { VALUE_TOO_LARGE_MARKER } from './bounded-functions.js';

/** Stable codes of the query path; clients and tests match on these, never on messages. */
export const QueryErrorCode = {
  sqlError: 'ARC_SQL_ERROR',
  sqlEmpty: 'ARC_SQL_EMPTY',
  sqlTooLarge: 'ARC_SQL_TOO_LARGE',
  sqlMultipleStatements: 'ARC_SQL_MULTIPLE_STATEMENTS',
  sqlForbidden: 'ARC_SQL_FORBIDDEN',
  sqlAccessDenied: 'ARC_SQL_ACCESS_DENIED',
  sqlValueTooLarge: VALUE_TOO_LARGE_MARKER,
  unknownDatabase: 'ARC_QUERY_UNKNOWN_DATABASE',
  unknownTable: 'ARC_QUERY_UNKNOWN_TABLE',
  unknownColumn: 'ARC_QUERY_UNKNOWN_COLUMN',
  badFormat: 'ARC_QUERY_BAD_FORMAT',
  badLimit: 'ARC_QUERY_BAD_LIMIT',
  timeout: 'ARC_QUERY_TIMEOUT',
  aborted: 'ARC_QUERY_ABORTED',
  queueFull: 'ARC_QUERY_QUEUE_FULL',
  poolClosed: 'ARC_QUERY_POOL_CLOSED',
  resultTooLarge: 'ARC_QUERY_RESULT_TOO_LARGE',
  outOfMemory: 'ARC_QUERY_OUT_OF_MEMORY',
  engine: 'ARC_QUERY_ENGINE',
} as const;

/**
 * DuckDB error classes (the text before ` Error:` in its messages) that the user's SQL causes.
 * The C API hands node-api only the message, so the class is read from its prefix. Anything not
 * listed (IO, INTERNAL, Fatal, ...) is the engine's or the data's problem and becomes a 500.
 */
const USER_ERROR_PREFIXES = [
  'Parser Error:',
  'Syntax Error:',
  'Binder Error:',
  'Catalog Error:',
  'Conversion Error:',
  'Invalid Input Error:',
  'Out of Range Error:',
  'Mismatch Type Error:',
  'Divide by Zero Error:',
  'Not implemented Error:',
  'Invalid type Error:',
  'Parameter Not Resolved Error:',
  'Parameter Not Allowed Error:',
] as const;

const PERMISSION_PREFIX = 'Permission Error:';
const OUT_OF_MEMORY_PREFIX = 'Out of Memory Error:';

/** node-api prefixes statement extraction failures with this before DuckDB's own message. */
const EXTRACT_PREFIX = 'Failed to extract statements: ';

export function duckdbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.startsWith(EXTRACT_PREFIX) ? message.slice(EXTRACT_PREFIX.length) : message;
}

/** Maps an error thrown by DuckDB while preparing or running user SQL to an ArcError. */
export function classifyDuckDBError(error: unknown): ArcError {
  const message = duckdbMessage(error);
  if (message.startsWith(PERMISSION_PREFIX)) return badRequest(QueryErrorCode.sqlAccessDenied, message);
  // A bounded function refused its arguments (bounded-functions.ts): the query asked for too much.
  if (message.includes(`${VALUE_TOO_LARGE_MARKER}: `)) {
    return badRequest(QueryErrorCode.sqlValueTooLarge, message.slice(message.indexOf(VALUE_TOO_LARGE_MARKER) + VALUE_TOO_LARGE_MARKER.length + 2).split('\n')[0] ?? message);
  }
  if (USER_ERROR_PREFIXES.some((prefix) => message.startsWith(prefix))) {
    return badRequest(QueryErrorCode.sqlError, message);
  }
  // Each query thread's DuckDB has its own query.memory_limit, so running out is this query's own
  // size, not the server's state: a 400 like ClickHouse's MEMORY_LIMIT_EXCEEDED (retrying the same
  // query cannot help; narrowing it or raising the limit can).
  if (message.startsWith(OUT_OF_MEMORY_PREFIX)) {
    return badRequest(QueryErrorCode.outOfMemory, `The query needs more memory than query.memory_limit allows (narrow it, or raise the limit): ${message}`);
  }
  return new ArcError(ErrorKind.internal, QueryErrorCode.engine, message);
}

export function timeoutError(timeoutMs: number): ArcError {
  return new ArcError(ErrorKind.timeout, QueryErrorCode.timeout, `Query exceeded the timeout of ${String(timeoutMs)} ms`, {
    timeout_ms: timeoutMs,
  });
}

export function abortedError(): ArcError {
  return badRequest(QueryErrorCode.aborted, 'Query aborted: the client went away');
}
