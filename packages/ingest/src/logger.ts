/**
 * Where the ingest side reports what an operator should know (a dead thread, a replay refused).
 * The server supplies its logger (server's log.ts); the ingest package never writes to a stream.
 */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
