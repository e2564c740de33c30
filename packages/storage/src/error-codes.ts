/** Stable codes of the storage package (clients and tests depend on the strings). */
export const StorageErrorCode = Object.freeze({
  /** A database or measurement name equal to an existing one but for case (409; names.ts). */
  nameCaseConflict: 'ARC_NAME_CASE_CONFLICT',
  /** Creating a database that exists (409). */
  databaseExists: 'ARC_DATABASE_EXISTS',
  /** A replacement (compaction) named a file that a delete or another replacement removed meanwhile (409). */
  replacedFileGone: 'ARC_REPLACED_FILE_GONE',
  /** The object store did not answer (or answered 5xx) after every attempt (503). */
  objectStoreUnavailable: 'ARC_OBJECT_STORE_UNAVAILABLE',
  /** The object store refused the credentials or the bucket (the start stops). */
  objectStoreRefused: 'ARC_OBJECT_STORE_REFUSED',
  /** A downloaded file did not match its checksum or size (503; the download is retried). */
  cacheChecksum: 'ARC_CACHE_CHECKSUM',
  /** A file a query needed left the bucket after it was planned (compacted, deleted): 409, run it again. */
  objectGone: 'ARC_OBJECT_GONE',
  /** The files one query or merge needs do not fit in the local cache (413). */
  cacheTooSmall: 'ARC_CACHE_TOO_SMALL',
  /** Files other queries or merges hold pinned left no room in the local cache in time (503, retry). */
  cacheBusy: 'ARC_CACHE_BUSY',
} as const);
export type StorageErrorCode = (typeof StorageErrorCode)[keyof typeof StorageErrorCode];
