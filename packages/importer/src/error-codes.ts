/** Stable codes of the importer package (clients and tests depend on the strings). */
export const ImporterErrorCode = Object.freeze({
  /** A connection's settings or a job's source is missing a field or has a bad one (400). */
  badSettings: 'ARC_IMPORT_BAD_SETTINGS',
  // Import jobs (job-store.ts, job-runner.ts, import-jobs.ts).
  /** A job body's field is missing or bad (name, database, range, schedule, chunk_rows): 400 naming the field. */
  badJob: 'ARC_IMPORT_BAD_JOB',
  /** No job has this id: 404. */
  jobNotFound: 'ARC_IMPORT_JOB_NOT_FOUND',
  /** Another job has this name: 409. */
  jobNameTaken: 'ARC_IMPORT_JOB_NAME_TAKEN',
  /** The job has an execution running (run, delete, or a change while it runs): 409. */
  jobRunning: 'ARC_IMPORT_JOB_RUNNING',
  /** Cancel of a job with no execution running: 409. */
  jobNotRunning: 'ARC_IMPORT_JOB_NOT_RUNNING',
  /** `POST /jobs/{id}/run` with `resume` when the job's last execution has nothing to continue (it succeeded, or there is none): 409. */
  nothingToResume: 'ARC_IMPORT_NOTHING_TO_RESUME',
  /** The source failed while a job read it (connection refused, a bad answer): the execution's error. */
  sourceFailed: 'ARC_IMPORT_SOURCE_FAILED',
  /** Arc refused a chunk for a reason other than its rows (a writer failed, the server stopping): the execution's error. */
  writeFailed: 'ARC_IMPORT_WRITE_FAILED',
  /**
   * A chunk written but not checkpointed (a crash between the two) whose rows cannot be told landed
   * or not: the destination's count over its window is neither the count before it nor that plus its rows.
   */
  inDoubt: 'ARC_IMPORT_IN_DOUBT',
  /** The execution was cancelled (POST /jobs/{id}/cancel) or stopped with the server. */
  cancelled: 'ARC_IMPORT_CANCELLED',
  /** A connection's name or secret is missing or bad (400, `field` names it). */
  badConnection: 'ARC_IMPORT_BAD_CONNECTION',
  /** A connection type the path names is not one of influx, postgres, http-json (400). */
  badConnectionType: 'ARC_IMPORT_BAD_CONNECTION_TYPE',
  /** A connection id in the path is not a positive integer (400). */
  badConnectionId: 'ARC_IMPORT_BAD_CONNECTION_ID',
  /** No connection of that type has that id (404). */
  connectionNotFound: 'ARC_IMPORT_CONNECTION_NOT_FOUND',
  /** Another connection of the same type has that name (409). */
  connectionNameTaken: 'ARC_IMPORT_CONNECTION_NAME_TAKEN',
  /** A job reads from the connection: delete or change the job first (409). */
  connectionInUse: 'ARC_IMPORT_CONNECTION_IN_USE',
  /** The stored secrets were sealed with another key than `import.secret_key` (or the key file) gives. */
  secretKeyMismatch: 'ARC_IMPORT_SECRET_KEY_MISMATCH',
  /** `<data_dir>/import_secret.key` (the generated key, when `import.secret_key` is empty) holds no key of 32 bytes. */
  secretKeyFileBad: 'ARC_IMPORT_SECRET_KEY_FILE_BAD',
  /** A sealed secret does not open with the right key: the file was damaged or changed by hand. */
  secretCorrupt: 'ARC_IMPORT_SECRET_CORRUPT',
  /** Object storage is set in arc.conf (`storage.*`), not through the API (409). */
  storageReadOnly: 'ARC_IMPORT_STORAGE_READ_ONLY',
  /** An import store file (connections or jobs) was written by a newer Arc (its schema version is higher): start refused. */
  storeNewer: 'ARC_IMPORT_STORE_NEWER',
  /** A measurement, tag key, tag value or field key of a source row holds a line break, which line protocol cannot carry (400). */
  lineBreak: 'ARC_IMPORT_LINE_BREAK',
} as const);
export type ImporterErrorCode = (typeof ImporterErrorCode)[keyof typeof ImporterErrorCode];
