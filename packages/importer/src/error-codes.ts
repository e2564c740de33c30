/** Stable codes of the importer package (clients and tests depend on the strings). */
export const ImporterErrorCode = Object.freeze({
  /** A connection's settings or a job's source is missing a field or has a bad one (400). */
  badSettings: 'ARC_IMPORT_BAD_SETTINGS',
  /** The source could not be reached or answered an error while a job read it (the message names the step and the source's words). */
  sourceFailed: 'ARC_IMPORT_SOURCE_FAILED',
} as const);
export type ImporterErrorCode = (typeof ImporterErrorCode)[keyof typeof ImporterErrorCode];
