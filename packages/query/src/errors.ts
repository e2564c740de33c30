import { ArcError, DuckDBErrorType, ErrorKind, badRequest, readDuckDBError } from '@arc/errors';
import { QueryErrorCode } from './error-codes.js';

/**
 * DuckDB error types that the user's SQL causes. Anything not listed (IO, INTERNAL, Fatal, ...)
 * is the engine's or the data's problem and becomes a 500. The type comes from readDuckDBError,
 * the one reader of DuckDB's error text.
 */
const USER_ERROR_TYPES: ReadonlySet<string> = new Set([
  DuckDBErrorType.parser,
  DuckDBErrorType.syntax,
  DuckDBErrorType.binder,
  DuckDBErrorType.catalog,
  DuckDBErrorType.conversion,
  DuckDBErrorType.invalidInput,
  DuckDBErrorType.outOfRange,
  DuckDBErrorType.mismatchType,
  DuckDBErrorType.divideByZero,
  DuckDBErrorType.notImplemented,
  DuckDBErrorType.invalidType,
  DuckDBErrorType.parameterNotResolved,
  DuckDBErrorType.parameterNotAllowed,
]);

/**
 * The refusal of a bounded function (bounded-functions.ts) in DuckDB's message: Arc's own text,
 * which the function's error() call put there, so reading it is not reading DuckDB's wording.
 */
const VALUE_TOO_LARGE_HEAD = `${QueryErrorCode.sqlValueTooLarge}: `;

function valueTooLargeReason(message: string): string | null {
  const start = message.indexOf(VALUE_TOO_LARGE_HEAD);
  if (start < 0) return null;
  const reason = message.slice(start + VALUE_TOO_LARGE_HEAD.length);
  const lineEnd = reason.indexOf('\n');
  return lineEnd < 0 ? reason : reason.slice(0, lineEnd);
}

/** Maps an error thrown by DuckDB while preparing or running user SQL to an ArcError. */
export function classifyDuckDBError(error: unknown): ArcError {
  const { type, message } = readDuckDBError(error);
  if (type === DuckDBErrorType.permission) return badRequest(QueryErrorCode.sqlAccessDenied, message);
  // A bounded function refused its arguments: the query asked for too much.
  const tooLarge = valueTooLargeReason(message);
  if (tooLarge !== null) return badRequest(QueryErrorCode.sqlValueTooLarge, tooLarge);
  if (type !== null && USER_ERROR_TYPES.has(type)) return badRequest(QueryErrorCode.sqlError, message);
  // Each query thread's DuckDB has its own query.memory_limit, so running out is this query's own
  // size, not the server's state: a 400 like ClickHouse's MEMORY_LIMIT_EXCEEDED (retrying the same
  // query cannot help; narrowing it or raising the limit can).
  if (type === DuckDBErrorType.outOfMemory) {
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
