/** Stable codes of the storage package (clients and tests depend on the strings). */
export const StorageErrorCode = Object.freeze({
  /** A database or measurement name equal to an existing one but for case (409; names.ts). */
  nameCaseConflict: 'ARC_NAME_CASE_CONFLICT',
  /** Creating a database that exists (409). */
  databaseExists: 'ARC_DATABASE_EXISTS',
  /** A replacement (compaction) named a file that a delete or another replacement removed meanwhile (409). */
  replacedFileGone: 'ARC_REPLACED_FILE_GONE',
} as const);
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];
