/**
 * Structured fields of a log line (`request_id`, `database`, ...): flat, and values the logger
 * can bound and redact.
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * Where the ingest side reports what an operator should know (a dead thread, a replay refused).
 * The server supplies its logger (server's log.ts); the ingest package never writes to a stream.
 */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}
