/** Stable codes of the HTTP routes; clients and tests match on these, never on messages. */
export const ServerErrorCode = Object.freeze({
  /** No route for the method and path (404). */
  notFound: 'ARC_NOT_FOUND',
  /** The request line and headers are over the limit (431). */
  headersTooLarge: 'ARC_HEADERS_TOO_LARGE',
  /** The client sent its body below the minimum upload rate (408). */
  bodyTooSlow: 'ARC_BODY_TOO_SLOW',
  /** A management body that is not a JSON object. */
  badJson: 'ARC_BAD_JSON',
  /** A management body whose fields are unknown or of the wrong type (names the field). */
  badRequestBody: 'ARC_BAD_REQUEST_BODY',
  /** A management route failed for a reason that is not the request's (500). */
  internal: 'ARC_INTERNAL',
  /** Every decoder ring is full (503). */
  ingestBusy: 'ARC_INGEST_BUSY',
  /** The server is stopping (503). */
  shuttingDown: 'ARC_SHUTTING_DOWN',
  /** The server is replaying its WAL and not yet taking writes (503). */
  starting: 'ARC_STARTING',
  /** Verifying a token failed for a reason that is not the token (500). */
  authFailed: 'ARC_AUTH_FAILED',
  /** Token management with authentication off (404). */
  authDisabled: 'ARC_AUTH_DISABLED',
  /** No token with that id (404). */
  tokenNotFound: 'ARC_AUTH_TOKEN_NOT_FOUND',
  /** A token change could not reach the object store that holds the shared token table (503). */
  tokenTableUnavailable: 'ARC_AUTH_TOKEN_TABLE_UNAVAILABLE',
  /** A token change lost the race for the shared token table too many times in a row (503). */
  tokenTableBusy: 'ARC_AUTH_TOKEN_TABLE_BUSY',
  /** A token id in the path that is not a positive integer (400). */
  badTokenId: 'ARC_AUTH_BAD_TOKEN_ID',
  /** No database with that name (404). */
  databaseNotFound: 'ARC_DATABASE_NOT_FOUND',
  /** A last-value cache of that name exists already on the table (409). */
  lastCacheExists: 'ARC_LAST_CACHE_EXISTS',
  /** No last-value cache of that name on the table (404). */
  lastCacheNotFound: 'ARC_LAST_CACHE_NOT_FOUND',
  /** last_caches.db was written by a newer Arc (its schema version is unknown here): start refused. */
  lastCacheStoreNewer: 'ARC_LAST_CACHE_STORE_NEWER',
  /** No measurement with that name in the database (404). */
  measurementNotFound: 'ARC_MEASUREMENT_NOT_FOUND',
  /** Deleting a database without `?confirm=true`. */
  confirmationRequired: 'ARC_CONFIRMATION_REQUIRED',
  /** A query body that is not a JSON object. */
  queryBadJson: 'ARC_QUERY_BAD_JSON',
  /** A query body without a `sql` string. */
  queryMissingSql: 'ARC_QUERY_MISSING_SQL',
  /** A query body whose `sql` is blank. */
  queryEmptySql: 'ARC_QUERY_EMPTY_SQL',
  /** A query-string parameter (measurement queries, compaction history) that is out of range or malformed (names the parameter). */
  queryBadParameter: 'ARC_QUERY_BAD_PARAMETER',
  /** A query failed with something that is not an ArcError (500). */
  queryFailed: 'ARC_QUERY_FAILED',
  /** An InfluxQL request without `q`. */
  influxqlMissingQuery: 'ARC_INFLUXQL_MISSING_QUERY',
  /** InfluxQL that does not parse (with line and char). */
  influxqlParse: 'ARC_INFLUXQL_PARSE',
  /** An `epoch` parameter that is not one of InfluxDB's units. */
  influxqlBadEpoch: 'ARC_INFLUXQL_BAD_EPOCH',
  /** An InfluxQL request failed with something that is not an ArcError (500). */
  influxqlFailed: 'ARC_INFLUXQL_FAILED',
  /** Dead letters are re-applied only with the WAL on (409). */
  walDisabled: 'ARC_WAL_DISABLED',
  /** WAL recovery failed at this start: re-applying now could apply an entry twice (409). */
  walRecoveryIncomplete: 'ARC_WAL_RECOVERY_INCOMPLETE',
  /** No dead letter with that id (404, or a refused item of a replay). */
  deadLetterNotFound: 'ARC_DEAD_LETTER_NOT_FOUND',
  /** A text that is not a dead-letter id. */
  badDeadLetterId: 'ARC_BAD_DEAD_LETTER_ID',
  /** Another replay of dead letters is running (409). */
  deadLetterReplayRunning: 'ARC_DEAD_LETTER_REPLAY_RUNNING',
  /** Part of a dead letter's rows is in Parquet already: re-applying it whole would write them twice. */
  deadLetterPartlyInParquet: 'ARC_DEAD_LETTER_PARTLY_IN_PARQUET',
  /** Another Arc holds the data directory (start refused). */
  dataDirLocked: 'ARC_DATA_DIR_LOCKED',
  /** Another process listens on the port (start refused). */
  portInUse: 'ARC_PORT_IN_USE',
  /** GET /metrics/timeseries/{type} with a type that has no series. */
  metricsUnknownType: 'ARC_METRICS_UNKNOWN_TYPE',
  /** A file import's parameter (measurement, time column, delimiter...) is missing or malformed (names it). */
  importBadParameter: 'ARC_IMPORT_BAD_PARAMETER',
  /** A file import's upload is not what its route reads (no file part, an empty file, a CSV without header). */
  importBadFile: 'ARC_IMPORT_BAD_FILE',
  /** A CSV or Parquet row whose time value is not a time (a rejected row of an import: names the row). */
  importBadTime: 'ARC_IMPORT_BAD_TIME',
  /** A file import whose every row was refused, or that met more bad rows than it tolerates (names the first). */
  importRejected: 'ARC_IMPORT_REJECTED',
  /** A CSV or Parquet file DuckDB could not read, or a column of a type Arc cannot store (names it). */
  importUnreadable: 'ARC_IMPORT_UNREADABLE',
  /** A file import failed for a reason that is not the file's (its reading thread died, the spool disk is full): 500. */
  importFailed: 'ARC_IMPORT_FAILED',
} as const);
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];
