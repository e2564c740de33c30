/** Stable codes of the importer package (clients and tests depend on the strings). */
export const ImporterErrorCode = Object.freeze({
  /** A connection's settings or a job's source is missing a field or has a bad one (400). */
  badSettings: 'ARC_IMPORT_BAD_SETTINGS',
} as const);
export type ImporterErrorCode = (typeof ImporterErrorCode)[keyof typeof ImporterErrorCode];
